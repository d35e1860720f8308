//! Reading a broker's JSON body against the [`TableLayout`] of its last
//! one: runs of topic entries whose bytes recur are stepped over by their
//! digest, and only the rest is parsed. A changed registration usually
//! differs from the last in its data version and a topic or two, so a
//! 10,000-topic body costs a hash of its bytes instead of a parse.
//!
//! Whatever is not stepped over is checked by the same parser as a whole
//! body: the body with its table emptied (everything but the topics), and
//! each stretch of entries in between known runs. Anything unexpected
//! (spacing, a repeated or renamed topic, too much changed) gives `None`,
//! and the body is read in full instead.

use std::ops::Range;

use super::layout::{self, key_hash, key_tag, Builder, TableLayout};
use crate::route::model::TopicTable;
use crate::route::register_body::{fast, RegisterBrokerBody};
use crate::route::{FastMap, FastSet};

const TABLE_KEY: &[u8] = br#""topicConfigTable":{"#;

/// A body this small is read against its layout however much changed.
const SMALL_BODY: usize = 64 << 10;

/// A body read against an earlier layout.
#[derive(Debug)]
pub(crate) struct Incremental {
    /// Everything but the topics of the runs stepped over.
    pub(crate) body: RegisterBrokerBody,
    /// How many topics those runs hold.
    pub(crate) reused_topics: usize,
    /// The layout of this body, for the next one.
    pub(crate) layout: TableLayout,
}

/// Reads `body` against `known`, the layout of the same broker's last body.
pub(crate) fn read_against(body: &[u8], known: &TableLayout) -> Option<Incremental> {
    let open = memchr::memmem::find(body, TABLE_KEY)? + TABLE_KEY.len();
    let walk = walk_table(body, open, known)?;
    if walk.reused_topics == 0 {
        // Nothing recurs: reading it whole is no dearer.
        return None;
    }
    // The body with its table emptied: everything else, parsed as a body,
    // and the table key it takes must be the one found above.
    let mut rest = Vec::with_capacity(open + body.len() - walk.close);
    rest.extend_from_slice(&body[..open]);
    rest.extend_from_slice(&body[walk.close..]);
    let (mut parsed, spans) = fast::parse_spans(&rest)?;
    if spans.table_key != Some(open - TABLE_KEY.len()) {
        return None;
    }
    parsed.wrapper.topics = read_stretches(body, &walk)?;
    Some(Incremental {
        body: parsed,
        reused_topics: walk.reused_topics,
        layout: walk.layout,
    })
}

/// The table's entries between `open` and its closing brace, as known runs
/// and stretches of other entries.
struct Walk {
    close: usize,
    stretches: Vec<Stretch>,
    reused_topics: usize,
    layout: TableLayout,
}

/// Consecutive entries in no known run.
struct Stretch {
    span: Range<usize>,
    /// Each entry's raw key.
    keys: Vec<Range<usize>>,
}

fn walk_table(body: &[u8], open: usize, known: &TableLayout) -> Option<Walk> {
    let mut builder = Builder::new(body, known.topics());
    let mut stretches: Vec<Stretch> = Vec::new();
    let mut in_stretch = false;
    let mut used = vec![false; known.runs.len()];
    let mut by_first_key: Option<FastMap<u64, usize>> = None;
    // Tags of the entries read: equal bytes mean equal topics only if no
    // topic is also named elsewhere in the body.
    let mut read_tags = FastSet::default();
    let (mut reused_topics, mut read_bytes) = (0, 0usize);
    let mut next_run = 0;
    let mut at = open;
    let close = loop {
        // An entry's key next (an empty table has nothing to step over).
        if body.get(at) != Some(&b'"') {
            return None;
        }
        let key_end = layout::string_end(body, at)?;
        let key = body.get(at + 1..key_end - 1)?;
        let hash = key_hash(key);
        // The run after the last one found, else any starting with this key.
        let candidate = match known.runs.get(next_run) {
            Some(run) if run.first_key == hash => Some(next_run),
            _ => by_first_key
                .get_or_insert_with(|| {
                    known
                        .runs
                        .iter()
                        .enumerate()
                        .map(|(i, r)| (r.first_key, i))
                        .collect()
                })
                .get(&hash)
                .copied(),
        };
        let found = candidate.filter(|&i| {
            let run = &known.runs[i];
            !used[i]
                && known.stands(run)
                && TableLayout::matches_at(body, at, run)
                && matches!(body.get(at + run.len as usize), Some(b',' | b'}'))
        });
        if let Some(i) = found {
            let run = &known.runs[i];
            used[i] = true;
            builder.reuse(known, run);
            reused_topics += run.topics as usize;
            next_run = i + 1;
            in_stretch = false;
            at += run.len as usize;
        } else {
            let (_, end) = layout::entry_at(body, at)?;
            if !read_tags.insert(key_tag(hash)) {
                return None;
            }
            builder.entry(at..end, hash);
            let key = at + 1..key_end - 1;
            match stretches.last_mut() {
                Some(s) if in_stretch => {
                    s.span.end = end;
                    s.keys.push(key);
                }
                _ => stretches.push(Stretch {
                    span: at..end,
                    keys: std::iter::once(key).collect(),
                }),
            }
            in_stretch = true;
            read_bytes += end - at;
            // Past this much of a large body, reading it whole is cheaper.
            if read_bytes > (body.len() / 4).max(SMALL_BODY) {
                return None;
            }
            at = end;
        }
        match body.get(at)? {
            b',' => at += 1,
            b'}' => break at,
            _ => return None,
        }
    };
    if !read_tags.is_empty() {
        let reused = known.runs.iter().zip(&used).filter(|(_, u)| **u);
        if reused
            .flat_map(|(run, _)| known.tags_of(run))
            .any(|t| read_tags.contains(t))
        {
            return None;
        }
    }
    Some(Walk {
        close,
        stretches,
        reused_topics,
        layout: builder.finish(),
    })
}

/// Parses each stretch as a table of its own; each topic must be named by
/// its key, as in the layout it came from.
fn read_stretches(body: &[u8], walk: &Walk) -> Option<TopicTable> {
    let entries = walk.stretches.iter().map(|s| s.keys.len()).sum();
    let mut topics = TopicTable::with_capacity(entries, entries * 16);
    let mut doc = Vec::new();
    for s in &walk.stretches {
        doc.clear();
        doc.push(b'{');
        doc.extend_from_slice(&body[s.span.clone()]);
        doc.push(b'}');
        let table = fast::parse_table(&doc)?;
        if table.len() != s.keys.len() {
            return None;
        }
        for ((name, queues), key) in table.iter().zip(&s.keys) {
            if name.as_bytes() != &body[key.clone()] {
                return None;
            }
            topics.push(name, queues);
        }
    }
    Some(topics)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::route::model::TopicQueues;
    use crate::route::register_body::{decode_with, Layout};

    fn entry(name: &str, perm: i32, attrs: &str) -> String {
        format!(
            r#""{name}":{{"attributes":{{{attrs}}},"order":false,"perm":{perm},"readQueueNums":8,"topicFilterType":"SINGLE_TAG","topicName":"{name}","topicSysFlag":0,"writeQueueNums":8}}"#
        )
    }

    fn body(counter: u64, entries: &[String]) -> Vec<u8> {
        format!(
            r#"{{"filterServerList":[],"topicConfigSerializeWrapper":{{"dataVersion":{{"counter":{counter},"stateVersion":0,"timestamp":1}},"topicConfigTable":{{{}}},"topicQueueMappingInfoMap":{{}}}}}}"#,
            entries.join(",")
        )
        .into_bytes()
    }

    fn layout_of(body: &[u8]) -> TableLayout {
        decode_with(body, false, 479, 1 << 24, Layout::Make)
            .unwrap()
            .layout
            .unwrap()
    }

    type Topics = Vec<(String, TopicQueues)>;

    fn topics_of(table: &TopicTable) -> Topics {
        table.iter().map(|(n, q)| (n.to_string(), q)).collect()
    }

    /// The topics `body` registers read in full, and read against the
    /// layout of `before` (those it read, and those of the runs it stepped
    /// over, which are the ones `before` holds at those places).
    fn both(before: &[u8], body: &[u8]) -> (Topics, Option<Topics>) {
        let full = decode_with(body, false, 479, 1 << 24, Layout::Skip).unwrap();
        let mut full = topics_of(&full.body.wrapper.topics);
        full.sort_by(|a, b| a.0.cmp(&b.0));
        let known = layout_of(before);
        let earlier = decode_with(before, false, 479, 1 << 24, Layout::Skip).unwrap();
        let earlier: Vec<_> = earlier.body.wrapper.topics.iter().collect();
        let read = read_against(body, &known).map(|read| {
            // The runs stepped over, found in the new layout by their digest.
            let mut topics = topics_of(&read.body.wrapper.topics);
            let mut stepped = 0;
            for run in &read.layout.runs {
                if let Some(old) = known.runs.iter().find(|r| r.digest == run.digest) {
                    let at = old.tags_at as usize;
                    for (n, q) in &earlier[at..at + old.topics as usize] {
                        topics.push((n.to_string(), *q));
                    }
                    stepped += old.topics as usize;
                }
            }
            assert_eq!(stepped, read.reused_topics);
            topics.sort_by(|a, b| a.0.cmp(&b.0));
            topics
        });
        (full, read)
    }

    fn entries(n: usize) -> Vec<String> {
        (0..n).map(|i| entry(&format!("Topic{i}"), 6, "")).collect()
    }

    #[test]
    fn a_new_data_version_alone_reads_no_topic() {
        let before = body(1, &entries(2000));
        let after = body(2, &entries(2000));
        let read = read_against(&after, &layout_of(&before)).unwrap();
        assert_eq!(read.reused_topics, 2000);
        assert!(read.body.wrapper.topics.is_empty());
        assert_eq!(read.body.wrapper.data_version.counter, 2);
        assert_eq!(read.layout, layout_of(&after));
    }

    #[test]
    fn an_added_topic_is_read_with_its_run_only() {
        let before = body(1, &entries(2000));
        let mut changed = entries(2000);
        changed.insert(700, entry("New", 4, r#""+k":"v""#));
        let after = body(2, &changed);
        let (full, read) = both(&before, &after);
        assert_eq!(Some(&full), read.as_ref());
        let read = read_against(&after, &layout_of(&before)).unwrap();
        assert!(read.body.wrapper.topics.len() <= 129);
        assert!(read.reused_topics >= 2000 - 128);
    }

    #[test]
    fn what_it_cannot_vouch_for_is_read_in_full() {
        let before = body(1, &entries(300));
        let known = layout_of(&before);
        // A topic named twice: once in a run it repeats.
        let mut twice = entries(300);
        twice.push(entry("Topic5", 2, ""));
        assert!(read_against(&body(2, &twice), &known).is_none());
        // A topic named other than by its key.
        let mut renamed = entries(300);
        renamed[10] = renamed[10].replace(r#""topicName":"Topic10""#, r#""topicName":"X""#);
        assert!(read_against(&body(2, &renamed), &known).is_none());
        // Spaces between entries; a table cut short; not JSON after it.
        let spaced = String::from_utf8(body(2, &entries(300)))
            .unwrap()
            .replace("},\"", "}, \"");
        assert!(read_against(spaced.as_bytes(), &known).is_none());
        let whole = body(2, &entries(300));
        assert!(read_against(&whole[..whole.len() - 40], &known).is_none());
        let mut broken = whole.clone();
        let at = broken.len() - 3;
        broken[at] = b'x';
        assert!(read_against(&broken, &known).is_none());
    }

    #[test]
    fn a_decoy_table_first_is_not_taken_for_the_table() {
        let known = layout_of(&body(1, &entries(300)));
        let decoy = format!(
            r#"{{"x":{{"topicConfigTable":{{{}}}}},"filterServerList":[],"topicConfigSerializeWrapper":{{"topicConfigTable":{{{}}}}}}}"#,
            entries(300).join(","),
            entry("Other", 6, "")
        );
        assert!(read_against(decoy.as_bytes(), &known).is_none());
    }

    #[derive(Debug, Clone)]
    enum Edit {
        Perm(prop::sample::Index),
        Attrs(prop::sample::Index),
        Remove(prop::sample::Index),
        Insert(usize, prop::sample::Index),
        Move(prop::sample::Index, prop::sample::Index),
        Twice(prop::sample::Index, prop::sample::Index),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        use prop::sample::Index;
        prop_oneof![
            any::<Index>().prop_map(Edit::Perm),
            any::<Index>().prop_map(Edit::Attrs),
            any::<Index>().prop_map(Edit::Remove),
            (0usize..2000, any::<Index>()).prop_map(|(t, at)| Edit::Insert(t, at)),
            (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Move(a, b)),
            (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Twice(a, b)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Read against the layout of the body before, a body registers
        /// the topics it does read in full, or is read in full.
        #[test]
        fn reading_against_the_last_body_changes_no_topic(
            n in 0usize..1500,
            edits in prop::collection::vec(edit(), 0..8),
        ) {
            let mut es: Vec<(String, String)> = (0..n).map(|i| (format!("Topic{i}"), entry(&format!("Topic{i}"), 6, ""))).collect();
            let before = body(1, &es.iter().map(|e| e.1.clone()).collect::<Vec<_>>());
            for e in &edits {
                if es.is_empty() {
                    break;
                }
                match e {
                    Edit::Perm(i) => { let i = i.index(es.len()); es[i].1 = entry(&es[i].0, 2, ""); }
                    Edit::Attrs(i) => { let i = i.index(es.len()); es[i].1 = entry(&es[i].0, 6, r#""+a":"}{\"]""#); }
                    Edit::Remove(i) => { es.remove(i.index(es.len())); }
                    Edit::Insert(t, at) => { let name = format!("New{t}"); let at = at.index(es.len() + 1); es.insert(at, (name.clone(), entry(&name, 4, ""))); }
                    Edit::Move(a, b) => { let e = es.remove(a.index(es.len())); let at = b.index(es.len() + 1); es.insert(at, e); }
                    Edit::Twice(a, b) => { let e = es[a.index(es.len())].clone(); let at = b.index(es.len() + 1); es.insert(at, (e.0.clone(), entry(&e.0, 4, ""))); }
                }
            }
            let after = body(2, &es.iter().map(|e| e.1.clone()).collect::<Vec<_>>());
            let (full, read) = both(&before, &after);
            if let Some(read) = read {
                prop_assert_eq!(full, read);
            }
        }
    }
}
