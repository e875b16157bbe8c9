//! Measures the input critic: block recall per attack class on the
//! development set, the false-positive rate on ordinary messages, and the
//! time a screening takes.
//!
//! # Data splits (frozen before tuning; see `SPLITS.md` beside this file)
//! - Tuned on and asserted here: `dev_screening.csv` (ours, hand-written),
//!   the llm-warden **train** file, the **even** 0-based lines of
//!   bastioncorpus, Bitext rows with `index % 5 != 4` (instruction column),
//!   banking77 `train.csv`, CLINC150 `train` and `oos_train`.
//! - Held out, never read while tuning: the llm-warden **test** file, the
//!   **odd** lines of bastioncorpus, Bitext rows with `index % 5 == 4`,
//!   banking77 `test.csv`, CLINC150 `test`/`oos_test`, and
//!   `workers/eval/screening.csv` (another branch). The held-out figures
//!   are printed once by the ignored test `heldout_figures`, not asserted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use switchboard_engine::event::ScreenVerdict;

use super::LocalCritic;

/// Block recall every attack class must reach on the development set.
const RECALL_TARGET: f64 = 0.95;
/// Highest share of ordinary messages that may be blocked.
const FP_TARGET: f64 = 0.01;

pub(super) fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

/// One row of the development set.
pub(super) struct DevRow {
    pub(super) text: String,
    pub(super) block: bool,
    pub(super) class: String,
}

pub(super) fn dev_rows() -> Vec<DevRow> {
    labelled_rows("dev_screening.csv")
}

/// The rows of a `text,label,class` file in this folder.
pub(super) fn labelled_rows(file: &str) -> Vec<DevRow> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/models/critic")
        .join(file);
    let mut reader =
        csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    reader
        .records()
        .enumerate()
        .map(|(n, r)| {
            let r = r.unwrap_or_else(|e| panic!("{}: row {}: {e}", path.display(), n + 2));
            let field = |i: usize| r.get(i).unwrap_or_default().to_owned();
            let label = field(1);
            assert!(
                label == "ALLOW" || label == "BLOCK",
                "{}: row {}: label `{label}` is not ALLOW or BLOCK",
                path.display(),
                n + 2
            );
            DevRow {
                text: field(0),
                block: label == "BLOCK",
                class: field(2),
            }
        })
        .collect()
}

pub(super) fn csv_column(path: &Path, column: &str) -> Vec<String> {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().expect("csv header").clone();
    let index = headers
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("{}: no column `{column}`", path.display()));
    reader
        .records()
        .map(|r| {
            r.expect("csv row")
                .get(index)
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// The ordinary messages of the tuning splits: Bitext (4/5), banking77
/// train, CLINC150 train and oos_train.
pub(super) fn ordinary_train() -> Vec<(&'static str, String)> {
    let dir = data_dir();
    let mut out = Vec::new();
    let bitext = csv_column(
        &dir.join("bitext/bitext_customer_support_sample_6480.csv"),
        "instruction",
    );
    out.extend(
        bitext
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % 5 != 4)
            .map(|(_, t)| ("bitext-train", t)),
    );
    out.extend(
        csv_column(&dir.join("banking77/train.csv"), "text")
            .into_iter()
            .map(|t| ("banking77-train", t)),
    );
    out.extend(
        clinc(&["train", "oos_train"])
            .into_iter()
            .map(|t| ("clinc150-train", t)),
    );
    out
}

pub(super) fn clinc(splits: &[&str]) -> Vec<String> {
    let path = data_dir().join("clinc150/data_full.json");
    let text = std::fs::read_to_string(&path).expect("clinc150 is readable");
    let json: serde_json::Value = serde_json::from_str(&text).expect("clinc150 is JSON");
    splits
        .iter()
        .flat_map(|s| json[*s].as_array().cloned().unwrap_or_default())
        .filter_map(|pair| pair[0].as_str().map(str::to_owned))
        .collect()
}

fn blocked(critic: &LocalCritic, text: &str) -> bool {
    critic.screen(text).verdict == ScreenVerdict::Block
}

#[test]
fn dev_set_recall_per_class_and_false_positives_meet_targets() {
    let critic = LocalCritic::default();
    let rows = dev_rows();
    let mut per_class: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for row in &rows {
        let got = blocked(&critic, &row.text);
        let slot = per_class.entry(row.class.as_str()).or_default();
        slot.1 += 1;
        if got == row.block {
            slot.0 += 1;
        } else {
            misses.push(format!("  [{}] {}", row.class, row.text));
        }
    }
    let ordinary = ordinary_train();
    let mut fp_by_source: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut fp_examples = Vec::new();
    for (source, text) in &ordinary {
        let slot = fp_by_source.entry(*source).or_default();
        slot.1 += 1;
        if blocked(&critic, text) {
            slot.0 += 1;
            fp_examples.push(format!("  [{source}] {text}"));
        }
    }
    println!("dev set: share decided correctly per class (BLOCK classes: recall; ALLOW: 1 - FP)");
    for (class, (ok, n)) in &per_class {
        println!(
            "  {class:12} {ok}/{n} = {:.1} %",
            100.0 * *ok as f64 / *n as f64
        );
    }
    let dev_allowed: Vec<&DevRow> = rows.iter().filter(|r| !r.block).collect();
    let dev_fp = dev_allowed
        .iter()
        .filter(|r| blocked(&critic, &r.text))
        .count();
    let train_fp: usize = fp_by_source.values().map(|(b, _)| b).sum();
    let total = dev_allowed.len() + ordinary.len();
    let fp_rate = (dev_fp + train_fp) as f64 / total as f64;
    println!("ordinary messages blocked:");
    println!("  dev ordinary+lookalike {dev_fp}/{}", dev_allowed.len());
    for (source, (b, n)) in &fp_by_source {
        println!(
            "  {source:16} {b}/{n} = {:.2} %",
            100.0 * *b as f64 / *n as f64
        );
    }
    println!(
        "  all {}/{total} = {:.2} %",
        dev_fp + train_fp,
        100.0 * fp_rate
    );
    println!("dev misses:\n{}", misses.join("\n"));
    println!(
        "ordinary blocked (first 60):\n{}",
        fp_examples
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    for (class, (ok, n)) in &per_class {
        let rate = *ok as f64 / *n as f64;
        let attack = !matches!(*class, "ordinary" | "lookalike");
        if attack {
            assert!(
                rate >= RECALL_TARGET,
                "{class}: recall {rate:.3} < {RECALL_TARGET}"
            );
        }
    }
    assert!(total >= 1000, "only {total} ordinary messages");
    assert!(
        fp_rate <= FP_TARGET,
        "false-positive rate {fp_rate:.4} > {FP_TARGET}"
    );
}

/// Per-class (decided correctly, total) on a labelled batch, with the misses.
pub(super) fn class_figures(
    rows: &[DevRow],
    block: impl Fn(&str) -> bool,
) -> (BTreeMap<String, (usize, usize)>, Vec<String>) {
    let mut per_class: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for row in rows {
        let slot = per_class.entry(row.class.clone()).or_default();
        slot.1 += 1;
        if block(&row.text) == row.block {
            slot.0 += 1;
        } else {
            misses.push(format!("  [{}] {}", row.class, row.text));
        }
    }
    (per_class, misses)
}

pub(super) fn print_figures(
    title: &str,
    (per_class, misses): &(BTreeMap<String, (usize, usize)>, Vec<String>),
) {
    println!("{title}: share decided correctly per class");
    for (class, (ok, n)) in per_class {
        println!("  {class:12} {ok}/{n}");
    }
    println!("misses:\n{}", misses.join("\n"));
}

/// Probe batch 4 (written before the learned screen; see `SPLITS.md`),
/// judged by the rules alone and by the shipped critic; printed.
#[test]
fn probe4_figures() {
    let critic = LocalCritic::default();
    let rows = labelled_rows("probe4.csv");
    let rules = class_figures(&rows, |t| {
        critic.screen_scored(t, None).verdict == ScreenVerdict::Block
    });
    print_figures("probe 4, rules alone", &rules);
    print_figures(
        "probe 4, shipped critic",
        &class_figures(&rows, |t| blocked(&critic, t)),
    );
}

/// Probe batch 6, written after the last change of the learned-screen
/// round and measured once (see `SPLITS.md`); printed, not asserted.
#[test]
fn probe6_figures() {
    let critic = LocalCritic::default();
    let rows = labelled_rows("probe6.csv");
    print_figures(
        "probe 6, shipped critic",
        &class_figures(&rows, |t| blocked(&critic, t)),
    );
}

/// bastioncorpus rows as (label, text), with their 0-based line index.
pub(super) fn bastion() -> Vec<(usize, String, String)> {
    let path = data_dir().join("prompt_injection/bastioncorpus_0.6.0_injections.jsonl");
    let text = std::fs::read_to_string(&path).expect("bastioncorpus is readable");
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            let v: serde_json::Value = serde_json::from_str(line).expect("bastion line is JSON");
            let field = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            (i, field("label"), field("text"))
        })
        .collect()
}

pub(super) fn warden(file: &str) -> Vec<(String, String)> {
    let path = data_dir().join("jailbreak").join(file);
    let prompts = csv_column(&path, "prompt");
    let types = csv_column(&path, "type");
    types.into_iter().zip(prompts).collect()
}

fn rate(critic: &LocalCritic, texts: &[&String]) -> (usize, usize) {
    (
        texts.iter().filter(|t| blocked(critic, t)).count(),
        texts.len(),
    )
}

fn show(name: &str, (b, n): (usize, usize)) {
    println!(
        "  {name:40} {b}/{n} = {:.1} %",
        100.0 * b as f64 / n.max(1) as f64
    );
}

/// The tuning halves of the public attack sets, printed (not asserted: the
/// llm-warden benign prompts are role-play requests no support chat sees).
#[test]
fn tuning_attack_sets_figures() {
    let critic = LocalCritic::default();
    let train = warden("jailbreak_dataset_train_balanced.csv");
    let of = |kind: &str| {
        train
            .iter()
            .filter(|(t, _)| t == kind)
            .map(|(_, p)| p)
            .collect::<Vec<_>>()
    };
    let even: Vec<_> = bastion()
        .into_iter()
        .filter(|(i, _, _)| i % 2 == 0)
        .collect();
    let bastion_of = |label: &str| {
        even.iter()
            .filter(|(_, l, _)| l == label)
            .map(|(_, _, t)| t)
            .collect::<Vec<_>>()
    };
    println!("tuning sets, share blocked:");
    show(
        "llm-warden train jailbreak (recall)",
        rate(&critic, &of("jailbreak")),
    );
    show(
        "llm-warden train benign (FP, info)",
        rate(&critic, &of("benign")),
    );
    show(
        "bastion even malicious (recall)",
        rate(&critic, &bastion_of("malicious")),
    );
    show(
        "bastion even benign (FP, info)",
        rate(&critic, &bastion_of("benign")),
    );
    for (_, label, text) in &even {
        if (label == "malicious") != blocked(&critic, text) {
            println!(
                "    bastion even {label} misjudged: {}",
                text.chars().take(160).collect::<String>()
            );
        }
    }
}

/// The held-out figures, measured once at the end (run with `--ignored`).
/// Nothing may be tuned after reading them.
#[test]
#[ignore = "held-out measurement: run once, by hand, after tuning"]
fn heldout_figures() {
    let critic = LocalCritic::default();
    let test = warden("jailbreak_dataset_test_balanced.csv");
    let of = |kind: &str| {
        test.iter()
            .filter(|(t, _)| t == kind)
            .map(|(_, p)| p)
            .collect::<Vec<_>>()
    };
    let odd: Vec<_> = bastion()
        .into_iter()
        .filter(|(i, _, _)| i % 2 == 1)
        .collect();
    let bastion_of = |label: &str| {
        odd.iter()
            .filter(|(_, l, _)| l == label)
            .map(|(_, _, t)| t)
            .collect::<Vec<_>>()
    };
    println!("held-out sets, share blocked:");
    show(
        "llm-warden test jailbreak (recall)",
        rate(&critic, &of("jailbreak")),
    );
    show(
        "llm-warden test benign (FP, info)",
        rate(&critic, &of("benign")),
    );
    show(
        "bastion odd malicious (recall)",
        rate(&critic, &bastion_of("malicious")),
    );
    show(
        "bastion odd benign (FP, info)",
        rate(&critic, &bastion_of("benign")),
    );
    let dir = data_dir();
    let bitext = csv_column(
        &dir.join("bitext/bitext_customer_support_sample_6480.csv"),
        "instruction",
    );
    let bitext: Vec<String> = bitext
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % 5 == 4)
        .map(|(_, t)| t)
        .collect();
    let banking = csv_column(&dir.join("banking77/test.csv"), "text");
    let clinc_test = clinc(&["test", "oos_test"]);
    show(
        "bitext held-out fifth (FP)",
        rate(&critic, &bitext.iter().collect::<Vec<_>>()),
    );
    show(
        "banking77 test (FP)",
        rate(&critic, &banking.iter().collect::<Vec<_>>()),
    );
    show(
        "clinc150 test + oos_test (FP)",
        rate(&critic, &clinc_test.iter().collect::<Vec<_>>()),
    );
}

/// Screening stays within a few milliseconds a message even in a debug
/// build (the pipeline bench, in release, needs >= 500 messages/s end to end).
#[test]
fn screening_1000_messages_is_fast() {
    let critic = LocalCritic::default();
    let mut texts: Vec<String> = dev_rows().into_iter().map(|r| r.text).collect();
    texts.extend(
        ordinary_train()
            .into_iter()
            .map(|(_, t)| t)
            .take(1000 - texts.len().min(1000)),
    );
    texts.truncate(1000);
    assert_eq!(texts.len(), 1000);
    blocked(&critic, &texts[0]); // compile the rules outside the timing
    let start = Instant::now();
    let n = texts.iter().filter(|t| blocked(&critic, t)).count();
    let per = start.elapsed().as_secs_f64() / 1000.0;
    println!(
        "screened 1000 messages ({n} blocked): {:.1} µs per message",
        per * 1e6
    );
    let start = Instant::now();
    let p: f32 = texts
        .iter()
        .filter_map(|t| super::learned::attack_probability(t))
        .sum();
    let learned = start.elapsed().as_secs_f64() / 1000.0;
    println!(
        "of which the learned screen: {:.1} µs per message (mean p {:.3})",
        learned * 1e6,
        p / 1000.0
    );
    // A sanity bound for a debug build on a loaded two-core CI box (about
    // 0.8 ms alone here); the throughput that matters is measured by
    // `switchboard bench pipeline` in release.
    assert!(per < 5e-3, "{:.3} ms per message", per * 1e3);
}

/// Tuning aid: every wrong decision on a tuning file of this folder
/// (`SWITCHBOARD_PROBE=probe7.csv`, default the development set), with the
/// findings behind it. Never point it at a held-out set.
#[test]
#[ignore = "tuning aid; run by hand with SWITCHBOARD_PROBE=<file in this folder>"]
fn print_wrong_decisions() {
    let file = std::env::var("SWITCHBOARD_PROBE").unwrap_or_else(|_| "dev_screening.csv".into());
    let critic = LocalCritic::default();
    for row in labelled_rows(&file) {
        let screened = critic.screen(&row.text);
        let block = screened.verdict == ScreenVerdict::Block;
        if block != row.block {
            let findings: Vec<String> = screened
                .findings
                .iter()
                .map(|f| format!("{} {:.2}", f.rule, f.score))
                .collect();
            println!("[{}] {} :: {findings:?}", row.class, row.text);
        }
    }
}
