//! The gateway's CLI companions end to end against a real nats-server:
//! `keys create` prints a key once and `keys list` never does, `keys
//! revoke` removes it, and `audit export` / `audit verify` accept an
//! untouched export and name the line of an edited one.

use std::process::Output;

use switchboard_tests::{TestServer, cli, run_command, text};

fn switchboard(url: &str, args: &[&str]) -> Output {
    run_command(cli(env!("CARGO_BIN_EXE_switchboard"), url, args), None)
}

#[test]
fn a_key_is_shown_once_listed_without_its_secret_and_revoked() {
    let server = TestServer::start();
    let url = server.url();
    let created = switchboard(
        &url,
        &[
            "keys", "create", "--tenant", "brewvi", "--role", "operate", "--label", "ana",
        ],
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let key = text(&created.stdout).trim().to_owned();
    assert!(key.starts_with("sbk_"), "{key}");
    let id = key.split('_').nth(1).expect("an id").to_owned();
    let listed = text(&switchboard(&url, &["keys", "list"]).stdout);
    assert!(
        listed.contains(&id) && listed.contains("operate") && listed.contains("ana"),
        "{listed}"
    );
    assert!(!listed.contains(&key), "the secret is never listed");
    let revoked = switchboard(&url, &["keys", "revoke", &id]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    assert!(!text(&switchboard(&url, &["keys", "list"]).stdout).contains(&id));
    let unknown = switchboard(&url, &["keys", "revoke", &id]);
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("no API key with id"),
        "{}",
        text(&unknown.stderr)
    );
}

#[test]
fn an_exported_log_verifies_and_an_edited_copy_names_its_line() {
    let server = TestServer::start();
    let url = server.url();
    assert!(switchboard(&url, &["streams", "apply"]).status.success());
    for (conversation, words) in [("brewvi/a1", "first words"), ("brewvi/a2", "second words")] {
        let published = switchboard(&url, &["publish", conversation, "--text", words]);
        assert!(published.status.success(), "{}", text(&published.stderr));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("audit.jsonl");
    let file_arg = file.to_str().expect("utf-8 path");
    let exported = switchboard(
        &url,
        &["audit", "export", "--tenant", "brewvi", "--out", file_arg],
    );
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    assert!(
        text(&exported.stderr).contains("exported 2 messages"),
        "{}",
        text(&exported.stderr)
    );
    let verified = switchboard(&url, &["audit", "verify", file_arg]);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    assert!(text(&verified.stdout).contains("2 messages, chain intact"));

    let export = std::fs::read_to_string(&file).expect("the export");
    let edited = dir.path().join("edited.jsonl");
    std::fs::write(&edited, export.replace("second words", "other words")).expect("written");
    let refused = switchboard(&url, &["audit", "verify", edited.to_str().expect("utf-8")]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("line 2"),
        "{}",
        text(&refused.stderr)
    );
    // A key the auditor trusts that did not sign it.
    let other = "11".repeat(32);
    let wrong_key = switchboard(&url, &["audit", "verify", file_arg, "--public-key", &other]);
    assert!(!wrong_key.status.success());
}
