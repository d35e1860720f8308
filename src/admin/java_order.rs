//! The iteration orders of the Java collections mqadmin prints from, so our
//! output lists things in the order an operator's mqadmin would: a
//! default-sized `java.util.HashMap`/`HashSet` filled by inserts, and the
//! `ConcurrentHashMap` behind `java.util.Properties` (Java 9 and later).

/// `String.hashCode()`: over UTF-16 code units, wrapping.
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
}

/// `Long.hashCode()`.
pub fn long_hash(v: i64) -> i32 {
    (v ^ ((v as u64) >> 32) as i64) as i32
}

fn spread(h: i32) -> u32 {
    let h = h as u32;
    h ^ (h >> 16)
}

/// Orders `items` (distinct keys, in insertion order) as a default-capacity
/// HashMap iterates them: by bucket in the final table, insertion order
/// within a bucket (resizes keep it).
pub fn hash_map_order<T>(items: Vec<T>, hash: impl Fn(&T) -> i32) -> Vec<T> {
    let mut cap = 16usize;
    while items.len() > cap * 3 / 4 {
        cap *= 2;
    }
    let mut keyed: Vec<(usize, T)> = items
        .into_iter()
        .map(|t| ((spread(hash(&t)) as usize) & (cap - 1), t))
        .collect();
    keyed.sort_by_key(|(bucket, _)| *bucket);
    keyed.into_iter().map(|(_, t)| t).collect()
}

/// Strings in HashSet order, duplicates dropped (first kept).
pub fn string_set_order<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Vec<S> {
    let mut seen = std::collections::HashSet::new();
    let distinct: Vec<S> = items
        .into_iter()
        .filter(|s| seen.insert(s.as_ref().to_string()))
        .collect();
    hash_map_order(distinct, |s| string_hash(s.as_ref()))
}

/// `(key, value)` pairs as `Properties.load` then iteration yields them:
/// later duplicates replace the value in place, and the table grows as a
/// ConcurrentHashMap's does (its resize reverses part of each bin).
pub fn properties_order(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    fn chm_spread(key: &str) -> usize {
        (spread(string_hash(key)) & 0x7fff_ffff) as usize
    }
    let mut n = 16usize;
    let mut size_ctl = 12usize;
    let mut count = 0usize;
    let mut bins: Vec<Vec<(String, String)>> = vec![Vec::new(); n];
    for (key, value) in pairs {
        let bin = &mut bins[chm_spread(&key) & (n - 1)];
        if let Some(slot) = bin.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
            continue;
        }
        bin.push((key, value));
        count += 1;
        if count >= size_ctl {
            let mut grown: Vec<Vec<(String, String)>> = vec![Vec::new(); 2 * n];
            for (i, bin) in bins.into_iter().enumerate() {
                if bin.is_empty() {
                    continue;
                }
                let mut run_bit = chm_spread(&bin[0].0) & n;
                let mut last_run = 0;
                for (j, (k, _)) in bin.iter().enumerate().skip(1) {
                    let b = chm_spread(k) & n;
                    if b != run_bit {
                        run_bit = b;
                        last_run = j;
                    }
                }
                let mut lo: Vec<(String, String)> = Vec::new();
                let mut hi: Vec<(String, String)> = Vec::new();
                let mut entries = bin;
                let tail = entries.split_off(last_run);
                if run_bit == 0 {
                    lo = tail;
                } else {
                    hi = tail;
                }
                // The nodes before the run are prepended one by one.
                for entry in entries {
                    if chm_spread(&entry.0) & n == 0 {
                        lo.insert(0, entry);
                    } else {
                        hi.insert(0, entry);
                    }
                }
                grown[i] = lo;
                grown[i + n] = hi;
            }
            size_ctl = 2 * n - n / 2;
            n *= 2;
            bins = grown;
        }
    }
    bins.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hash_matches_java() {
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("a"), 97);
        // "TBW102".hashCode() in Java.
        assert_eq!(string_hash("TBW102"), -1_826_525_782);
        assert_eq!(long_hash(0), 0);
        assert_eq!(long_hash(-1), 0);
        assert_eq!(long_hash(1 << 32), 1);
    }

    #[test]
    fn small_long_keys_come_out_ascending() {
        let ids = hash_map_order(vec![3i64, 0, 2, 1], |v| long_hash(*v));
        assert_eq!(ids, vec![0, 1, 2, 3]);
    }

    #[test]
    fn the_table_grows_past_three_quarters() {
        // 13 keys need 32 buckets: 16 and 32 land in buckets 16 and 0.
        let keys: Vec<i64> = (0..13).map(|i| if i == 12 { 32 } else { i + 4 }).collect();
        let ordered = hash_map_order(keys, |v| long_hash(*v));
        assert_eq!(ordered[0], 32);
        assert_eq!(ordered.len(), 13);
    }

    #[test]
    fn properties_keep_the_position_of_a_replaced_key() {
        let pairs = vec![
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string()),
            ("a".to_string(), "3".to_string()),
        ];
        let out = properties_order(pairs);
        assert_eq!(
            out,
            vec![("a".into(), "3".into()), ("b".into(), "2".into())]
        );
    }
}
