//! Pure builders for Cosmos DB requests: query text and parameters,
//! partition keys, preconditions, and the reading of throttling answers.
//!
//! Kept apart from the client so they are unit-tested without a service.

use std::time::Duration;

use azure_data_cosmos::options::Precondition;
use azure_data_cosmos::{PartitionKey, Query};

use crate::ids::{ConversationKey, Tenant};
use crate::projection::Scope;
use crate::projection::StoreErrorKind;

/// Container names (DESIGN §5) and their partition key paths.
pub const CONVERSATIONS: &str = "conversations";
/// The human queue, by `/tenant`.
pub const ESCALATIONS: &str = "escalations";
/// Analytics buckets, by `/tenant`.
pub const ANALYTICS: &str = "analytics";
/// Customers, by `/tenant`.
pub const CUSTOMERS: &str = "customers";
/// Checkpoints, by `/tenant` (always `_system`).
pub const CHECKPOINTS: &str = "checkpoints";

/// The tenant value under which checkpoint items live.
pub const SYSTEM_PARTITION: &str = "_system";

/// Partition key paths per container: `conversations` is hierarchical.
pub fn partition_paths(container: &str) -> Vec<&'static str> {
    if container == CONVERSATIONS {
        vec!["/tenant", "/conversationId"]
    } else {
        vec!["/tenant"]
    }
}

/// The hierarchical partition key of a conversation document.
pub fn conversation_partition(key: &ConversationKey) -> PartitionKey {
    PartitionKey::from((key.tenant.to_string(), key.id.to_string()))
}

/// The partition key of a tenant-partitioned document.
pub fn tenant_partition(tenant: &str) -> PartitionKey {
    PartitionKey::from(tenant.to_owned())
}

/// The text and parameters of a scoped query over `conversations` or
/// `analytics`: tenant, inclusive day range, channel. Conversations store
/// `startedAt` (RFC 3339), analytics `day` (`YYYY-MM-DD`); both compare as
/// strings, and a day bound on `startedAt` uses the next day's midnight.
pub fn scoped_query(
    container: &str,
    scope: &Scope,
) -> Result<Query, azure_data_cosmos::CosmosError> {
    let field = if container == CONVERSATIONS {
        "c.startedAt"
    } else {
        "c.day"
    };
    let mut text = String::from("SELECT * FROM c WHERE c.tenant = @tenant");
    let mut params: Vec<(&str, String)> = vec![("@tenant", scope.tenant.to_string())];
    if let Some(from) = scope.from {
        text.push_str(&format!(" AND {field} >= @from"));
        params.push(("@from", from.to_string()));
    }
    if let Some(to) = scope.to {
        if container == CONVERSATIONS {
            text.push_str(&format!(" AND {field} < @to"));
            params.push(("@to", to.succ_opt().unwrap_or(to).to_string()));
        } else {
            text.push_str(&format!(" AND {field} <= @to"));
            params.push(("@to", to.to_string()));
        }
    }
    if let Some(channel) = &scope.channel {
        text.push_str(" AND c.channel = @channel");
        params.push(("@channel", channel.clone()));
    }
    params
        .into_iter()
        .try_fold(Query::from(text), |q, (name, value)| {
            q.with_parameter(name, value)
        })
}

/// All queue entries of a tenant.
pub fn escalations_query(tenant: &Tenant) -> Result<Query, azure_data_cosmos::CosmosError> {
    Query::from("SELECT * FROM c WHERE c.tenant = @tenant")
        .with_parameter("@tenant", tenant.as_str())
}

/// The precondition of a replace: the etag read, so a concurrent writer's
/// change makes the replace fail (412) instead of being overwritten.
pub fn replace_precondition(etag: &str) -> Precondition {
    Precondition::if_match(etag.to_owned())
}

/// Whether a stored document should be replaced by one at `new_seq`.
pub fn is_newer(stored_seq: Option<u64>, new_seq: u64) -> bool {
    stored_seq.is_none_or(|stored| new_seq > stored)
}

/// Reads `x-ms-retry-after-ms` (milliseconds, possibly fractional).
pub fn parse_retry_after_ms(value: &str) -> Option<Duration> {
    let ms: f64 = value.trim().parse().ok()?;
    (ms.is_finite() && ms >= 0.0).then(|| Duration::from_micros((ms * 1000.0).round() as u64))
}

/// How an HTTP status from Cosmos surfaces to the projector.
pub fn classify_status(status: u16) -> StoreErrorKind {
    match status {
        408 | 429 | 449 | 500 | 503 => StoreErrorKind::Unavailable,
        409 | 412 => StoreErrorKind::Conflict,
        _ => StoreErrorKind::Rejected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn scope() -> Scope {
        Scope {
            tenant: Tenant::new("acme").expect("valid"),
            from: NaiveDate::from_ymd_opt(2026, 1, 1),
            to: NaiveDate::from_ymd_opt(2026, 1, 31),
            channel: Some("web".into()),
        }
    }

    #[test]
    fn scoped_query_on_conversations_uses_started_at_and_exclusive_next_day() {
        let q = serde_json::to_value(scoped_query(CONVERSATIONS, &scope()).expect("serialisable"))
            .expect("json");
        assert_eq!(
            q["query"],
            "SELECT * FROM c WHERE c.tenant = @tenant AND c.startedAt >= @from \
             AND c.startedAt < @to AND c.channel = @channel"
        );
        let params: Vec<_> = q["parameters"]
            .as_array()
            .expect("params")
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap_or(""),
                    p["value"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            params,
            [
                ("@tenant", "acme"),
                ("@from", "2026-01-01"),
                ("@to", "2026-02-01"),
                ("@channel", "web")
            ]
        );
    }

    #[test]
    fn scoped_query_on_analytics_uses_day_inclusive_and_only_given_bounds() {
        let mut s = scope();
        s.from = None;
        s.channel = None;
        let q = serde_json::to_value(scoped_query(ANALYTICS, &s).expect("ok")).expect("json");
        assert_eq!(
            q["query"],
            "SELECT * FROM c WHERE c.tenant = @tenant AND c.day <= @to"
        );
        assert_eq!(q["parameters"][1]["value"], "2026-01-31");
        let q = serde_json::to_value(escalations_query(&s.tenant).expect("ok")).expect("json");
        assert_eq!(q["parameters"][0]["name"], "@tenant");
    }

    #[test]
    fn partition_keys_follow_the_design() {
        assert_eq!(
            partition_paths(CONVERSATIONS),
            ["/tenant", "/conversationId"]
        );
        assert_eq!(partition_paths(ANALYTICS), ["/tenant"]);
        let key = ConversationKey::parse("acme/c1").expect("valid");
        assert_eq!(conversation_partition(&key).len(), 2);
        assert_eq!(tenant_partition("acme").len(), 1);
    }

    #[test]
    fn preconditions_and_sequence_gate() {
        assert!(matches!(
            replace_precondition("\"e1\""),
            Precondition::IfMatch(_)
        ));
        assert!(is_newer(None, 1));
        assert!(is_newer(Some(4), 5));
        assert!(!is_newer(Some(5), 5));
        assert!(!is_newer(Some(6), 5));
    }

    #[test]
    fn retry_after_parsing_and_status_classes() {
        assert_eq!(parse_retry_after_ms("1000"), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after_ms(" 12.5 "),
            Some(Duration::from_micros(12_500))
        );
        assert_eq!(parse_retry_after_ms("-3"), None);
        assert_eq!(parse_retry_after_ms("soon"), None);
        assert_eq!(classify_status(429), StoreErrorKind::Unavailable);
        assert_eq!(classify_status(412), StoreErrorKind::Conflict);
        assert_eq!(classify_status(403), StoreErrorKind::Rejected);
    }
}
