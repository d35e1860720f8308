//! The live connections of one port, so that what serves it can close one
//! (the connection of a broker whose heartbeat expired, as Java closes its
//! channel).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::remoting::ConnId;

#[derive(Default)]
pub struct ConnRegistry {
    next_id: AtomicU64,
    closers: Mutex<HashMap<ConnId, Arc<Notify>>>,
}

impl ConnRegistry {
    /// A new id and the signal that asks its connection to close.
    pub fn register(&self) -> (ConnId, Arc<Notify>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let closer = Arc::new(Notify::new());
        self.closers.lock().insert(id, closer.clone());
        (id, closer)
    }

    pub fn deregister(&self, id: ConnId) {
        self.closers.lock().remove(&id);
    }

    /// Asks connection `id` to close; nothing if it already has.
    pub fn close(&self, id: ConnId) {
        if let Some(closer) = self.closers.lock().get(&id) {
            closer.notify_one();
        }
    }

    pub fn len(&self) -> usize {
        self.closers.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;

    #[test]
    fn ids_are_unique_and_close_reaches_only_its_connection() {
        let reg = ConnRegistry::default();
        let (a, close_a) = reg.register();
        let (b, close_b) = reg.register();
        assert_ne!(a, b);
        reg.close(b);
        assert!(close_b.notified().now_or_never().is_some());
        assert!(close_a.notified().now_or_never().is_none());
        reg.deregister(a);
        reg.deregister(b);
        assert!(reg.is_empty());
    }
}
