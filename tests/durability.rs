//! A crash loses nothing acknowledged: kill -9 during a stream of PUT_KV_CONFIG.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;

#[test]
fn kill_9_during_put_kv_stream_keeps_every_acknowledged_entry() {
    let mut server = Server::start(&[]);
    let acked = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let addr = server.addr;
            let acked = acked.clone();
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                let mut mine = Vec::new();
                for i in 0.. {
                    let key = format!("w{w}-k{i}");
                    let mut req = request(
                        100,
                        &[
                            ("namespace", "CRASH"),
                            ("key", &key),
                            ("value", &format!("v{i}")),
                        ],
                    );
                    req.opaque = c.next_opaque();
                    c.send(&req);
                    match c.recv() {
                        Some(resp) if resp.code == 0 => {
                            mine.push(key);
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => break,
                    }
                }
                mine
            })
        })
        .collect();
    eventually(Duration::from_secs(30), "200 acknowledged puts", || {
        acked.load(Ordering::SeqCst) >= 200
    });
    unsafe_kill(server.child.id(), "KILL");
    let acknowledged: Vec<String> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(acknowledged.len() >= 200);

    let text = std::fs::read(server.path("kvConfig.json")).unwrap();
    let table = namesrv::json::read::parse(&text).expect("kvConfig.json is whole after kill -9");
    for key in &acknowledged {
        assert!(
            table["configTable"]["CRASH"].get(key).is_some(),
            "acknowledged {key} lost"
        );
    }
    let _ = server.child.wait();

    // And namesrv loads it again.
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().unwrap());
    drop(server);
    let server = Server::start_in(dir, &[]);
    let mut c = server.client();
    let resp = c.call(request(
        101,
        &[("namespace", "CRASH"), ("key", &acknowledged[0])],
    ));
    assert_eq!(resp.code, 0);
}
