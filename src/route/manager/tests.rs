use super::*;
use crate::route::model::TopicConfig;
use crate::route::registration::fingerprint::RegisterBodyCrc;

const CLUSTER: &str = "DefaultCluster";

fn topics(names: &[&str], perm: i32) -> Vec<TopicConfig> {
    names
        .iter()
        .map(|n| TopicConfig {
            topic_name: n.to_string(),
            read_queue_nums: 4,
            write_queue_nums: 4,
            perm,
            ..TopicConfig::default()
        })
        .collect()
}

fn reg(name: &str, id: i64, addr: &str, counter: i64, tcs: Vec<TopicConfig>) -> BrokerRegistration {
    BrokerRegistration {
        cluster_name: CLUSTER.into(),
        broker_addr: addr.into(),
        broker_name: name.into(),
        broker_id: id,
        ha_server_addr: format!("{addr}-ha"),
        enable_acting_master: Some(false),
        wrapper: TopicConfigWrapper {
            data_version: DataVersion {
                state_version: 0,
                timestamp: 1,
                counter,
            },
            topics: tcs.into_iter().collect(),
            ..Default::default()
        },
        conn: Some(id as u64 + 100),
        ..Default::default()
    }
}

fn opts() -> RouteOptions {
    RouteOptions::default()
}

fn perm_of(m: &RouteInfoManager, topic: &str, broker: &str) -> Option<i32> {
    let route = m.pickup_route(topic, opts())?;
    route
        .queue_datas
        .iter()
        .find(|q| &*q.broker_name == broker)
        .map(|q| q.perm)
}

#[test]
fn master_registration_creates_routes_and_cluster() {
    let m = RouteInfoManager::new();
    let r = m
        .register_broker(
            reg("broker-a", 0, "10.0.0.1:10911", 1, topics(&["T1", "T2"], 6)),
            opts(),
            0,
        )
        .unwrap();
    assert_eq!(
        r,
        RegisterResult {
            changed_topics: vec!["T1".into(), "T2".into()],
            ..RegisterResult::default()
        }
    );
    let route = m.pickup_route("T1", opts()).unwrap();
    assert_eq!(route.broker_datas.len(), 1);
    assert_eq!(route.broker_datas[0].broker_addrs[&0], "10.0.0.1:10911");
    assert_eq!(route.queue_datas[0].write_queue_nums, 4);
    let info = m.cluster_info();
    assert_eq!(
        info.cluster_addr_table[CLUSTER],
        vec![Arc::from("broker-a")]
    );
    assert!(m.pickup_route("nope", opts()).is_none());
}

#[test]
fn registration_reports_what_it_changed_for_the_route_cache() {
    let m = RouteInfoManager::new();
    let g0 = m.generation();
    let first = m
        .register_broker(
            reg("a", 0, "10.0.0.1:1", 1, topics(&["T1", "T2"], 6)),
            opts(),
            0,
        )
        .unwrap();
    assert_eq!(first.changed_topics, vec!["T1", "T2"]);
    let g1 = m.generation();
    assert_eq!(g1, g0, "a new group is in no answer but its topics'");

    // The periodic re-registration: new data version, same topics.
    let again = m
        .register_broker(
            reg("a", 0, "10.0.0.1:1", 2, topics(&["T1", "T2"], 6)),
            opts(),
            1,
        )
        .unwrap();
    assert!(again.changed_topics.is_empty());
    assert_eq!(m.generation(), g1, "nothing changed, nothing invalidated");

    let mut changed = topics(&["T1", "T2", "T3"], 6);
    changed[1].write_queue_nums = 8;
    let r = m
        .register_broker(reg("a", 0, "10.0.0.1:1", 3, changed), opts(), 2)
        .unwrap();
    assert_eq!(r.changed_topics, vec!["T2", "T3"]);
    assert_eq!(m.generation(), g1);

    // Only the perm of one topic changes, under a new data version.
    let mut changed = topics(&["T1", "T2", "T3"], 6);
    changed[1].write_queue_nums = 8;
    changed[2].perm = 4;
    let r = m
        .register_broker(reg("a", 0, "10.0.0.1:1", 4, changed), opts(), 3)
        .unwrap();
    assert_eq!(r.changed_topics, vec!["T3"]);
    assert_eq!(perm_of(&m, "T3", "a"), Some(4));
    assert_eq!(perm_of(&m, "T1", "a"), Some(6));

    // A slave joining changes the broker's addresses: every topic of it.
    m.register_broker(
        reg("a", 1, "10.0.0.2:1", 3, topics(&["T1", "T2"], 6)),
        opts(),
        3,
    )
    .unwrap();
    assert!(m.generation() > g1);
}

#[test]
fn slave_gets_master_addresses_and_does_not_write_topics() {
    let m = RouteInfoManager::new();
    m.register_broker(
        reg("broker-a", 0, "m:1", 1, topics(&["T1", "T2"], 6)),
        opts(),
        0,
    )
    .unwrap();
    let r = m
        .register_broker(
            reg("broker-a", 1, "s:1", 1, topics(&["T1", "SLAVE_ONLY"], 4)),
            opts(),
            0,
        )
        .unwrap();
    assert_eq!(r.master_addr.as_deref(), Some("m:1"));
    assert_eq!(r.ha_server_addr.as_deref(), Some("m:1-ha"));
    assert_eq!(perm_of(&m, "T1", "broker-a"), Some(6));
    assert!(m.pickup_route("SLAVE_ONLY", opts()).is_none());
    let route = m.pickup_route("T1", opts()).unwrap();
    assert_eq!(route.broker_datas[0].broker_addrs.len(), 2);
}

#[test]
fn slave_without_live_master_gets_no_master_addr() {
    let m = RouteInfoManager::new();
    m.register_broker(
        reg("broker-a", 0, "m:1", 1, topics(&["T1", "T2"], 6)),
        opts(),
        0,
    )
    .unwrap();
    m.unregister_brokers(
        &[UnregisterRequest {
            cluster_name: CLUSTER.into(),
            broker_addr: "m:1".into(),
            broker_name: "broker-a".into(),
            broker_id: 0,
        }],
        opts(),
    );
    let r = m
        .register_broker(
            reg("broker-a", 1, "s:1", 1, topics(&["T1", "T2"], 6)),
            opts(),
            0,
        )
        .unwrap();
    assert_eq!(r.master_addr, None);
}

#[test]
fn topic_config_applies_only_when_data_version_changes() {
    let m = RouteInfoManager::new();
    m.register_broker(
        reg("broker-a", 0, "m:1", 1, topics(&["T1", "T2"], 6)),
        opts(),
        0,
    )
    .unwrap();
    // Same version, different perm: ignored (the broker re-sends unchanged tables every 30 s).
    m.register_broker(
        reg("broker-a", 0, "m:1", 1, topics(&["T1", "T2"], 4)),
        opts(),
        1,
    )
    .unwrap();
    assert_eq!(perm_of(&m, "T1", "broker-a"), Some(6));
    // Same version but a topic we have no queue data for: applied.
    m.register_broker(
        reg("broker-a", 0, "m:1", 1, topics(&["T1", "T3"], 4)),
        opts(),
        2,
    )
    .unwrap();
    assert_eq!(perm_of(&m, "T3", "broker-a"), Some(4));
    assert_eq!(perm_of(&m, "T1", "broker-a"), Some(6));
    // New version: applied.
    m.register_broker(
        reg("broker-a", 0, "m:1", 2, topics(&["T1", "T2"], 4)),
        opts(),
        3,
    )
    .unwrap();
    assert_eq!(perm_of(&m, "T1", "broker-a"), Some(4));
}

#[test]
fn address_change_for_same_id_replaces_the_old_one() {
    let m = RouteInfoManager::new();
    m.register_broker(
        reg("broker-a", 0, "old:1", 1, topics(&["T1", "T2"], 6)),
        opts(),
        0,
    )
    .unwrap();
    m.register_broker(
        reg("broker-a", 0, "new:1", 1, topics(&["T1", "T2"], 6)),
        opts(),
        0,
    )
    .unwrap();
    let route = m.pickup_route("T1", opts()).unwrap();
    assert_eq!(
        route.broker_datas[0].broker_addrs,
        BTreeMap::from([(0, "new:1".to_string())])
    );
}

#[test]
fn promoted_slave_keeps_one_entry_per_address() {
    let m = RouteInfoManager::new();
    m.register_broker(
        reg("broker-a", 0, "m:1", 1, topics(&["T1", "T2"], 6)),
        opts(),
        0,
    )
    .unwrap();
    m.register_broker(
        reg("broker-a", 1, "s:1", 1, topics(&["T1", "T2"], 6)),
        opts(),
        0,
    )
    .unwrap();
    m.register_broker(
        reg("broker-a", 0, "s:1", 2, topics(&["T1", "T2"], 6)),
        opts(),
        0,
    )
    .unwrap();
    let route = m.pickup_route("T1", opts()).unwrap();
    assert_eq!(
        route.broker_datas[0].broker_addrs,
        BTreeMap::from([(0, "s:1".to_string())])
    );
}

#[test]
fn stale_state_version_from_new_address_is_ignored() {
    let m = RouteInfoManager::new();
    let mut first = reg("broker-a", 0, "a:1", 1, topics(&["T1", "T2"], 6));
    first.wrapper.data_version.state_version = 5;
    m.register_broker(first, opts(), 0).unwrap();
    let mut stale = reg("broker-a", 0, "b:1", 1, topics(&["T1", "T2"], 6));
    stale.wrapper.data_version.state_version = 4;
    let r = m.register_broker(stale, opts(), 0).unwrap();
    assert_eq!(r, RegisterResult::default());
    let route = m.pickup_route("T1", opts()).unwrap();
    assert_eq!(route.broker_datas[0].broker_addrs[&0], "a:1");
    assert_eq!(m.live_broker_count(), 1);
}

#[test]
fn single_topic_registration_before_full_is_refused_without_leftovers() {
    let m = RouteInfoManager::new();
    let err = m
        .register_broker(reg("broker-a", 0, "a:1", 1, topics(&["T1"], 6)), opts(), 0)
        .unwrap_err();
    let RegisterError::Refused(refused) = err else {
        panic!("{err:?}");
    };
    assert_eq!(refused.broker_id, 0);
    assert!(m.cluster_info().broker_addr_table.is_empty());
    assert!(m.cluster_info().cluster_addr_table.is_empty());
    // After the full registration a single-topic one is accepted.
    m.register_broker(
        reg("broker-a", 0, "a:1", 1, topics(&["T1", "T2"], 6)),
        opts(),
        0,
    )
    .unwrap();
    m.register_broker(reg("broker-a", 0, "a:1", 2, topics(&["T9"], 6)), opts(), 0)
        .unwrap();
    assert!(m.pickup_route("T9", opts()).is_some());
}

#[test]
fn unregister_removes_group_cluster_and_orphan_topics() {
    let m = RouteInfoManager::new();
    m.register_broker(
        reg("broker-a", 0, "a:1", 1, topics(&["T1", "SHARED"], 6)),
        opts(),
        0,
    )
    .unwrap();
    m.register_broker(
        reg("broker-b", 0, "b:1", 1, topics(&["T2", "SHARED"], 6)),
        opts(),
        0,
    )
    .unwrap();
    m.unregister_brokers(
        &[UnregisterRequest {
            cluster_name: CLUSTER.into(),
            broker_addr: "a:1".into(),
            broker_name: "broker-a".into(),
            broker_id: 0,
        }],
        opts(),
    );
    assert!(m.pickup_route("T1", opts()).is_none());
    let shared = m.pickup_route("SHARED", opts()).unwrap();
    assert_eq!(shared.queue_datas.len(), 1);
    assert_eq!(&*shared.queue_datas[0].broker_name, "broker-b");
    let info = m.cluster_info();
    assert_eq!(
        info.cluster_addr_table[CLUSTER],
        vec![Arc::from("broker-b")]
    );
    assert!(!info.broker_addr_table.contains_key("broker-a"));

    m.unregister_brokers(
        &[UnregisterRequest {
            cluster_name: CLUSTER.into(),
            broker_addr: "b:1".into(),
            broker_name: "broker-b".into(),
            broker_id: 0,
        }],
        opts(),
    );
    assert!(m.cluster_info().cluster_addr_table.is_empty());
    assert!(m.all_topics().is_empty());
}

#[test]
fn scan_expires_brokers_after_their_own_timeout() {
    let m = RouteInfoManager::new();
    let mut short = reg("broker-a", 0, "a:1", 1, topics(&["T1", "T2"], 6));
    short.heartbeat_timeout_ms = Some(1_000);
    m.register_broker(short, opts(), 10_000).unwrap();
    m.register_broker(
        reg("broker-b", 0, "b:1", 1, topics(&["T3", "T4"], 6)),
        opts(),
        10_000,
    )
    .unwrap();
    assert!(m.scan_not_active(11_000, opts()).0.is_empty());
    let (expired, _) = m.scan_not_active(11_001, opts());
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].addr.broker_addr, "a:1");
    assert_eq!(expired[0].conn, Some(100));
    assert!(m.pickup_route("T1", opts()).is_none());
    // A heartbeat keeps broker-b alive past the default 120 s.
    assert!(m.heartbeat(CLUSTER, "b:1", 100_000));
    assert!(m.scan_not_active(200_000, opts()).0.is_empty());
    assert_eq!(m.scan_not_active(220_001, opts()).0.len(), 1);
    assert!(m.pickup_route("T3", opts()).is_none());
}

#[test]
fn closed_connection_removes_its_broker_at_once() {
    let m = RouteInfoManager::new();
    m.register_broker(
        reg("broker-a", 0, "a:1", 1, topics(&["T1", "T2"], 6)),
        opts(),
        0,
    )
    .unwrap();
    m.register_broker(
        reg("broker-a", 1, "s:1", 1, topics(&["T1", "T2"], 6)),
        opts(),
        0,
    )
    .unwrap();
    assert!(m.on_connection_closed(999, opts()).0.is_empty());
    let (removed, _) = m.on_connection_closed(100, opts());
    assert_eq!(removed, vec![BrokerAddrInfo::new(CLUSTER, "a:1")]);
    let route = m.pickup_route("T1", opts()).unwrap();
    assert_eq!(
        route.broker_datas[0].broker_addrs,
        BTreeMap::from([(1, "s:1".to_string())])
    );
}

#[test]
fn connections_closed_together_are_removed_together() {
    let m = RouteInfoManager::new();
    // Twenty groups, so the removal takes the many-names pass.
    for i in 0..20 {
        let name = format!("broker-{i}");
        let mut r = reg(&name, 0, &format!("{name}:1"), 1, topics(&["T1", "T2"], 6));
        r.conn = Some(1000 + i);
        m.register_broker(r, opts(), 0).unwrap();
    }
    // Nineteen closed while another caller held the lock: the next caller
    // removes them with its own, and theirs then find nothing left to do.
    m.closed.lock().extend(1001..1020);
    let (removed, _) = m.on_connection_closed(1000, opts());
    assert_eq!(removed.len(), 20);
    assert!(m.on_connection_closed(1001, opts()).0.is_empty());
    assert!(m.closed.lock().is_empty());
    assert_eq!(m.pickup_route("T1", opts()), None);
    assert!(m.cluster_info().broker_addr_table.is_empty());
}

#[test]
fn query_data_version_reports_change_and_refreshes() {
    let m = RouteInfoManager::new();
    let r = reg("broker-a", 0, "a:1", 3, topics(&["T1", "T2"], 6));
    let version = r.wrapper.data_version;
    m.register_broker(r, opts(), 0).unwrap();
    assert_eq!(
        m.query_data_version(CLUSTER, "a:1", Some(&version), 119_000),
        (false, Some(version))
    );
    let other = DataVersion {
        counter: 4,
        ..version
    };
    assert!(
        m.query_data_version(CLUSTER, "a:1", Some(&other), 119_000)
            .0
    );
    assert!(m.scan_not_active(200_000, opts()).0.is_empty());
    assert_eq!(
        m.query_data_version(CLUSTER, "x:1", Some(&version), 0),
        (true, None)
    );
}

#[test]
fn acting_master_strips_write_and_reports_min_slave_as_master() {
    let m = RouteInfoManager::new();
    let acting = RouteOptions {
        support_acting_master: true,
        ..opts()
    };
    let mut master = reg("broker-a", 0, "m:1", 1, topics(&["T1", "T2"], 6));
    master.enable_acting_master = Some(true);
    m.register_broker(master, acting, 0).unwrap();
    let mut slave = reg("broker-a", 1, "s:1", 1, topics(&["T1", "T2"], 6));
    slave.enable_acting_master = Some(true);
    m.register_broker(slave.clone(), acting, 0).unwrap();
    m.unregister_brokers(
        &[UnregisterRequest {
            cluster_name: CLUSTER.into(),
            broker_addr: "m:1".into(),
            broker_name: "broker-a".into(),
            broker_id: 0,
        }],
        acting,
    );
    // Master gone: queues lose write perm; the route names the slave as id 0.
    let route = m.pickup_route("T1", acting).unwrap();
    assert_eq!(route.queue_datas[0].perm, 4);
    assert_eq!(
        route.broker_datas[0].broker_addrs,
        BTreeMap::from([(0, "s:1".to_string())])
    );
    // Without supportActingMaster the real id is reported.
    let plain = m.pickup_route("T1", opts()).unwrap();
    assert_eq!(
        plain.broker_datas[0].broker_addrs,
        BTreeMap::from([(1, "s:1".to_string())])
    );
    // The prime slave's own registration is applied read-only.
    slave.wrapper.data_version.counter = 2;
    slave.wrapper.topics = topics(&["T1", "T5"], 6).into_iter().collect();
    m.register_broker(slave, acting, 0).unwrap();
    assert_eq!(perm_of(&m, "T5", "broker-a"), Some(4));
}

#[test]
fn min_broker_id_change_produces_notice_when_enabled() {
    let m = RouteInfoManager::new();
    let notify = RouteOptions {
        notify_min_broker_id_changed: true,
        ..opts()
    };
    let mut slave = reg("broker-a", 1, "s:1", 1, topics(&["T1", "T2"], 6));
    slave.enable_acting_master = Some(true);
    m.register_broker(slave, notify, 0).unwrap();
    let mut master = reg("broker-a", 0, "m:1", 1, topics(&["T1", "T2"], 6));
    master.enable_acting_master = Some(true);
    let r = m.register_broker(master, notify, 0).unwrap();
    let notice = r.notice.unwrap();
    assert_eq!(
        (notice.min_broker_id, notice.min_broker_addr.as_str()),
        (0, "m:1")
    );
    assert_eq!(notice.targets, vec!["s:1".to_string()]);
    let notices = m.unregister_brokers(
        &[UnregisterRequest {
            cluster_name: CLUSTER.into(),
            broker_addr: "m:1".into(),
            broker_name: "broker-a".into(),
            broker_id: 0,
        }],
        notify,
    );
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].offline_broker_addr.as_deref(), Some("m:1"));
    assert_eq!(notices[0].targets, vec!["s:1".to_string()]);
}

#[test]
fn delete_topic_with_broker_registration_drops_unlisted_topics() {
    let m = RouteInfoManager::new();
    let del = RouteOptions {
        delete_topic_with_broker_registration: true,
        ..opts()
    };
    m.register_broker(
        reg("broker-a", 0, "a:1", 1, topics(&["T1", "T2"], 6)),
        del,
        0,
    )
    .unwrap();
    m.register_broker(
        reg("broker-a", 0, "a:1", 2, topics(&["T1", "T3"], 6)),
        del,
        0,
    )
    .unwrap();
    assert!(m.pickup_route("T2", del).is_none());
    assert!(m.pickup_route("T3", del).is_some());
}

/// A 5.x broker with `enableSplitRegistration` sends its table in batches
/// of one data version: no batch takes away what another carried, and a
/// topic the broker dropped goes one round later.
#[test]
fn delete_topic_with_broker_registration_keeps_split_batches() {
    let m = RouteInfoManager::new();
    let del = RouteOptions {
        delete_topic_with_broker_registration: true,
        ..opts()
    };
    let batch = |version, names: &[&str]| {
        m.register_broker(reg("broker-a", 0, "a:1", version, topics(names, 6)), del, 0)
            .unwrap();
    };
    let routed = |topic: &str| m.pickup_route(topic, del).is_some();
    // Round 1 (version 1): three batches.
    batch(1, &["T1", "T2"]);
    batch(1, &["T3", "T4"]);
    batch(1, &["T5"]);
    assert!(["T1", "T2", "T3", "T4", "T5"].iter().all(|t| routed(t)));
    // Round 2: the broker dropped T4 (new data version); its first batch
    // takes nothing away, nor do the next ones.
    batch(2, &["T1", "T2"]);
    assert!(["T1", "T2", "T3", "T4", "T5"].iter().all(|t| routed(t)));
    batch(2, &["T3", "T5"]);
    assert!(["T1", "T2", "T3", "T4", "T5"].iter().all(|t| routed(t)));
    // The rounds of the next period (same version, past the round window)
    // find T4 missing from the whole previous round: it goes.
    let rounds_apart = |m: &RouteInfoManager| {
        let mut t = m.tables.write();
        if let Some(r) = t.rounds.get_mut("broker-a") {
            r.started -= ROUND_WINDOW;
        }
    };
    rounds_apart(&m);
    batch(2, &["T1", "T2"]);
    assert!(!routed("T4"));
    assert!(["T1", "T2", "T3", "T5"].iter().all(|t| routed(t)));
    batch(2, &["T3", "T5"]);
    assert!(["T1", "T2", "T3", "T5"].iter().all(|t| routed(t)));
}

#[test]
fn perm_and_topic_list_operations() {
    let m = RouteInfoManager::new();
    m.register_broker(
        reg("broker-a", 0, "a:1", 1, topics(&["T1", "T2"], 6)),
        opts(),
        0,
    )
    .unwrap();
    assert_eq!(m.wipe_write_perm("broker-a"), 2);
    assert_eq!(perm_of(&m, "T1", "broker-a"), Some(4));
    assert_eq!(m.add_write_perm("broker-a"), 2);
    assert_eq!(perm_of(&m, "T1", "broker-a"), Some(6));
    assert_eq!(m.wipe_write_perm("nobody"), 0);
    assert_eq!(m.all_topics(), vec!["T1".to_string(), "T2".to_string()]);
    assert_eq!(m.topics_by_cluster(CLUSTER), m.all_topics());
    assert!(m.topics_by_cluster("other").is_empty());
    let (sys, addr) = m.system_topics();
    assert_eq!(sys, vec![CLUSTER.to_string(), "broker-a".to_string()]);
    assert_eq!(addr.as_deref(), Some("a:1"));
    m.delete_topic("T1", Some("other"));
    assert!(m.pickup_route("T1", opts()).is_some());
    m.delete_topic("T1", Some(CLUSTER));
    assert!(m.pickup_route("T1", opts()).is_none());
    m.delete_topic("T2", None);
    assert!(m.all_topics().is_empty());
    let q = QueueData {
        broker_name: Arc::from("broker-a"),
        read_queue_nums: 2,
        write_queue_nums: 2,
        perm: 6,
        topic_sys_flag: FLAG_UNIT,
    };
    assert!(m.register_topic("U1", vec![q.clone()]));
    assert!(!m.register_topic(
        "U2",
        vec![QueueData {
            broker_name: Arc::from("ghost"),
            ..q
        }]
    ));
    assert_eq!(m.unit_topics(), vec!["U1".to_string()]);
    assert!(m.has_unit_sub_topics().is_empty());
}

fn fingerprinted(
    name: &str,
    id: i64,
    addr: &str,
    body: &str,
) -> (BrokerRegistration, RegistrationFingerprint) {
    let mut fields = BTreeMap::new();
    fields.insert("brokerName".to_string(), name.to_string());
    let crc = RegisterBodyCrc::of(body.as_bytes());
    let fingerprint = RegistrationFingerprint::new(&fields, 479, body.as_bytes(), crc);
    let mut r = reg(name, id, addr, 1, topics(&["T1", "T2"], 6));
    r.fingerprint = Some(fingerprint.clone());
    (r, fingerprint)
}

fn unchanged(
    m: &RouteInfoManager,
    name: &str,
    id: i64,
    addr: &str,
    fingerprint: &RegistrationFingerprint,
    now_ms: i64,
) -> Option<RegisterResult> {
    let key = RegistrationId {
        cluster_name: CLUSTER,
        broker_addr: addr,
        broker_name: name,
        broker_id: id,
        conn: id as u64 + 100,
    };
    m.refresh_unchanged(&key, |stored| stored == fingerprint, opts(), now_ms)
}

#[test]
fn a_repeated_registration_only_refreshes_liveness() {
    let m = RouteInfoManager::new();
    let (first, fp) = fingerprinted("broker-a", 0, "10.0.0.1:10911", "seven");
    m.register_broker(first, opts(), 0).unwrap();
    let refreshed = unchanged(&m, "broker-a", 0, "10.0.0.1:10911", &fp, 100_000);
    assert_eq!(refreshed, Some(RegisterResult::default()));
    // Liveness moved to 100 s: alive at 200 s with the 120 s default timeout.
    assert!(m.scan_not_active(200_000, opts()).0.is_empty());

    let (_, other_body) = fingerprinted("broker-a", 0, "10.0.0.1:10911", "eight");
    assert!(unchanged(&m, "broker-a", 0, "10.0.0.1:10911", &other_body, 1).is_none());
    assert!(unchanged(&m, "broker-a", 0, "10.0.0.9:10911", &fp, 1).is_none());
    let other_conn = RegistrationId {
        cluster_name: CLUSTER,
        broker_addr: "10.0.0.1:10911",
        broker_name: "broker-a",
        broker_id: 0,
        conn: 999,
    };
    assert!(m
        .refresh_unchanged(&other_conn, |stored| *stored == fp, opts(), 1)
        .is_none());
    let acting = RouteOptions {
        support_acting_master: true,
        ..opts()
    };
    let same = RegistrationId {
        conn: 100,
        ..other_conn
    };
    assert!(m
        .refresh_unchanged(&same, |stored| *stored == fp, acting, 1)
        .is_none());
    assert!(m.refresh_unchanged(&same, |_| false, opts(), 1).is_none());
    assert!(m
        .refresh_unchanged(&same, |stored| *stored == fp, opts(), 1)
        .is_some());
}

#[test]
fn any_table_change_sends_the_next_registration_down_the_full_path() {
    let m = RouteInfoManager::new();
    let (first, fp) = fingerprinted("broker-a", 0, "10.0.0.1:10911", "seven");
    m.register_broker(first, opts(), 0).unwrap();
    m.delete_topic("T1", None);
    // The full path would put T1 back; the fast path must not hide that.
    assert!(unchanged(&m, "broker-a", 0, "10.0.0.1:10911", &fp, 1).is_none());
    let (again, _) = fingerprinted("broker-a", 0, "10.0.0.1:10911", "seven");
    let r = m.register_broker(again, opts(), 2).unwrap();
    assert_eq!(r.changed_topics, vec!["T1".to_string()]);
    assert!(unchanged(&m, "broker-a", 0, "10.0.0.1:10911", &fp, 3).is_some());
}

#[test]
fn a_repeated_slave_registration_is_answered_with_its_master() {
    let m = RouteInfoManager::new();
    m.register_broker(
        reg("broker-a", 0, "10.0.0.1:10911", 1, topics(&["T1", "T2"], 6)),
        opts(),
        0,
    )
    .unwrap();
    let (slave, fp) = fingerprinted("broker-a", 1, "10.0.0.2:10911", "seven");
    m.register_broker(slave, opts(), 0).unwrap();
    let r = unchanged(&m, "broker-a", 1, "10.0.0.2:10911", &fp, 1).unwrap();
    assert_eq!(r.master_addr.as_deref(), Some("10.0.0.1:10911"));
    assert_eq!(r.ha_server_addr.as_deref(), Some("10.0.0.1:10911-ha"));
}

/// What the known-runs shortcut must never change: every answer and every
/// route, with and without it, over any sequence of registrations and of
/// the other requests that change queue data.
mod applied_runs {
    use super::*;
    use proptest::prelude::*;

    const NAMES: [&str; 2] = ["broker-a", "broker-b"];

    #[derive(Debug, Clone)]
    enum Op {
        /// One of the few tables, edited, so that runs repeat.
        Register {
            name: usize,
            id: i64,
            counter: i64,
            acting_master: bool,
            table: usize,
            edit: Edit,
        },
        Wipe(usize),
        AddPerm(usize),
        DeleteTopic(usize, bool),
        RegisterTopic(usize, usize),
        Unregister(usize, i64),
    }

    /// What changes in a table between two registrations of a broker.
    #[derive(Debug, Clone)]
    enum Edit {
        None,
        /// The perm of the topic at this index.
        Perm(prop::sample::Index),
        Remove(prop::sample::Index),
        /// A topic (maybe one the table has) at this index.
        Insert(usize, prop::sample::Index),
        /// The topic at the first index named again at the second, with
        /// other queue counts.
        Twice(prop::sample::Index, prop::sample::Index),
        /// Only the topic at this index, its perm changed (as a Java broker
        /// registers the one topic `updateTopic` changed).
        Only(prop::sample::Index),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        use prop::sample::Index;
        prop_oneof![
            2 => Just(Edit::None),
            2 => any::<Index>().prop_map(Edit::Perm),
            1 => any::<Index>().prop_map(Edit::Remove),
            1 => (0usize..TOPICS, any::<Index>()).prop_map(|(t, at)| Edit::Insert(t, at)),
            1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Twice(a, b)),
            2 => any::<Index>().prop_map(Edit::Only),
        ]
    }

    fn edited(table: &Table, edit: &Edit) -> Table {
        let mut t = table.clone();
        match edit {
            _ if t.is_empty() => {}
            Edit::None => {}
            Edit::Perm(i) => {
                let i = i.index(t.len());
                t[i].2 ^= PERM_WRITE;
            }
            Edit::Remove(i) => {
                t.remove(i.index(t.len()));
            }
            Edit::Insert(topic, at) => t.insert(at.index(t.len() + 1), (*topic, 2, 6)),
            Edit::Twice(from, at) => {
                let (topic, q, perm) = t[from.index(t.len())];
                t.insert(at.index(t.len() + 1), (topic, q % 2 + 1, perm));
            }
            Edit::Only(i) => {
                let (topic, q, perm) = t[i.index(t.len())];
                t = vec![(topic, q, perm ^ PERM_WRITE)];
            }
        }
        t
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            // Mostly the first table, so that bodies repeat runs of the last.
            24 => (0usize..2, 0i64..2, 1i64..4, any::<bool>(), prop_oneof![3 => Just(0usize), 1 => 1usize..3], edit()).prop_map(
                |(name, id, counter, acting_master, table, edit)| Op::Register { name, id, counter, acting_master, table, edit }
            ),
            1 => (0usize..2).prop_map(Op::Wipe),
            1 => (0usize..2).prop_map(Op::AddPerm),
            1 => (0usize..TOPICS, any::<bool>()).prop_map(|(t, c)| Op::DeleteTopic(t, c)),
            1 => (0usize..TOPICS, 0usize..2).prop_map(|(t, n)| Op::RegisterTopic(t, n)),
            1 => (0usize..2, 0i64..2).prop_map(|(n, id)| Op::Unregister(n, id)),
        ]
    }

    fn addr(name: usize, id: i64) -> String {
        format!("10.0.{name}.{id}:10911")
    }

    /// Applies `op`; what it answered, in a comparable form.
    type Table = Vec<(usize, i32, i32)>;

    const TOPICS: usize = 300;

    /// Each topic once, as brokers send them (edits may name one twice).
    fn table() -> impl Strategy<Value = Table> {
        prop::collection::btree_map(
            0usize..TOPICS,
            (1i32..3, prop::sample::select(vec![2, 4, 6])),
            0..250,
        )
        .prop_map(|topics| topics.into_iter().map(|(t, (q, p))| (t, q, p)).collect())
    }

    /// A broker's JSON body of `configs`, as a Java broker writes it.
    fn json_body(counter: i64, configs: &[TopicConfig]) -> Vec<u8> {
        let entries: Vec<String> = configs
            .iter()
            .map(|c| {
                format!(
                    r#""{n}":{{"attributes":{{}},"order":false,"perm":{p},"readQueueNums":{r},"topicFilterType":"SINGLE_TAG","topicName":"{n}","topicSysFlag":0,"writeQueueNums":{w}}}"#,
                    n = c.topic_name,
                    p = c.perm,
                    r = c.read_queue_nums,
                    w = c.write_queue_nums
                )
            })
            .collect();
        format!(
            r#"{{"filterServerList":[],"topicConfigSerializeWrapper":{{"dataVersion":{{"counter":{counter},"stateVersion":0,"timestamp":1}},"topicConfigTable":{{{}}},"topicQueueMappingInfoMap":{{}}}}}}"#,
            entries.join(",")
        )
        .into_bytes()
    }

    /// Registers `body` as the REGISTER_BROKER handler does: a master's
    /// body read against its last layout when `layouts`, in full otherwise
    /// and when the table changed meanwhile.
    fn register_json(
        m: &RouteInfoManager,
        template: &BrokerRegistration,
        body: &[u8],
        o: RouteOptions,
        layouts: bool,
    ) -> Result<RegisterResult, RegisterError> {
        use crate::route::register_body::{decode_with, Layout};
        let mut against = layouts && !o.delete_topic_with_broker_registration;
        loop {
            let last = against
                .then(|| m.last_layout(&template.broker_name, template.broker_id))
                .flatten();
            let layout = match (&last, layouts && template.broker_id == MASTER_ID) {
                (_, false) => Layout::Skip,
                (None, true) => Layout::Make,
                (Some(a), true) => a.layout.as_ref().map_or(Layout::Make, Layout::ReadAgainst),
            };
            let d = decode_with(body, false, 479, 1 << 24, layout).unwrap();
            let mut r = template.clone();
            r.wrapper = d.body.wrapper;
            r.layout = d.layout;
            r.reused = match (last, d.reused_topics) {
                (Some(from), Some(topics)) => Some(Reused { from, topics }),
                _ => None,
            };
            match m.register_broker(r, o, 1) {
                Err(RegisterError::Stale) => against = false,
                other => return other,
            }
        }
    }

    fn apply(m: &RouteInfoManager, op: &Op, tables: &[Table], o: RouteOptions) -> String {
        match op {
            Op::Register {
                name,
                id,
                counter,
                acting_master,
                table,
                edit,
            } => {
                let configs: Vec<TopicConfig> = edited(&tables[*table], edit)
                    .into_iter()
                    .map(|(t, q, perm)| TopicConfig {
                        topic_name: format!("T{t}"),
                        read_queue_nums: q,
                        write_queue_nums: q,
                        perm,
                        ..TopicConfig::default()
                    })
                    .collect();
                let mut r = reg(NAMES[*name], *id, &addr(*name, *id), *counter, Vec::new());
                r.enable_acting_master = Some(*acting_master);
                let layouts = !m.forget_applied;
                match register_json(m, &r, &json_body(*counter, &configs), o, layouts) {
                    Ok(mut res) => {
                        res.changed_topics.sort();
                        res.changed_topics.dedup();
                        format!("{res:?}")
                    }
                    Err(e) => format!("refused {e}"),
                }
            }
            Op::Wipe(n) => m.wipe_write_perm(NAMES[*n]).to_string(),
            Op::AddPerm(n) => m.add_write_perm(NAMES[*n]).to_string(),
            Op::DeleteTopic(t, cluster) => {
                m.delete_topic(&format!("T{t}"), cluster.then_some(CLUSTER));
                String::new()
            }
            Op::RegisterTopic(t, n) => m
                .register_topic(
                    &format!("T{t}"),
                    vec![QueueData {
                        broker_name: NAMES[*n].into(),
                        read_queue_nums: 3,
                        write_queue_nums: 3,
                        perm: 6,
                        topic_sys_flag: 0,
                    }],
                )
                .to_string(),
            Op::Unregister(n, id) => format!(
                "{:?}",
                m.unregister_brokers(
                    &[UnregisterRequest {
                        cluster_name: CLUSTER.into(),
                        broker_addr: addr(*n, *id),
                        broker_name: NAMES[*n].into(),
                        broker_id: *id,
                    }],
                    o,
                )
            ),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn known_runs_change_no_answer_and_no_route(
            tables in prop::collection::vec(table(), 3),
            ops in prop::collection::vec(op(), 1..40),
            delete_with_registration in any::<bool>(),
            acting in any::<bool>(),
        ) {
            let o = RouteOptions {
                support_acting_master: acting,
                delete_topic_with_broker_registration: delete_with_registration,
                notify_min_broker_id_changed: true,
            };
            let with = RouteInfoManager::new();
            let without = RouteInfoManager { forget_applied: true, ..RouteInfoManager::new() };
            for op in &ops {
                prop_assert_eq!(apply(&with, op, &tables, o), apply(&without, op, &tables, o), "{:?}", op);
                for t in 0..TOPICS {
                    let topic = format!("T{t}");
                    prop_assert_eq!(with.pickup_route(&topic, o), without.pickup_route(&topic, o), "{}", topic);
                }
            }
        }
    }

    fn configs(range: std::ops::Range<usize>, perm: i32) -> Vec<TopicConfig> {
        range
            .map(|i| TopicConfig {
                topic_name: format!("T{i}"),
                read_queue_nums: 4,
                write_queue_nums: 4,
                perm,
                ..TopicConfig::default()
            })
            .collect()
    }

    fn read_against(last: &AppliedTopics, body: &[u8]) -> crate::route::register_body::Decoded {
        use crate::route::register_body::{decode_with, Layout};
        let layout = last.layout.as_ref().unwrap();
        decode_with(body, false, 479, 1 << 24, Layout::ReadAgainst(layout)).unwrap()
    }

    #[test]
    fn a_changed_body_is_read_against_the_last_and_applied_alike() {
        let m = RouteInfoManager::new();
        let a = reg("broker-a", 0, "10.0.0.1:10911", 1, Vec::new());
        let first = json_body(1, &configs(0..3000, 6));
        register_json(&m, &a, &first, opts(), true).unwrap();
        let last = m.last_layout("broker-a", 0).unwrap();
        assert_eq!(last.layout.as_ref().unwrap().topics(), 3000);
        // A slave gets no layout; nor a master whose entry was wiped.
        assert!(m.last_layout("broker-a", 1).is_none());

        let mut changed = configs(0..3000, 6);
        changed[1234].write_queue_nums = 8;
        changed.push(configs(9000..9001, 6).remove(0));
        let body = json_body(2, &changed);
        let d = read_against(&last, &body);
        let reused = d.reused_topics.unwrap();
        assert!(
            d.body.wrapper.topics.len() <= 2 * 128,
            "{} read",
            d.body.wrapper.topics.len()
        );
        assert_eq!(reused + d.body.wrapper.topics.len(), 3001);
        let r = register_json(&m, &a, &body, opts(), true).unwrap();
        let mut names = r.changed_topics.clone();
        names.sort();
        assert_eq!(names, ["T1234", "T9000"]);
        let route = m.pickup_route("T1234", opts()).unwrap();
        assert_eq!(route.queue_datas[0].write_queue_nums, 8);
        assert!(m.pickup_route("T9000", opts()).is_some());
        assert_eq!(
            m.last_layout("broker-a", 0)
                .unwrap()
                .layout
                .as_ref()
                .unwrap()
                .topics(),
            3001
        );
    }

    #[test]
    fn a_body_read_against_a_layout_replaced_meanwhile_is_refused_as_stale() {
        let m = RouteInfoManager::new();
        let a = reg("broker-a", 0, "10.0.0.1:10911", 1, Vec::new());
        register_json(&m, &a, &json_body(1, &configs(0..500, 6)), opts(), true).unwrap();
        let last = m.last_layout("broker-a", 0).unwrap();
        let body = json_body(2, &configs(0..500, 6));
        let d = read_against(&last, &body);
        assert_eq!(d.reused_topics, Some(500));
        // Another writer between the read and the registration.
        m.wipe_write_perm("broker-a");
        let mut r = a.clone();
        r.wrapper = d.body.wrapper;
        r.reused = Some(Reused {
            from: last,
            topics: 500,
        });
        assert_eq!(m.register_broker(r, opts(), 2), Err(RegisterError::Stale));
        assert_eq!(perm_of(&m, "T7", "broker-a"), Some(4), "nothing applied");
        // Read in full instead, it restores the write perm.
        register_json(&m, &a, &body, opts(), true).unwrap();
        assert_eq!(perm_of(&m, "T7", "broker-a"), Some(6));
    }

    #[test]
    fn a_new_data_version_with_the_same_topics_looks_none_up_again() {
        let m = RouteInfoManager::new();
        let names: Vec<String> = (0..500).map(|i| format!("T{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let first = reg("broker-a", 0, "10.0.0.1:10911", 1, topics(&names, 6));
        let runs = TopicRuns::of(&first.wrapper.topics);
        m.register_broker(first, opts(), 1).unwrap();
        let again = reg("broker-a", 0, "10.0.0.1:10911", 2, topics(&names, 6));
        let current = current_queue_perms(&m.tables.read(), &again, &runs);
        assert!(current.iter().all(|c| *c == Current::Written));
        let r = m.register_broker(again, opts(), 2).unwrap();
        assert!(r.changed_topics.is_empty());
        // Another group's data changed by hand: its runs are forgotten.
        m.wipe_write_perm("broker-a");
        let third = reg("broker-a", 0, "10.0.0.1:10911", 3, topics(&names, 6));
        let current = current_queue_perms(&m.tables.read(), &third, &runs);
        assert!(current
            .iter()
            .all(|c| matches!(c, Current::Perm(4, Some(Ok(0))))));
        let r = m.register_broker(third, opts(), 3).unwrap();
        assert_eq!(r.changed_topics.len(), 500);
        assert_eq!(perm_of(&m, "T7", "broker-a"), Some(6));
    }
}
