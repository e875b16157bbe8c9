//! `switchboard bench append`, `bench pipeline` and `bench soak` in a short form: each
//! starts its own managed nats-server, measures, and prints the keys users
//! track in their own CI. (The figures themselves come from release runs;
//! see the README.)

use std::process::Command;

use switchboard_tests::{run_command, server_binary, text};

/// Runs a bench with `--json` and returns its report.
fn bench(args: &[&str]) -> serde_json::Value {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    command
        .arg("bench")
        .args(args)
        .arg("--json")
        .env("SWITCHBOARD_NATS_SERVER", server_binary().path())
        .env("RUST_LOG", "warn");
    let out = run_command(command, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = text(&out.stdout);
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("not JSON ({e}): {json}"))
}

fn positive(report: &serde_json::Value, keys: &[&str]) {
    for key in keys {
        assert!(
            report[key].as_f64().is_some_and(|v| v > 0.0),
            "{key} in {report}"
        );
    }
}

#[test]
fn bench_append_reports_rates_ratios_and_load_latency() {
    let report = bench(&[
        "append",
        "--conversations",
        "20",
        "--events",
        "6",
        "--rounds",
        "1",
        "--load-samples",
        "5",
        "--fill",
        "12000",
    ]);
    positive(
        &report,
        &[
            "baseline_per_s",
            "append_per_s",
            "append_ratio",
            "batch_append_per_s",
            "batch_ratio",
            "sealed_append_per_s",
            "sealed_ratio",
            "load_p50_ms_10k",
            "load_p99_ms_10k",
            "load_p99_ms_1m",
            "raw_load_p50_ms_10k",
            "raw_load_p99_ms_10k",
        ],
    );
    // The measured conversations were written among others, not alone.
    assert_eq!(report["load_measured_conversations"], 20, "{report}");
    assert_eq!(report["load_interleaved_with"], 80, "{report}");
}

#[test]
fn bench_pipeline_answers_every_message_and_reports_rates_and_latency() {
    let report = bench(&[
        "pipeline",
        "--messages",
        "40",
        "--latency-messages",
        "10",
        "--compare-sealed",
    ]);
    positive(
        &report,
        &[
            "messages_per_s",
            "conversations_per_s",
            "events_per_s",
            "baseline_per_s",
            "ratio",
            "p50_ms",
            "p99_ms",
            "unsealed_rerun_per_s",
            "sealed_conversations_per_s",
            "sealed_ratio",
        ],
    );
    // Every conversation of the four runs (40 + 10, then 40 unsealed and
    // 40 sealed) was answered exactly once, read back from the log.
    assert_eq!(report["answered_once"], 130, "{report}");
    assert_eq!(report["unanswered"], 0, "{report}");
    assert_eq!(report["answered_twice"], 0, "{report}");
    // Every message goes through all five agents: seven events each.
    let per_message = report["events_per_s"].as_f64().unwrap_or(0.0)
        / report["messages_per_s"].as_f64().unwrap_or(1.0);
    assert!(
        (6.5..7.5).contains(&per_message),
        "{per_message} events per message: {report}"
    );
}

#[test]
fn bench_pipeline_with_two_replicas_runs_each_shape_and_answers_every_conversation_once() {
    let report = bench(&[
        "pipeline",
        "--replicas",
        "2",
        "--messages",
        "120",
        "--warmup",
        "30",
    ]);
    assert_eq!(report["replicas"], 2, "{report}");
    assert_eq!(report["agents"], "all", "{report}");
    let shapes = report["shapes"].as_array().expect("shapes");
    // `up`, then one replica, then two, in that order.
    let processes: Vec<u64> = shapes
        .iter()
        .filter_map(|s| s["processes"].as_u64())
        .collect();
    assert_eq!(processes, [1, 1, 2], "{report}");
    assert_eq!(shapes[0]["partitions"], 0, "{report}");
    for shape in shapes {
        assert_eq!(shape["answered_once"], 120, "{shape}");
        assert_eq!(shape["unanswered"], 0, "{shape}");
        assert_eq!(shape["answered_twice"], 0, "{shape}");
        assert!(shape["conversations_per_s"].as_f64() > Some(0.0), "{shape}");
    }
    for shape in &shapes[1..] {
        // Two partitions per replica by default.
        assert_eq!(shape["partitions"], 4, "{shape}");
        assert!(shape["ratio_to_up"].as_f64() > Some(0.0), "{shape}");
    }
}

#[test]
fn bench_soak_answers_every_message_and_samples_memory_and_lag_per_window() {
    // 9 s at 20 conversations/s, a window every 3 s.
    let report = bench(&[
        "soak",
        "--minutes",
        "0.15",
        "--rate",
        "20",
        "--window-s",
        "3",
    ]);
    assert_eq!(report["sent"], 180, "{report}");
    assert_eq!(report["answered"], 180, "{report}");
    positive(
        &report,
        &[
            "rss_start_mb",
            "rss_end_mb",
            "rss_max_mb",
            "p50_ms",
            "p99_ms",
        ],
    );
    let windows = report["windows"].as_array().expect("windows");
    assert!(windows.len() >= 3, "{report}");
    for w in windows {
        assert!(w["rss_mb"].as_f64().is_some_and(|v| v > 0.0), "{w}");
    }
    // Every answer belongs to the window its message was scheduled in.
    let answered: u64 = windows.iter().filter_map(|w| w["answered"].as_u64()).sum();
    assert_eq!(answered, 180, "{report}");
    assert!(report["lag_max"].as_u64() < Some(180), "{report}");
}

#[test]
fn bench_soak_refuses_a_run_of_no_length() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    command
        .args(["bench", "soak", "--minutes", "0"])
        .env("SWITCHBOARD_NATS_SERVER", server_binary().path())
        .env("RUST_LOG", "warn");
    let out = run_command(command, None);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--minutes and --window-s must be positive"),
        "{stderr}"
    );
}
