//! RocketMQ's request signature (`AclClientRPCHook` signs,
//! `DefaultAuthenticationContextBuilder` + `DefaultAuthenticationHandler`
//! check): Base64 of HMAC-SHA1, keyed with the user's secret, over the
//! values of every extField but `Signature`, ordered by key, in UTF-8,
//! followed by the raw body.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::remoting::command::ExtFields;

pub const ACCESS_KEY: &str = "AccessKey";
pub const SIGNATURE: &str = "Signature";
pub const SECURITY_TOKEN: &str = "SecurityToken";
/// Added by zoned Java 5.x clients after they sign.
const ZONE_FIELDS: [&str; 2] = ["__ZONE_NAME", "__ZONE_MODE"];
/// `MixAll.UNIQUE_MSG_QUERY_FLAG`: the broker leaves it out for clients up
/// to 4.9.3, which added it after signing.
const UNIQUE_KEY_QUERY: &str = "_UNIQUE_KEY_QUERY";
/// `MQVersion.Version.V4_9_3.ordinal()`.
const V4_9_3: i32 = 399;

/// The signature a client with `secret` puts on `fields` and `body`.
pub fn sign(fields: &ExtFields, body: &[u8], secret: &str) -> String {
    mac(fields, body, secret, |_| false)
}

/// Signs a request as Java's `AclClientRPCHook` does: adds `AccessKey`,
/// then the `Signature` over everything else (ours to other servers, and
/// tests).
pub fn sign_request(fields: &mut ExtFields, body: &[u8], access_key: &str, secret_key: &str) {
    fields.insert(ACCESS_KEY.into(), access_key.into());
    fields.remove(SIGNATURE);
    let signature = sign(fields, body, secret_key);
    fields.insert(SIGNATURE.into(), signature);
}

/// Whether `fields` carry a `Signature` made with `secret`. `version` is the
/// request's header version. Beside the exact check Java makes, accepts the
/// signatures of clients that add fields after signing: the Go client's
/// `SecurityToken` and the zone fields of zoned Java 5.x clients.
pub fn verify(fields: &ExtFields, body: &[u8], version: i32, secret: &str) -> bool {
    let Some(given) = fields.get(SIGNATURE) else {
        return false;
    };
    let old_client = version <= V4_9_3;
    let base = |key: &str| old_client && key == UNIQUE_KEY_QUERY;
    let no_token = |key: &str| base(key) || key == SECURITY_TOKEN;
    let no_zone = |key: &str| base(key) || ZONE_FIELDS.contains(&key);
    let neither = |key: &str| no_token(key) || ZONE_FIELDS.contains(&key);
    let has_token = fields.contains_key(SECURITY_TOKEN);
    let has_zone = ZONE_FIELDS.iter().any(|k| fields.contains_key(*k));
    let check = |skip: &dyn Fn(&str) -> bool| {
        constant_time_eq(mac(fields, body, secret, skip).as_bytes(), given.as_bytes())
    };
    check(&base)
        || (has_token && check(&no_token))
        || (has_zone && check(&no_zone))
        || (has_token && has_zone && check(&neither))
}

/// The MAC over the signed content, leaving out `Signature` and the keys
/// `skip` names, fed piecewise (no copy of the body).
fn mac(fields: &ExtFields, body: &[u8], secret: &str, skip: impl Fn(&str) -> bool) -> String {
    // HMAC takes keys of any length; new_from_slice cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    let wanted = |key: &str| key != SIGNATURE && !skip(key);
    // Java's TreeMap orders keys by UTF-16 code units, BTreeMap by UTF-8
    // bytes. The two agree except between a supplementary character and one
    // in U+E000..U+FFFF, so only keys beyond ASCII need the Java order.
    if fields.keys().all(|k| k.is_ascii()) {
        for (_, value) in fields.iter().filter(|(k, _)| wanted(k)) {
            mac.update(value.as_bytes());
        }
    } else {
        let mut entries: Vec<_> = fields.iter().filter(|(k, _)| wanted(k)).collect();
        entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
        for (_, value) in entries {
            mac.update(value.as_bytes());
        }
    }
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Compares in time that depends on the lengths only (Java's
/// `MessageDigest.isEqual`), so a forger learns nothing from timing.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> ExtFields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Vectors computed independently (Python hmac/hashlib/base64).
    #[test]
    fn fixed_vectors() {
        let f = fields(&[("topic", "TopicTest"), ("AccessKey", "rocketmq2")]);
        // Signed bytes: "rocketmq2TopicTest".
        assert_eq!(sign(&f, b"", "12345678"), "GeeGoP9mRvDhoVp4PD5omX0prgE=");
        assert_eq!(
            sign(&f, b"{\"a\":1}", "12345678"),
            "wyzyQ5V9GmTwLFC6q2Iojw34tlA="
        );
        let f = fields(&[("topic", "主题"), ("AccessKey", "rocketmq2")]);
        assert_eq!(sign(&f, b"", "12345678"), "fCKY5vX7TQdMzYHx+oN327Q3I0g=");
    }

    #[test]
    fn verify_accepts_own_signature_and_refuses_others() {
        let mut f = fields(&[("topic", "TopicTest"), ("AccessKey", "rocketmq2")]);
        f.insert(SIGNATURE.into(), sign(&f, b"body", "12345678"));
        assert!(verify(&f, b"body", 500, "12345678"));
        assert!(!verify(&f, b"body", 500, "wrong"));
        assert!(!verify(&f, b"bodx", 500, "12345678"));
        f.insert("topic".into(), "Other".into());
        assert!(!verify(&f, b"body", 500, "12345678"));
        f.remove(SIGNATURE);
        assert!(!verify(&f, b"body", 500, "12345678"));
    }

    #[test]
    fn fields_added_after_signing_are_tolerated() {
        let mut f = fields(&[("topic", "T"), ("AccessKey", "ak")]);
        let sig = sign(&f, b"", "sk");
        f.insert(SIGNATURE.into(), sig);
        // Go client: SecurityToken sent but not signed.
        let mut go = f.clone();
        go.insert(SECURITY_TOKEN.into(), "tok".into());
        assert!(verify(&go, b"", 500, "sk"));
        // Zoned Java client, and both at once.
        let mut zoned = f.clone();
        zoned.insert("__ZONE_NAME".into(), "z1".into());
        zoned.insert("__ZONE_MODE".into(), "true".into());
        assert!(verify(&zoned, b"", 500, "sk"));
        zoned.insert(SECURITY_TOKEN.into(), "tok".into());
        assert!(verify(&zoned, b"", 500, "sk"));
        // A signed token still verifies the ordinary way.
        let mut signed = fields(&[("AccessKey", "ak"), (SECURITY_TOKEN, "tok")]);
        signed.insert(SIGNATURE.into(), sign(&signed, b"", "sk"));
        assert!(verify(&signed, b"", 500, "sk"));
        // Other unsigned additions are not.
        let mut other = f.clone();
        other.insert("extra".into(), "x".into());
        assert!(!verify(&other, b"", 500, "sk"));
    }

    #[test]
    fn unique_key_query_is_unsigned_only_for_old_clients() {
        let mut f = fields(&[("AccessKey", "ak"), ("topic", "T")]);
        f.insert(SIGNATURE.into(), sign(&f, b"", "sk"));
        f.insert(UNIQUE_KEY_QUERY.into(), "true".into());
        assert!(verify(&f, b"", V4_9_3, "sk"));
        assert!(!verify(&f, b"", V4_9_3 + 1, "sk"));
    }

    #[test]
    fn non_ascii_keys_follow_java_utf16_order() {
        // U+FF21 sorts before U+1F600 in UTF-8 but after it in UTF-16
        // (the surrogate D83D is below FF21): Java signs "ab".
        let f = fields(&[("\u{FF21}", "b"), ("\u{1F600}", "a")]);
        let keys: Vec<&String> = f.keys().collect();
        assert_eq!(keys, ["\u{FF21}", "\u{1F600}"]);
        let mut expected = Hmac::<Sha1>::new_from_slice(b"sk").unwrap();
        expected.update(b"ab");
        let expected = STANDARD.encode(expected.finalize().into_bytes());
        assert_eq!(sign(&f, b"", "sk"), expected);
    }
}
