//! Training the learned screen (`learned`) from the tuning columns of
//! `SPLITS.md` (tests only: the data sets are read from `/work/shared/data`).
//!
//! Attacks: llm-warden train jailbreaks, bastioncorpus even-line malicious
//! rows, the development set's and the probe batches' `BLOCK` rows.
//! Ordinary: Bitext training rows, banking77 train, CLINC150 train and
//! oos_train, llm-warden train benign rows, bastioncorpus even-line benign
//! rows, the `ALLOW` rows of the development set and probe batches, a
//! hand-written batch of ordinary French, Spanish, German, Portuguese and
//! Italian messages, and the intent model's BrewVi training messages.
//! One fifth of the Bitext, banking77 and CLINC150 ordinary rows (row index
//! `% 5 == 0`) is kept out of training: the *calibration fold*, on which
//! the thresholds of `screen` were set and the false-positive test runs.
//!
//! Reproduce the committed weights with
//! `cargo test -p switchboard --lib critic::train::retrain_learned_screen -- --ignored`.

use super::learned::{DIM, Model, feature_scale, features, sigmoid};
use switchboard_engine::event::ScreenVerdict;

use super::measure::{DevRow, bastion, csv_column, labelled_rows, ordinary_train, warden};
use super::screen::{Threats, learned_finding_at, needs_human, threats};
use super::{LocalCritic, blocks};

/// One training message.
pub struct Example {
    /// Its hashed features.
    pub features: Vec<u32>,
    /// True for an attack.
    pub attack: bool,
}

/// The labelled batches in the critic folder used for training.
pub const LABELLED: &[&str] = &[
    "dev_screening.csv",
    "probe4.csv",
    "probe5.csv",
    "probe6.csv",
    "probe7.csv",
    "probe9.csv",
    "augment1.csv",
    "augment2.csv",
    "augment3.csv",
    "augment4.csv",
    // augment5.csv is not trained on: it made the screen refuse more real
    // customer turns (SPLITS.md, eighth round).
    "ordinary_multilingual.csv",
];

/// Ordinary tuning rows in the calibration fold (`index % 5 == 0` within
/// their source), never trained on.
pub fn calibration_fold() -> Vec<(&'static str, String)> {
    fold_of(true)
}

fn fold_of(calibration: bool) -> Vec<(&'static str, String)> {
    let mut seen: std::collections::BTreeMap<&str, usize> = Default::default();
    ordinary_train()
        .into_iter()
        .filter(|(source, _)| {
            let n = seen.entry(source).or_default();
            let keep = n.is_multiple_of(5) == calibration;
            *n += 1;
            keep
        })
        .collect()
}

/// Every training text with its label, from the labelled batches `labelled`.
pub fn training_texts(labelled: &[&str]) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for (kind, text) in warden("jailbreak_dataset_train_balanced.csv") {
        out.push((text, kind == "jailbreak"));
    }
    for (_, label, text) in bastion().into_iter().filter(|(i, _, _)| i % 2 == 0) {
        out.push((text, label == "malicious"));
    }
    for file in labelled {
        out.extend(labelled_rows(file).into_iter().map(|r| (r.text, r.block)));
    }
    out.extend(fold_of(false).into_iter().map(|(_, t)| (t, false)));
    out.extend(brewvi_customer_messages().into_iter().map(|t| (t, false)));
    out.extend(escalation_turns().into_iter().map(|t| (t, false)));
    out
}

/// The escalation development sets the escalation rules were tuned on
/// (`workers/eval-dev/`, not the blind `escalation-probe7.jsonl`): angry,
/// frightened or threatening customers, who must be heard, not refused.
const ESCALATION_DEV: &[&str] = &[
    "escalation.jsonl",
    "escalation-probe2.jsonl",
    "escalation-probe3.jsonl",
    "escalation-probe5.jsonl",
    "escalation-probe6.jsonl",
];

/// Every customer turn of [`ESCALATION_DEV`].
fn escalation_turns() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("eval-dev");
    let mut turns = Vec::new();
    for file in ESCALATION_DEV {
        let cases = crate::models::eval::read_escalation_jsonl(&dir.join(file))
            .expect("the escalation development sets parse");
        turns.extend(cases.into_iter().flat_map(|c| c.turns));
    }
    turns
}

/// The intent model's BrewVi training messages (`workers/models/`): the
/// demo tenant's ordinary customer wording, so that product names and
/// coffee words do not read as attack cues, and French or Spanish not as
/// an attack in another language.
fn brewvi_customer_messages() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    [
        "brewvi-intents.csv",
        "train/brewvi-extra.csv",
        "train/brewvi-fr-es.csv",
        "train/brewvi-fr-es-2.csv",
    ]
    .iter()
    .flat_map(|f| csv_column(&dir.join(f), "text"))
    .collect()
}

/// Hyper-parameters of [`fit`].
#[derive(Debug, Clone, Copy)]
pub struct Fit {
    /// Passes over the data.
    pub epochs: usize,
    /// Adagrad base learning rate.
    pub rate: f32,
    /// L2 penalty per update on the weights touched.
    pub l2: f32,
    /// Total weight of the attacks relative to the ordinary messages.
    pub attack_share: f32,
}

/// The settings the committed weights were trained with.
pub const FIT: Fit = Fit {
    epochs: 12,
    rate: 0.5,
    l2: 1e-5,
    attack_share: 0.5,
};

/// Fit a logistic regression by Adagrad in a fixed, seeded order, so the
/// same data gives the same weights.
pub fn fit(examples: &[Example], fit: Fit) -> Model {
    let attacks = examples.iter().filter(|e| e.attack).count().max(1) as f32;
    let ordinary = (examples.len() as f32 - attacks).max(1.0);
    let attack_weight = fit.attack_share * ordinary / attacks;
    let mut model = Model::zero();
    let mut squares = vec![1e-6f32; DIM];
    let mut bias_square = 1e-6f32;
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut seed: u64 = 0x5eed_c41c;
    for _ in 0..fit.epochs {
        shuffle(&mut order, &mut seed);
        for &i in &order {
            let e = &examples[i];
            let p = sigmoid(model.logit(&e.features));
            let (target, weight) = if e.attack {
                (1.0, attack_weight)
            } else {
                (0.0, 1.0)
            };
            let g = weight * (p - target);
            let x = feature_scale(e.features.len());
            for &f in &e.features {
                let f = f as usize;
                let grad = g * x + fit.l2 * model.weights[f];
                squares[f] += grad * grad;
                model.weights[f] -= fit.rate * grad / squares[f].sqrt();
            }
            bias_square += g * g;
            model.bias -= fit.rate * g / bias_square.sqrt();
        }
    }
    model
}

fn shuffle(order: &mut [usize], seed: &mut u64) {
    for i in (1..order.len()).rev() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        let j = (*seed % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
}

/// Featurise labelled texts.
pub fn examples(texts: &[(String, bool)]) -> Vec<Example> {
    texts
        .iter()
        .map(|(t, attack)| Example {
            features: features(t),
            attack: *attack,
        })
        .collect()
}

fn weights_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/critic/screen-ngrams.bin")
}

/// Retrain on the tuning data and overwrite the committed weights.
#[test]
#[ignore = "rewrites workers/models/critic/screen-ngrams.bin; run by hand after changing the data"]
fn retrain_learned_screen() {
    let started = std::time::Instant::now();
    let texts = training_texts(LABELLED);
    let model = fit(&examples(&texts), FIT);
    let path = weights_path();
    std::fs::write(&path, model.encode()).expect("weights file is writable");
    println!(
        "trained on {} messages ({} attacks) in {:.1} s -> {}",
        texts.len(),
        texts.iter().filter(|t| t.1).count(),
        started.elapsed().as_secs_f64(),
        path.display()
    );
}

/// One judged text: what the rules say, the model's probability, the
/// verdict at thresholds `(alone, with_cue)`.
struct Judged {
    threats: Threats,
    rules_block: bool,
    probability: f32,
    needs_human: bool,
}

impl Judged {
    fn new(model: &Model, text: &str) -> Self {
        let threats = threats(text);
        let rules_block = blocks(&threats.findings);
        Self {
            threats,
            rules_block,
            probability: model.probability(text),
            needs_human: needs_human(text),
        }
    }

    fn blocked(&self, alone: f32, with_cue: f32) -> bool {
        self.rules_block
            || learned_finding_at(
                self.probability,
                &self.threats,
                || self.needs_human,
                alone,
                with_cue,
            )
            .is_some()
    }
}

/// Calibration: train as the shipped screen is trained, then judge the
/// batches it never trains on (`probe8.csv`, `probe10.csv`, `probe11.csv`,
/// `probe12.csv`) and the
/// calibration fold at a grid of thresholds.
#[test]
#[ignore = "calibration aid, trains a model; run by hand"]
fn learned_screen_on_unseen_probes() {
    // A fifth of llm-warden's benign training prompts (general requests to
    // an assistant, unlike the customer messages of the calibration fold)
    // is held out here too, to judge false blocks on that kind of text.
    let warden_fold: std::collections::BTreeSet<String> =
        warden("jailbreak_dataset_train_balanced.csv")
            .into_iter()
            .filter(|(kind, _)| kind != "jailbreak")
            .enumerate()
            .filter(|(i, _)| i % 5 == 0)
            .map(|(_, (_, t))| t)
            .collect();
    // SWITCHBOARD_TRAIN_WITHOUT=a.csv,b.csv: the same, without those
    // batches (to measure what a batch adds).
    let without = std::env::var("SWITCHBOARD_TRAIN_WITHOUT").unwrap_or_default();
    let labelled: Vec<&str> = LABELLED
        .iter()
        .copied()
        .filter(|f| !without.split(',').any(|w| w == *f))
        .collect();
    let texts: Vec<(String, bool)> = training_texts(&labelled)
        .into_iter()
        .filter(|(t, attack)| *attack || !warden_fold.contains(t))
        .collect();
    let model = fit(&examples(&texts), FIT);
    let warden_judged: Vec<Judged> = warden_fold.iter().map(|t| Judged::new(&model, t)).collect();
    let mut probes = labelled_rows("probe8.csv");
    probes.extend(labelled_rows("probe10.csv"));
    probes.extend(labelled_rows("probe11.csv"));
    probes.extend(labelled_rows("probe12.csv"));
    let probes: Vec<(Judged, &DevRow)> = probes
        .iter()
        .map(|r| (Judged::new(&model, &r.text), r))
        .collect();
    let calibration = calibration_fold();
    let fold: Vec<Judged> = calibration
        .iter()
        .map(|(_, t)| Judged::new(&model, t))
        .collect();
    let rules_fp = fold.iter().filter(|j| j.rules_block).count();
    println!(
        "calibration fold {}: rules alone block {rules_fp}",
        fold.len()
    );
    for alone in [0.8, 0.9, 0.95, 0.98] {
        for with_cue in [0.5, 0.7, 0.8, 0.9] {
            let fp = fold.iter().filter(|j| j.blocked(alone, with_cue)).count();
            let attacks = probes.iter().filter(|(_, r)| r.block);
            let (n_att, hit) = attacks.fold((0, 0), |(n, h), (j, _)| {
                (n + 1, h + usize::from(j.blocked(alone, with_cue)))
            });
            let allowed = probes.iter().filter(|(_, r)| !r.block);
            let (n_ok, fpp) = allowed.fold((0, 0), |(n, h), (j, _)| {
                (n + 1, h + usize::from(j.blocked(alone, with_cue)))
            });
            let wfp = warden_judged
                .iter()
                .filter(|j| j.blocked(alone, with_cue))
                .count();
            println!(
                "alone {alone:.2} cue {with_cue:.2}: probes recall {hit}/{n_att}, probes allowed blocked {fpp}/{n_ok}, calibration FP {fp}/{} = {:.3} %, warden benign fold FP {wfp}/{}",
                fold.len(),
                100.0 * fp as f64 / fold.len() as f64,
                warden_judged.len()
            );
        }
    }
    for (j, r) in &probes {
        println!(
            "  p={:.3} rules={} {} {}",
            j.probability,
            j.rules_block,
            r.class,
            r.text.chars().take(100).collect::<String>()
        );
    }
    let mut ps: Vec<(f32, &str)> = fold
        .iter()
        .zip(&calibration)
        .map(|(j, (_, t))| (j.probability, t.as_str()))
        .collect();
    ps.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (p, t) in ps.iter().take(25) {
        println!("  top ordinary p={p:.3} {t}");
    }
}

/// Given the ordinary messages of the calibration fold (tuning rows the
/// learned screen was not trained on), when the shipped critic screens
/// them, then at most 0.3 % are blocked.
#[test]
fn shipped_critic_blocks_at_most_0_3_percent_of_unseen_ordinary_messages() {
    let critic = LocalCritic::default();
    let fold = calibration_fold();
    assert!(fold.len() >= 1000, "only {} messages", fold.len());
    let blocked: Vec<&str> = fold
        .iter()
        .map(|(_, t)| t.as_str())
        .filter(|t| critic.screen(t).verdict == ScreenVerdict::Block)
        .collect();
    let rate = blocked.len() as f64 / fold.len() as f64;
    println!(
        "calibration fold: {}/{} blocked = {:.3} %\n{}",
        blocked.len(),
        fold.len(),
        100.0 * rate,
        blocked.join("\n")
    );
    assert!(rate <= 0.003, "false-positive rate {rate:.4} > 0.003");
}
