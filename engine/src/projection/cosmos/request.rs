//! Pure builders for Cosmos DB requests: container names per generation and
//! their properties, the generation document, query text and parameters,
//! partition keys, preconditions, and the reading of throttling answers.
//!
//! Kept apart from the client so they are unit-tested without a service.

use std::borrow::Cow;
use std::time::Duration;

use azure_data_cosmos::models::{ContainerProperties, IndexingPolicy, PartitionKeyDefinition};
use azure_data_cosmos::options::{ItemWriteOptions, Precondition};
use azure_data_cosmos::{PartitionKey, Query};
use serde::{Deserialize, Serialize};

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
/// Checkpoints and the generation document, by `/tenant` (always
/// `_system`). One container shared by every generation.
pub const CHECKPOINTS: &str = "checkpoints";

/// The tenant value under which checkpoint items live.
pub const SYSTEM_PARTITION: &str = "_system";

/// The containers that hold documents: one set per generation. A rebuild
/// fills a new set, so these are named by [`container_name`].
pub const DATA_CONTAINERS: [&str; 4] = [CONVERSATIONS, ESCALATIONS, ANALYTICS, CUSTOMERS];

/// Id of the generation document in [`CHECKPOINTS`] (partition `_system`).
pub const GENERATION_ID: &str = "generation";

/// The name of a data container (or checkpoint item) of a generation:
/// generation 0 keeps the plain name, so deployments from before rebuild
/// existed are generation 0 as they stand; generation N is `<base>-g<N>`.
pub fn container_name(base: &str, generation: u64) -> String {
    if generation == 0 {
        base.to_owned()
    } else {
        format!("{base}-g{generation}")
    }
}

/// The id of a projection's checkpoint item in a generation (same scheme as
/// [`container_name`]: generation 0's ids are the plain projection names).
pub fn checkpoint_id(projection: &str, generation: u64) -> String {
    container_name(projection, generation)
}

/// The data container and generation a container name stands for; `None`
/// for any other container (`checkpoints`, somebody else's).
pub fn parse_container_name(name: &str) -> Option<(&'static str, u64)> {
    DATA_CONTAINERS.into_iter().find_map(|base| {
        if name == base {
            return Some((base, 0));
        }
        let digits = name.strip_prefix(base)?.strip_prefix("-g")?;
        let generation: u64 = digits.parse().ok()?;
        // Only the canonical spelling: `-g01` or `-g0` is not ours.
        (generation > 0 && digits == generation.to_string()).then_some((base, generation))
    })
}

/// The data containers among `names` that belong to a generation other than
/// `active`: a rebuild interrupted before its swap, or an old generation
/// whose deletion failed. Sorted by generation, then name.
pub fn stale_containers<'a>(
    names: impl IntoIterator<Item = &'a str>,
    active: u64,
) -> Vec<(String, u64)> {
    let mut stale: Vec<(String, u64)> = names
        .into_iter()
        .filter_map(|name| parse_container_name(name).map(|(_, g)| (name.to_owned(), g)))
        .filter(|(_, generation)| *generation != active)
        .collect();
    stale.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    stale
}

/// The properties of a container of `generation`: the design's partition
/// key (hierarchical for `conversations`), and the indexing policy of the
/// container it replaces when there is one (`None`: the service default, as
/// `create_if_missing` creates them).
pub fn container_properties(
    base: &str,
    generation: u64,
    indexing: Option<IndexingPolicy>,
) -> ContainerProperties {
    let paths: Vec<Cow<'static, str>> = partition_paths(base)
        .into_iter()
        .map(Cow::Borrowed)
        .collect();
    let properties = ContainerProperties::new(
        container_name(base, generation),
        PartitionKeyDefinition::new(paths),
    );
    match indexing {
        Some(policy) => properties.with_indexing_policy(policy),
        None => properties,
    }
}

/// The generation document: which set of data containers readers use, and
/// which one a rebuild is filling. Absent on a deployment never rebuilt,
/// which reads as [`GenerationDoc::initial`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerationDoc {
    /// Always [`GENERATION_ID`].
    pub id: String,
    /// Always [`SYSTEM_PARTITION`].
    pub tenant: String,
    /// The generation readers and the projector use.
    pub active: u64,
    /// The generation a rebuild claimed and is filling, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building: Option<u64>,
}

impl GenerationDoc {
    /// Generation 0, nothing being built.
    pub fn initial() -> Self {
        Self {
            id: GENERATION_ID.to_owned(),
            tenant: SYSTEM_PARTITION.to_owned(),
            active: 0,
            building: None,
        }
    }

    /// The document a rebuild writes to claim the next generation. Always
    /// `active + 1`: a rebuild interrupted before its swap left that
    /// generation half-built, and the next rebuild drops and reuses it.
    pub fn claim(&self) -> Self {
        Self {
            building: Some(self.active + 1),
            ..self.clone()
        }
    }

    /// The document that makes the claimed generation active; `None` when
    /// nothing was claimed.
    pub fn swapped(&self) -> Option<Self> {
        let building = self.building?;
        Some(Self {
            active: building,
            building: None,
            ..self.clone()
        })
    }

    /// Whether this document says `generation` was swapped in: how a swap
    /// whose answer was lost (then retried into 412) knows it landed.
    pub fn has_swapped_in(&self, generation: u64) -> bool {
        self.active == generation && self.building.is_none()
    }
}

/// Write options guarded by an etag (if-match): the write fails with 412
/// if the item changed since it was read.
pub fn if_match(etag: &str) -> ItemWriteOptions {
    ItemWriteOptions::default().with_precondition(replace_precondition(etag))
}

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
    fn container_names_per_generation_keep_generation_zero_plain() {
        assert_eq!(container_name(CONVERSATIONS, 0), "conversations");
        assert_eq!(container_name(CONVERSATIONS, 3), "conversations-g3");
        assert_eq!(container_name(CUSTOMERS, 12), "customers-g12");
        assert_eq!(checkpoint_id("analytics", 0), "analytics");
        assert_eq!(checkpoint_id("analytics", 2), "analytics-g2");
        for base in DATA_CONTAINERS {
            for generation in [0, 1, 7, u64::MAX] {
                assert_eq!(
                    parse_container_name(&container_name(base, generation)),
                    Some((base, generation))
                );
            }
        }
        // Checkpoint items are named like the containers, so the scheme
        // finds stale checkpoints too.
        assert_eq!(crate::projection::PROJECTIONS, DATA_CONTAINERS);
        for foreign in [
            CHECKPOINTS,
            "conversations-g0",
            "conversations-g01",
            "conversations-gx",
            "conversations-g",
            "conversations2",
            "leases",
        ] {
            assert_eq!(parse_container_name(foreign), None, "{foreign}");
        }
    }

    #[test]
    fn stale_containers_are_every_other_generation_of_ours() {
        let names = [
            "conversations",
            "analytics",
            CHECKPOINTS,
            "conversations-g1",
            "analytics-g1",
            "customers-g2",
            "leases",
        ];
        assert_eq!(
            stale_containers(names, 1),
            [
                ("analytics".to_owned(), 0),
                ("conversations".to_owned(), 0),
                ("customers-g2".to_owned(), 2)
            ]
        );
        assert_eq!(
            stale_containers(names, 0),
            [
                ("analytics-g1".to_owned(), 1),
                ("conversations-g1".to_owned(), 1),
                ("customers-g2".to_owned(), 2)
            ]
        );
    }

    #[test]
    fn containers_of_a_generation_keep_the_design_partition_keys_and_indexing() {
        let conversations = serde_json::to_value(container_properties(CONVERSATIONS, 2, None))
            .expect("serialisable");
        assert_eq!(conversations["id"], "conversations-g2");
        assert_eq!(
            conversations["partitionKey"]["paths"],
            serde_json::json!(["/tenant", "/conversationId"])
        );
        assert_eq!(conversations["partitionKey"]["kind"], "MultiHash");
        assert_eq!(conversations["partitionKey"]["version"], 2);
        assert!(conversations.get("indexingPolicy").is_none());
        let policy = IndexingPolicy::default().with_included_path("/tenant/?");
        let analytics = serde_json::to_value(container_properties(ANALYTICS, 1, Some(policy)))
            .expect("serialisable");
        assert_eq!(analytics["id"], "analytics-g1");
        assert_eq!(
            analytics["partitionKey"]["paths"],
            serde_json::json!(["/tenant"])
        );
        assert_eq!(analytics["partitionKey"]["kind"], "Hash");
        assert_eq!(
            analytics["indexingPolicy"]["includedPaths"][0]["path"],
            "/tenant/?"
        );
    }

    #[test]
    fn generation_document_claims_then_swaps_the_next_generation() {
        let initial = GenerationDoc::initial();
        assert_eq!(
            serde_json::to_value(&initial).expect("json"),
            serde_json::json!({"id": "generation", "tenant": "_system", "active": 0})
        );
        assert_eq!(initial.swapped(), None, "nothing claimed, nothing to swap");
        let claimed = initial.claim();
        assert_eq!(
            serde_json::to_value(&claimed).expect("json"),
            serde_json::json!({"id": "generation", "tenant": "_system", "active": 0, "building": 1})
        );
        // A rebuild interrupted before its swap is claimed again, same number.
        assert_eq!(claimed.claim(), claimed);
        let swapped = claimed.swapped().expect("claimed");
        assert_eq!(
            serde_json::to_value(&swapped).expect("json"),
            serde_json::json!({"id": "generation", "tenant": "_system", "active": 1})
        );
        assert!(swapped.has_swapped_in(1));
        assert!(!claimed.has_swapped_in(1));
        assert_eq!(swapped.claim().building, Some(2));
        let read: GenerationDoc = serde_json::from_value(serde_json::json!({
            "id": "generation", "tenant": "_system", "active": 4,
            "_etag": "\"e\"", "_ts": 1
        }))
        .expect("system properties are ignored");
        assert_eq!((read.active, read.building), (4, None));
    }

    #[test]
    fn generation_writes_are_guarded_by_the_etag_read() {
        let options = if_match("\"e7\"");
        let precondition = options.precondition.expect("a precondition");
        assert_eq!(
            precondition
                .as_if_match()
                .map(|etag| etag.to_string())
                .as_deref(),
            Some("\"e7\"")
        );
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
