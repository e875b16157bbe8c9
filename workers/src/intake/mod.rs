//! Intake: what comes into a conversation from outside the workflow.
//!
//! Channels send customer messages (`received`), human agents answer
//! (`human_replied`, which takes the conversation away from the agents) and
//! close (`closed`). Each is validated ([`request`]), appended at the
//! conversation's current version and retried on a conflict, and made
//! idempotent: a message is stored once per channel message id (found
//! again in the conversation however late the retry), a reply or close
//! once per request key within the stream's duplicate window. The CLI's
//! `publish` and the gateway's `POST`s are thin edges over this module.

pub mod request;

use switchboard_engine::conversation::Status;
use switchboard_engine::event::{Actor, Event, EventData, EventType};
use switchboard_engine::ids::{ConversationKey, EventId, StreamSeq};
use switchboard_engine::store::{AppendErrorKind, EventStore, IdempotencyKey, Loaded};

pub use request::{CloseRequest, CustomerMessage, MAX_TEXT_BYTES, MessageRequest, ReplyRequest};

/// How many times an append is retried when the conversation moved on.
const CONFLICT_RETRIES: usize = 5;

/// What went wrong; callers match on the kind (the gateway maps it to a status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntakeErrorKind {
    /// The request is not valid (400).
    Invalid,
    /// The conversation does not exist (404).
    NotFound,
    /// The conversation cannot take this now, e.g. closing a closed one (409).
    State,
    /// The conversation kept changing under every retry (409, retry later).
    Busy,
    /// The event is larger than the stream accepts (413).
    TooLarge,
    /// The log could not be reached or refused for another reason (503).
    Unavailable,
}

/// An intake that stored nothing.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct IntakeError {
    kind: IntakeErrorKind,
    message: String,
}

impl IntakeError {
    fn new(kind: IntakeErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(IntakeErrorKind::Invalid, message)
    }

    /// What kind of failure.
    pub fn kind(&self) -> IntakeErrorKind {
        self.kind
    }
}

/// Where the event is: stored now, or found stored by an earlier try.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Stored {
    /// The event's id.
    #[schema(value_type = String)]
    pub id: EventId,
    /// Its stream sequence (the conversation's version after it).
    #[schema(value_type = u64)]
    pub seq: StreamSeq,
    /// Whether an earlier request had stored it already (nothing new stored).
    pub duplicate: bool,
}

/// Appends what comes from outside the workflow.
#[derive(Debug, Clone)]
pub struct Intake {
    store: EventStore,
}

impl Intake {
    /// An intake over `store`.
    pub fn new(store: EventStore) -> Self {
        Self { store }
    }

    /// The store it appends to.
    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Appends a customer message; the same channel message again returns
    /// the event that holds it and stores nothing.
    pub async fn receive(&self, message: &CustomerMessage) -> Result<Stored, IntakeError> {
        for _ in 0..CONFLICT_RETRIES {
            let loaded = self.load(&message.key).await?;
            if let Some(original) = holding(&loaded, message) {
                return Ok(original);
            }
            let events = std::slice::from_ref(&message.event);
            match self
                .try_append(&message.key, &loaded, events, &message.idempotency)
                .await
            {
                Attempt::Stored(stored) => return Ok(stored),
                Attempt::Conflict => continue,
                Attempt::Duplicate => {
                    let loaded = self.load(&message.key).await?;
                    return holding(&loaded, message).ok_or_else(|| {
                        IntakeError::new(
                            IntakeErrorKind::Unavailable,
                            format!(
                                "{}: JetStream reports the message as a duplicate, but the conversation does not hold it",
                                message.key
                            ),
                        )
                    });
                }
                Attempt::Failed(e) => return Err(e),
            }
        }
        Err(busy(&message.key))
    }

    /// Appends a human agent's reply. `request_key` (the request's
    /// `Idempotency-Key`) makes a retry store it once.
    pub async fn reply(
        &self,
        key: &ConversationKey,
        reply: ReplyRequest,
        request_key: Option<&str>,
    ) -> Result<Stored, IntakeError> {
        let (actor, data) = reply.payload()?;
        self.by_person(key, actor, data, request_key, |_| Ok(()))
            .await
    }

    /// Records that the conversation's personal texts were shredded (its
    /// key is already gone): an `erased` event, no personal data in it.
    /// `request_key` makes a retried erasure record it once.
    pub async fn erased(
        &self,
        key: &ConversationKey,
        actor: Actor,
        erased: switchboard_engine::event::Erased,
        request_key: &str,
    ) -> Result<Stored, IntakeError> {
        self.by_person(
            key,
            actor,
            EventData::Erased(erased),
            Some(request_key),
            |_| Ok(()),
        )
        .await
    }

    /// Closes a conversation; closing a closed one is refused.
    pub async fn close(
        &self,
        key: &ConversationKey,
        close: CloseRequest,
        request_key: Option<&str>,
    ) -> Result<Stored, IntakeError> {
        let (actor, data) = close.payload()?;
        self.by_person(key, actor, data, request_key, |loaded| {
            if loaded.conversation().status == Status::Closed {
                Err(IntakeError::new(
                    IntakeErrorKind::State,
                    format!("{} is already closed", loaded.key),
                ))
            } else {
                Ok(())
            }
        })
        .await
    }

    /// An event by a person, caused by the conversation's last event.
    async fn by_person(
        &self,
        key: &ConversationKey,
        actor: Actor,
        data: EventData,
        request_key: Option<&str>,
        allowed: impl Fn(&Loaded) -> Result<(), IntakeError>,
    ) -> Result<Stored, IntakeError> {
        let event_type = data.event_type();
        let fresh = uuid::Uuid::now_v7().to_string();
        let idempotency =
            IdempotencyKey::for_request(key, event_type.as_str(), request_key.unwrap_or(&fresh));
        for _ in 0..CONFLICT_RETRIES {
            let loaded = self.load(key).await?;
            let Some(last) = loaded.events.last() else {
                return Err(IntakeError::new(
                    IntakeErrorKind::NotFound,
                    format!("conversation {key} has no events"),
                ));
            };
            allowed(&loaded)?;
            let event = Event::caused_by(&last.event.envelope, actor.clone(), data.clone());
            match self.try_append(key, &loaded, &[event], &idempotency).await {
                Attempt::Stored(stored) => return Ok(stored),
                Attempt::Conflict => continue,
                Attempt::Duplicate => return self.earlier(key, event_type, &actor).await,
                Attempt::Failed(e) => return Err(e),
            }
        }
        Err(busy(key))
    }

    /// The latest event of `event_type` by `actor`: what a duplicate request stored.
    async fn earlier(
        &self,
        key: &ConversationKey,
        event_type: EventType,
        actor: &Actor,
    ) -> Result<Stored, IntakeError> {
        let loaded = self.load(key).await?;
        loaded
            .events
            .iter()
            .rev()
            .find(|e| e.event.event_type() == event_type && &e.event.envelope.actor == actor)
            .map(|e| Stored {
                id: e.event.envelope.id,
                seq: e.seq,
                duplicate: true,
            })
            .ok_or_else(|| {
                IntakeError::new(
                    IntakeErrorKind::Unavailable,
                    format!("{key}: JetStream reports a duplicate the conversation does not hold"),
                )
            })
    }

    async fn load(&self, key: &ConversationKey) -> Result<Loaded, IntakeError> {
        self.store
            .load(key)
            .await
            .map_err(|e| IntakeError::new(IntakeErrorKind::Unavailable, e.to_string()))
    }

    async fn try_append(
        &self,
        key: &ConversationKey,
        loaded: &Loaded,
        events: &[Event],
        idempotency: &IdempotencyKey,
    ) -> Attempt {
        match self
            .store
            .append(key, loaded.version, events, idempotency)
            .await
        {
            Ok(appended) => {
                crate::runtime::count_appended(events, "intake");
                Attempt::Stored(Stored {
                    id: events
                        .last()
                        .map_or_else(EventId::new_v7, |e| e.envelope.id),
                    seq: appended.last,
                    duplicate: false,
                })
            }
            Err(e) => match e.kind() {
                AppendErrorKind::Conflict => Attempt::Conflict,
                AppendErrorKind::Duplicate => Attempt::Duplicate,
                AppendErrorKind::TooLarge => {
                    Attempt::Failed(IntakeError::new(IntakeErrorKind::TooLarge, e.to_string()))
                }
                AppendErrorKind::InvalidId => {
                    Attempt::Failed(IntakeError::new(IntakeErrorKind::Invalid, e.to_string()))
                }
                _ => Attempt::Failed(IntakeError::new(
                    IntakeErrorKind::Unavailable,
                    e.to_string(),
                )),
            },
        }
    }
}

enum Attempt {
    Stored(Stored),
    Conflict,
    Duplicate,
    Failed(IntakeError),
}

fn busy(key: &ConversationKey) -> IntakeError {
    IntakeError::new(
        IntakeErrorKind::Busy,
        format!("{key}: the conversation kept changing; try again"),
    )
}

/// The event in `loaded` that holds the same channel message, if any.
fn holding(loaded: &Loaded, message: &CustomerMessage) -> Option<Stored> {
    let wanted = message.received()?;
    loaded.events.iter().find_map(|e| match &e.event.data {
        EventData::Received(r)
            if r.channel == wanted.channel && r.message_id == wanted.message_id =>
        {
            Some(Stored {
                id: e.event.envelope.id,
                seq: e.seq,
                duplicate: true,
            })
        }
        _ => None,
    })
}
