//! The container image, really built and run with podman: the real
//! `deploy/Dockerfile`, built with build arguments that substitute a Debian
//! base made here with debootstrap for the registry images and take the
//! binary this test suite built, then run as `up` until `podman healthcheck
//! run` says healthy, and one customer message answered inside it; then
//! `compose/compose.yaml` on that image with podman-compose, a message sent
//! over HTTP answered through the separate role containers.
//!
//! Needs podman, podman-compose, runc and debootstrap (`./dev test`
//! installs them and runs
//! this); everything it makes is removed at the end but the base image,
//! kept for the next run on the machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BASE: &str = "localhost/switchboard-test-base:bookworm";
const NATS: &str = "localhost/switchboard-test-nats:latest";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `podman ARGS` with the project's podman settings.
fn podman(args: &[&str]) -> Output {
    Command::new("podman")
        .args(args)
        .env("CONTAINERS_CONF", repo().join("deploy/containers.conf"))
        .output()
        .unwrap_or_else(|e| panic!("podman {args:?} does not run: {e}"))
}

fn ok(args: &[&str]) -> String {
    let out = podman(args);
    assert!(
        out.status.success(),
        "podman {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `tar -C dir -c . | podman import - name`.
fn import(dir: &Path, name: &str) {
    let mut tar = Command::new("tar")
        .args(["-C"])
        .arg(dir)
        .args(["-c", "."])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("tar runs");
    let status = Command::new("podman")
        .args(["import", "-", name])
        .env("CONTAINERS_CONF", repo().join("deploy/containers.conf"))
        .stdin(tar.stdout.take().expect("tar's output"))
        .stdout(std::process::Stdio::null())
        .status()
        .expect("podman import runs");
    assert!(
        tar.wait().is_ok_and(|s| s.success()),
        "tar of {}",
        dir.display()
    );
    assert!(status.success(), "importing {name}");
}

/// A Debian bookworm base image (debootstrap minbase), made once per
/// machine: the stand-in for the registry's rust and debian images.
fn base_image() {
    if podman(&["image", "exists", BASE]).status.success() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let rootfs = dir.path().join("rootfs");
    let out = Command::new("debootstrap")
        .args(["--variant=minbase", "--include=ca-certificates", "bookworm"])
        .arg(&rootfs)
        .arg("http://deb.debian.org/debian")
        .output()
        .expect("debootstrap runs");
    assert!(
        out.status.success(),
        "debootstrap: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(rootfs.join("var/cache/apt/archives"));
    import(&rootfs, BASE);
}

/// An image holding only `/nats-server`, as the official nats image does.
fn nats_image() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = switchboard_tests::server_binary();
    std::fs::copy(server.path(), dir.path().join("nats-server")).expect("copies nats-server");
    import(dir.path(), NATS);
}

/// Images without a name (a build's intermediate stages).
fn dangling() -> Vec<String> {
    lines(&[
        "images",
        "--quiet",
        "--no-trunc",
        "--filter",
        "dangling=true",
    ])
}

/// Volumes (the image's `/var/lib/switchboard` makes one per container).
fn volumes() -> Vec<String> {
    lines(&["volume", "ls", "--quiet"])
}

fn lines(args: &[&str]) -> Vec<String> {
    let out = podman(args);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Removes what the test made, whatever happened (the base image stays,
/// for the next run on this machine).
struct Cleanup {
    container: String,
    image: String,
    dangling_before: Vec<String>,
    volumes_before: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        podman(&["rm", "--force", "--volumes", "--time", "2", &self.container]);
        podman(&["rmi", "--force", &self.image, NATS]);
        for id in dangling() {
            if !self.dangling_before.contains(&id) {
                podman(&["rmi", "--force", &id]);
            }
        }
        for volume in volumes() {
            if !self.volumes_before.contains(&volume) {
                podman(&["volume", "rm", "--force", &volume]);
            }
        }
    }
}

#[test]
#[ignore = "needs podman, runc and debootstrap (./dev test installs them and runs this)"]
fn the_image_runs_up_healthy_and_answers_then_compose_answers_over_http_through_role_containers() {
    base_image();
    nats_image();
    let tag = format!("localhost/switchboard-test:{}", std::process::id());
    let name = format!("switchboard-test-{}", std::process::id());
    let _cleanup = Cleanup {
        container: name.clone(),
        image: tag.clone(),
        dangling_before: dangling(),
        volumes_before: volumes(),
    };
    // The build context: only the binary this suite built.
    let context = tempfile::tempdir().expect("temp dir");
    let prebuilt = context.path().join("deploy/prebuilt");
    std::fs::create_dir_all(&prebuilt).expect("context dir");
    std::fs::copy(
        env!("CARGO_BIN_EXE_switchboard"),
        prebuilt.join("switchboard"),
    )
    .expect("copies the binary");
    let dockerfile = repo().join("deploy/Dockerfile").display().to_string();
    let context_arg = context.path().display().to_string();
    let base_arg = |name: &str| format!("{name}={BASE}");
    ok(&[
        "build",
        "--format",
        "docker",
        "--file",
        &dockerfile,
        "--build-arg",
        &base_arg("RUST_IMAGE"),
        "--build-arg",
        &base_arg("RUNTIME_IMAGE"),
        "--build-arg",
        &format!("NATS_IMAGE={NATS}"),
        "--tag",
        &tag,
        &context_arg,
    ]);

    // One image, many roles: an explicit entrypoint and command, a
    // non-root user, and a health check the binary answers.
    let inspected: serde_json::Value =
        serde_json::from_str(&ok(&["image", "inspect", &tag])).expect("inspect prints JSON");
    let config = &inspected[0]["Config"];
    assert_eq!(
        config["Entrypoint"],
        serde_json::json!(["switchboard"]),
        "{config}"
    );
    assert_eq!(config["Cmd"], serde_json::json!(["up"]), "{config}");
    assert_eq!(config["User"], "10001:10001", "{config}");
    // podman shows the health check beside the config, not in it.
    let check = &inspected[0]["Healthcheck"]["Test"];
    assert_eq!(
        check,
        &serde_json::json!(["CMD", "switchboard", "health", "--ready"]),
        "{inspected}"
    );

    // No network but the container's own loopback: `up`'s managed
    // nats-server, agents, projector and gateway all run inside.
    ok(&[
        "run",
        "--detach",
        "--name",
        &name,
        "--network",
        "none",
        &tag,
    ]);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let health = podman(&["healthcheck", "run", &name]);
        if health.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not healthy within 120 s: {}\nlogs: {}",
            String::from_utf8_lossy(&health.stdout),
            String::from_utf8_lossy(&podman(&["logs", &name]).stderr)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // Logs are JSON lines (the image's SWITCHBOARD_LOG_FORMAT), no colour codes.
    let logs = podman(&["logs", &name]);
    let logs = String::from_utf8_lossy(&logs.stderr);
    let json: Vec<serde_json::Value> = logs
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(json.len() >= 3, "{logs}");
    assert!(
        json.iter()
            .all(|l| l["level"].is_string() && l["target"].is_string())
    );
    assert!(!logs.contains('\u{1b}'), "colour codes in container logs");
    let state = ok(&["inspect", "--format", "{{.State.Health.Status}}", &name]);
    assert_eq!(state.trim(), "healthy");

    ok(&[
        "exec",
        &name,
        "switchboard",
        "publish",
        "brewvi/image-1",
        "--customer",
        "persona_001",
        "--text",
        "Where is my order #10234?",
    ]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let replay = ok(&[
            "exec",
            &name,
            "switchboard",
            "replay",
            "brewvi/image-1",
            "--json",
        ]);
        if replay.contains("\"responded\"") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no answer within 60 s:\n{replay}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    compose_answers_over_http(&tag);
}

/// `podman-compose -f compose/compose.yaml -p PROJECT ARGS` on `image`.
fn compose(project: &str, image: &str, args: &[&str]) -> Output {
    Command::new("podman-compose")
        .arg("-f")
        .arg(repo().join("compose/compose.yaml"))
        .args(["-p", project])
        .args(args)
        .env("SWITCHBOARD_IMAGE", image)
        .env("CONTAINERS_CONF", repo().join("deploy/containers.conf"))
        .output()
        .unwrap_or_else(|e| panic!("podman-compose does not run: {e}"))
}

/// Takes the compose project down, volumes included, whatever happened.
struct ComposeDown<'a> {
    project: &'a str,
    image: &'a str,
}

impl Drop for ComposeDown<'_> {
    fn drop(&mut self) {
        compose(self.project, self.image, &["down", "--volumes"]);
    }
}

const ROLES: [&str; 7] = [
    "critic",
    "intent",
    "knowledge",
    "response",
    "escalation",
    "projector",
    "gateway",
];

/// The compose file on the image just built: every role in its own
/// container with its own broker key becomes ready (waited on here:
/// podman 4.3 ignores `service_healthy`), a channel's message sent over
/// HTTP to the gateway's published port is answered through the five agent
/// containers, and the projector catches up.
fn compose_answers_over_http(image: &str) {
    let project = format!("sbtest{}", std::process::id());
    let _down = ComposeDown {
        project: &project,
        image,
    };
    let up = compose(&project, image, &["up", "--detach"]);
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let container = |role: &str| format!("{project}_{role}_1");
    let deadline = Instant::now() + Duration::from_secs(120);
    for role in ROLES {
        while !podman(&["exec", &container(role), "switchboard", "health", "--ready"])
            .status
            .success()
        {
            assert!(Instant::now() < deadline, "{role} not ready within 120 s");
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    let gateway = container("gateway");
    let key = ok(&[
        "exec",
        "--env",
        "SWITCHBOARD_NATS_NKEY=/secrets/operator.nk",
        &gateway,
        "switchboard",
        "keys",
        "create",
        "--tenant",
        "brewvi",
        "--role",
        "operate",
    ]);
    let key = key.lines().next().unwrap_or_default().trim().to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(ask_over_http(&key));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = ok(&[
            "exec",
            &gateway,
            "switchboard",
            "projections",
            "status",
            "--json",
        ]);
        let status: serde_json::Value = serde_json::from_str(&status).expect("JSON");
        if status["pending"] == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the projector did not catch up: {status}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Posts a customer message to the gateway's published port and waits for
/// the answer in the conversation's events.
async fn ask_over_http(key: &str) {
    let http = reqwest::Client::new();
    let base = "http://127.0.0.1:8080/v1/tenants/brewvi/conversations/compose-1";
    let body = serde_json::json!({"text": "Where is my order #10234?", "customer": "persona_001"});
    let sent = http
        .post(format!("{base}/messages"))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(sent.status(), reqwest::StatusCode::CREATED);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let events = http
            .get(format!("{base}/events"))
            .bearer_auth(key)
            .send()
            .await
            .expect("the gateway answers")
            .bytes()
            .await
            .expect("a body");
        let events: serde_json::Value = serde_json::from_slice(&events).expect("JSON");
        let types: Vec<&str> = events["entries"]
            .as_array()
            .map(|e| e.iter().filter_map(|e| e["type"].as_str()).collect())
            .unwrap_or_default();
        if types.contains(&"responded") {
            let steps = [
                "received",
                "screened",
                "classified",
                "retrieved",
                "drafted",
                "validated",
                "responded",
            ];
            assert_eq!(types, steps);
            return;
        }
        assert!(Instant::now() < deadline, "no answer within 60 s: {events}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
