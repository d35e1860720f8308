//! What can go wrong in an admin command, each with a one-line message that
//! names the server and, for refusals, the response code.

use crate::remoting::{ClientError, ResponseCode};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no NameServer address: give -n host:port[;host:port] or set NAMESRV_ADDR")]
    NoNamesrv,
    #[error("no controller address: give -a host:port[;host:port]")]
    NoController,
    #[error("{0}")]
    Client(#[from] ClientError),
    #[error("{addr} answered CODE: {code} ({})  DESC: {}", code_name(*.code), .remark.as_deref().unwrap_or("null"))]
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

fn code_name(code: i32) -> &'static str {
    match ResponseCode::from_value(code) {
        Some(code) => code.name(),
        // Controller and broker codes are not in the NameServer's enum.
        None => match code {
            2000..=2014 => "CONTROLLER_ERROR",
            _ => "UNKNOWN",
        },
    }
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
