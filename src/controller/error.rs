//! Errors of the controller layer. Request errors become a SYSTEM_ERROR reply
//! whose remark is the error text, where Java would answer with the text of
//! the exception its handler threw.

use crate::config::properties::PropertiesError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ControllerError {
    #[error("controller config property {key}={value:?} is not a valid {expected}")]
    BadValue {
        key: String,
        value: String,
        expected: &'static str,
    },
    #[error("controller config property {key} is required")]
    MissingKey { key: &'static str },
    #[error("controller config property {key}: {reason}")]
    InvalidKey { key: &'static str, reason: String },
    #[error("controller config property {key} may not be updated at run time")]
    BlackListed { key: String },
    #[error("controller config text: {0}")]
    Syntax(#[from] PropertiesError),
    #[error("the custom field <{0}> is null")]
    MissingField(&'static str),
    #[error("the custom field <{field}> = \"{value}\" is not a valid {expected}")]
    MalformedField {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("the request body is missing")]
    MissingBody,
    #[error("the request body is not a valid {what}: {detail}")]
    BadBody { what: &'static str, detail: String },
    #[error("the snapshot cannot be {action}: {detail}")]
    Snapshot {
        action: &'static str,
        detail: String,
    },
}
