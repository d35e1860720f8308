//! `controllerDLegerPeers`: the raft group's members, `id-host:port;...`.

use super::error::ControllerError;

const PEERS_KEY: &str = "controllerDLegerPeers";
const SELF_ID_KEY: &str = "controllerDLegerSelfId";

/// The raft node id of a peer.
pub type NodeId = u64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The id as configured (`n0`); DLedger and 1005 report it as is.
    pub id: String,
    pub node_id: NodeId,
    pub host: String,
    pub port: u16,
}

impl Peer {
    /// `host:port`, as brokers list it in `controllerAddr`.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Every configured peer, in configuration order, and which one we are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peers {
    peers: Vec<Peer>,
    self_index: usize,
}

impl Peers {
    /// Parses the peer list and finds `self_id` in it.
    ///
    /// Entries are trimmed and empty ones (a trailing `;`) skipped, which Java
    /// would reject as malformed ids. The id ends at the first `-`, as in
    /// DLedger. Node ids are the digits of `nK` when every id has that form
    /// (the shipped convention, so `n1` is node 1 whatever the order);
    /// otherwise the position in the list, so mixed ids can never collide.
    pub fn parse(peers: Option<&str>, self_id: Option<&str>) -> Result<Peers, ControllerError> {
        let peers = non_blank(peers).ok_or(ControllerError::MissingKey { key: PEERS_KEY })?;
        let self_id = non_blank(self_id).ok_or(ControllerError::MissingKey { key: SELF_ID_KEY })?;
        let entries: Vec<(&str, &str)> = peers
            .split(';')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(split_entry)
            .collect::<Result<_, _>>()?;
        if entries.is_empty() {
            return Err(ControllerError::MissingKey { key: PEERS_KEY });
        }
        let numeric = numeric_ids(&entries);
        let mut parsed: Vec<Peer> = Vec::with_capacity(entries.len());
        for (index, (id, addr)) in entries.iter().enumerate() {
            if parsed.iter().any(|p| p.id == *id) {
                return Err(invalid(PEERS_KEY, format!("the id {id} appears twice")));
            }
            let (host, port) = split_address(id, addr)?;
            let node_id = match &numeric {
                Some(ids) => ids[index],
                None => index as NodeId,
            };
            parsed.push(Peer {
                id: id.to_string(),
                node_id,
                host,
                port,
            });
        }
        let self_index = parsed.iter().position(|p| p.id == self_id).ok_or_else(|| {
            invalid(
                SELF_ID_KEY,
                format!("{self_id} is not among the ids of {PEERS_KEY}"),
            )
        })?;
        Ok(Peers {
            peers: parsed,
            self_index,
        })
    }

    pub fn all(&self) -> &[Peer] {
        &self.peers
    }

    pub fn me(&self) -> &Peer {
        &self.peers[self.self_index]
    }

    pub fn by_node_id(&self, node_id: NodeId) -> Option<&Peer> {
        self.peers.iter().find(|p| p.node_id == node_id)
    }

    /// The `peers` field of CONTROLLER_GET_METADATA_INFO: `n0:h:p;n1:h:p;`.
    pub fn metadata_string(&self) -> String {
        self.peers
            .iter()
            .map(|p| format!("{}:{};", p.id, p.address()))
            .collect()
    }
}

fn non_blank(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn invalid(key: &'static str, reason: String) -> ControllerError {
    ControllerError::InvalidKey { key, reason }
}

fn split_entry(entry: &str) -> Result<(&str, &str), ControllerError> {
    match entry.split_once('-') {
        Some((id, addr)) if !id.is_empty() => Ok((id, addr)),
        _ => Err(invalid(
            PEERS_KEY,
            format!("{entry:?} is not of the form id-host:port"),
        )),
    }
}

/// Splits on the last `:` so bracketed IPv6 hosts keep theirs.
fn split_address(id: &str, addr: &str) -> Result<(String, u16), ControllerError> {
    let bad = || {
        invalid(
            PEERS_KEY,
            format!("the address {addr:?} of {id} is not host:port"),
        )
    };
    let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() || port == 0 {
        return Err(bad());
    }
    Ok((host.to_string(), port))
}

/// The numbers of `n0, n1, ...` when every id has that form and none repeats.
fn numeric_ids(entries: &[(&str, &str)]) -> Option<Vec<NodeId>> {
    let ids: Vec<NodeId> = entries
        .iter()
        .map(|(id, _)| {
            let digits = id.strip_prefix('n')?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse().ok()
        })
        .collect::<Option<_>>()?;
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    (sorted.len() == ids.len()).then_some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = "n0-127.0.0.1:9878;n1-127.0.0.1:9868;n2-127.0.0.1:9858";

    #[test]
    fn shipped_example_parses_with_numeric_ids() {
        let peers = Peers::parse(Some(SHIPPED), Some("n1")).unwrap();
        assert_eq!(peers.all().len(), 3);
        assert_eq!(peers.me().node_id, 1);
        assert_eq!(peers.me().address(), "127.0.0.1:9868");
        assert_eq!(peers.by_node_id(2).unwrap().port, 9858);
        assert_eq!(
            peers.metadata_string(),
            "n0:127.0.0.1:9878;n1:127.0.0.1:9868;n2:127.0.0.1:9858;"
        );
    }

    #[test]
    fn free_form_ids_use_the_position() {
        let peers = Peers::parse(Some("a-h1:1;n7-h2:2; c-[::1]:3 ;"), Some("c")).unwrap();
        let ids: Vec<NodeId> = peers.all().iter().map(|p| p.node_id).collect();
        assert_eq!(ids, [0, 1, 2]);
        assert_eq!(peers.me().host, "[::1]");
        // n1 and n01 would both be node 1: fall back to positions.
        let peers = Peers::parse(Some("n1-h:1;n01-h:2"), Some("n01")).unwrap();
        assert_eq!(peers.me().node_id, 1);
        assert_eq!(peers.all()[0].node_id, 0);
    }

    #[test]
    fn errors_name_the_key() {
        let cases: [(Option<&str>, Option<&str>, &str); 8] = [
            (None, Some("n0"), PEERS_KEY),
            (Some("  "), Some("n0"), PEERS_KEY),
            (Some(SHIPPED), None, SELF_ID_KEY),
            (Some(SHIPPED), Some("n9"), SELF_ID_KEY),
            (Some("n0-h:1;n0-h:2"), Some("n0"), PEERS_KEY),
            (Some("n0-h:notaport"), Some("n0"), PEERS_KEY),
            (Some("n0-h"), Some("n0"), PEERS_KEY),
            (Some("n0h:1"), Some("n0"), PEERS_KEY),
        ];
        for (peers, me, key) in cases {
            let err = Peers::parse(peers, me).unwrap_err().to_string();
            assert!(err.contains(key), "{peers:?} {me:?}: {err}");
        }
        assert!(Peers::parse(Some("n0-:1"), Some("n0")).is_err());
        assert!(Peers::parse(Some("n0-h:0"), Some("n0")).is_err());
        assert!(Peers::parse(Some("n0-h:70000"), Some("n0")).is_err());
    }
}
