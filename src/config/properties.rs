//! The Java `.properties` text format (java.util.Properties load/store rules).

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PropertiesError {
    #[error("line {line}: malformed \\uXXXX escape")]
    BadUnicodeEscape { line: usize },
}

/// Parses properties text into (key, value) pairs in file order; a repeated
/// key keeps its first position and its last value.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, PropertiesError> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((index, raw)) = lines.next() {
        let first_line = index + 1;
        let trimmed = raw.trim_start_matches([' ', '\t', '\u{c}']);
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
            continue;
        }
        // Join continuation lines (an odd number of trailing backslashes).
        let mut logical = String::from(trimmed);
        while ends_with_odd_backslashes(&logical) {
            logical.pop();
            match lines.next() {
                Some((_, next)) => logical.push_str(next.trim_start_matches([' ', '\t', '\u{c}'])),
                None => break,
            }
        }
        let (key, value) = split_key_value(&logical);
        let key = unescape(key, first_line)?;
        let value = unescape(value, first_line)?;
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => out.push((key, value)),
        }
    }
    Ok(out)
}

fn ends_with_odd_backslashes(s: &str) -> bool {
    s.bytes().rev().take_while(|b| *b == b'\\').count() % 2 == 1
}

/// The key ends at the first unescaped '=', ':' or whitespace; whitespace
/// and one '='/':' after it are skipped.
fn split_key_value(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    let mut escaped = false;
    while i < bytes.len() {
        let b = bytes[i];
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if matches!(b, b'=' | b':' | b' ' | b'\t' | 0x0c) {
            break;
        }
        i += 1;
    }
    let key = &line[..i];
    let mut rest = line[i..].trim_start_matches([' ', '\t', '\u{c}']);
    if let Some(r) = rest.strip_prefix(['=', ':']) {
        rest = r.trim_start_matches([' ', '\t', '\u{c}']);
    }
    (key, rest)
}

fn unescape(s: &str, line: usize) -> Result<String, PropertiesError> {
    if !s.contains('\\') {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = (hex.len() == 4)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .ok_or(PropertiesError::BadUnicodeEscape { line })?;
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Ok(out)
}

/// Writes `key=value` lines that [`parse`] (and Java) read back unchanged.
pub fn to_string<K: AsRef<str>, V: AsRef<str>>(
    entries: impl IntoIterator<Item = (K, V)>,
) -> String {
    let mut out = String::new();
    for (k, v) in entries {
        escape_into(&mut out, k.as_ref(), true);
        out.push('=');
        escape_into(&mut out, v.as_ref(), false);
        out.push('\n');
    }
    out
}

fn escape_into(out: &mut String, s: &str, is_key: bool) {
    for (i, c) in s.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            ' ' if is_key || i == 0 => out.push_str("\\ "),
            '=' | ':' if is_key => {
                out.push('\\');
                out.push(c);
            }
            '#' | '!' if is_key && i == 0 => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_rules() {
        let text = "# comment\n  ! also comment\n\nlistenPort = 9876\nkey2:value2\nkey3 value3\nmulti=a,\\\n    b,\\\n    c\nesc=tab\\there\\u0041\nempty=\nlistenPort=9877\n";
        let entries = parse(text).unwrap();
        let get = |k: &str| {
            entries
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("listenPort"), Some("9877"));
        assert_eq!(get("key2"), Some("value2"));
        assert_eq!(get("key3"), Some("value3"));
        assert_eq!(get("multi"), Some("a,b,c"));
        assert_eq!(get("esc"), Some("tab\thereA"));
        assert_eq!(get("empty"), Some(""));
        assert_eq!(entries[0].0, "listenPort");
    }

    #[test]
    fn bad_unicode_escape_names_the_line() {
        let err = parse("a=1\nb=\\u12x\n").unwrap_err();
        assert_eq!(err, PropertiesError::BadUnicodeEscape { line: 2 });
    }

    #[test]
    fn round_trip() {
        let entries = vec![
            ("plain".to_string(), "value".to_string()),
            (
                "we ird:=key".to_string(),
                " leading space\\ and\nnewline=:".to_string(),
            ),
            ("#hash".to_string(), "".to_string()),
        ];
        assert_eq!(parse(&to_string(entries.clone())).unwrap(), entries);
    }
}
