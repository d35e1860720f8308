//! The fast path of [`super::decode`]: a body in standard JSON, indexed by
//! simd-json (SIMD stage 1, CPU features detected at run time) into a tape
//! of nodes, then walked once straight into a [`TopicTable`]. Strings on the
//! tape borrow from the parse buffer; only topic names are copied, into the
//! table's single buffer; every other topic field is checked for its type
//! and dropped.
//!
//! Whatever the walk does not take (an unquoted key, a value of the wrong
//! type, a static-topic mapping, …) sends the body to the tolerant reader,
//! so this path only has to agree with that one on what it accepts: a
//! repeated key keeps its last value, as there.

use std::cell::RefCell;

use simd_json::{Buffers, Node, StaticNode, Tape};

use super::RegisterBrokerBody;
use crate::route::model::{DataVersion, TopicConfigWrapper, TopicQueues, TopicTable};

/// A thread keeps its parse buffers (about seven times the body) for the
/// next body up to this size; a larger one gets fresh buffers, freed after.
const KEEP_BUFFERS_UP_TO: usize = 4 << 20;

/// What one parse needs besides the body: simd-json modifies its input, and
/// megabyte buffers are cheaper reused than faulted in afresh each time.
struct Scratch {
    input: Vec<u8>,
    buffers: Buffers,
    tape: Tape<'static>,
}

thread_local! {
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

/// Where a body's topic table lies, as byte offsets of opening quotes
/// (simd-json leaves every string at its place in the input).
#[derive(Debug, Default)]
pub(crate) struct Spans {
    /// The `"topicConfigTable"` key the walk took (the last, if repeated).
    pub table_key: Option<usize>,
    /// The key of each entry of that table, in order.
    pub entry_keys: Vec<usize>,
}

/// Reads `body` as standard JSON; `None` when it is anything else or holds
/// what the walk leaves to the tolerant reader.
pub(super) fn parse(body: &[u8]) -> Option<RegisterBrokerBody> {
    parse_spans(body).map(|(body, _)| body)
}

/// [`parse`], also telling where the topic table and its entries lie.
pub(crate) fn parse_spans(body: &[u8]) -> Option<(RegisterBrokerBody, Spans)> {
    with_scratch(body.len(), |s| s.parse(body, register_body))
}

/// Reads `doc`, a topic table alone (`{"name":{...},...}`), as [`parse`]
/// reads the table inside a body.
pub(crate) fn parse_table(doc: &[u8]) -> Option<TopicTable> {
    with_scratch(doc.len(), |s| s.parse(doc, topic_table)).map(|(table, _)| table)
}

fn with_scratch<T>(len: usize, f: impl FnOnce(&mut Scratch) -> T) -> T {
    let mut scratch = SCRATCH
        .with(|s| s.borrow_mut().take())
        .unwrap_or_else(|| Scratch {
            input: Vec::with_capacity(len),
            buffers: Buffers::new(len),
            tape: Tape(Vec::new()),
        });
    let parsed = f(&mut scratch);
    if len <= KEEP_BUFFERS_UP_TO {
        SCRATCH.with(|s| *s.borrow_mut() = Some(scratch));
    }
    parsed
}

impl Scratch {
    fn parse<T>(
        &mut self,
        body: &[u8],
        walk: impl FnOnce(&mut Nodes<'_, '_>) -> Option<T>,
    ) -> Option<(T, Spans)> {
        // The padding simd-json reads past the document is ours to give, so
        // it need not copy the body once more into a padded buffer.
        self.input.clear();
        self.input.reserve(body.len() + simd_json::INPUT_PADDING);
        self.input.extend_from_slice(body);
        self.input.resize(body.len() + simd_json::INPUT_PADDING, 0);
        let base = self.input.as_ptr() as usize;
        let mut tape = std::mem::replace(&mut self.tape, Tape(Vec::new())).reset();
        let parsed = match simd_json::fill_tape_padded(
            &mut self.input,
            body.len(),
            &mut self.buffers,
            &mut tape,
        ) {
            Ok(()) => {
                let mut n = Nodes {
                    nodes: &tape.0,
                    at: 0,
                    base,
                    spans: Spans::default(),
                };
                walk(&mut n).map(|v| (v, n.spans))
            }
            Err(_) => None,
        };
        self.tape = tape.reset();
        parsed
    }
}

/// A cursor over the tape: values in document order, an object as its
/// header node followed by its keys and values.
struct Nodes<'t, 'i> {
    nodes: &'t [Node<'i>],
    at: usize,
    /// Where the parsed input starts in memory.
    base: usize,
    spans: Spans,
}

impl<'i> Nodes<'_, 'i> {
    fn next(&mut self) -> Option<Node<'i>> {
        let node = *self.nodes.get(self.at)?;
        self.at += 1;
        Some(node)
    }

    /// Skips the value whose first node is `first`, just read.
    fn skip_rest(&mut self, first: Node<'i>) {
        if let Node::Object { count, .. } | Node::Array { count, .. } = first {
            self.at = self.at.saturating_add(count);
        }
    }

    fn skip_value(&mut self) -> Option<()> {
        let first = self.next()?;
        self.skip_rest(first);
        Some(())
    }

    /// The offset of a string read from the tape: its opening quote's.
    fn quote_of(&self, s: &str) -> usize {
        (s.as_ptr() as usize)
            .wrapping_sub(self.base)
            .wrapping_sub(1)
    }

    fn str(&mut self) -> Option<&'i str> {
        match self.next()? {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    fn i64(&mut self) -> Option<i64> {
        match self.next()? {
            Node::Static(StaticNode::I64(n)) => Some(n),
            Node::Static(StaticNode::U64(n)) => i64::try_from(n).ok(),
            _ => None,
        }
    }

    fn i32(&mut self) -> Option<i32> {
        i32::try_from(self.i64()?).ok()
    }

    /// The number of keys of an object, 0 for null.
    fn object_or_null(&mut self) -> Option<usize> {
        match self.next()? {
            Node::Object { len, .. } => Some(len),
            Node::Static(StaticNode::Null) => Some(0),
            _ => None,
        }
    }
}

fn register_body(n: &mut Nodes<'_, '_>) -> Option<RegisterBrokerBody> {
    let Node::Object { len, .. } = n.next()? else {
        return None;
    };
    let mut body = RegisterBrokerBody::default();
    for _ in 0..len {
        match n.str()? {
            "topicConfigSerializeWrapper" => body.wrapper = wrapper(n)?,
            "filterServerList" => {
                body.filter_server_list = match n.next()? {
                    Node::Static(StaticNode::Null) => Vec::new(),
                    Node::Array { len, .. } => (0..len)
                        .map(|_| n.str().map(str::to_string))
                        .collect::<Option<_>>()?,
                    _ => return None,
                }
            }
            _ => n.skip_value()?,
        }
    }
    Some(body)
}

fn wrapper(n: &mut Nodes<'_, '_>) -> Option<TopicConfigWrapper> {
    let mut w = TopicConfigWrapper::default();
    // A repeated wrapper key keeps the last wrapper, and its table alone.
    n.spans = Spans::default();
    for _ in 0..n.object_or_null()? {
        let key = n.str()?;
        match key {
            "dataVersion" => w.data_version = data_version(n)?,
            "topicConfigTable" => {
                n.spans.table_key = Some(n.quote_of(key));
                w.topics = topic_table(n)?;
            }
            // Static-topic mappings are kept as JSON values: rare enough to
            // leave to the tolerant reader, which builds those.
            "topicQueueMappingInfoMap" => {
                if n.object_or_null()? != 0 {
                    return None;
                }
            }
            _ => n.skip_value()?,
        }
    }
    Some(w)
}

fn data_version(n: &mut Nodes<'_, '_>) -> Option<DataVersion> {
    let mut version = DataVersion::default();
    for _ in 0..n.object_or_null()? {
        match n.str()? {
            "counter" => version.counter = n.i64()?,
            "stateVersion" => version.state_version = n.i64()?,
            "timestamp" => version.timestamp = n.i64()?,
            _ => n.skip_value()?,
        }
    }
    Some(version)
}

fn topic_table(n: &mut Nodes<'_, '_>) -> Option<TopicTable> {
    let len = n.object_or_null()?;
    // A name is a few bytes of a config of a hundred or more.
    let mut table = TopicTable::with_capacity(len, len.saturating_mul(16));
    n.spans.entry_keys.clear();
    n.spans.entry_keys.reserve(len);
    for _ in 0..len {
        let key = n.str()?;
        let quote = n.quote_of(key);
        n.spans.entry_keys.push(quote);
        let (name, queues) = topic_config(n)?;
        // Java names the topic by its topicName, the key when that is empty.
        table.push(if name.is_empty() { key } else { name }, queues);
    }
    Some(table)
}

/// A TopicConfig: its topicName (empty when absent) and what routes keep.
fn topic_config<'i>(n: &mut Nodes<'_, 'i>) -> Option<(&'i str, TopicQueues)> {
    let Node::Object { len, .. } = n.next()? else {
        return None;
    };
    let mut name = "";
    let mut q = TopicQueues::default();
    for _ in 0..len {
        match n.str()? {
            "topicName" => name = n.str()?,
            "readQueueNums" => q.read_queue_nums = n.i32()?,
            "writeQueueNums" => q.write_queue_nums = n.i32()?,
            "perm" => q.perm = n.i32()?,
            "topicSysFlag" => q.topic_sys_flag = n.i32()?,
            // Read for their type only, as the tolerant reader checks it.
            "order" => {
                let Node::Static(StaticNode::Bool(_)) = n.next()? else {
                    return None;
                };
            }
            "topicFilterType" => {
                n.str()?;
            }
            "attributes" => {
                let Node::Object { len, .. } = n.next()? else {
                    return None;
                };
                for _ in 0..len {
                    n.str()?;
                    n.str()?;
                }
            }
            _ => n.skip_value()?,
        }
    }
    Some((name, q))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde_json::Value;

    use super::super::{decode, decode_tolerant, RegisterBodyError};
    use super::*;

    /// What a decoded body registers, independent of topic order.
    type Normal = (
        DataVersion,
        Vec<(String, TopicQueues)>,
        Vec<String>,
        BTreeMap<String, Value>,
    );

    fn normal(mut body: RegisterBrokerBody) -> Normal {
        body.wrapper.topics.keep_last_of_each_topic();
        let mut topics: Vec<_> = body
            .wrapper
            .topics
            .iter()
            .map(|(name, q)| (name.to_string(), q))
            .collect();
        topics.sort_by(|a, b| a.0.cmp(&b.0));
        (
            body.wrapper.data_version,
            topics,
            body.filter_server_list,
            body.wrapper.topic_queue_mapping_info,
        )
    }

    /// The fast path's reading of `body` and the tolerant reader's.
    fn both(body: &str) -> (Option<Normal>, Result<Normal, RegisterBodyError>) {
        (
            parse(body.as_bytes()).map(normal),
            decode_tolerant(body.as_bytes(), 479).map(normal),
        )
    }

    /// `body` takes the fast path, which reads it as the tolerant reader does.
    #[track_caller]
    fn same(body: &str) -> Normal {
        let (fast, tolerant) = both(body);
        let fast = fast.unwrap_or_else(|| panic!("fast path refused {body}"));
        assert_eq!(Ok(&fast), tolerant.as_ref(), "{body}");
        fast
    }

    fn q(read: i32, write: i32, perm: i32, flag: i32) -> TopicQueues {
        TopicQueues {
            read_queue_nums: read,
            write_queue_nums: write,
            perm,
            topic_sys_flag: flag,
        }
    }

    const JAVA: &str = r#"{"filterServerList":["127.0.0.1:30000"],"topicConfigSerializeWrapper":{"dataVersion":{"counter":2,"stateVersion":3,"timestamp":1700000000000},"topicConfigTable":{"TopicTest":{"attributes":{"+delete.policy":"COMPACTION"},"order":false,"perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","topicName":"TopicTest","topicSysFlag":1,"writeQueueNums":2},"B":{"attributes":{},"order":true,"perm":4,"readQueueNums":8,"topicFilterType":"MULTI_TAG","topicName":"B","topicSysFlag":0,"writeQueueNums":8}},"mappingDataVersion":{"counter":0,"stateVersion":0,"timestamp":1700000000000},"topicQueueMappingDetailMap":{},"topicQueueMappingInfoMap":{}}}"#;

    #[test]
    fn a_java_body_reads_alike() {
        let (version, topics, filters, mapping) = same(JAVA);
        assert_eq!((version.counter, version.state_version), (2, 3));
        assert_eq!(
            topics,
            [
                ("B".into(), q(8, 8, 4, 0)),
                ("TopicTest".into(), q(4, 2, 6, 1))
            ]
        );
        assert_eq!(filters, ["127.0.0.1:30000"]);
        assert!(mapping.is_empty());
        // Whitespace anywhere, as a pretty-printer writes it.
        let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(JAVA).unwrap());
        assert_eq!(same(&pretty.unwrap()).1, topics);
    }

    #[test]
    fn escaped_names_read_alike() {
        let (_, topics, ..) = same(
            r#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"T\u0041b":{"topicName":"T\u0041b"},"x\"y\\z\/":{},"T\u00fcpic\ud83d\ude00":{"topicName":""}}}}"#,
        );
        let names: Vec<&str> = topics.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["TAb", "Tüpic😀", "x\"y\\z/"]);
    }

    #[test]
    fn repeated_topics_and_fields_keep_the_last() {
        let (version, topics, filters, _) = same(
            r#"{"filterServerList":["a"],"filterServerList":["b"],"topicConfigSerializeWrapper":{"dataVersion":{"counter":1},"dataVersion":{"timestamp":9},"topicConfigTable":{"A":{"perm":2,"perm":6,"readQueueNums":1},"B":{},"A":{"readQueueNums":5,"topicName":"X","topicName":""}}}}"#,
        );
        assert_eq!(
            version,
            DataVersion {
                timestamp: 9,
                ..DataVersion::default()
            }
        );
        assert_eq!(filters, ["b"]);
        assert_eq!(
            topics,
            [
                ("A".into(), q(5, 16, 6, 0)),
                ("B".into(), TopicQueues::default())
            ]
        );
    }

    #[test]
    fn nulls_missing_and_unknown_fields_read_alike() {
        for body in [
            r#"{}"#,
            r#"{"topicConfigSerializeWrapper":null,"filterServerList":null}"#,
            r#"{"topicConfigSerializeWrapper":{"dataVersion":null,"topicConfigTable":null,"topicQueueMappingInfoMap":null}}"#,
            r#"{"topicConfigSerializeWrapper":{"topicConfigTable":{}}}"#,
            r#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{}}}}"#,
            r#"{"future":[1,{"a":[null,true,1.5e3,"s"]}],"topicConfigSerializeWrapper":{"x":{"y":{}},"topicConfigTable":{"T":{"z":[[]],"perm":2,"w":"v"}},"dataVersion":{"counter":-4,"extra":{}}}}"#,
        ] {
            same(body);
        }
        let (_, topics, ..) =
            same(r#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{}}}}"#);
        assert_eq!(topics, [("T".into(), TopicQueues::default())]);
    }

    #[test]
    fn a_topic_name_other_than_its_key_names_the_topic() {
        let (_, topics, ..) = same(
            r#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"K":{"topicName":"N","perm":2}}}}"#,
        );
        assert_eq!(topics, [("N".into(), q(16, 16, 2, 0))]);
    }

    #[test]
    fn what_the_fast_path_leaves_is_read_by_the_tolerant_reader() {
        for body in [
            // fastjson's dialect
            r#"{topicConfigSerializeWrapper:{topicConfigTable:{T:{perm:2}}}}"#,
            r#"{'topicConfigSerializeWrapper':{'topicConfigTable':{'T':{'perm':2,},},},}"#,
            // static-topic mappings, standard or not
            r#"{"topicConfigSerializeWrapper":{"topicQueueMappingInfoMap":{"T":{"bname":"b","currIdMap":{0:0}}}}}"#,
            r#"{"topicConfigSerializeWrapper":{"topicQueueMappingInfoMap":{"T":{"bname":"b"}}}}"#,
            // a BOM
            "\u{feff}{}",
            // a lone surrogate (read as U+FFFD there)
            r#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"T\ud800":{}}}}"#,
            // a control character left unescaped
            "{\"topicConfigSerializeWrapper\":{\"topicConfigTable\":{\"T\u{1}\":{}}}}",
            // a type error in a field repeated with the right type
            r#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"perm":"x","perm":2}}}}"#,
        ] {
            let (fast, tolerant) = both(body);
            assert!(fast.is_none(), "{body}");
            assert!(tolerant.is_ok(), "{body}");
            assert_eq!(
                decode(body.as_bytes(), false, 479, 1 << 20).map(normal),
                tolerant
            );
        }
    }

    #[test]
    fn what_neither_reads_is_an_error() {
        for body in [
            r#"[1,2]"#,
            r#"{} x"#,
            r#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"perm":"x"}}}}"#,
            r#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"perm":null}}}}"#,
            r#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"perm":1.5}}}}"#,
            r#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"perm":4294967296}}}}"#,
            r#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"attributes":{"a":1}}}}}"#,
            r#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"order":"no"}}}}"#,
            r#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":null}}}"#,
            r#"{"topicConfigSerializeWrapper":{"topicConfigTable":[]}}"#,
            r#"{"topicConfigSerializeWrapper":{"dataVersion":{"counter":"1"}}}"#,
            r#"{"topicConfigSerializeWrapper":{"dataVersion":{"counter":9223372036854775808}}}"#,
            r#"{"filterServerList":[1]}"#,
        ] {
            let (fast, tolerant) = both(body);
            assert!(fast.is_none(), "fast path read {body}");
            assert!(tolerant.is_err(), "tolerant reader read {body}");
        }
    }

    #[test]
    fn buffers_are_reused_and_large_bodies_leave_none() {
        same(JAVA);
        assert!(SCRATCH.with(|s| s.borrow().is_some()));
        let topic = r#""T":{"perm":6},"#.repeat(KEEP_BUFFERS_UP_TO / 14 + 1);
        let big = format!(
            r#"{{"topicConfigSerializeWrapper":{{"topicConfigTable":{{{}"U":{{}}}}}}}}"#,
            topic
        );
        let body = parse(big.as_bytes()).unwrap();
        assert_eq!(body.wrapper.topics.len(), KEEP_BUFFERS_UP_TO / 14 + 2);
        assert!(SCRATCH.with(|s| s.borrow().is_none()));
        same(JAVA);
    }

    /// A JSON string for `s`, some of its characters \u-escaped.
    fn json_str(s: &str, escape: &[bool]) -> String {
        let mut out = String::from("\"");
        for (c, esc) in s.chars().zip(escape.iter().cycle()) {
            match c {
                '"' | '\\' => {
                    out.push('\\');
                    out.push(c);
                }
                c if *esc || c < ' ' => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => (-3i64..40).prop_map(|n| n.to_string()),
            1 => Just("2147483648".to_string()),
            1 => Just("1.5".to_string()),
            1 => Just("null".to_string()),
            1 => any::<bool>().prop_map(|b| b.to_string()),
            1 => Just(r#""SINGLE_TAG""#.to_string()),
            1 => Just(r#"{"k":"v"}"#.to_string()),
            1 => Just("{}".to_string()),
            1 => Just(r#"[1,{"a":[]}]"#.to_string()),
        ]
    }

    /// A topic config field, mostly with a value of its type.
    fn field() -> impl Strategy<Value = String> {
        let typed = |name: &'static str, v: BoxedStrategy<String>| {
            prop_oneof![20 => v, 1 => value()].prop_map(move |v| format!(r#""{name}":{v}"#))
        };
        let int = || (-3i64..40).prop_map(|n| n.to_string()).boxed();
        prop_oneof![
            typed("readQueueNums", int()),
            typed("writeQueueNums", int()),
            typed("perm", int()),
            typed("topicSysFlag", int()),
            typed("order", any::<bool>().prop_map(|b| b.to_string()).boxed()),
            typed(
                "topicFilterType",
                Just(r#""MULTI_TAG""#.to_string()).boxed()
            ),
            typed(
                "attributes",
                Just(r#"{"+k":"v","k2":"v"}"#.to_string()).boxed()
            ),
            typed("unknownField", value().boxed()),
        ]
    }

    /// A topic entry, its key unescaped, and whether it names a field twice.
    fn topic() -> impl Strategy<Value = (String, &'static str, bool)> {
        let key = prop::sample::select(vec!["A", "B", "Tü", "a\"b", "%RETRY%x", "", "C d"]);
        (
            key,
            prop::collection::vec(any::<bool>(), 1..4),
            0u8..3,
            prop::collection::vec(field(), 0..6),
        )
            .prop_map(|(key, escape, named, mut fields)| {
                let mut names: Vec<&str> =
                    fields.iter().filter_map(|f| f.split(':').next()).collect();
                names.sort_unstable();
                let repeated = names.windows(2).any(|w| w[0] == w[1]);
                let raw_key = key;
                let key = json_str(key, &escape);
                match named {
                    1 => fields.push(format!(r#""topicName":{key}"#)),
                    2 => fields.insert(0, r#""topicName":"""#.to_string()),
                    _ => {}
                }
                (format!("{key}:{{{}}}", fields.join(",")), raw_key, repeated)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// On any standard body both readers agree on what they read; when
        /// no object repeats a field, they also agree on what they refuse.
        /// (Where a field is repeated, the fast path may leave a body to the
        /// tolerant reader.)
        #[test]
        fn the_fast_path_reads_standard_json_as_the_tolerant_reader(
            topics in prop::collection::vec(topic(), 0..12),
            counter in prop_oneof![8 => (0i64..9).prop_map(|n| n.to_string()), 1 => value()],
            filters in prop::collection::vec("[a-z0-9.:]{0,12}", 0..3),
            pad in prop::sample::select(vec!["", " ", "\n\t"]),
        ) {
            let filters: Vec<String> = filters.iter().map(|f| json_str(f, &[false])).collect();
            let mut keys: Vec<&str> = topics.iter().map(|(_, k, _)| *k).collect();
            keys.sort_unstable();
            let repeated = topics.iter().any(|(.., r)| *r) || keys.windows(2).any(|w| w[0] == w[1]);
            let topics: Vec<String> = topics.into_iter().map(|(t, ..)| t).collect();
            let body = format!(
                r#"{{"filterServerList":[{}],{pad}"topicConfigSerializeWrapper":{{"dataVersion":{{"counter":{counter}}},{pad}"topicConfigTable":{{{}}}}}}}"#,
                filters.join(","),
                topics.join(&format!(",{pad}")),
            );
            let (fast, tolerant) = both(&body);
            match fast {
                Some(fast) => prop_assert_eq!(Ok(fast), tolerant, "{}", body),
                None if repeated => {}
                None => prop_assert!(tolerant.is_err(), "fast path refused {}", body),
            }
        }
    }
}
