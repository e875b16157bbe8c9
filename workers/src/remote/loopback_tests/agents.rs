//! The response agent and the critic's draft validation configured remote,
//! against the scripted loopback server: drafts and verdicts come from the
//! stub with its usage and cost on the event, every failure (5xx, timeout,
//! invalid JSON, an ungrounded draft) falls back to the local model, and
//! the customer's redacted personal data is never sent.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use switchboard_engine::conversation::Conversation;
use switchboard_engine::event::{
    Actor, Classified, Customer, CustomerTier, Drafted, Entities, Event, EventData, Intent,
    ModelUsage, OutputFindingKind, Received, Retrieved, Sentiment, ValidateVerdict, Validated,
};
use switchboard_engine::ids::ConversationKey;
use switchboard_engine::workflow::Step;

use super::super::stub_server::{Reply, StubServer};
use super::super::*;
use super::{config, fold_after};
use crate::agents::{Critic, Response};
use crate::knowledge::KnowledgeBase;
use crate::models::LocalCritic;
use crate::response::LocalResponder;
use crate::runtime::Worker;

const CUSTOMER: &str = "persona_001";
const EMAIL: &str = "jane.doe@example.com";
/// Cited by a grounded draft: the customer's order record.
const ORDER: &str = "order:ORD-10234";
/// 100 prompt tokens at $0.01/1k and 20 completion tokens at $0.03/1k.
const STUB_COST: f64 = 0.001 + 0.0006;

fn text() -> String {
    format!("Where is my order #10234? Mail me at {EMAIL}")
}

fn classified() -> Classified {
    Classified {
        intent: Intent::TrackingUpdate,
        confidence: 0.9,
        sentiment: Sentiment::Neutral,
        entities: Entities {
            order_number: Some("#10234".into()),
            ..Entities::default()
        },
        signals: vec![],
        model: None,
    }
}

fn retrieved() -> Retrieved {
    let at = Utc
        .with_ymd_and_hms(2026, 1, 25, 12, 0, 0)
        .single()
        .expect("valid date");
    KnowledgeBase::builtin()
        .expect("the shipped knowledge base loads")
        .retrieve(&text(), &classified(), CUSTOMER, at)
}

/// The conversation after `received`, a real screening (which redacts the
/// e-mail address), the classification, `retrieved` and `then`.
fn conversation(retrieved: Retrieved, then: Vec<EventData>) -> Conversation {
    let key = ConversationKey::parse("brewvi/remote").expect("valid key");
    let received = Received {
        message_id: "m1".into(),
        channel: "web".into(),
        customer: Customer {
            id: CUSTOMER.into(),
            tier: CustomerTier::Standard,
        },
        language: "en".into(),
        text: text(),
    };
    let first = Event::new_root(key, Actor::channel("web"), EventData::Received(received));
    let screened = LocalCritic::default().screen(&text());
    assert!(!screened.redactions.is_empty(), "the e-mail is redacted");
    let rest = [
        EventData::Screened(screened),
        EventData::Classified(classified()),
        EventData::Retrieved(retrieved),
    ];
    fold_after(first, rest.into_iter().chain(then))
}

fn model(server: &StubServer, tweak: impl FnOnce(&mut RemoteConfig)) -> RemoteModel {
    let mut config = config(server);
    config.max_retries = 0;
    tweak(&mut config);
    RemoteModel::new(config).expect("valid config")
}

fn local_draft(retrieved: &Retrieved) -> Drafted {
    let asker = crate::response::Asker {
        customer_id: CUSTOMER,
        text: &text(),
        language: "en",
    };
    LocalResponder::new().draft_for(&asker, &classified(), retrieved, 1, &[])
}

/// The user message of the `n`th request.
fn user_message(server: &StubServer, n: usize) -> String {
    let requests = server.requests();
    requests[n]["messages"][1]["content"]
        .as_str()
        .expect("the user message is text")
        .to_owned()
}

fn assert_usage(usage: &ModelUsage) {
    assert_eq!(
        (usage.prompt_tokens, usage.completion_tokens),
        (Some(100), Some(20)),
        "{usage:?}"
    );
    let cost = usage.cost_usd.expect("pricing is configured");
    assert!((cost - STUB_COST).abs() < 1e-12, "{cost}");
}

async fn draft(response: &Response, conversation: &Conversation) -> Drafted {
    let events = response
        .act(Step::Draft { attempt: 1 }, conversation)
        .await
        .expect("drafting succeeds");
    match events.as_slice() {
        [EventData::Drafted(d)] => d.clone(),
        other => panic!("expected one drafted event, got {other:?}"),
    }
}

#[tokio::test]
async fn a_remote_response_drafts_from_the_stub_with_its_usage() {
    let answer = json!({"text": "Hi, order #10234 is on its way.", "sources": [ORDER]});
    let server = StubServer::start(vec![Reply::completion(&answer.to_string())]).await;
    let response = Response::remote(
        RemoteResponder::new(model(&server, |_| {})),
        LocalResponder::new(),
    );
    let drafted = draft(&response, &conversation(retrieved(), vec![])).await;
    assert_eq!(drafted.text, "Hi, order #10234 is on its way.");
    assert_eq!(drafted.sources, [ORDER]);
    assert_eq!(drafted.model.model, "gpt-4o (gpt-4o-2024-08-06)");
    assert_usage(&drafted.model);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0]["response_format"]["json_schema"]["name"],
        "draft"
    );
    let sent = user_message(&server, 0);
    assert!(sent.contains(&format!("[{ORDER}]")), "{sent}");
    assert!(!sent.contains(EMAIL), "redacted PII was sent: {sent}");
}

#[tokio::test]
async fn a_failing_or_ungrounded_remote_draft_falls_back_to_the_local_one() {
    let uncited = json!({"text": "Your order shipped.", "sources": []}).to_string();
    let invented = json!({"text": "Refunds take a day.", "sources": ["kb:made-up"]}).to_string();
    let cases: Vec<(&str, Reply, Option<Duration>, bool)> = vec![
        ("unavailable", Reply::status(500, &[], "{}"), None, false),
        (
            "timeout",
            Reply::Hang,
            Some(Duration::from_millis(200)),
            false,
        ),
        ("bad response", Reply::completion("not json"), None, true),
        ("ungrounded", Reply::completion(&uncited), None, true),
        ("ungrounded", Reply::completion(&invented), None, true),
    ];
    let retrieved = retrieved();
    let local = local_draft(&retrieved);
    for (reason, reply, timeout, paid) in cases {
        let server = StubServer::start(vec![reply]).await;
        let model = model(&server, |c| c.timeout = timeout.unwrap_or(c.timeout));
        let response = Response::remote(RemoteResponder::new(model), LocalResponder::new());
        let drafted = draft(&response, &conversation(retrieved.clone(), vec![])).await;
        assert_eq!(drafted.text, local.text, "{reason}");
        assert_eq!(drafted.sources, local.sources, "{reason}");
        assert_eq!(
            drafted.model.model,
            format!("local-templates-v1 (fallback: {reason})")
        );
        if paid {
            assert_usage(&drafted.model);
        } else {
            assert_eq!(
                drafted.model.prompt_tokens, None,
                "{reason}: nothing was paid"
            );
            assert_eq!(drafted.model.cost_usd, None, "{reason}");
        }
        assert_eq!(server.requests().len(), 1, "{reason}");
    }
}

#[tokio::test]
async fn without_retrieved_sources_the_remote_model_is_not_asked() {
    let server = StubServer::start(vec![Reply::status(500, &[], "{}")]).await;
    let response = Response::remote(
        RemoteResponder::new(model(&server, |_| {})),
        LocalResponder::new(),
    );
    let nothing = Retrieved {
        query: "order".into(),
        passages: vec![],
        records: vec![],
    };
    let drafted = draft(&response, &conversation(nothing, vec![])).await;
    assert_eq!(
        drafted.model.model,
        "local-templates-v1 (fallback: no sources)"
    );
    assert!(server.requests().is_empty());
}

/// A critic whose draft validation goes to `server`.
fn remote_critic(server: &StubServer) -> Critic {
    Critic::builtin().with_remote_validation(RemoteValidator::new(model(server, |_| {})))
}

/// Validates the draft of `then` and, as the runtime does, carries an
/// approval on to its delivery (the critic's next step): the verdict and
/// the text delivered, if any.
async fn validate(
    critic: &Critic,
    retrieved: &Retrieved,
    then: &[EventData],
) -> (Validated, Option<String>) {
    let state = conversation(retrieved.clone(), then.to_vec());
    let events = critic
        .act(Step::Validate { attempt: 1 }, &state)
        .await
        .expect("validation succeeds");
    match events.as_slice() {
        [EventData::Validated(v)] if v.verdict == ValidateVerdict::Approve => {
            let approved = then.iter().cloned().chain(events.iter().cloned()).collect();
            let state = conversation(retrieved.clone(), approved);
            let delivered = critic
                .act(Step::Respond, &state)
                .await
                .expect("delivery succeeds");
            match delivered.as_slice() {
                [EventData::Responded(r)] => (v.clone(), Some(r.text.clone())),
                other => panic!("expected an approval's delivery, got {other:?}"),
            }
        }
        [EventData::Validated(v)] => (v.clone(), None),
        [EventData::Validated(v), EventData::Responded(r)] => (v.clone(), Some(r.text.clone())),
        other => panic!("expected validated (and responded), got {other:?}"),
    }
}

fn verdict(verdict: &str, findings: Value, redactions: Value) -> Reply {
    let out = json!({"verdict": verdict, "findings": findings, "redactions": redactions});
    Reply::completion(&out.to_string())
}

#[tokio::test]
async fn a_remote_approval_is_delivered_with_its_usage_on_validated() {
    let server = StubServer::start(vec![verdict("approve", json!([]), json!([]))]).await;
    let retrieved = retrieved();
    let draft = local_draft(&retrieved);
    let then = [EventData::Drafted(draft.clone())];
    let (validated, delivered) = validate(&remote_critic(&server), &retrieved, &then).await;
    assert_eq!(validated.verdict, ValidateVerdict::Approve);
    let usage = validated.model.expect("validated names its model");
    assert_eq!(usage.model, "gpt-4o (gpt-4o-2024-08-06)");
    assert_usage(&usage);
    assert_eq!(delivered.as_deref(), Some(draft.text.as_str()));
    let requests = server.requests();
    assert_eq!(
        requests[0]["response_format"]["json_schema"]["name"],
        "validation"
    );
    let sent = user_message(&server, 0);
    assert!(sent.contains(&draft.text), "{sent}");
    assert!(
        sent.contains(&format!("[{ORDER}]")),
        "the sources are sent: {sent}"
    );
    assert!(!sent.contains(EMAIL), "redacted PII was sent: {sent}");
}

#[tokio::test]
async fn a_remote_rejection_delivers_nothing_and_a_redaction_is_applied() {
    let retrieved = retrieved();
    let draft = local_draft(&retrieved);
    let tracking = "9400123456789";
    assert!(draft.text.contains(tracking), "{}", draft.text);
    let then = [EventData::Drafted(draft)];

    let finding = json!([{"kind": "ungrounded", "rule": "eta"}]);
    let server = StubServer::start(vec![verdict("reject", finding, json!([]))]).await;
    let (validated, delivered) = validate(&remote_critic(&server), &retrieved, &then).await;
    assert_eq!(validated.verdict, ValidateVerdict::Reject);
    assert_eq!(validated.findings[0].kind, OutputFindingKind::Ungrounded);
    assert_eq!(delivered, None);

    let finding = json!([{"kind": "pii_leak", "rule": "tracking"}]);
    let quote = json!([{"kind": "tracking", "text": tracking}]);
    let server = StubServer::start(vec![verdict("redact", finding, quote)]).await;
    let (validated, delivered) = validate(&remote_critic(&server), &retrieved, &then).await;
    assert_eq!(validated.verdict, ValidateVerdict::Redact);
    let delivered = delivered.expect("a redacted draft is delivered");
    assert!(!delivered.contains(tracking), "{delivered}");
    assert!(delivered.contains("[tracking redacted]"), "{delivered}");
}

#[tokio::test]
async fn the_rules_reject_a_leak_the_remote_critic_approved() {
    let server = StubServer::start(vec![verdict("approve", json!([]), json!([]))]).await;
    let leak = Drafted {
        text: "Hi, your neighbour bob.smith@example.org also ordered one.".into(),
        sources: vec![ORDER.into()],
        attempt: 1,
        model: local_draft(&retrieved()).model,
    };
    let (retrieved, then) = (retrieved(), [EventData::Drafted(leak)]);
    let (validated, delivered) = validate(&remote_critic(&server), &retrieved, &then).await;
    assert_eq!(validated.verdict, ValidateVerdict::Reject);
    assert!(
        validated
            .findings
            .iter()
            .any(|f| f.kind == OutputFindingKind::PiiLeak),
        "{:?}",
        validated.findings
    );
    assert_eq!(delivered, None);
    assert_usage(&validated.model.expect("the remote call is recorded"));
}

#[tokio::test]
async fn a_failing_remote_validation_falls_back_to_the_rules() {
    let misquoted = verdict(
        "redact",
        json!([]),
        json!([{"kind": "card", "text": "4000"}]),
    );
    let cases: Vec<(&str, Reply, Option<Duration>, bool)> = vec![
        ("unavailable", Reply::status(500, &[], "{}"), None, false),
        (
            "timeout",
            Reply::Hang,
            Some(Duration::from_millis(200)),
            false,
        ),
        (
            "bad response",
            Reply::completion("{\"verdict\":\"maybe\"}"),
            None,
            true,
        ),
        ("bad response", misquoted, None, true),
    ];
    let retrieved = retrieved();
    let draft = local_draft(&retrieved);
    let then = [EventData::Drafted(draft.clone())];
    for (reason, reply, timeout, paid) in cases {
        let server = StubServer::start(vec![reply]).await;
        let model = model(&server, |c| c.timeout = timeout.unwrap_or(c.timeout));
        let critic = Critic::builtin().with_remote_validation(RemoteValidator::new(model));
        let (validated, delivered) = validate(&critic, &retrieved, &then).await;
        assert_eq!(validated.verdict, ValidateVerdict::Approve, "{reason}");
        assert_eq!(delivered.as_deref(), Some(draft.text.as_str()), "{reason}");
        let usage = validated.model.expect("validated names its model");
        assert_eq!(usage.model, format!("local-critic-v1 (fallback: {reason})"));
        if paid {
            assert_usage(&usage);
        } else {
            assert_eq!(usage.prompt_tokens, None, "{reason}: nothing was paid");
        }
        assert_eq!(server.requests().len(), 1, "{reason}");
    }
}
