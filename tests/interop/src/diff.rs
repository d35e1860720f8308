//! Differential conformance: one request sent to two NameServers fed by the
//! same brokers (ours and Java's), the two answers normalised (JSON bodies
//! parsed, list order made canonical) and compared field by field.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;

use namesrv::remoting::{RemotingCommand, SerializeType};
use serde_json::Value;

use crate::remoting::raw_call;

/// An answer reduced to what a client can observe and rely on.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub code: i32,
    pub remark: Option<String>,
    pub ext_fields: BTreeMap<String, String>,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Empty,
    /// A JSON body, normalised; `standard` says whether a strict JSON parser
    /// reads it (false for the fastjson form with unquoted keys).
    Json {
        standard: bool,
        value: Value,
    },
    /// Anything else (e.g. the properties text of GET_NAMESRV_CONFIG).
    Text(String),
}

impl Observed {
    pub fn from_answer(resp: &RemotingCommand) -> Observed {
        Observed {
            code: resp.code,
            remark: resp.remark.clone(),
            ext_fields: resp.ext_fields.clone(),
            body: Body::read(&resp.body),
        }
    }

    /// The body as JSON, `Null` when it is not.
    pub fn json(&self) -> &Value {
        match &self.body {
            Body::Json { value, .. } => value,
            _ => &Value::Null,
        }
    }
}

impl Body {
    fn read(bytes: &[u8]) -> Body {
        if bytes.is_empty() {
            return Body::Empty;
        }
        if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
            return Body::Json {
                standard: true,
                value: normalise(value),
            };
        }
        match namesrv::json::read::parse(bytes) {
            Ok(value) => Body::Json {
                standard: false,
                value: normalise(value),
            },
            Err(_) => Body::Text(String::from_utf8_lossy(bytes).into_owned()),
        }
    }
}

/// Sorts every array by the canonical text of its elements (object keys are
/// already sorted: serde_json's map is ordered), so list order never counts.
pub fn normalise(value: Value) -> Value {
    match value {
        Value::Array(items) => {
            let mut items: Vec<Value> = items.into_iter().map(normalise).collect();
            items.sort_by_cached_key(|v| v.to_string());
            Value::Array(items)
        }
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, normalise(v))).collect())
        }
        other => other,
    }
}

/// One place where the two answers differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `code`, `remark`, `ext.<field>`, `body` or `body.<json path>`.
    pub path: String,
    pub ours: String,
    pub java: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ours {} / java {}", self.path, self.ours, self.java)
    }
}

/// Field-by-field differences between two observed answers.
pub fn differences(ours: &Observed, java: &Observed) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut push = |path: String, a: String, b: String| {
        if a != b {
            out.push(Difference {
                path,
                ours: a,
                java: b,
            });
        }
    };
    push("code".into(), ours.code.to_string(), java.code.to_string());
    push(
        "remark".into(),
        format!("{:?}", ours.remark),
        format!("{:?}", java.remark),
    );
    let keys: std::collections::BTreeSet<&String> = ours
        .ext_fields
        .keys()
        .chain(java.ext_fields.keys())
        .collect();
    for key in keys {
        push(
            format!("ext.{key}"),
            format!("{:?}", ours.ext_fields.get(key)),
            format!("{:?}", java.ext_fields.get(key)),
        );
    }
    match (&ours.body, &java.body) {
        (
            Body::Json {
                standard: a,
                value: va,
            },
            Body::Json {
                standard: b,
                value: vb,
            },
        ) => {
            push("body.standard_json".into(), a.to_string(), b.to_string());
            diff_json("body", va, vb, &mut out);
        }
        (a, b) => push("body".into(), format!("{a:?}"), format!("{b:?}")),
    }
    out
}

fn diff_json(path: &str, a: &Value, b: &Value, out: &mut Vec<Difference>) {
    match (a, b) {
        (Value::Object(ma), Value::Object(mb)) => {
            let keys: std::collections::BTreeSet<&String> = ma.keys().chain(mb.keys()).collect();
            for key in keys {
                let sub = format!("{path}.{key}");
                match (ma.get(key), mb.get(key)) {
                    (Some(x), Some(y)) => diff_json(&sub, x, y, out),
                    (x, y) => out.push(Difference {
                        path: sub,
                        ours: x.map_or("(absent)".into(), |v| v.to_string()),
                        java: y.map_or("(absent)".into(), |v| v.to_string()),
                    }),
                }
            }
        }
        (Value::Array(xa), Value::Array(xb)) if xa.len() == xb.len() => {
            for (i, (x, y)) in xa.iter().zip(xb).enumerate() {
                diff_json(&format!("{path}[{i}]"), x, y, out);
            }
        }
        _ if a != b => out.push(Difference {
            path: path.to_string(),
            ours: a.to_string(),
            java: b.to_string(),
        }),
        _ => {}
    }
}

/// Two NameServers fed by the same brokers: ours and the reference.
#[derive(Debug, Clone, Copy)]
pub struct Differential {
    pub ours: SocketAddr,
    pub java: SocketAddr,
}

/// Both answers to one request, and where they differ.
#[derive(Debug)]
pub struct Comparison {
    pub what: String,
    pub ours: Observed,
    pub java: Observed,
    pub differences: Vec<Difference>,
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.differences.is_empty() {
            return write!(f, "{}: same (code {})", self.what, self.ours.code);
        }
        writeln!(f, "{}: {} difference(s)", self.what, self.differences.len())?;
        for d in &self.differences {
            writeln!(f, "  {d}")?;
        }
        Ok(())
    }
}

impl Differential {
    /// Sends `req` to both servers (each on a fresh connection), in `codec`.
    pub fn compare(&self, what: &str, req: &RemotingCommand, codec: SerializeType) -> Comparison {
        let mut req = req.clone();
        req.serialize_type = codec;
        let ours = Observed::from_answer(&raw_call(self.ours, req.clone()));
        let java = Observed::from_answer(&raw_call(self.java, req));
        let differences = differences(&ours, &java);
        Comparison {
            what: format!("{what} [{}]", codec.name()),
            ours,
            java,
            differences,
        }
    }

    /// Asserts that `req` gets the same answer from both in both header codecs.
    pub fn assert_same(&self, what: &str, req: &RemotingCommand) -> Observed {
        let mut first = None;
        for codec in [SerializeType::Json, SerializeType::RocketMq] {
            let c = self.compare(what, req, codec);
            println!("{c}");
            assert!(c.differences.is_empty(), "answers differ: {c}");
            first.get_or_insert(c.ours);
        }
        first.unwrap()
    }

    /// Asserts that both answer `req` and differ exactly in `expected`
    /// (paths): a deliberate difference, pinned.
    pub fn assert_differs_only_in(&self, what: &str, req: &RemotingCommand, expected: &[&str]) {
        let c = self.compare(what, req, SerializeType::Json);
        println!("{c}");
        let paths: Vec<&str> = c.differences.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, expected, "unexpected set of differences: {c}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn observed(body: &str) -> Observed {
        Observed {
            code: 0,
            remark: None,
            ext_fields: BTreeMap::new(),
            body: Body::read(body.as_bytes()),
        }
    }

    #[test]
    fn list_order_does_not_count() {
        let a = observed(r#"{"t":[{"n":"b"},{"n":"a"}],"s":["y","x"]}"#);
        let b = observed(r#"{"s":["x","y"],"t":[{"n":"a"},{"n":"b"}]}"#);
        assert!(differences(&a, &b).is_empty());
    }

    #[test]
    fn a_changed_field_and_a_missing_one_are_reported_by_path() {
        let a = observed(r#"{"x":{"perm":6,"extra":1}}"#);
        let b = observed(r#"{"x":{"perm":4}}"#);
        let d = differences(&a, &b);
        let paths: Vec<_> = d.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["body.x.extra", "body.x.perm"]);
        assert_eq!(d[1].ours, "6");
    }

    #[test]
    fn fastjson_form_differs_from_standard_form_with_the_same_content() {
        let a = observed(r#"{"brokerAddrs":{0:"a"}}"#);
        let b = observed(r#"{"brokerAddrs":{"0":"a"}}"#);
        assert_eq!(a.json(), &json!({"brokerAddrs":{"0":"a"}}));
        let d = differences(&a, &b);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, "body.standard_json");
    }

    #[test]
    fn code_remark_and_header_fields_are_compared() {
        let mut a = observed("");
        let mut b = observed("");
        a.code = 17;
        b.remark = Some("x".into());
        b.ext_fields.insert("changed".into(), "true".into());
        let paths: Vec<_> = differences(&a, &b).into_iter().map(|d| d.path).collect();
        assert_eq!(paths, ["code", "remark", "ext.changed"]);
    }
}
