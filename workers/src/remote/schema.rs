//! JSON Schemas for structured output, in the subset strict mode accepts.
//!
//! schemars describes our output types fully; OpenAI/Azure strict mode wants
//! less and more: every object closed (`additionalProperties: false`) with
//! every property required (optional ones are nullable instead), no `format`
//! or `default`, no `oneOf`, no `$ref` siblings. [`strict_schema`] generates
//! with subschemas inlined and rewrites the result into that shape.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

/// The strict-mode schema for `T`.
pub(crate) fn strict_schema<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let mut value = generator.into_root_schema_for::<T>().to_value();
    if let Value::Object(map) = &mut value {
        map.remove("$schema");
        strictify(map);
    }
    value
}

/// Keywords strict mode rejects or that only add noise.
const DROPPED: [&str; 3] = ["format", "default", "title"];

/// Rewrites one schema object in place, then its subschemas.
fn strictify(schema: &mut Map<String, Value>) {
    for key in DROPPED {
        schema.remove(key);
    }
    if let Some(Value::Array(variants)) = schema.remove("oneOf") {
        collapse_one_of(schema, variants);
    }
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        props.values_mut().for_each(strictify_value);
        let required = props.keys().cloned().map(Value::String).collect();
        schema.insert("required".into(), Value::Array(required));
        schema.insert("additionalProperties".into(), Value::Bool(false));
    }
    for key in ["items", "not", "additionalProperties"] {
        if let Some(sub) = schema.get_mut(key) {
            strictify_value(sub);
        }
    }
    for key in ["anyOf", "allOf", "prefixItems"] {
        if let Some(Value::Array(subs)) = schema.get_mut(key) {
            subs.iter_mut().for_each(strictify_value);
        }
    }
}

/// Items per array in a [`bounded`] schema.
const MAX_ITEMS: u64 = 8;

/// `schema` with every array capped at [`MAX_ITEMS`] items, for servers
/// that turn the schema into a decoding grammar (llama.cpp): a small model
/// otherwise repeats array items until `max_tokens` cuts the answer off.
/// Strict mode on Azure/OpenAI does not take the keyword, so only the
/// `json_object+schema` format sends it. (Strings are not capped:
/// llama-cpp-python 0.3.36 segfaults on a `maxLength` grammar.)
pub(crate) fn bounded(schema: &Value) -> Value {
    let mut out = schema.clone();
    bound(&mut out);
    out
}

fn bound(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("type").is_some_and(|t| t == "array") {
                map.insert("maxItems".into(), MAX_ITEMS.into());
            }
            map.values_mut().for_each(bound);
        }
        Value::Array(items) => items.iter_mut().for_each(bound),
        _ => {}
    }
}

fn strictify_value(value: &mut Value) {
    if let Value::Object(map) = value {
        strictify(map);
    }
}

/// `oneOf` of documented enum variants (each `{const, description}`) becomes
/// a plain `enum`, the descriptions folded into the parent's; any other
/// `oneOf` becomes `anyOf` (our outputs are never ambiguous).
fn collapse_one_of(schema: &mut Map<String, Value>, variants: Vec<Value>) {
    let consts: Option<Vec<(Value, Option<String>)>> = variants
        .iter()
        .map(|v| {
            let c = v.get("const")?.clone();
            let d = v
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned);
            Some((c, d))
        })
        .collect();
    let Some(consts) = consts else {
        schema.insert("anyOf".into(), Value::Array(variants));
        return;
    };
    let notes: Vec<String> = consts
        .iter()
        .filter_map(|(c, d)| Some(format!("{}: {}", c.as_str()?, d.as_deref()?)))
        .collect();
    if !notes.is_empty() {
        let own = schema.get("description").and_then(Value::as_str);
        let joined = own
            .into_iter()
            .map(str::to_owned)
            .chain(notes)
            .collect::<Vec<_>>();
        schema.insert("description".into(), Value::String(joined.join("; ")));
    }
    schema.insert("type".into(), Value::String("string".into()));
    let values = consts.into_iter().map(|(c, _)| c).collect();
    schema.insert("enum".into(), Value::Array(values));
}

#[cfg(test)]
mod tests {

    #[test]
    fn bounded_schemas_cap_arrays() {
        let schema = serde_json::json!({"type": "object", "properties": {
            "findings": {"type": "array", "items": {"type": "object", "properties": {
                "rule": {"type": "string"}, "kind": {"type": "string", "enum": ["a", "b"]}}}},
            "note": {"type": ["string", "null"]}}});
        let b = bounded(&schema);
        assert_eq!(b["properties"]["findings"]["maxItems"], 8);
        let item = &b["properties"]["findings"]["items"]["properties"];
        assert!(
            item["rule"].get("maxLength").is_none(),
            "strings are not capped"
        );
        assert!(schema["properties"]["findings"].get("maxItems").is_none());
    }

    use super::*;
    use serde::Deserialize;
    use switchboard_engine::event::catalog::{Entities, Intent, Sentiment};

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Example {
        /// The label.
        intent: Intent,
        sentiment: Sentiment,
        score: f32,
        entities: Entities,
        tags: Vec<String>,
    }

    fn walk<'a>(v: &'a Value, out: &mut Vec<&'a Map<String, Value>>) {
        match v {
            Value::Object(m) => {
                out.push(m);
                m.values().for_each(|c| walk(c, out));
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, out)),
            _ => {}
        }
    }

    #[test]
    fn every_object_is_closed_and_fully_required() {
        let schema = strict_schema::<Example>();
        let mut objects = Vec::new();
        walk(&schema, &mut objects);
        for m in objects.iter().filter(|m| m.contains_key("properties")) {
            assert_eq!(m["additionalProperties"], Value::Bool(false));
            let props = m["properties"]
                .as_object()
                .expect("properties is an object");
            let required = m["required"].as_array().expect("required is an array");
            assert_eq!(required.len(), props.len(), "{m:?}");
        }
        let text = schema.to_string();
        for banned in [
            "\"$ref\"",
            "\"oneOf\"",
            "\"format\"",
            "\"$schema\"",
            "\"default\"",
        ] {
            assert!(!text.contains(banned), "{banned} in {text}");
        }
    }

    #[test]
    fn enums_become_plain_string_enums() {
        let schema = strict_schema::<Example>();
        let intents = schema["properties"]["intent"]["enum"]
            .as_array()
            .expect("intent is an enum");
        assert_eq!(intents.len(), 17);
        assert!(intents.contains(&Value::String("ORDER_STATUS".into())));
        let sentiment = &schema["properties"]["sentiment"];
        assert_eq!(sentiment["type"], "string");
        assert_eq!(sentiment["enum"].as_array().map(Vec::len), Some(4));
        let description = sentiment["description"].as_str().unwrap_or_default();
        assert!(
            description.contains("very_negative: Angry"),
            "{description}"
        );
        let email = &schema["properties"]["entities"]["properties"]["email"];
        assert_eq!(email["type"], serde_json::json!(["string", "null"]));
    }
}
