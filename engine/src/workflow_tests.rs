//! Given/when/then tests of the fold and the workflow: given these events,
//! when the workflow is asked, then this is the next step.

use chrono::Utc;
use serde_json::json;

use crate::conversation::{Conversation, Status};
use crate::event::*;
use crate::ids::{ConversationKey, StreamSeq};
use crate::workflow::{Agent, Policy, Step, next_step, next_step_with};

/// Builds a conversation's events one by one, each caused by the previous.
struct Given {
    events: Vec<StoredEvent>,
    last: Option<Envelope>,
}

fn given() -> Given {
    Given {
        events: Vec::new(),
        last: None,
    }
}

fn key() -> ConversationKey {
    ConversationKey::parse("brewvi/c1").expect("valid")
}

impl Given {
    fn event(mut self, data: EventData) -> Self {
        let event = match &self.last {
            Some(cause) if !matches!(data, EventData::Received(_)) => {
                Event::caused_by(cause, Actor::worker("test"), data)
            }
            _ => Event::new_root(key(), Actor::channel("web"), data),
        };
        self.last = Some(event.envelope.clone());
        let seq = StreamSeq::new(self.events.len() as u64 + 1);
        self.events.push(StoredEvent {
            seq,
            stored_at: Utc::now(),
            event,
        });
        self
    }

    fn received_from(self, tier: CustomerTier) -> Self {
        self.said_by(tier, "hello")
    }

    fn said_by(self, tier: CustomerTier, text: &str) -> Self {
        let message_id = format!("m{}", self.events.len());
        self.event(EventData::Received(Received {
            message_id,
            channel: "web".into(),
            customer: Customer {
                id: "cust-1".into(),
                tier,
            },
            language: "en".into(),
            text: text.into(),
        }))
    }

    fn received(self) -> Self {
        self.received_from(CustomerTier::Standard)
    }

    fn screened(self, verdict: ScreenVerdict, findings: &[InputFindingKind]) -> Self {
        self.event(EventData::Screened(Screened {
            verdict,
            findings: findings
                .iter()
                .map(|k| InputFinding {
                    kind: *k,
                    rule: "test".into(),
                    score: 1.0,
                })
                .collect(),
            redactions: vec![],
            model: None,
        }))
    }

    fn allowed(self) -> Self {
        self.screened(ScreenVerdict::Allow, &[])
    }

    fn classified_full(
        self,
        intent: Intent,
        confidence: f32,
        sentiment: Sentiment,
        signals: &[Signal],
        amount: Option<f64>,
    ) -> Self {
        self.event(EventData::Classified(Classified {
            intent,
            confidence,
            sentiment,
            entities: Entities {
                amount,
                ..Entities::default()
            },
            signals: signals.to_vec(),
            model: None,
        }))
    }

    fn classified(self, intent: Intent) -> Self {
        self.classified_full(intent, 0.9, Sentiment::Neutral, &[], None)
    }

    fn retrieved(self, records: Vec<Record>) -> Self {
        self.event(EventData::Retrieved(Retrieved {
            query: "q".into(),
            passages: vec![],
            records,
        }))
    }

    fn drafted(self, attempt: u32) -> Self {
        self.event(EventData::Drafted(Drafted {
            text: "draft".into(),
            sources: vec![],
            attempt,
            model: ModelUsage::local("local"),
        }))
    }

    fn validated(self, verdict: ValidateVerdict, attempt: u32) -> Self {
        self.event(EventData::Validated(Validated {
            verdict,
            findings: vec![],
            attempt,
            model: None,
        }))
    }

    fn responded(self) -> Self {
        self.event(EventData::Responded(Responded {
            text: "done".into(),
        }))
    }

    fn escalated(self) -> Self {
        self.event(EventData::Escalated(Escalated {
            reason: EscalationReason::HumanRequested,
            priority: Priority::Normal,
            queue: "general".into(),
            summary: "s".into(),
        }))
    }

    fn up_to_retrieval(self, intent: Intent) -> Self {
        self.received()
            .allowed()
            .classified(intent)
            .retrieved(vec![])
    }

    fn state(&self) -> Conversation {
        Conversation::fold(&self.events)
    }

    fn then(self, expected: Option<Step>) {
        let step = next_step(&self.state());
        assert_eq!(step, expected);
        // The agent that owns the step must be listening to the event that led to it.
        if let (Some(step), Some(last)) = (step, self.events.last()) {
            let trigger = last.event.event_type();
            assert!(
                step.agent().triggers().contains(&trigger),
                "{:?} follows {trigger} but {} does not consume {trigger}",
                step,
                step.agent().as_str()
            );
            assert!(
                step.agent().wakes_on(&last.event.data),
                "{:?} follows this {trigger} but {} would ack it unread",
                step,
                step.agent().as_str()
            );
        }
    }

    fn then_escalates(self, reason: EscalationReason) {
        self.then(Some(Step::Escalate { reason }));
    }
}

fn order(total: f64, days: i64) -> Record {
    let fields = json!({"total": total, "days_since_order": days});
    Record {
        kind: "order".into(),
        id: "1001".into(),
        fields: fields.as_object().cloned().unwrap_or_default(),
    }
}

#[test]
fn empty_conversation_has_no_step() {
    given().then(None);
}

#[test]
fn happy_path_goes_step_by_step_to_responded() {
    given().received().then(Some(Step::Screen));
    given().received().allowed().then(Some(Step::Classify));
    given()
        .received()
        .allowed()
        .classified(Intent::OrderStatus)
        .then(Some(Step::Retrieve));
    given()
        .up_to_retrieval(Intent::OrderStatus)
        .then(Some(Step::Draft { attempt: 1 }));
    given()
        .up_to_retrieval(Intent::OrderStatus)
        .drafted(1)
        .then(Some(Step::Validate { attempt: 1 }));
    given()
        .up_to_retrieval(Intent::OrderStatus)
        .drafted(1)
        .validated(ValidateVerdict::Approve, 1)
        .then(Some(Step::Respond));
    given()
        .up_to_retrieval(Intent::OrderStatus)
        .drafted(1)
        .validated(ValidateVerdict::Approve, 1)
        .responded()
        .then(None);
}

#[test]
fn steps_belong_to_their_agents() {
    assert_eq!(Step::Screen.agent(), Agent::Critic);
    assert_eq!(Step::Validate { attempt: 2 }.agent(), Agent::Critic);
    assert_eq!(Step::Classify.agent(), Agent::Intent);
    assert_eq!(Step::Retrieve.agent(), Agent::Knowledge);
    assert_eq!(Step::Draft { attempt: 1 }.agent(), Agent::Response);
    assert_eq!(
        Step::Escalate {
            reason: EscalationReason::StepFailed
        }
        .agent(),
        Agent::Escalation
    );
}

#[test]
fn blocked_input_is_refused_or_escalated_for_fraud() {
    given()
        .received()
        .screened(ScreenVerdict::Block, &[InputFindingKind::PromptInjection])
        .then(Some(Step::Refuse));
    given()
        .received()
        .screened(ScreenVerdict::Block, &[InputFindingKind::PromptInjection])
        .responded()
        .then(None);
    given()
        .received()
        .screened(ScreenVerdict::Block, &[InputFindingKind::Fraud])
        .then_escalates(EscalationReason::BlockedInput);
}

#[test]
fn rejected_drafts_are_redrafted_then_escalated_after_three() {
    let g = || {
        given()
            .up_to_retrieval(Intent::ProductInquiry)
            .drafted(1)
            .validated(ValidateVerdict::Reject, 1)
    };
    g().then(Some(Step::Draft { attempt: 2 }));
    g().drafted(2).then(Some(Step::Validate { attempt: 2 }));
    g().drafted(2)
        .validated(ValidateVerdict::Reject, 2)
        .then(Some(Step::Draft { attempt: 3 }));
    g().drafted(2)
        .validated(ValidateVerdict::Reject, 2)
        .drafted(3)
        .validated(ValidateVerdict::Reject, 3)
        .then_escalates(EscalationReason::DraftRejected);
    g().drafted(2)
        .validated(ValidateVerdict::Approve, 2)
        .then(Some(Step::Respond));
}

#[test]
fn escalation_rules_each_fire() {
    use EscalationReason as R;
    let c = |intent, conf, sentiment, signals: &[Signal], amount| {
        given()
            .received()
            .allowed()
            .classified_full(intent, conf, sentiment, signals, amount)
    };
    c(
        Intent::EscalationRequest,
        0.9,
        Sentiment::Neutral,
        &[],
        None,
    )
    .then_escalates(R::HumanRequested);
    c(
        Intent::OrderStatus,
        0.9,
        Sentiment::Neutral,
        &[Signal::HumanRequested],
        None,
    )
    .then_escalates(R::HumanRequested);
    c(
        Intent::Complaint,
        0.9,
        Sentiment::Negative,
        &[Signal::HealthOrSafety],
        None,
    )
    .then_escalates(R::HealthOrSafety);
    c(
        Intent::Complaint,
        0.9,
        Sentiment::Negative,
        &[Signal::LegalThreat],
        None,
    )
    .then_escalates(R::LegalThreat);
    c(Intent::Complaint, 0.9, Sentiment::VeryNegative, &[], None)
        .then_escalates(R::NegativeSentiment);
    c(
        Intent::OrderStatus,
        0.9,
        Sentiment::Negative,
        &[Signal::Abusive],
        None,
    )
    .then_escalates(R::NegativeSentiment);
    c(
        Intent::OrderStatus,
        0.9,
        Sentiment::Neutral,
        &[Signal::RepeatContact],
        None,
    )
    .then_escalates(R::RepeatedContact);
    c(
        Intent::RefundStatus,
        0.9,
        Sentiment::Neutral,
        &[],
        Some(80.0),
    )
    .then_escalates(R::RefundPolicy);
    c(Intent::OrderStatus, 0.2, Sentiment::Neutral, &[], None).then_escalates(R::LowConfidence);
    // Below the thresholds nothing fires.
    c(
        Intent::RefundStatus,
        0.9,
        Sentiment::Negative,
        &[],
        Some(20.0),
    )
    .then(Some(Step::Retrieve));
    c(Intent::Complaint, 0.9, Sentiment::Negative, &[], None).then(Some(Step::Retrieve));
}

#[test]
fn a_refund_for_a_purchase_older_than_the_window_goes_to_a_human() {
    let with_age = |days: u32| {
        given()
            .received()
            .allowed()
            .event(EventData::Classified(Classified {
                intent: Intent::RefundStatus,
                confidence: 0.9,
                sentiment: Sentiment::Neutral,
                entities: Entities {
                    days_ago: Some(days),
                    ..Entities::default()
                },
                signals: vec![],
                model: None,
            }))
    };
    with_age(60).then_escalates(EscalationReason::RefundPolicy);
    with_age(10).then(Some(Step::Retrieve));
}

#[test]
fn vip_complaint_goes_to_a_human_but_standard_complaint_does_not() {
    given()
        .received_from(CustomerTier::Vip)
        .allowed()
        .classified(Intent::Complaint)
        .then_escalates(EscalationReason::VipComplaint);
    given()
        .received_from(CustomerTier::Vip)
        .allowed()
        .classified(Intent::OrderStatus)
        .then(Some(Step::Retrieve));
}

#[test]
fn refund_rules_read_the_order_after_retrieval() {
    let refund = || {
        given()
            .received()
            .allowed()
            .classified(Intent::RefundStatus)
    };
    refund()
        .retrieved(vec![order(80.0, 5)])
        .then_escalates(EscalationReason::RefundPolicy);
    refund()
        .retrieved(vec![order(20.0, 45)])
        .then_escalates(EscalationReason::RefundPolicy);
    refund()
        .retrieved(vec![order(20.0, 5)])
        .then(Some(Step::Draft { attempt: 1 }));
    // The same order on a non-refund intent is not a refund question.
    given()
        .received()
        .allowed()
        .classified(Intent::OrderStatus)
        .retrieved(vec![order(80.0, 45)])
        .then(Some(Step::Draft { attempt: 1 }));
}

#[test]
fn repeated_contact_signalled_by_the_classifier_escalates() {
    given()
        .up_to_retrieval(Intent::OrderStatus)
        .drafted(1)
        .validated(ValidateVerdict::Approve, 1)
        .responded()
        .received()
        .allowed()
        .classified_full(
            Intent::OrderStatus,
            0.9,
            Sentiment::Neutral,
            &[Signal::RepeatContact],
            None,
        )
        .then_escalates(EscalationReason::RepeatedContact);
    // The same intent again without the signal (a second question, a
    // follow-up with the order number) is answered by the agents.
    given()
        .up_to_retrieval(Intent::OrderStatus)
        .drafted(1)
        .validated(ValidateVerdict::Approve, 1)
        .responded()
        .received()
        .allowed()
        .classified(Intent::OrderStatus)
        .then(Some(Step::Retrieve));
}

#[test]
fn a_failed_step_escalates() {
    given()
        .received()
        .allowed()
        .event(EventData::Failed(Failed {
            step: "classify".into(),
            error_class: "decode".into(),
            attempts: 5,
            detail: String::new(),
        }))
        .then_escalates(EscalationReason::StepFailed);
}

fn failed(step: &str) -> EventData {
    EventData::Failed(Failed {
        step: step.into(),
        error_class: "undecodable".into(),
        attempts: 1,
        detail: String::new(),
    })
}

#[test]
fn a_failure_recorded_after_the_answer_still_goes_to_a_human() {
    given()
        .received()
        .allowed()
        .classified(Intent::OrderStatus)
        .retrieved(vec![])
        .drafted(1)
        .validated(ValidateVerdict::Approve, 1)
        .responded()
        .event(failed("sentry"))
        .then_escalates(EscalationReason::StepFailed);
}

#[test]
fn a_failure_of_an_earlier_turn_does_not_touch_the_current_one() {
    let first = given().received().allowed();
    let earlier_turn = first.last.clone().expect("an event was given");
    let mut then = first.received().allowed();
    // Reported late, on the first turn's chain.
    let late = Event::caused_by(&earlier_turn, Actor::worker("test"), failed("classify"));
    let seq = StreamSeq::new(then.events.len() as u64 + 1);
    then.events.push(StoredEvent {
        seq,
        stored_at: Utc::now(),
        event: late,
    });
    // (Not `then`: the step follows the current turn's `screened`, whose
    // message the intent agent consumes, not the late `failed`.)
    assert_eq!(next_step(&then.state()), Some(Step::Classify));
    assert!(then.state().turn.is_some_and(|t| t.failed.is_none()));
}

#[test]
fn an_escalated_turn_with_a_failure_is_not_escalated_twice() {
    given()
        .received()
        .allowed()
        .event(failed("classify"))
        .escalated()
        .then(None);
}

#[test]
fn escalated_conversation_stays_with_the_human_until_closed() {
    let handed = || {
        given()
            .received()
            .allowed()
            .classified(Intent::EscalationRequest)
            .escalated()
            .responded()
    };
    handed().then(None);
    assert_eq!(handed().state().status, Status::WithHuman);
    handed().received().then(None);
    let reopened = handed()
        .event(EventData::Closed(Closed {
            resolution: Resolution::Resolved,
            satisfaction: Some(5),
        }))
        .received();
    assert_eq!(reopened.state().status, Status::Open);
    reopened.then(Some(Step::Screen));
}

#[test]
fn policy_thresholds_are_configurable() {
    let g = given().received().allowed().classified_full(
        Intent::OrderStatus,
        0.5,
        Sentiment::Neutral,
        &[],
        None,
    );
    let strict = Policy {
        min_confidence: 0.8,
        ..Policy::default()
    };
    assert_eq!(
        next_step_with(&g.state(), &strict),
        Some(Step::Escalate {
            reason: EscalationReason::LowConfidence
        })
    );
    assert_eq!(next_step(&g.state()), Some(Step::Retrieve));
}

#[test]
fn fold_is_deterministic_and_ignores_replayed_prefixes() {
    let g = given().up_to_retrieval(Intent::OrderStatus).drafted(1);
    let once = g.state();
    let mut twice = g.state();
    for e in &g.events {
        twice.apply(e);
    }
    assert_eq!(once, twice);
    assert_eq!(once.version, StreamSeq::new(5));
    assert_eq!(once.event_count, 5);
}

#[test]
fn an_event_stored_twice_is_folded_once_and_the_version_moves_on() {
    let given = given().received().allowed();
    let mut events = given.events.clone();
    let mut again = events[1].clone();
    again.seq = StreamSeq::new(3);
    events.push(again);
    let state = Conversation::fold(&events);
    assert_eq!(state.event_count, 2);
    assert_eq!(
        state.version,
        StreamSeq::new(3),
        "appends go after the copy"
    );
    assert_eq!(next_step(&state), Some(Step::Classify));
}

#[test]
fn given_two_answered_turns_when_a_third_message_arrives_then_the_earlier_messages_are_kept_in_order()
 {
    let answered = |g: Given, text: &str, intent| {
        g.said_by(CustomerTier::Standard, text)
            .allowed()
            .classified(intent)
            .retrieved(vec![])
            .drafted(1)
            .validated(ValidateVerdict::Approve, 1)
            .responded()
    };
    let g = answered(given(), "where is my order", Intent::OrderStatus);
    let g = answered(g, "and my refund?", Intent::RefundStatus).received();
    let state = g.state();
    assert_eq!(
        state.past_messages,
        vec!["where is my order", "and my refund?"]
    );
    assert_eq!(
        state.past_intents,
        vec![Intent::OrderStatus, Intent::RefundStatus]
    );
    assert!(given().received().state().past_messages.is_empty());
}

#[test]
fn each_kind_of_event_wakes_only_the_agents_whose_step_can_follow_it() {
    let last = |g: Given| g.events.last().map(|e| e.event.data.clone());
    let allowed = last(given().received().allowed()).expect("an event");
    let validated = |verdict| {
        let draft = given().up_to_retrieval(Intent::OrderStatus).drafted(1);
        last(draft.validated(verdict, 1)).expect("an event")
    };
    let approved = validated(ValidateVerdict::Approve);
    let rejected = validated(ValidateVerdict::Reject);
    let woken = |data: &EventData| -> Vec<Agent> {
        Agent::ALL
            .into_iter()
            .filter(|a| a.wakes_on(data))
            .collect()
    };
    assert_eq!(woken(&allowed), [Agent::Intent]);
    assert_eq!(woken(&approved), [Agent::Critic]);
    assert_eq!(woken(&rejected), [Agent::Response, Agent::Escalation]);
    let blocked = last(given().received().screened(ScreenVerdict::Block, &[])).expect("an event");
    assert_eq!(woken(&blocked), [Agent::Critic, Agent::Escalation]);
    let no_order = last(given().up_to_retrieval(Intent::RefundStatus)).expect("an event");
    assert_eq!(woken(&no_order), [Agent::Response]);
    let with_order = last(
        given()
            .received()
            .allowed()
            .classified(Intent::RefundStatus)
            .retrieved(vec![order(20.0, 3)]),
    )
    .expect("an event");
    assert_eq!(woken(&with_order), [Agent::Response, Agent::Escalation]);
}
