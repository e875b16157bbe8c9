//! Who is calling: the bearer key, its tenant, its role, its rate.
//!
//! Checked in this order, each with its own status: no or unknown key
//! (401), too many requests for this key (429 with `Retry-After`), a path
//! tenant that is not a valid id (400), another tenant than the key's
//! (404, as if it did not exist: a key never learns what other tenants
//! there are), a role that may not do this (403).

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode, header};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use switchboard_engine::ids::Tenant;

use super::keys::{KeyRecord, KeyStore, Role};
use super::problem::Problem;

/// Requests per second and burst allowed per key.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: NonZeroU32,
    /// How many may come at once.
    pub burst: NonZeroU32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: NonZeroU32::new(50).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::new(100).unwrap_or(NonZeroU32::MIN),
        }
    }
}

/// Checks keys, tenants, roles and rates.
#[derive(Debug, Clone)]
pub struct Guard {
    keys: KeyStore,
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
}

/// A caller that passed every check.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key's record.
    pub key: KeyRecord,
    /// The tenant asked for (the key's own).
    pub tenant: Tenant,
}

impl Guard {
    /// A guard over `keys` limiting each key to `rate`.
    pub fn new(keys: KeyStore, rate: RateLimit) -> Self {
        let quota = Quota::per_second(rate.per_second).allow_burst(rate.burst);
        Self {
            keys,
            limiter: Arc::new(RateLimiter::keyed(quota)),
        }
    }

    /// The key store.
    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    /// Lets the caller of `headers` act on `tenant` if its role is one of `roles`.
    pub async fn admit(
        &self,
        headers: &HeaderMap,
        tenant: &str,
        roles: &[Role],
    ) -> Result<Caller, Problem> {
        let key = self.limited_key(headers).await?;
        let tenant = Tenant::new(tenant)
            .map_err(|e| Problem::bad_request(format!("tenant in the path: {e}")))?;
        if tenant != key.tenant {
            return Err(Problem::not_found(format!("no tenant {tenant}")));
        }
        check_role(&key, roles)?;
        Ok(Caller { key, tenant })
    }

    /// Lets the caller of `headers` do something that names no tenant
    /// (verifying an export) if its role is one of `roles`.
    pub async fn admit_any_tenant(
        &self,
        headers: &HeaderMap,
        roles: &[Role],
    ) -> Result<KeyRecord, Problem> {
        let key = self.limited_key(headers).await?;
        check_role(&key, roles)?;
        Ok(key)
    }

    /// The caller's key, within its rate.
    async fn limited_key(&self, headers: &HeaderMap) -> Result<KeyRecord, Problem> {
        let key = self.key(headers).await?;
        if let Err(not_until) = self.limiter.check_key(&key.id) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            return Err(Problem::rate_limited(wait.as_secs().max(1)));
        }
        Ok(key)
    }

    async fn key(&self, headers: &HeaderMap) -> Result<KeyRecord, Problem> {
        let unauthorized = |detail: &str| Problem::new(StatusCode::UNAUTHORIZED, detail);
        let value = headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("send an API key as `Authorization: Bearer <key>`"))?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <key>`"))?;
        match self.keys.verify(token).await {
            Ok(Some(record)) => Ok(record),
            Ok(None) => Err(unauthorized("unknown or revoked API key")),
            Err(e) => Err(Problem::unavailable(e.to_string())),
        }
    }
}

fn check_role(key: &KeyRecord, roles: &[Role]) -> Result<(), Problem> {
    if roles.contains(&key.role) {
        return Ok(());
    }
    let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    Err(Problem::new(
        StatusCode::FORBIDDEN,
        format!(
            "this key has the {} role; this needs {}",
            key.role.as_str(),
            allowed.join(" or ")
        ),
    ))
}
