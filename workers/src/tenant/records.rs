//! Tenant records (products, orders, customers, loyalty accounts): the
//! shapes `tenant import` accepts, their validation and the one shape the
//! bucket stores.
//!
//! The bucket always holds the project's own shapes, the ones of
//! `workers/kb/brewvi/` (`{"products": [...]}`, `{"orders": [...]}`,
//! `{"accounts": [...]}`, and `{"customers": [...]}` for customers), so the
//! knowledge base decodes them as it decodes its built-in files. On import
//! each record is read either in that shape or in the Shopify-like shape of
//! the BrewVi sample data (`/work/shared/data/brewvi`: `shopify/products.json`,
//! `shopify/orders.json`, `customers/personas.json`,
//! `knowledge-base/loyalty-program.json`'s `test_customer_balances`), and
//! converted:
//!
//! - a product with only the project's fields is in the project's shape;
//!   any other (variants, specifications, `price_range` as `{min, max}`...)
//!   is Shopify's: `specifications.warranty` becomes `warranty`, variants out
//!   of stock become `out_of_stock_variants`, other fields are dropped;
//! - an order with `order_id`, `order_number` or `order_date` is Shopify's:
//!   `tracking.*` gives carrier, tracking number and dates (dates keep their
//!   day), `refund_amount`/`refund_date` the refund;
//! - a customer with fields beyond `id, name, email, phone, tier,
//!   customer_since, auto_delivery_subscriber` is a persona (`profile.*`);
//! - a loyalty account with `current_balance` is the sample's.
//!
//! Every record is checked against the project's type; an error names the
//! file, the record (1-based, with its id) and the field as the input
//! spells it. Ids are unique within a file.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::error::{TenantError, TenantErrorKind};
use crate::knowledge::{LoyaltyAccount, Order, Product};

/// The four kinds of records a tenant has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    /// The catalogue.
    Products,
    /// Orders.
    Orders,
    /// Customers.
    Customers,
    /// Loyalty accounts.
    Loyalty,
}

impl RecordKind {
    /// Every kind.
    pub const ALL: [RecordKind; 4] = [
        RecordKind::Products,
        RecordKind::Orders,
        RecordKind::Customers,
        RecordKind::Loyalty,
    ];

    /// The last token of the bucket key (`<tenant>.<token>`).
    pub fn key_token(self) -> &'static str {
        match self {
            Self::Products => "products",
            Self::Orders => "orders",
            Self::Customers => "customers",
            Self::Loyalty => "loyalty",
        }
    }

    /// The array's name in the stored JSON object.
    pub fn wrapper(self) -> &'static str {
        match self {
            Self::Products => "products",
            Self::Orders => "orders",
            Self::Customers => "customers",
            Self::Loyalty => "accounts",
        }
    }

    fn singular(self) -> &'static str {
        match self {
            Self::Products => "product",
            Self::Orders => "order",
            Self::Customers => "customer",
            Self::Loyalty => "account",
        }
    }

    /// The kind a file of `tenant import` holds, by its name.
    pub fn of_file_name(name: &str) -> Option<Self> {
        match name {
            "products.json" => Some(Self::Products),
            "orders.json" => Some(Self::Orders),
            "customers.json" | "personas.json" => Some(Self::Customers),
            "loyalty.json" | "loyalty-program.json" => Some(Self::Loyalty),
            _ => None,
        }
    }

    /// Where the array may be in an input file, besides a bare array.
    fn arrays(self) -> &'static [&'static str] {
        match self {
            Self::Products => &["products"],
            Self::Orders => &["orders"],
            Self::Customers => &["customers", "personas"],
            Self::Loyalty => &["accounts", "test_customer_balances"],
        }
    }

    /// The fields a record's id may be in (converted shape first).
    fn id_fields(self) -> &'static [&'static str] {
        match self {
            Self::Products => &["id", "sku"],
            Self::Orders => &["id", "order_id"],
            Self::Customers => &["id"],
            Self::Loyalty => &["customer_id"],
        }
    }

    /// The id field of the stored shape (unique within a file).
    fn id_field(self) -> &'static str {
        match self {
            Self::Loyalty => "customer_id",
            _ => "id",
        }
    }

    /// The empty stored value, for a tenant without these records.
    pub fn empty_json(self) -> String {
        format!("{{\"{}\":[]}}", self.wrapper())
    }
}

/// Which shape a record was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The project's own shape (`workers/kb/brewvi/`).
    Project,
    /// The Shopify-like shape of the BrewVi sample data.
    Shopify,
}

/// A validated file of records, in the stored shape.
#[derive(Debug, Clone)]
pub struct RecordSet {
    /// What the records are.
    pub kind: RecordKind,
    /// The file they came from.
    pub file: String,
    /// How many there are.
    pub count: usize,
    /// How many were converted from the Shopify-like shape.
    pub converted: usize,
    /// The stored JSON (`{"<wrapper>": [...]}`).
    pub json: String,
}

/// A customer, in the stored shape. Kept for the agents; retrieval does not
/// use it yet.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    id: String,
    name: String,
    email: String,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    tier: Option<String>,
    #[serde(default)]
    customer_since: Option<NaiveDate>,
    #[serde(default)]
    auto_delivery_subscriber: Option<bool>,
}

const CUSTOMER_FIELDS: &[&str] = &[
    "id",
    "name",
    "email",
    "phone",
    "tier",
    "customer_since",
    "auto_delivery_subscriber",
];
const PRODUCT_FIELDS: &[&str] = &[
    "id",
    "sku",
    "name",
    "category",
    "price",
    "price_range",
    "in_stock",
    "description",
    "warranty",
    "out_of_stock_variants",
    "aliases",
];

/// `order #3 (id ORD-10234)`: a record named for errors, 1-based.
pub(crate) fn record_label(kind: &str, index: usize, value: &Value, id_fields: &[&str]) -> String {
    let id = id_fields.iter().find_map(|f| match value.get(f) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    });
    match id {
        Some(id) => format!("{kind} #{} (id {id})", index + 1),
        None => format!("{kind} #{} (no id)", index + 1),
    }
}

/// An error of `record` at serde path `path` (`.` for the record itself).
/// A missing field is reported as that field.
pub(crate) fn field_error(
    file: &str,
    record: &str,
    path: String,
    inner: &impl std::fmt::Display,
) -> TenantError {
    let message = inner.to_string();
    let (path, message) = match missing_field(&message) {
        Some(name) if path == "." => (name.to_owned(), "missing".to_owned()),
        Some(name) => (format!("{path}.{name}"), "missing".to_owned()),
        None => (path, message),
    };
    let err = TenantError::input(file, message).in_record(record);
    if path == "." { err } else { err.in_field(path) }
}

fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// Reads and validates one file of `kind`. `file` names it in errors.
pub fn parse(kind: RecordKind, file: &str, text: &str) -> Result<RecordSet, TenantError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| TenantError::input(file, format!("not valid JSON: {e}")))?;
    let items = array_of(kind, file, value)?;
    let mut stored = Vec::with_capacity(items.len());
    let mut seen = HashSet::new();
    let mut converted = 0;
    for (i, item) in items.into_iter().enumerate() {
        let record = record_label(kind.singular(), i, &item, kind.id_fields());
        let Value::Object(fields) = item else {
            return Err(TenantError::input(file, "expected an object").in_record(&record));
        };
        let (out, shape) = convert(kind, fields);
        validate(kind, &out, shape).map_err(|(path, e)| field_error(file, &record, path, &e))?;
        if shape == Shape::Shopify {
            converted += 1;
        }
        let id = match out.get(kind.id_field()) {
            Some(Value::String(s)) => s.clone(),
            other => other.map(Value::to_string).unwrap_or_default(),
        };
        if !seen.insert(id.clone()) {
            return Err(TenantError::new(
                TenantErrorKind::Duplicate,
                format!("{} {id} appears twice", kind.id_field()),
            )
            .in_file(file)
            .in_record(&record));
        }
        stored.push(Value::Object(out));
    }
    let count = stored.len();
    let mut object = Map::new();
    object.insert(kind.wrapper().into(), Value::Array(stored));
    Ok(RecordSet {
        kind,
        file: file.to_owned(),
        count,
        converted,
        json: Value::Object(object).to_string(),
    })
}

fn array_of(kind: RecordKind, file: &str, value: Value) -> Result<Vec<Value>, TenantError> {
    match value {
        Value::Array(items) => Ok(items),
        Value::Object(mut o) => kind
            .arrays()
            .iter()
            .find_map(|name| match o.remove(*name) {
                Some(Value::Array(items)) => Some(items),
                _ => None,
            })
            .ok_or_else(|| {
                TenantError::input(
                    file,
                    format!(
                        "expected an array, or an object with an array {}",
                        kind.arrays().join(" or ")
                    ),
                )
            }),
        _ => Err(TenantError::input(file, "expected a JSON array or object")),
    }
}

/// Checks a stored-shape record against its type; the error path is
/// spelled as the input spells it.
fn validate(
    kind: RecordKind,
    out: &Map<String, Value>,
    shape: Shape,
) -> Result<(), (String, String)> {
    let value = Value::Object(out.clone());
    let result = match kind {
        RecordKind::Products => check::<Product>(value),
        RecordKind::Orders => check::<Order>(value),
        RecordKind::Customers => check::<Customer>(value),
        RecordKind::Loyalty => check::<LoyaltyAccount>(value),
    };
    result.map_err(|(path, message)| {
        let path = match (shape, missing_field(&message)) {
            (Shape::Shopify, Some(name)) => {
                let full = if path == "." {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                };
                return (source_name(kind, &full), "missing".to_owned());
            }
            (Shape::Shopify, None) => source_name(kind, &path),
            (Shape::Project, _) => path,
        };
        (path, message)
    })
}

fn check<T: serde::de::DeserializeOwned>(value: Value) -> Result<(), (String, String)> {
    serde_path_to_error::deserialize::<_, T>(value)
        .map(|_| ())
        .map_err(|e| (e.path().to_string(), e.inner().to_string()))
}

/// The Shopify-shape name of a stored-shape field path.
fn source_name(kind: RecordKind, path: &str) -> String {
    let renames: &[(&str, &str)] = match kind {
        RecordKind::Orders => &[
            ("id", "order_id"),
            ("number", "order_number"),
            ("shipping", "shipping_cost"),
            ("ordered_at", "order_date"),
            ("carrier", "tracking.carrier"),
            ("tracking_number", "tracking.tracking_number"),
            ("shipped_at", "tracking.shipped_date"),
            ("expected_delivery", "tracking.expected_delivery"),
            ("delivered_at", "tracking.delivered_date"),
            ("refund.amount", "refund_amount"),
            ("refund.refunded_at", "refund_date"),
            ("refund.method", "return_info.refund_method"),
        ],
        RecordKind::Products => &[
            ("warranty", "specifications.warranty"),
            ("out_of_stock_variants", "variants"),
        ],
        RecordKind::Customers => &[
            ("customer_since", "profile.customer_since"),
            (
                "auto_delivery_subscriber",
                "profile.auto_delivery_subscriber",
            ),
        ],
        RecordKind::Loyalty => &[("points_balance", "current_balance")],
    };
    renames
        .iter()
        .find(|(ours, _)| {
            path == *ours
                || path.starts_with(&format!("{ours}."))
                || path.starts_with(&format!("{ours}["))
        })
        .map(|(ours, theirs)| format!("{theirs}{}", &path[ours.len()..]))
        .unwrap_or_else(|| path.to_owned())
}

/// The stored-shape record, and the shape it was read in.
fn convert(kind: RecordKind, fields: Map<String, Value>) -> (Map<String, Value>, Shape) {
    let project = match kind {
        RecordKind::Products => {
            fields.keys().all(|k| PRODUCT_FIELDS.contains(&k.as_str()))
                && !fields.get("price_range").is_some_and(Value::is_object)
        }
        RecordKind::Orders => !["order_id", "order_number", "order_date"]
            .iter()
            .any(|k| fields.contains_key(*k)),
        RecordKind::Customers => fields.keys().all(|k| CUSTOMER_FIELDS.contains(&k.as_str())),
        RecordKind::Loyalty => !fields.contains_key("current_balance"),
    };
    if project {
        return (fields, Shape::Project);
    }
    let out = match kind {
        RecordKind::Products => shopify_product(&fields),
        RecordKind::Orders => shopify_order(&fields),
        RecordKind::Customers => persona(&fields),
        RecordKind::Loyalty => sample_account(&fields),
    };
    (out, Shape::Shopify)
}

/// Copies `from` of `src` to `to` of `out` when present and not null.
fn copy(out: &mut Map<String, Value>, to: &str, value: Option<&Value>) {
    if let Some(v) = value.filter(|v| !v.is_null()) {
        out.insert(to.to_owned(), v.clone());
    }
}

/// A timestamp's day (`2026-01-15T10:23:00Z` → `2026-01-15`); anything
/// else unchanged, for the type check to judge.
fn day(value: Option<&Value>) -> Option<Value> {
    match value? {
        Value::String(s) if s.len() > 10 && s.as_bytes().get(10) == Some(&b'T') => {
            Some(Value::String(s[..10].to_owned()))
        }
        Value::Null => None,
        other => Some(other.clone()),
    }
}

/// Numbers as strings (Shopify order numbers are numbers).
fn text(value: Option<&Value>) -> Option<Value> {
    match value? {
        Value::Number(n) => Some(Value::String(n.to_string())),
        Value::Null => None,
        other => Some(other.clone()),
    }
}

fn shopify_order(o: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    copy(&mut out, "id", text(o.get("order_id")).as_ref());
    copy(&mut out, "number", text(o.get("order_number")).as_ref());
    for f in [
        "customer_id",
        "customer_email",
        "status",
        "subtotal",
        "total",
    ] {
        copy(&mut out, f, o.get(f));
    }
    copy(&mut out, "shipping", o.get("shipping_cost"));
    copy(&mut out, "ordered_at", day(o.get("order_date")).as_ref());
    if let Some(Value::Array(items)) = o.get("items") {
        let items = items.iter().map(shopify_item).collect();
        out.insert("items".into(), Value::Array(items));
    } else {
        copy(&mut out, "items", o.get("items"));
    }
    let tracking = o.get("tracking").and_then(Value::as_object);
    let carrier = tracking
        .and_then(|t| t.get("carrier"))
        .or_else(|| o.get("shipping_method").and_then(|m| m.get("carrier")));
    copy(&mut out, "carrier", carrier);
    if let Some(t) = tracking {
        copy(&mut out, "tracking_number", t.get("tracking_number"));
        copy(&mut out, "shipped_at", day(t.get("shipped_date")).as_ref());
        copy(
            &mut out,
            "expected_delivery",
            day(t.get("expected_delivery")).as_ref(),
        );
        copy(
            &mut out,
            "delivered_at",
            day(t.get("delivered_date")).as_ref(),
        );
    }
    if let Some(amount) = o.get("refund_amount").filter(|v| !v.is_null()) {
        let method = ["return_info", "cancellation_info"]
            .iter()
            .find_map(|k| o.get(*k)?.get("refund_method").cloned())
            .unwrap_or_else(|| json!("original_payment"));
        let mut refund = Map::new();
        refund.insert("amount".into(), amount.clone());
        copy(
            &mut refund,
            "refunded_at",
            day(o.get("refund_date")).as_ref(),
        );
        refund.insert("method".into(), method);
        out.insert("refund".into(), Value::Object(refund));
    }
    out
}

fn shopify_item(item: &Value) -> Value {
    let Some(fields) = item.as_object() else {
        return item.clone();
    };
    let mut out = Map::new();
    for f in ["sku", "name", "quantity", "price"] {
        copy(&mut out, f, fields.get(f));
    }
    Value::Object(out)
}

fn shopify_product(p: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for f in [
        "id",
        "sku",
        "name",
        "category",
        "price",
        "in_stock",
        "description",
        "aliases",
    ] {
        copy(&mut out, f, p.get(f));
    }
    match p.get("price_range") {
        Some(Value::Object(r)) => {
            out.insert("price_range".into(), json!([r.get("min"), r.get("max")]));
        }
        other => copy(&mut out, "price_range", other),
    }
    let warranty = p
        .get("warranty")
        .filter(|v| !v.is_null())
        .or_else(|| p.get("specifications").and_then(|s| s.get("warranty")));
    copy(&mut out, "warranty", warranty);
    if let Some(Value::Array(variants)) = p.get("variants") {
        let out_of_stock: Vec<Value> = variants
            .iter()
            .filter(|v| v.get("in_stock") == Some(&Value::Bool(false)))
            .map(|v| {
                let name = ["color", "name", "size", "title", "variant_id"]
                    .iter()
                    .find_map(|k| v.get(*k).cloned())
                    .unwrap_or(Value::Null);
                let mut variant = Map::new();
                variant.insert("name".into(), name);
                copy(
                    &mut variant,
                    "restock_date",
                    day(v.get("restock_date")).as_ref(),
                );
                Value::Object(variant)
            })
            .collect();
        if !out_of_stock.is_empty() {
            out.insert("out_of_stock_variants".into(), Value::Array(out_of_stock));
        }
    }
    out
}

fn persona(c: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for f in ["id", "name", "email", "phone", "tier"] {
        copy(&mut out, f, c.get(f));
    }
    let profile = c.get("profile");
    copy(
        &mut out,
        "customer_since",
        day(profile.and_then(|p| p.get("customer_since"))).as_ref(),
    );
    copy(
        &mut out,
        "auto_delivery_subscriber",
        profile.and_then(|p| p.get("auto_delivery_subscriber")),
    );
    out
}

fn sample_account(a: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    copy(&mut out, "points_balance", a.get("current_balance"));
    for f in [
        "customer_id",
        "tier",
        "next_tier",
        "points_to_next_tier",
        "points_expiring_30_days",
        "auto_delivery_subscriber",
    ] {
        copy(&mut out, f, a.get(f));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_files_read_unchanged() {
        for (kind, text) in super::super::data::DEMO_RECORDS {
            let set = parse(kind, "f.json", text).unwrap_or_else(|e| panic!("{e}"));
            assert!(set.count > 0);
            assert_eq!(set.converted, 0, "{kind:?} read in the project's shape");
            let original: Value = serde_json::from_str(text).expect("json");
            let stored: Value = serde_json::from_str(&set.json).expect("json");
            assert_eq!(original, stored, "{kind:?} stored as given");
        }
    }

    #[test]
    fn a_bad_field_names_file_record_and_field() {
        let text = r#"{"orders":[
            {"order_id":"ORD-1","order_number":"1","customer_id":"c","customer_email":"a@b","status":"paid","items":[],"subtotal":1,"shipping_cost":0,"total":1,"order_date":"2026-01-01T00:00:00Z"},
            {"order_id":"ORD-2","order_number":"2","customer_id":"c","customer_email":"a@b","status":"paid","items":[],"subtotal":1,"shipping_cost":0,"total":1,"order_date":"2026-01-01"},
            {"order_id":"ORD-10234","order_number":"10234","customer_id":"c","customer_email":"a@b","status":"paid","items":[],"subtotal":1,"shipping_cost":0,"total":"12","order_date":"2026-01-01"}
        ]}"#;
        let e = parse(RecordKind::Orders, "orders.json", text).expect_err("total is a string");
        assert_eq!(e.kind(), TenantErrorKind::Input);
        let shown = e.to_string();
        assert!(
            shown.starts_with(
                "orders.json: order #3 (id ORD-10234): field \"total\": invalid type: string \"12\""
            ),
            "{shown}"
        );
    }

    #[test]
    fn a_missing_shopify_field_is_named_as_shopify_names_it() {
        let text = r#"[{"order_id":"ORD-1","customer_id":"c","customer_email":"a@b","status":"paid","items":[],"subtotal":1,"shipping_cost":0,"total":1,"order_date":"2026-01-01"}]"#;
        let e = parse(RecordKind::Orders, "orders.json", text).expect_err("no number");
        assert_eq!(e.field(), Some("order_number"), "{e}");
        assert_eq!(
            e.to_string(),
            "orders.json: order #1 (id ORD-1): field \"order_number\": missing"
        );
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let text = r#"{"accounts":[
          {"customer_id":"p1","points_balance":1,"tier":"Bronze","points_to_next_tier":1,"points_expiring_30_days":0,"auto_delivery_subscriber":false},
          {"customer_id":"p1","points_balance":2,"tier":"Bronze","points_to_next_tier":1,"points_expiring_30_days":0,"auto_delivery_subscriber":false}]}"#;
        let e = parse(RecordKind::Loyalty, "loyalty.json", text).expect_err("dup");
        assert_eq!(e.kind(), TenantErrorKind::Duplicate);
        assert_eq!(e.record(), Some("account #2 (id p1)"));
    }

    #[test]
    fn the_shared_sample_converts() {
        let base = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/brewvi");
        for (kind, file) in [
            (RecordKind::Products, "shopify/products.json"),
            (RecordKind::Orders, "shopify/orders.json"),
            (RecordKind::Customers, "customers/personas.json"),
            (RecordKind::Loyalty, "knowledge-base/loyalty-program.json"),
        ] {
            let Ok(text) = std::fs::read_to_string(format!("{base}/{file}")) else {
                panic!("the shared BrewVi sample is at {base}/{file}");
            };
            let set = parse(kind, file, &text).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                set.count > 0 && set.converted == set.count,
                "{kind:?}: {set:?}"
            );
        }
    }
}
