//! Where the topics of a JSON body's `topicConfigTable` lie, kept as the
//! raw bytes of runs of entries, each run with a digest: about 24 bytes per
//! 32 topics, and 4 more per topic to tell names apart. The next body of
//! the same broker is read against it ([`super::incremental`]): a run whose
//! bytes recur is known without being parsed.
//!
//! Runs are cut where a key's hash says so, not every N entries, so a topic
//! added, changed or removed changes the run it falls in and no other.

use std::ops::Range;
use std::sync::LazyLock;

/// A run ends after an entry whose key hash is 0 modulo this (32 entries on
/// average), or when it reaches [`MAX_RUN`].
const RUN_CUT: u64 = 32;
const MAX_RUN: u32 = 128;

/// Topics a layout keeps as rewritten since (see [`TableLayout::rewritten`])
/// before it is dropped instead.
const MAX_REWRITTEN: usize = 64;

/// Seeded once per process: layouts never leave it.
static KEY_SEED: LazyLock<foldhash::quality::RandomState> =
    LazyLock::new(foldhash::quality::RandomState::default);
static SPAN_SEED: LazyLock<foldhash::quality::RandomState> =
    LazyLock::new(foldhash::quality::RandomState::default);

pub(super) fn key_hash(raw_key: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    KEY_SEED.hash_one(raw_key)
}

/// The short form of a key's hash that [`TableLayout`] keeps per topic.
pub(super) fn key_tag(key_hash: u64) -> u32 {
    (key_hash >> 32) as u32
}

fn span_digest(bytes: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    SPAN_SEED.hash_one(bytes)
}

/// Consecutive entries of a table: from the first key's opening quote to the
/// last value's end, the commas between them included.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct RawRun {
    pub digest: u64,
    pub len: u32,
    pub topics: u32,
    /// [`key_hash`] of the run's first key.
    pub first_key: u64,
    /// Where the run's key tags start in [`TableLayout::key_tags`].
    pub tags_at: u32,
}

/// The runs of a body's topic table, in body order. Made only for a table
/// whose every topic is named by its key (the usual `"T":{"topicName":"T"}`)
/// and named once, so equal bytes mean equal topics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableLayout {
    pub(super) runs: Vec<RawRun>,
    /// [`key_tag`] of every entry's key, in body order.
    pub(super) key_tags: Vec<u32>,
    /// Tags of topics written since by a smaller registration of the same
    /// broker (a Java broker sends the one topic `updateTopic` changed):
    /// runs holding one no longer stand as this body wrote them.
    rewritten: Vec<u32>,
}

impl TableLayout {
    pub fn topics(&self) -> usize {
        self.key_tags.len()
    }

    /// Whether the topics of `run` still stand as this layout's body wrote
    /// them (none was rewritten since).
    pub(super) fn stands(&self, run: &RawRun) -> bool {
        self.rewritten.is_empty() || !self.tags_of(run).iter().any(|t| self.rewritten.contains(t))
    }

    /// Whether `topic` was written since by a smaller registration.
    pub fn rewrote(&self, topic: &str) -> bool {
        !self.rewritten.is_empty()
            && self
                .rewritten
                .contains(&key_tag(key_hash(topic.as_bytes())))
    }

    /// This layout with `topics` written since; `None` when that makes too
    /// many to keep track of.
    pub fn with_rewritten<'n>(&self, topics: impl Iterator<Item = &'n str>) -> Option<Self> {
        let mut rewritten = self.rewritten.clone();
        for topic in topics {
            rewritten.push(key_tag(key_hash(topic.as_bytes())));
            if rewritten.len() > MAX_REWRITTEN {
                return None;
            }
        }
        Some(TableLayout {
            rewritten,
            ..self.clone()
        })
    }

    pub(super) fn tags_of(&self, run: &RawRun) -> &[u32] {
        let at = run.tags_at as usize;
        self.key_tags
            .get(at..at + run.topics as usize)
            .unwrap_or_default()
    }

    /// The bytes a run covers, when `body` holds it at `at`.
    pub(super) fn matches_at(body: &[u8], at: usize, run: &RawRun) -> bool {
        body.get(at..at + run.len as usize)
            .is_some_and(|span| span_digest(span) == run.digest)
    }
}

/// Builds a [`TableLayout`] from entries in body order, and from runs of an
/// earlier layout found again.
pub(super) struct Builder<'b> {
    body: &'b [u8],
    layout: TableLayout,
    open: Option<OpenRun>,
}

struct OpenRun {
    start: usize,
    end: usize,
    topics: u32,
    first_key: u64,
    tags_at: u32,
}

impl<'b> Builder<'b> {
    pub fn new(body: &'b [u8], topics: usize) -> Self {
        Builder {
            body,
            layout: TableLayout {
                runs: Vec::with_capacity(topics / RUN_CUT as usize + 1),
                key_tags: Vec::with_capacity(topics),
                rewritten: Vec::new(),
            },
            open: None,
        }
    }

    /// An entry spanning `span`, whose key hashes to `key`; it follows the
    /// previous entry, if in the same run, after one comma.
    pub fn entry(&mut self, span: Range<usize>, key: u64) {
        let tags_at = self.layout.key_tags.len() as u32;
        let run = self.open.get_or_insert(OpenRun {
            start: span.start,
            end: span.end,
            topics: 0,
            first_key: key,
            tags_at,
        });
        run.end = span.end;
        run.topics += 1;
        self.layout.key_tags.push(key_tag(key));
        if key.is_multiple_of(RUN_CUT) || run.topics == MAX_RUN {
            self.cut();
        }
    }

    /// A run of `earlier` found again in this body.
    pub fn reuse(&mut self, earlier: &TableLayout, run: &RawRun) {
        self.cut();
        let tags_at = self.layout.key_tags.len() as u32;
        self.layout.key_tags.extend_from_slice(earlier.tags_of(run));
        self.layout.runs.push(RawRun { tags_at, ..*run });
    }

    fn cut(&mut self) {
        if let Some(run) = self.open.take() {
            let span = self.body.get(run.start..run.end).unwrap_or_default();
            self.layout.runs.push(RawRun {
                digest: span_digest(span),
                len: (run.end - run.start) as u32,
                topics: run.topics,
                first_key: run.first_key,
                tags_at: run.tags_at,
            });
        }
    }

    pub fn finish(mut self) -> TableLayout {
        self.cut();
        self.layout
    }
}

/// The end of the JSON string whose opening quote is at `at`.
pub(super) fn string_end(body: &[u8], at: usize) -> Option<usize> {
    let mut i = at.checked_add(1)?;
    loop {
        let j = i + memchr::memchr2(b'"', b'\\', body.get(i..)?)?;
        if body[j] == b'"' {
            return Some(j + 1);
        }
        // An escape: the byte after the backslash is never the end.
        i = j + 2;
    }
}

/// The end of the JSON value starting at `at`. Exact for valid JSON;
/// whatever it returns for anything else is checked by a parser later.
fn value_end(body: &[u8], at: usize) -> Option<usize> {
    match *body.get(at)? {
        b'"' => string_end(body, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match *body.get(i)? {
                    b'"' => {
                        i = string_end(body, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let rest = body.get(at..)?;
            let len = rest
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())?;
            Some(at + len)
        }
    }
}

/// The entry `"key":value` whose key's opening quote is at `at`, written
/// compactly (no space around the colon): its raw key and its end.
pub(super) fn entry_at(body: &[u8], at: usize) -> Option<(&[u8], usize)> {
    if body.get(at) != Some(&b'"') {
        return None;
    }
    let key_end = string_end(body, at)?;
    if body.get(key_end) != Some(&b':') {
        return None;
    }
    let end = value_end(body, key_end + 1)?;
    Some((&body[at + 1..key_end - 1], end))
}

/// The layout of a table read in full: `keys` are the opening quotes of its
/// entries in `body`, `names` the topic each names, in the same order.
/// `None` unless the table is written compactly (entries one comma apart)
/// and every topic is named by its key, once.
pub(crate) fn of_table<'n>(
    body: &[u8],
    keys: &[usize],
    names: impl ExactSizeIterator<Item = &'n str>,
) -> Option<TableLayout> {
    if names.len() != keys.len() {
        return None;
    }
    let mut b = Builder::new(body, keys.len());
    let mut seen = crate::route::FastSet::with_capacity_and_hasher(keys.len(), Default::default());
    for (i, name) in names.enumerate() {
        let at = keys[i];
        let key_end = string_end(body, at)?;
        let key = body.get(at + 1..key_end - 1)?;
        if key != name.as_bytes() {
            return None;
        }
        let end = match keys.get(i + 1) {
            // The next key's quote, one comma after this value.
            Some(&next) if next >= 2 && body.get(next - 1) == Some(&b',') => next - 1,
            Some(_) => return None,
            None => entry_at(body, at)?.1,
        };
        let hash = key_hash(key);
        if !seen.insert(hash) {
            return None;
        }
        b.entry(at..end, hash);
    }
    Some(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_end_where_their_values_do() {
        let body = br#"{"a":{"x":"}\"{","y":[1,{"z":2}]},"b":7,"c\"d":"e"}"#;
        let (key, end) = entry_at(body, 1).unwrap();
        assert_eq!(key, b"a");
        assert_eq!(&body[end..end + 2], b",\"");
        let (key, end) = entry_at(body, end + 1).unwrap();
        assert_eq!(key, b"b");
        assert_eq!(body[end], b',');
        let (key, end) = entry_at(body, end + 1).unwrap();
        assert_eq!(key, br#"c\"d"#);
        assert_eq!(&body[end..], b"}");
        // Not at a key, a space before the colon, cut short.
        assert!(entry_at(body, 0).is_none());
        assert!(entry_at(br#"{"a" :1}"#, 1).is_none());
        assert!(entry_at(br#"{"a":{"b":1"#, 1).is_none());
        assert!(entry_at(br#"{"a"#, 1).is_none());
    }

    #[test]
    fn a_table_is_cut_into_runs_that_cover_it() {
        let entries: Vec<String> = (0..500)
            .map(|i| format!(r#""T{i}":{{"topicName":"T{i}","perm":6}}"#))
            .collect();
        let body = format!("{{{}}}", entries.join(","));
        let mut keys = Vec::new();
        let mut at = 1;
        for e in &entries {
            keys.push(at);
            at += e.len() + 1;
        }
        let names: Vec<String> = (0..500).map(|i| format!("T{i}")).collect();
        let layout = of_table(body.as_bytes(), &keys, names.iter().map(String::as_str)).unwrap();
        assert_eq!(layout.topics(), 500);
        assert!(layout.runs.len() > 5);
        let mut at = 1;
        for run in &layout.runs {
            assert!(TableLayout::matches_at(body.as_bytes(), at, run));
            at += run.len as usize + 1;
        }
        assert_eq!(at, body.len());
        // A name other than its key, or a name twice: no layout.
        let mut other = names.clone();
        other[3] = "X".into();
        assert!(of_table(body.as_bytes(), &keys, other.iter().map(String::as_str)).is_none());
        let twice = format!("{{{},{}}}", entries[0], entries[0]);
        let keys = [1, entries[0].len() + 2];
        assert!(of_table(twice.as_bytes(), &keys, ["T0", "T0"].into_iter()).is_none());
    }
}
