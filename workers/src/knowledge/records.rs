//! Structured knowledge: orders, products and loyalty accounts.
//!
//! The JSON shapes of `orders.json`, `products.json` and `loyalty.json`, the
//! look-ups retrieval needs, and their conversion to the catalog's
//! [`Record`]. Records carry only what an answer may state: no email,
//! address or payment details ever leave this module.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use switchboard_engine::event::Record;

/// A line of an order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderItem {
    sku: String,
    name: String,
    quantity: u32,
    price: f64,
}

/// A refund issued on an order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refund {
    amount: f64,
    refunded_at: NaiveDate,
    method: String,
}

/// An order as the store knows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Order {
    id: String,
    number: String,
    customer_id: String,
    customer_email: String,
    /// The first name to greet the customer by.
    #[serde(default)]
    customer_first_name: Option<String>,
    status: String,
    items: Vec<OrderItem>,
    subtotal: f64,
    shipping: f64,
    total: f64,
    ordered_at: NaiveDate,
    #[serde(default)]
    carrier: Option<String>,
    #[serde(default)]
    tracking_number: Option<String>,
    #[serde(default)]
    shipped_at: Option<NaiveDate>,
    #[serde(default)]
    expected_delivery: Option<NaiveDate>,
    #[serde(default)]
    delivered_at: Option<NaiveDate>,
    #[serde(default)]
    refund: Option<Refund>,
}

/// `orders.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdersFile {
    pub(crate) orders: Vec<Order>,
}

/// A product of the catalog.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    id: String,
    sku: String,
    name: String,
    category: String,
    #[serde(default)]
    price: Option<f64>,
    #[serde(default)]
    price_range: Option<[f64; 2]>,
    in_stock: bool,
    description: String,
    #[serde(default)]
    warranty: Option<String>,
    #[serde(default)]
    out_of_stock_variants: Vec<Variant>,
    /// Lower-case names customers use for the product.
    #[serde(default)]
    aliases: Vec<String>,
}

/// A product variant that is out of stock.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    name: String,
    #[serde(default)]
    restock_date: Option<NaiveDate>,
}

/// `products.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductsFile {
    pub(crate) products: Vec<Product>,
}

/// A BrewVi Rewards account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoyaltyAccount {
    customer_id: String,
    /// The first name to greet the customer by.
    #[serde(default)]
    first_name: Option<String>,
    points_balance: u32,
    tier: String,
    #[serde(default)]
    next_tier: Option<String>,
    points_to_next_tier: u32,
    points_expiring_30_days: u32,
    auto_delivery_subscriber: bool,
}

/// `loyalty.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoyaltyFile {
    pub(crate) accounts: Vec<LoyaltyAccount>,
}

/// The digits of an order number as customers write it (`#10234`,
/// `ORD-10234`, `order 10234`), or `None` if it has none.
pub fn normalize_order_number(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    (!digits.is_empty() && digits.len() <= 12).then_some(digits)
}

impl Order {
    /// Whether this order may be shown to the customer who asks: theirs by
    /// id, or by the email they gave. Unknown and someone else's orders get
    /// the same "not found" answer, so order numbers cannot be probed.
    pub fn belongs_to(&self, customer_id: &str, email: Option<&str>) -> bool {
        self.customer_id == customer_id
            || email.is_some_and(|e| e.trim().eq_ignore_ascii_case(&self.customer_email))
    }

    /// The order's number without decoration.
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The record retrieval emits; ages are whole days before `now`
    /// (never negative).
    pub fn to_record(&self, now: DateTime<Utc>) -> Record {
        let today = now.date_naive();
        let days = |d: NaiveDate| (today - d).num_days().max(0);
        let items: Vec<Value> = self
            .items
            .iter()
            .map(
                |i| json!({"sku": i.sku, "name": i.name, "quantity": i.quantity, "price": i.price}),
            )
            .collect();
        let mut f = Map::new();
        f.insert("number".into(), json!(self.number));
        f.insert("status".into(), json!(self.status));
        f.insert("carrier".into(), json!(self.carrier));
        f.insert("tracking".into(), json!(self.tracking_number));
        f.insert("items".into(), Value::Array(items));
        f.insert("subtotal".into(), json!(self.subtotal));
        f.insert("shipping".into(), json!(self.shipping));
        f.insert("total".into(), json!(self.total));
        f.insert("ordered_at".into(), json!(self.ordered_at));
        if let Some(name) = &self.customer_first_name {
            f.insert("customer_first_name".into(), json!(name));
        }
        f.insert("days_since_order".into(), json!(days(self.ordered_at)));
        insert_date(&mut f, "shipped_at", self.shipped_at);
        insert_date(&mut f, "expected_delivery", self.expected_delivery);
        insert_date(&mut f, "delivered_at", self.delivered_at);
        if let Some(d) = self.delivered_at {
            f.insert("days_since_delivery".into(), json!(days(d)));
        }
        if let Some(r) = &self.refund {
            let refund =
                json!({"amount": r.amount, "refunded_at": r.refunded_at, "method": r.method});
            f.insert("refund".into(), refund);
        }
        record("order", &self.id, f)
    }
}

fn insert_date(fields: &mut Map<String, Value>, key: &str, date: Option<NaiveDate>) {
    if let Some(d) = date {
        fields.insert(key.into(), json!(d));
    }
}

fn record(kind: &str, id: &str, fields: Map<String, Value>) -> Record {
    Record {
        kind: kind.into(),
        id: id.into(),
        fields,
    }
}

impl Product {
    /// Whether the customer's words name this product: its SKU, its full
    /// name or one of its aliases, compared in lower case.
    pub fn is_named_in(&self, lowercase_text: &str) -> bool {
        lowercase_text.contains(&self.sku.to_lowercase())
            || lowercase_text.contains(&self.name.to_lowercase())
            || self
                .aliases
                .iter()
                .any(|a| contains_phrase(lowercase_text, &a.to_lowercase()))
    }

    /// The record retrieval emits.
    pub fn to_record(&self) -> Record {
        let mut f = Map::new();
        f.insert("name".into(), json!(self.name));
        f.insert("sku".into(), json!(self.sku));
        f.insert("category".into(), json!(self.category));
        f.insert("price".into(), json!(self.price));
        if let Some([min, max]) = self.price_range {
            f.insert("price_min".into(), json!(min));
            f.insert("price_max".into(), json!(max));
        }
        f.insert("in_stock".into(), json!(self.in_stock));
        f.insert("description".into(), json!(self.description));
        f.insert("warranty".into(), json!(self.warranty));
        if !self.out_of_stock_variants.is_empty() {
            f.insert(
                "out_of_stock_variants".into(),
                json!(self.out_of_stock_variants),
            );
        }
        record("product", &self.id, f)
    }
}

/// Whether `phrase` occurs in `text` on word boundaries (so `chai` does not
/// match `chair`).
fn contains_phrase(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(start, _)| {
        let before = text[..start].chars().next_back();
        let after = text[start + phrase.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

impl LoyaltyAccount {
    /// The customer the account belongs to.
    pub fn customer_id(&self) -> &str {
        &self.customer_id
    }

    /// The record retrieval emits.
    pub fn to_record(&self) -> Record {
        let mut f = Map::new();
        if let Some(name) = &self.first_name {
            f.insert("first_name".into(), json!(name));
        }
        f.insert("points_balance".into(), json!(self.points_balance));
        f.insert("tier".into(), json!(self.tier));
        f.insert("next_tier".into(), json!(self.next_tier));
        f.insert(
            "points_to_next_tier".into(),
            json!(self.points_to_next_tier),
        );
        f.insert(
            "points_expiring_30_days".into(),
            json!(self.points_expiring_30_days),
        );
        f.insert(
            "auto_delivery_subscriber".into(),
            json!(self.auto_delivery_subscriber),
        );
        record("loyalty_account", &self.customer_id, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_normalise_to_digits() {
        assert_eq!(normalize_order_number("#10234").as_deref(), Some("10234"));
        assert_eq!(normalize_order_number("ORD-9876").as_deref(), Some("9876"));
        assert_eq!(normalize_order_number("order"), None);
    }

    #[test]
    fn phrases_match_on_word_boundaries() {
        assert!(contains_phrase("do you sell chai pods?", "chai"));
        assert!(!contains_phrase("my chair broke", "chai"));
    }
}
