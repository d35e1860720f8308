//! Request, response and language codes with the Java numbers.

/// Declares a fieldless enum with explicit wire values, plus lookups both ways.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident : $repr:ty { $($variant:ident = $value:expr),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        pub enum $name { $($variant = $value),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn from_value(value: $repr) -> Option<Self> {
                match value {
                    $($value => Some($name::$variant),)+
                    _ => None,
                }
            }

            pub fn value(self) -> $repr {
                self as $repr
            }

            /// Position in [`Self::ALL`]: a dense index for per-code tables.
            pub fn index(self) -> usize {
                // Implicit discriminants count from 0 in declaration order.
                #[allow(non_camel_case_types, clippy::upper_case_acronyms, dead_code)]
                enum Position { $($variant),+ }
                match self { $($name::$variant => Position::$variant as usize,)+ }
            }

            /// The Java constant name, e.g. `GET_ROUTEINFO_BY_TOPIC`.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant),)+ }
            }

            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $(stringify!($variant) => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

wire_enum! {
    /// Request codes a NameServer receives or sends (Java `RequestCode`).
    RequestCode: i32 {
        PUT_KV_CONFIG = 100,
        GET_KV_CONFIG = 101,
        DELETE_KV_CONFIG = 102,
        REGISTER_BROKER = 103,
        UNREGISTER_BROKER = 104,
        GET_ROUTEINFO_BY_TOPIC = 105,
        GET_BROKER_CLUSTER_INFO = 106,
        WIPE_WRITE_PERM_OF_BROKER = 205,
        GET_ALL_TOPIC_LIST_FROM_NAMESERVER = 206,
        DELETE_TOPIC_IN_NAMESRV = 216,
        REGISTER_TOPIC_IN_NAMESRV = 217,
        GET_KVLIST_BY_NAMESPACE = 219,
        GET_TOPICS_BY_CLUSTER = 224,
        GET_SYSTEM_TOPIC_LIST_FROM_NS = 304,
        GET_UNIT_TOPIC_LIST = 311,
        GET_HAS_UNIT_SUB_TOPIC_LIST = 312,
        GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST = 313,
        UPDATE_NAMESRV_CONFIG = 318,
        GET_NAMESRV_CONFIG = 319,
        QUERY_DATA_VERSION = 322,
        ADD_WRITE_PERM_OF_BROKER = 327,
        GET_BROKER_MEMBER_GROUP = 901,
        BROKER_HEARTBEAT = 904,
        NOTIFY_MIN_BROKER_ID_CHANGE = 905,
        // Auth 2.0 administration (users and ACLs).
        AUTH_CREATE_USER = 3001,
        AUTH_UPDATE_USER = 3002,
        AUTH_DELETE_USER = 3003,
        AUTH_GET_USER = 3004,
        AUTH_LIST_USER = 3005,
        AUTH_CREATE_ACL = 3006,
        AUTH_UPDATE_ACL = 3007,
        AUTH_DELETE_ACL = 3008,
        AUTH_GET_ACL = 3009,
        AUTH_LIST_ACL = 3010,
        // Served by brokers and controllers; sent by the admin tool.
        GET_BROKER_RUNTIME_INFO = 28,
        DELETE_TOPIC_IN_BROKER = 215,
        QUERY_TOPIC_CONSUME_BY_WHO = 300,
        // The controller port's (904 is BROKER_HEARTBEAT there too, with
        // another meaning); 1008 is sent by controllers to brokers.
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
        // Broker requests added in 5.4/5.5 (timer engine, lite topics): a
        // NameServer answers them as any code it does not serve; named here
        // so that metrics and logs say what a client sent.
        SWITCH_TIMER_ENGINE = 5001,
        POP_LITE_MESSAGE = 200070,
        LITE_SUBSCRIPTION_CTL = 200071,
        ACK_LITE_MESSAGE = 200072,
        NOTIFY_UNSUBSCRIBE_LITE = 200073,
        GET_BROKER_LITE_INFO = 200074,
        GET_PARENT_TOPIC_INFO = 200075,
        GET_LITE_TOPIC_INFO = 200076,
        GET_LITE_CLIENT_INFO = 200077,
        GET_LITE_GROUP_INFO = 200078,
        TRIGGER_LITE_DISPATCH = 200079,
    }
}

wire_enum! {
    /// Response codes (Java `ResponseCode` / `RemotingSysResponseCode`).
    ResponseCode: i32 {
        SUCCESS = 0,
        SYSTEM_ERROR = 1,
        SYSTEM_BUSY = 2,
        REQUEST_CODE_NOT_SUPPORTED = 3,
        NO_PERMISSION = 16,
        TOPIC_NOT_EXIST = 17,
        QUERY_NOT_FOUND = 22,
        INVALID_PARAMETER = 29,
        ILLEGAL_OPERATION = 604,
        // The controller's answers.
        CONTROLLER_FENCED_MASTER_EPOCH = 2000,
        CONTROLLER_FENCED_SYNC_STATE_SET_EPOCH = 2001,
        CONTROLLER_INVALID_MASTER = 2002,
        CONTROLLER_INVALID_REPLICAS = 2003,
        CONTROLLER_MASTER_NOT_AVAILABLE = 2004,
        CONTROLLER_INVALID_REQUEST = 2005,
        CONTROLLER_BROKER_NOT_ALIVE = 2006,
        CONTROLLER_NOT_LEADER = 2007,
        CONTROLLER_BROKER_METADATA_NOT_EXIST = 2008,
        CONTROLLER_INVALID_CLEAN_BROKER_METADATA = 2009,
        CONTROLLER_BROKER_NEED_TO_BE_REGISTERED = 2010,
        CONTROLLER_MASTER_STILL_EXIST = 2011,
        CONTROLLER_ELECT_MASTER_FAILED = 2012,
        CONTROLLER_ALTER_SYNC_STATE_SET_FAILED = 2013,
        CONTROLLER_BROKER_ID_INVALID = 2014,
    }
}

wire_enum! {
    /// The sender's implementation language (Java `LanguageCode`).
    LanguageCode: u8 {
        JAVA = 0,
        CPP = 1,
        DOTNET = 2,
        PYTHON = 3,
        DELPHI = 4,
        ERLANG = 5,
        RUBY = 6,
        OTHER = 7,
        HTTP = 8,
        GO = 9,
        PHP = 10,
        OMS = 11,
        RUST = 12,
        NODE_JS = 13,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_codes_round_trip_through_value_and_name() {
        for code in RequestCode::ALL {
            assert_eq!(RequestCode::from_value(code.value()), Some(*code));
            assert_eq!(RequestCode::from_name(code.name()), Some(*code));
        }
        assert_eq!(RequestCode::GET_ROUTEINFO_BY_TOPIC.value(), 105);
        assert_eq!(RequestCode::from_value(9999), None);
    }

    #[test]
    fn language_codes_match_java() {
        assert_eq!(LanguageCode::from_value(13), Some(LanguageCode::NODE_JS));
        assert_eq!(LanguageCode::from_name("RUST").map(|l| l.value()), Some(12));
        assert_eq!(LanguageCode::from_value(200), None);
    }
}
