//! REGISTER_BROKER (103): a broker's full registration, every 30 s. Most
//! repeat the previous one ([`answer_if_unchanged`]): those only refresh
//! liveness. A master's changed JSON body is read against the layout of its
//! last one, so only what changed is parsed; the rest are parsed and
//! applied in full.

use std::sync::Arc;

use super::get_route_info::ZONE_NAME;
use super::{CmdError, Header, Origin};
use crate::remoting::{RemotingCommand, ResponseCode};
use crate::route::model::topic_problem;
use crate::route::model::MASTER_ID;
use crate::route::register_body::{self, Decoded, Layout, RegisterBrokerBody};
use crate::route::registration::fingerprint::RegisterBodyCrc;
use crate::route::{
    BrokerRegistration, RegisterError, RegisterResult, RegistrationFingerprint, RegistrationId,
    Reused,
};
use crate::state::kv::{kv_table_json, NAMESPACE_ORDER_TOPIC_CONFIG};
use crate::state::shared::Shared;

pub struct RegisterBroker {
    registration: BrokerRegistration,
    crc: RegisterBodyCrc,
}

/// How [`RegisterBroker::parse`] reads the body.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    /// Against the layout of the broker's last body, when there is one.
    AgainstLast,
    /// In full.
    Full,
}

impl RegisterBroker {
    /// Parses header and body; the body (possibly megabytes) is decoded here,
    /// before any lock is taken. `crc` is the body's, computed once.
    pub fn parse(
        req: &RemotingCommand,
        shared: &Shared,
        crc: RegisterBodyCrc,
        reading: Reading,
    ) -> Result<Self, CmdError> {
        let h = Header(&req.ext_fields);
        let broker_name = h.required_string("brokerName")?;
        let broker_addr = h.required_string("brokerAddr")?;
        let cluster_name = h.required_string("clusterName")?;
        // Java registers a broker without an HA address (null) and skips an
        // optional number it cannot parse; we do likewise.
        let ha_server_addr = h.optional("haServerAddr").unwrap_or_default().to_string();
        let broker_id = h.required_i64("brokerId")?;
        let heartbeat_timeout_ms = h.lenient_i64("heartbeatTimeoutMillis");
        let enable_acting_master = h.optional_bool("enableActingMaster");
        let compressed = h.bool_or_false("compressed");

        if !claimed_crc_matches(&h, crc) {
            return Err(CmdError::Body("crc32 not match".into()));
        }
        for (field, value) in [
            ("brokerName", &broker_name),
            ("brokerAddr", &broker_addr),
            ("clusterName", &cluster_name),
        ] {
            if value.trim().is_empty() {
                return Err(CmdError::Body(format!(
                    "the custom field <{field}> is empty"
                )));
            }
        }
        // Layouts are kept for masters (whose topics routes carry), and
        // reading against one cannot tell which topics a body dropped.
        let keeps_layout =
            broker_id == MASTER_ID && !shared.route_options().delete_topic_with_broker_registration;
        let last = match reading {
            Reading::AgainstLast if keeps_layout => {
                shared.routes.last_layout(&broker_name, broker_id)
            }
            _ => None,
        };
        let layout = match (&last, keeps_layout) {
            (_, false) => Layout::Skip,
            (None, true) => Layout::Make,
            (Some(applied), true) => applied
                .layout
                .as_ref()
                .map_or(Layout::Make, Layout::ReadAgainst),
        };
        let Decoded {
            body:
                RegisterBrokerBody {
                    mut wrapper,
                    filter_server_list,
                },
            reused_topics,
            layout,
        } = register_body::decode_with(
            &req.body,
            compressed,
            req.version,
            shared.max_frame(),
            layout,
        )
        .map_err(|e| CmdError::Body(format!("Failed to decode RegisterBrokerBody: {e}")))?;
        let reused = last
            .zip(reused_topics)
            .map(|(from, topics)| Reused { from, topics });
        // One unroutable topic must not cost the broker its registration.
        wrapper.topics.retain(|topic, queues| match topic_problem(topic, queues) {
            Some(problem) => {
                tracing::warn!(broker = %broker_name, %problem, "topic skipped in registration");
                false
            }
            None => true,
        });

        Ok(RegisterBroker {
            registration: BrokerRegistration {
                cluster_name,
                broker_addr,
                broker_name,
                broker_id,
                ha_server_addr,
                zone_name: req.ext_fields.get(ZONE_NAME).cloned(),
                heartbeat_timeout_ms,
                enable_acting_master,
                wrapper,
                filter_server_list,
                conn: None,
                fingerprint: Some(fingerprint(req, crc)),
                layout,
                reused,
            },
            crc,
        })
    }

    /// Whether the body was read against the layout of the broker's last.
    pub fn read_against_last(&self) -> bool {
        self.registration.reused.is_some()
    }

    pub fn apply(
        mut self,
        shared: &Arc<Shared>,
        origin: Origin,
        req: &RemotingCommand,
    ) -> Result<RemotingCommand, CmdError> {
        self.registration.conn = Some(origin.conn);
        let reused = self.registration.reused.as_ref().map(|r| r.topics);
        let result = shared.routes.register_broker(
            self.registration,
            shared.route_options(),
            Shared::now_ms(),
        );
        let result = match result {
            Ok(result) => result,
            Err(RegisterError::Stale) => {
                tracing::debug!(
                    "broker's topics changed while its body was read; reading it in full"
                );
                return Self::parse(req, shared, self.crc, Reading::Full)?
                    .apply(shared, origin, req);
            }
            Err(RegisterError::Refused(refused)) => {
                tracing::warn!(%refused, "registration refused");
                return Ok(req.response(
                    ResponseCode::SYSTEM_ERROR,
                    Some("register broker failed".into()),
                ));
            }
        };
        shared.route_cache.invalidate(&result.changed_topics);
        let broker = req.ext_fields.get("brokerName").map_or("", String::as_str);
        let changed_topics = result.changed_topics.len();
        match reused {
            Some(reused_topics) => tracing::debug!(
                broker = %broker, changed_topics, reused_topics,
                "registration read against the broker's last body and applied"
            ),
            None => {
                tracing::debug!(broker = %broker, changed_topics, "registration applied in full")
            }
        }
        Ok(answer(shared, req, result))
    }
}

/// The fast path: when `req` repeats the broker's previous registration
/// (same header fields and body, same connection, nothing changed in the
/// tables since), liveness is refreshed and the answer built without
/// decoding the body. Here the body is known by the CRC its sender claims
/// and by its first bytes (`prefix`, of a body `body_len` long), so the
/// rest need not even be read. `None` sends the request on to
/// [`answer_if_unchanged`], or to the full path.
pub fn answer_if_claimed_unchanged(
    shared: &Shared,
    origin: Origin,
    req: &RemotingCommand,
    body_len: usize,
) -> Option<RemotingCommand> {
    let h = Header(&req.ext_fields);
    let claimed = u32::try_from(h.lenient_i64("bodyCrc32")?).ok()?;
    if claimed == 0 {
        return None;
    }
    answer_if_same(shared, origin, req, "claimed crc", |fp| {
        fp.same_request(&req.ext_fields, req.version, body_len)
            && fp.same_body_claimed(claimed, &req.body)
    })
}

/// The fast path for a body read whole, known by `crc`, its CRC computed
/// here (for a sender that claims none, or a claim the first bytes could
/// not confirm).
pub fn answer_if_unchanged(
    shared: &Shared,
    origin: Origin,
    req: &RemotingCommand,
    crc: RegisterBodyCrc,
) -> Option<RemotingCommand> {
    // A body that fails its check is left to the full path to refuse.
    if !claimed_crc_matches(&Header(&req.ext_fields), crc) {
        return None;
    }
    answer_if_same(shared, origin, req, "crc", |fp| {
        fp.same_request(&req.ext_fields, req.version, req.body.len()) && fp.same_body(crc)
    })
}

fn answer_if_same(
    shared: &Shared,
    origin: Origin,
    req: &RemotingCommand,
    known_by: &'static str,
    same: impl FnOnce(&RegistrationFingerprint) -> bool,
) -> Option<RemotingCommand> {
    let h = Header(&req.ext_fields);
    let id = RegistrationId {
        cluster_name: h.optional("clusterName")?,
        broker_addr: h.optional("brokerAddr")?,
        broker_name: h.optional("brokerName")?,
        broker_id: h.optional("brokerId")?.parse().ok()?,
        conn: origin.conn,
    };
    let result =
        shared
            .routes
            .refresh_unchanged(&id, same, shared.route_options(), Shared::now_ms())?;
    tracing::debug!(broker = %id.broker_name, addr = %id.broker_addr, known_by, "unchanged registration; liveness refreshed");
    Some(answer(shared, req, result))
}

fn fingerprint(req: &RemotingCommand, crc: RegisterBodyCrc) -> RegistrationFingerprint {
    RegistrationFingerprint::new(&req.ext_fields, req.version, &req.body, crc)
}

/// SUCCESS with a slave's master addresses, and the ORDER_TOPIC_CONFIG KV
/// table when `returnOrderTopicConfigToBroker` (as Java answers).
fn answer(shared: &Shared, req: &RemotingCommand, result: RegisterResult) -> RemotingCommand {
    if let Some(notice) = result.notice {
        shared.notify(vec![notice]);
    }
    let mut response = req.response(ResponseCode::SUCCESS, None);
    if let Some(addr) = result.master_addr {
        response = response.with_ext("masterAddr", addr);
    }
    if let Some(addr) = result.ha_server_addr {
        response = response.with_ext("haServerAddr", addr);
    }
    if shared.config().namesrv.return_order_topic_config_to_broker {
        if let Some(entries) = shared.kv.list(NAMESPACE_ORDER_TOPIC_CONFIG) {
            response = response.with_body(kv_table_json(&entries));
        }
    }
    response
}

/// Whether the header's `bodyCrc32` (0 or absent: not checked, as in Java)
/// equals the body's java.util.zip.CRC32 masked to a non-negative int
/// (Java `UtilAll.crc32`).
fn claimed_crc_matches(h: &Header<'_>, crc: RegisterBodyCrc) -> bool {
    let claimed = h.lenient_i64("bodyCrc32").unwrap_or(0);
    claimed == 0 || claimed == i64::from(crc.whole & 0x7FFF_FFFF)
}
