//! `mixed`: route load idle, then the same load while brokers re-register.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::register::{collect, spawn_registers, RegisterArgs};
use crate::route::{run_route, RouteArgs};

pub(crate) async fn run_mixed(route: &RouteArgs, register: &RegisterArgs) {
    let idle = run_route(route, "route-idle").await;
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let churn = spawn_registers(register, "ChurnTopic", &stop, &done);
    let busy = run_route(route, "route-churn").await;
    stop.store(true, Ordering::Relaxed);
    collect(churn)
        .await
        .report("register-churn", started.elapsed(), route.json);
    let ratio = if idle.p99_ms > 0.0 {
        busy.p99_ms / idle.p99_ms
    } else {
        0.0
    };
    if route.json {
        println!("{{\"mode\":\"mixed\",\"p99_ratio_churn_over_idle\":{ratio:.2}}}");
    } else {
        println!("route p99 under churn / idle: {ratio:.2}x");
    }
}
