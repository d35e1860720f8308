//! The two exposition formats `/metrics` speaks. The registry writes
//! OpenMetrics 1.0; a scraper that does not ask for it (curl, Prometheus
//! before 2.5, most agents) gets the Prometheus text format 0.0.4, in which
//! a counter's family is named with its `_total` suffix, there are no
//! `# UNIT` lines and no `# EOF`, and `info`/`unknown` are `gauge`/`untyped`.

/// The `Content-Type` of each format.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Whether an `Accept` header asks for OpenMetrics (Prometheus 2.5+ sends
/// `application/openmetrics-text;version=1.0.0,...;q=0.5,text/plain;...`).
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|accept| {
        accept.split(',').any(|range| {
            let mut params = range.split(';').map(str::trim);
            let media = params.next().unwrap_or_default();
            let refused = params.any(|p| p.replace(' ', "") == "q=0");
            media.eq_ignore_ascii_case("application/openmetrics-text") && !refused
        })
    })
}

/// `openmetrics` rewritten in the 0.0.4 text format.
pub fn to_prometheus(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    // HELP comes before TYPE; a counter's is renamed once its TYPE is known.
    let mut help: Option<(&str, &str)> = None;
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            flush_help(&mut out, help.take(), None);
            help = Some(rest.split_once(' ').unwrap_or((rest, "")));
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            let (name, kind) = match kind {
                "counter" => (format!("{name}_total"), "counter"),
                "info" => (format!("{name}_info"), "gauge"),
                "unknown" => (name.to_string(), "untyped"),
                other => (name.to_string(), other),
            };
            let same_family = help.is_some_and(|(h, _)| name.starts_with(h));
            flush_help(&mut out, help.take(), same_family.then_some(&name));
            out.push_str("# TYPE ");
            out.push_str(&name);
            out.push(' ');
            out.push_str(kind);
            out.push('\n');
        } else if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        } else {
            flush_help(&mut out, help.take(), None);
            out.push_str(line);
            out.push('\n');
        }
    }
    flush_help(&mut out, help, None);
    out
}

fn flush_help(out: &mut String, help: Option<(&str, &str)>, renamed: Option<&String>) {
    if let Some((name, text)) = help {
        out.push_str("# HELP ");
        out.push_str(renamed.map_or(name, String::as_str));
        out.push(' ');
        out.push_str(text);
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_named_with_total_and_openmetrics_lines_go() {
        let om = "# HELP namesrv_requests Requests served.\n\
                  # TYPE namesrv_requests counter\n\
                  namesrv_requests_total{code=\"A\"} 1\n\
                  # HELP namesrv_topics Topics.\n\
                  # TYPE namesrv_topics gauge\n\
                  # UNIT namesrv_topics topics\n\
                  namesrv_topics 5\n\
                  # HELP build Build.\n\
                  # TYPE build info\n\
                  build_info{version=\"1\"} 1\n\
                  # EOF\n";
        assert_eq!(
            to_prometheus(om),
            "# HELP namesrv_requests_total Requests served.\n\
             # TYPE namesrv_requests_total counter\n\
             namesrv_requests_total{code=\"A\"} 1\n\
             # HELP namesrv_topics Topics.\n\
             # TYPE namesrv_topics gauge\n\
             namesrv_topics 5\n\
             # HELP build_info Build.\n\
             # TYPE build_info gauge\n\
             build_info{version=\"1\"} 1\n"
        );
    }

    #[test]
    fn openmetrics_only_when_asked_for() {
        assert!(!wants_openmetrics(None));
        assert!(!wants_openmetrics(Some("*/*")));
        assert!(!wants_openmetrics(Some("text/plain;version=0.0.4")));
        assert!(wants_openmetrics(Some(
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        )));
        assert!(!wants_openmetrics(Some(
            "application/openmetrics-text; q=0, text/plain"
        )));
    }
}
