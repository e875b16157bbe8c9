//! JSON Schemas of the event payloads, generated from the Rust types.
//!
//! `schemas/<type>/v<version>.json` in the repository is the published
//! contract; [`current_schema`] is what this build's types describe. A test
//! fails when the two drift apart, and `switchboard schemas export` rewrites
//! the current versions after a deliberate change (an incompatible change
//! must add a version and an upcaster instead; see [`super::codec::upcast`]).

use schemars::{JsonSchema, SchemaGenerator};

use super::EventType;
use super::catalog::*;

fn generate<T: JsonSchema>() -> serde_json::Value {
    SchemaGenerator::default()
        .into_root_schema_for::<T>()
        .to_value()
}

/// The schema of the current version of `event_type`, with `$id` set to its
/// `dataschema` URI.
pub fn current_schema(event_type: EventType) -> serde_json::Value {
    let mut schema = match event_type {
        EventType::Received => generate::<Received>(),
        EventType::Screened => generate::<Screened>(),
        EventType::Classified => generate::<Classified>(),
        EventType::Retrieved => generate::<Retrieved>(),
        EventType::Drafted => generate::<Drafted>(),
        EventType::Validated => generate::<Validated>(),
        EventType::Escalated => generate::<Escalated>(),
        EventType::Responded => generate::<Responded>(),
        EventType::HumanReplied => generate::<HumanReplied>(),
        EventType::Closed => generate::<Closed>(),
        EventType::Failed => generate::<Failed>(),
        EventType::Erased => generate::<Erased>(),
    };
    if let Some(map) = schema.as_object_mut() {
        map.insert(
            "$id".into(),
            event_type.schema_uri(event_type.current_version()).into(),
        );
    }
    schema
}

/// Path of a schema file relative to the `schemas/` directory.
pub fn schema_path(event_type: EventType, version: u32) -> String {
    format!("{}/v{}.json", event_type.as_str(), version)
}

/// The file text for the current schema of `event_type` (pretty JSON plus a
/// trailing newline), as `switchboard schemas export` writes it.
pub fn current_schema_text(event_type: EventType) -> String {
    let mut text = serde_json::to_string_pretty(&current_schema(event_type))
        .expect("a serde_json::Value always serialises");
    text.push('\n');
    text
}
