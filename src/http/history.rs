//! `/api/v1/history`: the last hour of request and registration rates,
//! live brokers and heartbeat ages, sampled by a background task. The task
//! only reads counters the request path already keeps and the route table
//! as `/api/v1/clusters` does, so route lookups do no extra work for it.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use tokio::sync::broadcast;
use tokio::time::{Instant, MissedTickBehavior};

use super::AppState;
use crate::metrics::history::{History, Point, Reading, POINTS};
use crate::state::shared::Shared;

/// The sampling interval unless a test sets one.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
/// Shorter would sample faster than the numbers move.
const MIN_INTERVAL: Duration = Duration::from_millis(50);

/// The ring and its interval, shared by the sampler and the handler.
pub struct Recorder {
    interval: Duration,
    history: Mutex<History>,
}

impl Recorder {
    /// `interval_ms` from the configuration (tests), else [`DEFAULT_INTERVAL`].
    pub fn new(interval_ms: Option<u64>) -> Recorder {
        let interval = interval_ms
            .map_or(DEFAULT_INTERVAL, Duration::from_millis)
            .max(MIN_INTERVAL);
        Recorder {
            interval,
            history: Mutex::new(History::new(POINTS)),
        }
    }
}

/// Reads the counters and the route table now.
fn read(shared: &Shared) -> Reading {
    let at = std::time::Instant::now();
    let now_ms = Shared::now_ms();
    let brokers = shared.routes.brokers();
    let heartbeat_ages_ms: Vec<i64> = brokers
        .iter()
        .filter_map(|b| b.last_update_ms)
        .map(|t| (now_ms - t).max(0))
        .collect();
    Reading {
        at,
        unix_ms: now_ms,
        requests: shared.metrics.request_totals(),
        registrations: shared.metrics.registration_totals(),
        brokers_alive: heartbeat_ages_ms.len(),
        heartbeat_ages_ms,
    }
}

/// Samples every interval until shutdown; the first reading, at start,
/// is where the first point's rates start from.
pub async fn run(shared: Arc<Shared>, recorder: Arc<Recorder>, mut stop: broadcast::Receiver<()>) {
    let mut ticks = tokio::time::interval_at(Instant::now(), recorder.interval);
    // A late tick (a stalled runtime) is taken when it can be, and the
    // next one an interval after it: rates divide by the real time anyway.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.recv() => return,
        }
        let source = shared.clone();
        // The route table walk runs off the workers that serve requests.
        let reading = match tokio::task::spawn_blocking(move || read(&source)).await {
            Ok(reading) => reading,
            Err(e) => {
                tracing::warn!(error = %e, "history sample failed");
                continue;
            }
        };
        recorder.history.lock().record(reading);
    }
}

fn rates_json(rates: &[(&'static str, f64)]) -> Value {
    let map: Map<String, Value> = rates
        .iter()
        // Two decimals are plenty for a chart and keep the answer short.
        .map(|(name, rate)| (name.to_string(), json!((rate * 100.0).round() / 100.0)))
        .collect();
    Value::Object(map)
}

fn point_json(p: &Point) -> Value {
    json!({
        "t": p.unix_ms,
        "requestsPerSecond": rates_json(&p.requests_per_second),
        "registrationsPerSecond": rates_json(&p.registrations_per_second),
        "brokersAlive": p.brokers_alive,
        "heartbeatAgeMaxMs": p.heartbeat_age_max_ms,
        "heartbeatAgeMedianMs": p.heartbeat_age_median_ms,
    })
}

pub async fn history(State(state): State<AppState>) -> Response {
    let recorder = &state.history;
    // Copied under the lock, encoded after it: the sampler never waits on JSON.
    let points: Vec<Point> = recorder.history.lock().points().cloned().collect();
    let interval = recorder.interval;
    // Whole seconds as an integer (10, not 10.0); a test's 0.1 as it is.
    let seconds = if interval.subsec_nanos() == 0 {
        json!(interval.as_secs())
    } else {
        json!(interval.as_secs_f64())
    };
    Json(json!({
        "intervalSeconds": seconds,
        "capacity": POINTS,
        "points": points.iter().map(point_json).collect::<Vec<_>>(),
    }))
    .into_response()
}
