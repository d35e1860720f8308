//! The cluster page: one HTML file with its script and style inline,
//! compiled into the binary (no CDN, nothing to install).

use axum::http::header;
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("index.html");

pub async fn index() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX).into_response()
}
