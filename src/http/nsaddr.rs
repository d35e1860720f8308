//! The address server Java's `TopAddressing` and the Go client's HTTP
//! resolver ask (`rocketmq.namesrv.domain`): `GET /rocketmq/<subgroup>`
//! answers the NameServer list as `host:port;host:port`. The list is
//! `addressServerList` if set, else `addressServerDomain` resolved now (a
//! headless service's pods), else this NameServer as the client reached it.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{error, AppState};

/// A resolver that does not answer in this time is reported, not waited on.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn nsaddr(
    State(state): State<AppState>,
    Path(_subgroup): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (list, domain, bind, port) = {
        let c = state.shared.config();
        (
            c.server.address_server_list.trim().to_string(),
            c.server.address_server_domain.trim().to_string(),
            c.server.bind_address.clone(),
            c.server.listen_port,
        )
    };
    let port = state
        .shared
        .listen_addr()
        .map_or(port, |a| i32::from(a.port()));
    let answer = if !list.is_empty() {
        Ok(list)
    } else if !domain.is_empty() {
        resolve(&domain).await
    } else {
        own_address(&bind, port, &headers)
    };
    match answer {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response(),
        Err(message) => error(StatusCode::SERVICE_UNAVAILABLE, message),
    }
}

/// `name:port` resolved to every address it has, in the resolver's order.
async fn resolve(domain: &str) -> Result<String, String> {
    let looked_up = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host(domain)).await;
    let addrs: Vec<String> = match looked_up {
        Ok(Ok(addrs)) => addrs.map(|a| a.to_string()).collect(),
        Ok(Err(e)) => return Err(format!("cannot resolve addressServerDomain {domain}: {e}")),
        Err(_) => return Err(format!("resolving addressServerDomain {domain} timed out")),
    };
    if addrs.is_empty() {
        return Err(format!("addressServerDomain {domain} has no addresses"));
    }
    Ok(addrs.join(";"))
}

/// This NameServer: its bind address, or when it listens on every
/// interface, the host the client used to reach the HTTP port.
fn own_address(bind: &str, port: i32, headers: &HeaderMap) -> Result<String, String> {
    if bind != "0.0.0.0" && bind != "::" && !bind.is_empty() {
        return Ok(join_host_port(bind, port));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(strip_port)
        .filter(|h| !h.is_empty())
        .ok_or("no Host header; set addressServerList")?;
    Ok(join_host_port(host, port))
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    }
}

fn join_host_port(host: &str, port: i32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_address_uses_the_bind_address_or_the_host_asked_for() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "ns.example:9877".parse().unwrap());
        assert_eq!(
            own_address("10.0.0.5", 9876, &headers).unwrap(),
            "10.0.0.5:9876"
        );
        assert_eq!(
            own_address("0.0.0.0", 9876, &headers).unwrap(),
            "ns.example:9876"
        );
        headers.insert(header::HOST, "[::1]:9877".parse().unwrap());
        assert_eq!(own_address("::", 9876, &headers).unwrap(), "[::1]:9876");
        assert!(own_address("0.0.0.0", 9876, &HeaderMap::new()).is_err());
    }

    #[tokio::test]
    async fn a_domain_resolves_to_every_address_with_its_port() {
        assert_eq!(resolve("127.0.0.1:9876").await.unwrap(), "127.0.0.1:9876");
        assert!(resolve("no-such-host.invalid:9876").await.is_err());
    }
}
