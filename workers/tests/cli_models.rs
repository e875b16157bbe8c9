//! The model commands of the `switchboard` binary end to end: `models
//! train`, `eval` and `config check`, as an operator runs them (no NATS).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use switchboard_engine::event::Intent;
use switchboard_tests::text;
use switchboard_workers::models::IntentModel;

/// Runs the binary with a clean model environment plus `env`.
fn switchboard(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    cmd.args(args).env("RUST_LOG", "warn");
    for name in [
        "AZURE_OPENAI_ENDPOINT",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_DEPLOYMENT",
        "AZURE_OPENAI_AUTH",
        "AZURE_CLIENT_ID",
        "SWITCHBOARD_OPENAI_BASE_URL",
        "SWITCHBOARD_OPENAI_MODEL",
        "SWITCHBOARD_OPENAI_API_KEY",
        "SWITCHBOARD_REMOTE_AGENTS",
        "SWITCHBOARD_INTENT_MODEL",
    ] {
        cmd.env_remove(name);
    }
    cmd.envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

const TRAINING_CSV: &str = "text,label
where is my order,ORDER_STATUS
has my package shipped yet,ORDER_STATUS
track my parcel please,ORDER_STATUS
I want to return this grinder,RETURN_REQUEST
how do I send back my machine,RETURN_REQUEST
return the kettle I bought,RETURN_REQUEST
I forgot my password,ACCOUNT_HELP
cannot log in to my account,ACCOUNT_HELP
reset my login details,ACCOUNT_HELP
";

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("the temp dir is writable");
    path
}

#[test]
fn models_train_writes_a_model_that_loads_and_classifies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = write(dir.path(), "train.csv", TRAINING_CSV);
    let out = dir.path().join("model.json");
    let run = switchboard(
        &[
            "models",
            "train",
            "--data",
            data.to_str().expect("utf-8 temp path"),
            "--out",
            out.to_str().expect("utf-8 temp path"),
        ],
        &[],
    );
    let stdout = text(&run.stdout);
    assert!(run.status.success(), "{}{}", stdout, text(&run.stderr));
    assert!(stdout.contains("ORDER_STATUS"), "{stdout}");
    assert!(stdout.contains("training accuracy"), "{stdout}");
    let model = IntentModel::load(&out).expect("the trained model loads");
    assert_eq!(model.predict("where is my order").0, Intent::OrderStatus);
}

#[test]
fn models_train_rejects_an_unknown_label_with_its_line_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = write(
        dir.path(),
        "bad.csv",
        "text,label\nwhere is my order,ORDER_STATUS\nhello there,GREETINGS\n",
    );
    let out = dir.path().join("model.json");
    let run = switchboard(
        &[
            "models",
            "train",
            "--data",
            data.to_str().expect("utf-8 temp path"),
            "--out",
            out.to_str().expect("utf-8 temp path"),
        ],
        &[],
    );
    let stderr = text(&run.stderr);
    assert!(!run.status.success());
    assert!(stderr.contains("bad.csv:3"), "{stderr}");
    assert!(stderr.contains("GREETINGS"), "{stderr}");
    assert!(!out.exists(), "nothing is written on a bad label");
}

#[test]
fn eval_json_reports_intent_accuracy() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    if !data.is_dir() {
        println!("skipped: {} not present", data.display());
        return;
    }
    let run = switchboard(
        &[
            "eval",
            "--json",
            "--data",
            data.to_str().expect("utf-8 path"),
        ],
        &[],
    );
    assert!(run.status.success(), "{}", text(&run.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&run.stdout).expect("eval --json prints JSON");
    let sets = report["intent"].as_array().expect("intent sets");
    let bitext = sets
        .iter()
        .find(|s| {
            s["set"]
                .as_str()
                .is_some_and(|n| n.contains("Bitext held-out"))
        })
        .expect("the shared Bitext held-out part is measured");
    let accuracy = bitext["accuracy"]["rate"]
        .as_f64()
        .expect("the report has the intent accuracy");
    assert!((0.0..=1.0).contains(&accuracy), "{accuracy}");
    assert!(report["pii"]["overall"]["rate"].as_f64().is_some());
}

#[test]
fn eval_measures_a_users_own_intent_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let set = dir.path().join("mine.csv");
    std::fs::write(
        &set,
        "text,label,wording\nwhere is my order 10234,ORDER_STATUS,clean\nwher is my oder,ORDER_STATUS,misspelled\nhow many points do i have,LOYALTY_PROGRAM,clean\n",
    )
    .expect("write the set");
    let run = switchboard(
        &[
            "eval",
            "--json",
            "--intent",
            set.to_str().expect("utf-8 path"),
        ],
        &[],
    );
    assert!(run.status.success(), "{}", text(&run.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&run.stdout).expect("eval --json prints JSON");
    let sets = report["intent"].as_array().expect("intent sets");
    assert_eq!(sets.len(), 1, "only the given file is measured");
    assert_eq!(sets[0]["accuracy"]["total"], 3);
    assert!(report["pii"].is_null(), "no shared data without --data");
    let wordings = sets[0]["per_wording"].as_array().expect("per wording");
    assert_eq!(wordings.len(), 2, "clean and misspelled");
}

#[test]
fn eval_names_a_missing_data_folder() {
    let run = switchboard(&["eval", "--data", "/nonexistent/switchboard-data"], &[]);
    assert!(!run.status.success());
    assert!(
        text(&run.stderr).contains("/nonexistent/switchboard-data"),
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn config_check_masks_secrets() {
    let run = switchboard(
        &["config", "check"],
        &[
            ("NATS_URL", "nats://alice:natspw@127.0.0.1:4222"),
            ("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com"),
            ("AZURE_OPENAI_DEPLOYMENT", "gpt-4o-mini"),
            ("AZURE_OPENAI_API_KEY", "sk-super-secret-value"),
            ("SWITCHBOARD_REMOTE_AGENTS", "intent,critic"),
            ("COSMOS_ENDPOINT", "https://db.documents.azure.com:443/"),
        ],
    );
    let stdout = text(&run.stdout);
    assert!(run.status.success(), "{stdout}{}", text(&run.stderr));
    assert!(!stdout.contains("sk-super-secret-value"), "{stdout}");
    assert!(!stdout.contains("natspw"), "{stdout}");
    assert!(stdout.contains("***"), "{stdout}");
    assert!(stdout.contains("https://res.openai.azure.com"), "{stdout}");
    assert!(stdout.contains("gpt-4o-mini"), "{stdout}");
    assert!(stdout.contains("intent=remote"), "{stdout}");
    assert!(stdout.contains("knowledge=local"), "{stdout}");
    assert!(stdout.contains("key (***)"), "{stdout}");
    assert!(
        stdout.contains("https://db.documents.azure.com"),
        "{stdout}"
    );
}

#[test]
fn config_check_fails_on_remote_agents_without_an_endpoint() {
    let run = switchboard(
        &["config", "check"],
        &[("SWITCHBOARD_REMOTE_AGENTS", "intent")],
    );
    assert!(!run.status.success());
    assert!(
        text(&run.stderr).contains("AZURE_OPENAI_ENDPOINT"),
        "{}",
        text(&run.stderr)
    );
}

const AZURE: [(&str, &str); 2] = [
    ("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com"),
    ("AZURE_OPENAI_DEPLOYMENT", "gpt-4o-mini"),
];

#[test]
fn config_check_accepts_entra_id_for_azure_openai() {
    let client_id = "11111111-2222-3333-4444-555555555555";
    for auth in [Some("entra"), None] {
        let mut env = AZURE.to_vec();
        env.extend([
            ("AZURE_CLIENT_ID", client_id),
            ("SWITCHBOARD_REMOTE_AGENTS", "response,critic"),
        ]);
        env.extend(auth.map(|a| ("AZURE_OPENAI_AUTH", a)));
        let run = switchboard(&["config", "check"], &env);
        let stdout = text(&run.stdout);
        assert!(
            run.status.success(),
            "{auth:?}: {stdout}{}",
            text(&run.stderr)
        );
        assert!(
            stdout.contains(&format!("entra: managed identity, client id {client_id}")),
            "{auth:?}: {stdout}"
        );
        assert!(stdout.contains("response=remote"), "{stdout}");
        assert!(stdout.contains("critic=remote"), "{stdout}");
        assert!(stdout.contains("intent=local"), "{stdout}");
    }
}

#[test]
fn explicit_entra_wins_over_a_key_and_developer_login_is_offered() {
    let mut env = AZURE.to_vec();
    env.extend([
        ("AZURE_OPENAI_API_KEY", "sk-super-secret-value"),
        ("AZURE_OPENAI_AUTH", "entra"),
        ("SWITCHBOARD_REMOTE_AGENTS", "response"),
    ]);
    let run = switchboard(&["config", "check"], &env);
    let stdout = text(&run.stdout);
    assert!(run.status.success(), "{stdout}{}", text(&run.stderr));
    assert!(
        stdout.contains("entra: system-assigned managed identity"),
        "{stdout}"
    );
    assert!(!stdout.contains("sk-super-secret-value"), "{stdout}");

    let mut env = AZURE.to_vec();
    env.extend([
        ("AZURE_OPENAI_AUTH", "developer"),
        ("SWITCHBOARD_REMOTE_AGENTS", "intent"),
    ]);
    let run = switchboard(&["config", "check"], &env);
    let stdout = text(&run.stdout);
    assert!(run.status.success(), "{stdout}{}", text(&run.stderr));
    assert!(
        stdout.contains("developer: Azure CLI / azd login"),
        "{stdout}"
    );
}

#[test]
fn config_check_fails_on_azure_openai_without_key_or_entra() {
    let mut env = AZURE.to_vec();
    env.push(("SWITCHBOARD_REMOTE_AGENTS", "response"));
    let run = switchboard(&["config", "check"], &env);
    assert!(!run.status.success());
    let stderr = text(&run.stderr);
    assert!(stderr.contains("AZURE_OPENAI_AUTH=entra"), "{stderr}");

    env.push(("AZURE_OPENAI_AUTH", "key"));
    let run = switchboard(&["config", "check"], &env);
    assert!(!run.status.success());
    let stderr = text(&run.stderr);
    assert!(stderr.contains("needs AZURE_OPENAI_API_KEY"), "{stderr}");
}

#[test]
fn agents_without_a_remote_path_are_refused() {
    let mut env = AZURE.to_vec();
    env.extend([
        ("AZURE_OPENAI_API_KEY", "sk-test"),
        ("SWITCHBOARD_REMOTE_AGENTS", "knowledge"),
    ]);
    let run = switchboard(&["config", "check"], &env);
    assert!(!run.status.success());
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains("invalid value 'knowledge'")
            && stderr.contains("intent, critic, response, all"),
        "the refusal names the agents that have a remote path: {stderr}"
    );
}
