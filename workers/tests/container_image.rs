//! The container image, really built and run with podman: the real
//! `deploy/Dockerfile`, built with build arguments that substitute a Debian
//! base made here with debootstrap for the registry images and take the
//! binary this test suite built, then run as `up` until `podman healthcheck
//! run` says healthy, and one customer message answered inside it.
//!
//! Needs podman, runc and debootstrap (`./dev test` installs them and runs
//! this); everything it makes is removed at the end.

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
        .args(["--variant=minbase", "bookworm"])
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

/// Removes what the test made, whatever happened.
struct Cleanup {
    container: String,
    image: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        podman(&["rm", "--force", "--time", "2", &self.container]);
        podman(&["rmi", "--force", &self.image, NATS]);
    }
}

#[test]
#[ignore = "needs podman, runc and debootstrap (./dev test installs them and runs this)"]
fn the_image_builds_runs_up_becomes_healthy_and_answers_a_message() {
    base_image();
    nats_image();
    let tag = format!("localhost/switchboard-test:{}", std::process::id());
    let name = format!("switchboard-test-{}", std::process::id());
    let _cleanup = Cleanup {
        container: name.clone(),
        image: tag.clone(),
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
    let config: serde_json::Value = serde_json::from_str(&ok(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config}}",
        &tag,
    ]))
    .expect("the image config is JSON");
    assert_eq!(
        config["Entrypoint"],
        serde_json::json!(["switchboard"]),
        "{config}"
    );
    assert_eq!(config["Cmd"], serde_json::json!(["up"]), "{config}");
    assert_eq!(config["User"], "10001:10001", "{config}");
    let check = config["Healthcheck"]["Test"].to_string();
    assert!(
        check.contains("switchboard") && check.contains("health"),
        "{config}"
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
}
