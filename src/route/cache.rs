//! Encoded GET_ROUTEINFO_BY_TOPIC answers per topic and dialect: a lookup of
//! an unchanged topic is a hash lookup and a reference-count bump, with no
//! table lock and no JSON work.
//!
//! An answer is valid while two things hold: the route table's generation
//! (bumped by changes that reach any topic) is the one it was computed at,
//! and its topic has not been invalidated since (changes that reach named
//! topics, such as a registration that altered some queue counts). A
//! computation that raced with either is not stored: callers take a
//! [`Ticket`] before reading the table and hand it back with the answer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::RwLock;

use crate::json::write::Dialect;

/// Beyond this many topics the cache starts over (bounds topics that vanished).
const MAX_TOPICS: usize = 200_000;

#[derive(Default)]
struct Entry {
    generation: u64,
    /// Stamp of the last invalidation of this topic.
    epoch: u64,
    standard: Option<Bytes>,
    fastjson: Option<Bytes>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<String, Entry>,
    /// Times the map was emptied; a topic absent now may have been
    /// invalidated before that.
    clears: u64,
}

#[derive(Default)]
pub struct RouteCache {
    entries: RwLock<Entries>,
    /// Source of invalidation stamps (never reused, so never confused).
    stamps: AtomicU64,
}

/// What a cache miss saw; [`RouteCache::put`] stores an answer only if
/// nothing invalidated it since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    generation: u64,
    epoch: u64,
    clears: u64,
}

impl RouteCache {
    /// The cached answer, or the ticket under which to store a fresh one.
    /// Take it before reading the route table.
    pub fn get(&self, topic: &str, dialect: Dialect, generation: u64) -> Result<Bytes, Ticket> {
        let entries = self.entries.read();
        let entry = entries.map.get(topic);
        if let Some(e) = entry.filter(|e| e.generation == generation) {
            let body = match dialect {
                Dialect::Standard => &e.standard,
                Dialect::Fastjson => &e.fastjson,
            };
            if let Some(body) = body {
                return Ok(body.clone());
            }
        }
        Err(Ticket {
            generation,
            epoch: entry.map_or(0, |e| e.epoch),
            clears: entries.clears,
        })
    }

    pub fn put(&self, topic: &str, dialect: Dialect, ticket: Ticket, body: Bytes) {
        let mut entries = self.entries.write();
        if entries.clears != ticket.clears {
            return;
        }
        if entries.map.len() >= MAX_TOPICS && !entries.map.contains_key(topic) {
            entries.map.clear();
            entries.clears += 1;
            return;
        }
        let entry = entries.map.entry(topic.to_string()).or_default();
        if entry.epoch != ticket.epoch || entry.generation > ticket.generation {
            return;
        }
        if entry.generation < ticket.generation {
            entry.generation = ticket.generation;
            entry.standard = None;
            entry.fastjson = None;
        }
        match dialect {
            Dialect::Standard => entry.standard = Some(body),
            Dialect::Fastjson => entry.fastjson = Some(body),
        }
    }

    /// Drops the answers of `topics` and refuses answers computed before now.
    pub fn invalidate<S: AsRef<str>>(&self, topics: &[S]) {
        if topics.is_empty() {
            return;
        }
        let mut entries = self.entries.write();
        if entries.map.len() + topics.len() > MAX_TOPICS {
            entries.map.clear();
            entries.clears += 1;
            return;
        }
        for topic in topics {
            let stamp = self.stamps.fetch_add(1, Ordering::Relaxed) + 1;
            let entry = match entries.map.get_mut(topic.as_ref()) {
                Some(entry) => entry,
                None => entries.map.entry(topic.as_ref().to_string()).or_default(),
            };
            entry.epoch = stamp;
            entry.standard = None;
            entry.fastjson = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn miss(cache: &RouteCache, dialect: Dialect, generation: u64) -> Ticket {
        cache
            .get("T", dialect, generation)
            .expect_err("expected a miss")
    }

    #[test]
    fn answers_are_tied_to_their_generation() {
        let cache = RouteCache::default();
        let t3 = miss(&cache, Dialect::Standard, 3);
        cache.put("T", Dialect::Standard, t3, Bytes::from_static(b"v3"));
        assert_eq!(
            cache.get("T", Dialect::Standard, 3).as_deref(),
            Ok(&b"v3"[..])
        );
        assert!(cache.get("T", Dialect::Fastjson, 3).is_err());
        assert!(cache.get("T", Dialect::Standard, 4).is_err());
        // An answer computed at an older generation does not replace a newer one.
        let old = Ticket {
            generation: 2,
            ..t3
        };
        cache.put("T", Dialect::Standard, old, Bytes::from_static(b"old"));
        assert_eq!(
            cache.get("T", Dialect::Standard, 3).as_deref(),
            Ok(&b"v3"[..])
        );
        let t4 = miss(&cache, Dialect::Fastjson, 4);
        cache.put("T", Dialect::Fastjson, t4, Bytes::from_static(b"f4"));
        assert!(cache.get("T", Dialect::Standard, 3).is_err());
        assert_eq!(
            cache.get("T", Dialect::Fastjson, 4).as_deref(),
            Ok(&b"f4"[..])
        );
    }

    #[test]
    fn invalidation_drops_the_topic_and_refuses_answers_computed_before_it() {
        let cache = RouteCache::default();
        let before = miss(&cache, Dialect::Standard, 1);
        // A registration changes T while the lookup computes its answer.
        cache.invalidate(&["T"]);
        cache.put("T", Dialect::Standard, before, Bytes::from_static(b"stale"));
        let after = miss(&cache, Dialect::Standard, 1);
        cache.put("T", Dialect::Standard, after, Bytes::from_static(b"fresh"));
        assert_eq!(
            cache.get("T", Dialect::Standard, 1).as_deref(),
            Ok(&b"fresh"[..])
        );
        // Other topics keep their answers.
        let u = cache.get("U", Dialect::Standard, 1).unwrap_err();
        cache.put("U", Dialect::Standard, u, Bytes::from_static(b"u"));
        cache.invalidate(&["T"]);
        assert!(cache.get("T", Dialect::Standard, 1).is_err());
        assert_eq!(
            cache.get("U", Dialect::Standard, 1).as_deref(),
            Ok(&b"u"[..])
        );
    }

    #[test]
    fn a_clear_refuses_answers_from_before_it() {
        let cache = RouteCache::default();
        let before = miss(&cache, Dialect::Standard, 1);
        let many: Vec<String> = (0..MAX_TOPICS + 1).map(|i| format!("X{i}")).collect();
        cache.invalidate(&many);
        cache.put("T", Dialect::Standard, before, Bytes::from_static(b"stale"));
        assert!(cache.get("T", Dialect::Standard, 1).is_err());
    }
}
