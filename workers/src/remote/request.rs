//! What goes on the wire: the URL, the auth headers and the request body.
//!
//! The body is async-openai's `CreateChatCompletionRequest`, so field names
//! and the `response_format` shape follow the OpenAI protocol exactly; the
//! URL and headers are built here because Azure needs a deployment URL with
//! `api-version` and either `api-key` or an Entra ID bearer token.

use std::sync::Arc;

use async_openai::types::chat::{
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestSystemMessageContent, ChatCompletionRequestUserMessage,
    ChatCompletionRequestUserMessageContent, CreateChatCompletionRequest, ResponseFormat,
    ResponseFormatJsonSchema,
};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::Value;

use super::config::{AzureAuth, Endpoint, Secret, TokenProvider};
use super::error::RemoteError;

/// Where requests go and how they authenticate.
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) url: String,
    auth: Auth,
}

#[derive(Clone)]
enum Auth {
    None,
    ApiKey(Secret),
    Bearer(Secret),
    Provider(Arc<dyn TokenProvider>),
}

impl Target {
    /// The chat-completions URL for an endpoint; validated once, at start-up.
    pub(crate) fn new(endpoint: &Endpoint) -> Result<Self, RemoteError> {
        let (url, auth) = match endpoint {
            Endpoint::Azure {
                endpoint,
                deployment,
                api_version,
                auth,
            } => {
                check_token("deployment", deployment)?;
                check_token("api_version", api_version)?;
                let base = endpoint.trim_end_matches('/');
                let url = format!(
                    "{base}/openai/deployments/{deployment}/chat/completions?api-version={api_version}"
                );
                let auth = match auth {
                    AzureAuth::ApiKey(key) => Auth::ApiKey(key.clone()),
                    AzureAuth::BearerToken(provider) => Auth::Provider(provider.clone()),
                };
                (url, auth)
            }
            Endpoint::OpenAiCompatible {
                base_url, api_key, ..
            } => {
                let url = format!("{}/chat/completions", base_url.trim_end_matches('/'));
                (url, api_key.clone().map_or(Auth::None, Auth::Bearer))
            }
        };
        reqwest::Url::parse(&url).map_err(|e| RemoteError::Config(format!("endpoint URL: {e}")))?;
        Ok(Self { url, auth })
    }

    /// Headers for one attempt (a provider's token is fetched each time; the
    /// provider caches).
    pub(crate) async fn headers(&self) -> Result<HeaderMap, RemoteError> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        match &self.auth {
            Auth::None => {}
            Auth::ApiKey(key) => {
                headers.insert("api-key", secret_header(key.expose())?);
            }
            Auth::Bearer(token) => {
                headers.insert(AUTHORIZATION, bearer(token)?);
            }
            Auth::Provider(provider) => {
                let token = provider
                    .token()
                    .await
                    .map_err(|e| RemoteError::Auth(e.to_string()))?;
                headers.insert(AUTHORIZATION, bearer(&token)?);
            }
        }
        Ok(headers)
    }
}

fn bearer(token: &Secret) -> Result<HeaderValue, RemoteError> {
    secret_header(&format!("Bearer {}", token.expose()))
}

/// A header value marked sensitive (kept out of reqwest's debug output).
fn secret_header(value: &str) -> Result<HeaderValue, RemoteError> {
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| RemoteError::Config("credential is not a valid header value".into()))?;
    value.set_sensitive(true);
    Ok(value)
}

/// Deployment and version go into the URL: refuse anything that would
/// change its shape.
fn check_token(what: &str, value: &str) -> Result<(), RemoteError> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then_some(())
        .ok_or_else(|| RemoteError::Config(format!("invalid {what}: {value:?}")))
}

/// How the answer's shape is requested, most constrained first. Servers
/// differ: Azure and OpenAI take `json_schema`; llama.cpp's servers refuse
/// it but constrain decoding to a `schema` given beside `json_object`;
/// others know only plain `json_object`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `response_format: json_schema` with `strict: true`.
    Strict,
    /// `response_format: {type: json_object, schema}`, the schema also
    /// spelled out in the prompt.
    JsonObjectSchema,
    /// `response_format: json_object`, the schema spelled out in the prompt.
    JsonObject,
}

impl Format {
    /// Every format, in the order they are tried.
    pub(crate) const LADDER: [Format; 3] =
        [Format::Strict, Format::JsonObjectSchema, Format::JsonObject];

    /// A stable label for logs and metrics.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Strict => "json_schema",
            Self::JsonObjectSchema => "json_object+schema",
            Self::JsonObject => "json_object",
        }
    }
}

/// The request body for one structured call, as JSON (the `schema` key
/// beside `json_object` is not in the OpenAI protocol types).
pub(crate) fn body(
    endpoint: &Endpoint,
    (system, user): (&str, &str),
    (schema_name, schema): (&str, &Value),
    format: Format,
    max_tokens: u32,
) -> Value {
    let (system, response_format) = match format {
        Format::Strict => (
            system.to_owned(),
            ResponseFormat::JsonSchema {
                json_schema: ResponseFormatJsonSchema {
                    description: None,
                    name: schema_name.to_owned(),
                    schema: schema.clone(),
                    strict: Some(true),
                },
            },
        ),
        Format::JsonObjectSchema | Format::JsonObject => (
            format!(
                "{system}\n\nReply with one JSON object only, no prose, matching this JSON Schema:\n{schema}"
            ),
            ResponseFormat::JsonObject,
        ),
    };
    let messages = vec![
        ChatCompletionRequestMessage::System(ChatCompletionRequestSystemMessage {
            content: ChatCompletionRequestSystemMessageContent::Text(system),
            name: None,
        }),
        ChatCompletionRequestMessage::User(ChatCompletionRequestUserMessage {
            content: ChatCompletionRequestUserMessageContent::Text(user.to_owned()),
            name: None,
        }),
    ];
    // `max_tokens` is deprecated upstream in favour of `max_completion_tokens`,
    // but llama.cpp honours only `max_tokens` and Azure chat models accept it.
    #[allow(deprecated)]
    let request = CreateChatCompletionRequest {
        model: endpoint.model_name().to_owned(),
        messages,
        response_format: Some(response_format),
        max_tokens: Some(max_tokens),
        temperature: Some(0.0),
        n: Some(1),
        ..Default::default()
    };
    // A plain struct of strings and numbers always serialises.
    let mut body = serde_json::to_value(request).unwrap_or_default();
    if format == Format::JsonObjectSchema
        && let Some(rf) = body
            .get_mut("response_format")
            .and_then(Value::as_object_mut)
    {
        rf.insert("schema".into(), super::schema::bounded(schema));
    }
    body
}

/// Schema names must be `[a-zA-Z0-9_-]{1,64}` (OpenAI's rule).
pub(crate) fn check_schema_name(name: &str) -> Result<(), RemoteError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    ok.then_some(())
        .ok_or_else(|| RemoteError::Config(format!("invalid schema name: {name:?}")))
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
