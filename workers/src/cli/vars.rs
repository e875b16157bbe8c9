//! `switchboard config vars`: every configuration variable the binary
//! reads, described from the command-line definitions themselves (clap's
//! `env` on each flag), plus the few secrets read from the environment
//! only: name, flag, default, whether it holds a secret, and which commands
//! read it. One list, so the compose file (and any deployment) can be
//! checked against what the binary really reads (`workers/tests/compose.rs`).

use std::collections::BTreeMap;

use clap::CommandFactory;
use serde::Serialize;

use super::Cli;

/// One configuration variable.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Var {
    /// The environment variable.
    pub name: String,
    /// The flag it stands for, if any (`--nats-url`).
    pub flag: Option<String>,
    /// Its default, if it has one.
    pub default: Option<String>,
    /// Whether its value is a secret (a key, not a path to one).
    pub secret: bool,
    /// What it sets.
    pub help: String,
    /// The commands that read it (`worker critic`, `up`...), or `*` for all.
    pub commands: Vec<String>,
}

/// Read from the environment only, by the commands that take any flag of
/// `like`.
struct Direct {
    name: &'static str,
    help: &'static str,
    like: &'static [&'static str],
}

const DIRECT: [Direct; 8] = [
    Direct {
        name: "SWITCHBOARD_PRIVACY_KEY",
        help: "Personal-data master key, 64 hex digits (or a Key Vault reference resolved into it)",
        like: &["privacy-key-file"],
    },
    Direct {
        name: "AZURE_OPENAI_API_KEY",
        help: "Azure OpenAI API key (else Entra ID)",
        like: &["remote-agents"],
    },
    Direct {
        name: "AZURE_CLIENT_ID",
        help: "User-assigned managed identity for Entra ID tokens (Azure OpenAI, Cosmos DB)",
        like: &["remote-agents", "db"],
    },
    Direct {
        name: "SWITCHBOARD_OPENAI_API_KEY",
        help: "API key of an OpenAI-compatible server",
        like: &["remote-agents"],
    },
    Direct {
        name: "COSMOS_ENDPOINT",
        help: "Cosmos DB account endpoint: projections there instead of SQLite",
        like: &["db"],
    },
    Direct {
        name: "COSMOS_KEY",
        help: "Cosmos DB account key (else Entra ID)",
        like: &["db"],
    },
    Direct {
        name: "COSMOS_DATABASE",
        help: "Cosmos DB database name",
        like: &["db"],
    },
    Direct {
        name: "COSMOS_CREATE_IF_MISSING",
        help: "true: create the Cosmos DB database and containers if missing (needs COSMOS_KEY; in Azure, Terraform makes them)",
        like: &["db"],
    },
];

/// A secret's value is the secret itself: a key, not a file naming one.
fn is_secret(name: &str) -> bool {
    name.ends_with("_KEY") || name.ends_with("_API_KEY")
}

/// Every variable, by name.
pub fn describe() -> Vec<Var> {
    let mut root = Cli::command();
    root.build();
    let mut vars: BTreeMap<String, Var> = BTreeMap::new();
    let mut flags: BTreeMap<String, Vec<String>> = BTreeMap::new();
    walk(&root, "", &mut vars, &mut flags);
    for d in DIRECT {
        // Also read directly where a flag of the same name exists
        // (`config check --cosmos-endpoint`): the readers add up.
        let var = vars.entry(d.name.to_owned()).or_insert_with(|| Var {
            name: d.name.to_owned(),
            flag: None,
            default: None,
            secret: is_secret(d.name),
            help: d.help.to_owned(),
            commands: Vec::new(),
        });
        for c in d.like.iter().filter_map(|l| flags.get(*l)).flatten() {
            push(&mut var.commands, c);
        }
    }
    vars.into_values().collect()
}

/// Records the variables of `cmd` (at `path`) and of its subcommands.
fn walk(
    cmd: &clap::Command,
    path: &str,
    vars: &mut BTreeMap<String, Var>,
    flags: &mut BTreeMap<String, Vec<String>>,
) {
    let here = if path.is_empty() {
        "*".to_owned()
    } else {
        path.to_owned()
    };
    for arg in cmd.get_arguments() {
        if let Some(long) = arg.get_long() {
            push(flags.entry(long.to_owned()).or_default(), &here);
        }
        let Some(env) = arg.get_env().and_then(|e| e.to_str()) else {
            continue;
        };
        let var = vars.entry(env.to_owned()).or_insert_with(|| Var {
            name: env.to_owned(),
            flag: arg.get_long().map(|l| format!("--{l}")),
            default: default_of(arg),
            secret: is_secret(env),
            help: arg.get_help().map(|h| h.to_string()).unwrap_or_default(),
            commands: Vec::new(),
        });
        push(&mut var.commands, &here);
    }
    for sub in cmd.get_subcommands() {
        let name = sub.get_name();
        let next = if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path} {name}")
        };
        walk(sub, &next, vars, flags);
    }
}

fn default_of(arg: &clap::Arg) -> Option<String> {
    let values: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// Adds `command` unless it (or `*`) is there.
fn push(commands: &mut Vec<String>, command: &str) {
    if commands.iter().any(|c| c == "*" || c == command) {
        return;
    }
    if command == "*" {
        commands.clear();
    }
    commands.push(command.to_owned());
}

/// `config vars`: a table, or JSON with `--json`.
pub fn print(json: bool) -> anyhow::Result<()> {
    let vars = describe();
    if json {
        println!("{}", serde_json::to_string_pretty(&vars)?);
        return Ok(());
    }
    for v in &vars {
        let default = v.default.as_deref().unwrap_or("-");
        let secret = if v.secret { " (secret)" } else { "" };
        println!("{:<40} default {default}{secret}", v.name);
        println!("    {}", v.help.lines().next().unwrap_or(""));
        println!("    read by: {}", v.commands.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `var` is read by the command line `args` (`worker critic`).
    fn read_by(var: &Var, args: &[&str]) -> bool {
        var.commands.iter().any(|c| {
            c == "*" || {
                let words: Vec<&str> = c.split(' ').collect();
                args.starts_with(&words)
            }
        })
    }

    fn var(name: &str) -> Var {
        describe()
            .into_iter()
            .find(|v| v.name == name)
            .unwrap_or_else(|| panic!("{name} is described"))
    }

    #[test]
    fn flags_with_env_and_direct_secrets_are_described_with_their_readers() {
        let url = var("NATS_URL");
        assert_eq!(url.commands, ["*"], "a global flag");
        assert_eq!(url.flag.as_deref(), Some("--nats-url"));
        let gateway = var("SWITCHBOARD_GATEWAY_ADDR");
        assert_eq!(gateway.default.as_deref(), Some("127.0.0.1:8080"));
        assert!(read_by(&gateway, &["gateway"]) && read_by(&gateway, &["up"]));
        assert!(!read_by(&gateway, &["worker", "critic"]));
        let key = var("AZURE_OPENAI_API_KEY");
        assert!(key.secret && key.flag.is_none());
        assert!(read_by(&key, &["worker", "intent"]), "{key:?}");
        assert!(var("SWITCHBOARD_PRIVACY_KEY").secret);
        assert!(!var("SWITCHBOARD_PRIVACY_KEY_FILE").secret);
        let cosmos = var("COSMOS_KEY");
        assert!(read_by(&cosmos, &["projector"]), "{cosmos:?}");
        // The managed identity picks the token for Azure OpenAI and Cosmos DB.
        let client = var("AZURE_CLIENT_ID");
        assert!(read_by(&client, &["worker", "intent"]) && read_by(&client, &["projector"]));
        // Read by the flag of `config check` and directly by every store user.
        let endpoint = var("COSMOS_ENDPOINT");
        assert!(read_by(&endpoint, &["config", "check"]), "{endpoint:?}");
        assert!(read_by(&endpoint, &["projector"]) && read_by(&endpoint, &["gateway"]));
    }
}
