//! Least privilege on a real nats-server started with the generated users
//! per role: each agent's credentials publish its own event types and are
//! refused another agent's; the gateway's are refused agent events; a
//! client without credentials is refused; and the five agents, each under
//! its own credentials, answer a conversation the gateway's role published.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use switchboard_engine::auth::ConnectAuth;
use switchboard_engine::broker::{self, Role};
use switchboard_engine::event::EventType;
use switchboard_engine::workflow::Agent;
use switchboard_tests::Running as Process;
use switchboard_tests::{TestServer, cli, eventually, run_command, text};

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard");

/// A server whose only users are the generated ones, their seed files in
/// `dir`, for a conversation stream of `partitions` partitions.
fn secured_for(dir: &Path, partitions: u32) -> (TestServer, broker::Written) {
    let keys = broker::generate().expect("keys");
    let layout = broker::Layout {
        listen: "127.0.0.1:4222",
        store_dir: dir,
        partitions,
    };
    let written = broker::write(dir, &keys, layout).expect("written");
    let server = TestServer::start_with(Some(broker::authorization(&keys, partitions)));
    (server, written)
}

/// [`secured_for`] an unpartitioned stream.
fn secured(dir: &Path) -> (TestServer, broker::Written) {
    secured_for(dir, 0)
}

fn seed(written: &broker::Written, role: Role) -> std::path::PathBuf {
    written
        .seeds
        .iter()
        .find(|(r, _)| *r == role)
        .map(|(_, p)| p.clone())
        .expect("a seed per role")
}

/// A connection as `role`, and the server errors it is told of.
async fn connect_as(
    url: &str,
    written: &broker::Written,
    role: Role,
) -> (async_nats::Client, Arc<Mutex<Vec<String>>>) {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let seen = errors.clone();
    let options = async_nats::ConnectOptions::new().event_callback(move |event| {
        let seen = seen.clone();
        async move {
            if let async_nats::Event::ServerError(e) = event {
                seen.lock().expect("lock").push(e.to_string());
            }
        }
    });
    let auth = ConnectAuth {
        nkey: Some(seed(written, role)),
        ..ConnectAuth::default()
    };
    let client = auth
        .apply(options)
        .await
        .expect("the seed file reads")
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("{role:?} connects: {e}"));
    (client, errors)
}

/// Publishes an (opaque) message on `conv.acme.<role>.<type>` and waits
/// for the stream's ack: `true` when stored.
async fn stored(js: &jetstream::Context, role: Role, t: EventType) -> bool {
    let subject = format!("conv.acme.{}-c.{}", role.name(), t.as_str());
    match js.publish(subject, "{}".into()).await {
        Ok(ack) => ack.await.is_ok(),
        Err(_) => false,
    }
}

async fn apply_streams_as_operator(url: &str, written: &broker::Written) {
    let (operator, _) = connect_as(url, written, Role::Operator).await;
    let js = jetstream::new(operator);
    switchboard_engine::streams::apply(&js, &switchboard_engine::streams::builtin(None), false)
        .await
        .expect("the operator applies the streams");
}

/// A JetStream context that gives up on an ack after a second (a refused
/// publish is dropped by the server: no ack ever comes).
fn quick(client: async_nats::Client) -> jetstream::Context {
    jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(1))
        .build(client)
}

/// A secured server with the streams applied, and the operator's
/// JetStream context on it.
async fn secured_as_operator(dir: &Path) -> (TestServer, broker::Written, jetstream::Context) {
    let (server, written) = secured_with_streams(dir).await;
    let (operator, _) = connect_as(&server.url(), &written, Role::Operator).await;
    (server, written, jetstream::new(operator))
}

/// Every role but the operator: the five agents, the projector, the gateway.
fn all_but_the_operator() -> impl Iterator<Item = Role> {
    Agent::ALL
        .iter()
        .map(|a| Role::Agent(*a))
        .chain([Role::Projector, Role::Gateway])
}

/// A secured server with the streams applied by the operator.
async fn secured_with_streams(dir: &Path) -> (TestServer, broker::Written) {
    let (server, written) = secured(dir);
    apply_streams_as_operator(&server.url(), &written).await;
    (server, written)
}

#[tokio::test]
async fn each_agent_publishes_its_own_event_types_and_is_refused_another_agents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, written) = secured_with_streams(dir.path()).await;
    let url = server.url();
    for agent in Agent::ALL {
        let role = Role::Agent(agent);
        let (client, errors) = connect_as(&url, &written, role).await;
        let js = quick(client);
        for t in role.emits() {
            assert!(
                stored(&js, role, *t).await,
                "{role:?} could not publish {t:?}"
            );
        }
        let foreign: Vec<EventType> = Agent::ALL
            .iter()
            .flat_map(|a| Role::Agent(*a).emits())
            .copied()
            .filter(|t| !role.emits().contains(t))
            .collect();
        assert!(!foreign.is_empty());
        for t in &foreign {
            assert!(!stored(&js, role, *t).await, "{role:?} published {t:?}");
        }
        let violations = errors.lock().expect("lock").clone();
        for t in &foreign {
            let subject = format!("conv.acme.{}-c.{}", role.name(), t.as_str());
            assert!(
                violations
                    .iter()
                    .any(|v| v.contains("Permissions Violation") && v.contains(&subject)),
                "no violation reported for {subject}: {violations:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_gateway_cannot_publish_agent_events_and_strangers_cannot_connect() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, written) = secured_with_streams(dir.path()).await;
    let url = server.url();
    let (client, _) = connect_as(&url, &written, Role::Gateway).await;
    let js = quick(client);
    for t in [
        EventType::Received,
        EventType::HumanReplied,
        EventType::Closed,
    ] {
        assert!(
            stored(&js, Role::Gateway, t).await,
            "the gateway could not publish {t:?}"
        );
    }
    // Every agent event (`failed` included: the gateway records no failures).
    let mut agent_events: Vec<EventType> = Vec::new();
    for t in Agent::ALL.iter().flat_map(|a| Role::Agent(*a).emits()) {
        if !agent_events.contains(t) {
            agent_events.push(*t);
        }
    }
    assert!(agent_events.contains(&EventType::Responded));
    for t in agent_events {
        assert!(
            !stored(&js, Role::Gateway, t).await,
            "the gateway published {t:?}"
        );
    }
    let stranger = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .connect(&url)
        .await;
    assert!(stranger.is_err(), "a client without credentials connected");
}

#[tokio::test]
async fn no_role_but_the_operator_can_change_or_purge_the_declared_streams() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, written, operator) = secured_as_operator(dir.path()).await;
    let url = server.url();
    let before = conversations_config(&operator).await;
    // A valid change (the operator makes it below), so only the
    // permission can refuse it.
    let week = Duration::from_secs(7 * 24 * 3600);
    assert_ne!(before.max_age, week);
    let shorter = jetstream::stream::Config {
        max_age: week,
        ..before.clone()
    };
    for role in all_but_the_operator() {
        let (client, _) = connect_as(&url, &written, role).await;
        let js = quick(client);
        assert!(
            js.update_stream(&shorter).await.is_err(),
            "{role:?} changed the stream's retention"
        );
        let stream = js.get_stream("CONVERSATIONS").await;
        let purged = match stream {
            Ok(stream) => stream.purge().await.is_ok(),
            Err(_) => false,
        };
        assert!(!purged, "{role:?} purged the log");
    }
    let after = conversations_config(&operator).await;
    assert_eq!(after.max_age, before.max_age);
    assert_eq!(after.subjects, before.subjects);
    // The operator still can, both.
    let updated = operator
        .update_stream(&shorter)
        .await
        .expect("the operator changes the stream");
    assert_eq!(updated.config.max_age, week);
    let stream = operator
        .get_stream("CONVERSATIONS")
        .await
        .expect("the stream");
    stream.purge().await.expect("the operator purges the log");
}

#[tokio::test]
async fn only_the_operator_deletes_consumers_or_purges_or_changes_buckets_none_deletes_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, written, operator) = secured_as_operator(dir.path()).await;
    let url = server.url();
    // What the others could destroy: an agent's durable consumer, an event
    // in the log, and a personal-data key.
    let log = operator.get_stream("CONVERSATIONS").await.expect("the log");
    let durable = jetstream::consumer::pull::Config {
        durable_name: Some("agent-intent".into()),
        ..Default::default()
    };
    log.create_consumer(durable).await.expect("a durable");
    assert!(stored(&operator, Role::Operator, EventType::Received).await);
    let event = log.get_last_raw_message_by_subject("conv.>").await;
    let event_seq = event.expect("the event").sequence;
    let keys = operator
        .create_key_value(jetstream::kv::Config {
            bucket: broker::bucket::KEYS.into(),
            history: 5,
            ..Default::default()
        })
        .await
        .expect("the keys bucket");
    let revision = keys.put("k", "secret".into()).await.expect("a key");
    for role in all_but_the_operator() {
        let (client, _) = connect_as(&url, &written, role).await;
        let js = quick(client);
        let log = js.get_stream("CONVERSATIONS").await.expect("reads the log");
        assert!(
            log.delete_consumer("agent-intent").await.is_err(),
            "{role:?} deleted another's consumer"
        );
        // The log and the buckets also refuse message deletes themselves
        // (`deny_delete`), so these two prove the outcome, not the deny.
        assert!(
            log.delete_message(event_seq).await.is_err(),
            "{role:?} deleted an event from the log"
        );
        let bucket = js
            .get_stream(format!("KV_{}", broker::bucket::KEYS))
            .await
            .expect("reads the keys bucket");
        assert!(bucket.purge().await.is_err(), "{role:?} purged the keys");
        let config = expiring(&bucket);
        assert!(
            js.update_stream(&config).await.is_err(),
            "{role:?} changed the keys bucket's limits"
        );
        assert!(
            bucket.delete_message(revision).await.is_err(),
            "{role:?} deleted a key's revision"
        );
    }
    let log_info = operator
        .get_stream("CONVERSATIONS")
        .await
        .expect("the log")
        .info()
        .await
        .expect("info")
        .clone();
    assert_eq!(log_info.state.messages, 1, "the event is still there");
    assert_eq!(
        log_info.state.consumer_count, 1,
        "the durable is still there"
    );
    let bucket = operator
        .get_stream(format!("KV_{}", broker::bucket::KEYS))
        .await
        .expect("the keys bucket");
    assert_eq!(bucket.cached_info().config.max_age, Duration::ZERO);
    assert_eq!(
        bucket.cached_info().state.messages,
        1,
        "the key is still there"
    );
    // The operator still can.
    let log = operator.get_stream("CONVERSATIONS").await.expect("the log");
    log.delete_consumer("agent-intent")
        .await
        .expect("the operator deletes a consumer");
    operator
        .update_stream(&expiring(&bucket))
        .await
        .expect("the operator changes a bucket's limits");
    bucket.purge().await.expect("the operator purges a bucket");
}

/// Fetches at most one message from `consumer` within half a second.
async fn fetch_one(consumer: &jetstream::consumer::PullConsumer) -> Option<jetstream::Message> {
    use futures::StreamExt;
    let batch = consumer
        .fetch()
        .max_messages(1)
        .expires(Duration::from_millis(500))
        .messages()
        .await
        .ok()?;
    let mut batch = std::pin::pin!(batch);
    match tokio::time::timeout(Duration::from_secs(2), batch.next()).await {
        Ok(Some(Ok(message))) => Some(message),
        _ => None,
    }
}

#[tokio::test]
async fn no_role_creates_pulls_from_or_acks_for_another_agents_durable_but_binds_its_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    let partitions = 2;
    let (server, written) = secured_for(dir.path(), partitions);
    let url = server.url();
    let (operator, _) = connect_as(&url, &written, Role::Operator).await;
    let operator = jetstream::new(operator);
    let specs = switchboard_engine::streams::with_partitions(
        switchboard_engine::streams::builtin(None),
        partitions,
    )
    .expect("two partitions");
    switchboard_engine::streams::apply(&operator, &specs, false)
        .await
        .expect("the operator applies the streams");
    // The critic's durable for partition 1, with one event waiting in it.
    let victim = "agent-critic-p1";
    let log = operator.get_stream("CONVERSATIONS").await.expect("the log");
    let durable = |name: &str, filter: &str| jetstream::consumer::pull::Config {
        durable_name: Some(name.into()),
        filter_subject: filter.into(),
        ..Default::default()
    };
    log.create_consumer(durable(victim, ""))
        .await
        .expect("the critic's durable");
    assert!(stored(&operator, Role::Operator, EventType::Received).await);
    for role in all_but_the_operator().filter(|r| *r != Role::Agent(Agent::Critic)) {
        let (client, errors) = connect_as(&url, &written, role).await;
        let js = quick(client.clone());
        let log = js.get_stream("CONVERSATIONS").await.expect("reads the log");
        for filter in ["", "conv.>"] {
            assert!(
                log.create_consumer(durable(victim, filter)).await.is_err(),
                "{role:?} re-configured the critic's durable (filter {filter:?})"
            );
        }
        let theirs: jetstream::consumer::PullConsumer =
            log.get_consumer(victim).await.expect("reads its info");
        assert!(
            fetch_one(&theirs).await.is_none(),
            "{role:?} pulled the critic's event"
        );
        let ack = format!("$JS.ACK.CONVERSATIONS.{victim}.1.1.1.0.0");
        client
            .publish(ack.clone(), "+ACK".into())
            .await
            .expect("sent");
        client.flush().await.expect("flushed");
        if let Some(own) = role.durables(partitions).first() {
            log.create_consumer(durable(own, ""))
                .await
                .unwrap_or_else(|e| panic!("{role:?} cannot create its own {own}: {e}"));
        }
        let refused = [
            format!("$JS.API.CONSUMER.CREATE.CONVERSATIONS.{victim}"),
            format!("$JS.API.CONSUMER.MSG.NEXT.CONVERSATIONS.{victim}"),
            ack,
        ];
        eventually(
            "the refusals of another's durable",
            Duration::from_secs(5),
            || {
                let seen = errors.lock().expect("lock").clone();
                let all = refused.iter().all(|subject| {
                    seen.iter().any(|v| {
                        v.contains("Permissions Violation") && v.contains(subject.as_str())
                    })
                });
                async move { all.then_some(()) }
            },
        )
        .await;
    }
    let mut consumer: jetstream::consumer::PullConsumer =
        log.get_consumer(victim).await.expect("the durable");
    let info = consumer.info().await.expect("info");
    assert_eq!(
        info.config.filter_subject, "",
        "its configuration is unchanged"
    );
    assert_eq!(info.delivered.stream_sequence, 0, "nobody took its event");
    // The critic itself pulls it.
    let (critic, _) = connect_as(&url, &written, Role::Agent(Agent::Critic)).await;
    let critic = quick(critic);
    let own: jetstream::consumer::PullConsumer = critic
        .get_stream("CONVERSATIONS")
        .await
        .expect("the log")
        .get_consumer(victim)
        .await
        .expect("its durable");
    let message = fetch_one(&own).await.expect("the critic pulls its event");
    message.ack().await.expect("and acks it");
}

/// A valid change of a bucket's limits that would lose its keys: entries
/// expire after an hour.
fn expiring(bucket: &jetstream::stream::Stream) -> jetstream::stream::Config {
    jetstream::stream::Config {
        max_age: Duration::from_secs(3600),
        duplicate_window: Duration::from_secs(60),
        ..bucket.cached_info().config.clone()
    }
}

/// The CONVERSATIONS stream's configuration as the server holds it now.
async fn conversations_config(js: &jetstream::Context) -> jetstream::stream::Config {
    js.get_stream("CONVERSATIONS")
        .await
        .expect("the stream")
        .cached_info()
        .config
        .clone()
}

#[tokio::test]
async fn five_agents_under_their_own_credentials_answer_what_the_gateway_role_published() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, written) = secured(dir.path());
    let url = server.url();
    let as_role = |role: Role, args: &[&str]| {
        let mut command = cli(BINARY, &url, args);
        command.env("SWITCHBOARD_NATS_NKEY", seed(&written, role));
        command
    };
    let applied = run_command(as_role(Role::Operator, &["streams", "apply"]), None);
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    let _workers: Vec<Process> = Agent::ALL
        .iter()
        .map(|agent| {
            let mut command = as_role(Role::Agent(*agent), &["worker", agent.as_str()]);
            command.stdout(Stdio::null()).stderr(Stdio::null());
            Process(command.spawn().expect("a worker starts"))
        })
        .collect();
    let published = run_command(
        as_role(
            Role::Gateway,
            &[
                "publish",
                "brewvi/sec1",
                "--text",
                "How long does shipping take?",
            ],
        ),
        None,
    );
    assert!(published.status.success(), "{}", text(&published.stderr));
    let timeline = eventually("the answer", Duration::from_secs(60), || async {
        let out = run_command(as_role(Role::Operator, &["replay", "brewvi/sec1"]), None);
        let shown = text(&out.stdout);
        shown.contains("responded").then_some(shown)
    })
    .await;
    assert!(timeline.contains("screened"), "{timeline}");
    assert!(timeline.contains("classified"), "{timeline}");
}

#[test]
fn the_broker_names_the_kv_buckets_as_the_workers_open_them() {
    use switchboard_workers as w;
    assert_eq!(broker::bucket::KEYS, w::privacy::ring::BUCKET);
    assert_eq!(broker::bucket::TENANT_DATA, w::tenant::store::BUCKET);
    assert_eq!(broker::bucket::API_KEYS, w::gateway::keys::BUCKET);
    assert_eq!(broker::bucket::AUDIT, w::audit::BUCKET);
    assert_eq!(broker::bucket::LEASES, w::projector::lease::BUCKET);
    assert_eq!(broker::bucket::RETENTION, w::privacy::retention::BUCKET);
}

#[tokio::test]
async fn up_secure_refuses_strangers_and_answers_what_the_operator_publishes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nats_port = switchboard_tests::free_port();
    let mut command = std::process::Command::new(BINARY);
    command
        .arg("up")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--nats-port", &nats_port.to_string(), "--secure"])
        .args([
            "--metrics-addr",
            "127.0.0.1:0",
            "--gateway-addr",
            "127.0.0.1:0",
        ])
        .env(
            "SWITCHBOARD_NATS_SERVER",
            switchboard_tests::server_binary().path(),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _up = Process(command.spawn().expect("up starts"));
    let url = format!("nats://127.0.0.1:{nats_port}");
    let operator = dir.path().join("broker").join("operator.nk");
    let as_operator = |args: &[&str]| {
        let mut command = cli(BINARY, &url, args);
        command.env("SWITCHBOARD_NATS_NKEY", &operator);
        run_command(command, None)
    };
    eventually(
        "a message published as the operator",
        Duration::from_secs(60),
        || async {
            let out = as_operator(&["publish", "brewvi/up-sec", "--text", "Where is my order?"]);
            out.status.success().then_some(())
        },
    )
    .await;
    eventually("the answer", Duration::from_secs(60), || async {
        let out = as_operator(&["replay", "brewvi/up-sec"]);
        text(&out.stdout).contains("responded").then_some(())
    })
    .await;
    let stranger = run_command(cli(BINARY, &url, &["replay", "brewvi/up-sec"]), None);
    assert!(
        !stranger.status.success(),
        "a client without a seed read the log"
    );
    let said = text(&stranger.stderr);
    assert!(said.contains("authorization"), "{said}");
}

/// Runs openssl with `args` in `dir`, failing the test with its stderr.
fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the TLS test needs the openssl command");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        text(&out.stderr)
    );
}

/// A CA and a server certificate for 127.0.0.1 signed by it, in `dir`.
fn certificates(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "1",
            "-subj",
            "/CN=switchboard test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").expect("ext file");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "1",
            "-extfile",
            "san.ext",
        ],
    );
}

#[tokio::test]
async fn tls_with_the_ca_file_connects_and_without_it_or_with_a_missing_file_fails_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    certificates(dir.path());
    let tls = format!(
        "tls {{\n  cert_file: {:?}\n  key_file: {:?}\n}}\n",
        dir.path().join("server.pem").display().to_string(),
        dir.path().join("server.key").display().to_string(),
    );
    let server = TestServer::start_with(Some(tls));
    let url = server.url();
    let ca = dir.path().join("ca.pem");
    let mut applied = cli(BINARY, &url, &["streams", "apply"]);
    applied.env("SWITCHBOARD_NATS_CA", &ca);
    let applied = run_command(applied, None);
    assert!(applied.status.success(), "{}", text(&applied.stderr));

    let untrusted = run_command(cli(BINARY, &url, &["streams", "apply"]), None);
    assert!(!untrusted.status.success(), "connected without the CA");
    let said = text(&untrusted.stderr);
    assert!(
        said.starts_with("error: cannot connect to NATS") && !said.contains("panicked"),
        "{said}"
    );
    let missing = run_command(
        cli(
            BINARY,
            &url,
            &["streams", "apply", "--nats-ca", "/nonexistent/ca.pem"],
        ),
        None,
    );
    assert!(!missing.status.success());
    let said = text(&missing.stderr);
    assert!(
        said.contains("CA file /nonexistent/ca.pem: No such file"),
        "{said}"
    );
}
