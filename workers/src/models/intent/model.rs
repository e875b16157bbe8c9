//! The intent model: multinomial logistic regression over hashed features,
//! trained by deterministic SGD, and its calibrated prediction.
//!
//! Why logistic regression: its probabilities are usable as confidences
//! (unlike naive Bayes, which is wildly over-confident), it trains in well
//! under a second on a few thousand utterances, and it is easy to audit.
//! The softmax probability is multiplied by the square root of the share of
//! the message's words seen in training, so gibberish and out-of-scope
//! messages get a low confidence even when one label happens to win.

use std::collections::BTreeSet;

use switchboard_engine::event::Intent;

use super::features::{DIM_BITS, Features, extract_words};
use super::normalize::{Lexicon, canonical_words, concepts};

/// Number of labels (the catalog's 17 intents).
pub const LABELS: usize = Intent::ALL.len();

/// Training passes over the data.
const EPOCHS: usize = 6;
/// Initial learning rate; decays as `LR / (1 + epoch / 4)`.
const LR: f32 = 4.0;
/// Examples already predicted with this probability are skipped: it saves
/// most of the training time after a few epochs and keeps the model from
/// growing over-confident weights on easy examples.
const CONFIDENT: f32 = 0.97;
/// Confidence is the softmax probability times coverage to this power:
/// gibberish and out-of-scope text (few known words) gets a low
/// confidence, while one unknown word in a long message costs little.
const COVERAGE_EXPONENT: f32 = 0.5;

/// A trained intent classifier. Build with [`train`], persist with
/// [`save`](IntentModel::save) / [`load`](IntentModel::load).
#[derive(Debug, Clone, PartialEq)]
pub struct IntentModel {
    pub(super) bits: u32,
    /// `weights[bucket * LABELS + label]`.
    pub(super) weights: Vec<f32>,
    pub(super) bias: [f32; LABELS],
    /// Word buckets seen in training (coverage of v1 models).
    pub(super) vocab: BTreeSet<u32>,
    /// Words seen in training (spelling correction and coverage).
    pub(super) lexicon: Lexicon,
}

/// A prediction with the full distribution, for callers that want more than
/// the top label.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The most likely intent.
    pub intent: Intent,
    /// Calibrated confidence in `intent`, 0..=1.
    pub confidence: f32,
    /// Softmax probability of every label, in [`Intent::ALL`] order.
    pub probabilities: [f32; LABELS],
    /// Share of the message's words seen in training, 0..=1.
    pub coverage: f32,
}

fn label_index(intent: Intent) -> usize {
    Intent::ALL.iter().position(|&i| i == intent).unwrap_or(0)
}

/// Train a model on `(text, intent)` rows. Deterministic: the same rows in
/// the same order give the same model. Empty input gives a model that
/// predicts every label with probability 1/17.
pub fn train(rows: &[(String, Intent)]) -> IntentModel {
    let mut model = IntentModel::empty(DIM_BITS);
    let prepared: Vec<(Vec<String>, usize)> = rows
        .iter()
        .map(|(t, i)| (canonical_words(t), label_index(*i)))
        .collect();
    model.lexicon = Lexicon::build(prepared.iter().map(|(w, _)| w.as_slice()));
    let mut rng = Lcg(0x5eed_1234_abcd_ef01);
    let mut examples: Vec<(Features, usize)> = Vec::with_capacity(prepared.len() * 2);
    for (words, label) in &prepared {
        examples.push((features_of(words), *label));
        // A misspelled copy, so the character n-grams learn typo shapes the
        // spelling correction may miss.
        let noisy = misspell(words, &mut rng);
        if noisy != *words {
            examples.push((features_of(&noisy), *label));
        }
        // A copy inside a polite frame ("hi, could you tell me ... thanks"),
        // so greetings and politeness, which say nothing of the intent, do
        // not pull a message towards the labels whose rows happen to use them.
        examples.push((features_of(&framed(words, &mut rng)), *label));
    }
    for features in examples.iter().map(|(f, _)| f) {
        model.vocab.extend(features.words.iter().copied());
    }
    let mut order: Vec<usize> = (0..examples.len()).collect();
    for epoch in 0..EPOCHS {
        rng.shuffle(&mut order);
        let lr = LR / (1.0 + epoch as f32 / 4.0);
        let mut updated = 0;
        for &i in &order {
            let (features, label) = &examples[i];
            updated += usize::from(model.sgd_step(features, *label, lr));
        }
        // Every example is already confidently right: more passes change nothing.
        if updated == 0 {
            break;
        }
    }
    model
}

fn features_of(words: &[String]) -> Features {
    features_of_bits(words, DIM_BITS)
}

/// Openings and closings that carry no intent.
const FRAMES: &[(&str, &str)] = &[
    ("hi", ""),
    ("hello there", "thanks"),
    ("i would like to know", ""),
    ("could you tell me", "please"),
    ("i was wondering", "thank you"),
    ("quick question", ""),
    ("good morning i would like to ask", "many thanks"),
    ("hey so", "thx"),
    ("excuse me", ""),
    ("dear team", "kind regards"),
    ("", "thanks in advance"),
    ("", "please help"),
];

/// `words` inside one of [`FRAMES`] (chosen by `rng`).
fn framed(words: &[String], rng: &mut Lcg) -> Vec<String> {
    let (open, close) = FRAMES[rng.next() as usize % FRAMES.len()];
    let split = |s: &'static str| s.split_whitespace().map(str::to_owned);
    split(open)
        .chain(words.iter().cloned())
        .chain(split(close))
        .collect()
}

/// One word of four letters or more with one letter dropped, doubled or
/// swapped with its neighbour (chosen by `rng`).
fn misspell(words: &[String], rng: &mut Lcg) -> Vec<String> {
    let mut out = words.to_vec();
    let long: Vec<usize> = (0..out.len()).filter(|&i| out[i].len() >= 4).collect();
    if long.is_empty() {
        return out;
    }
    let i = long[rng.next() as usize % long.len()];
    let mut chars: Vec<char> = out[i].chars().collect();
    let at = 1 + rng.next() as usize % (chars.len() - 1);
    match rng.next() % 3 {
        0 => {
            chars.remove(at);
        }
        1 => chars.insert(at, chars[at]),
        _ => chars.swap(at - 1, at),
    }
    out[i] = chars.into_iter().collect();
    out
}

impl IntentModel {
    pub(super) fn empty(bits: u32) -> Self {
        Self {
            bits,
            weights: vec![0.0; (1usize << bits) * LABELS],
            bias: [0.0; LABELS],
            vocab: BTreeSet::new(),
            lexicon: Lexicon::default(),
        }
    }

    // The two loops below are the whole training cost (the workspace builds
    // this crate with opt-level 1 in dev so they stay fast in debug builds).
    fn logits(&self, features: &Features) -> [f32; LABELS] {
        let mut z = self.bias;
        for &(bucket, value) in &features.items {
            let start = bucket as usize * LABELS;
            let row = &self.weights[start..start + LABELS];
            z.iter_mut().zip(row).for_each(|(zk, w)| *zk += w * value);
        }
        z
    }

    /// One SGD step on one example; false when it was skipped as confident.
    fn sgd_step(&mut self, features: &Features, label: usize, lr: f32) -> bool {
        let mut grad = softmax(self.logits(features));
        if grad[label] >= CONFIDENT {
            return false;
        }
        grad[label] -= 1.0;
        for g in &mut grad {
            *g *= lr;
        }
        for &(bucket, value) in &features.items {
            let start = bucket as usize * LABELS;
            let row = &mut self.weights[start..start + LABELS];
            row.iter_mut().zip(&grad).for_each(|(w, g)| *w -= g * value);
        }
        self.bias
            .iter_mut()
            .zip(&grad)
            .for_each(|(b, g)| *b -= 0.1 * g);
        true
    }

    /// The most likely intent and its calibrated confidence (0..=1).
    pub fn predict(&self, text: &str) -> (Intent, f32) {
        let p = self.predict_full(text);
        (p.intent, p.confidence)
    }

    /// The prediction with the full distribution and vocabulary coverage.
    pub fn predict_full(&self, text: &str) -> Prediction {
        let words = self.prepare(text);
        let features = features_of_bits(&words, self.bits);
        let probabilities = softmax(self.logits(&features));
        let (best, &p) = probabilities
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(&a.0)))
            .unwrap_or((0, &0.0));
        let coverage = self.coverage(&words, &features);
        Prediction {
            intent: Intent::ALL[best],
            confidence: (p * coverage.powf(COVERAGE_EXPONENT)).clamp(0.0, 1.0),
            probabilities,
            coverage,
        }
    }

    /// Canonical words, each unknown one corrected to a known spelling.
    fn prepare(&self, text: &str) -> Vec<String> {
        let words = canonical_words(text);
        if self.lexicon.is_empty() {
            return words;
        }
        words
            .iter()
            .map(|w| self.lexicon.correct(w).to_owned())
            .collect()
    }

    /// Share of the message's words known from training.
    fn coverage(&self, words: &[String], features: &Features) -> f32 {
        if words.is_empty() {
            return 0.0;
        }
        let known = if self.lexicon.is_empty() {
            features
                .words
                .iter()
                .filter(|w| self.vocab.contains(w))
                .count()
        } else {
            words.iter().filter(|w| self.lexicon.contains(w)).count()
        };
        known as f32 / words.len() as f32
    }
}

fn features_of_bits(words: &[String], bits: u32) -> Features {
    extract_words(words, &concepts(words), bits)
}

fn softmax(z: [f32; LABELS]) -> [f32; LABELS] {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut out = z.map(|v| (v - max).exp());
    let sum: f32 = out.iter().sum();
    out.iter_mut().for_each(|v| *v /= sum);
    out
}

/// A tiny deterministic generator for shuffling (no `rand` dependency, and
/// the order must never change between versions).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn shuffle(&mut self, items: &mut [usize]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<(String, Intent)> {
        let mut rows = Vec::new();
        for _ in 0..3 {
            rows.push(("where is my order".to_owned(), Intent::OrderStatus));
            rows.push(("cancel my order please".to_owned(), Intent::Cancellation));
            rows.push((
                "how many points do I have".to_owned(),
                Intent::LoyaltyProgram,
            ));
        }
        rows
    }

    #[test]
    fn learns_and_is_deterministic() {
        let a = train(&rows());
        assert_eq!(a, train(&rows()));
        assert_eq!(a.predict("where is my order?").0, Intent::OrderStatus);
        assert_eq!(a.predict("please cancel it").0, Intent::Cancellation);
    }

    #[test]
    fn empty_model_is_uniform_and_unsure() {
        let (_, confidence) = train(&[]).predict("anything");
        assert!(confidence < 0.1);
    }

    #[test]
    fn gibberish_has_low_confidence() {
        let (_, confidence) = train(&rows()).predict("qwxz vbnm plok");
        assert!(confidence < 0.2, "{confidence}");
    }
}
