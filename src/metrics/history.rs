//! The last hour of a few series, kept in the server for the cluster page:
//! a ring of points, each made from two readings of cumulative counters
//! (rates are deltas over the monotonic time between them) and the route
//! table's liveness at the later one. The ring has a fixed capacity, so it
//! never grows past an hour of points.

use std::collections::VecDeque;
use std::time::Instant;

/// What one sampling reads: counters as they stand, and gauges.
#[derive(Debug, Clone)]
pub struct Reading {
    /// When it was read, for the interval between two readings.
    pub at: Instant,
    /// The same instant on the wall clock, only to label the chart.
    pub unix_ms: i64,
    /// Cumulative requests by request code.
    pub requests: Totals,
    /// Cumulative registrations by path.
    pub registrations: Totals,
    pub brokers_alive: usize,
    /// Ages of the live brokers' last heartbeats, in milliseconds.
    pub heartbeat_ages_ms: Vec<i64>,
}

/// One point of the charts.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub unix_ms: i64,
    /// Per second over the interval before this point; series that did
    /// not move are left out.
    pub requests_per_second: Vec<(&'static str, f64)>,
    pub registrations_per_second: Vec<(&'static str, f64)>,
    pub brokers_alive: usize,
    pub heartbeat_age_max_ms: Option<i64>,
    pub heartbeat_age_median_ms: Option<i64>,
}

/// Cumulative counts by series name.
type Totals = Vec<(&'static str, u64)>;

/// Where the next point's rates start from.
#[derive(Debug)]
struct Baseline {
    at: Instant,
    requests: Totals,
    registrations: Totals,
}

/// The ring and the reading the next point's rates start from.
#[derive(Debug)]
pub struct History {
    capacity: usize,
    points: VecDeque<Point>,
    last: Option<Baseline>,
}

/// An hour of points at the default interval of ten seconds; a shorter
/// interval (tests) keeps a shorter span, never more points.
pub const POINTS: usize = 360;

impl History {
    pub fn new(capacity: usize) -> History {
        let capacity = capacity.max(1);
        History {
            capacity,
            points: VecDeque::with_capacity(capacity),
            last: None,
        }
    }

    /// Adds the point `reading` makes with the previous one; the first
    /// reading only sets where rates start from.
    pub fn record(&mut self, reading: Reading) {
        let Reading {
            at,
            unix_ms,
            requests,
            registrations,
            brokers_alive,
            mut heartbeat_ages_ms,
        } = reading;
        let previous = self.last.replace(Baseline {
            at,
            requests: requests.clone(),
            registrations: registrations.clone(),
        });
        let Some(before) = previous else {
            return;
        };
        let seconds = at.saturating_duration_since(before.at).as_secs_f64();
        // Two readings at one instant give no rate; wait for the next.
        if seconds <= 0.0 {
            return;
        }
        heartbeat_ages_ms.sort_unstable();
        let point = Point {
            unix_ms,
            requests_per_second: rates(&before.requests, &requests, seconds),
            registrations_per_second: rates(&before.registrations, &registrations, seconds),
            brokers_alive,
            heartbeat_age_max_ms: heartbeat_ages_ms.last().copied(),
            heartbeat_age_median_ms: median(&heartbeat_ages_ms),
        };
        if self.points.len() == self.capacity {
            self.points.pop_front();
        }
        self.points.push_back(point);
    }

    /// The points, oldest first.
    pub fn points(&self) -> impl ExactSizeIterator<Item = &Point> {
        self.points.iter()
    }
}

/// Per-second rates from two readings of the same counters. A counter
/// that went down was reset (a restart of whatever kept it): as Prometheus'
/// `rate` does, its new value is taken as the increase, never a negative.
fn rates(
    before: &[(&'static str, u64)],
    now: &[(&'static str, u64)],
    seconds: f64,
) -> Vec<(&'static str, f64)> {
    now.iter()
        .filter_map(|&(name, value)| {
            let old = before
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(0, |(_, v)| *v);
            let increase = if value >= old { value - old } else { value };
            (increase > 0).then(|| (name, increase as f64 / seconds))
        })
        .collect()
}

/// The median of sorted values (the lower middle one of an even count,
/// so it is always an age some broker has).
fn median(sorted: &[i64]) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    sorted.get((sorted.len() - 1) / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn reading(
        start: Instant,
        secs: u64,
        requests: &[(&'static str, u64)],
        ages: &[i64],
    ) -> Reading {
        Reading {
            at: start + Duration::from_secs(secs),
            unix_ms: 1_000 * secs as i64,
            requests: requests.to_vec(),
            registrations: vec![("unchanged", 3 * secs)],
            brokers_alive: ages.len(),
            heartbeat_ages_ms: ages.to_vec(),
        }
    }

    #[test]
    fn the_first_reading_makes_no_point_and_rates_are_deltas_over_time() {
        let start = Instant::now();
        let mut h = History::new(10);
        h.record(reading(start, 0, &[("A", 100)], &[]));
        assert_eq!(h.points().len(), 0);
        h.record(reading(
            start,
            10,
            &[("A", 150), ("B", 20)],
            &[300, 100, 900],
        ));
        h.record(reading(start, 20, &[("A", 150), ("B", 40)], &[100, 200]));
        let points: Vec<&Point> = h.points().collect();
        assert_eq!(points.len(), 2);
        assert_eq!(points[0].unix_ms, 10_000);
        assert_eq!(points[0].requests_per_second, [("A", 5.0), ("B", 2.0)]);
        assert_eq!(points[0].registrations_per_second, [("unchanged", 3.0)]);
        assert_eq!(points[0].brokers_alive, 3);
        assert_eq!(points[0].heartbeat_age_max_ms, Some(900));
        assert_eq!(points[0].heartbeat_age_median_ms, Some(300));
        // A series that did not move is left out.
        assert_eq!(points[1].requests_per_second, [("B", 2.0)]);
        assert_eq!(points[1].heartbeat_age_median_ms, Some(100));
    }

    #[test]
    fn a_counter_that_went_down_counts_from_zero_not_negative() {
        let start = Instant::now();
        let mut h = History::new(10);
        h.record(reading(start, 0, &[("A", 1_000)], &[]));
        h.record(reading(start, 10, &[("A", 30)], &[]));
        let point = h.points().next().unwrap();
        assert_eq!(point.requests_per_second, [("A", 3.0)]);
        assert_eq!(point.heartbeat_age_max_ms, None);
        assert_eq!(point.heartbeat_age_median_ms, None);
    }

    #[test]
    fn the_ring_keeps_the_newest_points_and_no_more() {
        let start = Instant::now();
        let mut h = History::new(3);
        for s in 0..=5 {
            h.record(reading(start, s, &[("A", s * s)], &[]));
        }
        let times: Vec<i64> = h.points().map(|p| p.unix_ms).collect();
        assert_eq!(times, [3_000, 4_000, 5_000]);
        let rates: Vec<f64> = h.points().map(|p| p.requests_per_second[0].1).collect();
        assert_eq!(rates, [5.0, 7.0, 9.0]);
    }

    #[test]
    fn readings_at_one_instant_give_no_point() {
        let start = Instant::now();
        let mut h = History::new(3);
        h.record(reading(start, 1, &[("A", 1)], &[]));
        h.record(reading(start, 1, &[("A", 2)], &[]));
        assert_eq!(h.points().len(), 0);
    }
}
