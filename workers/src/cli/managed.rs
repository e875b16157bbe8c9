//! The broker `up` and the benches run themselves: one managed nats-server,
//! or with `--cluster` a managed three-node JetStream cluster on loopback
//! whose streams and buckets have replicas 3.

use std::time::Duration;

use anyhow::Context;
use switchboard_engine::nats_cluster::ManagedCluster;
use switchboard_engine::nats_server::{ManagedServer, ServerBinary, ServerOptions};

/// Nodes of a managed cluster: the smallest that keeps a majority when one
/// is lost.
pub const CLUSTER_NODES: usize = 3;

/// How long a fresh cluster may take to elect its JetStream leader.
const CLUSTER_READY: Duration = Duration::from_secs(30);

/// A managed broker of either shape, stopped when dropped.
#[derive(Debug)]
pub enum ManagedBroker {
    Single(Box<ManagedServer>),
    Cluster(ManagedCluster),
}

impl ManagedBroker {
    /// Starts one server from `options`, or a cluster of [`CLUSTER_NODES`]
    /// whose nodes keep their stores under `options.data_dir` (and listen on
    /// `options.port` and the next ports, when given). A cluster is
    /// returned once JetStream can place a replicas-3 stream, and sets this
    /// process's buckets to replicas 3.
    pub async fn start(
        binary: ServerBinary,
        options: ServerOptions,
        cluster: bool,
    ) -> anyhow::Result<Self> {
        if !cluster {
            let server = tokio::task::spawn_blocking(move || ManagedServer::start(binary, options))
                .await
                .context("starting nats-server")??;
            return Ok(Self::Single(Box::new(server)));
        }
        let cluster = tokio::task::spawn_blocking(move || {
            ManagedCluster::start(binary, options, CLUSTER_NODES)
        })
        .await
        .context("starting the nats-server cluster")??;
        let client = switchboard_engine::connect(&cluster.url(), "switchboard-cluster").await?;
        let js = async_nats::jetstream::new(client);
        cluster.wait_for_jetstream(&js, CLUSTER_READY).await?;
        switchboard_workers::kv::set_replicas(CLUSTER_NODES);
        Ok(Self::Cluster(cluster))
    }

    /// Where clients connect: one URL, or every node's, comma-separated.
    pub fn url(&self) -> String {
        match self {
            Self::Single(s) => s.url(),
            Self::Cluster(c) => c.url(),
        }
    }

    /// Replicas to give the streams: `None` (the declared 1) on one server.
    pub fn replicas(&self) -> Option<usize> {
        match self {
            Self::Single(_) => None,
            Self::Cluster(c) => Some(c.size()),
        }
    }

    /// Moves atomic-batch staging to tmpfs on one server; a cluster's
    /// replicated streams stage in memory already.
    pub fn stage_batches_on_tmpfs(&self, streams: &[&str]) {
        if let Self::Single(s) = self {
            s.stage_batches_on_tmpfs(streams);
        }
    }

    /// What the broker is, for start-up lines: `nats-server 2.15.1` or
    /// `a 3-node nats-server 2.15.1 cluster (replicas 3)`.
    pub fn describe(&self) -> String {
        match self {
            Self::Single(s) => format!("nats-server {}", s.version()),
            Self::Cluster(c) => format!(
                "a {n}-node nats-server {} cluster, replicas {n}",
                c.version(),
                n = c.size()
            ),
        }
    }
}
