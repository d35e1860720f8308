//! TLS on the client port (`tls.server.mode`), with real TLS clients: rustls
//! and the `openssl s_client` command.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use common::{register_body, register_request, request, route_request, Harness, InProcess, Server};
use namesrv::remoting::codec::{encode_frame, RemotingCodec};
use namesrv::remoting::{RemotingCommand, RequestCode, ResponseCode};
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_util::codec::Decoder;

/// A server certificate for "localhost" and its key, as PEM files in `dir`.
struct Pem {
    cert: PathBuf,
    key: PathBuf,
    der: CertificateDer<'static>,
}

fn self_signed(dir: &Path, name: &str) -> Pem {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = dir.join(format!("{name}-cert.pem"));
    let key = dir.join(format!("{name}-key.pem"));
    std::fs::write(&cert, generated.cert.pem()).unwrap();
    std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
    Pem {
        cert,
        key,
        der: generated.cert.der().clone(),
    }
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(
    trusted: &CertificateDer<'static>,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted.clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    Arc::new(match identity {
        Some((certs, key)) => builder.with_client_auth_cert(certs, key).unwrap(),
        None => builder.with_no_client_auth(),
    })
}

/// Reads one response frame from `stream`; `Err` on close, reset or a TLS error.
fn read_frame(stream: &mut impl Read) -> Result<RemotingCommand, String> {
    let mut codec = RemotingCodec::new(1 << 20);
    let mut buf = BytesMut::new();
    loop {
        if let Some(cmd) = codec.decode(&mut buf).map_err(|e| e.to_string())? {
            return Ok(cmd);
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk) {
            Ok(0) => return Err("closed".into()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// One request over a rustls connection: handshake, send, read the answer.
fn tls_call(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    cmd: &RemotingCommand,
) -> Result<RemotingCommand, String> {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(&encode_frame(cmd))
        .and_then(|_| tls.flush())
        .map_err(|e| e.to_string())?;
    read_frame(&mut tls)
}

fn plain_call(addr: SocketAddr, cmd: &RemotingCommand) -> Result<RemotingCommand, String> {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.write_all(&encode_frame(cmd))
        .map_err(|e| e.to_string())?;
    read_frame(&mut tcp)
}

fn probe() -> RemotingCommand {
    let mut cmd = route_request("NoSuchTopic");
    cmd.opaque = 7;
    cmd
}

fn assert_answered(result: Result<RemotingCommand, String>, how: &str) {
    let resp = result.unwrap_or_else(|e| panic!("{how}: no answer: {e}"));
    assert!(resp.is_response(), "{how}");
    assert_eq!(resp.opaque, 7, "{how}");
    assert_eq!(resp.code, ResponseCode::TOPIC_NOT_EXIST.value(), "{how}");
}

fn start<H: Harness>(dir: tempfile::TempDir, pem: &Pem, mode: &str, extra: &[(&str, &str)]) -> H {
    let cert = path(&pem.cert);
    let key = path(&pem.key);
    let missing = path(&dir.path().join("no-tls.properties"));
    let mut props = vec![
        ("tls.server.mode", mode),
        ("tls.test.mode.enable", "false"),
        ("tls.server.certPath", cert.as_str()),
        ("tls.server.keyPath", key.as_str()),
        // Keep a machine-wide /etc/rocketmq/tls.properties out of the test.
        ("tls.config.file", missing.as_str()),
    ];
    props.extend_from_slice(extra);
    H::start_in(dir, &props)
}

#[test]
fn permissive_serves_tls_and_plaintext_on_one_port() {
    let dir = tempfile::tempdir().unwrap();
    let pem = self_signed(dir.path(), "server");
    let server: InProcess = start(dir, &pem, "permissive", &[]);
    let config = client_config(&pem.der, None);
    assert_answered(tls_call(server.addr, config.clone(), &probe()), "TLS");
    assert_answered(plain_call(server.addr, &probe()), "plaintext");

    // State is shared across both: a KV put over TLS is read over plaintext.
    let mut put = request(
        RequestCode::PUT_KV_CONFIG.value(),
        &[("namespace", "NS"), ("key", "k"), ("value", "over-tls")],
    );
    put.opaque = 7;
    let resp = tls_call(server.addr, config, &put).unwrap();
    assert_eq!(resp.code, ResponseCode::SUCCESS.value());
    let get = request(
        RequestCode::GET_KV_CONFIG.value(),
        &[("namespace", "NS"), ("key", "k")],
    );
    let resp = server.client().call(get);
    assert_eq!(
        resp.ext_fields.get("value").map(String::as_str),
        Some("over-tls")
    );
}

#[test]
fn large_registrations_over_tls_stay_in_step() {
    let dir = tempfile::tempdir().unwrap();
    let pem = self_signed(dir.path(), "server");
    let server: InProcess = start(dir, &pem, "enforcing", &[]);
    let tcp = TcpStream::connect(server.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(client_config(&pem.der, None), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    // Large enough to come head first: the first is read whole, the
    // repeat's rest is dropped unread (through TLS, by reading it).
    let names: Vec<String> = (0..2000).map(|i| format!("Topic{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let body = register_body(1, &names);
    let crc = crc32fast::hash(&body) & 0x7FFF_FFFF;
    let mut reg = register_request("broker-a", 0, "127.0.0.1:10911", body);
    reg.ext_fields.insert("bodyCrc32".into(), crc.to_string());
    let mut lookup = route_request("Topic1999");
    lookup.opaque = 3;
    for (opaque, frame) in [(1, &reg), (2, &reg), (3, &lookup)] {
        let mut frame = frame.clone();
        frame.opaque = opaque;
        tls.write_all(&encode_frame(&frame)).unwrap();
    }
    tls.flush().unwrap();
    // One reader for the three answers: they may arrive in one read.
    let mut codec = RemotingCodec::new(1 << 20);
    let mut buf = BytesMut::new();
    let mut answers = Vec::new();
    while answers.len() < 3 {
        match codec.decode(&mut buf).unwrap() {
            Some(a) => answers.push((a.opaque, a.code)),
            None => {
                let mut chunk = [0u8; 4096];
                let n = tls.read(&mut chunk).unwrap();
                assert!(n > 0, "closed after {answers:?}");
                buf.extend_from_slice(&chunk[..n]);
            }
        }
    }
    assert_eq!(answers, vec![(1, 0), (2, 0), (3, 0)]);
}

#[test]
fn enforcing_refuses_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let pem = self_signed(dir.path(), "server");
    let server: Server = start(dir, &pem, "enforcing", &[]);
    let refused = plain_call(server.addr, &probe());
    assert!(refused.is_err(), "plaintext answered: {refused:?}");
    server.wait_log(
        "plaintext request while tls.server.mode is enforcing",
        Duration::from_secs(10),
    );
    assert_answered(
        tls_call(server.addr, client_config(&pem.der, None), &probe()),
        "TLS",
    );
}

#[test]
fn disabled_refuses_tls_handshakes() {
    let dir = tempfile::tempdir().unwrap();
    let pem = self_signed(dir.path(), "server");
    let server: InProcess = start(dir, &pem, "disabled", &[]);
    let refused = tls_call(server.addr, client_config(&pem.der, None), &probe());
    assert!(refused.is_err(), "TLS answered: {refused:?}");
    assert_answered(plain_call(server.addr, &probe()), "plaintext");
}

/// Java's defaults: permissive, test mode, a self-signed certificate. A
/// client that trusts anything (Java clients in test mode) gets TLS.
#[test]
fn default_test_mode_serves_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let missing = path(&dir.path().join("no-tls.properties"));
    let server = InProcess::start_in(dir, &[("tls.config.file", missing.as_str())]);
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(TrustAnything(provider())))
        .with_no_client_auth();
    assert_answered(tls_call(server.addr, Arc::new(config), &probe()), "TLS");
    assert_answered(plain_call(server.addr, &probe()), "plaintext");
}

#[test]
fn required_client_certificates_are_checked_against_the_trust_file() {
    let dir = tempfile::tempdir().unwrap();
    let pem = self_signed(dir.path(), "server");

    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let trust = dir.path().join("trust.pem");
    std::fs::write(&trust, ca_cert.pem()).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let mut leaf = CertificateParams::new(vec!["client".to_string()]).unwrap();
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let identity = || {
        (
            vec![leaf_cert.der().clone()],
            PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap(),
        )
    };

    let trust = path(&trust);
    let server: InProcess = start(
        dir,
        &pem,
        "enforcing",
        &[
            ("tls.server.need.client.auth", "require"),
            ("tls.server.authClient", "true"),
            ("tls.server.trustCertPath", trust.as_str()),
        ],
    );
    assert_answered(
        tls_call(
            server.addr,
            client_config(&pem.der, Some(identity())),
            &probe(),
        ),
        "trusted client certificate",
    );
    let anonymous = tls_call(server.addr, client_config(&pem.der, None), &probe());
    assert!(anonymous.is_err(), "answered without a client certificate");

    let stranger = rcgen::generate_simple_self_signed(vec!["client".to_string()]).unwrap();
    let stranger_identity = (
        vec![stranger.cert.der().clone()],
        PrivateKeyDer::try_from(stranger.signing_key.serialize_der()).unwrap(),
    );
    let untrusted = tls_call(
        server.addr,
        client_config(&pem.der, Some(stranger_identity)),
        &probe(),
    );
    assert!(
        untrusted.is_err(),
        "answered an untrusted client certificate"
    );
}

#[test]
fn rotated_certificate_files_are_served_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let old = self_signed(dir.path(), "server");
    let server: Server = start(tempfile::tempdir().unwrap(), &old, "enforcing", &[]);
    assert_answered(
        tls_call(server.addr, client_config(&old.der, None), &probe()),
        "old certificate",
    );
    let new = self_signed(dir.path(), "next");
    // Rename over the served paths, as certificate tools do.
    std::fs::rename(&new.key, &old.key).unwrap();
    std::fs::rename(&new.cert, &old.cert).unwrap();
    server.wait_log("reloaded", Duration::from_secs(20));
    assert_answered(
        tls_call(server.addr, client_config(&new.der, None), &probe()),
        "new certificate",
    );
    let stale = tls_call(server.addr, client_config(&old.der, None), &probe());
    assert!(stale.is_err(), "old certificate still served");
}

/// `openssl s_client`, a TLS implementation independent of ours, verifying
/// the server certificate against the CA file and carrying a request.
#[test]
fn openssl_s_client_gets_an_answer() {
    let dir = tempfile::tempdir().unwrap();
    let pem = self_signed(dir.path(), "server");
    let ca_file = pem.cert.clone();
    let server: InProcess = start(dir, &pem, "enforcing", &[]);
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-quiet",
            "-verify_return_error",
            "-servername",
            "localhost",
        ])
        .arg("-connect")
        .arg(server.addr.to_string())
        .arg("-CAfile")
        .arg(&ca_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl is needed for this test (.ci/run installs it)");
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(&encode_frame(&probe()))
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(read_frame(&mut stdout));
    });
    let answer = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("no answer through openssl s_client");
    let _ = child.kill();
    let _ = child.wait();
    assert_answered(answer, "openssl s_client");
}

#[derive(Debug)]
struct TrustAnything(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for TrustAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// One HTTP/1.1 GET over `stream`: status line and body.
fn http_get(stream: &mut (impl Read + Write), path: &str) -> Result<String, String> {
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .and_then(|_| stream.flush())
    .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw) {
        Ok(_) => {}
        // rustls reports a close without close_notify; the bytes are there.
        Err(_) if !raw.is_empty() => {}
        Err(e) => return Err(e.to_string()),
    }
    if raw.is_empty() {
        return Err("closed without an answer".into());
    }
    Ok(String::from_utf8_lossy(&raw).into_owned())
}

/// The HTTP port follows tls.server.mode with the same certificate: in
/// enforcing mode metrics and the API are served over TLS only.
#[test]
fn enforcing_serves_http_over_tls_only() {
    let dir = tempfile::tempdir().unwrap();
    let pem = self_signed(dir.path(), "server");
    let http_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let port = http_port.to_string();
    let server: InProcess = start(dir, &pem, "enforcing", &[("httpListenPort", port.as_str())]);
    let http = server.http.expect("the HTTP listener");

    let mut plain = TcpStream::connect(http).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let refused = http_get(&mut plain, "/healthz");
    assert!(refused.is_err(), "plaintext HTTP answered: {refused:?}");

    let https = |path: &str| {
        let tcp = TcpStream::connect(http).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let conn = rustls::ClientConnection::new(client_config(&pem.der, None), name).unwrap();
        http_get(&mut rustls::StreamOwned::new(conn, tcp), path).unwrap()
    };
    let health = https("/healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    // A TLS remoting request, then the handshakes counted by /metrics.
    assert_answered(
        tls_call(server.addr, client_config(&pem.der, None), &probe()),
        "TLS",
    );
    let metrics = https("/metrics");
    let ok = metrics
        .lines()
        .find(|l| l.starts_with("namesrv_tls_handshakes_total{result=\"ok\"}"))
        .unwrap_or_else(|| panic!("{metrics}"));
    // /healthz, the remoting call and this scrape itself.
    assert!(ok.ends_with(" 3"), "{ok}");
}

/// The controller port runs on the NameServer's listener, so it has the
/// same TLS: with `enforcing`, brokers and tools must speak TLS to it, and
/// the controllers' raft RPCs (on that port too) do, or no leader could
/// be elected among three nodes.
#[test]
fn the_controller_port_enforces_tls_and_raft_runs_over_it() {
    let (ports, peers) = common::controller_peers(3);
    let stores = tempfile::tempdir().unwrap();
    let pem_dir = tempfile::tempdir().unwrap();
    let pem = self_signed(pem_dir.path(), "localhost");
    let _nodes: Vec<Server> = (0..3)
        .map(|i| {
            let id = format!("n{i}");
            let store = path(&stores.path().join(&id));
            start(
                tempfile::tempdir().unwrap(),
                &pem,
                "enforcing",
                &[
                    ("enableControllerInNamesrv", "true"),
                    ("controllerDLegerGroup", "group1"),
                    ("controllerDLegerPeers", peers.as_str()),
                    ("controllerDLegerSelfId", id.as_str()),
                    ("controllerStorePath", store.as_str()),
                ],
            )
        })
        .collect();
    let config = client_config(&pem.der, None);
    let metadata = || {
        let mut cmd = request(RequestCode::CONTROLLER_GET_METADATA_INFO.value(), &[]);
        cmd.opaque = 7;
        cmd
    };
    let addr = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    // Every node names the same leader: votes and appends went over TLS.
    let leader_seen_by = |port: u16| {
        tls_call(addr(port), config.clone(), &metadata())
            .ok()
            .and_then(|m| m.ext_fields.get("controllerLeaderAddress").cloned())
    };
    common::eventually(
        Duration::from_secs(30),
        "one leader named by all three over TLS",
        || {
            let seen: Vec<_> = ports.iter().map(|&p| leader_seen_by(p)).collect();
            seen[0].is_some() && seen.iter().all(|s| *s == seen[0])
        },
    );
    for &port in &ports {
        let answer = tls_call(addr(port), config.clone(), &metadata())
            .unwrap_or_else(|e| panic!("controller {port} over TLS: {e}"));
        assert_eq!(answer.opaque, 7);
        assert!(
            plain_call(addr(port), &metadata()).is_err(),
            "controller {port} answered plaintext under enforcing"
        );
    }
}
