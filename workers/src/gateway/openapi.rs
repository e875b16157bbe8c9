//! The gateway's OpenAPI 3.1 document, generated from the handlers'
//! annotations, served at `/openapi.json` and kept in `schemas/` (a test
//! fails when the two drift).

use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The failures any keyed route can answer, as problem details: added to
/// every operation that takes a key so the document lists every status a
/// client can see (what schemathesis checks).
const COMMON_FAILURES: [(&str, &str); 9] = [
    ("400", "invalid request or id"),
    ("401", "no, unknown or revoked API key"),
    ("403", "the key's role may not do this"),
    ("404", "no such tenant, conversation or route"),
    ("413", "body larger than 128 KiB"),
    ("415", "a body that is not application/json"),
    ("422", "JSON of the wrong shape"),
    ("429", "rate limited (Retry-After)"),
    ("503", "the log or the projection store is unreachable"),
];

struct CommonFailures;

impl Modify for CommonFailures {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                if operation.security.is_none() {
                    continue;
                }
                for (status, description) in COMMON_FAILURES {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| problem_response(description).into());
                }
            }
        }
    }
}

fn problem_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.post,
        &mut item.put,
        &mut item.delete,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchboard gateway",
        description = "Channels post customer messages; operators answer, close and query; auditors export. Every error is application/problem+json."
    ),
    paths(
        super::healthz,
        super::readyz,
        super::conversations::post_message,
        super::conversations::get_conversation,
        super::conversations::get_events,
        super::stream::events_stream,
        super::conversations::post_reply,
        super::conversations::post_close,
        super::queries::list_conversations,
        super::queries::escalation_queue,
        super::queries::analytics,
        super::queries::audit_export,
        super::queries::audit_verify,
        super::queries::audit_public_key,
        super::privacy::erase_customer,
        super::privacy::export_customer,
    ),
    components(schemas(super::problem::Problem)),
    modifiers(&BearerAuth, &CommonFailures)
)]
struct ApiDoc;

/// The document, as JSON text (pretty, stable order).
pub fn document() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

pub(super) async fn serve() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        document(),
    )
        .into_response()
}
