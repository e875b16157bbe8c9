//! Every query against answers computed by hand from a hand-written event set.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use switchboard_engine::event::*;
use switchboard_engine::ids::{ConversationKey, StreamSeq, Tenant};
use switchboard_engine::projection::query::{Percentiles, Rate};
use switchboard_engine::projection::*;

use super::support::classified;

fn at(day: u32, h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, h, m, s)
        .single()
        .expect("valid time")
}

struct Log {
    events: Vec<StoredEvent>,
}

impl Log {
    fn push(&mut self, key: &ConversationKey, time: DateTime<Utc>, data: EventData) {
        let event = Event::new_root(key.clone(), Actor::channel("test"), data);
        let seq = StreamSeq::new(self.events.len() as u64 + 1);
        self.events.push(StoredEvent {
            seq,
            stored_at: time,
            event,
        });
    }
}

fn received(channel: &str, customer: &str) -> EventData {
    EventData::Received(Received {
        message_id: uuid::Uuid::now_v7().to_string(),
        channel: channel.into(),
        customer: Customer {
            id: customer.into(),
            tier: CustomerTier::Standard,
        },
        language: "en".into(),
        text: "hi".into(),
    })
}

fn escalated(reason: EscalationReason, priority: Priority) -> EventData {
    EventData::Escalated(Escalated {
        reason,
        priority,
        queue: "general".into(),
        summary: "s".into(),
    })
}

fn responded(text: &str) -> EventData {
    EventData::Responded(Responded { text: text.into() })
}

/// The known event set (times chosen so first-response times are exact).
/// A remote model call's usage, as the remote path records it.
fn remote_usage(prompt: u32, completion: u32, cost: f64) -> switchboard_engine::event::ModelUsage {
    switchboard_engine::event::ModelUsage {
        prompt_tokens: Some(prompt),
        completion_tokens: Some(completion),
        cost_usd: Some(cost),
        latency_ms: Some(900),
        ..switchboard_engine::event::ModelUsage::local("gpt-4o-mini")
    }
}

fn event_set(tenant: &str) -> Vec<StoredEvent> {
    let k = |id: &str| ConversationKey::parse(&format!("{tenant}/{id}")).expect("valid");
    let (c1, c2, c3, c4) = (k("c1"), k("c2"), k("c3"), k("c4"));
    let mut log = Log { events: vec![] };
    log.push(&c1, at(1, 10, 0, 0), received("web", "alice"));
    log.push(&c1, at(1, 10, 0, 1), classified(Intent::OrderStatus, 0.8));
    log.push(&c1, at(1, 10, 0, 2), responded("Your order shipped"));
    log.push(
        &c1,
        at(1, 10, 0, 3),
        EventData::Closed(Closed {
            resolution: Resolution::Resolved,
            satisfaction: Some(5),
        }),
    );
    log.push(&c2, at(1, 11, 0, 0), received("web", "bob"));
    log.push(
        &c2,
        at(1, 11, 0, 1),
        EventData::Screened(Screened {
            verdict: ScreenVerdict::Block,
            findings: vec![],
            redactions: vec![],
            model: Some(remote_usage(500, 50, 0.000_105)),
        }),
    );
    log.push(
        &c2,
        at(1, 11, 0, 2),
        escalated(EscalationReason::BlockedInput, Priority::High),
    );
    log.push(&c2, at(1, 11, 0, 3), responded("We cannot help with that"));
    log.push(&c3, at(2, 9, 0, 0), received("email", "carol"));
    log.push(&c3, at(2, 9, 0, 1), classified(Intent::Complaint, 0.6));
    log.push(
        &c3,
        at(2, 9, 0, 2),
        EventData::Validated(Validated {
            verdict: ValidateVerdict::Reject,
            findings: vec![],
            attempt: 1,
            model: Some(remote_usage(300, 20, 0.000_057)),
        }),
    );
    log.push(
        &c3,
        at(2, 9, 0, 5),
        escalated(EscalationReason::DraftRejected, Priority::Urgent),
    );
    log.push(
        &c3,
        at(2, 9, 1, 0),
        EventData::HumanReplied(HumanReplied {
            agent_id: "h1".into(),
            text: "Sorry about that".into(),
        }),
    );
    log.push(&c4, at(2, 12, 0, 0), received("email", "alice"));
    log.push(&c4, at(2, 12, 0, 1), classified(Intent::OrderStatus, 1.0));
    log.push(
        &c4,
        at(2, 12, 0, 10),
        escalated(EscalationReason::HumanRequested, Priority::Normal),
    );
    let other = ConversationKey::parse("other-tenant/x1").expect("valid");
    log.push(&other, at(1, 8, 0, 0), received("web", "zed"));
    log.events
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).expect("valid day")
}

fn shares(result: QueryResult) -> Vec<(String, i64, f64, Option<f64>)> {
    match result {
        QueryResult::IntentDistribution(rows)
        | QueryResult::VolumePerDay(rows)
        | QueryResult::CriticBlocks(rows) => rows
            .into_iter()
            .map(|r| (r.key, r.count, r.share, r.mean_confidence))
            .collect(),
        other => panic!("not a breakdown: {other:?}"),
    }
}

/// Folds the event set into `store` and checks every query. Shared by the
/// SQLite test and the Cosmos contract run, so both stores give the same answers.
pub async fn check_queries(store: &dyn ProjectionStore, tenant: &str) {
    let mut folder = Folder::new(store, 1000);
    let events = event_set(tenant);
    for chunk in events.chunks(5) {
        let docs = folder.fold_batch(store, chunk).await.expect("fold");
        store.write(&docs).await.expect("write");
    }
    let t = Tenant::new(tenant).expect("valid");
    let all = Scope::tenant(t.clone());
    let q = |query: Query| async move { run_query(store, &query).await.expect("query") };
    let s = |v: &str| v.to_owned();

    assert_eq!(
        shares(q(Query::VolumePerDay(all.clone())).await),
        [
            (s("2026-03-01"), 2, 0.5, None),
            (s("2026-03-02"), 2, 0.5, None)
        ]
    );
    assert_eq!(
        shares(q(Query::IntentDistribution(all.clone())).await),
        [
            (s("ORDER_STATUS"), 2, 0.5, Some(0.9)),
            (s("COMPLAINT"), 1, 0.25, Some(0.6)),
            (s("UNCLASSIFIED"), 1, 0.25, None)
        ]
    );
    assert_eq!(
        q(Query::EscalationRate(all.clone())).await,
        QueryResult::EscalationRate(Rate {
            count: 3,
            total: 4,
            rate: Some(0.75)
        })
    );
    assert_eq!(
        q(Query::AutomationRate(all.clone())).await,
        QueryResult::AutomationRate(Rate {
            count: 1,
            total: 4,
            rate: Some(0.25)
        })
    );
    assert_eq!(
        q(Query::FirstResponseTime(all.clone())).await,
        QueryResult::FirstResponseTime(Percentiles {
            responded: 3,
            p50_ms: Some(3000),
            p95_ms: Some(60_000)
        })
    );
    assert_eq!(
        shares(q(Query::CriticBlocks(all.clone())).await),
        [
            (s("2026-03-01"), 1, 0.5, None),
            (s("2026-03-02"), 1, 0.5, None)
        ]
    );

    let email = Scope {
        channel: Some("email".into()),
        ..all.clone()
    };
    assert_eq!(
        q(Query::EscalationRate(email)).await,
        QueryResult::EscalationRate(Rate {
            count: 2,
            total: 2,
            rate: Some(1.0)
        })
    );
    let day2 = Scope {
        from: Some(day(2)),
        ..all.clone()
    };
    assert_eq!(
        shares(q(Query::VolumePerDay(day2.clone())).await),
        [(s("2026-03-02"), 2, 1.0, None)]
    );
    assert_eq!(
        q(Query::FirstResponseTime(Scope {
            to: Some(day(1)),
            ..all.clone()
        }))
        .await,
        QueryResult::FirstResponseTime(Percentiles {
            responded: 2,
            p50_ms: Some(2000),
            p95_ms: Some(3000)
        })
    );

    let ids = |r: QueryResult| match r {
        QueryResult::Conversations(docs) => docs
            .into_iter()
            .map(|d| d.conversation_id.to_string())
            .collect::<Vec<_>>(),
        QueryResult::EscalationQueue(docs) => docs
            .into_iter()
            .map(|d| d.conversation_id.to_string())
            .collect(),
        other => panic!("not a list: {other:?}"),
    };
    let list = |status, search: Option<&str>, limit| Query::Conversations {
        scope: all.clone(),
        status,
        search: search.map(str::to_owned),
        limit,
    };
    assert_eq!(ids(q(list(None, None, 10)).await), ["c4", "c3", "c2", "c1"]);
    assert_eq!(
        ids(q(list(Some(ConversationStatus::WithHuman), None, 2)).await),
        ["c4", "c3"]
    );
    assert_eq!(ids(q(list(None, Some("ALICE"), 10)).await), ["c4", "c1"]);
    assert_eq!(ids(q(list(None, Some("shipped"), 10)).await), ["c1"]);
    assert_eq!(
        ids(q(Query::EscalationQueue {
            tenant: t.clone(),
            queue: None,
            limit: 10
        })
        .await),
        ["c2", "c4"]
    );
    assert_eq!(
        ids(q(Query::EscalationQueue {
            tenant: t.clone(),
            queue: Some("other".into()),
            limit: 10
        })
        .await),
        Vec::<String>::new()
    );

    let docs = store.conversations(&all).await.expect("docs");
    let c3 = docs
        .iter()
        .find(|d| d.conversation_id.as_str() == "c3")
        .expect("c3");
    assert_eq!(
        (c3.message_count, c3.critic_blocks, c3.first_response_ms),
        (2, 1, Some(60_000))
    );
    assert_eq!(c3.last_response.as_deref(), Some("Sorry about that"));
    let table = q(Query::EscalationRate(all.clone())).await.table();
    assert_eq!(table.headers, ["count", "total", "rate"]);
    assert_eq!(table.rows, [["3", "4", "0.7500"]]);

    let QueryResult::ModelUsage(spend) = q(Query::ModelUsage(all.clone())).await else {
        panic!("a model-usage answer");
    };
    let days: Vec<_> = spend
        .iter()
        .map(|d| (d.day, d.calls, d.prompt_tokens, d.completion_tokens))
        .collect();
    assert_eq!(days, [(day(1), 1, 500, 50), (day(2), 1, 300, 20)]);
    assert!((spend[0].cost_usd - 0.000_105).abs() < 1e-12, "{spend:?}");
    assert!((spend[1].cost_usd - 0.000_057).abs() < 1e-12, "{spend:?}");
}

#[tokio::test]
async fn queries_match_hand_computed_answers_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite::SqliteStore::open(sqlite::SqliteConfig::new(dir.path().join("q.sqlite")))
        .await
        .expect("open");
    check_queries(&store, "shop").await;
}
