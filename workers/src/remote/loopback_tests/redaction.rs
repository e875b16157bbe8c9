//! What a remote model is sent when a customer writes personal data: every
//! remote step of one turn (screening, classification, drafting,
//! validation) run by the agents against the scripted loopback server,
//! whose recorded request bodies are searched for the seeded data. A tenant
//! configured unredacted gets its text sent as written, which shows the
//! search would find it.

use chrono::Utc;
use serde_json::json;
use switchboard_engine::conversation::Conversation;
use switchboard_engine::event::{Actor, Customer, CustomerTier, Event, EventData, Received};
use switchboard_engine::ids::{ConversationKey, Tenant};
use switchboard_engine::workflow::Step;

use super::super::stub_server::{Reply, StubServer};
use super::super::*;
use super::{config, fold_after};
use crate::agents::{Critic, Intent, Response};
use crate::knowledge::KnowledgeBase;
use crate::models::LocalClassifier;
use crate::response::LocalResponder;
use crate::runtime::Worker;

const EMAIL: &str = "jane.doe@example.com";
const CARD: &str = "4111 1111 1111 1111";
const ORDER: &str = "order:ORD-10234";

fn text() -> String {
    format!("Where is my order #10234? Mail me at {EMAIL}; I paid with card {CARD}.")
}

/// The stub's answer to each step, in the order the turn asks them.
fn script() -> Vec<Reply> {
    let screen = json!({"verdict": "allow", "findings": [], "redactions": []});
    let classify = json!({"intent": "TRACKING_UPDATE", "confidence": 0.9, "sentiment": "neutral",
        "entities": {"order_number": "#10234", "email": null, "phone": null, "product": null,
                     "amount": null},
        "signals": []});
    let draft = json!({"text": "Hi, order #10234 is on its way.", "sources": [ORDER]});
    let validate = json!({"verdict": "approve", "findings": [], "redactions": []});
    [screen, classify, draft, validate]
        .iter()
        .map(|v| Reply::completion(&v.to_string()))
        .collect()
}

/// The conversation after the customer's message and `then`.
fn fold(then: &[EventData]) -> Conversation {
    let key = ConversationKey::parse("brewvi/pii").expect("valid key");
    let received = Received {
        message_id: "m1".into(),
        channel: "web".into(),
        customer: Customer {
            id: "persona_001".into(),
            tier: CustomerTier::Standard,
        },
        language: "en".into(),
        text: text(),
    };
    let first = Event::new_root(key, Actor::channel("web"), EventData::Received(received));
    fold_after(first, then.iter().cloned())
}

/// Runs one step and appends what it emitted to `events`.
async fn step(worker: &impl Worker, step: Step, events: &mut Vec<EventData>) {
    let out = worker
        .act(step, &fold(events))
        .await
        .expect("step succeeds");
    events.extend(out);
}

/// Every remote step of one turn, all agents on one model configured by
/// `tweak`; the user messages the server received, in order.
async fn one_turn(tweak: impl FnOnce(&mut RemoteConfig)) -> Vec<String> {
    let server = StubServer::start(script()).await;
    let mut config = config(&server);
    config.max_retries = 0;
    tweak(&mut config);
    let model = RemoteModel::new(config).expect("valid config");
    let critic = Critic::builtin()
        .with_remote_screening(RemoteScreener::new(model.clone()))
        .with_remote_validation(RemoteValidator::new(model.clone()));
    let intent = Intent::remote(
        RemoteClassifier::new(model.clone()),
        LocalClassifier::builtin(),
    );
    let response = Response::remote(RemoteResponder::new(model), LocalResponder::new());
    let mut events = Vec::new();
    step(&critic, Step::Screen, &mut events).await;
    step(&intent, Step::Classify, &mut events).await;
    let state = fold(&events);
    let turn = state.turn.as_ref().expect("a turn");
    let classified = turn.classified.as_ref().expect("classified");
    let kb = KnowledgeBase::builtin().expect("the shipped knowledge base loads");
    let retrieved = kb.retrieve(&text(), classified, "persona_001", Utc::now());
    events.push(EventData::Retrieved(retrieved));
    step(&response, Step::Draft { attempt: 1 }, &mut events).await;
    step(&critic, Step::Validate { attempt: 1 }, &mut events).await;
    let requests = server.requests();
    let schemas: Vec<_> = requests
        .iter()
        .map(|r| r["response_format"]["json_schema"]["name"].clone())
        .collect();
    assert_eq!(
        schemas,
        ["screening", "classification", "draft", "validation"],
        "every step asked the remote model once"
    );
    requests
        .iter()
        .map(|r| {
            r["messages"][1]["content"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

#[tokio::test]
async fn no_remote_prompt_of_a_turn_carries_the_customers_email_or_card() {
    let sent = one_turn(|_| {}).await;
    for (step, message) in ["screening", "classification", "draft", "validation"]
        .iter()
        .zip(&sent)
    {
        assert!(
            !message.contains(EMAIL),
            "{step} was sent the e-mail: {message}"
        );
        assert!(
            !digits(message).contains(&digits(CARD)),
            "{step} was sent the card number: {message}"
        );
    }
    assert!(sent[0].contains("[email redacted]"), "{}", sent[0]);
    assert!(
        sent[0].contains("order #10234"),
        "the rest is sent: {}",
        sent[0]
    );
}

#[tokio::test]
async fn a_tenant_configured_unredacted_sends_the_text_as_written() {
    let brewvi = Tenant::new("brewvi").expect("valid tenant");
    let sent = one_turn(|c| {
        c.unredacted_tenants.insert(brewvi);
    })
    .await;
    for message in &sent[..2] {
        assert!(message.contains(EMAIL), "{message}");
        assert!(message.contains(CARD), "{message}");
    }
    let other = one_turn(|c| {
        c.unredacted_tenants
            .insert(Tenant::new("another-shop").expect("valid tenant"));
    })
    .await;
    assert!(
        !other[0].contains(EMAIL),
        "only the named tenant: {}",
        other[0]
    );
}
