//! The HTTP listener beside the remoting port (`httpListenPort`): Prometheus
//! metrics, a JSON API for scripts and a cluster page for people. Handlers
//! only read the shared state; nothing here changes it.

mod api;
mod auth;
mod controller;
pub mod history;
mod listener;
mod nsaddr;
mod page;
mod render;

pub use listener::HttpListener;

use std::future::Future;
use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use axum::extract::{FromRef, State};

use crate::controller::handle::Controller;
use crate::metrics::text as metrics_text;
use crate::state::shared::Shared;

/// What the handlers read: the NameServer's state, when it runs the
/// embedded controller (readiness, `/api/v1/controller`), and the history
/// the page charts.
#[derive(Clone)]
pub struct AppState {
    pub shared: Arc<Shared>,
    pub controller: Option<Arc<Controller>>,
    /// Shares one `/metrics` render among the scrapes of a burst.
    pub renders: Arc<render::RenderGate>,
    /// The last hour for the page's charts, filled by [`history::run`].
    pub history: Arc<history::Recorder>,
}

impl AppState {
    pub fn new(shared: Arc<Shared>, controller: Option<Arc<Controller>>) -> AppState {
        let interval = shared.config().history_interval_ms;
        AppState {
            shared,
            controller,
            renders: Arc::default(),
            history: Arc::new(history::Recorder::new(interval)),
        }
    }
}

impl FromRef<AppState> for Arc<Shared> {
    fn from_ref(state: &AppState) -> Arc<Shared> {
        state.shared.clone()
    }
}

/// The router, with every endpoint.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        // Kubernetes' name for the same probe.
        .route("/livez", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/v1/clusters", get(api::clusters))
        .route("/api/v1/topics", get(api::topics))
        .route("/api/v1/topics/{topic}/route", get(api::route))
        .route("/api/v1/kv", get(api::kv))
        .route("/api/v1/config", get(api::config))
        .route("/api/v1/controller", get(controller::controller))
        .route("/api/v1/history", get(history::history))
        .route("/rocketmq/{subgroup}", get(nsaddr::nsaddr))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_user,
        ))
        .with_state(state)
}

/// Serves until `shutdown` completes, then lets open requests finish.
pub async fn serve(
    listener: HttpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let app = router(state);
    if let Err(err) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!(error = %err, "HTTP listener failed");
    }
}

/// A JSON error body with its status.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such endpoint")
}

/// The metrics in the format the scraper asked for: OpenMetrics when its
/// `Accept` names it, else the 0.0.4 text every scraper reads.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let shared = state.shared.clone();
    let text = match state.renders.render(move || shared.render_metrics()).await {
        Ok(text) => text,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    if metrics_text::wants_openmetrics(accept) {
        (
            [(header::CONTENT_TYPE, metrics_text::OPENMETRICS)],
            text.as_str().to_owned(),
        )
            .into_response()
    } else {
        (
            [(header::CONTENT_TYPE, metrics_text::PROMETHEUS)],
            metrics_text::to_prometheus(&text),
        )
            .into_response()
    }
}

async fn healthz() -> Response {
    Json(json!({ "status": "up" })).into_response()
}

/// 503 while `needWaitForService` holds route answers back, and while the
/// embedded controller knows no leader (brokers in controller mode cannot
/// register then).
async fn readyz(State(state): State<AppState>) -> Response {
    let shared = &state.shared;
    let waiting = {
        let c = shared.config();
        c.namesrv.need_wait_for_service
            && shared.started_at.elapsed().as_secs()
                < c.namesrv.wait_seconds_for_service.max(0) as u64
    };
    let no_leader = state
        .controller
        .as_ref()
        .is_some_and(|c| c.raft.metrics().borrow().current_leader.is_none());
    let reason = if waiting {
        Some("needWaitForService")
    } else if no_leader {
        Some("the controller has no leader")
    } else {
        None
    };
    if let Some(reason) = reason {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "waiting", "reason": reason })),
        )
            .into_response()
    } else {
        Json(json!({ "status": "ready" })).into_response()
    }
}
