//! Raft RPCs as remoting requests on the controller port, as DLedger
//! multiplexes its own: one private request code per RPC, the sender's node
//! id in the `raftFrom` header, the openraft request as a JSON body; the
//! reply's body is the JSON of openraft's `Result`.
//!
//! Only configured peers may speak raft: the claimed node id must be in the
//! peer list and the connection must come from one of the peers' hosts
//! (their names looked up again when a peer speaks from a new address).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError as OpenRaftError, RemoteError,
    Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::BasicNode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::types::{Raft, TypeConfig};
use crate::config::cidr::canonical;
use crate::controller::peers::{NodeId, Peers};
use crate::remoting::{ClientError, RemotingClient, RemotingCommand, ResponseCode, Transport};

/// Private codes, far from Java's (which stop below 2000 for requests).
pub const RAFT_APPEND_ENTRIES: i32 = 29_101;
pub const RAFT_VOTE: i32 = 29_102;
pub const RAFT_INSTALL_SNAPSHOT: i32 = 29_103;
const FROM: &str = "raftFrom";

/// Whether `code` is one of ours rather than a broker's or admin's.
pub fn is_raft_code(code: i32) -> bool {
    matches!(
        code,
        RAFT_APPEND_ENTRIES | RAFT_VOTE | RAFT_INSTALL_SNAPSHOT
    )
}

/// Who may send raft RPCs: the peers' ids, and their hosts' addresses.
///
/// A peer's host name is resolved at start and again when a raft request
/// comes from an address not seen for it: on Kubernetes a restarted pod
/// keeps its DNS name but gets a new IP, and the peers that did not
/// restart must still hear it.
#[derive(Debug)]
pub struct RaftPeers {
    /// node id → `host:port` as configured.
    addresses: BTreeMap<NodeId, String>,
    resolved: Mutex<BTreeMap<NodeId, Resolved>>,
}

#[derive(Debug, Default)]
struct Resolved {
    ips: BTreeSet<IpAddr>,
    /// When the name was last looked up; `None` before the first lookup.
    at: Option<Instant>,
}

/// A source claiming to be a peer may make us look its name up at most
/// this often, so a stranger cannot turn refusals into a DNS flood.
const RESOLVE_AT_MOST_EVERY: Duration = Duration::from_secs(1);
/// A lookup that takes longer refuses the request; the peer retries.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(2);

impl RaftPeers {
    /// Resolves every peer's host. One that does not resolve yet (a pod
    /// whose DNS record is not published) is looked up again when it
    /// first speaks.
    pub async fn resolve(peers: &Peers) -> RaftPeers {
        let addresses: BTreeMap<NodeId, String> = peers
            .all()
            .iter()
            .map(|p| (p.node_id, p.address()))
            .collect();
        let mut resolved = BTreeMap::new();
        for (id, address) in &addresses {
            let ips = lookup(address).await.unwrap_or_else(|e| {
                tracing::warn!(peer = %address, error = %e, "controller peer does not resolve yet; looked up again when it speaks");
                BTreeSet::new()
            });
            resolved.insert(
                *id,
                Resolved {
                    ips,
                    at: Some(Instant::now()),
                },
            );
        }
        RaftPeers {
            addresses,
            resolved: Mutex::new(resolved),
        }
    }

    /// Whether a raft request from `source` claiming `from` is accepted:
    /// `from` is a configured peer and `source` one of the peers' hosts'
    /// addresses, looked up again (at most once a second per peer) when it
    /// is not yet known.
    pub async fn admits(&self, from: Option<NodeId>, source: Option<IpAddr>) -> bool {
        let (Some(id), Some(ip)) = (from, source) else {
            return false;
        };
        let Some(address) = self.addresses.get(&id) else {
            return false;
        };
        let ip = canonical(ip);
        let due = {
            let resolved = self.resolved.lock();
            if resolved.values().any(|r| r.ips.contains(&ip)) {
                return true;
            }
            resolved
                .get(&id)
                .and_then(|r| r.at)
                .is_none_or(|at| at.elapsed() >= RESOLVE_AT_MOST_EVERY)
        };
        if !due {
            return false;
        }
        let ips = match tokio::time::timeout(RESOLVE_TIMEOUT, lookup(address)).await {
            Ok(Ok(ips)) => ips,
            Ok(Err(e)) => {
                tracing::warn!(peer = %address, error = %e, "controller peer does not resolve");
                BTreeSet::new()
            }
            Err(_) => {
                tracing::warn!(peer = %address, "controller peer's name lookup timed out");
                return false;
            }
        };
        let admitted = ips.contains(&ip);
        if admitted {
            tracing::info!(peer = %address, %ip, "controller peer speaks from a new address");
        }
        self.resolved.lock().insert(
            id,
            Resolved {
                ips,
                at: Some(Instant::now()),
            },
        );
        admitted
    }
}

async fn lookup(address: &str) -> std::io::Result<BTreeSet<IpAddr>> {
    Ok(tokio::net::lookup_host(address)
        .await?
        .map(|a| canonical(a.ip()))
        .collect())
}

/// Answers one raft RPC from a peer (already admitted).
pub async fn serve(raft: &Raft, req: &RemotingCommand) -> RemotingCommand {
    let body = match req.code {
        RAFT_APPEND_ENTRIES => match decode::<AppendEntriesRequest<TypeConfig>>(req) {
            Ok(rpc) => encode(&raft.append_entries(rpc).await),
            Err(resp) => return resp,
        },
        RAFT_VOTE => match decode::<VoteRequest<NodeId>>(req) {
            Ok(rpc) => encode(&raft.vote(rpc).await),
            Err(resp) => return resp,
        },
        RAFT_INSTALL_SNAPSHOT => match decode::<InstallSnapshotRequest<TypeConfig>>(req) {
            Ok(rpc) => encode(&raft.install_snapshot(rpc).await),
            Err(resp) => return resp,
        },
        _ => return req.response(ResponseCode::REQUEST_CODE_NOT_SUPPORTED, None),
    };
    match body {
        Ok(body) => req.response(ResponseCode::SUCCESS, None).with_body(body),
        Err(e) => req.response(ResponseCode::SYSTEM_ERROR, Some(e.to_string())),
    }
}

/// The sender's claimed node id.
pub fn sender(req: &RemotingCommand) -> Option<NodeId> {
    req.ext_fields.get(FROM).and_then(|v| v.parse().ok())
}

fn decode<T: DeserializeOwned>(req: &RemotingCommand) -> Result<T, RemotingCommand> {
    serde_json::from_slice(&req.body).map_err(|e| {
        req.response(
            ResponseCode::SYSTEM_ERROR,
            Some(format!("bad raft request body: {e}")),
        )
    })
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(value)
}

/// Makes one [`PeerClient`] per replication stream or vote round.
pub struct NetworkFactory {
    self_id: NodeId,
    transport: Transport,
}

impl NetworkFactory {
    /// Peers are reached over `transport`: TLS when the controller port
    /// enforces it, as every node of a group shares that setting.
    pub fn new(self_id: NodeId, transport: Transport) -> Self {
        NetworkFactory { self_id, transport }
    }
}

impl RaftNetworkFactory<TypeConfig> for NetworkFactory {
    type Network = PeerClient;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> PeerClient {
        PeerClient {
            self_id: self.self_id,
            target,
            addr: node.addr.clone(),
            transport: self.transport,
            conn: None,
        }
    }
}

/// One connection to one peer, opened on first use and again after a failure.
pub struct PeerClient {
    self_id: NodeId,
    target: NodeId,
    addr: String,
    transport: Transport,
    conn: Option<RemotingClient>,
}

/// Why a call did not produce the peer's answer.
#[derive(Debug, thiserror::Error)]
enum CallError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("peer answered {code}: {remark}")]
    Refused { code: i32, remark: String },
    #[error("bad raft reply body: {0}")]
    Body(#[from] serde_json::Error),
}

/// Connecting bounded separately: a dead peer must not hold a vote round.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(300);

impl PeerClient {
    async fn call<Req, Resp, E>(
        &mut self,
        code: i32,
        rpc: &Req,
        ttl: Duration,
    ) -> Result<Resp, RPCError<NodeId, BasicNode, OpenRaftError<NodeId, E>>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let body = serde_json::to_vec(rpc).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let request = RemotingCommand::request(code, 0)
            .with_ext(FROM, self.self_id)
            .with_body(body);
        if self.conn.is_none() {
            let conn =
                RemotingClient::connect_over(&self.addr, CONNECT_TIMEOUT.min(ttl), self.transport)
                    .await
                    .map_err(|e| RPCError::Unreachable(Unreachable::new(&e)))?;
            self.conn = Some(conn);
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(RPCError::Network(NetworkError::new(
                &std::io::Error::other("no connection"),
            )));
        };
        let result = tokio::time::timeout(ttl, conn.call(request)).await;
        let reply: Result<Result<Resp, OpenRaftError<NodeId, E>>, CallError> = match result {
            Err(_) => Err(CallError::Client(ClientError::Timeout {
                addr: self.addr.clone(),
                after: ttl,
            })),
            Ok(Err(e)) => Err(e.into()),
            Ok(Ok(resp)) if resp.code != ResponseCode::SUCCESS.value() => Err(CallError::Refused {
                code: resp.code,
                remark: resp.remark.unwrap_or_default(),
            }),
            Ok(Ok(resp)) => serde_json::from_slice(&resp.body).map_err(CallError::from),
        };
        match reply {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(remote)) => Err(RPCError::RemoteError(RemoteError::new(self.target, remote))),
            Err(e) => {
                // The stream may be out of step (a late reply): start afresh.
                self.conn = None;
                Err(RPCError::Network(NetworkError::new(&e)))
            }
        }
    }
}

impl RaftNetwork<TypeConfig> for PeerClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, BasicNode, OpenRaftError<NodeId>>>
    {
        self.call(RAFT_APPEND_ENTRIES, &rpc, option.hard_ttl())
            .await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, BasicNode, OpenRaftError<NodeId, InstallSnapshotError>>,
    > {
        self.call(RAFT_INSTALL_SNAPSHOT, &rpc, option.hard_ttl())
            .await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, BasicNode, OpenRaftError<NodeId>>> {
        self.call(RAFT_VOTE, &rpc, option.hard_ttl()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(ips: &[&str], ago: Duration) -> Resolved {
        Resolved {
            ips: ips.iter().map(|ip| ip.parse().unwrap()).collect(),
            at: Instant::now().checked_sub(ago),
        }
    }

    fn peers(entries: Vec<(NodeId, &str, Resolved)>) -> RaftPeers {
        let addresses = entries
            .iter()
            .map(|(id, addr, _)| (*id, addr.to_string()))
            .collect();
        let resolved = entries.into_iter().map(|(id, _, r)| (id, r)).collect();
        RaftPeers {
            addresses,
            resolved: Mutex::new(resolved),
        }
    }

    #[tokio::test]
    async fn only_peers_from_peer_hosts_are_admitted() {
        let fresh = Duration::ZERO;
        let peers = peers(vec![
            (0, "127.0.0.1:1", resolved(&["127.0.0.1"], fresh)),
            (1, "127.0.0.1:2", resolved(&["127.0.0.1"], fresh)),
            (2, "127.0.0.1:3", resolved(&["127.0.0.1"], fresh)),
        ]);
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        assert!(peers.admits(Some(1), Some(local)).await);
        assert!(peers.admits(Some(2), Some(mapped)).await);
        assert!(!peers.admits(Some(3), Some(local)).await);
        assert!(!peers.admits(None, Some(local)).await);
        assert!(!peers.admits(Some(1), Some(other)).await);
        assert!(!peers.admits(Some(1), None).await);
        assert!(is_raft_code(RAFT_VOTE) && !is_raft_code(1005));
        let req = RemotingCommand::request(RAFT_VOTE, 1).with_ext(FROM, 2);
        assert_eq!(sender(&req), Some(2));
    }

    /// A restarted pod keeps its name and gets a new address: the name is
    /// looked up again when it speaks from there, but not more than once a
    /// second per peer.
    #[tokio::test]
    async fn a_peer_speaking_from_a_new_address_is_looked_up_again() {
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let old_address = resolved(&["10.1.2.3"], Duration::from_secs(5));
        let peers = peers(vec![(0, "127.0.0.1:1", old_address)]);
        assert!(peers.admits(Some(0), Some(local)).await);
        // The new address is now known without a lookup.
        assert!(peers.admits(Some(0), Some(local)).await);

        let just_looked_up = resolved(&["10.1.2.3"], Duration::ZERO);
        let peers = peers_of(just_looked_up);
        assert!(!peers.admits(Some(0), Some(local)).await, "rate-limited");

        // A name that never resolves refuses, and does not panic.
        let peers = peers_unresolvable();
        assert!(!peers.admits(Some(0), Some(local)).await);
    }

    fn peers_of(r: Resolved) -> RaftPeers {
        peers(vec![(0, "127.0.0.1:1", r)])
    }

    fn peers_unresolvable() -> RaftPeers {
        peers(vec![(0, "no-such-host.invalid:1", Resolved::default())])
    }

    #[tokio::test]
    async fn a_peer_that_does_not_resolve_at_start_is_not_a_start_error() {
        let peers =
            Peers::parse(Some("n0-127.0.0.1:1;n1-no-such-host.invalid:2"), Some("n0")).unwrap();
        let raft_peers = RaftPeers::resolve(&peers).await;
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(raft_peers.admits(Some(0), Some(local)).await);
        assert!(raft_peers.resolved.lock()[&1].ips.is_empty());
    }
}
