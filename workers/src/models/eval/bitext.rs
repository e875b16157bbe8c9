//! Intent accuracy on Bitext's customer-support set, mapped onto our 17
//! labels.
//!
//! Split: every 5th row (row index % 5 == 4) is held out, the rest trains a
//! fresh model with the product's own `train`. Deterministic, and spread
//! evenly over the file (which is sorted by intent).

use std::path::Path;

use switchboard_engine::event::Intent;

use super::report::{IntentEval, LabelRecall, Rate};
use super::{EvalError, read_csv_columns};
use crate::models::intent::train;

/// Bitext intents with no sensible label among ours.
pub const BITEXT_DROPPED: &[(&str, &str)] = &[(
    "newsletter_subscription",
    "marketing e-mail opt-in/out; our SUBSCRIPTION_MANAGEMENT means coffee auto-delivery, and mapping it there would teach the wrong meaning",
)];

/// Our label for a Bitext intent, or `None` when it is dropped.
pub fn map_bitext_intent(bitext: &str) -> Option<Intent> {
    use Intent::*;
    Some(match bitext {
        // ORDER
        "track_order" => OrderStatus, // "where is my order": status, not a carrier scan
        "cancel_order" => Cancellation,
        "change_order" => Exchange, // swap/modify items of an order: nearest is an exchange
        "place_order" => ProductInquiry, // pre-purchase help: what to buy and how
        // REFUND
        "get_refund" => ReturnRequest, // "I want my money back" starts a return
        "check_refund_policy" => ReturnRequest, // return/refund policy questions
        "track_refund" => RefundStatus,
        // PAYMENT, INVOICE
        "payment_issue" | "check_payment_methods" | "check_invoice" | "get_invoice" => BillingIssue,
        // CANCELLATION_FEE: what it costs to cancel
        "check_cancellation_fee" => Cancellation,
        // DELIVERY: how long / which options
        "delivery_period" | "delivery_options" => ShippingEstimate,
        // ACCOUNT and SHIPPING_ADDRESS (address book lives in the account)
        "create_account"
        | "delete_account"
        | "edit_account"
        | "recover_password"
        | "registration_problems"
        | "switch_account"
        | "change_shipping_address"
        | "set_up_shipping_address" => AccountHelp,
        // CONTACT
        "contact_customer_service" => GeneralInquiry, // how to reach us, opening hours
        "contact_human_agent" => EscalationRequest,
        // FEEDBACK
        "complaint" => Complaint,
        "review" => Feedback,
        _ => return None,
    })
}

/// Train on 4/5 of Bitext and measure on the held-out fifth.
pub fn evaluate(data_dir: &Path) -> Result<IntentEval, EvalError> {
    let path = data_dir.join("bitext/bitext_customer_support_sample_6480.csv");
    let rows = read_csv_columns(&path, &["instruction", "intent"])?;
    let mut train_rows = Vec::new();
    let mut test_rows = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let Some(label) = map_bitext_intent(&row[1]) else {
            continue;
        };
        let item = (row[0].clone(), label);
        if i % 5 == 4 {
            test_rows.push(item)
        } else {
            train_rows.push(item)
        }
    }
    let model = train(&train_rows);
    let mut correct = 0;
    let mut confidence_sum = 0.0f64;
    let mut per_label: Vec<(Intent, usize, usize)> =
        Intent::ALL.iter().map(|&i| (i, 0, 0)).collect();
    for (text, label) in &test_rows {
        let (got, confidence) = model.predict(text);
        confidence_sum += f64::from(confidence);
        let slot = per_label.iter_mut().find(|(i, _, _)| i == label);
        if let Some((_, hits, total)) = slot {
            *total += 1;
            *hits += usize::from(got == *label);
        }
        correct += usize::from(got == *label);
    }
    let n = test_rows.len().max(1) as f64;
    Ok(IntentEval {
        split: "every 5th row held out".to_owned(),
        train_rows: train_rows.len(),
        test_rows: test_rows.len(),
        accuracy: correct as f64 / n,
        mean_confidence: confidence_sum / n,
        per_label: per_label
            .into_iter()
            .filter(|(_, _, total)| *total > 0)
            .map(|(label, hits, total)| LabelRecall {
                label,
                recall: Rate::new(hits, total),
            })
            .collect(),
        dropped: BITEXT_DROPPED
            .iter()
            .map(|(name, why)| format!("{name} ({why})"))
            .collect(),
    })
}
