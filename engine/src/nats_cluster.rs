//! A managed JetStream cluster: three (or more) nats-server nodes on
//! loopback, routed to each other, each with its own store, for
//! `switchboard up --cluster`, the benches and the tests.
//!
//! With streams of replicas 3 an acknowledged event is held by a majority
//! of the nodes before the publisher hears of it, so losing one node (or
//! its disk) loses nothing, and the stream's leader moves to a survivor
//! within seconds. This is how Switchboard grows past one machine: the same
//! configuration with the nodes on three hosts (see the README). The nodes
//! are [`ManagedServer`]s: each dies with its parent, and each can be
//! SIGKILLed and restarted on its own port and store, which is what the
//! chaos bench does to the stream leader.

use std::net::{Ipv4Addr, TcpListener};
use std::time::{Duration, Instant};

use crate::nats_server::{ClusterMember, ManagedServer, ServerBinary, ServerError, ServerOptions};

/// The cluster's name in every node's configuration.
pub const CLUSTER_NAME: &str = "switchboard";

/// A running cluster of managed nodes, stopped when dropped.
#[derive(Debug)]
pub struct ManagedCluster {
    nodes: Vec<ManagedServer>,
    names: Vec<String>,
}

impl ManagedCluster {
    /// Starts `size` nodes (at least 3 for replicas 3) from the `template`
    /// options: node `i` keeps its store in `<data_dir>/node-<i>` and, when
    /// `template.port` is given, listens on `port + i` (free loopback ports
    /// otherwise). Returns once every node accepts connections; call
    /// [`ManagedCluster::wait_for_jetstream`] before creating streams.
    pub fn start(
        binary: ServerBinary,
        template: ServerOptions,
        size: usize,
    ) -> Result<Self, ServerError> {
        check_size(size)?;
        let ports = free_ports(size * if template.port.is_some() { 1 } else { 2 })?;
        let (client_ports, route_ports): (Vec<u16>, Vec<u16>) = match template.port {
            Some(first) => ((0..size as u16).map(|i| first + i).collect(), ports),
            None => (ports[..size].to_vec(), ports[size..].to_vec()),
        };
        let names: Vec<String> = (0..size).map(|i| format!("switchboard-n{i}")).collect();
        let mut nodes = Vec::with_capacity(size);
        for i in 0..size {
            let mut options = template.clone();
            options.data_dir = template.data_dir.join(format!("node-{i}"));
            options.port = Some(client_ports[i]);
            // A replicated stream stages atomic batches in memory already.
            options.batch_staging_on_tmpfs = false;
            options.cluster = Some(ClusterMember {
                cluster_name: CLUSTER_NAME.to_owned(),
                server_name: names[i].clone(),
                route_port: route_ports[i],
                routes: route_ports.clone(),
            });
            nodes.push(ManagedServer::start(binary.clone(), options)?);
        }
        Ok(Self { nodes, names })
    }

    /// Every node's URL, comma-separated: what `NATS_URL` takes, so a
    /// client connects to any live node and fails over to the others.
    pub fn url(&self) -> String {
        self.nodes
            .iter()
            .map(ManagedServer::url)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The nodes' server version.
    pub fn version(&self) -> &str {
        self.nodes.first().map_or("", |n| n.version())
    }

    /// How many nodes the cluster has.
    pub fn size(&self) -> usize {
        self.nodes.len()
    }

    /// Node `i`'s server name, as JetStream reports it (e.g. a stream's leader).
    pub fn name(&self, i: usize) -> Option<&str> {
        self.names.get(i).map(String::as_str)
    }

    /// The index of the node called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Node `i` itself (its URL, log, pid).
    pub fn node(&self, i: usize) -> Option<&ManagedServer> {
        self.nodes.get(i)
    }

    /// SIGKILLs node `i`, as a crash of its host would.
    pub fn kill(&mut self, i: usize) -> Result<(), ServerError> {
        self.node_mut(i)?.kill()
    }

    /// Starts node `i` again on its port and store; it catches up from the
    /// others.
    pub fn restart(&mut self, i: usize) -> Result<(), ServerError> {
        self.node_mut(i)?.restart()
    }

    fn node_mut(&mut self, i: usize) -> Result<&mut ManagedServer, ServerError> {
        let size = self.nodes.len();
        self.nodes
            .get_mut(i)
            .ok_or_else(|| ServerError::StartFailed {
                detail: format!("the cluster has no node {i} (it has {size})"),
            })
    }

    /// Waits until the cluster has a JetStream metadata leader that knows
    /// every node, so that a stream of replicas up to [`Self::size`] can be
    /// placed. Polls the account information through `js` (the JetStream
    /// API answers "temporarily unavailable" until a leader is elected),
    /// then the placement of a probe stream, which is deleted.
    pub async fn wait_for_jetstream(
        &self,
        js: &async_nats::jetstream::Context,
        timeout: Duration,
    ) -> Result<(), ServerError> {
        let deadline = Instant::now() + timeout;
        let probe = async_nats::jetstream::stream::Config {
            name: "SWITCHBOARD_CLUSTER_PROBE".into(),
            subjects: vec!["switchboard.cluster.probe".into()],
            num_replicas: self.nodes.len(),
            storage: async_nats::jetstream::stream::StorageType::Memory,
            ..Default::default()
        };
        let mut last = String::from("no answer yet");
        while Instant::now() < deadline {
            match js.create_stream(probe.clone()).await {
                Ok(_) => {
                    let _ = js.delete_stream(&probe.name).await;
                    return Ok(());
                }
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(ServerError::StartFailed {
            detail: format!(
                "the cluster's JetStream did not place a {}-replica stream within {timeout:?}: {last}",
                self.nodes.len()
            ),
        })
    }
}

/// The name of `stream`'s current leader, or `None` while it has none (an
/// election in progress) or the stream is not replicated.
pub async fn stream_leader(js: &async_nats::jetstream::Context, stream: &str) -> Option<String> {
    let mut handle = js.get_stream(stream).await.ok()?;
    let info = handle.info().await.ok()?;
    info.cluster
        .as_ref()
        .and_then(|c| c.leader.clone())
        .filter(|l| !l.is_empty())
}

/// A cluster smaller than 3 cannot hold a replicas-3 stream, nor elect a
/// leader once one node is gone.
fn check_size(size: usize) -> Result<(), ServerError> {
    if size < 3 {
        return Err(ServerError::StartFailed {
            detail: format!("a JetStream cluster needs at least 3 nodes, not {size}"),
        });
    }
    Ok(())
}

/// `count` distinct ports that were free on loopback a moment ago (all
/// bound at once, so none repeats).
fn free_ports(count: usize) -> Result<Vec<u16>, ServerError> {
    let io = |source| ServerError::Io {
        context: "finding free ports".into(),
        source,
    };
    let listeners = (0..count)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io))
        .collect::<Result<Vec<_>, _>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()).map_err(io))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct() {
        let ports = free_ports(6).expect("ports");
        let unique: std::collections::BTreeSet<_> = ports.iter().collect();
        assert_eq!(unique.len(), 6);
    }

    #[test]
    fn fewer_than_three_nodes_are_refused() {
        let err = check_size(2).expect_err("refused");
        assert!(err.to_string().contains("at least 3 nodes"), "{err}");
        assert!(check_size(3).is_ok());
    }
}
