//! `switchboard eval`: measures the agents that ship (or `--intent-model F`)
//! on the project's own held-out sets, on a user's own files, and on the
//! held-out parts of the shared public data, and prints the report (or JSON).

use std::path::PathBuf;

use clap::Args;
use switchboard_workers::models::eval::{EvalOptions, run_eval};

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The shared public data folder (its frozen held-out parts are
    /// measured). Ignored when missing unless given explicitly.
    #[arg(long, env = "SWITCHBOARD_EVAL_DATA")]
    pub data: Option<PathBuf>,
    /// The project's own held-out sets (intents.csv, screening.csv,
    /// ordinary.csv, escalation.jsonl, retrieval.jsonl), measured when no
    /// set file is given.
    #[arg(long, default_value = "workers/eval")]
    pub sets: PathBuf,
    /// An intent set: CSV with `text,label` (17 labels) and an optional
    /// `wording` column (clean, misspelled, slang, formal, jargon).
    #[arg(long, value_name = "F.csv")]
    pub intent: Vec<PathBuf>,
    /// A screening set: CSV with `text,label` (ALLOW or BLOCK) and an
    /// optional `class` column.
    #[arg(long, value_name = "F.csv")]
    pub screening: Vec<PathBuf>,
    /// An escalation set: JSON lines `{"id","turns":[...],"human":bool}`.
    #[arg(long, value_name = "F.jsonl")]
    pub escalation: Vec<PathBuf>,
    /// A retrieval set: JSON lines `{"tenant","query","expected":[source ids]}`.
    #[arg(long, value_name = "F.jsonl")]
    pub retrieval: Vec<PathBuf>,
    /// A tenant's knowledge base as a directory of `.md` / `.json`
    /// documents (the `kb import` formats), for retrieval sets; `brewvi` is
    /// the demo tenant unless given.
    #[arg(long, value_name = "TENANT=DIR", value_parser = parse_kb)]
    pub kb: Vec<(String, PathBuf)>,
    /// Only the retrieval queries of this tenant.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Measure this intent model (from `switchboard models train`) instead
    /// of the shipped one.
    #[arg(long, value_name = "FILE")]
    pub intent_model: Option<PathBuf>,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Print the texts of the misses of the project's own held-out sets too
    /// (withheld by default, so that whoever tunes the agents does not read
    /// them; the misses of files given on the command line are always shown).
    #[arg(long)]
    pub show_misses: bool,
}

const DEFAULT_DATA: &str = "../shared/data";

pub async fn run(args: EvalArgs) -> anyhow::Result<()> {
    let options = options(&args)?;
    let report = run_eval(&options).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{report}");
    }
    Ok(())
}

fn options(args: &EvalArgs) -> anyhow::Result<EvalOptions> {
    for path in args
        .intent
        .iter()
        .chain(&args.screening)
        .chain(&args.escalation)
        .chain(&args.retrieval)
    {
        if !path.is_file() {
            anyhow::bail!("set file {} not found", path.display());
        }
    }
    let given = !(args.intent.is_empty()
        && args.screening.is_empty()
        && args.escalation.is_empty()
        && args.retrieval.is_empty());
    let mut options = if given {
        EvalOptions {
            intent: args.intent.clone(),
            screening: args.screening.clone(),
            escalation: args.escalation.clone(),
            retrieval: args.retrieval.clone(),
            ..EvalOptions::default()
        }
    } else {
        EvalOptions::own_sets(&args.sets)
    };
    options.intent_model = args.intent_model.clone();
    options.hide_misses &= !args.show_misses;
    options.knowledge.extend(args.kb.iter().cloned());
    options.tenant = args.tenant.clone();
    options.shared = match &args.data {
        Some(dir) if !dir.join("MANIFEST.md").is_file() => {
            anyhow::bail!(
                "{} is not the shared data folder (no MANIFEST.md)",
                dir.display()
            )
        }
        Some(dir) => Some(dir.clone()),
        None if !given && PathBuf::from(DEFAULT_DATA).join("MANIFEST.md").is_file() => {
            Some(PathBuf::from(DEFAULT_DATA))
        }
        None => None,
    };
    if options.intent.is_empty()
        && options.screening.is_empty()
        && options.escalation.is_empty()
        && options.retrieval.is_empty()
        && options.shared.is_none()
    {
        anyhow::bail!(
            "nothing to measure: no set in {} and no shared data; pass --intent/--screening/--escalation/--retrieval files or --data DIR",
            args.sets.display()
        );
    }
    Ok(options)
}

/// `TENANT=DIR`, with the directory checked.
fn parse_kb(value: &str) -> Result<(String, PathBuf), String> {
    let (tenant, dir) = value
        .split_once('=')
        .ok_or_else(|| format!("{value:?} is not TENANT=DIR"))?;
    let dir = PathBuf::from(dir);
    if !dir.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    Ok((tenant.to_owned(), dir))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        eval: EvalArgs,
    }

    fn options_of(argv: &[&str]) -> anyhow::Result<EvalOptions> {
        let cli = Cli::try_parse_from(std::iter::once("eval").chain(argv.iter().copied()))?;
        options(&cli.eval)
    }

    #[test]
    fn a_retrieval_file_alone_measures_only_that_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let set = dir.path().join("mine.jsonl");
        std::fs::write(&set, "").expect("write set");
        let set_arg = set.display().to_string();
        let o = options_of(&["--retrieval", &set_arg, "--sets", "workers/eval"]).expect("options");
        assert_eq!(o.retrieval, vec![set]);
        assert!(o.intent.is_empty() && o.screening.is_empty() && o.escalation.is_empty());
        assert!(o.shared.is_none(), "no held-out shared data unless asked");
    }

    #[test]
    fn a_missing_retrieval_file_is_named() {
        let err = options_of(&["--retrieval", "/nonexistent/q.jsonl"]).expect_err("missing file");
        assert!(err.to_string().contains("/nonexistent/q.jsonl"), "{err}");
    }
}
