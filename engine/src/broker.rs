//! Least privilege on the broker: one NATS user per role, allowed to
//! publish only the event types that role emits, plus the JetStream calls
//! it needs.
//!
//! The roles are the five agents, the projector, the gateway and the
//! operator (the CLI's administrative commands). What each agent emits
//! follows the workflow's steps ([`crate::workflow::Step`]): the critic
//! `screened`, `validated` and `responded` (refusals and approved drafts),
//! the intent classifier `classified`, knowledge `retrieved`, the response
//! generator `drafted`, escalation `escalated` and `responded` (the
//! hand-off notice); every agent may record `failed` when it dead-letters.
//! The gateway emits what customers and operators send (`received`,
//! `human_replied`, `closed`) and `erased`; the projector `failed` (its
//! sentry), dead letters, and the `erased` of scheduled retention. The operator may publish anything.
//!
//! Every role may also call the JetStream API (`$JS.API.>`: pull requests,
//! stream and KV reads, its consumers), ack (`$JS.ACK.>`), answer flow
//! control (`$JS.FC.>`) and reply (`_INBOX.>`), and write the KV buckets it
//! owns; none but the operator may delete or purge any stream or bucket,
//! delete stored messages, delete consumers, create or change a declared
//! stream, or change a bucket's configuration ([`Role::publish_deny`]).
//! Subscriptions are not restricted
//! (any role may read the log; personal text in it is sealed): the aim
//! here is that no role can forge another's events or destroy what others
//! rely on.
//!
//! Users authenticate with nkeys: [`generate`] makes one key pair per role,
//! [`authorization`] is the server's `authorization` block naming only the
//! public keys, and each role's process reads its seed from a 0600 file.

use std::path::{Path, PathBuf};

use crate::event::EventType;
use crate::subject;
use crate::workflow::Agent;

/// The prefix of the agents' durable consumer names: `agent-<agent>`, or
/// `agent-<agent>-p<n>` for partition `n` of a partitioned stream.
pub const CONSUMER_PREFIX: &str = "agent";

/// The label of a worker hosting every agent (`agent-all`), which only the
/// operator's credentials can run (no other role emits every event type).
pub const ALL_AGENTS_LABEL: &str = "all";

/// The durable consumer of a worker labelled `label` (an agent's name,
/// [`ALL_AGENTS_LABEL`], or names joined by `-`) under `prefix`:
/// `<prefix>-<label>`, or `<prefix>-<label>-p<n>` for partition `n`. The
/// runtime binds these names and the broker guards them.
pub fn durable_name(prefix: &str, label: &str, partition: Option<subject::Partition>) -> String {
    match partition {
        None => format!("{prefix}-{label}"),
        Some(p) => format!("{prefix}-{label}-p{p}"),
    }
}

/// The durable names of a worker labelled `label` on a conversation
/// stream of `partitions` partitions (0: unpartitioned).
fn durable_names(label: &str, partitions: u32) -> Vec<String> {
    if partitions == 0 {
        return vec![durable_name(CONSUMER_PREFIX, label, None)];
    }
    (0..partitions)
        .map(|p| durable_name(CONSUMER_PREFIX, label, Some(subject::Partition::new(p))))
        .collect()
}

/// The largest partition count the conversation stream of `specs` declares.
pub fn declared_partitions(specs: &[crate::streams::StreamSpec]) -> u32 {
    specs.iter().map(|s| s.partitions).max().unwrap_or(0)
}

/// Who connects to the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// One agent's workers.
    Agent(Agent),
    /// The projector (and its sentry).
    Projector,
    /// The HTTP gateway.
    Gateway,
    /// Administrative commands: streams, imports, keys, rebuilds, erasure.
    Operator,
}

/// KV buckets (their names as the workers open them).
pub mod bucket {
    /// Per-conversation keys of personal text.
    pub const KEYS: &str = "SWITCHBOARD_KEYS";
    /// Tenants' knowledge bases and records.
    pub const TENANT_DATA: &str = "SWITCHBOARD_TENANT_DATA";
    /// The gateway's API keys.
    pub const API_KEYS: &str = "SWITCHBOARD_API_KEYS";
    /// The audit signing key.
    pub const AUDIT: &str = "SWITCHBOARD_AUDIT";
    /// The projector's lease.
    pub const LEASES: &str = "SWITCHBOARD_LEASES";
    /// The last retention pass per tenant.
    pub const RETENTION: &str = "SWITCHBOARD_RETENTION";
    /// Live worker replicas, which split a partitioned stream.
    pub const MEMBERS: &str = "SWITCHBOARD_MEMBERS";
    /// Every bucket.
    pub const ALL: [&str; 7] = [
        KEYS,
        TENANT_DATA,
        API_KEYS,
        AUDIT,
        LEASES,
        RETENTION,
        MEMBERS,
    ];
}

impl Role {
    /// Every role, agents first.
    pub const ALL: [Role; 8] = [
        Role::Agent(Agent::Critic),
        Role::Agent(Agent::Intent),
        Role::Agent(Agent::Knowledge),
        Role::Agent(Agent::Response),
        Role::Agent(Agent::Escalation),
        Role::Projector,
        Role::Gateway,
        Role::Operator,
    ];

    /// The role's name (an agent's worker name, or `projector`, `gateway`,
    /// `operator`): its seed file is `<name>.nk`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Agent(agent) => agent.as_str(),
            Role::Projector => "projector",
            Role::Gateway => "gateway",
            Role::Operator => "operator",
        }
    }

    /// The role named `name`.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The event types this role may append.
    pub fn emits(self) -> &'static [EventType] {
        use EventType::*;
        match self {
            Role::Agent(Agent::Critic) => &[Screened, Validated, Responded, Failed],
            Role::Agent(Agent::Intent) => &[Classified, Failed],
            Role::Agent(Agent::Knowledge) => &[Retrieved, Failed],
            Role::Agent(Agent::Response) => &[Drafted, Failed],
            Role::Agent(Agent::Escalation) => &[Escalated, Responded, Failed],
            // Its sentry's `failed`, and the erasures of retention.
            Role::Projector => &[Failed, Erased],
            Role::Gateway => &[Received, HumanReplied, Closed, Erased],
            Role::Operator => &EventType::ALL,
        }
    }

    /// The KV buckets this role writes.
    pub fn buckets(self) -> &'static [&'static str] {
        match self {
            Role::Agent(_) => &[bucket::KEYS, bucket::MEMBERS],
            Role::Projector => &[bucket::KEYS, bucket::LEASES, bucket::RETENTION],
            Role::Gateway => &[bucket::KEYS, bucket::API_KEYS, bucket::AUDIT],
            Role::Operator => &[],
        }
    }

    /// Subjects this role may publish to.
    pub fn publish_allow(self) -> Vec<String> {
        if self == Role::Operator {
            return vec![">".into()];
        }
        let mut allow: Vec<String> = self
            .emits()
            .iter()
            .map(|t| subject::events_of_type(*t))
            .collect();
        if self != Role::Gateway {
            allow.push(format!("{}.>", subject::DEADLETTER_PREFIX));
        }
        allow.extend(self.buckets().iter().map(|b| format!("$KV.{b}.>")));
        allow.extend(
            ["$JS.API.>", "$JS.ACK.>", "$JS.FC.>", "_INBOX.>"]
                .iter()
                .map(|s| (*s).to_owned()),
        );
        allow
    }

    /// The KV buckets this role opens, creating them if missing: those it
    /// writes, and the tenants' data every process reads.
    pub fn opens(self) -> Vec<&'static str> {
        let mut opens = self.buckets().to_vec();
        if !opens.contains(&bucket::TENANT_DATA) {
            opens.push(bucket::TENANT_DATA);
        }
        opens
    }

    /// The durable consumers this role's workers pull from on a
    /// conversation stream of `partitions` partitions: an agent's own
    /// (`agent-<agent>[-p<n>]`); the operator's are those of a worker hosting
    /// every agent (`agent-all[-p<n>]`); the projector and the gateway have
    /// none (they read with ordered consumers, named at random).
    pub fn durables(self, partitions: u32) -> Vec<String> {
        match self {
            Role::Agent(agent) => durable_names(agent.as_str(), partitions),
            Role::Operator => durable_names(ALL_AGENTS_LABEL, partitions),
            Role::Projector | Role::Gateway => Vec::new(),
        }
    }

    /// Subjects this role may not publish to even though `$JS.API.>` allows
    /// them, each a way to lose or stall what others rely on:
    /// - deleting or purging any stream (the log, the dead letters, a KV
    ///   bucket: purging the keys bucket would shred every conversation);
    /// - deleting a stored message from any stream (KV buckets refuse it
    ///   anyway; shredding a key is a purge of it, a KV write);
    /// - creating or changing a declared stream (`streams/streams.toml`: a
    ///   changed retention or subject list loses events as surely as a
    ///   purge), changing any bucket's stream, or creating a bucket the
    ///   role does not open (a bucket made first by another role, with its
    ///   own limits, would be its owner's);
    /// - deleting, pausing or unpinning any consumer (another agent's
    ///   durable, and with it its place in the log);
    /// - creating (or re-configuring) another role's durable, pulling from
    ///   it or acknowledging its deliveries: any of these would take events
    ///   away from the agent that should handle them. The names are those
    ///   of a stream of `partitions` partitions: generate the configuration
    ///   again after re-partitioning.
    ///
    /// Roles still create the buckets they open and their own consumers.
    pub fn publish_deny(self, partitions: u32) -> Vec<String> {
        if self == Role::Operator {
            return Vec::new();
        }
        let mut deny: Vec<String> = [
            "$JS.API.STREAM.DELETE.>",
            "$JS.API.STREAM.PURGE.>",
            "$JS.API.CONSUMER.DELETE.>",
            "$JS.API.CONSUMER.PAUSE.>",
            "$JS.API.CONSUMER.UNPIN.>",
        ]
        .map(String::from)
        .to_vec();
        for spec in crate::streams::builtin(None) {
            for call in ["CREATE", "UPDATE", "MSG.DELETE"] {
                deny.push(format!("$JS.API.STREAM.{call}.{}", spec.name));
            }
        }
        let opens = self.opens();
        for name in bucket::ALL {
            let stream = format!("KV_{name}");
            deny.push(format!("$JS.API.STREAM.UPDATE.{stream}"));
            if !opens.contains(&name) {
                deny.push(format!("$JS.API.STREAM.CREATE.{stream}"));
            }
            deny.push(format!("$JS.API.STREAM.MSG.DELETE.{stream}"));
        }
        for other in Role::ALL.into_iter().filter(|r| *r != self) {
            for name in other.durables(partitions) {
                deny.extend(consumer_calls(&name));
            }
        }
        deny
    }
}

/// The subjects that create, re-configure, pull from or acknowledge for
/// the consumer `name` on any stream. Acks are `$JS.ACK.<stream>.<name>.…`,
/// or `$JS.ACK.<domain>.<account>.<stream>.<name>.…` in the newer form.
fn consumer_calls(name: &str) -> [String; 6] {
    [
        format!("$JS.API.CONSUMER.CREATE.*.{name}"),
        format!("$JS.API.CONSUMER.CREATE.*.{name}.>"),
        format!("$JS.API.CONSUMER.DURABLE.CREATE.*.{name}"),
        format!("$JS.API.CONSUMER.MSG.NEXT.*.{name}"),
        format!("$JS.ACK.*.{name}.>"),
        format!("$JS.ACK.*.*.*.{name}.>"),
    ]
}

/// One role's key pair.
#[derive(Clone)]
pub struct RoleKey {
    /// Whose.
    pub role: Role,
    /// The public key (`U...`), named in the server configuration.
    pub public: String,
    /// The seed (`SU...`), secret: only the role's processes read it.
    pub seed: String,
}

impl std::fmt::Debug for RoleKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleKey")
            .field("role", &self.role)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// Why the broker configuration could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// Key generation failed.
    #[error("generating the nkey of {role}: {message}")]
    Key {
        /// The role.
        role: &'static str,
        /// What nkeys said.
        message: String,
    },
    /// A seed file could not be read or holds no user seed.
    #[error("reading the seed {path}: {message}")]
    Seed {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A file could not be written.
    #[error("writing {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
}

/// A fresh nkey user per role.
pub fn generate() -> Result<Vec<RoleKey>, BrokerError> {
    Role::ALL
        .into_iter()
        .map(|role| {
            let pair = nkeys::KeyPair::new_user();
            let seed = pair.seed().map_err(|e| BrokerError::Key {
                role: role.name(),
                message: e.to_string(),
            })?;
            Ok(RoleKey {
                role,
                public: pair.public_key(),
                seed,
            })
        })
        .collect()
}

/// The key pairs whose seeds `dir` holds (`<role>.nk`, as [`write`] left
/// them), or `None` if any role's file is missing.
pub fn load(dir: &Path) -> Result<Option<Vec<RoleKey>>, BrokerError> {
    let mut keys = Vec::new();
    for role in Role::ALL {
        let path = dir.join(format!("{}.nk", role.name()));
        if !path.exists() {
            return Ok(None);
        }
        let failed = |message: String| BrokerError::Seed {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| failed(e.to_string()))?;
        let seed = text.trim().to_owned();
        let pair = nkeys::KeyPair::from_seed(&seed).map_err(|e| failed(e.to_string()))?;
        keys.push(RoleKey {
            role,
            public: pair.public_key(),
            seed,
        });
    }
    Ok(Some(keys))
}

fn quoted(subjects: &[String]) -> String {
    let items: Vec<String> = subjects.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", items.join(", "))
}

/// The nats-server `authorization` block: one nkey user per role with its
/// publish permissions (public keys only; no secret in it), for a
/// conversation stream of `partitions` partitions.
pub fn authorization(keys: &[RoleKey], partitions: u32) -> String {
    let mut text = String::from(
        "# Generated by `switchboard streams broker-config`: one nkey user per role.\n\
         authorization {\n  users = [\n",
    );
    for key in keys {
        let role = key.role;
        let deny = role.publish_deny(partitions);
        let deny = if deny.is_empty() {
            String::new()
        } else {
            format!(", deny: {}", quoted(&deny))
        };
        text.push_str(&format!(
            "    # {name}\n    {{ nkey: {public:?}, permissions: {{ publish: {{ allow: {allow}{deny} }}, subscribe: {{ allow: [\">\"] }} }} }}\n",
            name = role.name(),
            public = key.public,
            allow = quoted(&role.publish_allow()),
        ));
    }
    text.push_str("  ]\n}\n");
    text
}

/// What [`write`] wrote.
#[derive(Debug, Clone)]
pub struct Written {
    /// `auth.conf`: the authorization block, for `include` in a server config.
    pub authorization: PathBuf,
    /// `server.conf`: a complete server config (loopback, JetStream under
    /// `store_dir`) that includes `auth.conf`.
    pub server: PathBuf,
    /// One `<role>.nk` seed file per role (mode 0600).
    pub seeds: Vec<(Role, PathBuf)>,
}

/// Where and for what [`write`] writes a server configuration.
#[derive(Debug, Clone, Copy)]
pub struct Layout<'a> {
    /// The address the server listens on.
    pub listen: &'a str,
    /// The JetStream store directory.
    pub store_dir: &'a Path,
    /// The conversation stream's partitions (whose durables are guarded).
    pub partitions: u32,
}

/// Writes `auth.conf`, `server.conf` (listening on `layout.listen`,
/// JetStream in `layout.store_dir`) and one 0600 seed file per role into
/// `dir`.
pub fn write(dir: &Path, keys: &[RoleKey], layout: Layout<'_>) -> Result<Written, BrokerError> {
    let Layout {
        listen,
        store_dir,
        partitions,
    } = layout;
    std::fs::create_dir_all(dir).map_err(write_error(dir))?;
    let authorization = dir.join("auth.conf");
    std::fs::write(&authorization, self::authorization(keys, partitions))
        .map_err(write_error(&authorization))?;
    let server = dir.join("server.conf");
    let config = format!(
        "# Generated by `switchboard streams broker-config`.\nlisten: {listen:?}\njetstream {{\n  store_dir: {:?}\n}}\ninclude \"auth.conf\"\n",
        store_dir.display().to_string()
    );
    std::fs::write(&server, config).map_err(write_error(&server))?;
    let mut seeds = Vec::new();
    for key in keys {
        let path = dir.join(format!("{}.nk", key.role.name()));
        write_secret(&path, &format!("{}\n", key.seed))?;
        seeds.push((key.role, path));
    }
    Ok(Written {
        authorization,
        server,
        seeds,
    })
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> BrokerError {
    let path = path.display().to_string();
    move |source| BrokerError::Write { path, source }
}

/// Writes `text` to a file only its owner can read (created 0600, so the
/// secret is never readable by others, even briefly).
fn write_secret(path: &Path, text: &str) -> Result<(), BrokerError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(write_error(path))?;
    file.write_all(text.as_bytes()).map_err(write_error(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_agent_may_publish_another_agents_events() {
        for role in Role::ALL {
            let Role::Agent(_) = role else { continue };
            let allow = role.publish_allow();
            for other in Role::ALL {
                let Role::Agent(_) = other else { continue };
                for t in other.emits() {
                    let own = role.emits().contains(t);
                    let subject = subject::events_of_type(*t);
                    assert_eq!(allow.contains(&subject), own, "{role:?} and {subject}");
                }
            }
            assert!(!allow.iter().any(|s| s == ">" || s == "conv.>"));
        }
    }

    #[test]
    fn no_role_may_create_pull_from_or_ack_for_another_agents_durables() {
        for partitions in [0, 3] {
            for role in Role::ALL.into_iter().filter(|r| *r != Role::Operator) {
                let deny = role.publish_deny(partitions);
                for other in Role::ALL {
                    for name in other.durables(partitions) {
                        let guarded = consumer_calls(&name).iter().all(|s| deny.contains(s));
                        assert_eq!(guarded, other != role, "{role:?}, {name}");
                    }
                }
            }
        }
        assert_eq!(
            Role::Agent(Agent::Intent).durables(2),
            ["agent-intent-p0", "agent-intent-p1"]
        );
        assert!(Role::Operator.publish_deny(4).is_empty());
    }

    #[test]
    fn the_gateway_emits_no_agent_event() {
        for t in Role::Gateway.emits() {
            for agent in Agent::ALL {
                assert!(!Role::Agent(agent).emits().contains(t), "{t:?}");
            }
        }
    }

    #[test]
    fn the_config_names_public_keys_only_and_seed_files_are_private() {
        let keys = generate().expect("keys");
        let text = authorization(&keys, 0);
        for key in &keys {
            assert!(text.contains(&key.public));
            assert!(!text.contains(&key.seed));
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout {
            listen: "127.0.0.1:4222",
            store_dir: dir.path(),
            partitions: 0,
        };
        let written = write(dir.path(), &keys, layout).expect("write");
        assert_eq!(written.seeds.len(), Role::ALL.len());
        let loaded = load(dir.path()).expect("readable").expect("every seed");
        let publics = |k: &[RoleKey]| k.iter().map(|k| k.public.clone()).collect::<Vec<_>>();
        assert_eq!(publics(&loaded), publics(&keys));
        #[cfg(unix)]
        for (_, path) in &written.seeds {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .expect("seed file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{}", path.display());
        }
    }
}
