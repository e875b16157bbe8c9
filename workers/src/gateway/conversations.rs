//! One conversation: post a message, a reply or a close; read it back.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use switchboard_engine::ids::{ConversationId, ConversationKey, StreamSeq, Tenant};
use switchboard_engine::projection::{DocKeys, document::ConversationDoc};
use switchboard_engine::store::Until;

use super::body::{JsonBody, PathOf, QueryOf};
use super::keys::Role;
use super::problem::Problem;
use super::{Gateway, Shared};
use crate::intake::{CloseRequest, CustomerMessage, MessageRequest, ReplyRequest, Stored};
use crate::timeline::Timeline;

/// Path of one conversation.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ConversationPath {
    /// The tenant (the API key's own).
    pub tenant: String,
    /// The conversation id (letters, digits, `-`, `_`).
    pub id: String,
}

/// Roles that may read a conversation.
pub(super) const READERS: &[Role] = &[Role::Publish, Role::Operate, Role::Audit];

/// Admits the caller for `path` and builds the conversation's key.
pub(super) async fn admit(
    gw: &Gateway,
    headers: &HeaderMap,
    path: &ConversationPath,
    roles: &[Role],
) -> Result<ConversationKey, Problem> {
    let caller = gw.guard.admit(headers, &path.tenant, roles).await?;
    let id = ConversationId::new(&path.id)
        .map_err(|e| Problem::bad_request(format!("conversation id in the path: {e}")))?;
    Ok(ConversationKey::new(caller.tenant, id))
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            Problem::bad_request("Idempotency-Key must be 1 to 200 printable ASCII characters")
        })?;
    Ok(Some(key.to_owned()))
}

/// 201 for a new event, 200 with the first result for a repeated request.
fn stored_response(stored: Stored) -> Response {
    let status = if stored.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    (status, Json(stored)).into_response()
}

/// Appends a customer message (`received`).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/conversations/{id}/messages",
    params(ConversationPath, ("Idempotency-Key" = Option<String>, Header, description = "makes a retry safe: the same key returns the first result")),
    request_body = MessageRequest,
    responses(
        (status = 201, description = "stored", body = Stored),
        (status = 200, description = "already stored by an earlier request", body = Stored),
        (status = 400, description = "invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "no or unknown key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such tenant", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "body too large", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "rate limited", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn post_message(
    State(gw): Shared,
    PathOf(path): PathOf<ConversationPath>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<MessageRequest>,
) -> Result<Response, Problem> {
    let key = admit(&gw, &headers, &path, &[Role::Publish, Role::Operate]).await?;
    let fallback = idempotency_key(&headers)?;
    let message = CustomerMessage::build(key, request, fallback.as_deref())?;
    Ok(stored_response(gw.intake.receive(&message).await?))
}

/// Appends a human agent's reply (`human_replied`): the agents stop answering.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/conversations/{id}/replies",
    params(ConversationPath, ("Idempotency-Key" = Option<String>, Header, description = "makes a retry safe within two minutes")),
    request_body = ReplyRequest,
    responses(
        (status = 201, description = "stored", body = Stored),
        (status = 200, description = "already stored by an earlier request", body = Stored),
        (status = 400, description = "invalid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such conversation", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn post_reply(
    State(gw): Shared,
    PathOf(path): PathOf<ConversationPath>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<ReplyRequest>,
) -> Result<Response, Problem> {
    let key = admit(&gw, &headers, &path, &[Role::Operate]).await?;
    let request_key = idempotency_key(&headers)?;
    let stored = gw
        .intake
        .reply(&key, request, request_key.as_deref())
        .await?;
    Ok(stored_response(stored))
}

/// Closes the conversation (`closed`).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/conversations/{id}/close",
    params(ConversationPath, ("Idempotency-Key" = Option<String>, Header, description = "makes a retry safe within two minutes")),
    request_body = CloseRequest,
    responses(
        (status = 201, description = "stored", body = Stored),
        (status = 200, description = "already stored by an earlier request", body = Stored),
        (status = 404, description = "no such conversation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "already closed", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn post_close(
    State(gw): Shared,
    PathOf(path): PathOf<ConversationPath>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<CloseRequest>,
) -> Result<Response, Problem> {
    let key = admit(&gw, &headers, &path, &[Role::Operate]).await?;
    let request_key = idempotency_key(&headers)?;
    let stored = gw
        .intake
        .close(&key, request, request_key.as_deref())
        .await?;
    Ok(stored_response(stored))
}

/// The conversation as the projections hold it.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/conversations/{id}",
    params(ConversationPath),
    responses(
        (status = 200, description = "the conversation document", body = Object),
        (status = 404, description = "not projected (yet)", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn get_conversation(
    State(gw): Shared,
    PathOf(path): PathOf<ConversationPath>,
    headers: HeaderMap,
) -> Result<Json<ConversationDoc>, Problem> {
    let key = admit(&gw, &headers, &path, READERS).await?;
    let docs = gw
        .projections
        .get(&DocKeys {
            conversations: vec![key.clone()],
            ..DocKeys::default()
        })
        .await
        .map_err(|e| Problem::unavailable(format!("projection store: {e}")))?;
    docs.conversations
        .into_iter()
        .next()
        .map(Json)
        .ok_or_else(|| {
            Problem::not_found(format!(
                "conversation {key} is not in the projections (yet)"
            ))
        })
}

/// How far to read.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UntilParams {
    /// Stop after this stream sequence.
    pub until_seq: Option<u64>,
    /// Stop after this time (RFC 3339).
    pub until_time: Option<DateTime<Utc>>,
}

/// The conversation's timeline from the log, up to a point.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/conversations/{id}/events",
    params(ConversationPath, UntilParams),
    responses(
        (status = 200, description = "the timeline", body = Timeline),
        (status = 404, description = "no events", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn get_events(
    State(gw): Shared,
    PathOf(path): PathOf<ConversationPath>,
    QueryOf(until): QueryOf<UntilParams>,
    headers: HeaderMap,
) -> Result<Json<Timeline>, Problem> {
    let key = admit(&gw, &headers, &path, READERS).await?;
    let until = match (until.until_seq, until.until_time) {
        (Some(_), Some(_)) => {
            return Err(Problem::bad_request(
                "give until_seq or until_time, not both",
            ));
        }
        (Some(seq), None) => Until::Seq(StreamSeq::new(seq)),
        (None, Some(time)) => Until::Time(time),
        (None, None) => Until::End,
    };
    let loaded = gw
        .store()
        .load_until(&key, until)
        .await
        .map_err(|e| Problem::unavailable(e.to_string()))?;
    if loaded.events.is_empty() && loaded.rejected.is_empty() {
        return Err(Problem::not_found(format!(
            "conversation {key} has no events"
        )));
    }
    Ok(Json(Timeline::of(&loaded)))
}

/// The tenant of a path that names only a tenant.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TenantPath {
    /// The tenant (the API key's own).
    pub tenant: String,
}

impl TenantPath {
    /// Admits the caller for this tenant.
    pub(super) async fn admit(
        &self,
        gw: &Gateway,
        headers: &HeaderMap,
        roles: &[Role],
    ) -> Result<Tenant, Problem> {
        Ok(gw.guard.admit(headers, &self.tenant, roles).await?.tenant)
    }
}
