//! What a draft says, as parts, per intent family.
//!
//! Each [`Part`] is one statement with the sources it rests on, so the
//! conservative rewrite can drop what the critic flagged and the draft can
//! cite exactly what it kept. Facts come only from records, policy text only
//! from retrieved passages. Greetings and thanks get a greeting and a
//! close; a question nothing retrieved answers gets an honest "I don't
//! know" and the offer of a human. The fixed wording is in the customer's
//! language ([`super::i18n`]).

use switchboard_engine::event::{Classified, Intent, Passage, Retrieved};

use super::facts::{self, LoyaltyView, OrderView};
use super::i18n;
use super::smalltalk::SmallTalk;
use super::wording;
use crate::language::Language;

/// A second passage is quoted only when it scores at least this share of
/// the top one.
const SECOND_PASSAGE_RATIO: f32 = 0.8;
/// Passages scoring below this (BM25 plus the intent's route prior) match
/// a word or two of the question by chance: they are not quoted as its
/// answer. Set on the development query set: the lowest-scoring right
/// first passage of its questions scores 8.7, the best match of its
/// off-topic questions 5.1.
pub const MIN_PASSAGE_SCORE: f32 = 6.0;

/// What kind of statement a part is; the conservative rewrite keeps facts
/// and questions first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    /// A fact from a record.
    Fact,
    /// Text of a retrieved passage.
    Policy,
    /// A question for what is missing.
    Ask,
    /// Politeness that states nothing.
    Courtesy,
}

/// One statement of a draft.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub kind: PartKind,
    pub text: String,
    pub sources: Vec<String>,
    /// Carries an identifier a PII filter may object to (tracking numbers).
    pub sensitive: bool,
}

impl Part {
    fn new(kind: PartKind, text: impl Into<String>, sources: Vec<String>) -> Self {
        Self {
            kind,
            text: text.into(),
            sources,
            sensitive: false,
        }
    }
}

/// Inputs of the plan.
pub struct Context<'a> {
    pub customer_id: &'a str,
    pub classified: &'a Classified,
    pub retrieved: &'a Retrieved,
    /// Later attempts: no customer-provided values echoed back.
    pub conservative: bool,
    /// The language the customer wrote in.
    pub language: Language,
    /// Whether the message was only a greeting or thanks.
    pub small_talk: Option<SmallTalk>,
}

/// Intents whose answer is about one order.
fn is_order_intent(intent: Intent) -> bool {
    matches!(
        intent,
        Intent::OrderStatus
            | Intent::TrackingUpdate
            | Intent::RefundStatus
            | Intent::ReturnRequest
            | Intent::Cancellation
            | Intent::Exchange
    )
}

/// The parts of the answer, in reading order.
pub fn plan(ctx: &Context<'_>) -> Vec<Part> {
    let intent = ctx.classified.intent;
    if let Some(talk) = ctx.small_talk
        && ctx.classified.entities.order_number.is_none()
    {
        return vec![match talk {
            SmallTalk::Greeting => ask(i18n::greeting_reply(ctx.language)),
            SmallTalk::Thanks => courtesy(i18n::thanks_reply(ctx.language)),
        }];
    }
    let mut parts = Vec::new();
    match intent {
        Intent::Feedback => parts.push(courtesy(feedback_thanks(ctx.language))),
        Intent::Complaint => parts.push(courtesy(complaint_sorry(ctx.language))),
        _ => {}
    }
    if is_order_intent(intent) || ctx.classified.entities.order_number.is_some() {
        parts.extend(order_parts(ctx));
    }
    if intent == Intent::ProductInquiry {
        parts.extend(product_parts(ctx.retrieved));
    }
    if intent == Intent::LoyaltyProgram {
        let account = facts::loyalty(ctx.retrieved, ctx.customer_id);
        parts.extend(loyalty_parts(account, ctx.language));
    }
    parts.extend(policy_parts(&ctx.retrieved.passages, ctx.language));
    if intent == Intent::TechnicalSupport {
        // What to do first, then the product's own warranty: never its
        // sales copy to someone whose brewer is broken.
        parts.extend(warranty_parts(ctx.retrieved));
    }
    if !parts
        .iter()
        .any(|p| matches!(p.kind, PartKind::Fact | PartKind::Policy | PartKind::Ask))
    {
        parts.push(ask(i18n::no_information(ctx.language)));
    }
    parts
}

fn feedback_thanks(language: Language) -> &'static str {
    match language {
        Language::En => "Thank you for taking the time to share your feedback.",
        Language::Fr => "Merci d'avoir pris le temps de nous faire part de vos commentaires.",
        Language::Es => "Gracias por tomarse el tiempo de compartir su opinión.",
    }
}

fn complaint_sorry(language: Language) -> &'static str {
    match language {
        Language::En => "I'm sorry your experience has not been what it should be.",
        Language::Fr => "Je suis désolé que votre expérience n'ait pas été à la hauteur.",
        Language::Es => "Lamento que su experiencia no haya sido la que debía ser.",
    }
}

fn courtesy(text: &str) -> Part {
    Part::new(PartKind::Courtesy, text, Vec::new())
}

fn ask(text: &str) -> Part {
    Part::new(PartKind::Ask, text, Vec::new())
}

fn order_parts(ctx: &Context<'_>) -> Vec<Part> {
    let intent = ctx.classified.intent;
    if let Some(order) = facts::order(ctx.retrieved) {
        return order_facts(&order, intent, ctx.language);
    }
    match ctx.classified.entities.order_number.as_deref() {
        None => vec![ask(i18n::ask_order_number(ctx.language))],
        Some(raw) => vec![not_found(raw, ctx.conservative, ctx.language)],
    }
}

fn not_found(raw: &str, conservative: bool, language: Language) -> Part {
    let number = crate::knowledge::normalize_order_number(raw).filter(|_| !conservative);
    ask(&wording::order_not_found(language, number.as_deref()))
}

fn order_facts(o: &OrderView<'_>, intent: Intent, l: Language) -> Vec<Part> {
    let src = || vec![o.source.clone()];
    let mut parts = vec![Part::new(PartKind::Fact, wording::status(l, o), src())];
    let wants_tracking = matches!(intent, Intent::TrackingUpdate | Intent::OrderStatus);
    if wants_tracking && matches!(o.status, "shipped" | "delivered") {
        parts.push(tracking_part(o, l));
    } else if intent == Intent::TrackingUpdate {
        parts.push(Part::new(
            PartKind::Fact,
            wording::not_tracked_yet(l),
            src(),
        ));
    }
    if let Some((amount, date)) = o.refund {
        let text = wording::refund(l, amount, date);
        parts.push(Part::new(PartKind::Fact, text, src()));
    } else if intent == Intent::RefundStatus {
        parts.push(Part::new(PartKind::Fact, wording::no_refund(l), src()));
    }
    parts
}

fn tracking_part(o: &OrderView<'_>, l: Language) -> Part {
    match o.tracking {
        Some(t) => Part {
            sensitive: true,
            ..Part::new(
                PartKind::Fact,
                wording::tracking(l, t, o.carrier),
                vec![o.source.clone()],
            )
        },
        None => Part::new(
            PartKind::Fact,
            wording::no_tracking_number(l),
            vec![o.source.clone()],
        ),
    }
}

/// The warranty of each product named, for a technical question.
fn warranty_parts(retrieved: &Retrieved) -> Vec<Part> {
    facts::products(retrieved)
        .into_iter()
        .filter_map(|p| {
            let w = p.warranty?;
            let text = format!("{} warranty: {w}.", p.name);
            Some(Part::new(PartKind::Fact, text, vec![p.source]))
        })
        .collect()
}

fn product_parts(retrieved: &Retrieved) -> Vec<Part> {
    facts::products(retrieved)
        .into_iter()
        .map(|p| {
            let mut text = p.name.to_owned();
            if let Some(price) = p.price {
                text.push_str(&format!(": ${price:.2}"));
            } else if let Some((lo, hi)) = p.price_range {
                text.push_str(&format!(": from ${lo:.0} to ${hi:.0}"));
            }
            match p.in_stock {
                Some(true) => text.push_str(", in stock."),
                Some(false) => text.push_str(", currently out of stock."),
                None => text.push('.'),
            }
            if let Some(d) = p.description {
                text.push(' ');
                text.push_str(d);
            }
            Part::new(PartKind::Fact, text, vec![p.source])
        })
        .collect()
}

fn loyalty_parts(account: Option<LoyaltyView<'_>>, l: Language) -> Vec<Part> {
    match account {
        Some(a) => vec![Part::new(
            PartKind::Fact,
            wording::loyalty(l, &a),
            vec![a.source.clone()],
        )],
        None => vec![ask(wording::no_loyalty_account(l))],
    }
}

/// The top passage, and the second when it is nearly as relevant (BM25
/// ranks the runner-up of a one-topic question well below the top); none
/// that scores below [`MIN_PASSAGE_SCORE`]. A passage in English for a
/// customer who wrote in another language is introduced as such.
fn policy_parts(passages: &[Passage], language: Language) -> Vec<Part> {
    let Some(top) = passages.first().filter(|p| p.score >= MIN_PASSAGE_SCORE) else {
        return Vec::new();
    };
    let mut noted = false;
    passages
        .iter()
        .take(2)
        .filter(|p| p.score >= top.score * SECOND_PASSAGE_RATIO && p.score >= MIN_PASSAGE_SCORE)
        .map(|p| {
            let shown = Language::for_answer(p.language.as_deref().unwrap_or("en"));
            let text = match i18n::english_only(language) {
                Some(note) if shown != language && !noted => {
                    noted = true;
                    format!("{note} {}", p.text)
                }
                _ => p.text.clone(),
            };
            Part::new(PartKind::Policy, text, vec![p.source_id.clone()])
        })
        .collect()
}
