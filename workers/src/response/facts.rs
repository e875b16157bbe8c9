//! Typed views of the records in a `retrieved` event.
//!
//! The templates state only what these views read from the records; a field
//! that is absent or null is simply not said, so nothing is invented.

use serde_json::{Map, Value};
use switchboard_engine::event::{Record, Retrieved};

/// The id a draft cites for a record: `<kind>:<id>`, e.g. `order:ORD-10234`.
pub fn record_source(record: &Record) -> String {
    format!("{}:{}", record.kind, record.id)
}

fn text<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    fields
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// An order as the answer may describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderView<'a> {
    pub source: String,
    pub number: &'a str,
    pub status: &'a str,
    pub carrier: Option<&'a str>,
    pub tracking: Option<&'a str>,
    pub ordered_at: Option<&'a str>,
    pub shipped_at: Option<&'a str>,
    pub expected_delivery: Option<&'a str>,
    pub delivered_at: Option<&'a str>,
    /// Refund amount and date, if one was issued.
    pub refund: Option<(f64, &'a str)>,
}

/// The order record, if retrieval found one with a number and a status.
pub fn order(retrieved: &Retrieved) -> Option<OrderView<'_>> {
    let record = retrieved.records.iter().find(|r| r.kind == "order")?;
    let f = &record.fields;
    let refund = f.get("refund").and_then(Value::as_object).and_then(|r| {
        let amount = r.get("amount")?.as_f64()?;
        Some((amount, text(r, "refunded_at")?))
    });
    Some(OrderView {
        source: record_source(record),
        number: text(f, "number")?,
        status: text(f, "status")?,
        carrier: text(f, "carrier"),
        tracking: text(f, "tracking"),
        ordered_at: text(f, "ordered_at"),
        shipped_at: text(f, "shipped_at"),
        expected_delivery: text(f, "expected_delivery"),
        delivered_at: text(f, "delivered_at"),
        refund,
    })
}

/// A product as the answer may describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductView<'a> {
    pub source: String,
    pub name: &'a str,
    pub price: Option<f64>,
    pub price_range: Option<(f64, f64)>,
    pub in_stock: Option<bool>,
    pub description: Option<&'a str>,
    pub warranty: Option<&'a str>,
}

/// The product records, in retrieval order.
pub fn products(retrieved: &Retrieved) -> Vec<ProductView<'_>> {
    retrieved
        .records
        .iter()
        .filter(|r| r.kind == "product")
        .filter_map(|r| {
            let f = &r.fields;
            let range = f
                .get("price_min")
                .and_then(Value::as_f64)
                .zip(f.get("price_max").and_then(Value::as_f64));
            Some(ProductView {
                source: record_source(r),
                name: text(f, "name")?,
                price: f.get("price").and_then(Value::as_f64),
                price_range: range,
                in_stock: f.get("in_stock").and_then(Value::as_bool),
                description: text(f, "description"),
                warranty: text(f, "warranty"),
            })
        })
        .collect()
}

/// A loyalty account as the answer may describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoyaltyView<'a> {
    pub source: String,
    pub points: u64,
    pub tier: &'a str,
    pub next_tier: Option<&'a str>,
    pub points_to_next_tier: Option<u64>,
    pub expiring_30_days: Option<u64>,
}

/// The loyalty account of `customer_id`; an account of anyone else is
/// ignored even if it was retrieved.
pub fn loyalty<'a>(retrieved: &'a Retrieved, customer_id: &str) -> Option<LoyaltyView<'a>> {
    let record = retrieved
        .records
        .iter()
        .find(|r| r.kind == "loyalty_account" && r.id == customer_id)?;
    let f = &record.fields;
    Some(LoyaltyView {
        source: record_source(record),
        points: f.get("points_balance")?.as_u64()?,
        tier: text(f, "tier")?,
        next_tier: text(f, "next_tier"),
        points_to_next_tier: f.get("points_to_next_tier").and_then(Value::as_u64),
        expiring_30_days: f.get("points_expiring_30_days").and_then(Value::as_u64),
    })
}

/// The customer's first name and the record it comes from: from the
/// order retrieval found (only ever the customer's own), else from the
/// customer's loyalty account.
pub fn first_name<'a>(retrieved: &'a Retrieved, customer_id: &str) -> Option<(&'a str, String)> {
    let from = |kind: &str, key: &str| {
        retrieved
            .records
            .iter()
            .filter(|r| r.kind == kind && (kind != "loyalty_account" || r.id == customer_id))
            .find_map(|r| text(&r.fields, key).map(|n| (n, record_source(r))))
    };
    from("order", "customer_first_name").or_else(|| from("loyalty_account", "first_name"))
}
