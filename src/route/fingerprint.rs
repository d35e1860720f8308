//! What identifies a REGISTER_BROKER request byte for byte without parsing
//! its body: a broker re-sends the same registration every 30 s, and when
//! nothing changed in between, neither the header fields nor the body do.

use std::collections::BTreeMap;

/// The header fields (but `bodyCrc32`, which covers the whole body), the
/// client version and the body's length and stable CRC-32. Equal
/// fingerprints mean the same registration (up to a CRC collision of two
/// bodies of the same length, which the header's `bodyCrc32` would also miss).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationFingerprint {
    fields: BTreeMap<String, String>,
    version: i32,
    body_len: usize,
    body_crc32: u32,
}

/// The header field with the sender's CRC of the whole body.
const CLAIMED_CRC_FIELD: &str = "bodyCrc32";

impl RegistrationFingerprint {
    /// `body_crc32` is the CRC-32 of `body_len` bytes of body, computed once
    /// by the caller (it also checks the header's `bodyCrc32` with it).
    pub fn new(
        fields: &BTreeMap<String, String>,
        version: i32,
        body_len: usize,
        body_crc32: u32,
    ) -> Self {
        let mut fields = fields.clone();
        fields.remove(CLAIMED_CRC_FIELD);
        RegistrationFingerprint {
            fields,
            version,
            body_len,
            body_crc32,
        }
    }
}

/// The CRC-32 of a register body, once over the whole body (what the
/// header's `bodyCrc32` is checked against) and once without its
/// `mappingDataVersion` object. A 5.x broker builds that object afresh for
/// every registration, stamped with the time, and no NameServer reads it;
/// everything else in the body repeats byte for byte while nothing changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterBodyCrc {
    pub whole: u32,
    pub stable: u32,
}

/// Where to look for the object: fastjson writes keys in alphabetical order,
/// so it follows `filterServerList` and `dataVersion` at the very start.
const MAPPING_VERSION_WINDOW: usize = 4096;
const MAPPING_VERSION_KEY: &[u8] = br#""mappingDataVersion":{"#;

impl RegisterBodyCrc {
    /// One pass over the body.
    pub fn of(body: &[u8]) -> Self {
        let Some((start, end)) = mapping_version_span(body) else {
            let crc = crc32fast::hash(body);
            return RegisterBodyCrc {
                whole: crc,
                stable: crc,
            };
        };
        let mut stable = crc32fast::Hasher::new();
        stable.update(&body[..start]);
        let mut skipped = crc32fast::Hasher::new();
        skipped.update(&body[start..end]);
        let mut rest = crc32fast::Hasher::new();
        rest.update(&body[end..]);
        let mut whole = stable.clone();
        whole.combine(&skipped);
        whole.combine(&rest);
        stable.combine(&rest);
        RegisterBodyCrc {
            whole: whole.finalize(),
            stable: stable.finalize(),
        }
    }
}

/// The byte range of `"mappingDataVersion":{...}` near the start of a JSON
/// body. A DataVersion holds only numbers, so its object ends at the first
/// `}`; a key cannot occur inside a JSON string (its quotes would be escaped).
fn mapping_version_span(body: &[u8]) -> Option<(usize, usize)> {
    let window = &body[..body.len().min(MAPPING_VERSION_WINDOW)];
    let start = window
        .windows(MAPPING_VERSION_KEY.len())
        .position(|w| w == MAPPING_VERSION_KEY)?;
    let open = start + MAPPING_VERSION_KEY.len();
    let close = open + body[open..].iter().position(|&b| b == b'}')?;
    Some((start, close + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":1,"stateVersion":0,"timestamp":5},"mappingDataVersion":{"counter":0,"stateVersion":0,"timestamp":1795622018033},"topicConfigTable":{}}}"#;

    #[test]
    fn the_mapping_version_is_left_out_of_the_stable_crc_only() {
        let crc = RegisterBodyCrc::of(BODY.as_bytes());
        assert_eq!(crc.whole, crc32fast::hash(BODY.as_bytes()));
        let later = BODY.replace("1795622018033", "1795622028033");
        let later_crc = RegisterBodyCrc::of(later.as_bytes());
        assert_eq!(later_crc.stable, crc.stable);
        assert_ne!(later_crc.whole, crc.whole);
        let changed = BODY.replace(r#""counter":1"#, r#""counter":2"#);
        assert_ne!(RegisterBodyCrc::of(changed.as_bytes()).stable, crc.stable);
    }

    #[test]
    fn a_body_without_the_object_is_checksummed_whole() {
        for body in [
            &b"{}"[..],
            b"",
            b"\x78\x9c",
            br#"{"mappingDataVersion":{"counter":1"#,
        ] {
            let crc = RegisterBodyCrc::of(body);
            assert_eq!(
                (crc.whole, crc.stable),
                (crc32fast::hash(body), crc32fast::hash(body))
            );
        }
    }

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn any_field_version_or_body_difference_tells_them_apart() {
        let f = fields(&[("brokerName", "a"), ("brokerId", "0")]);
        let base = RegistrationFingerprint::new(&f, 479, 10, 7);
        assert_eq!(base, RegistrationFingerprint::new(&f, 479, 10, 7));
        let other = fields(&[("brokerName", "a"), ("brokerId", "1")]);
        assert_ne!(base, RegistrationFingerprint::new(&other, 479, 10, 7));
        assert_ne!(base, RegistrationFingerprint::new(&f, 401, 10, 7));
        assert_ne!(base, RegistrationFingerprint::new(&f, 479, 11, 7));
        assert_ne!(base, RegistrationFingerprint::new(&f, 479, 10, 8));
        let mut claimed = f.clone();
        claimed.insert("bodyCrc32".into(), "123".into());
        assert_eq!(base, RegistrationFingerprint::new(&claimed, 479, 10, 7));
    }
}
