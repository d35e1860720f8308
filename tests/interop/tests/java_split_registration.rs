//! Split registration (issue 28): a Java 5.5.0 broker with
//! `enableSplitRegistration=true` and 3,000 topics sends its table in
//! batches of `splitRegistrationSize` (800) topics, one after the other,
//! every period. With `deleteTopicWithBrokerRegistration=true`, Java's
//! NameServer deletes the topics each batch lacks, so routes come and go
//! between batches; ours keeps every topic routed through every round, and a
//! topic the broker dropped still goes (a round later). The Java 5.5.0
//! NameServer runs beside ours as the reference; what it lost is printed.

use std::time::{Duration, Instant};

use namesrv_interop::*;

const CLUSTER: &str = "SplitCluster";
const TOPICS: usize = 3000;

/// How many of the seeded topics a NameServer lists now.
fn seeded_listed(ns: std::net::SocketAddr) -> usize {
    let answer = Observed::from_answer(&raw_call(ns, request(206, &[])));
    answer.json()["topicList"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter(|t| t.as_str().is_some_and(|t| t.starts_with("Seeded")))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn split_batches_never_take_routes_away() {
    let dir = tempfile::tempdir().unwrap();
    let delete = [("deleteTopicWithBrokerRegistration", "true")];
    let ours = Namesrv::start(&dir.path().join("ours"), &delete);
    let java = JavaNamesrv::start(JavaVersion::V5_5_0, &dir.path().join("java-ns"), &delete);
    seed_topics(&dir.path().join("b5"), TOPICS);
    let namesrv = format!("{};{}", ours.addr, java.addr);
    let broker = JavaBroker::start(
        &dir.path().join("b5"),
        JavaBrokerConf {
            version: JavaVersion::V5_5_0,
            cluster: CLUSTER,
            name: "split5",
            id: 0,
            role: "ASYNC_MASTER",
            namesrv: &namesrv,
            extra: &[
                ("enableSplitRegistration", "true"),
                ("registerNameServerPeriod", "10000"),
            ],
        },
    );
    wait_for(
        Duration::from_secs(90),
        "every seeded topic listed by ours",
        || seeded_listed(ours.addr) == TOPICS,
    );

    // Three periods of batches: ours lists every topic at every look.
    let (mut ours_min, mut java_min, mut looks) = (TOPICS, TOPICS, 0);
    let until = Instant::now() + Duration::from_secs(32);
    while Instant::now() < until {
        ours_min = ours_min.min(seeded_listed(ours.addr));
        java_min = java_min.min(seeded_listed(java.addr));
        looks += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "over {looks} looks in 32 s: ours listed at least {ours_min} of {TOPICS} seeded topics, \
         Java 5.5.0 at least {java_min}"
    );
    assert_eq!(ours_min, TOPICS, "a batch took routes away on ours");

    // A topic deleted on the broker alone (DELETE_TOPIC_IN_BROKER) leaves
    // the broker's table; ours stops routing it within two rounds.
    let broker_addr: std::net::SocketAddr = broker.addr.parse().unwrap();
    let deleted = raw_call(broker_addr, request(215, &[("topic", "Seeded7")]));
    assert_eq!(
        deleted.code, 0,
        "broker refused to delete: {:?}",
        deleted.remark
    );
    wait_for(
        Duration::from_secs(45),
        "Seeded7 no longer routed by ours",
        || ours.route_code("Seeded7") == 17,
    );
    assert_eq!(seeded_listed(ours.addr), TOPICS - 1);
    assert_eq!(ours.route_code("Seeded8"), 0);
}
