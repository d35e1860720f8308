//! The topic-queue table with the runs each broker group's last full
//! registration wrote into it. A group's runs vouch for its queue data only
//! while nothing else changed that data, so every mutator here but the
//! group's own registration ([`GroupWrite`]) forgets the runs of the groups
//! it touches: a new writer cannot forget to.

use std::collections::BTreeSet;
use std::ops::Deref;
use std::sync::Arc;

use crate::route::model::{QueueData, TopicQueues, PERM_WRITE};
use crate::route::registration::runs::AppliedTopics;
use crate::route::FastMap;

/// Where a broker's queue data is in a topic's queue list (`Ok`) or would
/// go (`Err`); `None` when the topic has no list. Found while only
/// reading, it saves the writer a second search of a list that may hold a
/// thousand brokers.
pub(super) type Slot = Option<Result<usize, usize>>;

#[derive(Debug, Default)]
pub(super) struct TopicQueueTable {
    /// topic → queue data per broker name, sorted by broker name.
    queues: FastMap<String, Vec<QueueData>>,
    /// brokerName → what its last full registration wrote into `queues`.
    runs: FastMap<Arc<str>, Arc<AppliedTopics>>,
}

/// Readers see the map as it is; only the methods below write it.
impl Deref for TopicQueueTable {
    type Target = FastMap<String, Vec<QueueData>>;

    fn deref(&self) -> &Self::Target {
        &self.queues
    }
}

impl TopicQueueTable {
    /// What `broker_name`'s last full registration wrote, while it stands.
    pub(super) fn runs_of(&self, broker_name: &str) -> Option<&Arc<AppliedTopics>> {
        self.runs.get(broker_name)
    }

    /// Sets `change(perm)` on every queue of `broker_name`; returns how
    /// many topics it touched.
    pub(super) fn set_perm(&mut self, broker_name: &str, change: impl Fn(i32) -> i32) -> usize {
        self.runs.remove(broker_name);
        let mut count = 0;
        for queues in self.queues.values_mut() {
            if let Some(q) = queues.iter_mut().find(|q| &*q.broker_name == broker_name) {
                q.perm = change(q.perm);
                count += 1;
            }
        }
        count
    }

    /// Removes `topic`'s queue data: every group's, or only that of the
    /// groups `only` names. The other groups' runs still stand.
    pub(super) fn delete_topic(&mut self, topic: &str, only: Option<&BTreeSet<Arc<str>>>) {
        let Some(queues) = self.queues.get_mut(topic) else {
            return;
        };
        let runs = &mut self.runs;
        queues.retain(|q| {
            let gone = only.is_none_or(|names| names.contains(&q.broker_name));
            if gone {
                runs.remove(&q.broker_name);
            }
            !gone
        });
        if queues.is_empty() {
            self.queues.remove(topic);
        }
    }

    /// Sets `topic`'s queue data for the groups `queues` name (interned
    /// broker names).
    pub(super) fn insert(&mut self, topic: &str, queues: Vec<QueueData>) {
        let entry = self.queues.entry(topic.to_string()).or_default();
        for q in queues {
            self.runs.remove(&q.broker_name);
            match entry.binary_search_by(|e| e.broker_name.cmp(&q.broker_name)) {
                Ok(i) => entry[i] = q,
                Err(i) => entry.insert(i, q),
            }
        }
    }

    /// Drops the queue data of the `removed` groups, and takes write
    /// permission from the `reduced` groups that `lost_master` says are
    /// left without a master to write.
    pub(super) fn remove_brokers(
        &mut self,
        removed: &BTreeSet<Arc<str>>,
        reduced: &BTreeSet<Arc<str>>,
        lost_master: impl Fn(&str) -> bool,
    ) {
        for name in removed.iter().chain(reduced) {
            self.runs.remove(name);
        }
        // Each name is looked up in the sorted queue lists: with a thousand
        // brokers per topic a full pass per removed broker made the removal
        // of many at once (a storm of closed connections) quadratic. Many
        // at once are dropped in one pass over each list instead: a search
        // and a shift per name would move each list once per name.
        let many: Option<crate::route::FastSet<&str>> =
            (removed.len() > 8).then(|| removed.iter().map(|n| &**n).collect());
        self.queues.retain(|topic, queues| {
            match &many {
                Some(names) => queues.retain(|q| !names.contains(&*q.broker_name)),
                None => {
                    for name in removed {
                        if let Ok(i) = queue_index(queues, name) {
                            queues.remove(i);
                        }
                    }
                }
            }
            if queues.is_empty() {
                tracing::debug!(topic, "topic has no queue left; removed");
                return false;
            }
            for name in reduced {
                if let Ok(i) = queue_index(queues, name) {
                    if lost_master(name) {
                        queues[i].perm &= !PERM_WRITE;
                    }
                }
            }
            true
        });
    }

    /// The start of `broker_name`'s own registration writing its queue
    /// data: its runs are taken out, to be replaced or put back by
    /// [`GroupWrite::finish`]; dropped unfinished, they stay forgotten.
    pub(super) fn group_write<'t>(&'t mut self, broker_name: &'t Arc<str>) -> GroupWrite<'t> {
        let last = self.runs.remove(broker_name);
        GroupWrite {
            table: self,
            broker_name,
            last,
        }
    }

    #[cfg(test)]
    pub(super) fn forget_all_runs(&mut self) {
        self.runs.clear();
    }
}

/// A group's registration writing its own queue data (see
/// [`TopicQueueTable::group_write`]).
pub(super) struct GroupWrite<'t> {
    table: &'t mut TopicQueueTable,
    broker_name: &'t Arc<str>,
    last: Option<Arc<AppliedTopics>>,
}

/// What a registration leaves as its group's runs.
pub(super) enum RunsAfter {
    /// What the group's last full registration wrote still stands.
    Last,
    Replaced(AppliedTopics),
    Forgotten,
}

impl GroupWrite<'_> {
    /// What the group's last full registration wrote, as it was before
    /// this one.
    pub(super) fn last(&self) -> Option<&AppliedTopics> {
        self.last.as_deref()
    }

    pub(super) fn queues(&self, topic: &str) -> Option<&Vec<QueueData>> {
        self.table.queues.get(topic)
    }

    /// Removes the group's queue data from the topics `keeps` says go;
    /// returns whether any went, and names them in `changed`.
    pub(super) fn drop_topics(
        &mut self,
        keeps: impl Fn(&str) -> bool,
        changed: &mut Vec<String>,
    ) -> bool {
        let name = self.broker_name;
        let mut dropped = false;
        self.table.queues.retain(|topic, queues| {
            if !keeps(topic) {
                let before = queues.len();
                queues.retain(|q| q.broker_name != *name);
                if queues.len() != before {
                    changed.push(topic.clone());
                    dropped = true;
                }
            }
            !queues.is_empty()
        });
        dropped
    }

    /// Sets the group's queue data for the topic; true if that changed it.
    /// `slot` is where it was found while reading, checked before use.
    pub(super) fn upsert(&mut self, topic: &str, tc: &TopicQueues, perm: i32, slot: Slot) -> bool {
        let broker_name = self.broker_name;
        let data = QueueData {
            broker_name: broker_name.clone(),
            read_queue_nums: tc.read_queue_nums,
            write_queue_nums: tc.write_queue_nums,
            perm,
            topic_sys_flag: tc.topic_sys_flag,
        };
        let queues = match self.table.queues.get_mut(topic) {
            Some(queues) => queues,
            None => {
                tracing::debug!(topic, broker = %broker_name, "new topic registered");
                self.table.queues.entry(topic.to_string()).or_default()
            }
        };
        let at = match slot {
            Some(at) if slot_holds(queues, broker_name, at) => at,
            _ => queue_index(queues, broker_name),
        };
        match at {
            Ok(i) if queues[i] == data => false,
            Ok(i) => {
                queues[i] = data;
                true
            }
            Err(i) => {
                queues.insert(i, data);
                true
            }
        }
    }

    pub(super) fn finish(self, after: RunsAfter) {
        let runs = match after {
            RunsAfter::Last => self.last,
            RunsAfter::Replaced(entry) => Some(Arc::new(entry)),
            RunsAfter::Forgotten => None,
        };
        if let Some(runs) = runs {
            self.table.runs.insert(self.broker_name.clone(), runs);
        }
    }
}

/// Where `broker_name`'s queue data is (or would go) in a topic's queue
/// list, which is kept sorted by broker name.
pub(super) fn queue_index(queues: &[QueueData], broker_name: &str) -> Result<usize, usize> {
    queues.binary_search_by(|q| (*q.broker_name).cmp(broker_name))
}

/// Whether `slot` (found earlier) still says where `broker_name` is or goes.
fn slot_holds(queues: &[QueueData], broker_name: &str, slot: Result<usize, usize>) -> bool {
    match slot {
        Ok(i) => queues
            .get(i)
            .is_some_and(|q| &*q.broker_name == broker_name),
        Err(i) => {
            i <= queues.len()
                && (i == 0 || &*queues[i - 1].broker_name < broker_name)
                && queues.get(i).is_none_or(|q| &*q.broker_name > broker_name)
        }
    }
}
