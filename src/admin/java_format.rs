//! Java's renderings that mqadmin's output depends on: `%.Nf` (half-up on
//! the shortest decimal digits) and fastjson's pretty printer.

/// Java `String.format("%.{decimals}f", x)`.
pub fn fixed(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".into()
        } else if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    // Rust's Display is the shortest round-trip decimal, never in exponent form.
    let text = format!("{}", x.abs());
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), f.to_string()),
        None => (text.clone(), String::new()),
    };
    let mut digits: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).collect();
    let int_len = int_part.len();
    let keep = int_len + decimals;
    if digits.len() > keep {
        let round_up = digits[keep] >= b'5';
        digits.truncate(keep);
        if round_up {
            let mut i = keep;
            loop {
                if i == 0 {
                    digits.insert(0, b'1');
                    break;
                }
                i -= 1;
                if digits[i] == b'9' {
                    digits[i] = b'0';
                } else {
                    digits[i] += 1;
                    break;
                }
            }
        }
    } else {
        digits.resize(keep, b'0');
    }
    let int_len = digits.len() - decimals;
    let mut out = String::new();
    if x.is_sign_negative() && digits.iter().any(|d| *d != b'0') {
        out.push('-');
    }
    out.push_str(std::str::from_utf8(&digits[..int_len]).unwrap_or("0"));
    if decimals > 0 {
        out.push('.');
        out.push_str(std::str::from_utf8(&digits[int_len..]).unwrap_or("0"));
    }
    out
}

/// A value as fastjson sees a Java object graph.
#[derive(Debug, Clone, PartialEq)]
pub enum JavaJson {
    Str(String),
    Int(i64),
    Bool(bool),
    /// A bean: its non-null properties, printed in ascending name order.
    Bean(Vec<(&'static str, JavaJson)>),
    List(Vec<JavaJson>),
    /// A map with string keys, entries in the map's iteration order.
    StrMap(Vec<(String, JavaJson)>),
    /// A map with Long/Integer keys, entries in the map's iteration order.
    IntMap(Vec<(i64, JavaJson)>),
}

/// `toJson(true)` as 5.5.0's mqadmin prints it (fastjson2's PrettyFormat):
/// tab-indented, one entry a line, number keys unquoted. (fastjson 1.2, in
/// 4.x and 5.3.3, put a number-keyed map's first entry on the brace's line.)
pub fn pretty(value: &JavaJson) -> String {
    let mut out = String::new();
    write_pretty(value, 0, &mut out);
    out
}

fn newline(level: usize, out: &mut String) {
    out.push('\n');
    for _ in 0..level {
        out.push('\t');
    }
}

fn write_pretty(value: &JavaJson, level: usize, out: &mut String) {
    match value {
        JavaJson::Str(s) => write_string(s, out),
        JavaJson::Int(v) => out.push_str(&v.to_string()),
        JavaJson::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        JavaJson::Bean(props) => {
            let mut props: Vec<(&str, &JavaJson)> = props.iter().map(|(k, v)| (*k, v)).collect();
            props.sort_by_key(|(name, _)| *name);
            write_keyed(props, level, out);
        }
        JavaJson::List(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(level + 1, out);
                write_pretty(v, level + 1, out);
            }
            newline(level, out);
            out.push(']');
        }
        JavaJson::StrMap(entries) if entries.is_empty() => out.push_str("{}"),
        JavaJson::StrMap(entries) => write_keyed(
            entries.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            level,
            out,
        ),
        JavaJson::IntMap(entries) => {
            if entries.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(level + 1, out);
                out.push_str(&k.to_string());
                out.push(':');
                write_pretty(v, level + 1, out);
            }
            newline(level, out);
            out.push('}');
        }
    }
}

/// A bean or a string-keyed map: one `"key":value` per line.
fn write_keyed(entries: Vec<(&str, &JavaJson)>, level: usize, out: &mut String) {
    out.push('{');
    for (i, (key, v)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        newline(level + 1, out);
        write_string(key, out);
        out.push(':');
        write_pretty(v, level + 1, out);
    }
    newline(level, out);
    out.push('}');
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_rounds_half_up_on_the_shortest_digits() {
        assert_eq!(fixed(0.125, 2), "0.13");
        assert_eq!(fixed(1.005, 2), "1.01");
        assert_eq!(fixed(2.675, 2), "2.68");
        assert_eq!(fixed(1.25f32 as f64, 1), "1.3");
        assert_eq!(fixed(2.35f32 as f64, 1), "2.3");
        assert_eq!(fixed(0.0, 2), "0.00");
        assert_eq!(fixed(9.995, 2), "10.00");
        assert_eq!(fixed(1234.5678, 2), "1234.57");
        assert_eq!(fixed(0.18, 4), "0.1800");
        assert_eq!(fixed(-1.5, 0), "-2");
    }

    #[test]
    fn pretty_prints_as_fastjson2() {
        let v = JavaJson::Bean(vec![
            ("queueDatas", JavaJson::List(vec![])),
            (
                "brokerDatas",
                JavaJson::List(vec![JavaJson::Bean(vec![
                    ("cluster", JavaJson::Str("JC".into())),
                    (
                        "brokerAddrs",
                        JavaJson::IntMap(vec![
                            (0, JavaJson::Str("a:1".into())),
                            (1, JavaJson::Str("b:1".into())),
                        ]),
                    ),
                ])]),
            ),
            ("filterServerTable", JavaJson::StrMap(vec![])),
        ]);
        assert_eq!(
            pretty(&v),
            "{\n\t\"brokerDatas\":[\n\t\t{\n\t\t\t\"brokerAddrs\":{\n\t\t\t\t0:\"a:1\",\n\t\t\t\t1:\"b:1\"\n\t\t\t},\n\t\t\t\"cluster\":\"JC\"\n\t\t}\n\t],\n\t\"filterServerTable\":{},\n\t\"queueDatas\":[]\n}"
        );
    }

    #[test]
    fn control_characters_are_escaped_with_uppercase_hex() {
        let mut out = String::new();
        write_string("a\u{1a}\u{7f}/\"", &mut out);
        assert_eq!(out, "\"a\\u001A\\u007F/\\\"\"");
    }
}
