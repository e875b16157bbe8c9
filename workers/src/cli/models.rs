//! `switchboard models train`: trains an intent model from a `text,label`
//! CSV and saves it for `--intent-model`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use switchboard_engine::event::Intent;
use switchboard_workers::models::{IntentModel, read_training_csv, train};

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Train an intent model from a `text,label` CSV (labels are the 17
    /// intents, e.g. ORDER_STATUS) and save it as JSON.
    Train(TrainArgs),
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
    }
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
