//! Encoded GET_ROUTEINFO_BY_TOPIC answers per topic and dialect, tagged with
//! the route table's generation: a lookup of an unchanged topic is a hash
//! lookup and a reference-count bump, with no table lock and no JSON work.

use std::collections::HashMap;

use bytes::Bytes;
use parking_lot::RwLock;

use crate::json_write::Dialect;

/// Beyond this many topics the cache starts over (bounds topics that vanished).
const MAX_TOPICS: usize = 200_000;

#[derive(Default)]
struct Entry {
    generation: u64,
    standard: Option<Bytes>,
    fastjson: Option<Bytes>,
}

#[derive(Default)]
pub struct RouteCache {
    entries: RwLock<HashMap<String, Entry>>,
}

impl RouteCache {
    pub fn get(&self, topic: &str, dialect: Dialect, generation: u64) -> Option<Bytes> {
        let entries = self.entries.read();
        let entry = entries.get(topic).filter(|e| e.generation == generation)?;
        match dialect {
            Dialect::Standard => entry.standard.clone(),
            Dialect::Fastjson => entry.fastjson.clone(),
        }
    }

    pub fn put(&self, topic: &str, dialect: Dialect, generation: u64, body: Bytes) {
        let mut entries = self.entries.write();
        if entries.len() >= MAX_TOPICS && !entries.contains_key(topic) {
            entries.clear();
        }
        let entry = entries.entry(topic.to_string()).or_default();
        if entry.generation != generation {
            // Only a newer answer replaces an entry; a slow writer of an old one is ignored.
            if entry.generation > generation {
                return;
            }
            *entry = Entry {
                generation,
                ..Entry::default()
            };
        }
        match dialect {
            Dialect::Standard => entry.standard = Some(body),
            Dialect::Fastjson => entry.fastjson = Some(body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_tied_to_their_generation() {
        let cache = RouteCache::default();
        cache.put("T", Dialect::Standard, 3, Bytes::from_static(b"v3"));
        assert_eq!(
            cache.get("T", Dialect::Standard, 3).as_deref(),
            Some(&b"v3"[..])
        );
        assert_eq!(cache.get("T", Dialect::Fastjson, 3), None);
        assert_eq!(cache.get("T", Dialect::Standard, 4), None);
        cache.put("T", Dialect::Standard, 2, Bytes::from_static(b"old"));
        assert_eq!(
            cache.get("T", Dialect::Standard, 3).as_deref(),
            Some(&b"v3"[..])
        );
        cache.put("T", Dialect::Fastjson, 4, Bytes::from_static(b"f4"));
        assert_eq!(cache.get("T", Dialect::Standard, 3), None);
        assert_eq!(
            cache.get("T", Dialect::Fastjson, 4).as_deref(),
            Some(&b"f4"[..])
        );
    }
}
