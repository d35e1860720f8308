//! What can go wrong in an admin command, each with a one-line message that
//! names the server and, for refusals, the response code.

use crate::remoting::{ClientError, ResponseCode};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no NameServer address: give -n host:port[;host:port] or set NAMESRV_ADDR")]
    NoNamesrv,
    #[error("credentials: {0}")]
    Credentials(String),
    #[error("no controller address: give -a host:port[;host:port]")]
    NoController,
    #[error("{0}")]
    Client(#[from] ClientError),
    #[error("{addr} answered CODE: {code} ({})  DESC: {}", code_name(*.code), one_line(.remark))]
    Refused {
        addr: String,
        code: i32,
        remark: Option<String>,
    },
    #[error("{addr} sent a {what} that cannot be read: {detail}")]
    BadBody {
        addr: String,
        what: &'static str,
        detail: String,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Remarks may span lines (Java's TOPIC_NOT_EXIST adds a FAQ link); an
/// error is one line.
fn one_line(remark: &Option<String>) -> String {
    match remark {
        Some(r) => r.split_whitespace().collect::<Vec<_>>().join(" "),
        None => "null".into(),
    }
}

fn code_name(code: i32) -> &'static str {
    ResponseCode::from_value(code).map_or("UNKNOWN", ResponseCode::name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_server_and_the_code() {
        let e = AdminError::Refused {
            addr: "127.0.0.1:9876".into(),
            code: 17,
            remark: Some("No topic route info in name server for the topic: T".into()),
        };
        assert_eq!(
            e.to_string(),
            "127.0.0.1:9876 answered CODE: 17 (TOPIC_NOT_EXIST)  DESC: No topic route info in name server for the topic: T"
        );
    }
}
