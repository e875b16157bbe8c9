//! The gateway's OpenAPI 3.1 document, generated from the handlers'
//! annotations, served at `/openapi.json` and kept in `schemas/` (a test
//! fails when the two drift).

use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
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
    ),
    modifiers(&BearerAuth)
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
