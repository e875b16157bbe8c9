//! Conversation state: the fold of a conversation's events.
//!
//! [`Conversation::apply`] is synchronous, infallible and free of side
//! effects, so replaying the same events always yields the same state. All
//! decisions live in [`crate::workflow`] and in the workers.

use chrono::{DateTime, Utc};

use crate::event::{
    Classified, Closed, Customer, Drafted, Envelope, Escalated, EventData, Failed, Intent,
    Received, Responded, Retrieved, Screened, StoredEvent, Validated,
};
use crate::ids::{ConversationKey, EventId, StreamSeq};

/// Where the conversation stands as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    /// No event yet.
    #[default]
    New,
    /// The agents are working on it, or it is waiting for the customer.
    Open,
    /// Handed to a human; the agents stay out of it until it closes.
    WithHuman,
    /// Closed; a new customer message reopens it.
    Closed,
}

/// One customer message and everything the agents did about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// The customer message.
    pub received: Received,
    /// Envelope of the customer message (its id is the turn's correlation).
    pub received_envelope: Envelope,
    /// Input screening.
    pub screened: Option<Screened>,
    /// Classification.
    pub classified: Option<Classified>,
    /// Retrieval.
    pub retrieved: Option<Retrieved>,
    /// The latest draft.
    pub draft: Option<Drafted>,
    /// The verdict on the latest draft (cleared when a new draft arrives).
    pub validation: Option<Validated>,
    /// How many drafts the critic has rejected in this turn.
    pub rejections: u32,
    /// Escalation, if the turn went to a human.
    pub escalated: Option<Escalated>,
    /// What was delivered to the customer, ending the turn.
    pub responded: Option<Responded>,
    /// A step that failed.
    pub failed: Option<Failed>,
    /// Envelope of the turn's latest event: the cause of the next step.
    pub last: Envelope,
}

impl Turn {
    fn new(received: Received, envelope: Envelope) -> Self {
        Self {
            received,
            received_envelope: envelope.clone(),
            screened: None,
            classified: None,
            retrieved: None,
            draft: None,
            validation: None,
            rejections: 0,
            escalated: None,
            responded: None,
            failed: None,
            last: envelope,
        }
    }
}

/// The folded state of one conversation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conversation {
    /// The conversation, once its first event is folded.
    pub key: Option<ConversationKey>,
    /// Stream sequence of the last event folded: the expected version for the
    /// next append.
    pub version: StreamSeq,
    /// How many events were folded.
    pub event_count: u64,
    /// Overall status.
    pub status: Status,
    /// The customer, from the first message.
    pub customer: Option<Customer>,
    /// The channel of the latest message.
    pub channel: Option<String>,
    /// Intents of earlier turns, oldest first (for repeated-contact detection).
    pub past_intents: Vec<Intent>,
    /// The customer's messages of earlier turns, oldest first: frustration
    /// that builds up over a conversation and "you told me ... but" are read
    /// from the whole text, not from the latest message alone.
    pub past_messages: Vec<String>,
    /// The current turn.
    pub turn: Option<Turn>,
    /// When the first event was stored.
    pub started_at: Option<DateTime<Utc>>,
    /// When the last event was stored.
    pub updated_at: Option<DateTime<Utc>>,
    /// Ids of the events folded: an event stored twice (a foreign client
    /// publishing it again without `Nats-Msg-Id`) is folded once.
    pub event_ids: Vec<EventId>,
}

impl Conversation {
    /// Folds a sequence of events from empty.
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a StoredEvent>) -> Self {
        let mut state = Self::default();
        for event in events {
            state.apply(event);
        }
        state
    }

    /// Folds one event. Events at or below the current version are ignored,
    /// so re-applying a prefix is harmless.
    pub fn apply(&mut self, stored: &StoredEvent) {
        if stored.seq <= self.version && self.event_count > 0 {
            return;
        }
        let envelope = &stored.event.envelope;
        self.version = stored.seq;
        if self.event_ids.contains(&envelope.id) {
            return;
        }
        self.event_ids.push(envelope.id);
        self.key
            .get_or_insert_with(|| envelope.conversation.clone());
        self.event_count += 1;
        self.started_at.get_or_insert(stored.stored_at);
        self.updated_at = Some(stored.stored_at);
        match &stored.event.data {
            EventData::Received(received) => self.apply_received(received, envelope),
            EventData::HumanReplied(_) => self.status = Status::WithHuman,
            EventData::Closed(closed) => self.apply_closed(closed),
            // Shredding changes no decision: the texts before it read as
            // erased (the store refolds them), the workflow goes on as it was.
            EventData::Erased(_) => {}
            other => self.apply_to_turn(other, envelope),
        }
    }

    fn apply_received(&mut self, received: &Received, envelope: &Envelope) {
        if let Some(intent) = self
            .turn
            .as_ref()
            .and_then(|t| t.classified.as_ref())
            .map(|c| c.intent)
        {
            self.past_intents.push(intent);
        }
        if let Some(previous) = &self.turn {
            self.past_messages.push(previous.received.text.clone());
        }
        self.customer
            .get_or_insert_with(|| received.customer.clone());
        self.channel = Some(received.channel.clone());
        if self.status != Status::WithHuman {
            self.status = Status::Open;
        }
        self.turn = Some(Turn::new(received.clone(), envelope.clone()));
    }

    fn apply_closed(&mut self, _closed: &Closed) {
        self.status = Status::Closed;
    }

    fn apply_to_turn(&mut self, data: &EventData, envelope: &Envelope) {
        // Agent events without a customer message have nothing to attach to.
        let Some(turn) = self.turn.as_mut() else {
            return;
        };
        // A failure reported for an earlier turn: that turn is over.
        if matches!(data, EventData::Failed(_)) && envelope.correlation != turn.received_envelope.id
        {
            return;
        }
        turn.last = envelope.clone();
        match data {
            EventData::Screened(e) => turn.screened = Some(e.clone()),
            EventData::Classified(e) => turn.classified = Some(e.clone()),
            EventData::Retrieved(e) => turn.retrieved = Some(e.clone()),
            EventData::Drafted(e) => {
                turn.draft = Some(e.clone());
                turn.validation = None;
            }
            EventData::Validated(e) => {
                if e.verdict == crate::event::ValidateVerdict::Reject {
                    turn.rejections += 1;
                }
                turn.validation = Some(e.clone());
            }
            EventData::Escalated(e) => {
                turn.escalated = Some(e.clone());
                self.status = Status::WithHuman;
            }
            EventData::Responded(e) => turn.responded = Some(e.clone()),
            EventData::Failed(e) => turn.failed = Some(e.clone()),
            EventData::Received(_)
            | EventData::HumanReplied(_)
            | EventData::Closed(_)
            | EventData::Erased(_) => {}
        }
    }
}
