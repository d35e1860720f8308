//! `/api/v1`: the route table, KV store and configuration as JSON.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::error;
use crate::json::write::Dialect;
use crate::route::BrokerView;
use crate::state::shared::Shared;

fn broker_json(b: &BrokerView, now_ms: i64) -> Value {
    json!({
        "id": b.broker_id,
        "addr": b.addr,
        "role": if b.broker_id == 0 { "MASTER" } else { "SLAVE" },
        "alive": b.last_update_ms.is_some(),
        "lastHeartbeatAgeMs": b.last_update_ms.map(|t| (now_ms - t).max(0)),
        "heartbeatTimeoutMs": b.heartbeat_timeout_ms,
        "dataVersion": b.data_version.map(|v| json!({
            "stateVersion": v.state_version,
            "timestamp": v.timestamp,
            "counter": v.counter,
        })),
        "haServerAddr": b.ha_server_addr,
        "topics": b.topics,
    })
}

/// One broker group as the API shows it.
#[derive(Default)]
struct Group {
    zone: Option<String>,
    brokers: Vec<Value>,
}

/// Clusters → broker groups → brokers.
pub async fn clusters(State(shared): State<Arc<Shared>>) -> Response {
    let now = Shared::now_ms();
    let mut clusters: BTreeMap<String, BTreeMap<String, Group>> = BTreeMap::new();
    for b in shared.routes.brokers() {
        let group = clusters
            .entry(b.cluster.clone())
            .or_default()
            .entry(b.broker_name.clone())
            .or_default();
        group.zone.clone_from(&b.zone_name);
        group.brokers.push(broker_json(&b, now));
    }
    let clusters: Vec<Value> = clusters
        .into_iter()
        .map(|(name, groups)| {
            json!({
                "name": name,
                "brokerGroups": groups.into_iter().map(|(broker_name, g)| json!({
                    "brokerName": broker_name,
                    "zoneName": g.zone,
                    "brokers": g.brokers,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Json(json!({ "clusters": clusters })).into_response()
}

/// A positive integer query value, or the message for a 400.
fn positive(params: &HashMap<String, String>, key: &str, default: usize) -> Result<usize, String> {
    match params.get(key) {
        None => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("{key} must be a positive integer, not {v:?}")),
        },
    }
}

/// `?name=` (substring), `?cluster=`, `?page=` (from 1), `?size=` (≤ 1000).
pub async fn topics(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if let Some(unknown) = params
        .keys()
        .find(|k| !["name", "cluster", "page", "size"].contains(&k.as_str()))
    {
        return error(
            StatusCode::BAD_REQUEST,
            format!("unknown query parameter {unknown:?}"),
        );
    }
    let (page, size) = match (positive(&params, "page", 1), positive(&params, "size", 100)) {
        (Ok(p), Ok(s)) if s <= 1000 => (p, s),
        (Ok(_), Ok(s)) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("size must be at most 1000, not {s}"),
            )
        }
        (Err(e), _) | (_, Err(e)) => return error(StatusCode::BAD_REQUEST, e),
    };
    let all = match params.get("cluster") {
        Some(c) => shared.routes.topics_by_cluster(c),
        None => shared.routes.all_topics(),
    };
    let matching: Vec<String> = match params.get("name") {
        Some(n) => all.into_iter().filter(|t| t.contains(n.as_str())).collect(),
        None => all,
    };
    let total = matching.len();
    // A page far past the end must not wrap around to an early one.
    let Some(first) = (page - 1).checked_mul(size) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("page {page} of size {size} is past any topic list"),
        );
    };
    let topics: Vec<&String> = matching.iter().skip(first).take(size).collect();
    Json(json!({ "total": total, "page": page, "size": size, "topics": topics })).into_response()
}

/// A topic's route, as GET_ROUTEINFO_BY_TOPIC answers it (standard JSON).
pub async fn route(State(shared): State<Arc<Shared>>, Path(topic): Path<String>) -> Response {
    match shared.routes.pickup_route(&topic, shared.route_options()) {
        Some(route) => {
            let body = route.to_json(Dialect::Standard);
            match serde_json::from_slice::<Value>(&body) {
                Ok(v) => Json(v).into_response(),
                Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            }
        }
        None => error(StatusCode::NOT_FOUND, format!("no route for topic {topic}")),
    }
}

pub async fn kv(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({ "namespaces": shared.kv.all() })).into_response()
}

/// The effective configuration; TLS keys give paths, never key material.
pub async fn config(State(shared): State<Arc<Shared>>) -> Response {
    let c = shared.config();
    let mut entries: BTreeMap<&str, String> = c
        .entries()
        .into_iter()
        .chain(c.tls.entries())
        .chain(c.auth.entries())
        .collect();
    // A secret is shown as set or not, never as itself.
    if let Some(password) = entries.get_mut("tls.server.keyPassword") {
        if !password.is_empty() {
            *password = "***".into();
        }
    }
    Json(json!({ "config": entries })).into_response()
}
