//! The operator console in a real headless Chromium against a real
//! `switchboard up`: the page served without a key, a sign-in with an
//! operator key made by `switchboard keys create`, a chat answered by the
//! agents and shown live in the chat and the timeline, an escalated chat
//! found in the queue, answered and closed by a human, analytics drawn.
//!
//! The browser is driven by `tests/console/console.test.mjs`
//! (playwright-core, Debian's `chromium`). Without them this test fails
//! saying how to install them: a console nobody ran is not tested.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use switchboard_tests::Running as Up;
use switchboard_tests::{cli, eventually, free_port, run_command, server_binary, text};

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard");
const DEADLINE: Duration = Duration::from_secs(90);
/// The browser script's own waits are shorter; this only stops a hang.
const BROWSER_DEADLINE: Duration = Duration::from_secs(300);

/// The repository's root (this crate is `workers/`).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workers/ has a parent")
        .to_path_buf()
}

/// Chromium: `SWITCHBOARD_CHROMIUM` or Debian's `/usr/bin/chromium`.
fn chromium() -> PathBuf {
    std::env::var_os("SWITCHBOARD_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Fails, saying how to install it, when something the browser test needs is missing.
fn require_browser_tools(script_dir: &Path) {
    let browser = chromium();
    assert!(
        browser.is_file(),
        "the console test needs Chromium at {} (or set SWITCHBOARD_CHROMIUM): \
         install it with `sudo apt-get install -y chromium`",
        browser.display()
    );
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "the console test needs Node.js (`node` on PATH): install it with `sudo apt-get install -y nodejs npm`"
    );
    assert!(
        script_dir
            .join("node_modules/playwright-core/package.json")
            .is_file(),
        "the console test needs playwright-core in {}/node_modules: run `(cd tests/console && npm ci)`",
        script_dir.display()
    );
}

/// A `switchboard up` that is killed when the test ends.
fn up(data_dir: &Path, nats_port: u16, metrics_port: u16, gateway_port: u16) -> Up {
    let log = std::fs::File::create(data_dir.join("up.log")).expect("a log file for up");
    Up(Command::new(BINARY)
        .arg("up")
        .arg("--data-dir")
        .arg(data_dir.join("data"))
        .args(["--nats-port", &nats_port.to_string()])
        .args(["--metrics-addr", &format!("127.0.0.1:{metrics_port}")])
        .args(["--gateway-addr", &format!("127.0.0.1:{gateway_port}")])
        .env("SWITCHBOARD_NATS_SERVER", server_binary().path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("switchboard up starts"))
}

/// One plain HTTP/1.0 GET: the status line's code, the headers and the body.
fn get(port: u16, path: &str) -> Option<(u16, String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, head.to_ascii_lowercase(), body.to_owned()))
}

/// Runs the browser script, killing it past the deadline; its exit status
/// and everything it printed.
fn run_browser(script_dir: &Path, args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut child = Command::new("node")
        .arg(script_dir.join("console.test.mjs"))
        .args(args)
        .env("CHROMIUM", chromium())
        .current_dir(script_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            break status;
        }
        if started.elapsed() > BROWSER_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the browser test ran over {BROWSER_DEADLINE:?}; it printed:\n{}\n{}",
                out.join().unwrap_or_default(),
                err.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let printed = format!(
        "{}{}",
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default()
    );
    (status, printed)
}

#[tokio::test]
async fn an_operator_signs_in_chats_answers_an_escalation_and_closes_it_in_chromium() {
    let script_dir = repo_root().join("tests").join("console");
    require_browser_tools(&script_dir);

    let dir = tempfile::tempdir().expect("tempdir");
    let (nats_port, metrics_port, gateway_port) = (free_port(), free_port(), free_port());
    let _up = up(dir.path(), nats_port, metrics_port, gateway_port);
    let up_log = dir.path().join("up.log");
    eventually("the gateway's /readyz", DEADLINE, || async {
        get(gateway_port, "/readyz").filter(|(code, _, _)| *code == 200)
    })
    .await;

    // The console's files are served without a key, with their content types.
    for (path, content_type) in [
        ("/console", "text/html"),
        ("/console/app.js", "text/javascript"),
        ("/console/style.css", "text/css"),
    ] {
        let (code, head, body) = get(gateway_port, path).expect("the gateway answers");
        assert_eq!(code, 200, "{path}: {head}");
        assert!(
            head.contains(&format!("content-type: {content_type}")),
            "{path}: {head}"
        );
        assert!(!body.is_empty(), "{path} is empty");
    }

    let url = format!("nats://127.0.0.1:{nats_port}");
    let created = run_command(
        cli(
            BINARY,
            &url,
            &[
                "keys",
                "create",
                "--tenant",
                "brewvi",
                "--role",
                "operate",
                "--label",
                "console test",
            ],
        ),
        None,
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let key = text(&created.stdout).trim().to_owned();
    assert!(key.starts_with("sbk_"), "not a key: {key:?}");

    let screenshots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    // Emptied first: only this run's screenshots count.
    let _ = std::fs::remove_dir_all(&screenshots);
    std::fs::create_dir_all(&screenshots).expect("the screenshot directory");
    let base = format!("http://127.0.0.1:{gateway_port}");
    let started = Instant::now();
    let (status, printed) = run_browser(
        &script_dir,
        &[&base, &key, &screenshots.display().to_string()],
    );
    eprintln!(
        "browser test ({:.1}s):\n{printed}\nscreenshots in {}",
        started.elapsed().as_secs_f64(),
        screenshots.display()
    );
    assert!(
        status.success(),
        "the browser test failed ({status}); see its output above; switchboard up logged:\n{}",
        std::fs::read_to_string(&up_log).unwrap_or_default()
    );
    for shot in [
        "signed-in",
        "answered",
        "escalated",
        "replied",
        "closed",
        "analytics",
    ] {
        let file = screenshots.join(format!("{shot}.png"));
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        assert!(size > 0, "no screenshot {}", file.display());
    }
}
