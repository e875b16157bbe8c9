//! Model selection at the binary's edge, and `switchboard config check`.
//!
//! The environment the Azure deployment injects (`AZURE_OPENAI_ENDPOINT`,
//! `AZURE_OPENAI_DEPLOYMENT`, ...) or `SWITCHBOARD_OPENAI_*` for any
//! OpenAI-compatible server is parsed here into a [`RemoteConfig`]; only the
//! agents named in `SWITCHBOARD_REMOTE_AGENTS` use it. Secrets are read from
//! the environment only (never flags, which `ps` shows) and never printed.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use switchboard_engine::workflow::Agent;
use switchboard_workers::agents::{Agents, AgentsConfig};
use switchboard_workers::models::IntentModel;
use switchboard_workers::remote::{AzureAuth, Endpoint, RemoteConfig, Secret};

use super::Global;
use super::worker::{AgentName, WorkerArgs};

/// Which agents go remote, and the remote model they use.
#[derive(Debug, Args, Clone)]
pub struct RemoteArgs {
    /// Agents that ask the remote model first and fall back to their local
    /// model (comma-separated: intent, critic, response). Default: none, all
    /// local.
    #[arg(
        long,
        env = "SWITCHBOARD_REMOTE_AGENTS",
        value_enum,
        value_delimiter = ','
    )]
    pub remote_agents: Vec<AgentName>,
    /// Azure OpenAI resource endpoint, e.g. https://my-resource.openai.azure.com
    /// (key from AZURE_OPENAI_API_KEY).
    #[arg(long, env = "AZURE_OPENAI_ENDPOINT")]
    pub azure_openai_endpoint: Option<String>,
    /// Azure OpenAI deployment name.
    #[arg(long, env = "AZURE_OPENAI_DEPLOYMENT")]
    pub azure_openai_deployment: Option<String>,
    /// Azure OpenAI data-plane API version.
    #[arg(long, env = "AZURE_OPENAI_API_VERSION", default_value = "2024-10-21")]
    pub azure_openai_api_version: String,
    /// Any OpenAI-compatible server instead of Azure, including `/v1` (key,
    /// if any, from SWITCHBOARD_OPENAI_API_KEY).
    #[arg(long, env = "SWITCHBOARD_OPENAI_BASE_URL")]
    pub openai_base_url: Option<String>,
    /// The model name for the OpenAI-compatible server.
    #[arg(long, env = "SWITCHBOARD_OPENAI_MODEL")]
    pub openai_model: Option<String>,
}

/// A secret from the environment; unset and empty are the same.
fn secret_env(name: &str) -> Option<Secret> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(Secret::new)
}

impl RemoteArgs {
    /// The configured remote endpoint, if any.
    pub fn endpoint(&self) -> anyhow::Result<Option<Endpoint>> {
        match (&self.azure_openai_endpoint, &self.openai_base_url) {
            (Some(_), Some(_)) => {
                anyhow::bail!("set AZURE_OPENAI_ENDPOINT or SWITCHBOARD_OPENAI_BASE_URL, not both")
            }
            (Some(endpoint), None) => {
                let deployment = self
                    .azure_openai_deployment
                    .clone()
                    .context("AZURE_OPENAI_DEPLOYMENT is required with AZURE_OPENAI_ENDPOINT")?;
                let key = secret_env("AZURE_OPENAI_API_KEY").context(
                    "AZURE_OPENAI_API_KEY is required with AZURE_OPENAI_ENDPOINT \
                     (Entra ID tokens are not wired into the binary yet)",
                )?;
                Ok(Some(Endpoint::Azure {
                    endpoint: endpoint.clone(),
                    deployment,
                    api_version: self.azure_openai_api_version.clone(),
                    auth: AzureAuth::ApiKey(key),
                }))
            }
            (None, Some(base_url)) => Ok(Some(Endpoint::OpenAiCompatible {
                base_url: base_url.clone(),
                model: self.openai_model.clone().context(
                    "SWITCHBOARD_OPENAI_MODEL is required with SWITCHBOARD_OPENAI_BASE_URL",
                )?,
                api_key: secret_env("SWITCHBOARD_OPENAI_API_KEY"),
            })),
            (None, None) => Ok(None),
        }
    }

    fn agents(&self) -> Vec<Agent> {
        self.remote_agents.iter().map(|&a| a.into()).collect()
    }

    /// The remote config when some agent is remote. An endpoint that is set
    /// but unused is not checked, so an all-local worker never fails on it.
    fn remote_config(&self) -> anyhow::Result<Option<RemoteConfig>> {
        if self.remote_agents.is_empty() {
            return Ok(None);
        }
        match self.endpoint()? {
            Some(endpoint) => Ok(Some(RemoteConfig::new(endpoint))),
            None => anyhow::bail!(
                "SWITCHBOARD_REMOTE_AGENTS names remote agents but no remote model is configured: \
                 set AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_DEPLOYMENT and AZURE_OPENAI_API_KEY, \
                 or SWITCHBOARD_OPENAI_BASE_URL and SWITCHBOARD_OPENAI_MODEL"
            ),
        }
    }
}

impl WorkerArgs {
    /// The agents' model configuration: the intent model file, if any, and
    /// the remote agents.
    pub fn agents_config(&self) -> anyhow::Result<AgentsConfig> {
        let intent_model = match &self.intent_model {
            Some(path) => Some(IntentModel::load(path)?),
            None => None,
        };
        Ok(AgentsConfig {
            intent_model,
            remote: self.remote.remote_config()?,
            remote_agents: self.remote.agents(),
        })
    }

    /// The five agents as configured.
    pub fn agents(&self) -> anyhow::Result<Agents> {
        Ok(Agents::new(self.agents_config()?)?)
    }
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the resolved configuration with secrets masked; fails if it
    /// cannot be used (for example remote agents without an endpoint).
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Directory for local state (as for `up`).
    #[arg(long, env = "SWITCHBOARD_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Cosmos DB account endpoint (distributed mode).
    #[arg(long, env = "COSMOS_ENDPOINT")]
    pub cosmos_endpoint: Option<String>,
    #[command(flatten)]
    pub workers: WorkerArgs,
}

pub fn run(global: &Global, cmd: ConfigCommand) -> anyhow::Result<()> {
    let ConfigCommand::Check(args) = cmd;
    for (key, value) in describe(global, &args) {
        println!("{key:<28} {value}");
    }
    // Build everything a worker would, so a bad model file or a missing
    // deployment shows up here rather than at start-up.
    args.workers.agents()?;
    println!("configuration ok");
    Ok(())
}

const MASK: &str = "***";

fn describe(global: &Global, args: &CheckArgs) -> Vec<(&'static str, String)> {
    let remote = &args.workers.remote;
    let remote_agents = remote.agents();
    let set = |v: &Option<String>| v.as_deref().map_or("not set".to_owned(), mask_url);
    let secret = |name: &str| secret_env(name).map_or("not set".to_owned(), |_| MASK.to_owned());
    let agents = Agent::ALL
        .iter()
        .map(|a| {
            let path = if remote_agents.contains(a) {
                "remote"
            } else {
                "local"
            };
            format!("{}={path}", a.as_str())
        })
        .collect::<Vec<_>>()
        .join(" ");
    let intent_model = args
        .workers
        .intent_model
        .as_ref()
        .map_or("built-in".to_owned(), |p| p.display().to_string());
    vec![
        ("NATS_URL", mask_url(&global.nats_url)),
        ("data dir", args.data_dir.display().to_string()),
        ("intent model", intent_model),
        ("agents", agents),
        ("Cosmos endpoint", set(&args.cosmos_endpoint)),
        ("Azure OpenAI endpoint", set(&remote.azure_openai_endpoint)),
        (
            "Azure OpenAI deployment",
            set(&remote.azure_openai_deployment),
        ),
        (
            "Azure OpenAI API version",
            remote.azure_openai_api_version.clone(),
        ),
        ("Azure OpenAI API key", secret("AZURE_OPENAI_API_KEY")),
        ("OpenAI-compatible base URL", set(&remote.openai_base_url)),
        ("OpenAI-compatible model", set(&remote.openai_model)),
        (
            "OpenAI-compatible API key",
            secret("SWITCHBOARD_OPENAI_API_KEY"),
        ),
    ]
}

/// A URL with any `user:password@` credentials masked.
fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{MASK}@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::mask_url;

    #[test]
    fn credentials_in_urls_are_masked() {
        assert_eq!(mask_url("nats://user:pw@host:4222"), "nats://***@host:4222");
        assert_eq!(mask_url("nats://host:4222"), "nats://host:4222");
        assert_eq!(mask_url("https://a.example/x@y"), "https://a.example/x@y");
    }
}
