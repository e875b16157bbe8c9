//! The projected documents: `conversations`, `escalations`, `analytics` and
//! `customers` (DESIGN §5).
//!
//! Documents are plain serde structs with camelCase field names, so the same
//! value is a SQLite JSON column and a Cosmos DB item. Each carries `lastSeq`,
//! the stream sequence of the last event folded into it: an update with an
//! older or equal sequence is a no-op, which makes redelivery harmless.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{CustomerTier, EscalationReason, Intent, Priority, Resolution};
use crate::ids::{ConversationId, ConversationKey, Tenant};

/// Where a conversation stands, as the console shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// The agents are working on it or waiting for the customer.
    Open,
    /// Handed to a human.
    WithHuman,
    /// Closed.
    Closed,
}

impl ConversationStatus {
    /// The name used in documents and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::WithHuman => "with_human",
            ConversationStatus::Closed => "closed",
        }
    }
}

/// Where an escalation stands in the human queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationState {
    /// Waiting for a human: in the queue.
    Waiting,
    /// A human has replied.
    Assigned,
    /// The conversation was closed.
    Closed,
}

/// The escalation of a conversation's latest escalated turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EscalationInfo {
    /// Why it went to a human.
    pub reason: EscalationReason,
    /// How urgent.
    pub priority: Priority,
    /// Which human queue.
    pub queue: String,
    /// When the escalation was stored: waiting since.
    pub since: DateTime<Utc>,
    /// Waiting, assigned or closed.
    pub state: EscalationState,
}

/// One conversation (container `conversations`, partition key
/// `/tenant` + `/conversationId`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationDoc {
    /// Cosmos item id: the conversation id.
    pub id: String,
    /// Tenant.
    pub tenant: Tenant,
    /// Conversation id.
    pub conversation_id: ConversationId,
    /// Overall status.
    pub status: ConversationStatus,
    /// Intent of the latest classification.
    pub intent: Option<Intent>,
    /// Intent of the first classification: the analytics bucket.
    pub first_intent: Option<Intent>,
    /// Confidence of the first classification, in millionths.
    pub first_confidence_micros: Option<i64>,
    /// Channel of the first customer message (`unknown` before one).
    pub channel: String,
    /// The channel's customer id (empty before a customer message).
    pub customer_id: String,
    /// Customer tier.
    pub customer_tier: CustomerTier,
    /// Language of the latest customer message.
    pub language: String,
    /// When the first event was stored.
    pub started_at: DateTime<Utc>,
    /// When the last event was stored.
    pub updated_at: DateTime<Utc>,
    /// When the first answer (agent or human) was stored.
    pub first_response_at: Option<DateTime<Utc>>,
    /// Milliseconds from the first customer message to the first answer.
    pub first_response_ms: Option<i64>,
    /// The latest escalation, if any.
    pub escalation: Option<EscalationInfo>,
    /// Whether the conversation was ever escalated.
    pub ever_escalated: bool,
    /// Messages exchanged: customer messages, agent answers, human replies.
    pub message_count: u32,
    /// The last text delivered to the customer (agent or human).
    pub last_response: Option<String>,
    /// Critic blocks: blocked inputs plus rejected drafts.
    pub critic_blocks: u32,
    /// How it ended, once closed.
    pub resolution: Option<Resolution>,
    /// Stream sequence of the last event folded in.
    pub last_seq: u64,
    /// What remote model calls cost this conversation.
    #[serde(default)]
    pub remote: ModelSpend,
    /// Ids of the events folded in: an event stored twice (a foreign client
    /// publishing it again without `Nats-Msg-Id`) is counted once.
    #[serde(default)]
    pub event_ids: Vec<crate::ids::EventId>,
}

impl ConversationDoc {
    /// An empty document for a conversation whose first event was stored at
    /// `at` (before any event is folded: `last_seq` 0).
    pub fn new(key: &ConversationKey, at: DateTime<Utc>) -> Self {
        Self {
            id: key.id.to_string(),
            tenant: key.tenant.clone(),
            conversation_id: key.id.clone(),
            status: ConversationStatus::Open,
            intent: None,
            first_intent: None,
            first_confidence_micros: None,
            channel: "unknown".into(),
            customer_id: String::new(),
            customer_tier: CustomerTier::Standard,
            language: String::new(),
            started_at: at,
            updated_at: at,
            first_response_at: None,
            first_response_ms: None,
            escalation: None,
            ever_escalated: false,
            message_count: 0,
            last_response: None,
            critic_blocks: 0,
            resolution: None,
            last_seq: 0,
            remote: ModelSpend::default(),
            event_ids: Vec::new(),
        }
    }

    /// The conversation's key.
    pub fn key(&self) -> ConversationKey {
        ConversationKey::new(self.tenant.clone(), self.conversation_id.clone())
    }

    /// The UTC day the conversation started: its analytics day.
    pub fn day(&self) -> NaiveDate {
        self.started_at.date_naive()
    }

    /// Whether the agents answered without a human.
    pub fn automated(&self) -> bool {
        self.first_response_at.is_some() && !self.ever_escalated
    }
}

/// Remote model calls recorded on a conversation's events (decisions and
/// refused answers that were paid for). Integers, so analytics add exactly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelSpend {
    /// Events carrying a remote call's tokens.
    pub calls: i64,
    /// Prompt tokens.
    pub prompt_tokens: i64,
    /// Completion tokens.
    pub completion_tokens: i64,
    /// Cost, in millionths of a US dollar.
    pub cost_micro_usd: i64,
}

impl ModelSpend {
    /// Adds one event's model usage, if it records a remote call (tokens).
    pub fn record(&mut self, usage: &crate::event::ModelUsage) {
        if usage.prompt_tokens.is_none() && usage.completion_tokens.is_none() {
            return;
        }
        self.calls += 1;
        self.prompt_tokens += i64::from(usage.prompt_tokens.unwrap_or(0));
        self.completion_tokens += i64::from(usage.completion_tokens.unwrap_or(0));
        self.cost_micro_usd += (usage.cost_usd.unwrap_or(0.0) * 1e6).round() as i64;
    }
}

/// One entry of the human queue (container `escalations`, partition key
/// `/tenant`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EscalationDoc {
    /// Cosmos item id: the conversation id.
    pub id: String,
    /// Tenant.
    pub tenant: Tenant,
    /// The escalated conversation.
    pub conversation_id: ConversationId,
    /// The escalation.
    #[serde(flatten)]
    pub escalation: EscalationInfo,
    /// The conversation's channel.
    pub channel: String,
    /// The conversation's latest intent.
    pub intent: Option<Intent>,
    /// The customer.
    pub customer_id: String,
    /// Stream sequence of the last event folded in.
    pub last_seq: u64,
}

/// The analytics bucket a conversation counts in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AnalyticsKey {
    /// Tenant.
    pub tenant: Tenant,
    /// UTC day the conversation started.
    pub day: NaiveDate,
    /// Channel of its first message.
    pub channel: String,
    /// Its first intent (`None`: not classified, e.g. blocked input).
    pub intent: Option<Intent>,
}

impl AnalyticsKey {
    /// The Cosmos item id: `<day>|<channel>|<intent or UNCLASSIFIED>`.
    pub fn id(&self) -> String {
        format!(
            "{}|{}|{}",
            self.day,
            self.channel,
            intent_label(self.intent)
        )
    }
}

/// The label of an optional intent in tables and ids.
pub fn intent_label(intent: Option<Intent>) -> String {
    match intent {
        Some(intent) => serde_json::to_value(intent)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("{intent:?}")),
        None => "UNCLASSIFIED".into(),
    }
}

/// Additive counters of an analytics bucket. All integers, so adding and
/// removing a conversation's contribution is exact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    /// Conversations.
    pub conversations: i64,
    /// Conversations answered without a human.
    pub automated: i64,
    /// Conversations ever escalated.
    pub escalated: i64,
    /// Critic blocks (blocked inputs plus rejected drafts).
    pub critic_blocks: i64,
    /// Conversations with a first response.
    pub responded: i64,
    /// Sum of first-response times, ms.
    pub first_response_ms_sum: i64,
    /// Conversations with a classification confidence.
    pub classified: i64,
    /// Sum of first-classification confidences, millionths.
    pub confidence_micros_sum: i64,
    /// Remote model calls (see [`ModelSpend`]).
    #[serde(default)]
    pub remote_calls: i64,
    /// Their prompt tokens.
    #[serde(default)]
    pub prompt_tokens: i64,
    /// Their completion tokens.
    #[serde(default)]
    pub completion_tokens: i64,
    /// Their cost, millionths of a US dollar.
    #[serde(default)]
    pub cost_micro_usd: i64,
}

impl Counters {
    /// A conversation's contribution to its bucket.
    pub fn of(doc: &ConversationDoc) -> Self {
        Self {
            conversations: 1,
            automated: i64::from(doc.automated()),
            escalated: i64::from(doc.ever_escalated),
            critic_blocks: i64::from(doc.critic_blocks),
            responded: i64::from(doc.first_response_ms.is_some()),
            first_response_ms_sum: doc.first_response_ms.unwrap_or(0),
            classified: i64::from(doc.first_confidence_micros.is_some()),
            confidence_micros_sum: doc.first_confidence_micros.unwrap_or(0),
            remote_calls: doc.remote.calls,
            prompt_tokens: doc.remote.prompt_tokens,
            completion_tokens: doc.remote.completion_tokens,
            cost_micro_usd: doc.remote.cost_micro_usd,
        }
    }

    /// Adds `other` times `sign` (1 or -1).
    pub fn add(&mut self, other: &Counters, sign: i64) {
        self.conversations += sign * other.conversations;
        self.automated += sign * other.automated;
        self.escalated += sign * other.escalated;
        self.critic_blocks += sign * other.critic_blocks;
        self.responded += sign * other.responded;
        self.first_response_ms_sum += sign * other.first_response_ms_sum;
        self.classified += sign * other.classified;
        self.confidence_micros_sum += sign * other.confidence_micros_sum;
        self.remote_calls += sign * other.remote_calls;
        self.prompt_tokens += sign * other.prompt_tokens;
        self.completion_tokens += sign * other.completion_tokens;
        self.cost_micro_usd += sign * other.cost_micro_usd;
    }
}

/// One analytics bucket (container `analytics`, partition key `/tenant`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsDoc {
    /// Cosmos item id: see [`AnalyticsKey::id`].
    pub id: String,
    /// Tenant.
    pub tenant: Tenant,
    /// UTC day.
    pub day: NaiveDate,
    /// Channel.
    pub channel: String,
    /// First intent of the conversations counted.
    pub intent: Option<Intent>,
    /// The counters.
    #[serde(flatten)]
    pub counters: Counters,
    /// Stream sequence of the last event folded in.
    pub last_seq: u64,
}

impl AnalyticsDoc {
    /// An empty bucket.
    pub fn new(key: &AnalyticsKey) -> Self {
        Self {
            id: key.id(),
            tenant: key.tenant.clone(),
            day: key.day,
            channel: key.channel.clone(),
            intent: key.intent,
            counters: Counters::default(),
            last_seq: 0,
        }
    }

    /// The bucket's key.
    pub fn key(&self) -> AnalyticsKey {
        AnalyticsKey {
            tenant: self.tenant.clone(),
            day: self.day,
            channel: self.channel.clone(),
            intent: self.intent,
        }
    }
}

/// A customer's sessions (container `customers`, partition key `/tenant`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerDoc {
    /// Cosmos item id: the customer id.
    pub id: String,
    /// Tenant.
    pub tenant: Tenant,
    /// The channel's customer id.
    pub customer_id: String,
    /// Tier as last seen.
    pub tier: CustomerTier,
    /// Conversations (sessions) this customer started.
    pub sessions: u64,
    /// When the customer was first seen.
    pub first_seen: DateTime<Utc>,
    /// When the customer was last seen.
    pub last_seen: DateTime<Utc>,
    /// The customer's latest conversation.
    pub last_conversation: ConversationId,
    /// Stream sequence of the last event folded in.
    pub last_seq: u64,
}

/// A customer's key: tenant and customer id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CustomerKey {
    /// Tenant.
    pub tenant: Tenant,
    /// The channel's customer id.
    pub customer_id: String,
}
