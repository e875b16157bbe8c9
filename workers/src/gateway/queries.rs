//! A tenant's lists, queue, analytics and audit: the projections' typed
//! queries and the audit module, with the filters `switchboard query` and
//! `switchboard audit` take.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Json, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use switchboard_engine::ids::{ConversationId, Tenant};
use switchboard_engine::projection::{ConversationStatus, Query, QueryResult, Scope, run_query};

use super::Shared;
use super::body::{PathOf, QueryOf};
use super::conversations::TenantPath;
use super::keys::Role;
use super::problem::Problem;
use crate::audit::{self, ExportFilter, Verified};

/// The scope filters of every query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScopeParams {
    /// First start day included (YYYY-MM-DD, UTC).
    pub from: Option<NaiveDate>,
    /// Last start day included (YYYY-MM-DD, UTC).
    pub to: Option<NaiveDate>,
    /// Only this channel.
    pub channel: Option<String>,
    /// Only this status: `open`, `with_human`, `closed` (conversations).
    pub status: Option<String>,
    /// Case-insensitive search in id, customer, intent or last response (conversations).
    pub search: Option<String>,
    /// Only this queue (escalations).
    pub queue: Option<String>,
    /// At most this many rows (default 50, at most 500).
    pub limit: Option<usize>,
}

impl ScopeParams {
    fn scope(&self, tenant: Tenant) -> Scope {
        Scope {
            tenant,
            from: self.from,
            to: self.to,
            channel: self.channel.clone(),
        }
    }

    fn limit(&self) -> Result<usize, Problem> {
        match self.limit.unwrap_or(50) {
            0 => Err(Problem::bad_request("limit must be at least 1")),
            n if n > 500 => Err(Problem::bad_request("limit is at most 500")),
            n => Ok(n),
        }
    }

    fn status(&self) -> Result<Option<ConversationStatus>, Problem> {
        self.status
            .as_deref()
            .map(|s| match s {
                "open" => Ok(ConversationStatus::Open),
                "with_human" => Ok(ConversationStatus::WithHuman),
                "closed" => Ok(ConversationStatus::Closed),
                other => Err(Problem::bad_request(format!(
                    "status {other:?}: give open, with_human or closed"
                ))),
            })
            .transpose()
    }
}

const ANALYSTS: &[Role] = &[Role::Operate, Role::Audit];

async fn answer(gw: &super::Gateway, query: Query) -> Result<Json<QueryResult>, Problem> {
    run_query(gw.projections.as_ref(), &query)
        .await
        .map(Json)
        .map_err(|e| Problem::unavailable(format!("projection store: {e}")))
}

/// Conversations, newest first.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/conversations",
    params(TenantPath, ScopeParams),
    responses((status = 200, description = "conversations", body = Object),
        (status = 400, description = "bad filter", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn list_conversations(
    State(gw): Shared,
    PathOf(path): PathOf<TenantPath>,
    QueryOf(params): QueryOf<ScopeParams>,
    headers: HeaderMap,
) -> Result<Json<QueryResult>, Problem> {
    let tenant = path.admit(&gw, &headers, ANALYSTS).await?;
    let query = Query::Conversations {
        status: params.status()?,
        search: params.search.clone(),
        limit: params.limit()?,
        scope: params.scope(tenant),
    };
    answer(&gw, query).await
}

/// The human queue, most urgent first.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/escalations",
    params(TenantPath, ScopeParams),
    responses((status = 200, description = "waiting escalations", body = Object)),
    security(("bearer" = [])))]
pub(super) async fn escalation_queue(
    State(gw): Shared,
    PathOf(path): PathOf<TenantPath>,
    QueryOf(params): QueryOf<ScopeParams>,
    headers: HeaderMap,
) -> Result<Json<QueryResult>, Problem> {
    let tenant = path.admit(&gw, &headers, ANALYSTS).await?;
    let query = Query::EscalationQueue {
        tenant,
        queue: params.queue.clone(),
        limit: params.limit()?,
    };
    answer(&gw, query).await
}

/// Path of an analytics query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AnalyticsPath {
    /// The tenant.
    pub tenant: String,
    /// `intent-distribution`, `escalation-rate`, `automation-rate`,
    /// `first-response-time`, `volume-per-day`, `critic-blocks` or
    /// `model-usage`.
    pub query: String,
}

/// One analytics query over a scope.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/analytics/{query}",
    params(AnalyticsPath, ScopeParams),
    responses((status = 200, description = "the answer", body = Object),
        (status = 404, description = "no such query", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn analytics(
    State(gw): Shared,
    PathOf(path): PathOf<AnalyticsPath>,
    QueryOf(params): QueryOf<ScopeParams>,
    headers: HeaderMap,
) -> Result<Json<QueryResult>, Problem> {
    let tenant = gw
        .guard
        .admit(&headers, &path.tenant, ANALYSTS)
        .await?
        .tenant;
    let scope = params.scope(tenant);
    let query = match path.query.as_str() {
        "intent-distribution" => Query::IntentDistribution(scope),
        "escalation-rate" => Query::EscalationRate(scope),
        "automation-rate" => Query::AutomationRate(scope),
        "first-response-time" => Query::FirstResponseTime(scope),
        "volume-per-day" => Query::VolumePerDay(scope),
        "critic-blocks" => Query::CriticBlocks(scope),
        "model-usage" => Query::ModelUsage(scope),
        other => {
            return Err(Problem::not_found(format!(
                "no analytics query {other:?}; try intent-distribution, escalation-rate, automation-rate, first-response-time, volume-per-day, critic-blocks or model-usage"
            )));
        }
    };
    answer(&gw, query).await
}

/// What to export.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// Only this conversation.
    pub conversation: Option<String>,
    /// Only events stored at or after this time (RFC 3339).
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Only events stored before this time (RFC 3339).
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// A signed, hash-chained JSONL export of the tenant's log.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/audit/export",
    params(TenantPath, ExportParams),
    responses((status = 200, description = "JSON lines", content_type = "application/x-ndjson", body = String)),
    security(("bearer" = [])))]
pub(super) async fn audit_export(
    State(gw): Shared,
    PathOf(path): PathOf<TenantPath>,
    QueryOf(params): QueryOf<ExportParams>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let tenant = path.admit(&gw, &headers, &[Role::Audit]).await?;
    let conversation = params
        .conversation
        .as_deref()
        .map(ConversationId::new)
        .transpose()
        .map_err(|e| Problem::bad_request(format!("conversation: {e}")))?;
    let filter = ExportFilter {
        tenant,
        conversation,
        from: params.from,
        to: params.to,
    };
    let mut out = Vec::new();
    audit::export(gw.store(), &gw.audit, &filter, &mut out)
        .await
        .map_err(|e| Problem::unavailable(e.to_string()))?;
    let mut response = out.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    Ok(response)
}

/// Checks an export: chain, order, signature.
#[utoipa::path(post, path = "/v1/audit/verify",
    request_body(content = String, content_type = "text/plain", description = "an export, as `audit export` wrote it (JSON lines)"),
    responses((status = 200, description = "verified", body = Object),
        (status = 422, description = "tampered or unsigned", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn audit_verify(
    State(gw): Shared,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Verified>, Problem> {
    gw.guard.admit_any_tenant(&headers, &[Role::Audit]).await?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| Problem::bad_request("the export is not UTF-8 text"))?;
    audit::verify(text, &gw.audit.verifying_key())
        .map(Json)
        .map_err(|e| Problem::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))
}

/// The deployment's audit public key (hex), for auditors.
#[utoipa::path(get, path = "/v1/audit/public-key",
    responses((status = 200, description = "ed25519 public key, hex", body = Object)))]
pub(super) async fn audit_public_key(State(gw): Shared) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "algorithm": "ed25519",
        "public_key": gw.audit.public_hex(),
    }))
}
