//! `clusterList`: the brokers of each cluster, with each broker's runtime
//! statistics (GET_BROKER_RUNTIME_INFO, asked of the broker itself).

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use serde_json::{json, Value};

use crate::admin::body::{kv_table, ClusterInfo};
use crate::admin::context::Context;
use crate::admin::error::AdminError;
use crate::admin::java_format::fixed;
use crate::admin::java_order::{hash_map_order, long_hash, string_set_order};
use crate::admin::Printed;
use crate::remoting::{RemotingCommand, RequestCode};

#[derive(Debug, Args)]
pub struct ClusterList {
    /// Print more stats
    #[arg(short = 'm', long = "moreStats")]
    more_stats: bool,
    /// specify intervals numbers, it is in seconds
    #[arg(short = 'i', long = "interval")]
    pub interval: Option<u64>,
    /// which cluster
    #[arg(short = 'c', long = "clusterName")]
    cluster_name: Option<String>,
}

/// One broker's runtime statistics; `None` when they could not be fetched,
/// which mqadmin prints as empty cells rather than `null`.
struct Stats(Option<HashMap<String, String>>);

impl Stats {
    fn text(&self, key: &str) -> String {
        match &self.0 {
            None => String::new(),
            Some(t) => t.get(key).cloned().unwrap_or_else(|| "null".into()),
        }
    }

    fn text_or(&self, key: &str, absent: &str) -> String {
        match &self.0 {
            None => String::new(),
            Some(t) => t.get(key).cloned().unwrap_or_else(|| absent.into()),
        }
    }

    fn raw(&self, key: &str) -> Option<&str> {
        self.0.as_ref()?.get(key).map(String::as_str)
    }

    /// The first space-separated number of a TPS entry (`"12.5 3.0 1.0"`).
    fn tps(&self, key: &str) -> f64 {
        self.raw(key)
            .filter(|v| !v.trim().is_empty())
            .and_then(|v| v.split(' ').next()?.parse().ok())
            .unwrap_or(0.0)
    }

    fn long(&self, key: &str) -> Option<i64> {
        self.raw(key)?.parse().ok()
    }

    fn float(&self, key: &str) -> Option<f32> {
        self.raw(key)?.parse().ok()
    }

    fn timer(&self) -> String {
        // Parsed in mqadmin's order; the first that fails leaves it and the rest at 0.
        let mut v = [0f64; 5];
        let parsed = (|| {
            v[0] = self.long("timerReadBehind")? as f64;
            v[1] = self.long("timerOffsetBehind")? as f64;
            let congest = self.long("timerCongestNum")?;
            v[2] = (congest as f32 / 10000.0f32) as f64;
            v[3] = self.float("timerEnqueueTps")? as f64;
            v[4] = self.float("timerDequeueTps")? as f64;
            Some(())
        })();
        let _ = parsed;
        format!(
            "{}-{}({}w, {}, {})",
            v[0] as i64,
            v[1] as i64,
            fixed(v[2], 1),
            fixed(v[3], 1),
            fixed(v[4], 1)
        )
    }

    fn hours_since_earliest(&self, now_ms: i64) -> f64 {
        match self
            .raw("earliestMessageTimeStamp")
            .filter(|v| !v.is_empty())
        {
            Some(v) => match v.parse::<i64>() {
                Ok(ts) => (now_ms - ts) as f64 / 1000.0 / 60.0 / 60.0,
                Err(_) => 0.0,
            },
            None => 0.0,
        }
    }

    fn disk_ratio(&self) -> f64 {
        self.raw("commitLogDiskRatio")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }

    /// `today morning - yesterday morning` style differences of -m, in
    /// mqadmin's order: once one fails to parse, it and the rest stay 0.
    fn totals(&self) -> [i64; 4] {
        let mut out = [0i64; 4];
        let pairs = [
            ("msgPutTotalTodayMorning", "msgPutTotalYesterdayMorning"),
            ("msgGetTotalTodayMorning", "msgGetTotalYesterdayMorning"),
            ("msgPutTotalTodayNow", "msgPutTotalTodayMorning"),
            ("msgGetTotalTodayNow", "msgGetTotalTodayMorning"),
        ];
        for (slot, (later, earlier)) in out.iter_mut().zip(pairs) {
            match (self.long(later), self.long(earlier)) {
                (Some(a), Some(b)) => *slot = a - b,
                _ => break,
            }
        }
        out
    }
}

struct Row {
    cluster: String,
    broker_name: String,
    broker_id: i64,
    addr: String,
    stats: Stats,
}

impl ClusterList {
    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        let request = RemotingCommand::request(RequestCode::GET_BROKER_CLUSTER_INFO.value(), 0);
        let (ns, resp) = ctx.namesrv_call_ok(request).await?;
        let info = ClusterInfo::decode(&ns, &resp.body)?;
        let clusters: Vec<String> = match self.cluster_name.as_deref().map(str::trim) {
            Some(c) if !c.is_empty() => vec![c.to_string()],
            _ => string_set_order(info.cluster_addr_table.iter().map(|(c, _)| c.clone())),
        };
        let mut printed = Printed::default();
        let mut rows = Vec::new();
        for cluster in clusters {
            let mut names: Vec<String> = info
                .broker_names_of(&cluster)
                .map(|n| string_set_order(n.iter().cloned()))
                .unwrap_or_default();
            names.sort();
            for name in names {
                let Some(broker) = info.broker(&name) else {
                    continue;
                };
                let addrs = hash_map_order(broker.broker_addrs.clone(), |(id, _)| long_hash(*id));
                for (id, addr) in addrs {
                    let request =
                        RemotingCommand::request(RequestCode::GET_BROKER_RUNTIME_INFO.value(), 0);
                    let stats = match ctx.call_ok(&addr, request).await {
                        Ok(resp) => match kv_table(&addr, &resp.body) {
                            Ok(table) => Stats(Some(table.into_iter().collect())),
                            Err(e) => {
                                printed.warn(e.to_string());
                                Stats(None)
                            }
                        },
                        Err(e) => {
                            printed.warn(format!("runtime stats of broker {addr}: {e}"));
                            Stats(None)
                        }
                    };
                    rows.push(Row {
                        cluster: cluster.clone(),
                        broker_name: name.clone(),
                        broker_id: id,
                        addr,
                        stats,
                    });
                }
            }
        }
        if self.more_stats {
            self.print_more(&rows, &mut printed.text);
        } else {
            self.print_base(&rows, &mut printed.text);
        }
        printed.json = json!({
            "namesrv": ns,
            "brokers": rows.iter().map(|r| json!({
                "cluster": r.cluster,
                "brokerName": r.broker_name,
                "brokerId": r.broker_id,
                "addr": r.addr,
                "runtime": match &r.stats.0 {
                    Some(t) => Value::Object(t.iter().map(|(k, v)| (k.clone(), json!(v))).collect()),
                    None => Value::Null,
                },
            })).collect::<Vec<_>>(),
        });
        Ok(printed)
    }

    fn print_base(&self, rows: &[Row], out: &mut String) {
        out.push_str(&format!(
            "{:<22}  {:<22}  {:<4}  {:<22} {:<16}  {:>16}  {:>30}  {:<22}  {:<11}  {:<12}  {:<8}  {:<10}\n",
            "#Cluster Name", "#Broker Name", "#BID", "#Addr", "#Version", "#InTPS(LOAD)",
            "#OutTPS(LOAD)", "#Timer(Progress)", "#PCWait(ms)", "#Hour", "#SPACE", "#ACTIVATED"
        ));
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        for r in rows {
            let s = &r.stats;
            let active = s
                .raw("brokerActive")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            let in_tps = format!(
                "{:>9}({},{}ms)",
                fixed(s.tps("putTps"), 2),
                s.text("sendThreadPoolQueueSize"),
                s.text("sendThreadPoolQueueHeadWaitTimeMills")
            );
            let out_tps = format!(
                "{:>9}({},{}ms|{},{}ms)",
                fixed(s.tps("getTransferredTps"), 2),
                s.text("pullThreadPoolQueueSize"),
                s.text("pullThreadPoolQueueHeadWaitTimeMills"),
                s.text_or("ackThreadPoolQueueSize", "N"),
                s.text_or("ackThreadPoolQueueHeadWaitTimeMills", "N")
            );
            out.push_str(&format!(
                "{:<22}  {:<22}  {:<4}  {:<22} {:<16}  {:>16}  {:>30}  {:<22}  {:>11}  {:<12}  {:<8}  {:>10}\n",
                r.cluster,
                r.broker_name,
                r.broker_id,
                r.addr,
                s.text("brokerVersionDesc"),
                in_tps,
                out_tps,
                s.timer(),
                s.text("pageCacheLockTimeMills"),
                fixed(s.hours_since_earliest(now_ms), 2),
                fixed(s.disk_ratio(), 4),
                active
            ));
        }
    }

    fn print_more(&self, rows: &[Row], out: &mut String) {
        out.push_str(&format!(
            "{:<16}  {:<32} {:>14} {:>14} {:>14} {:>14}\n",
            "#Cluster Name",
            "#Broker Name",
            "#InTotalYest",
            "#OutTotalYest",
            "#InTotalToday",
            "#OutTotalToday"
        ));
        for r in rows {
            let [in_yest, out_yest, in_today, out_today] = r.stats.totals();
            out.push_str(&format!(
                "{:<16}  {:<32} {:>14} {:>14} {:>14} {:>14}\n",
                r.cluster, r.broker_name, in_yest, out_yest, in_today, out_today
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(pairs: &[(&str, &str)]) -> Stats {
        Stats(Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ))
    }

    #[test]
    fn timer_cells_parse_in_order_and_stop_at_the_first_failure() {
        let s = stats(&[
            ("timerReadBehind", "11"),
            ("timerOffsetBehind", "12"),
            ("timerCongestNum", "123456"),
            ("timerEnqueueTps", "1.25"),
            ("timerDequeueTps", "2.35"),
        ]);
        assert_eq!(s.timer(), "11-12(12.3w, 1.3, 2.3)");
        let partial = stats(&[("timerReadBehind", "5"), ("timerOffsetBehind", "x")]);
        assert_eq!(partial.timer(), "5-0(0.0w, 0.0, 0.0)");
        assert_eq!(Stats(None).timer(), "0-0(0.0w, 0.0, 0.0)");
    }

    #[test]
    fn missing_keys_print_null_but_unfetched_stats_print_nothing() {
        let s = stats(&[]);
        assert_eq!(s.text("brokerVersionDesc"), "null");
        assert_eq!(s.text_or("ackThreadPoolQueueSize", "N"), "N");
        assert_eq!(Stats(None).text("brokerVersionDesc"), "");
        assert_eq!(
            stats(&[("putTps", "1234.5678 1.0 2.0")]).tps("putTps"),
            1234.5678
        );
    }

    #[test]
    fn totals_stop_at_the_first_unparsable_value() {
        let s = stats(&[
            ("msgPutTotalTodayMorning", "10"),
            ("msgPutTotalYesterdayMorning", "4"),
            ("msgGetTotalTodayMorning", "oops"),
            ("msgPutTotalTodayNow", "30"),
        ]);
        assert_eq!(s.totals(), [6, 0, 0, 0]);
    }
}
