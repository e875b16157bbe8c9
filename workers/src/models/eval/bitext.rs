//! Bitext's customer-support set mapped onto our 17 labels, and its frozen
//! held-out part.
//!
//! The split is frozen in `workers/models/splits/` by `make_splits.py`: a
//! row is held out when a hash of its text is 0 mod 5, and its near-copies
//! (same intent, word Jaccard ≥ 0.6) are kept out of training too. The
//! shipped model trains on the rest (`workers/models/train/bitext-mapped.csv`)
//! and is measured, as shipped, on the held-out rows.

use std::collections::HashSet;
use std::path::Path;

use switchboard_engine::event::Intent;

use super::intent::IntentRow;
use super::{EvalError, read_csv_columns};
#[cfg(test)]
use crate::models::intent::parse_label;

/// Bitext intents with no sensible label among ours.
pub const BITEXT_DROPPED: &[(&str, &str)] = &[
    (
        "newsletter_subscription",
        "marketing e-mail opt-in/out; our SUBSCRIPTION_MANAGEMENT means coffee auto-delivery, and mapping it there would teach the wrong meaning",
    ),
    (
        "change_order",
        "adding or removing items of a placed order: neither an exchange (swap an item received) nor a cancellation",
    ),
];

/// Our label for a Bitext intent, or `None` when it is dropped. The same
/// mapping builds `workers/models/train/bitext-mapped.csv`
/// (`build_bitext.py`; the test `mapping_agrees_with_the_build_script`
/// keeps the two equal).
pub fn map_bitext_intent(bitext: &str) -> Option<Intent> {
    use Intent::*;
    Some(match bitext {
        // ORDER
        "track_order" => OrderStatus, // "where is my order": status, not a carrier scan
        "cancel_order" | "check_cancellation_fee" => Cancellation,
        "place_order" => ProductInquiry, // pre-purchase help: what to buy and how
        // REFUND: getting or chasing the money is a refund matter; asking
        // what the policy says is a question about a policy.
        "get_refund" | "track_refund" => RefundStatus,
        "check_refund_policy" => GeneralInquiry,
        // PAYMENT, INVOICE
        "payment_issue" | "check_payment_methods" | "check_invoice" | "get_invoice" => BillingIssue,
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

/// Row indices of the frozen held-out part (`workers/models/splits/`).
const HELD_OUT: &str = include_str!("../../../models/splits/bitext-heldout.txt");

/// The held-out Bitext rows mapped onto our labels (dropped intents left
/// out), labelled by their Bitext category in `wording`.
pub fn held_out(data_dir: &Path) -> Result<Vec<IntentRow>, EvalError> {
    let path = data_dir.join("bitext/bitext_customer_support_sample_6480.csv");
    let rows = read_csv_columns(&path, &["instruction", "intent"])?;
    let held: HashSet<usize> = HELD_OUT
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    Ok(rows
        .into_iter()
        .enumerate()
        .filter(|(i, _)| held.contains(i))
        .filter_map(|(_, row)| {
            map_bitext_intent(&row[1]).map(|label| IntentRow {
                text: row[0].clone(),
                label,
                wording: None,
            })
        })
        .collect())
}

/// The held-out messages as plain text (ordinary messages for screening).
pub fn held_out_texts(data_dir: &Path) -> Result<Vec<String>, EvalError> {
    Ok(held_out(data_dir)?.into_iter().map(|r| r.text).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Python script that builds the training file maps the same way.
    #[test]
    fn mapping_agrees_with_the_build_script() {
        let script = include_str!("../../../models/train/build_bitext.py");
        let body = script
            .split("MAPPING = {")
            .nth(1)
            .and_then(|s| s.split('}').next())
            .expect("the script has a MAPPING table");
        let mut pairs = 0;
        for line in body.lines().filter(|l| l.contains(':')) {
            let parts: Vec<&str> = line.split('"').collect();
            let (bitext, label) = (parts[1], parts[3]);
            assert_eq!(
                map_bitext_intent(bitext),
                parse_label(label),
                "{bitext} maps differently in build_bitext.py"
            );
            pairs += 1;
        }
        assert_eq!(pairs, 25, "every mapped Bitext intent is in the script");
    }
}
