//! Tests for the wire shape: URLs, auth headers and request bodies.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::*;
use crate::remote::config::TokenError;

fn azure(auth: AzureAuth) -> Endpoint {
    Endpoint::Azure {
        endpoint: "https://contoso.openai.azure.com/".into(),
        deployment: "gpt-4o-prod".into(),
        api_version: "2024-10-21".into(),
        auth,
    }
}

fn compat(api_key: Option<&str>) -> Endpoint {
    Endpoint::OpenAiCompatible {
        base_url: "http://127.0.0.1:8080/v1/".into(),
        model: "smollm2".into(),
        api_key: api_key.map(Secret::new),
    }
}

struct FixedToken;

impl TokenProvider for FixedToken {
    fn token(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        Box::pin(async { Ok(Secret::new("entra-token")) })
    }
}

struct BrokenToken;

impl TokenProvider for BrokenToken {
    fn token(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        Box::pin(async { Err(TokenError("no managed identity".into())) })
    }
}

#[tokio::test]
async fn azure_api_key_url_and_header() {
    let target = Target::new(&azure(AzureAuth::ApiKey(Secret::new("k1")))).expect("valid");
    assert_eq!(
        target.url,
        "https://contoso.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21"
    );
    let headers = target.headers().await.expect("static key");
    assert_eq!(headers["api-key"], "k1");
    assert!(headers["api-key"].is_sensitive());
    assert!(headers.get(AUTHORIZATION).is_none());
    assert_eq!(headers[CONTENT_TYPE], "application/json");
}

#[tokio::test]
async fn azure_bearer_token_header() {
    let target = Target::new(&azure(AzureAuth::BearerToken(Arc::new(FixedToken)))).expect("valid");
    let headers = target.headers().await.expect("token provided");
    assert_eq!(headers[AUTHORIZATION], "Bearer entra-token");
    assert!(headers.get("api-key").is_none());

    let broken = Target::new(&azure(AzureAuth::BearerToken(Arc::new(BrokenToken)))).expect("valid");
    let err = broken.headers().await.expect_err("provider fails");
    assert_eq!(err.kind(), crate::remote::RemoteErrorKind::Auth);
}

#[tokio::test]
async fn compatible_url_and_optional_bearer() {
    let anonymous = Target::new(&compat(None)).expect("valid");
    assert_eq!(anonymous.url, "http://127.0.0.1:8080/v1/chat/completions");
    let headers = anonymous.headers().await.expect("no auth");
    assert!(headers.get(AUTHORIZATION).is_none());
    let keyed = Target::new(&compat(Some("sk-1"))).expect("valid");
    assert_eq!(
        keyed.headers().await.expect("key")[AUTHORIZATION],
        "Bearer sk-1"
    );
}

#[test]
fn bad_config_is_rejected_before_any_io() {
    let Endpoint::Azure { auth, .. } = azure(AzureAuth::ApiKey(Secret::new("k"))) else {
        unreachable!("azure() builds an Azure endpoint")
    };
    let bad = Endpoint::Azure {
        endpoint: "https://x.openai.azure.com".into(),
        deployment: "a/../b".into(),
        api_version: "2024-10-21".into(),
        auth,
    };
    assert!(Target::new(&bad).is_err());
    let no_scheme = Endpoint::OpenAiCompatible {
        base_url: "localhost:8080".into(),
        model: "m".into(),
        api_key: None,
    };
    let err = Target::new(&no_scheme).err();
    assert!(err.is_none_or(|e| e.kind() == crate::remote::RemoteErrorKind::Config));
    assert!(check_schema_name("classification").is_ok());
    assert!(check_schema_name("has space").is_err());
    assert!(check_schema_name("").is_err());
}

fn schema() -> Value {
    json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "additionalProperties": false})
}

#[test]
fn strict_body_carries_schema_and_max_tokens() {
    let endpoint = azure(AzureAuth::ApiKey(Secret::new("k")));
    let request = body(
        &endpoint,
        ("sys", "hello"),
        ("thing", &schema()),
        Format::Strict,
        300,
    );
    let json = serde_json::to_value(&request).expect("serialisable");
    assert_eq!(json["model"], "gpt-4o-prod");
    assert_eq!(
        json["messages"],
        json!([{"role": "system", "content": "sys"}, {"role": "user", "content": "hello"}])
    );
    assert_eq!(
        json["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "thing", "schema": schema(), "strict": true}})
    );
    assert_eq!(json["max_tokens"], 300);
    assert!(json.get("max_completion_tokens").is_none());
    assert_eq!(json["temperature"], 0.0);
    assert!(json.get("stream").is_none_or(Value::is_null));
}

#[test]
fn json_object_body_puts_schema_in_prompt() {
    let request = body(
        &compat(None),
        ("sys", "hi"),
        ("thing", &schema()),
        Format::JsonObject,
        64,
    );
    let json = serde_json::to_value(&request).expect("serialisable");
    assert_eq!(json["model"], "smollm2");
    assert_eq!(json["response_format"], json!({"type": "json_object"}));
    let system = json["messages"][0]["content"]
        .as_str()
        .expect("text content");
    assert!(system.starts_with("sys\n\n"));
    assert!(system.contains(&schema().to_string()));
    assert_eq!(json["max_tokens"], 64);
}

#[test]
fn json_object_with_schema_body_constrains_decoding_too() {
    let json = body(
        &compat(None),
        ("sys", "hi"),
        ("thing", &schema()),
        Format::JsonObjectSchema,
        64,
    );
    assert_eq!(
        json["response_format"],
        json!({"type": "json_object", "schema": schema()})
    );
    let system = json["messages"][0]["content"]
        .as_str()
        .expect("text content");
    assert!(system.contains(&schema().to_string()));
    let labels: Vec<_> = Format::LADDER.iter().map(|f| f.label()).collect();
    assert_eq!(labels, ["json_schema", "json_object+schema", "json_object"]);
}
