//! Typed access to a request's custom header fields (`extFields`), with the
//! errors Java raises when a required field is absent or unparsable.

use crate::remoting::command::ExtFields;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HeaderError {
    #[error("the custom field <{0}> is null")]
    Missing(&'static str),
    #[error("the custom field <{field}> = \"{value}\" is not a valid {expected}")]
    Malformed {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
}

pub struct Header<'a>(pub &'a ExtFields);

impl<'a> Header<'a> {
    pub fn optional(&self, field: &'static str) -> Option<&'a str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn required(&self, field: &'static str) -> Result<&'a str, HeaderError> {
        self.optional(field).ok_or(HeaderError::Missing(field))
    }

    pub fn required_string(&self, field: &'static str) -> Result<String, HeaderError> {
        self.required(field).map(str::to_string)
    }

    pub fn optional_i64(&self, field: &'static str) -> Result<Option<i64>, HeaderError> {
        self.optional(field)
            .map(|v| parse_i64(field, v))
            .transpose()
    }

    pub fn required_i64(&self, field: &'static str) -> Result<i64, HeaderError> {
        parse_i64(field, self.required(field)?)
    }

    /// Java `Boolean.parseBoolean`: "true" in any case is true, anything else false.
    pub fn optional_bool(&self, field: &'static str) -> Option<bool> {
        self.optional(field)
            .map(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    pub fn bool_or_false(&self, field: &'static str) -> bool {
        self.optional_bool(field).unwrap_or(false)
    }

    /// A number Java would leave null when absent or unparsable: its header
    /// decoder logs a field it cannot parse and carries on without it.
    pub fn lenient_i64(&self, field: &'static str) -> Option<i64> {
        self.optional_i64(field).unwrap_or_else(|err| {
            tracing::debug!(%err, "header field ignored, as Java does");
            None
        })
    }
}

fn parse_i64(field: &'static str, value: &str) -> Result<i64, HeaderError> {
    value.trim().parse().map_err(|_| HeaderError::Malformed {
        field,
        value: value.to_string(),
        expected: "integer",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_malformed_fields_name_themselves() {
        let mut ext = ExtFields::new();
        ext.insert("brokerId".into(), "abc".into());
        ext.insert("compressed".into(), "TRUE".into());
        let h = Header(&ext);
        assert_eq!(
            h.required("brokerName").unwrap_err().to_string(),
            "the custom field <brokerName> is null"
        );
        let err = h.required_i64("brokerId").unwrap_err().to_string();
        assert!(err.contains("brokerId") && err.contains("abc"), "{err}");
        assert!(h.bool_or_false("compressed"));
        assert_eq!(h.optional_bool("other"), None);
        assert_eq!(h.optional_i64("other"), Ok(None));
    }
}
