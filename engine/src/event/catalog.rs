//! The event catalog: one typed payload per event type (DESIGN §2).
//!
//! Payloads carry only the event's data; who, when, which conversation and why
//! travel in the envelope. Every struct denies unknown fields so decoding is
//! strict: a foreign publisher's typo is an error, not a silently dropped field.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Customer tier, as the channel knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomerTier {
    /// An ordinary customer.
    #[default]
    Standard,
    /// A loyalty-programme member.
    Member,
    /// A VIP customer: complaints go straight to a human.
    Vip,
}

/// The customer who wrote the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// The channel's id for the customer.
    pub id: String,
    /// The customer's tier.
    #[serde(default)]
    pub tier: CustomerTier,
}

/// `received`: a customer message entered through a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Received {
    /// The channel's own id for the message (used for idempotent ingestion).
    pub message_id: String,
    /// The channel it came from (`web`, `email`, `shopify`...).
    pub channel: String,
    /// Who wrote it.
    pub customer: Customer,
    /// BCP-47 language tag, e.g. `en`.
    pub language: String,
    /// The message text.
    pub text: String,
}

/// Allow or block, for input screening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScreenVerdict {
    /// The message may go on to classification.
    Allow,
    /// The message is refused.
    Block,
}

/// What the critic found in a customer message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InputFindingKind {
    /// An attempt to override instructions.
    PromptInjection,
    /// An attempt to lift the assistant's rules.
    Jailbreak,
    /// A request for someone else's personal data.
    PiiRequest,
    /// Signs of fraud.
    Fraud,
    /// Personal data in the message itself (redacted, not blocking).
    Pii,
}

/// One finding of the input critic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InputFinding {
    /// What was found.
    pub kind: InputFindingKind,
    /// The rule or pattern that matched, for audit.
    pub rule: String,
    /// How sure the critic is, 0..=1.
    pub score: f32,
}

/// A span of the customer text replaced before it goes further.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Redaction {
    /// What was redacted (`email`, `card`, `ssn`, `iban`, `phone`...).
    pub kind: String,
    /// Byte offset of the span's start in the original text.
    pub start: usize,
    /// Byte offset one past the span's end.
    pub end: usize,
}

/// Which model made a decision, and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelUsage {
    /// Model name and version, e.g. `local-nb-v1` or an Azure deployment.
    pub model: String,
    /// Prompt tokens, when a remote model was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u32>,
    /// Completion tokens, when a remote model was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<u32>,
    /// Estimated cost in US dollars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Wall time of the remote model call (all attempts), in milliseconds,
    /// when one was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Why a local model decided instead of the configured remote one
    /// (`timeout`, `unavailable`, `circuit open`, `bad response: ...`);
    /// absent when no remote model was configured or it decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

impl ModelUsage {
    /// A local model's usage: its name, no tokens, no cost.
    pub fn local(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            prompt_tokens: None,
            completion_tokens: None,
            cost_usd: None,
            latency_ms: None,
            fallback: None,
        }
    }
}

/// `screened`: the critic's verdict on a customer message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Screened {
    /// Allow or block.
    pub verdict: ScreenVerdict,
    /// What was found, in order of severity.
    #[serde(default)]
    pub findings: Vec<InputFinding>,
    /// Spans redacted from the text before later steps see it.
    #[serde(default)]
    pub redactions: Vec<Redaction>,
    /// The model that decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelUsage>,
}

/// The 17 intents of the customer-service team.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum Intent {
    OrderStatus,
    ReturnRequest,
    RefundStatus,
    ProductInquiry,
    ShippingEstimate,
    TrackingUpdate,
    Complaint,
    BillingIssue,
    AccountHelp,
    SubscriptionManagement,
    TechnicalSupport,
    Feedback,
    GeneralInquiry,
    Cancellation,
    Exchange,
    LoyaltyProgram,
    EscalationRequest,
}

impl Intent {
    /// Every intent, in catalog order.
    pub const ALL: [Intent; 17] = [
        Intent::OrderStatus,
        Intent::ReturnRequest,
        Intent::RefundStatus,
        Intent::ProductInquiry,
        Intent::ShippingEstimate,
        Intent::TrackingUpdate,
        Intent::Complaint,
        Intent::BillingIssue,
        Intent::AccountHelp,
        Intent::SubscriptionManagement,
        Intent::TechnicalSupport,
        Intent::Feedback,
        Intent::GeneralInquiry,
        Intent::Cancellation,
        Intent::Exchange,
        Intent::LoyaltyProgram,
        Intent::EscalationRequest,
    ];
}

/// Customer sentiment, coarse.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Sentiment {
    /// Happy.
    Positive,
    /// Neither.
    Neutral,
    /// Unhappy.
    Negative,
    /// Angry or abusive: escalated.
    VeryNegative,
}

/// Entities extracted from the message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entities {
    /// An order number, e.g. `#1001`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    /// An email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// A product name or SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// A money amount the customer mentions (refunds), in the tenant's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    /// How many days ago the customer says they bought or received what the
    /// message is about ("two months ago" is 60), for the refund window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_ago: Option<u32>,
}

/// Something in a message that calls for a human, whatever the intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// The customer asks for a person.
    HumanRequested,
    /// Health or safety (injury, allergy, burn, fire...).
    HealthOrSafety,
    /// Lawyers, lawsuits, regulators.
    LegalThreat,
    /// Abusive tone towards staff.
    Abusive,
    /// "I already wrote about this", "third time".
    RepeatContact,
}

/// `classified`: intent, confidence, sentiment and entities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Classified {
    /// The most likely intent.
    pub intent: Intent,
    /// Probability of that intent, 0..=1.
    pub confidence: f32,
    /// The customer's sentiment.
    pub sentiment: Sentiment,
    /// Extracted entities.
    #[serde(default)]
    pub entities: Entities,
    /// Signals that need a human, found by the classifier; the escalation
    /// rules of the workflow read them.
    #[serde(default)]
    pub signals: Vec<Signal>,
    /// The model that decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelUsage>,
}

/// A ranked knowledge-base passage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Passage {
    /// The knowledge-base document it comes from.
    pub source_id: String,
    /// The passage text.
    pub text: String,
    /// Relevance score (BM25 or similar; higher is better).
    pub score: f32,
    /// BCP-47 language of the text; absent means English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// A structured record looked up for the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// `order`, `product` or `loyalty_account`.
    pub kind: String,
    /// The record's id in its system.
    pub id: String,
    /// The record's fields as looked up.
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// `retrieved`: what knowledge retrieval found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retrieved {
    /// The query that was run.
    pub query: String,
    /// Passages, best first.
    #[serde(default)]
    pub passages: Vec<Passage>,
    /// Structured look-ups.
    #[serde(default)]
    pub records: Vec<Record>,
}

/// `drafted`: a candidate answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Drafted {
    /// The draft text.
    pub text: String,
    /// Source ids cited by the draft.
    #[serde(default)]
    pub sources: Vec<String>,
    /// 1 for the first draft, 2 and 3 after rejections.
    pub attempt: u32,
    /// The model that wrote it.
    pub model: ModelUsage,
}

/// The output critic's verdict on a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValidateVerdict {
    /// Send as is.
    Approve,
    /// Write another draft.
    Reject,
    /// Send with the flagged spans redacted.
    Redact,
}

/// What the output critic found in a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutputFindingKind {
    /// Personal data that must not be sent.
    PiiLeak,
    /// Profanity.
    Profanity,
    /// Harmful content.
    Harmful,
    /// The system prompt or internal instructions.
    PromptLeak,
    /// A claim not grounded in retrieved sources.
    Ungrounded,
}

/// One finding of the output critic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputFinding {
    /// What was found.
    pub kind: OutputFindingKind,
    /// The rule that matched, for audit.
    pub rule: String,
}

/// `validated`: the critic's verdict on a draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Validated {
    /// Approve, reject or redact.
    pub verdict: ValidateVerdict,
    /// What was found.
    #[serde(default)]
    pub findings: Vec<OutputFinding>,
    /// The draft attempt this verdict is about.
    pub attempt: u32,
    /// The model that decided, and what it cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelUsage>,
}

/// Escalation priority.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

/// Why a conversation went to a human (the rules of DESIGN §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    /// The customer asked for a human.
    HumanRequested,
    /// Health or safety is at stake.
    HealthOrSafety,
    /// The customer threatens legal action.
    LegalThreat,
    /// Very negative sentiment or abusive tone.
    NegativeSentiment,
    /// The customer has contacted us about the same problem before.
    RepeatedContact,
    /// A refund over the automatic limit or outside the window.
    RefundPolicy,
    /// A VIP customer with a complaint.
    VipComplaint,
    /// The classifier was not confident enough.
    LowConfidence,
    /// The critic rejected the draft three times.
    DraftRejected,
    /// The input was blocked by the critic.
    BlockedInput,
    /// A workflow step failed.
    StepFailed,
}

/// `escalated`: handed to a human.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Escalated {
    /// Why.
    pub reason: EscalationReason,
    /// How urgent.
    pub priority: Priority,
    /// Which human queue.
    pub queue: String,
    /// A short hand-off summary for the human (no raw PII).
    pub summary: String,
}

/// `responded`: the text delivered to the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Responded {
    /// Final text.
    pub text: String,
}

/// `human_replied`: a human agent answered after hand-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HumanReplied {
    /// The human agent's id.
    pub agent_id: String,
    /// What they wrote.
    pub text: String,
}

/// How a conversation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Resolution {
    Resolved,
    Abandoned,
    Escalated,
}

/// `closed`: the conversation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Closed {
    /// How it ended.
    pub resolution: Resolution,
    /// Customer satisfaction, 1..=5, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 5))]
    pub satisfaction: Option<u8>,
}

/// `failed`: a step could not be done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Failed {
    /// The step that failed (`screen`, `classify`...).
    pub step: String,
    /// A stable class of error (`decode`, `timeout`, `model`...).
    pub error_class: String,
    /// How many deliveries were attempted.
    pub attempts: u32,
    /// Operator-facing detail (never customer text).
    #[serde(default)]
    pub detail: String,
}

/// Why a conversation's personal text was shredded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErasureReason {
    /// The customer asked to be forgotten (GDPR Art. 17, CCPA): every
    /// conversation of theirs is shredded.
    Request,
    /// The tenant's retention period ran out for this closed conversation.
    Retention,
}

/// `erased`: the key that sealed this conversation's personal text was
/// deleted (crypto-shredding). Carries no personal data: the texts before
/// it read as erased from now on, while types, intents, verdicts and
/// timings stay readable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Erased {
    /// Why.
    pub reason: ErasureReason,
}
