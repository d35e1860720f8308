//! The request codes of the controller port. They are kept apart from
//! `remoting::RequestCode` because the NameServer's dispatcher matches that
//! enum exhaustively, and 904 means something else on the NameServer port.

/// Requests a controller serves or sends, with the Java numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum ControllerRequestCode {
    BROKER_HEARTBEAT = 904,
    CONTROLLER_ALTER_SYNC_STATE_SET = 1001,
    CONTROLLER_ELECT_MASTER = 1002,
    CONTROLLER_REGISTER_BROKER = 1003,
    CONTROLLER_GET_REPLICA_INFO = 1004,
    CONTROLLER_GET_METADATA_INFO = 1005,
    CONTROLLER_GET_SYNC_STATE_DATA = 1006,
    NOTIFY_BROKER_ROLE_CHANGED = 1008,
    UPDATE_CONTROLLER_CONFIG = 1009,
    GET_CONTROLLER_CONFIG = 1010,
    CLEAN_BROKER_DATA = 1011,
    CONTROLLER_GET_NEXT_BROKER_ID = 1012,
    CONTROLLER_APPLY_BROKER_ID = 1013,
}

impl ControllerRequestCode {
    pub const ALL: &'static [ControllerRequestCode] = &[
        Self::BROKER_HEARTBEAT,
        Self::CONTROLLER_ALTER_SYNC_STATE_SET,
        Self::CONTROLLER_ELECT_MASTER,
        Self::CONTROLLER_REGISTER_BROKER,
        Self::CONTROLLER_GET_REPLICA_INFO,
        Self::CONTROLLER_GET_METADATA_INFO,
        Self::CONTROLLER_GET_SYNC_STATE_DATA,
        Self::NOTIFY_BROKER_ROLE_CHANGED,
        Self::UPDATE_CONTROLLER_CONFIG,
        Self::GET_CONTROLLER_CONFIG,
        Self::CLEAN_BROKER_DATA,
        Self::CONTROLLER_GET_NEXT_BROKER_ID,
        Self::CONTROLLER_APPLY_BROKER_ID,
    ];

    pub fn value(self) -> i32 {
        self as i32
    }

    pub fn from_value(value: i32) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.value() == value)
    }

    /// Whether only a ready leader may serve it (others answer 2007).
    pub fn is_leader_only(self) -> bool {
        matches!(
            self,
            Self::CONTROLLER_ALTER_SYNC_STATE_SET
                | Self::CONTROLLER_ELECT_MASTER
                | Self::CONTROLLER_REGISTER_BROKER
                | Self::CONTROLLER_GET_REPLICA_INFO
                | Self::CONTROLLER_GET_SYNC_STATE_DATA
                | Self::CLEAN_BROKER_DATA
                | Self::CONTROLLER_GET_NEXT_BROKER_ID
                | Self::CONTROLLER_APPLY_BROKER_ID
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_leader_only_set_matches_java() {
        for code in ControllerRequestCode::ALL {
            assert_eq!(ControllerRequestCode::from_value(code.value()), Some(*code));
        }
        assert_eq!(ControllerRequestCode::from_value(1007), None);
        let leader_only: Vec<i32> = ControllerRequestCode::ALL
            .iter()
            .filter(|c| c.is_leader_only())
            .map(|c| c.value())
            .collect();
        assert_eq!(
            leader_only,
            [1001, 1002, 1003, 1004, 1006, 1011, 1012, 1013]
        );
    }
}
