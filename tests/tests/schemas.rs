//! The JSON Schemas in `schemas/` against the Rust types: they must not
//! drift apart, and every event this build writes must validate.

mod support;

use std::path::PathBuf;

use switchboard_engine::event::EventType;
use switchboard_engine::event::codec::encode;
use switchboard_engine::event::schema::{current_schema_text, schema_path};

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

fn committed(t: EventType) -> serde_json::Value {
    let path = schemas_dir().join(schema_path(t, t.current_version()));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn committed_schemas_match_the_rust_types() {
    for t in EventType::ALL {
        let path = schemas_dir().join(schema_path(t, t.current_version()));
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            on_disk,
            current_schema_text(t),
            "{} drifted from the Rust type; run `switchboard schemas export` for a compatible change, or add a version",
            path.display()
        );
    }
}

#[test]
fn every_schema_file_names_a_known_type_and_version() {
    for entry in std::fs::read_dir(schemas_dir()).expect("schemas/ exists") {
        let entry = entry.expect("readable entry");
        if !entry.path().is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let t: EventType = name
            .parse()
            .unwrap_or_else(|_| panic!("schemas/{name} is not an event type"));
        for file in std::fs::read_dir(entry.path()).expect("readable dir") {
            let file = file
                .expect("readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            let version: u32 = file
                .strip_prefix('v')
                .and_then(|v| v.strip_suffix(".json"))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("schemas/{name}/{file} is not v<N>.json"));
            assert!(
                version >= 1 && version <= t.current_version(),
                "schemas/{name}/{file}"
            );
        }
    }
}

#[test]
fn encoded_events_validate_and_strictness_is_in_the_schema() {
    let key = support::key("acme/schemas");
    let events = support::one_of_each(&key);
    let types: std::collections::HashSet<_> = events.iter().map(|e| e.event_type()).collect();
    assert_eq!(types.len(), EventType::ALL.len(), "one sample per type");
    for event in &events {
        let t = event.event_type();
        let validator = jsonschema::validator_for(&committed(t)).expect("schema compiles");
        let wire = encode(event);
        let mut body: serde_json::Value = serde_json::from_slice(&wire.payload).expect("json");
        assert!(validator.is_valid(&body), "{t}: {body}");
        body["unexpected_field"] = serde_json::json!(true);
        assert!(
            !validator.is_valid(&body),
            "{t}: unknown fields must be refused"
        );
    }
    let received =
        jsonschema::validator_for(&committed(EventType::Received)).expect("schema compiles");
    assert!(
        !received.is_valid(&serde_json::json!({"channel": "web"})),
        "missing fields must be refused"
    );
}
