//! A small pool of low-priority threads for bulk work: parsing and
//! applying the megabyte-sized topic tables brokers re-register every 30 s
//! (applying waits for the route table's lock, which must never hold a
//! runtime worker).
//!
//! Route lookups must not wait for that work, and on a small machine they
//! would if it ran on tokio's blocking pool: ten brokers registering at once
//! become ten threads competing with the two runtime workers for two cores.
//! Here it runs on few threads, niced, so the kernel gives lookups the CPU
//! first; registrations queue instead (their latency is not what clients
//! wait on).

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::oneshot;

/// Scheduling priority of the pool's threads (Unix nice value, 0 = normal).
pub const NICE: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct BulkPool {
    jobs: mpsc::Sender<Job>,
}

#[derive(Debug, thiserror::Error)]
#[error("bulk work failed (the pool stopped or the job panicked)")]
pub struct PoolStopped;

impl BulkPool {
    /// Starts `threads` workers (at least one) at [`NICE`].
    pub fn start(threads: usize) -> std::io::Result<BulkPool> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("namesrv-bulk-{i}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = rx.lock().recv();
                        match job {
                            // A panicking job (a parser bug) must not take the
                            // thread with it; its caller sees PoolStopped.
                            Ok(job) => {
                                let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                            }
                            Err(_) => return,
                        }
                    }
                })?;
        }
        Ok(BulkPool { jobs })
    }

    /// Threads for a machine: half its cores, so lookups keep the rest.
    pub fn default_threads() -> usize {
        std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
    }

    /// Runs `work` on the pool and waits for its result.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolStopped> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(work());
        });
        self.jobs.send(job).map_err(|_| PoolStopped)?;
        // A panicking job drops its sender: reported as stopped, not hung.
        rx.await.map_err(|_| PoolStopped)
    }
}

/// Lowers the calling thread's priority (Linux applies nice per thread).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority take no pointers; failure only leaves
    // the thread at normal priority.
    unsafe {
        let tid = libc::gettid();
        if libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, NICE) != 0 {
            tracing::debug!("could not lower the bulk thread's priority");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_jobs_and_survives_a_panicking_one() {
        let pool = BulkPool::start(1).unwrap();
        assert_eq!(pool.run(|| 2 + 2).await.unwrap(), 4);
        let res = pool.run(|| -> i32 { panic!("boom") }).await;
        assert!(res.is_err());
        // The only worker is still there.
        assert_eq!(pool.run(|| 3).await.unwrap(), 3);
    }
}
