//! `switchboard eval`: measures the local models on the shared public data
//! sets and prints the report (or JSON).

use std::path::PathBuf;

use clap::Args;
use switchboard_workers::models::run_eval;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The shared data folder (bitext intents, injection and PII sets; see
    /// its MANIFEST).
    #[arg(long, env = "SWITCHBOARD_EVAL_DATA", default_value = "../shared/data")]
    pub data: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    if !args.data.is_dir() {
        anyhow::bail!(
            "data folder {} not found; pass --data DIR (the shared evaluation data sets)",
            args.data.display()
        );
    }
    let report = run_eval(&args.data)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{report}");
    }
    Ok(())
}
