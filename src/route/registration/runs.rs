//! What a broker's last full registration wrote into the topic table, kept
//! as one digest per run of its topics: a few kilobytes for 10,000 topics,
//! so no copy of the table is kept. A changed registration usually repeats
//! most of those runs (a new data version, one topic added or changed);
//! a run whose digest is known was written exactly so and can be left
//! alone, and only the topics of the other runs are looked up in the table.
//!
//! Runs are cut where a topic's name hash says so, not every N topics, so a
//! topic added or removed changes the run it falls in and no other.

use std::sync::LazyLock;

use super::layout::TableLayout;
use crate::route::model::{TopicQueues, TopicTable};
use crate::route::FastSet;

/// A run ends after a topic whose name hash is 0 modulo this (32 topics on
/// average), or when it reaches [`MAX_RUN`].
const RUN_CUT: u64 = 32;
const MAX_RUN: usize = 128;

/// Seeded once per process: digests never leave it.
static SEED: LazyLock<foldhash::quality::RandomState> =
    LazyLock::new(foldhash::quality::RandomState::default);

/// A registration's topics cut into runs, each with its digest.
#[derive(Debug, Clone, Default)]
pub struct TopicRuns {
    /// (end, digest) in table order; a run starts where the previous ends.
    runs: Vec<(usize, u64)>,
}

impl TopicRuns {
    pub(crate) fn of(table: &TopicTable) -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut runs = Vec::with_capacity(table.len() / RUN_CUT as usize + 1);
        let mut digest = SEED.build_hasher();
        let mut in_run = 0;
        for (i, (_, name_hash, queues)) in table.iter_hashed().enumerate() {
            digest.write_u64(name_hash);
            write_queues(&mut digest, &queues);
            in_run += 1;
            if name_hash % RUN_CUT == 0 || in_run == MAX_RUN || i + 1 == table.len() {
                runs.push((i + 1, digest.finish()));
                digest = SEED.build_hasher();
                in_run = 0;
            }
        }
        TopicRuns { runs }
    }

    /// For each topic, whether its run is one of `written`'s.
    pub(crate) fn known_in(&self, written: &AppliedTopics) -> Vec<bool> {
        let mut known = Vec::with_capacity(self.runs.last().map_or(0, |r| r.0));
        for &(end, digest) in &self.runs {
            known.resize(end, written.digests.contains(&digest));
        }
        known
    }
}

fn write_queues(h: &mut impl std::hash::Hasher, q: &TopicQueues) {
    h.write_i32(q.read_queue_nums);
    h.write_i32(q.write_queue_nums);
    h.write_i32(q.perm);
    h.write_i32(q.topic_sys_flag);
}

/// The runs a broker's last full registration wrote, and how: by which
/// broker id of the group, and whether write permission was taken away (a
/// prime slave standing in for its master). Valid while nothing else has
/// changed that group's queue data; whatever does drops it.
#[derive(Debug, Clone)]
pub struct AppliedTopics {
    pub writer: i64,
    pub read_only: bool,
    digests: FastSet<u64>,
    /// The raw layout of the JSON body that wrote it, when one was made:
    /// the broker's next body is read against it, and the topics of the
    /// runs that body repeats stand as written here.
    pub layout: Option<TableLayout>,
}

impl AppliedTopics {
    pub(crate) fn new(
        writer: i64,
        read_only: bool,
        runs: &TopicRuns,
        layout: Option<TableLayout>,
    ) -> Self {
        AppliedTopics {
            writer,
            read_only,
            digests: runs.runs.iter().map(|r| r.1).collect(),
            layout,
        }
    }

    /// This entry, with `topics` written since by a smaller registration
    /// of the same writer; `None` when it has no layout to keep them in or
    /// they are too many.
    pub(crate) fn with_rewritten<'n>(&self, topics: impl Iterator<Item = &'n str>) -> Option<Self> {
        let layout = self.layout.as_ref()?.with_rewritten(topics)?;
        Some(AppliedTopics {
            layout: Some(layout),
            ..self.clone()
        })
    }

    /// Whether `topic` was written since, so that its run's digest no
    /// longer vouches for it.
    pub(crate) fn rewrote(&self, topic: &str) -> bool {
        self.layout.as_ref().is_some_and(|l| l.rewrote(topic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(names: impl IntoIterator<Item = String>, perm: i32) -> TopicTable {
        let mut t = TopicTable::default();
        for n in names {
            t.push(
                &n,
                TopicQueues {
                    perm,
                    ..TopicQueues::default()
                },
            );
        }
        t
    }

    fn names(range: std::ops::Range<usize>) -> impl Iterator<Item = String> {
        range.map(|i| format!("Topic{i}"))
    }

    #[test]
    fn the_same_table_is_known_throughout() {
        let t = table(names(0..1000), 6);
        let runs = TopicRuns::of(&t);
        assert!(runs.runs.len() > 5, "{} runs", runs.runs.len());
        let written = AppliedTopics::new(0, false, &runs, None);
        assert_eq!(TopicRuns::of(&t).known_in(&written), vec![true; 1000]);
    }

    #[test]
    fn one_changed_topic_unknowns_only_its_run() {
        let before = TopicRuns::of(&table(names(0..1000), 6));
        let written = AppliedTopics::new(0, false, &before, None);
        let mut changed = table(names(0..1000), 6);
        changed.retain(|n, _| n != "Topic500");
        let mut after = TopicTable::default();
        for (i, (n, q)) in table(names(0..1000), 6).iter().enumerate() {
            let q = if i == 500 {
                TopicQueues { perm: 4, ..q }
            } else {
                q
            };
            after.push(n, q);
        }
        let known = TopicRuns::of(&after).known_in(&written);
        assert!(!known[500]);
        let unknown = known.iter().filter(|k| !**k).count();
        assert!(unknown <= MAX_RUN, "{unknown} topics unknown");
        // Removing a topic or adding one also stays near its run (a removed
        // cut joins two runs, an added one splits one): the later runs are
        // cut at the same names.
        let removed = TopicRuns::of(&changed).known_in(&written);
        assert!(removed.iter().filter(|k| !**k).count() <= 3 * MAX_RUN);
        let added = table(
            names(0..500)
                .chain(["New".to_string()])
                .chain(names(500..1000)),
            6,
        );
        let known = TopicRuns::of(&added).known_in(&written);
        assert!(!known[500]);
        assert!(known.iter().filter(|k| !**k).count() <= 3 * MAX_RUN);
    }

    #[test]
    fn an_empty_table_has_no_runs() {
        let runs = TopicRuns::of(&TopicTable::default());
        assert!(runs.runs.is_empty());
        let written = AppliedTopics::new(0, false, &runs, None);
        assert!(runs.known_in(&written).is_empty());
    }
}
