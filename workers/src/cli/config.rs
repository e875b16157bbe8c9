//! Model selection at the binary's edge, and `switchboard config check`.
//!
//! The environment the Azure deployment injects (`AZURE_OPENAI_ENDPOINT`,
//! `AZURE_OPENAI_DEPLOYMENT`, `AZURE_CLIENT_ID`, ...) or `SWITCHBOARD_OPENAI_*`
//! for any OpenAI-compatible server is parsed here into a [`RemoteConfig`];
//! only the agents named in `SWITCHBOARD_REMOTE_AGENTS` use it. Secrets are
//! read from the environment only (never flags, which `ps` shows) and never
//! printed.
//!
//! Azure OpenAI authenticates with its key or an Entra ID token
//! (`AZURE_OPENAI_AUTH`, see [`AzureOpenAiAuth`]); tokens come from
//! `azure_identity` through the cached [`EntraTokenProvider`].

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use azure_identity::{
    DeveloperToolsCredential, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    UserAssignedId,
};
use clap::{Args, Subcommand, ValueEnum};
use switchboard_engine::ids::Tenant;
use switchboard_engine::workflow::Agent;
use switchboard_workers::agents::{Agents, AgentsConfig};
use switchboard_workers::models::IntentModel;
use switchboard_workers::remote::{
    AzureAuth, Endpoint, EntraTokenProvider, PriceTable, RemoteConfig, RemoteModel, Secret, probe,
};

use super::Global;
use super::worker::WorkerArgs;

/// The agents that have a remote model path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RemoteAgentName {
    /// Intent classification.
    Intent,
    /// Input screening and draft validation (the rules stay the floor).
    Critic,
    /// Drafting from the retrieved sources.
    Response,
    /// The three above.
    All,
}

impl RemoteAgentName {
    fn agents(self) -> &'static [Agent] {
        match self {
            Self::Intent => &[Agent::Intent],
            Self::Critic => &[Agent::Critic],
            Self::Response => &[Agent::Response],
            Self::All => &[Agent::Intent, Agent::Critic, Agent::Response],
        }
    }
}

/// Which agents go remote, and the remote model they use.
#[derive(Debug, Args, Clone)]
pub struct RemoteArgs {
    /// Agents that ask the remote model first and fall back to their local
    /// model (comma-separated). Default: none, all local.
    #[arg(
        long,
        env = "SWITCHBOARD_REMOTE_AGENTS",
        value_enum,
        value_delimiter = ','
    )]
    pub remote_agents: Vec<RemoteAgentName>,
    /// Seconds a step waits for the remote model in total (free slot, every
    /// attempt, backoff) before its local model decides.
    #[arg(long, env = "SWITCHBOARD_REMOTE_DEADLINE_SECS", default_value_t = 20.0)]
    pub remote_deadline_secs: f64,
    /// Requests in flight to the remote model at once, per process (1 for a
    /// llama.cpp server, which answers one at a time).
    #[arg(long, env = "SWITCHBOARD_REMOTE_CONCURRENCY", default_value_t = 8)]
    pub remote_concurrency: usize,
    /// `max_tokens` of every remote request.
    #[arg(long, env = "SWITCHBOARD_REMOTE_MAX_TOKENS", default_value_t = 800)]
    pub remote_max_tokens: u32,
    /// Tenants whose customer text the remote model reads as written
    /// (comma-separated). Every other tenant's text is sent with the
    /// critic's personal-data findings replaced by placeholders.
    #[arg(
        long,
        env = "SWITCHBOARD_REMOTE_UNREDACTED_TENANTS",
        value_delimiter = ',',
        value_parser = super::projections::parse_tenant
    )]
    pub remote_unredacted_tenants: Vec<Tenant>,
    /// Prices over the built-in Azure OpenAI list prices, in USD per 1,000
    /// tokens: `model=PROMPT/COMPLETION`, comma-separated (a model name
    /// prices every name it prefixes), e.g. `gpt-4o-mini=0.00015/0.0006`.
    #[arg(long, env = "SWITCHBOARD_MODEL_PRICES", default_value = "")]
    pub model_prices: String,
    /// Azure OpenAI resource endpoint, e.g. https://my-resource.openai.azure.com
    /// (key from AZURE_OPENAI_API_KEY, or Entra ID: see --azure-openai-auth).
    #[arg(long, env = "AZURE_OPENAI_ENDPOINT")]
    pub azure_openai_endpoint: Option<String>,
    /// How to authenticate to Azure OpenAI. Default: `key` when
    /// AZURE_OPENAI_API_KEY is set, else `entra` when AZURE_CLIENT_ID is set.
    #[arg(long, env = "AZURE_OPENAI_AUTH", value_enum)]
    pub azure_openai_auth: Option<AzureOpenAiAuth>,
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

/// How the binary authenticates to Azure OpenAI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AzureOpenAiAuth {
    /// The resource key in AZURE_OPENAI_API_KEY (`api-key` header).
    Key,
    /// Entra ID tokens of the managed identity: the user-assigned one whose
    /// client id is AZURE_CLIENT_ID, else the system-assigned one.
    Entra,
    /// Entra ID tokens of the developer's Azure CLI or azd login.
    Developer,
}

/// Resolved Azure OpenAI authentication, before any credential is built.
#[derive(Debug)]
enum AuthChoice {
    Key(Secret),
    ManagedIdentity { client_id: Option<String> },
    Developer,
}

impl AuthChoice {
    fn describe(&self) -> String {
        match self {
            Self::Key(_) => format!("key ({MASK})"),
            Self::ManagedIdentity {
                client_id: Some(id),
            } => format!("entra: managed identity, client id {id}"),
            Self::ManagedIdentity { client_id: None } => {
                "entra: system-assigned managed identity".to_owned()
            }
            Self::Developer => "developer: Azure CLI / azd login".to_owned(),
        }
    }

    /// The auth for requests; an Entra ID credential is built here (no I/O:
    /// the first token is fetched with the first request).
    fn build(self) -> anyhow::Result<AzureAuth> {
        let credential: Arc<dyn azure_core::credentials::TokenCredential> = match self {
            Self::Key(key) => return Ok(AzureAuth::ApiKey(key)),
            Self::ManagedIdentity { client_id } => {
                let options = ManagedIdentityCredentialOptions {
                    user_assigned_id: client_id.map(UserAssignedId::ClientId),
                    ..Default::default()
                };
                ManagedIdentityCredential::new(Some(options))
                    .context("building the managed identity credential")?
            }
            Self::Developer => DeveloperToolsCredential::new(None)
                .context("building the Azure CLI / azd credential")?,
        };
        Ok(AzureAuth::BearerToken(Arc::new(EntraTokenProvider::new(
            credential,
        ))))
    }
}

/// A set, non-empty environment variable.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A secret from the environment; unset and empty are the same.
fn secret_env(name: &str) -> Option<Secret> {
    env_var(name).map(Secret::new)
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
                Ok(Some(Endpoint::Azure {
                    endpoint: endpoint.clone(),
                    deployment,
                    api_version: self.azure_openai_api_version.clone(),
                    auth: self.azure_auth()?.build()?,
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

    /// The Azure OpenAI authentication: as AZURE_OPENAI_AUTH says, else the
    /// key when AZURE_OPENAI_API_KEY is set, else the managed identity when
    /// AZURE_CLIENT_ID is set.
    fn azure_auth(&self) -> anyhow::Result<AuthChoice> {
        let key = secret_env("AZURE_OPENAI_API_KEY");
        let client_id = env_var("AZURE_CLIENT_ID");
        match (self.azure_openai_auth, key, client_id) {
            (Some(AzureOpenAiAuth::Key) | None, Some(key), _) => Ok(AuthChoice::Key(key)),
            (Some(AzureOpenAiAuth::Key), None, _) => {
                anyhow::bail!("AZURE_OPENAI_AUTH=key needs AZURE_OPENAI_API_KEY")
            }
            (Some(AzureOpenAiAuth::Entra), _, client_id) | (None, None, client_id @ Some(_)) => {
                Ok(AuthChoice::ManagedIdentity { client_id })
            }
            (Some(AzureOpenAiAuth::Developer), _, _) => Ok(AuthChoice::Developer),
            (None, None, None) => anyhow::bail!(
                "AZURE_OPENAI_ENDPOINT needs AZURE_OPENAI_API_KEY, or Entra ID: \
                 AZURE_OPENAI_AUTH=entra (managed identity; AZURE_CLIENT_ID picks a \
                 user-assigned one) or AZURE_OPENAI_AUTH=developer (Azure CLI / azd login)"
            ),
        }
    }

    /// The agents named; `all` names every agent with a remote path.
    pub fn agents(&self) -> Vec<Agent> {
        let mut agents = Vec::new();
        for agent in self.remote_agents.iter().flat_map(|n| n.agents()) {
            if !agents.contains(agent) {
                agents.push(*agent);
            }
        }
        agents
    }

    /// The remote config when some agent is remote. An endpoint that is set
    /// but unused is not checked, so an all-local worker never fails on it.
    fn remote_config(&self) -> anyhow::Result<Option<RemoteConfig>> {
        if self.remote_agents.is_empty() {
            return Ok(None);
        }
        match self.endpoint()? {
            Some(endpoint) => Ok(Some(self.tuned(RemoteConfig::new(endpoint))?)),
            None => anyhow::bail!(
                "SWITCHBOARD_REMOTE_AGENTS names remote agents but no remote model is configured: \
                 set AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_DEPLOYMENT and AZURE_OPENAI_API_KEY \
                 (or AZURE_OPENAI_AUTH=entra), or SWITCHBOARD_OPENAI_BASE_URL and \
                 SWITCHBOARD_OPENAI_MODEL"
            ),
        }
    }
}

impl RemoteArgs {
    /// `config` with the deadline, concurrency, token limit and prices set.
    fn tuned(&self, mut config: RemoteConfig) -> anyhow::Result<RemoteConfig> {
        let deadline = self.remote_deadline_secs;
        anyhow::ensure!(
            deadline.is_finite() && (0.1..=3600.0).contains(&deadline),
            "SWITCHBOARD_REMOTE_DEADLINE_SECS must be between 0.1 and 3600 seconds, not {deadline}"
        );
        anyhow::ensure!(
            self.remote_concurrency >= 1,
            "SWITCHBOARD_REMOTE_CONCURRENCY must be at least 1"
        );
        config.deadline = std::time::Duration::from_secs_f64(deadline);
        config.timeout = config.timeout.max(config.deadline);
        config.concurrency = self.remote_concurrency;
        config.max_tokens = self.remote_max_tokens.max(1);
        config.unredacted_tenants = self.remote_unredacted_tenants.iter().cloned().collect();
        config.prices = PriceTable::azure_list_prices().parse(&self.model_prices)?;
        Ok(config)
    }

    /// `intent=remote critic=local ...` for banners.
    pub fn summary(&self) -> Option<String> {
        let agents = self.agents();
        if agents.is_empty() {
            return None;
        }
        let names: Vec<&str> = agents.iter().map(|a| a.as_str()).collect();
        let endpoint = match (&self.azure_openai_endpoint, &self.openai_base_url) {
            (Some(e), _) => format!(
                "Azure OpenAI {} ({})",
                mask_url(e),
                self.azure_openai_deployment
                    .as_deref()
                    .unwrap_or("no deployment")
            ),
            (None, Some(base)) => format!(
                "{} ({})",
                mask_url(base),
                self.openai_model.as_deref().unwrap_or("no model")
            ),
            (None, None) => "no endpoint".to_owned(),
        };
        Some(format!(
            "{} remote via {endpoint}, local fallback",
            names.join(", ")
        ))
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
            intent_model: intent_model.map(Arc::new),
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
    Check(Box<CheckArgs>),
    /// Every configuration variable the binary reads: name, flag, default,
    /// whether it is a secret, and which commands read it.
    Vars {
        /// Print JSON instead of a list.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Directory for local state (as for `up`).
    #[arg(long, env = "SWITCHBOARD_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Cosmos DB account endpoint (distributed mode).
    #[arg(long, env = "COSMOS_ENDPOINT")]
    pub cosmos_endpoint: Option<String>,
    /// Also make one real call to the remote model (a classification of a
    /// fixed message without customer data) and report what it showed.
    #[arg(long)]
    pub probe: bool,
    #[command(flatten)]
    pub workers: WorkerArgs,
}

pub async fn run(global: &Global, cmd: ConfigCommand) -> anyhow::Result<()> {
    let args = match cmd {
        ConfigCommand::Check(args) => *args,
        ConfigCommand::Vars { json } => return super::vars::print(json),
    };
    for (key, value) in describe(global, &args) {
        println!("{key:<28} {value}");
    }
    // Build everything a worker would, so a bad model file or a missing
    // deployment shows up here rather than at start-up.
    args.workers.agents()?;
    if args.probe {
        probe_remote(&args.workers.remote).await?;
    }
    println!("configuration ok");
    Ok(())
}

/// `--probe`: one real call; a failure fails the check with its reason.
async fn probe_remote(remote: &RemoteArgs) -> anyhow::Result<()> {
    let config = match (remote.endpoint()?, remote.remote_agents.is_empty()) {
        (Some(endpoint), _) => remote.tuned(RemoteConfig::new(endpoint))?,
        (None, true) => {
            println!("{:<28} skipped: no remote model configured", "remote probe");
            return Ok(());
        }
        (None, false) => remote
            .remote_config()?
            .context("remote agents need a remote model")?,
    };
    let model = RemoteModel::new(config)?;
    match probe(&model).await {
        Ok(report) => {
            let tokens = |t: Option<u32>| t.map_or("?".to_owned(), |t| t.to_string());
            let cost = report
                .cost_usd
                .map_or("no price configured".to_owned(), |c| format!("${c:.6}"));
            let answer = match &report.answer {
                Ok(intent) => format!("intent {intent:?}"),
                Err(reason) => format!("answer refused ({reason}): steps would fall back"),
            };
            println!(
                "{:<28} ok: {} answered in {} ms with {}, {answer}, tokens {} + {}, cost {cost}",
                "remote probe",
                report.model,
                report.latency.as_millis(),
                report.format,
                tokens(report.tokens.0),
                tokens(report.tokens.1),
            );
            Ok(())
        }
        Err(e) => anyhow::bail!("remote probe failed: {}", e.reason()),
    }
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
    let azure_auth = match (&remote.azure_openai_endpoint, remote.azure_auth()) {
        (None, _) => "not used".to_owned(),
        (Some(_), Ok(choice)) => choice.describe(),
        (Some(_), Err(e)) => format!("invalid: {e}"),
    };
    let intent_model = args
        .workers
        .intent_model
        .as_ref()
        .map_or("built-in".to_owned(), |p| p.display().to_string());
    vec![
        ("NATS_URL", mask_url(&global.nats_url)),
        ("NATS credentials", global.broker.describe()),
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
        ("Azure OpenAI auth", azure_auth),
        (
            "Azure client id",
            env_var("AZURE_CLIENT_ID").unwrap_or_else(|| "not set".to_owned()),
        ),
        (
            "remote deadline",
            format!("{} s", remote.remote_deadline_secs),
        ),
        ("remote concurrency", remote.remote_concurrency.to_string()),
        (
            "model prices (USD/1K tokens)",
            PriceTable::azure_list_prices()
                .parse(&remote.model_prices)
                .map_or_else(|e| format!("invalid: {e}"), |t| t.to_string()),
        ),
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
