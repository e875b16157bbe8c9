//! Operator routes for personal data: erase a customer (crypto-shredding)
//! and export everything held about one (subject access). Thin edges over
//! [`crate::privacy`].

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Json;
use serde::Deserialize;
use switchboard_engine::event::Actor;

use super::Shared;
use super::body::PathOf;
use super::keys::Role;
use super::problem::Problem;
use crate::privacy::{self, ErasureReport, KeyRing, PrivacyError};

/// Path of one customer.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CustomerPath {
    /// The tenant (the API key's own).
    pub tenant: String,
    /// The channel's customer id.
    pub customer: String,
}

impl From<PrivacyError> for Problem {
    fn from(e: PrivacyError) -> Self {
        match e {
            PrivacyError::InvalidCustomer(_) => Problem::bad_request(e.to_string()),
            PrivacyError::NotEncrypted => Problem::new(StatusCode::CONFLICT, e.to_string()),
            _ => Problem::unavailable(e.to_string()),
        }
    }
}

fn ring(gw: &super::Gateway) -> Result<&KeyRing, Problem> {
    gw.ring
        .as_ref()
        .ok_or_else(|| PrivacyError::NotEncrypted.into())
}

/// Erases the customer: shreds their keys, so every text of theirs reads as
/// erased; records an `erased` event (no personal data) on each of their
/// conversations. Repeating it finds nothing left.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/customers/{customer}/erase",
    params(CustomerPath),
    responses(
        (status = 200, description = "the conversations erased", body = ErasureReport),
        (status = 409, description = "personal data is not encrypted in this deployment", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn erase_customer(
    State(gw): Shared,
    PathOf(path): PathOf<CustomerPath>,
    headers: HeaderMap,
) -> Result<Json<ErasureReport>, Problem> {
    let caller = gw
        .guard
        .admit(&headers, &path.tenant, &[Role::Operate])
        .await?;
    let ring = ring(&gw)?;
    let report = privacy::erase_customer(
        gw.store(),
        ring,
        &caller.tenant,
        &path.customer,
        // The audit trail names the operator key that asked.
        Actor::human(&format!("key-{}", caller.key.id)),
    )
    .await?;
    Ok(Json(report))
}

/// Everything held about the customer (subject access request): their
/// conversations with texts decrypted, and the projected documents.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/customers/{customer}/export",
    params(CustomerPath),
    responses(
        (status = 200, description = "the customer's data", body = Object),
        (status = 409, description = "personal data is not encrypted in this deployment", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn export_customer(
    State(gw): Shared,
    PathOf(path): PathOf<CustomerPath>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, Problem> {
    let caller = gw
        .guard
        .admit(&headers, &path.tenant, &[Role::Operate])
        .await?;
    let ring = ring(&gw)?;
    let export = privacy::export_customer(
        gw.store(),
        ring,
        Some(gw.projections.as_ref()),
        &caller.tenant,
        &path.customer,
    )
    .await?;
    serde_json::to_value(export)
        .map(Json)
        .map_err(|e| Problem::unavailable(e.to_string()))
}
