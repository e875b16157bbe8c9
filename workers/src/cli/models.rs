//! `switchboard models train`: trains an intent model from a `text,label`
//! CSV and saves it for `--intent-model`; `models classify` shows what a
//! model makes of messages.

use std::sync::Arc;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use switchboard_engine::event::Intent;
use switchboard_workers::models::intent::BREWVI_PRODUCTS;
use switchboard_workers::models::{IntentModel, LocalClassifier, read_training_csv, train};

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Train an intent model from a `text,label` CSV (labels are the 17
    /// intents, e.g. ORDER_STATUS) and save it as JSON.
    Train(TrainArgs),
    /// Classify messages with the shipped model (or `--intent-model`) and
    /// print each `classified` payload as one JSON line.
    Classify(ClassifyArgs),
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// The messages to classify.
    #[arg(required = true)]
    pub text: Vec<String>,
    /// A model from `models train` instead of the shipped one.
    #[arg(long, value_name = "FILE")]
    pub intent_model: Option<PathBuf>,
    /// Also print the model's N most likely labels with their
    /// probabilities and the message's vocabulary coverage.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub top: usize,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The training CSV: a header row with `text` and `label` columns.
    #[arg(long)]
    pub data: PathBuf,
    /// Where to write the model (JSON).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(cmd: ModelsCommand) -> anyhow::Result<()> {
    match cmd {
        ModelsCommand::Train(args) => train_command(&args),
        ModelsCommand::Classify(args) => classify_command(&args),
    }
}

fn classify_command(args: &ClassifyArgs) -> anyhow::Result<()> {
    let model = match &args.intent_model {
        Some(path) => Arc::new(IntentModel::load(path)?),
        None => IntentModel::builtin(),
    };
    let classifier = LocalClassifier::new(Arc::clone(&model), BREWVI_PRODUCTS);
    for text in &args.text {
        let mut line = serde_json::to_value(classifier.classify(text))?;
        if let Some(map) = line.as_object_mut() {
            map.insert("text".to_owned(), text.clone().into());
            if args.top > 0 {
                let p = model.predict_full(text);
                let mut ranked: Vec<(Intent, f32)> =
                    Intent::ALL.iter().copied().zip(p.probabilities).collect();
                ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
                let top: Vec<serde_json::Value> = ranked
                    .iter()
                    .take(args.top)
                    .map(|(i, q)| serde_json::json!({"intent": label(*i), "probability": q}))
                    .collect();
                map.insert("top".to_owned(), top.into());
                map.insert("coverage".to_owned(), p.coverage.into());
            }
        }
        println!("{line}");
    }
    Ok(())
}

fn train_command(args: &TrainArgs) -> anyhow::Result<()> {
    // An unknown label fails here, naming the line, before anything is written.
    let rows = read_training_csv(&args.data)?;
    if rows.is_empty() {
        anyhow::bail!("{}: no training rows", args.data.display());
    }
    let model = train(&rows);
    println!("{} rows from {}", rows.len(), args.data.display());
    for intent in Intent::ALL {
        let count = rows.iter().filter(|(_, i)| *i == intent).count();
        println!("  {:<24} {count}", label(intent));
    }
    let correct = rows
        .iter()
        .filter(|(text, i)| model.predict(text).0 == *i)
        .count();
    println!(
        "training accuracy: {:.1}% ({correct}/{})",
        100.0 * correct as f64 / rows.len() as f64,
        rows.len()
    );
    model
        .save(&args.out)
        .with_context(|| "saving the trained model")?;
    // Read it back so a file that cannot be loaded is caught now, not at
    // worker start.
    IntentModel::load(&args.out)?;
    println!("model written to {}", args.out.display());
    Ok(())
}

/// The catalog's own name for an intent (`ORDER_STATUS`).
fn label(intent: Intent) -> String {
    match serde_json::to_value(intent) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{intent:?}"),
    }
}
