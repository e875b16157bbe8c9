//! Where the knowledge agent finds a conversation's tenant's knowledge base.

use std::collections::HashMap;
use std::sync::Arc;

use switchboard_engine::ids::Tenant;

use super::live::TenantKnowledge;
use crate::knowledge::KnowledgeBase;

/// The knowledge bases the knowledge agent answers from.
#[derive(Clone, Debug)]
pub enum KnowledgeSource {
    /// One knowledge base for every tenant: the single-tenant demo mode of
    /// unit tests and benches ([`crate::agents::Agents::builtin`]). Never
    /// what `switchboard worker` or `up` run.
    Shared(Arc<KnowledgeBase>),
    /// Fixed knowledge bases per tenant, in memory (tests); other tenants
    /// have none.
    PerTenant(Arc<HashMap<Tenant, Arc<KnowledgeBase>>>),
    /// The tenant-data bucket, kept current (the running system).
    Live(TenantKnowledge),
}

/// A tenant's knowledge base as the agent holds it for one step.
pub enum TenantKb {
    /// From [`KnowledgeSource::Shared`] or [`KnowledgeSource::PerTenant`].
    Fixed(Arc<KnowledgeBase>),
    /// From [`KnowledgeSource::Live`].
    Live(Arc<super::live::Loaded>),
}

impl std::ops::Deref for TenantKb {
    type Target = KnowledgeBase;
    fn deref(&self) -> &KnowledgeBase {
        match self {
            TenantKb::Fixed(kb) => kb,
            TenantKb::Live(loaded) => &loaded.kb,
        }
    }
}

impl KnowledgeSource {
    /// The knowledge base of `tenant`, or `None` when it has no data: the
    /// agent then retrieves nothing. Never another tenant's.
    pub fn get(&self, tenant: &Tenant) -> Option<TenantKb> {
        match self {
            KnowledgeSource::Shared(kb) => Some(TenantKb::Fixed(kb.clone())),
            KnowledgeSource::PerTenant(map) => map.get(tenant).cloned().map(TenantKb::Fixed),
            KnowledgeSource::Live(live) => live.get(tenant).map(TenantKb::Live),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_without_data_gets_no_knowledge_base() {
        let kb = Arc::new(KnowledgeBase::builtin().expect("builtin"));
        let alpha = Tenant::new("alpha").expect("tenant");
        let map = HashMap::from([(alpha.clone(), kb)]);
        let source = KnowledgeSource::PerTenant(Arc::new(map));
        assert!(source.get(&alpha).is_some());
        assert!(source.get(&Tenant::new("beta").expect("tenant")).is_none());
    }
}
