//! What a draft says, as parts, per intent family.
//!
//! Each [`Part`] is one statement with the sources it rests on, so the
//! conservative rewrite can drop what the critic flagged and the draft can
//! cite exactly what it kept. Facts come only from records, policy text only
//! from retrieved passages.

use switchboard_engine::event::{Classified, Intent, Passage, Retrieved};

use super::facts::{self, LoyaltyView, OrderView};

/// A second passage is quoted only when it scores at least this share of
/// the top one.
const SECOND_PASSAGE_RATIO: f32 = 0.8;

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
    let mut parts = Vec::new();
    match intent {
        Intent::Feedback => parts.push(courtesy(
            "Thank you for taking the time to share your feedback.",
        )),
        Intent::Complaint => parts.push(courtesy(
            "I'm sorry your experience has not been what it should be.",
        )),
        _ => {}
    }
    if is_order_intent(intent) || ctx.classified.entities.order_number.is_some() {
        parts.extend(order_parts(ctx));
    }
    if matches!(intent, Intent::ProductInquiry | Intent::TechnicalSupport) {
        parts.extend(product_parts(ctx.retrieved, intent));
    }
    if intent == Intent::LoyaltyProgram {
        parts.extend(loyalty_parts(facts::loyalty(
            ctx.retrieved,
            ctx.customer_id,
        )));
    }
    parts.extend(policy_parts(&ctx.retrieved.passages));
    if !parts
        .iter()
        .any(|p| matches!(p.kind, PartKind::Fact | PartKind::Policy | PartKind::Ask))
    {
        parts.push(ask(
            "I don't have the information to answer that yet. Could you tell me a little more about what you need?",
        ));
    }
    parts
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
        return order_facts(&order, intent);
    }
    match ctx.classified.entities.order_number.as_deref() {
        None => vec![ask(
            "Could you send me your order number? It is in your order confirmation email and in your account dashboard.",
        )],
        Some(raw) => vec![not_found(raw, ctx.conservative)],
    }
}

fn not_found(raw: &str, conservative: bool) -> Part {
    let number = crate::knowledge::normalize_order_number(raw).filter(|_| !conservative);
    let which = match number {
        Some(n) => format!("an order #{n}"),
        None => "an order with that number".to_owned(),
    };
    ask(&format!(
        "I couldn't find {which} on your account. Could you check the number, or tell me the email address you used at checkout?"
    ))
}

fn order_facts(o: &OrderView<'_>, intent: Intent) -> Vec<Part> {
    let src = || vec![o.source.clone()];
    let mut parts = vec![Part::new(PartKind::Fact, status_sentence(o), src())];
    let wants_tracking = matches!(intent, Intent::TrackingUpdate | Intent::OrderStatus);
    if wants_tracking && matches!(o.status, "shipped" | "delivered") {
        parts.push(tracking_part(o));
    } else if intent == Intent::TrackingUpdate {
        let text = "It has no tracking number yet: tracking starts when the order ships.";
        parts.push(Part::new(PartKind::Fact, text, src()));
    }
    if let Some((amount, date)) = o.refund {
        let text = format!(
            "A refund of ${amount:.2} was issued on {date} to your original payment method."
        );
        parts.push(Part::new(PartKind::Fact, text, src()));
    } else if intent == Intent::RefundStatus {
        parts.push(Part::new(
            PartKind::Fact,
            "I don't see a refund issued on this order yet.",
            src(),
        ));
    }
    parts
}

fn status_sentence(o: &OrderView<'_>) -> String {
    let n = o.number;
    let on = |d: Option<&str>| d.map(|d| format!(" on {d}")).unwrap_or_default();
    let with = o.carrier.map(|c| format!(" with {c}")).unwrap_or_default();
    match o.status {
        "pending" => format!(
            "Order #{n} was placed{} and has not shipped yet.",
            on(o.ordered_at)
        ),
        "shipped" => {
            let eta = o
                .expected_delivery
                .map(|d| format!(" Expected delivery: {d}."))
                .unwrap_or_default();
            format!("Order #{n} shipped{}{with}.{eta}", on(o.shipped_at))
        }
        "delivered" => format!("Order #{n} was delivered{}{with}.", on(o.delivered_at)),
        "returned" => format!("Order #{n} was returned to us."),
        "cancelled" => format!("Order #{n} was cancelled."),
        other => format!("The status of order #{n} is: {other}."),
    }
}

fn tracking_part(o: &OrderView<'_>) -> Part {
    match (o.tracking, o.carrier) {
        (Some(t), carrier) => {
            let by = carrier.map(|c| format!(" ({c})")).unwrap_or_default();
            Part {
                sensitive: true,
                ..Part::new(
                    PartKind::Fact,
                    format!("Tracking number: {t}{by}."),
                    vec![o.source.clone()],
                )
            }
        }
        (None, _) => Part::new(
            PartKind::Fact,
            "I don't have a tracking number for this order.",
            vec![o.source.clone()],
        ),
    }
}

fn product_parts(retrieved: &Retrieved, intent: Intent) -> Vec<Part> {
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
            if let (Intent::TechnicalSupport, Some(w)) = (intent, p.warranty) {
                text.push_str(&format!(" Warranty: {w}."));
            }
            Part::new(PartKind::Fact, text, vec![p.source])
        })
        .collect()
}

fn loyalty_parts(account: Option<LoyaltyView<'_>>) -> Vec<Part> {
    let Some(a) = account else {
        return vec![ask(
            "I couldn't find a BrewVi Rewards account linked to this conversation. Could you tell me the email address of your account?",
        )];
    };
    let mut text = format!(
        "You have {} BrewVi Rewards points ({} tier).",
        a.points, a.tier
    );
    if let (Some(next), Some(missing)) = (a.next_tier, a.points_to_next_tier) {
        text.push_str(&format!(" {missing} more points reach {next}."));
    }
    if let Some(n) = a.expiring_30_days.filter(|n| *n > 0) {
        text.push_str(&format!(" {n} points expire in the next 30 days."));
    }
    vec![Part::new(PartKind::Fact, text, vec![a.source])]
}

/// The top passage, and the second when it is nearly as relevant (BM25
/// ranks the runner-up of a one-topic question well below the top).
fn policy_parts(passages: &[Passage]) -> Vec<Part> {
    let Some(top) = passages.first() else {
        return Vec::new();
    };
    passages
        .iter()
        .take(2)
        .filter(|p| p.score >= top.score * SECOND_PASSAGE_RATIO)
        .map(|p| Part::new(PartKind::Policy, p.text.clone(), vec![p.source_id.clone()]))
        .collect()
}
