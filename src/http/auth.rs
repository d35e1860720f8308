//! The HTTP listener under authentication (issue 25): with
//! `authenticationEnabled`, the API and the cluster page need a user's name
//! and password (HTTP Basic; the browser asks for them), checked against
//! the same store as signed requests. Probes, `/metrics` (scrapers hold no
//! RocketMQ user) and the address server (Java's `TopAddressing` sends no
//! credentials) stay open. Basic sends the password with every request:
//! the listener follows `tls.server.mode`, and should be on TLS then.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::AppState;

/// Paths anyone may read.
fn is_open(path: &str) -> bool {
    matches!(path, "/livez" | "/healthz" | "/readyz" | "/metrics") || path.starts_with("/rocketmq/")
}

pub(super) async fn require_user(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let auth = &state.shared.auth;
    if !auth.config().authentication_enabled || is_open(req.uri().path()) {
        return next.run(req).await;
    }
    let refusal = match basic(req.headers()) {
        Some((user, password)) => match auth.check_password(&user, &password) {
            Ok(_) => return next.run(req).await,
            Err(refusal) => refusal.remark,
        },
        None => "username cannot be null.".to_string(),
    };
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            r#"Basic realm="namesrv", charset="UTF-8""#,
        )],
        axum::Json(serde_json::json!({ "error": refusal })),
    )
        .into_response()
}

/// The user and password of an `Authorization: Basic` header.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn basic_credentials_are_read_and_bad_headers_are_none() {
        let mut h = HeaderMap::new();
        assert_eq!(basic(&h), None);
        // "alice:pa:ss" — a colon in the password stays in it.
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YWxpY2U6cGE6c3M="),
        );
        assert_eq!(basic(&h), Some(("alice".into(), "pa:ss".into())));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(basic(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert_eq!(basic(&h), None);
        assert!(is_open("/livez") && is_open("/rocketmq/nsaddr") && !is_open("/api/v1/kv"));
        assert!(!is_open("/"));
    }
}
