//! When a run's driver looks at its folder again: when the filesystem says something
//! there changed (inotify, through the `notify` crate), else after a slow safety poll.
//!
//! Watched, each on its own (never the whole working folder, which may hold a
//! dataset's thousands of folders): the run folder, `control/`, `user_logs/`,
//! `system_logs/` and `wd/`, and once they exist `wd/outputs/` and `wd/logs/` with
//! their subfolders (TensorBoard writes event files in `logs/<run>/`). A burst of
//! writes wakes the driver once: [`tokio::sync::Notify`] keeps one permit. When the
//! watcher cannot be made (no inotify, the watch limit reached), the driver polls at the
//! server's fast poll interval, as it did before there was a watcher.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::Notify;

/// How often a watched run is looked at when nothing changed: for what inotify does not
/// see (a Slurm job's files written on another node, a lost process).
pub const SAFETY_POLL: Duration = Duration::from_secs(1);

/// The folders watched without their subfolders, relative to the run folder.
const FLAT: [&str; 5] = ["", "control", "user_logs", "system_logs", "wd"];
/// The folders watched with their subfolders, once they exist.
const DEEP: [&str; 2] = ["wd/outputs", "wd/logs"];

/// A run folder's change notifications.
pub struct Wake {
    run_dir: PathBuf,
    changed: Arc<Notify>,
    watcher: Option<notify::RecommendedWatcher>,
    watching: Vec<PathBuf>,
}

impl std::fmt::Debug for Wake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wake")
            .field("run_dir", &self.run_dir)
            .field("watching", &self.watching)
            .finish_non_exhaustive()
    }
}

impl Wake {
    /// Watches `run_dir`, unless `enabled` is false (`[runs] watch = false`).
    pub fn new(run_dir: &Path, enabled: bool) -> Self {
        let changed = Arc::new(Notify::new());
        let signal = changed.clone();
        if !enabled {
            return Self {
                run_dir: run_dir.to_owned(),
                changed,
                watcher: None,
                watching: Vec::new(),
            };
        }
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            // Reading is all the driver does: any change, or an error (which may mean
            // lost events), is a reason to look.
            if event.as_ref().map_or(true, |e| !e.kind.is_access()) {
                signal.notify_one();
            }
        });
        let watcher = match watcher {
            Ok(watcher) => Some(watcher),
            Err(e) => {
                tracing::warn!(run_dir = %run_dir.display(), error = %e, "no filesystem notification; polling");
                None
            }
        };
        let mut wake = Self {
            run_dir: run_dir.to_owned(),
            changed,
            watcher,
            watching: Vec::new(),
        };
        wake.refresh();
        wake
    }

    /// Adds watches on the folders that have appeared since the last call.
    pub fn refresh(&mut self) {
        let Some(watcher) = self.watcher.as_mut() else {
            return;
        };
        let wanted = FLAT
            .iter()
            .map(|f| (*f, RecursiveMode::NonRecursive))
            .chain(DEEP.iter().map(|f| (*f, RecursiveMode::Recursive)));
        for (folder, mode) in wanted {
            let path = self.run_dir.join(folder);
            if self.watching.contains(&path) {
                continue;
            }
            // A link is not followed: the run's folders are the job's to replace.
            let is_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
            if !is_dir {
                continue;
            }
            match watcher.watch(&path, mode) {
                Ok(()) => self.watching.push(path),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot watch; polling");
                    self.watcher = None;
                    return;
                }
            }
            // What changed before the watch began is looked at once.
            self.changed.notify_one();
        }
    }

    /// Whether changes are being watched (else the driver must poll quickly).
    pub fn is_watching(&self) -> bool {
        self.watcher.is_some()
    }

    /// Waits until something in the watched folders changed, or `safety` has passed.
    pub async fn wait(&self, safety: Duration) {
        let _ = tokio::time::timeout(safety, self.changed.notified()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn a_write_in_a_watched_folder_wakes_at_once_and_quiet_waits_the_safety_poll() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("user_logs")).unwrap();
        let mut wake = Wake::new(dir.path(), true);
        assert!(wake.is_watching(), "inotify is available on Linux");
        // The first wait returns at once: what was there before the watch.
        wake.wait(Duration::from_secs(60)).await;

        // Quiet: only the safety poll ends the wait.
        let started = std::time::Instant::now();
        wake.wait(Duration::from_millis(300)).await;
        assert!(started.elapsed() >= Duration::from_millis(300));

        // A log line wakes it long before a 60 s safety poll would.
        let log = dir.path().join("user_logs/std_log.txt");
        let writer = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            std::fs::write(log, "epoch 1\n").unwrap();
        });
        let started = std::time::Instant::now();
        wake.wait(Duration::from_secs(60)).await;
        assert!(started.elapsed() < Duration::from_secs(30));
        writer.await.unwrap();

        // A folder made later (the job's `outputs/`) is watched with its subfolders
        // once refreshed.
        std::fs::create_dir_all(dir.path().join("wd/outputs/deep")).unwrap();
        wake.refresh();
        wake.wait(Duration::from_secs(60)).await; // the refresh's own look
        let file = dir.path().join("wd/outputs/deep/model.pkl");
        let writer = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            std::fs::write(file, b"weights").unwrap();
        });
        let started = std::time::Instant::now();
        wake.wait(Duration::from_secs(60)).await;
        assert!(started.elapsed() < Duration::from_secs(30));
        writer.await.unwrap();
    }
}
