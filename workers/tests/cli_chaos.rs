//! `switchboard bench chaos` in its CI form: a few hundred conversations
//! through agents in separate processes while they are SIGKILLed every
//! second and the broker is crashed once; every check must pass. And the
//! `projector` subcommand the bench runs, on its own.

use std::process::Command;
use std::time::Duration;

use switchboard_tests::{TestServer, cli, eventually, run_command, server_binary, text};

const KEYS: [&str; 8] = [
    "conversations",
    "terminal",
    "duplicates",
    "lost",
    "kills",
    "broker_restarts",
    "projection_mismatches",
    "max_stall_s",
];

/// Runs the CI form of `bench chaos --json` (30 conversations/s, a kill a
/// second, one broker restart, seed 7) with `conversations`, a deadline and
/// `extra` arguments: its report, its stderr, and whether it exited 0.
fn ci_form(
    conversations: &str,
    deadline_s: &str,
    extra: &[&str],
) -> (serde_json::Value, String, bool) {
    ci_form_with(conversations, deadline_s, extra, &[])
}

/// [`ci_form`] with `env` set for the bench and the processes it starts.
fn ci_form_with(
    conversations: &str,
    deadline_s: &str,
    extra: &[&str],
    env: &[(&str, String)],
) -> (serde_json::Value, String, bool) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    command
        .args([
            "bench",
            "chaos",
            "--json",
            "--rate",
            "30",
            "--kill-every-ms",
            "1000",
        ])
        .args(["--broker-restarts", "1", "--seed", "7"])
        .args(["--conversations", conversations, "--deadline-s", deadline_s])
        .args(extra)
        .env("SWITCHBOARD_NATS_SERVER", server_binary().path())
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (k, v)));
    let out = run_command(command, None);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    let report: serde_json::Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {stdout}\nstderr:\n{stderr}"));
    (report, stderr, out.status.success())
}

/// The chaos runs take turns: each is several processes on two cores.
static ONE_RUN_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn chaos_bench_loses_nothing_duplicates_nothing_and_projections_equal_a_rebuild() {
    let _turn = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let (report, stderr, ok) = ci_form("300", "50", &[]);
    for key in KEYS {
        assert!(report.get(key).is_some(), "{key} missing in {report}");
    }
    // The faults landed while work was in flight, or the checks prove nothing.
    assert!(report["kills"].as_u64() >= Some(5), "{report}");
    assert!(report["kills_mid_step"].as_u64() >= Some(1), "{report}");
    assert_eq!(report["broker_restarts"], 1, "{report}");
    assert_eq!(report["stream_replicas"], 1, "{report}");
    assert_eq!(report["conversations"], 300, "{report}");
    assert_eq!(report["terminal"], 300, "{report}\n{stderr}");
    assert_eq!(report["duplicates"], 0, "{report}");
    assert_eq!(report["lost"], 0, "{report}");
    assert_eq!(report["projection_mismatches"], 0, "{report}");
    assert!(ok, "{report}\n{stderr}");
}

#[test]
fn chaos_bench_on_a_cluster_survives_killing_the_stream_leader() {
    let _turn = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let (report, stderr, ok) = ci_form("200", "90", &["--cluster"]);
    assert_eq!(report["cluster"], true, "{report}");
    assert_eq!(report["stream_replicas"], 3, "{report}");
    // The kill landed on the node leading the stream, and another took over.
    let failovers = report["failovers"].as_array().expect("failovers");
    assert_eq!(failovers.len(), 1, "{report}");
    let killed = failovers[0]["killed"].as_str().expect("killed");
    let new_leader = failovers[0]["new_leader"].as_str().expect("new leader");
    assert!(killed.starts_with("switchboard-n"), "{report}");
    assert!(new_leader.starts_with("switchboard-n"), "{report}");
    assert_ne!(killed, new_leader, "{report}");
    assert!(report["kills"].as_u64() >= Some(3), "{report}");
    assert_eq!(report["terminal"], 200, "{report}\n{stderr}");
    assert_eq!(report["duplicates"], 0, "{report}");
    assert_eq!(report["lost"], 0, "{report}");
    assert_eq!(report["projection_mismatches"], 0, "{report}");
    assert_eq!(
        report["dead_letters"], 0,
        "a failover is no reason to give up: {report}"
    );
    assert!(ok, "{report}\n{stderr}");
}

/// The live projection in Cosmos DB (a Cosmos SQL-API server on loopback,
/// `switchboard_tests::cosmos`): the projector processes write it while
/// every process, the projector included, is killed at least once, and it
/// equals a SQLite replay of the log.
#[test]
fn chaos_bench_with_the_live_projection_on_cosmos_equals_a_sqlite_replay() {
    let test = "chaos_bench_with_the_live_projection_on_cosmos_equals_a_sqlite_replay";
    let Some(cosmos) = switchboard_tests::cosmos::start_or_skip(test) else {
        return;
    };
    let _turn = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let mut env = cosmos.client_env();
    env.push(("COSMOS_ENDPOINT", cosmos.endpoint().to_owned()));
    env.push(("COSMOS_KEY", switchboard_tests::cosmos::KEY.to_owned()));
    env.push(("COSMOS_DATABASE", "chaos".to_owned()));
    env.push(("COSMOS_CREATE_IF_MISSING", "true".to_owned()));
    let (report, stderr, ok) = ci_form_with("250", "60", &[], &env);
    assert_eq!(report["live_store"], "cosmos", "{report}");
    // A whole deck of victims (each of the 7 processes once, seeded order).
    assert!(report["kills"].as_u64() >= Some(7), "{report}");
    assert!(
        report["kills_by_member"]["projector"][0].as_u64() >= Some(1),
        "the projector writing to Cosmos DB was not killed: {report}"
    );
    assert!(report["kills_mid_step"].as_u64() >= Some(1), "{report}");
    assert_eq!(report["terminal"], 250, "{report}\n{stderr}");
    assert_eq!(report["duplicates"], 0, "{report}");
    assert_eq!(report["lost"], 0, "{report}");
    assert!(
        report["documents_compared"].as_u64() >= Some(150),
        "{report}"
    );
    assert_eq!(report["projection_mismatches"], 0, "{report}");
    assert_eq!(report["projector_caught_up"], true, "{report}");
    assert!(ok, "{report}\n{stderr}\n{}", cosmos.log());
}

#[tokio::test]
async fn projector_subcommand_folds_the_log_and_stops_quietly_on_sigterm() {
    let server = TestServer::start();
    let url = server.url();
    let _store = server.store().await;
    let bin = env!("CARGO_BIN_EXE_switchboard");
    let published = run_command(
        cli(
            bin,
            &url,
            &["publish", "brewvi/p1", "--text", "Where is order #10234?"],
        ),
        None,
    );
    assert!(published.status.success(), "{}", text(&published.stderr));
    let dir = tempfile::tempdir().expect("a temporary directory can be created");
    let db = dir.path().join("projections.sqlite");
    let db = db.to_str().expect("a temporary path is UTF-8");
    let projector = cli(bin, &url, &["projector", "--db", db])
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    eventually(
        "the conversation in the projection",
        Duration::from_secs(20),
        || async {
            let out = run_command(
                cli(
                    bin,
                    &url,
                    &[
                        "query",
                        "conversations",
                        "--tenant",
                        "brewvi",
                        "--json",
                        "--db",
                        db,
                    ],
                ),
                None,
            );
            text(&out.stdout).contains("\"p1\"").then_some(())
        },
    )
    .await;
    let pid = nix::unistd::Pid::from_raw(projector.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM is sent");
    let out = tokio::task::spawn_blocking(move || projector.wait_with_output())
        .await
        .expect("the wait task runs")
        .expect("the projector exits");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        !stderr.to_lowercase().contains("connect"),
        "connection chatter on stderr: {stderr}"
    );
}
