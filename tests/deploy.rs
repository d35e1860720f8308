//! The deployment files in `deploy/`, checked with the tools that read them:
//!
//! - `prometheus/`: `promtool check rules` and the rules' unit tests
//!   (`promtool test rules`). That every metric they and the Grafana
//!   dashboard name is exported is checked beside the metrics
//!   (`metrics::tests::deploy_files_name_only_exported_metrics`).
//! - `systemd/namesrv.service`: `systemd-analyze verify` (no warning allowed)
//!   and `systemd-analyze security --offline=yes` under a threshold.
//! - `container/`: `entrypoint.sh` run under sh and bash with stand-in
//!   binaries and with the real ones; the Containerfile's invariants (Java
//!   image's user and paths, non-root, ports). No image is built here (no
//!   container engine on this machine).
//! - `kubernetes/`: every manifest validated offline against the Kubernetes
//!   schemas (kubernetes-validate from PyPI, strict, Kubernetes 1.30 and
//!   1.37; the ServiceMonitor against `tests/deploy-schemas/`), the
//!   manifests' cross-references, and the ConfigMap run through the real
//!   binary. Each tool missing fails its test, naming what installs it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(path)
}

fn promtool(args: &[&str]) -> String {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(deploy("prometheus"))
        .output()
        .expect("promtool not found (Debian package prometheus; .ci/run installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?}:\n{text}");
    text
}

#[test]
fn alert_rules_are_valid_and_their_unit_tests_pass() {
    let checked = promtool(&["check", "rules", "namesrv-alerts.yml"]);
    assert!(checked.contains("SUCCESS: 6 rules found"), "{checked}");
    promtool(&["test", "rules", "namesrv-alerts.test.yml"]);
}

// --- systemd ---------------------------------------------------------------

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn systemd_analyze(args: &[&str], unit: &Path) -> (bool, String) {
    let out = Command::new("systemd-analyze")
        .args(args)
        .arg(unit)
        .output()
        .unwrap_or_else(|e| {
            panic!("systemd-analyze: {e} (Debian package systemd; .ci/run installs it)")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The unit with ExecStart on the binary under test, which `verify` needs
/// to exist.
fn unit_copy(dir: &Path, exec: &str) -> PathBuf {
    let text = read(&deploy("systemd/namesrv.service"));
    assert!(
        text.contains("ExecStart=/usr/local/bin/namesrv -c "),
        "{text}"
    );
    let path = dir.join("namesrv.service");
    std::fs::write(
        &path,
        text.replace(
            "ExecStart=/usr/local/bin/namesrv ",
            &format!("ExecStart={exec} "),
        ),
    )
    .unwrap();
    path
}

#[test]
fn systemd_unit_verifies_and_is_hardened() {
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_copy(dir.path(), env!("CARGO_BIN_EXE_namesrv"));
    // verify exits 0 on an unknown or misspelt key and only warns: any output fails.
    let (ok, text) = systemd_analyze(&["verify"], &unit);
    assert!(
        ok && text.trim().is_empty(),
        "systemd-analyze verify:\n{text}"
    );

    // The check is live: a missing binary fails it.
    let broken = unit_copy(dir.path(), "/nonexistent/namesrv");
    let (ok, text) = systemd_analyze(&["verify"], &broken);
    assert!(!ok && text.contains("/nonexistent/namesrv"), "{text}");

    // systemd's own exposure score (0 best, 10 worst); --threshold is x10.
    let unit = unit_copy(dir.path(), env!("CARGO_BIN_EXE_namesrv"));
    let (ok, text) = systemd_analyze(&["security", "--offline=yes", "--threshold=20"], &unit);
    assert!(ok, "systemd-analyze security --offline=yes:\n{text}");
    assert!(
        text.contains("Overall exposure level for namesrv.service"),
        "{text}"
    );

    let text = read(&deploy("systemd/namesrv.service"));
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for needed in [
        "DynamicUser=yes",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
        "Restart=on-failure",
        "KillSignal=SIGTERM",
        "ReadWritePaths=/var/lib/namesrv",
        "StateDirectory=namesrv",
        "Environment=HOME=/var/lib/namesrv",
    ] {
        assert!(lines.contains(&needed), "the unit lacks {needed}");
    }
    assert!(
        lines.iter().any(|l| l.starts_with("LimitNOFILE=")),
        "no LimitNOFILE"
    );
    // The stop timeout covers the drain (shutdownWaitTimeSeconds, default 30).
    let stop: u64 = lines
        .iter()
        .find_map(|l| l.strip_prefix("TimeoutStopSec="))
        .and_then(|v| v.trim_end_matches('s').parse().ok())
        .expect("TimeoutStopSec=<seconds>s");
    assert!(
        stop > 30,
        "TimeoutStopSec={stop}s does not cover a 30 s drain"
    );
}

// --- container ---------------------------------------------------------------

/// Stand-ins for the binaries that print what they were started with.
fn stubs(dir: &Path) -> PathBuf {
    let bin = dir.join("stubs");
    std::fs::create_dir_all(&bin).unwrap();
    for name in ["namesrv", "namesrv-admin"] {
        let path = bin.join(name);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\necho \"pid=$$\"\necho \"exe={name}\"\nfor a in \"$@\"; do echo \"arg=$a\"; done\n\
                 echo \"NAMESRV_ADDR=${{NAMESRV_ADDR:-}}\"\n"
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

struct Entry {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    pid: u32,
}

impl Entry {
    fn args(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter_map(|l| l.strip_prefix("arg="))
            .collect()
    }
    fn value(&self, key: &str) -> &str {
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(key).and_then(|l| l.strip_prefix('=')))
            .unwrap_or_else(|| panic!("no {key}= in {}", self.stdout))
    }
}

/// Runs deploy/container/entrypoint.sh under `shell` with `bin` first on
/// PATH and only the given variables (plus PATH and ROCKETMQ_HOME).
fn entrypoint(shell: &str, bin: &Path, env: &[(&str, &str)], args: &[&str]) -> Entry {
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let child = Command::new(shell)
        .arg(deploy("container/entrypoint.sh"))
        .args(args)
        .env_clear()
        .env("PATH", path)
        .env("ROCKETMQ_HOME", "/home/rocketmq/rocketmq-5.3.3")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{shell}: {e}"));
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    Entry {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        pid,
    }
}

/// The shells the entrypoint must work under: POSIX sh (dash here, busybox
/// in the image) and bash.
fn shells() -> Vec<&'static str> {
    let shells: Vec<&str> = ["/bin/sh", "/bin/bash"]
        .into_iter()
        .filter(|s| Path::new(s).exists())
        .collect();
    assert!(!shells.is_empty(), "no /bin/sh");
    shells
}

const CONF: &str = "/home/rocketmq/rocketmq-5.3.3/conf/namesrv.properties";

#[test]
fn entrypoint_runs_the_nameserver_as_javas_image_is_started() {
    let dir = tempfile::tempdir().unwrap();
    let bin = stubs(dir.path());
    for shell in shells() {
        for args in [&[][..], &["namesrv"], &["mqnamesrv"], &["sh", "mqnamesrv"]] {
            let e = entrypoint(shell, &bin, &[], args);
            assert!(e.ok, "{shell} {args:?}: {}{}", e.stdout, e.stderr);
            assert_eq!(e.value("exe"), "namesrv", "{shell} {args:?}");
            assert_eq!(e.args(), ["-c", CONF], "{shell} {args:?}");
            // exec'd: the binary is the process started, so SIGTERM reaches it.
            assert_eq!(
                e.value("pid"),
                e.pid.to_string(),
                "{shell} {args:?}: not exec'd"
            );
            assert!(e.stderr.is_empty(), "{shell} {args:?}: {}", e.stderr);
        }
        // A -c of the caller's is kept, not doubled.
        let e = entrypoint(
            shell,
            &bin,
            &[],
            &["namesrv", "-c", "/etc/x.properties", "-p"],
        );
        assert_eq!(e.args(), ["-c", "/etc/x.properties", "-p"], "{shell}");
        let e = entrypoint(shell, &bin, &[], &["-p"]);
        assert_eq!(e.args(), ["-c", CONF, "-p"], "{shell}");
        let e = entrypoint(shell, &bin, &[], &["mqcontroller"]);
        assert_eq!(e.args(), ["-c", CONF, "--controller"], "{shell}");
    }
}

#[test]
fn entrypoint_ignores_the_jvm_options_once_and_passes_namesrv_addr_to_the_admin_tool() {
    let dir = tempfile::tempdir().unwrap();
    let bin = stubs(dir.path());
    for shell in shells() {
        let jvm = [
            ("JAVA_OPT", "-Xms1g -Xmx1g"),
            ("JAVA_OPT_EXT", "-server -Duser.home=/opt"),
            ("HEAP_OPTS", "-Xmn512m"),
        ];
        let e = entrypoint(shell, &bin, &jvm, &["sh", "mqnamesrv"]);
        assert!(e.ok, "{shell}: {}", e.stderr);
        assert_eq!(
            e.args(),
            ["-c", CONF],
            "{shell}: JVM options reached namesrv"
        );
        let said: Vec<&str> = e.stderr.lines().collect();
        assert_eq!(
            said,
            ["namesrv-entrypoint: ignored (no JVM in this image): JAVA_OPT JAVA_OPT_EXT HEAP_OPTS"],
            "{shell}"
        );
        let e = entrypoint(shell, &bin, &[("JAVA_OPT_EXT", "-Xmx1g")], &[]);
        assert_eq!(
            e.stderr.trim(),
            "namesrv-entrypoint: ignored (no JVM in this image): JAVA_OPT_EXT",
            "{shell}"
        );

        for tool in ["mqadmin", "namesrv-admin"] {
            let e = entrypoint(
                shell,
                &bin,
                &[("NAMESRV_ADDR", "ns-a:9876;ns-b:9876")],
                &[tool, "clusterList"],
            );
            assert!(e.ok, "{shell} {tool}: {}", e.stderr);
            assert_eq!(e.value("exe"), "namesrv-admin", "{shell} {tool}");
            assert_eq!(e.args(), ["clusterList"], "{shell} {tool}");
            assert_eq!(
                e.value("NAMESRV_ADDR"),
                "ns-a:9876;ns-b:9876",
                "{shell} {tool}"
            );
        }
    }
}

#[test]
fn entrypoint_derives_the_controller_id_from_the_pod_ordinal() {
    let dir = tempfile::tempdir().unwrap();
    let bin = stubs(dir.path());
    for shell in shells() {
        let from_host = ("NAMESRV_CONTROLLER_SELF_ID_FROM_HOSTNAME", "true");
        let e = entrypoint(shell, &bin, &[from_host, ("HOSTNAME", "namesrv-12")], &[]);
        assert!(e.ok, "{shell}: {}", e.stderr);
        assert_eq!(
            e.args(),
            ["-c", CONF, "-D", "controllerDLegerSelfId=n12"],
            "{shell}"
        );
        // An explicit id wins.
        let e = entrypoint(
            shell,
            &bin,
            &[
                from_host,
                ("HOSTNAME", "namesrv-1"),
                ("NAMESRV_CONTROLLER_SELF_ID", "n7"),
            ],
            &[],
        );
        assert_eq!(
            e.args(),
            ["-c", CONF, "-D", "controllerDLegerSelfId=n7"],
            "{shell}"
        );
        // Without the switch the host name means nothing.
        let e = entrypoint(shell, &bin, &[("HOSTNAME", "namesrv-1")], &[]);
        assert_eq!(e.args(), ["-c", CONF], "{shell}");
        // A host name without an ordinal is refused before anything starts.
        let e = entrypoint(shell, &bin, &[from_host, ("HOSTNAME", "namesrv")], &[]);
        assert_eq!(e.code, Some(64), "{shell}: {}{}", e.stdout, e.stderr);
        assert!(e.stdout.is_empty(), "{shell}: started: {}", e.stdout);
        assert!(
            e.stderr.contains("cannot derive controllerDLegerSelfId"),
            "{shell}: {}",
            e.stderr
        );
    }
}

/// The real admin tool, started by the entrypoint, reads NAMESRV_ADDR: it
/// names that address when nothing listens there.
#[test]
fn entrypoint_hands_namesrv_addr_to_the_real_admin_tool() {
    let bin = Path::new(env!("CARGO_BIN_EXE_namesrv-admin"))
        .parent()
        .unwrap();
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let e = entrypoint(
        "/bin/sh",
        bin,
        &[("NAMESRV_ADDR", &addr)],
        &["mqadmin", "getNamesrvConfig", "--timeoutMillis", "2000"],
    );
    assert!(!e.ok, "{}{}", e.stdout, e.stderr);
    assert!(e.stderr.contains(&addr), "{}", e.stderr);
    assert!(!e.stderr.contains("no NameServer address"), "{}", e.stderr);
}

fn containerfile() -> String {
    read(&deploy("container/Containerfile"))
}

/// `KEY` of an `ARG KEY=value` or `ENV KEY=value` line.
fn containerfile_value(text: &str, key: &str) -> String {
    text.lines()
        .map(|l| l.trim().trim_end_matches('\\').trim())
        .filter(|l| !l.starts_with('#'))
        .flat_map(|l| l.split_whitespace())
        .find_map(|word| word.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {key}= in the Containerfile"))
        .trim_matches('"')
        .to_string()
}

#[test]
fn containerfile_keeps_javas_image_layout_and_runs_as_non_root() {
    let text = containerfile();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let froms = lines.iter().filter(|l| l.starts_with("FROM ")).count();
    assert_eq!(froms, 2, "a build stage and a runtime stage");
    assert!(
        text.contains("+crt-static"),
        "the binary is linked statically"
    );

    // Java's image: user rocketmq, uid 3000, its home and version folders.
    assert_eq!(containerfile_value(&text, "uid"), "3000");
    assert_eq!(containerfile_value(&text, "gid"), "3000");
    assert_eq!(containerfile_value(&text, "ROCKETMQ_VERSION"), "5.3.3");
    assert_eq!(
        containerfile_value(&text, "ROCKETMQ_HOME"),
        "/home/rocketmq/rocketmq-${ROCKETMQ_VERSION}"
    );
    assert_eq!(containerfile_value(&text, "HOME"), "/home/rocketmq");
    for dir in [
        "${ROCKETMQ_HOME}/conf",
        "/home/rocketmq/store",
        "/home/rocketmq/logs",
    ] {
        assert!(text.contains(dir), "the image lacks {dir}");
    }
    assert!(text.contains("conf/namesrv.properties ${ROCKETMQ_HOME}/conf/namesrv.properties"));

    // The last USER is the runtime user, not root.
    let user = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER line");
    assert_eq!(user, "${uid}:${gid}");
    assert!(lines.contains(&"EXPOSE 9876 9877 9878"), "ports");

    // The entrypoint is the file tested above, where the image puts it.
    assert!(lines.contains(
        &"COPY --chmod=0755 deploy/container/entrypoint.sh /usr/local/bin/namesrv-entrypoint"
    ));
    assert!(lines.contains(&r#"ENTRYPOINT ["/usr/local/bin/namesrv-entrypoint"]"#));
    // Every file the build copies from the context exists.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for line in lines
        .iter()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from="))
    {
        let words: Vec<&str> = line
            .split_whitespace()
            .filter(|w| !w.starts_with("--"))
            .collect();
        for source in &words[1..words.len() - 1] {
            assert!(root.join(source).exists(), "COPY {source}: no such file");
        }
    }
}

// --- Kubernetes ----------------------------------------------------------------

/// The python of the venv tests/deploy-schemas/kubernetes-validate.sh
/// makes (.ci/run runs it).
fn kubernetes_validate_python() -> PathBuf {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/deploy-schemas/kubernetes-validate.sh");
    let version = read(&script)
        .lines()
        .find_map(|l| l.strip_prefix("VERSION=").map(str::to_string))
        .expect("VERSION= in kubernetes-validate.sh");
    let cache = std::env::var_os("NAMESRV_INTEROP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is not set"))
                .join(".cache/namesrv-interop")
        });
    let python = cache.join(format!("kubernetes-validate-{version}/bin/python"));
    assert!(
        python.exists(),
        "kubernetes-validate {version} is not installed at {} (run {}; .ci/run does)",
        python.display(),
        script.display()
    );
    python
}

/// Validates `files`; returns whether all passed, the output, and the
/// resources as JSON.
fn validate_manifests(files: &[PathBuf]) -> (bool, String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("resources.json");
    let (ok, text) = run(Command::new(kubernetes_validate_python())
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/deploy-schemas/validate.py"))
        // The oldest Kubernetes still commonly run, and the newest known.
        .args([
            "--kubernetes-version",
            "1.30.0",
            "--kubernetes-version",
            "1.37.0",
        ])
        .arg("--dump-json")
        .arg(&dump)
        .args(files));
    let resources = std::fs::read(&dump)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null);
    (ok, text, resources)
}

fn manifests() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy("kubernetes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn kubernetes_manifests_validate_against_the_schemas() {
    let files = manifests();
    let (ok, text, resources) = validate_manifests(&files);
    assert!(ok, "validation failed:\n{text}");
    let resources = resources.as_array().expect("resources");
    let kinds: Vec<&str> = resources
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "ConfigMap",
        "Service",
        "StatefulSet",
        "PodDisruptionBudget",
        "ServiceMonitor",
    ] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    // Each built-in kind against two Kubernetes versions, the CRD once.
    let crds = kinds.iter().filter(|k| **k == "ServiceMonitor").count();
    let oks = text.lines().filter(|l| l.starts_with("OK ")).count();
    assert_eq!(oks, 2 * (kinds.len() - crds) + crds, "{text}");

    // The validation is live: a misspelt field fails each kind of schema.
    let dir = tempfile::tempdir().unwrap();
    for (file, from, to) in [
        ("namesrv.yaml", "readinessProbe:", "readinesProbe:"),
        ("namesrv.yaml", "maxUnavailable: 1", "maxUnavailable: [1]"),
        (
            "servicemonitor.yaml",
            "interval: 15s",
            "interval: 15 seconds",
        ),
    ] {
        let text = read(&deploy(&format!("kubernetes/{file}")));
        assert!(text.contains(from), "{file}: {from}");
        let bad = dir.path().join(file);
        std::fs::write(&bad, text.replacen(from, to, 1)).unwrap();
        let (ok, out, _) = validate_manifests(&[bad]);
        assert!(
            !ok && out.contains("ERROR"),
            "{file} with {to} passed:\n{out}"
        );
    }
}

fn find<'a>(resources: &'a [serde_json::Value], kind: &str, name: &str) -> &'a serde_json::Value {
    resources
        .iter()
        .find(|r| r["kind"] == kind && r["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name}"))
}

fn properties(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn labels_match(selector: &serde_json::Value, labels: &serde_json::Value) -> bool {
    let wanted = selector.as_object().expect("matchLabels");
    !wanted.is_empty() && wanted.iter().all(|(k, v)| labels[k] == *v)
}

#[test]
fn kubernetes_manifests_fit_together_and_the_nameserver_takes_their_configuration() {
    let (ok, text, resources) = validate_manifests(&manifests());
    assert!(ok, "{text}");
    let resources = resources.as_array().unwrap();
    let sts = find(resources, "StatefulSet", "namesrv");
    let spec = &sts["spec"];
    assert_eq!(spec["podManagementPolicy"], "Parallel");
    let replicas = spec["replicas"].as_u64().unwrap();
    assert_eq!(replicas, 3);
    let pod = &spec["template"]["spec"];
    let pod_labels = &spec["template"]["metadata"]["labels"];
    assert!(labels_match(&spec["selector"]["matchLabels"], pod_labels));

    // The peers' Service: headless, publishing unready pods, named by the set.
    let headless_name = spec["serviceName"].as_str().unwrap();
    let headless = find(resources, "Service", headless_name);
    assert_eq!(headless["spec"]["clusterIP"], "None");
    assert_eq!(headless["spec"]["publishNotReadyAddresses"], true);
    assert!(labels_match(&headless["spec"]["selector"], pod_labels));
    let client = find(resources, "Service", "namesrv");
    assert!(labels_match(&client["spec"]["selector"], pod_labels));
    assert_ne!(client["spec"]["publishNotReadyAddresses"], true);

    // The configuration, as the properties file the pods mount.
    let config = find(resources, "ConfigMap", "namesrv-config");
    let props_text = config["data"]["namesrv.properties"].as_str().unwrap();
    let props = properties(props_text);
    let prop = |key: &str| -> &str {
        props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {key} in the ConfigMap"))
    };
    assert_eq!(prop("enableControllerInNamesrv"), "true");
    let peers: Vec<&str> = prop("controllerDLegerPeers").split(';').collect();
    let expected: Vec<String> = (0..replicas)
        .map(|i| format!("n{i}-namesrv-{i}.{headless_name}:9878"))
        .collect();
    assert_eq!(peers, expected, "one peer per pod, by its stable DNS name");
    assert_eq!(prop("addressServerDomain"), "namesrv:9876");

    let container = &pod["containers"][0];
    let port = |name: &str| -> u64 {
        container["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["containerPort"].as_u64())
            .unwrap_or_else(|| panic!("no container port {name}"))
    };
    assert_eq!(port("remoting").to_string(), prop("listenPort"));
    assert_eq!(port("http").to_string(), prop("httpListenPort"));
    assert_eq!(port("controller"), 9878);
    for (probe, path) in [("livenessProbe", "/livez"), ("readinessProbe", "/readyz")] {
        assert_eq!(container[probe]["httpGet"]["path"], path, "{probe}");
        assert_eq!(container[probe]["httpGet"]["port"], "http", "{probe}");
    }
    let env = container["env"].as_array().unwrap();
    assert!(env
        .iter()
        .any(|e| e["name"] == "NAMESRV_CONTROLLER_SELF_ID_FROM_HOSTNAME" && e["value"] == "true"));

    // Non-root, read-only root file system: everything written is on a volume.
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 3000);
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        container["securityContext"]["allowPrivilegeEscalation"],
        false
    );
    let mounts = container["volumeMounts"].as_array().unwrap();
    let mount = |name: &str| -> &str {
        mounts
            .iter()
            .find(|m| m["name"] == name)
            .and_then(|m| m["mountPath"].as_str())
            .unwrap_or_else(|| panic!("no mount {name}"))
    };
    // Where the image's entrypoint looks for the configuration.
    let text = containerfile();
    let home = containerfile_value(&text, "ROCKETMQ_HOME").replace(
        "${ROCKETMQ_VERSION}",
        &containerfile_value(&text, "ROCKETMQ_VERSION"),
    );
    assert_eq!(mount("config"), format!("{home}/conf"));
    let store = mount("store");
    for key in ["kvConfigPath", "configStorePath", "controllerStorePath"] {
        assert!(
            prop(key).starts_with(&format!("{store}/")),
            "{key} is not on the volume"
        );
    }
    let claims = spec["volumeClaimTemplates"].as_array().unwrap();
    assert!(claims.iter().any(|c| c["metadata"]["name"] == "store"));
    let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(grace > prop("shutdownWaitTimeSeconds").parse::<u64>().unwrap());

    let pdb = find(resources, "PodDisruptionBudget", "namesrv");
    assert_eq!(pdb["spec"]["maxUnavailable"], 1);
    assert!(labels_match(
        &pdb["spec"]["selector"]["matchLabels"],
        pod_labels
    ));

    // The ServiceMonitor scrapes /metrics on the http port of the peers'
    // Service (unready pods included), and only that Service.
    let monitor = find(resources, "ServiceMonitor", "namesrv");
    let selector = &monitor["spec"]["selector"]["matchLabels"];
    assert!(labels_match(selector, &headless["metadata"]["labels"]));
    assert!(!labels_match(selector, &client["metadata"]["labels"]));
    let endpoint = &monitor["spec"]["endpoints"][0];
    assert_eq!(endpoint["path"], "/metrics");
    let scraped = endpoint["port"].as_str().unwrap();
    assert!(headless["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == scraped && p["targetPort"] == "http"));

    // The real binary, started as the pod starts it, takes the ConfigMap:
    // every key known, and n<ordinal> as its controller id.
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("namesrv.properties");
    std::fs::write(&conf, props_text).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_namesrv")).parent().unwrap();
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .chain(["-c", conf.to_str().unwrap(), "-p"])
        .collect();
    let e = entrypoint(
        "/bin/sh",
        bin,
        &[
            ("NAMESRV_CONTROLLER_SELF_ID_FROM_HOSTNAME", "true"),
            ("HOSTNAME", "namesrv-2"),
            ("HOME", dir.path().to_str().unwrap()),
        ],
        &args,
    );
    assert!(e.ok, "{}{}", e.stdout, e.stderr);
    assert!(
        !e.stderr.contains("unknown config property"),
        "{}",
        e.stderr
    );
    let printed = properties(&e.stdout);
    for (key, value) in &props {
        assert!(
            printed.iter().any(|(k, v)| k == key && v == value),
            "{key}={value} not in effect:\n{}",
            e.stdout
        );
    }
    assert!(printed
        .iter()
        .any(|(k, v)| k == "controllerDLegerSelfId" && v == "n2"));
}
