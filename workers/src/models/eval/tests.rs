//! The eval in a short form: the project's own held-out sets and the shared
//! data's held-out parts, measured with the shipped agents. The floors below
//! are regression guards at the level measured when they were set; the
//! targets of the agents issue are printed beside each figure.

use std::path::PathBuf;

use super::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[tokio::test]
async fn own_sets_and_shared_held_out_parts_stay_above_regression_floors() {
    let mut options = EvalOptions::own_sets(&repo().join("workers/eval"));
    let shared = repo().join("../shared/data");
    if shared.join("MANIFEST.md").exists() {
        options.shared = Some(shared);
    } else {
        eprintln!("skipped: shared data not found at {}", shared.display());
    }
    let report = run_eval(&options).await.expect("the sets are readable");
    eprintln!("{report}");
    for i in &report.intent {
        assert!(i.accuracy.rate >= 0.5, "{}: {}", i.set, i.accuracy);
    }
    for s in &report.screening {
        assert!(
            s.false_positives.rate <= 0.05,
            "{}: {}",
            s.set,
            s.false_positives
        );
    }
    if let Some(pii) = &report.pii {
        assert!(pii.overall.rate >= 0.95, "pii {}", pii.overall);
    }
    // The held-out misses are counted and named by id, never quoted.
    for e in &report.escalation {
        assert!(
            e.wrong.iter().all(|(_, _, why)| why == WITHHELD),
            "{}",
            e.set
        );
    }
    for r in &report.retrieval {
        assert!(r.missed.iter().all(|(q, _)| q == WITHHELD), "{}", r.set);
    }
}

/// The development probes of the fourth round (`workers/eval-dev/`), at
/// floors a little under their end-of-round figures: a change that undoes
/// a class the round fixed fails here, not only on the held-out sets.
#[tokio::test]
async fn the_development_probes_stay_above_their_floors() {
    let dev = repo().join("workers/eval-dev");
    let options = EvalOptions {
        intent: vec![dev.join("intents-fr-es.csv")],
        escalation: vec![
            dev.join("escalation-probe5.jsonl"),
            dev.join("escalation-probe6.jsonl"),
        ],
        retrieval: vec![
            dev.join("retrieval-probe1.jsonl"),
            dev.join("retrieval-probe2.jsonl"),
        ],
        ..EvalOptions::default()
    };
    let report = run_eval(&options).await.expect("the probes are readable");
    eprintln!("{report}");
    let [fr_es] = report.intent.as_slice() else {
        panic!("one intent set");
    };
    assert!(fr_es.accuracy.rate >= 0.78, "{}", fr_es.accuracy);
    assert!(
        fr_es.low_confidence.rate <= 0.16,
        "{}",
        fr_es.low_confidence
    );
    assert_eq!(report.escalation.len(), 2);
    for e in &report.escalation {
        assert!(e.accuracy.rate >= 0.9, "{}: {}", e.set, e.accuracy);
        // The hand-offs by reason are every hand-off, and the wanted ones
        // every true positive.
        let by_reason = e.by_reason.values();
        let (total, wanted) = by_reason.fold((0, 0), |(t, w), h| (t + h.total, w + h.wanted));
        assert_eq!(
            (total, wanted),
            (e.precision.total, e.precision.hits),
            "{}",
            e.set
        );
    }
    assert_eq!(report.retrieval.len(), 2);
    for r in &report.retrieval {
        assert!(r.recall_at_5.rate >= 0.95, "{}: {}", r.set, r.recall_at_5);
    }
}

#[test]
fn bad_set_files_name_the_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let intents = dir.path().join("i.csv");
    std::fs::write(
        &intents,
        "text,label\nwhere is it,ORDER_STATUS\nhi,GREETING\n",
    )
    .expect("write");
    let err = read_intent_csv(&intents).expect_err("GREETING is not a label");
    assert!(err.to_string().contains("line 3"), "{err}");
    let screening = dir.path().join("s.csv");
    std::fs::write(&screening, "text,label\nhello,MAYBE\n").expect("write");
    let err = read_screening_csv(&screening).expect_err("MAYBE is not a verdict");
    assert!(err.to_string().contains("line 2"), "{err}");
    let esc = dir.path().join("e.jsonl");
    std::fs::write(
        &esc,
        "{\"id\":\"a\",\"turns\":[\"hi\"],\"human\":false}\n{nope}\n",
    )
    .expect("write");
    let err = read_escalation_jsonl(&esc).expect_err("line 2 is not JSON");
    assert!(err.to_string().contains("line 2"), "{err}");
}

#[test]
fn wording_columns_are_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let intents = dir.path().join("i.csv");
    std::fs::write(
        &intents,
        "text,label,wording\nwher is my oder,ORDER_STATUS,misspelled\n",
    )
    .expect("write");
    let rows = read_intent_csv(&intents).expect("valid");
    assert_eq!(rows[0].wording.as_deref(), Some("misspelled"));
}
