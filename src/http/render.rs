//! One `/metrics` render for a burst of scrapes: scrapes that arrive while
//! a render runs wait for the next one and share it, so a thousand at once
//! cost two renders, and every scrape still sees a render that started
//! after it arrived (counts are never stale). Renders run off the runtime's
//! worker threads, which keep serving route lookups meanwhile.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::Mutex;

#[derive(Default)]
pub struct RenderGate {
    /// Renders started so far; a render's generation is its number.
    started: AtomicU64,
    /// The newest finished render and its generation.
    last: Mutex<(u64, Arc<String>)>,
}

impl RenderGate {
    pub async fn render(
        &self,
        render: impl FnOnce() -> String + Send + 'static,
    ) -> Result<Arc<String>, tokio::task::JoinError> {
        let arrived_after = self.started.load(Ordering::Acquire);
        let mut last = self.last.lock().await;
        if last.0 > arrived_after {
            return Ok(last.1.clone());
        }
        let generation = self.started.fetch_add(1, Ordering::AcqRel) + 1;
        let text = Arc::new(tokio::task::spawn_blocking(render).await?);
        *last = (generation, text.clone());
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_shares_renders_and_a_later_scrape_gets_a_new_one() {
        let gate = Arc::new(RenderGate::default());
        let renders = Arc::new(AtomicUsize::new(0));
        let mut scrapes = Vec::new();
        for _ in 0..100 {
            let (gate, renders) = (gate.clone(), renders.clone());
            scrapes.push(tokio::spawn(async move {
                gate.render(move || {
                    let n = renders.fetch_add(1, Ordering::SeqCst) + 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    n.to_string()
                })
                .await
            }));
        }
        for s in scrapes {
            assert!(s.await.unwrap().is_ok());
        }
        let during_burst = renders.load(Ordering::SeqCst);
        assert!(during_burst <= 3, "{during_burst} renders for one burst");
        // A scrape after the burst never gets an old render.
        let r = renders.clone();
        let text = gate
            .render(move || (r.fetch_add(1, Ordering::SeqCst) + 1).to_string())
            .await
            .unwrap();
        assert_eq!(*text, (during_burst + 1).to_string());
    }
}
