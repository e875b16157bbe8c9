//! `switchboard kb` and `switchboard tenant` end to end against a real
//! nats-server: what an operator types and what it prints, errors that
//! name file, record and field, and quiet output when stderr is not a
//! terminal.

use std::process::Output;

use switchboard_tests::{TestServer, cli, run_command, text};

fn switchboard(url: &str, args: &[&str]) -> Output {
    run_command(cli(env!("CARGO_BIN_EXE_switchboard"), url, args), None)
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "failed: {}", text(&out.stderr));
    assert!(
        text(&out.stderr).is_empty(),
        "not quiet: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[test]
fn kb_import_list_remove() {
    let server = TestServer::start();
    let url = server.url();
    let dir = tempfile::tempdir().expect("tempdir");
    let kb = dir.path().join("kb");
    std::fs::create_dir_all(&kb).expect("dir");
    std::fs::write(
        kb.join("returns.md"),
        "---\ntitle: Returns\nlanguage: en\ntags: [returns]\n---\n## returns.window: Window\nWithin 30 days.\n\n## returns.fees: Fees\nNo fees.\n",
    )
    .expect("write");
    std::fs::write(
        kb.join("more.json"),
        r#"[{"id":"hours","title":"Hours","language":"fr","body":"Ouvert de 9h à 17h."}]"#,
    )
    .expect("write");
    let kb_dir = kb.display().to_string();
    let imported = ok(&switchboard(&url, &["kb", "import", "acme", &kb_dir]));
    assert!(
        imported.contains("returns: created (2 passages"),
        "{imported}"
    );
    assert!(
        imported.contains("hours: created (1 passages"),
        "{imported}"
    );

    let listed = ok(&switchboard(&url, &["kb", "list", "acme"]));
    let rows: Vec<&str> = listed.lines().collect();
    assert_eq!(rows.len(), 2, "{listed}");
    assert!(
        rows[0].starts_with("hours\tHours\tfr\t1 passages\trevision "),
        "{listed}"
    );
    assert!(
        rows[1].starts_with("returns\tReturns\ten\t2 passages\trevision "),
        "{listed}"
    );

    let bad = dir.path().join("bad.md");
    std::fs::write(&bad, "## returns window without colon\ntext\n").expect("write");
    let failed = switchboard(&url, &["kb", "import", "acme", &bad.display().to_string()]);
    assert!(!failed.status.success());
    let message = text(&failed.stderr);
    assert!(
        message.contains("bad.md") && message.contains("returns window without colon"),
        "{message}"
    );
    assert_eq!(
        ok(&switchboard(&url, &["kb", "list", "acme"])),
        listed,
        "nothing changed"
    );

    let removed = ok(&switchboard(&url, &["kb", "remove", "acme", "hours"]));
    assert!(removed.contains("document hours removed"), "{removed}");
    let listed = ok(&switchboard(&url, &["kb", "list", "acme", "--json"]));
    assert_eq!(listed.lines().count(), 1, "{listed}");
    let row: serde_json::Value = serde_json::from_str(listed.trim()).expect("json line");
    assert_eq!(row["id"], "returns");
    assert_eq!(row["passages"], 2);
    let again = switchboard(&url, &["kb", "remove", "acme", "hours"]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("no document hours"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn tenant_import_reads_the_shopify_sample_and_names_bad_fields() {
    let server = TestServer::start();
    let url = server.url();
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/brewvi");
    let imported = ok(&switchboard(&url, &["tenant", "import", "acme", sample]));
    for kind in [
        "products: created",
        "orders: created",
        "customers: created",
        "loyalty: created",
    ] {
        assert!(imported.contains(kind), "{kind} missing from {imported}");
    }
    assert!(
        imported.contains("converted from the Shopify-like shape"),
        "{imported}"
    );
    let again = ok(&switchboard(&url, &["tenant", "import", "acme", sample]));
    assert!(again.contains("orders: unchanged"), "{again}");

    let dir = tempfile::tempdir().expect("tempdir");
    let mut orders: serde_json::Value =
        serde_json::from_str(include_str!("../kb/brewvi/orders.json")).expect("json");
    orders["orders"][0]["items"][1]["quantity"] = serde_json::json!(-2);
    std::fs::write(dir.path().join("orders.json"), orders.to_string()).expect("write");
    let failed = switchboard(
        &url,
        &[
            "tenant",
            "import",
            "acme",
            &dir.path().display().to_string(),
        ],
    );
    assert!(!failed.status.success());
    let message = text(&failed.stderr);
    assert!(
        message.contains("orders.json: order #1 (id ORD-10234): field \"items[1].quantity\""),
        "{message}"
    );
    let after = ok(&switchboard(&url, &["tenant", "import", "acme", sample]));
    assert!(
        after.contains("orders: unchanged"),
        "the bad import wrote nothing: {after}"
    );

    // The project's own tenant directory imports as it is: documents by
    // `kb import` (README and record files skipped), records by `tenant import`.
    let own = concat!(env!("CARGO_MANIFEST_DIR"), "/kb/brewvi");
    let docs = ok(&switchboard(&url, &["kb", "import", "copy", own]));
    assert!(
        docs.contains("faq: created") && docs.contains("policies: created"),
        "{docs}"
    );
    // policies, faq and their French and Spanish translations.
    assert!(docs.contains("copy: 4 documents imported"), "{docs}");
    let records = ok(&switchboard(&url, &["tenant", "import", "copy", own]));
    assert!(
        records.contains("orders: created") && !records.contains("converted"),
        "{records}"
    );

    let seeded = ok(&switchboard(&url, &["tenant", "seed-demo"]));
    assert!(seeded.contains("brewvi: demo data loaded"), "{seeded}");
    let seeded = ok(&switchboard(&url, &["tenant", "seed-demo"]));
    assert!(seeded.contains("has data already"), "{seeded}");
}
