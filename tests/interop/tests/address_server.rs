//! Issue 24 item 3: a Java 5.5.0 client given only
//! `rocketmq.namesrv.domain` (no NameServer address) finds our NameServer
//! through the address server on our HTTP port, as Java's TopAddressing
//! does, and talks to it.

use namesrv_interop::*;

#[test]
fn java_mqadmin_finds_our_name_server_through_the_address_server() {
    let dir = tempfile::tempdir().unwrap();
    let ours = Namesrv::start_with_http(&dir.path().join("ours"), &[]);
    let http = ours.http.expect("HTTP listener");
    let out = mqadmin_with(
        JavaVersion::V5_5_0,
        &dir.path().join("tool"),
        &[("rocketmq.namesrv.domain", &http.to_string())],
        &["getNamesrvConfig"],
    );
    assert!(out.status.success(), "{}\n{}", out.stdout, out.stderr);
    // getNamesrvConfig prints each NameServer the client knows, then its
    // configuration: ours was found, and answered.
    assert!(
        out.stdout.contains(&ours.addr.to_string()),
        "our address not in the output:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(out.stdout.contains("httpListenPort"), "{}", out.stdout);
}
