//! What identifies a REGISTER_BROKER request byte for byte without parsing
//! its body: a broker re-sends the same registration every 30 s, and when
//! nothing changed in between, neither the header fields nor the body do.

use std::collections::BTreeMap;

use crc32fast::Hasher;

/// What identifies a registration: the header fields (but `bodyCrc32`),
/// the client version, the body's length, and what is known of the body:
/// its CRC-32 (as the sender claims it and as we computed it), the same
/// without the `mappingDataVersion` object, and how to recognise the body
/// from its first bytes and a claimed CRC when only that object changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationFingerprint {
    fields: BTreeMap<String, String>,
    version: i32,
    body_len: usize,
    whole_crc: u32,
    stable_crc: u32,
    split: Option<MappingSplit>,
}

/// A body cut around its `mappingDataVersion` object: the bytes before it,
/// and the CRC and length of those after it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MappingSplit {
    head: Box<[u8]>,
    head_crc: u32,
    tail_len: usize,
    tail_crc: u32,
}

/// The header field with the sender's CRC of the whole body.
const CLAIMED_CRC_FIELD: &str = "bodyCrc32";

/// Java sends `UtilAll.crc32`: java.util.zip.CRC32 masked to a non-negative int.
const JAVA_CRC_MASK: u32 = 0x7FFF_FFFF;

impl RegistrationFingerprint {
    /// `crc` is [`RegisterBodyCrc::of`] `body`, computed once by the caller
    /// (it also checks the header's `bodyCrc32` with it).
    pub(crate) fn new(
        fields: &BTreeMap<String, String>,
        version: i32,
        body: &[u8],
        crc: RegisterBodyCrc,
    ) -> Self {
        let mut fields = fields.clone();
        fields.remove(CLAIMED_CRC_FIELD);
        let split = crc.mapping.map(|m| MappingSplit {
            head: body[..m.start].into(),
            head_crc: crc32fast::hash(&body[..m.start]),
            tail_len: body.len() - m.end,
            tail_crc: m.tail_crc,
        });
        RegistrationFingerprint {
            fields,
            version,
            body_len: body.len(),
            whole_crc: crc.whole,
            stable_crc: crc.stable,
            split,
        }
    }

    /// Whether a request has the same header fields (but `bodyCrc32`),
    /// version and body length, compared without copying them.
    pub(crate) fn same_request(
        &self,
        fields: &BTreeMap<String, String>,
        version: i32,
        body_len: usize,
    ) -> bool {
        let theirs = fields.iter().filter(|(k, _)| *k != CLAIMED_CRC_FIELD);
        self.version == version
            && self.body_len == body_len
            && self.fields.len() == theirs.clone().count()
            && self.fields.iter().eq(theirs)
    }

    /// Whether a body of the same length is this one, as far as its
    /// sender's `bodyCrc32` (`claimed`, never 0) and its first bytes
    /// (`prefix`) tell, without reading the rest: the claimed CRC is the
    /// one already checked, or the first bytes are the same up to a
    /// `mappingDataVersion` object and the claimed CRC is what the body has
    /// with that object in place. The rest then is as before, unless the
    /// sender's CRC is wrong, which TCP's own checksums leave to a broker
    /// that lies; and a topic change would show in the data version, which
    /// is in those first bytes.
    pub(crate) fn same_body_claimed(&self, claimed: u32, prefix: &[u8]) -> bool {
        if claimed == self.whole_crc & JAVA_CRC_MASK {
            return true;
        }
        let Some(split) = &self.split else {
            return false;
        };
        let Some(rest) = prefix.strip_prefix(&*split.head) else {
            return false;
        };
        let Some(object_len) = mapping_version_len(rest) else {
            return false;
        };
        if split.head.len() + object_len + split.tail_len != self.body_len {
            return false;
        }
        let mut crc = Hasher::new_with_initial_len(split.head_crc, split.head.len() as u64);
        crc.update(&rest[..object_len]);
        crc.combine(&Hasher::new_with_initial_len(
            split.tail_crc,
            split.tail_len as u64,
        ));
        crc.finalize() & JAVA_CRC_MASK == claimed
    }

    /// Whether a body of the same length is this one, by its CRC computed
    /// in full (for a sender that claims none).
    pub(crate) fn same_body(&self, crc: RegisterBodyCrc) -> bool {
        self.stable_crc == crc.stable
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
    mapping: Option<MappingSpan>,
}

/// Where the object sits, and the CRC of what follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MappingSpan {
    start: usize,
    end: usize,
    tail_crc: u32,
}

/// How many of a body's first bytes hold the object if it has one:
/// fastjson writes keys in alphabetical order, so it follows
/// `filterServerList` and `dataVersion` at the very start.
pub const MAPPING_VERSION_WINDOW: usize = 4096;
const MAPPING_VERSION_KEY: &[u8] = br#""mappingDataVersion":{"#;

impl RegisterBodyCrc {
    /// One pass over the body.
    pub(crate) fn of(body: &[u8]) -> Self {
        let Some((start, end)) = mapping_version_span(body) else {
            let crc = crc32fast::hash(body);
            return RegisterBodyCrc {
                whole: crc,
                stable: crc,
                mapping: None,
            };
        };
        let mut stable = Hasher::new();
        stable.update(&body[..start]);
        let mut skipped = Hasher::new();
        skipped.update(&body[start..end]);
        let mut rest = Hasher::new();
        rest.update(&body[end..]);
        let mut whole = stable.clone();
        whole.combine(&skipped);
        whole.combine(&rest);
        stable.combine(&rest);
        RegisterBodyCrc {
            whole: whole.finalize(),
            stable: stable.finalize(),
            mapping: Some(MappingSpan {
                start,
                end,
                tail_crc: rest.finalize(),
            }),
        }
    }
}

/// The byte range of `"mappingDataVersion":{...}` near the start of a JSON
/// body.
fn mapping_version_span(body: &[u8]) -> Option<(usize, usize)> {
    let window = &body[..body.len().min(MAPPING_VERSION_WINDOW)];
    let start = window
        .windows(MAPPING_VERSION_KEY.len())
        .position(|w| w == MAPPING_VERSION_KEY)?;
    Some((start, start + mapping_version_len(&body[start..])?))
}

/// The length of the `"mappingDataVersion":{...}` that `bytes` starts
/// with. A DataVersion holds only numbers, so its object ends at the first
/// `}`; a key cannot occur inside a JSON string (its quotes would be escaped).
fn mapping_version_len(bytes: &[u8]) -> Option<usize> {
    let open = MAPPING_VERSION_KEY.len();
    if !bytes.starts_with(MAPPING_VERSION_KEY) {
        return None;
    }
    let close = open + bytes[open..].iter().position(|&b| b == b'}')?;
    Some(close + 1)
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

    fn claim(body: &[u8]) -> u32 {
        crc32fast::hash(body) & JAVA_CRC_MASK
    }

    fn print(fields: &BTreeMap<String, String>, body: &str) -> RegistrationFingerprint {
        RegistrationFingerprint::new(
            fields,
            479,
            body.as_bytes(),
            RegisterBodyCrc::of(body.as_bytes()),
        )
    }

    #[test]
    fn any_field_version_or_length_difference_is_another_request() {
        let f = fields(&[("brokerName", "a"), ("brokerId", "0")]);
        let base = print(&f, BODY);
        assert!(base.same_request(&f, 479, BODY.len()));
        let other = fields(&[("brokerName", "a"), ("brokerId", "1")]);
        assert!(!base.same_request(&other, 479, BODY.len()));
        let more = fields(&[("brokerName", "a"), ("brokerId", "0"), ("x", "")]);
        assert!(!base.same_request(&more, 479, BODY.len()));
        assert!(!base.same_request(&f, 401, BODY.len()));
        assert!(!base.same_request(&f, 479, BODY.len() + 1));
        let mut claimed = f.clone();
        claimed.insert("bodyCrc32".into(), "123".into());
        assert!(base.same_request(&claimed, 479, BODY.len()));
    }

    #[test]
    fn a_claimed_crc_recognises_the_body_from_its_first_bytes() {
        let fp = print(&fields(&[]), BODY);
        // The same body, byte for byte: the claim alone tells.
        assert!(fp.same_body_claimed(claim(BODY.as_bytes()), b""));
        // Only the mapping version's stamp moved: the claim is what the
        // body has with the new stamp in place.
        let later = BODY.replace("1795622018033", "1795622028033");
        let later_prefix = &later.as_bytes()[..BODY.len().min(200)];
        assert!(fp.same_body_claimed(claim(later.as_bytes()), later_prefix));
        // A claim that does not fit those first bytes is another body.
        assert!(!fp.same_body_claimed(claim(later.as_bytes()), BODY.as_bytes()));
        assert!(!fp.same_body_claimed(claim(later.as_bytes()) ^ 1, later_prefix));
        // The data version moved: the first bytes differ.
        let changed = later.replace(r#""counter":1"#, r#""counter":2"#);
        assert!(!fp.same_body_claimed(claim(changed.as_bytes()), changed.as_bytes()));
        // Something after the object changed: the claim does not fit.
        let tail = later.replace(r#""topicConfigTable":{}"#, r#""topicConfigTable":[]"#);
        assert!(!fp.same_body_claimed(claim(tail.as_bytes()), tail.as_bytes()));
        // The object cut off by the end of the first bytes: not recognised.
        let cut = later.find("1795622028033").unwrap();
        assert!(!fp.same_body_claimed(claim(later.as_bytes()), &later.as_bytes()[..cut]));
    }

    #[test]
    fn without_the_object_only_the_same_claim_recognises_the_body() {
        let body = r#"{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":1}}}"#;
        let fp = print(&fields(&[]), body);
        assert!(fp.same_body_claimed(claim(body.as_bytes()), b""));
        let other = body.replace('1', "2");
        assert!(!fp.same_body_claimed(claim(other.as_bytes()), other.as_bytes()));
        assert!(fp.same_body(RegisterBodyCrc::of(body.as_bytes())));
        assert!(!fp.same_body(RegisterBodyCrc::of(other.as_bytes())));
    }
}
