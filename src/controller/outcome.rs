//! What a handler decided: the reply, and the events the leader must commit
//! before sending it.

use super::error::ControllerError;
use super::event::ControllerEvent;
use super::notify::RoleChange;
use crate::remoting::command::ExtFields;
use crate::remoting::{RemotingCommand, ResponseCode};

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub code: ResponseCode,
    pub remark: Option<String>,
    /// The response header's `extFields`.
    pub header: ExtFields,
    pub body: Option<Vec<u8>>,
    /// Committed as one batch before the reply; empty for a pure read.
    pub events: Vec<ControllerEvent>,
    /// Set after a successful election: the 1008 to push once committed.
    pub role_change: Option<RoleChange>,
}

impl Outcome {
    pub fn success() -> Self {
        Self::with_code(ResponseCode::SUCCESS, None)
    }

    /// A refusal with the controller code that says why.
    pub fn refused(code: ResponseCode, remark: impl Into<String>) -> Self {
        Self::with_code(code, Some(remark.into()))
    }

    /// The reply to a request Java's handler would have failed with an
    /// exception: SYSTEM_ERROR with the error's text.
    pub fn system_error(err: &ControllerError) -> Self {
        Self::with_code(ResponseCode::SYSTEM_ERROR, Some(err.to_string()))
    }

    /// Java's reply when a handler produced no result at all.
    pub fn not_set() -> Self {
        Self::refused(ResponseCode::SYSTEM_ERROR, "not set any response code")
    }

    /// A handler's result, with an error turned into its reply.
    pub fn from_result(result: Result<Outcome, ControllerError>) -> Self {
        result.unwrap_or_else(|err| Self::system_error(&err))
    }

    fn with_code(code: ResponseCode, remark: Option<String>) -> Self {
        Outcome {
            code,
            remark,
            header: ExtFields::new(),
            body: None,
            events: Vec::new(),
            role_change: None,
        }
    }

    pub fn header(mut self, key: &str, value: impl ToString) -> Self {
        self.header.insert(key.to_string(), value.to_string());
        self
    }

    /// Java leaves null header fields out.
    pub fn opt_header(self, key: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.header(key, v),
            None => self,
        }
    }

    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = Some(body);
        self
    }

    pub fn event(mut self, event: ControllerEvent) -> Self {
        self.events.push(event);
        self
    }

    /// Changes the code and remark, keeping what was already built: Java's
    /// failure replies keep the header object the handler started with.
    pub fn fail(mut self, code: ResponseCode, remark: impl Into<String>) -> Self {
        self.code = code;
        self.remark = Some(remark.into());
        self
    }

    /// Whether the leader has anything to commit.
    pub fn is_write(&self) -> bool {
        !self.events.is_empty()
    }

    /// The reply to `req`, once the events (if any) are committed.
    pub fn into_response(self, req: &RemotingCommand) -> RemotingCommand {
        let mut response = req.response(self.code, self.remark);
        response.ext_fields = self.header;
        if let Some(body) = self.body {
            response = response.with_body(body);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn into_response_carries_everything_but_the_events() {
        let req = RemotingCommand::request(1004, 42);
        let out = Outcome::success()
            .header("masterEpoch", 3)
            .opt_header("masterAddress", None::<String>)
            .body(b"{}".to_vec());
        let resp = out.into_response(&req);
        assert_eq!(resp.code, 0);
        assert_eq!(resp.opaque, 42);
        assert!(resp.is_response());
        assert_eq!(
            resp.ext_fields.get("masterEpoch").map(String::as_str),
            Some("3")
        );
        assert!(!resp.ext_fields.contains_key("masterAddress"));
        assert_eq!(&resp.body[..], b"{}");
        let err = Outcome::from_result(Err(ControllerError::MissingField("brokerName")));
        assert_eq!(err.code, ResponseCode::SYSTEM_ERROR);
        assert_eq!(
            err.remark.as_deref(),
            Some("the custom field <brokerName> is null")
        );
    }
}
