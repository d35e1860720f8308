//! A tolerant JSON reader for what fastjson writes: standard JSON plus
//! unquoted (numeric or identifier) keys, single-quoted strings and trailing
//! commas. Input comes from the network: no recursion, depth-limited, and
//! never panics.

use serde_json::{Map, Number, Value};

const MAX_DEPTH: usize = 128;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JsonReadError {
    #[error("unexpected end of input at byte {0}")]
    Eof(usize),
    #[error("expected {expected} at byte {at}")]
    Expected { expected: &'static str, at: usize },
    #[error("invalid escape at byte {0}")]
    Escape(usize),
    #[error("invalid UTF-8 at byte {0}")]
    Utf8(usize),
    #[error("invalid number at byte {0}")]
    Number(usize),
    #[error("nesting deeper than {MAX_DEPTH} at byte {0}")]
    TooDeep(usize),
    #[error("trailing characters at byte {0}")]
    Trailing(usize),
}

pub fn parse_str(input: &str) -> Result<Value, JsonReadError> {
    parse(input.as_bytes())
}

pub fn parse(input: &[u8]) -> Result<Value, JsonReadError> {
    let mut p = Parser { s: input, i: 0 };
    if p.s.starts_with(b"\xEF\xBB\xBF") {
        p.i = 3;
    }
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(JsonReadError::Trailing(p.i));
    }
    Ok(v)
}

enum Frame {
    Array(Vec<Value>),
    Object(Map<String, Value>, String),
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Result<u8, JsonReadError> {
        self.ws();
        self.s
            .get(self.i)
            .copied()
            .ok_or(JsonReadError::Eof(self.i))
    }

    fn expect(&mut self, byte: u8, expected: &'static str) -> Result<(), JsonReadError> {
        if self.peek()? != byte {
            return Err(JsonReadError::Expected {
                expected,
                at: self.i,
            });
        }
        self.i += 1;
        Ok(())
    }

    /// Iterative descent: containers under construction live on an explicit stack.
    fn value(&mut self) -> Result<Value, JsonReadError> {
        let mut stack: Vec<Frame> = Vec::new();
        'outer: loop {
            // Parse one value, or open a container.
            let mut v = match self.peek()? {
                b'{' => {
                    self.i += 1;
                    if stack.len() >= MAX_DEPTH {
                        return Err(JsonReadError::TooDeep(self.i));
                    }
                    if self.peek()? == b'}' {
                        self.i += 1;
                        Value::Object(Map::new())
                    } else {
                        let key = self.key()?;
                        stack.push(Frame::Object(Map::new(), key));
                        continue 'outer;
                    }
                }
                b'[' => {
                    self.i += 1;
                    if stack.len() >= MAX_DEPTH {
                        return Err(JsonReadError::TooDeep(self.i));
                    }
                    if self.peek()? == b']' {
                        self.i += 1;
                        Value::Array(Vec::new())
                    } else {
                        stack.push(Frame::Array(Vec::new()));
                        continue 'outer;
                    }
                }
                b'"' | b'\'' => Value::String(self.string()?),
                b't' => self.word(b"true", Value::Bool(true))?,
                b'f' => self.word(b"false", Value::Bool(false))?,
                b'n' => self.word(b"null", Value::Null)?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => {
                    return Err(JsonReadError::Expected {
                        expected: "a value",
                        at: self.i,
                    })
                }
            };
            // Attach the finished value to its parent, closing parents as they complete.
            loop {
                match stack.last_mut() {
                    None => return Ok(v),
                    Some(Frame::Array(items)) => {
                        items.push(v);
                        match self.peek()? {
                            b',' => {
                                self.i += 1;
                                if self.peek()? != b']' {
                                    continue 'outer;
                                }
                                self.i += 1;
                            }
                            b']' => self.i += 1,
                            _ => {
                                return Err(JsonReadError::Expected {
                                    expected: "',' or ']'",
                                    at: self.i,
                                })
                            }
                        }
                    }
                    Some(Frame::Object(map, key)) => {
                        map.insert(std::mem::take(key), v);
                        match self.peek()? {
                            b',' => {
                                self.i += 1;
                                if self.peek()? != b'}' {
                                    let next = self.key()?;
                                    if let Some(Frame::Object(_, key)) = stack.last_mut() {
                                        *key = next;
                                    }
                                    continue 'outer;
                                }
                                self.i += 1;
                            }
                            b'}' => self.i += 1,
                            _ => {
                                return Err(JsonReadError::Expected {
                                    expected: "',' or '}'",
                                    at: self.i,
                                })
                            }
                        }
                    }
                }
                v = match stack.pop() {
                    Some(Frame::Array(items)) => Value::Array(items),
                    Some(Frame::Object(map, _)) => Value::Object(map),
                    None => unreachable_value(),
                };
            }
        }
    }

    /// An object key and its ':'; quoted, or bare as fastjson writes non-string keys.
    fn key(&mut self) -> Result<String, JsonReadError> {
        let key = match self.peek()? {
            b'"' | b'\'' => self.string()?,
            _ => {
                let start = self.i;
                while let Some(&b) = self.s.get(self.i) {
                    if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'-' | b'.' | b'+') {
                        self.i += 1;
                    } else {
                        break;
                    }
                }
                if start == self.i {
                    return Err(JsonReadError::Expected {
                        expected: "an object key",
                        at: start,
                    });
                }
                // Only ASCII was accepted above.
                String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
            }
        };
        self.expect(b':', "':'")?;
        Ok(key)
    }

    fn word(&mut self, word: &[u8], v: Value) -> Result<Value, JsonReadError> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(JsonReadError::Expected {
                expected: "a value",
                at: self.i,
            })
        }
    }

    fn number(&mut self) -> Result<Value, JsonReadError> {
        let start = self.i;
        let mut float = false;
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        while let Some(&b) = self.s.get(self.i) {
            match b {
                b'0'..=b'9' => {}
                b'.' | b'e' | b'E' | b'+' | b'-' => float = true,
                _ => break,
            }
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i])
            .map_err(|_| JsonReadError::Number(start))?;
        let bad = || JsonReadError::Number(start);
        if !float {
            if let Ok(n) = text.parse::<i64>() {
                return Ok(Value::Number(n.into()));
            }
            if let Ok(n) = text.parse::<u64>() {
                return Ok(Value::Number(n.into()));
            }
        }
        let digits = text.strip_prefix('-').unwrap_or(text);
        if !digits.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(bad());
        }
        let f: f64 = text.parse().map_err(|_| bad())?;
        Number::from_f64(f).map(Value::Number).ok_or_else(bad)
    }

    fn string(&mut self) -> Result<String, JsonReadError> {
        let quote = self.s[self.i];
        self.i += 1;
        let start = self.i;
        // Fast path: no escapes.
        while let Some(&b) = self.s.get(self.i) {
            if b == quote {
                let text = std::str::from_utf8(&self.s[start..self.i])
                    .map_err(|e| JsonReadError::Utf8(start + e.valid_up_to()))?;
                self.i += 1;
                return Ok(text.to_owned());
            }
            if b == b'\\' {
                break;
            }
            self.i += 1;
        }
        let mut out: Vec<u8> = self.s[start..self.i].to_vec();
        loop {
            let Some(&b) = self.s.get(self.i) else {
                return Err(JsonReadError::Eof(self.i));
            };
            self.i += 1;
            match b {
                b if b == quote => break,
                b'\\' => {
                    let at = self.i - 1;
                    let Some(&e) = self.s.get(self.i) else {
                        return Err(JsonReadError::Eof(self.i));
                    };
                    self.i += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\'' => '\'',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4().ok_or(JsonReadError::Escape(at))?;
                            if (0xD800..0xDC00).contains(&hi)
                                && self.s[self.i..].starts_with(b"\\u")
                            {
                                let save = self.i;
                                self.i += 2;
                                match self.hex4() {
                                    Some(lo) if (0xDC00..0xE000).contains(&lo) => char::from_u32(
                                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00),
                                    )
                                    .unwrap_or('\u{FFFD}'),
                                    _ => {
                                        self.i = save;
                                        '\u{FFFD}'
                                    }
                                }
                            } else {
                                char::from_u32(hi).unwrap_or('\u{FFFD}')
                            }
                        }
                        _ => return Err(JsonReadError::Escape(at)),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                b => out.push(b),
            }
        }
        String::from_utf8(out)
            .map_err(|e| JsonReadError::Utf8(start + e.utf8_error().valid_up_to()))
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.s.get(self.i..self.i + 4)?;
        let text = std::str::from_utf8(digits).ok()?;
        let n = u32::from_str_radix(text, 16).ok()?;
        if !digits.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        self.i += 4;
        Some(n)
    }
}

fn unreachable_value() -> Value {
    Value::Null
}

#[cfg(test)]
mod tests {
    use super::*;

    const FASTJSON: &str = r#"{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10921"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}"#;

    #[test]
    fn fastjson_unquoted_keys_read_like_quoted_ones() {
        let quoted = FASTJSON.replace("{0:", "{\"0\":").replace(",1:", ",\"1\":");
        let expected: Value = serde_json::from_str(&quoted).unwrap();
        assert_eq!(parse_str(FASTJSON).unwrap(), expected);
        assert_eq!(parse_str(&quoted).unwrap(), expected);
        assert_eq!(
            parse_str(r#"{"currIdMap":{-1:3},'s':'x',}"#).unwrap()["currIdMap"]["-1"],
            3
        );
    }

    #[test]
    fn standard_documents_match_serde_json() {
        for doc in [
            r#"{"a":"\u00e9\ud83d\ude00\n\t\"\\/","b":[1,-5,1e10,2.5,12345678901234567890,-9223372036854775808],"c":{"d":null,"e":true,"f":false}}"#,
            "[]",
            "{}",
            " [ [ ], { } ] ",
            r#""plain""#,
            "0",
        ] {
            let ours = parse_str(doc).unwrap();
            let theirs: Value = serde_json::from_str(doc).unwrap();
            assert_eq!(ours, theirs, "{doc}");
        }
    }

    #[test]
    fn malformed_input_is_an_error_never_a_panic() {
        for (i, _) in FASTJSON.char_indices() {
            assert!(parse_str(&FASTJSON[..i]).is_err(), "prefix {i}");
        }
        let deep = "[".repeat(10_000);
        for bad in [
            "",
            "{",
            "[1,",
            r#"{"a"}"#,
            r#"{"a":}"#,
            r#""\u12""#,
            "}",
            "tru",
            "01x",
            "1 2",
            "-",
            "--1",
            "1e",
            ".5",
            deep.as_str(),
            "{,}",
            "[,]",
        ] {
            assert!(parse_str(bad).is_err(), "{bad:?}");
        }
        assert!(parse(b"\"\xff\"").is_err());
        assert!(matches!(parse_str(&deep), Err(JsonReadError::TooDeep(_))));
    }
}
