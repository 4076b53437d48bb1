//! Admission control: a run waits in `Queued` while its compute target is full.
//!
//! The store is the queue. A run is stored `Queued` at submission and stays so until
//! admission moves it to `Preparing` and starts its driver; every run between
//! `Preparing` and its end holds one of its target's slots (`max_concurrent_runs`).
//! [`plan`] is the decision, pure: given a target's live runs in submission order and
//! its limit, which queued runs start now and which place in line each other one
//! has. [`admit`] is the I/O around it: it reads the store, moves the chosen runs to
//! `Preparing`, starts their drivers and publishes each waiting run's new place as a
//! `queue_position` event. It runs after each submission, after each driver ends,
//! after a queued run is cancelled, and at server start after the running runs are
//! re-attached, so a restart (even after `kill -9`) keeps every queued run and the
//! order.

use std::collections::{BTreeMap, HashMap, HashSet};

use runboard_shared::run::{RunId, RunStatus};

use super::{Runner, RunnerError};
use crate::runs::drive::spawn_driver;

/// What admission decides for one compute target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<Id> {
    /// Queued runs to start now, oldest first.
    pub start: Vec<Id>,
    /// The runs left waiting, oldest first, each with its place in line (1 is next).
    pub waiting: Vec<(Id, u32)>,
}

/// Decides which queued runs of one compute target start now. `runs` are the
/// target's runs that have not ended, in submission order; every one of them that
/// has left `Queued` holds a slot. `limit` is how many may hold one at once (`None`:
/// no limit). The queue is first in, first out: the oldest queued runs start first,
/// and a run never overtakes an older one.
pub fn plan<Id: Clone>(runs: &[(Id, RunStatus)], limit: Option<u32>) -> Plan<Id> {
    let busy = runs
        .iter()
        .filter(|(_, status)| *status != RunStatus::Queued && !status.is_terminal())
        .count();
    let free = limit.map_or(usize::MAX, |limit| {
        usize::try_from(limit)
            .unwrap_or(usize::MAX)
            .saturating_sub(busy)
    });
    let mut queued = runs
        .iter()
        .filter(|(_, status)| *status == RunStatus::Queued)
        .map(|(id, _)| id.clone());
    let start = queued.by_ref().take(free).collect();
    let waiting = queued.zip(1..).collect();
    Plan { start, waiting }
}

/// The server's side of admission: one admission at a time, and the place in line
/// last published for each waiting run (so that an unchanged place is not published
/// again; after a restart every place is published once more).
#[derive(Debug, Default)]
pub struct Queue {
    published: tokio::sync::Mutex<HashMap<RunId, u32>>,
}

/// Starts the queued runs that fit, oldest first on each compute target, and
/// publishes the new place in line of every run left waiting.
#[tracing::instrument(skip_all)]
pub async fn admit(state: &Runner) -> Result<(), RunnerError> {
    // Held across the read and the moves: two admissions at once would both see the
    // same free slot.
    let mut published = state.queue.published.lock().await;
    let mut by_target: BTreeMap<String, Vec<(RunId, RunStatus)>> = BTreeMap::new();
    for run in state.store.live_run_states().await? {
        // A sweep's parent runs nothing itself: the sweep scheduler moves it.
        if run.target == crate::sweep::TARGET {
            continue;
        }
        by_target
            .entry(run.target)
            .or_default()
            .push((run.run_id, run.status));
    }
    let mut waiting = HashSet::new();
    for (target, runs) in &by_target {
        let limit = state.config.max_concurrent_runs(target);
        let plan = plan(runs, limit);
        for run_id in plan.start {
            // Refused when the run was cancelled since the store was read.
            if state
                .set_status(&run_id, RunStatus::Preparing, None)
                .await?
                .is_some()
            {
                tracing::info!(%run_id, %target, "run admitted");
                spawn_driver(state, run_id);
            }
        }
        for (run_id, position) in plan.waiting {
            if published.get(&run_id) != Some(&position)
                && state
                    .events
                    .commit(&run_id, state.store.add_queue_position(&run_id, position))
                    .await?
                    .is_some()
            {
                published.insert(run_id.clone(), position);
            }
            waiting.insert(run_id);
        }
    }
    published.retain(|run_id, _| waiting.contains(run_id));
    Ok(())
}

/// [`admit`], its failure logged: the queued runs stay in the store and the next
/// admission (the next run that ends, or a restart) starts them.
pub async fn admit_or_log(state: &Runner) {
    if let Err(e) = admit(state).await {
        tracing::error!(error = %e, "admitting queued runs failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RunStatus::*;

    /// `runs` in submission order; expects the runs started and the places of those
    /// left waiting.
    fn check(runs: &[(&str, RunStatus)], limit: Option<u32>, start: &[&str], waiting: &[&str]) {
        let runs: Vec<(&str, RunStatus)> = runs.to_vec();
        let expected = Plan {
            start: start.to_vec(),
            waiting: waiting.iter().copied().zip(1..).collect(),
        };
        assert_eq!(plan(&runs, limit), expected, "{runs:?} limit {limit:?}");
    }

    #[test]
    fn queued_runs_start_oldest_first_while_slots_are_free() {
        // An empty target starts up to its limit, in submission order.
        check(
            &[("a", Queued), ("b", Queued), ("c", Queued), ("d", Queued)],
            Some(2),
            &["a", "b"],
            &["c", "d"],
        );
        // A full target starts nothing; the line keeps its order.
        check(
            &[
                ("a", Running),
                ("b", Preparing),
                ("c", Queued),
                ("d", Queued),
            ],
            Some(2),
            &[],
            &["c", "d"],
        );
        // One slot free: only the oldest queued run starts.
        check(
            &[("a", Running), ("b", Queued), ("c", Queued)],
            Some(2),
            &["b"],
            &["c"],
        );
        // Nothing queued: nothing to do.
        check(&[("a", Running)], Some(2), &[], &[]);
        check(&[], Some(1), &[], &[]);
        // No limit (a Slurm target without max_concurrent_runs): everything starts.
        check(
            &[("a", Running), ("b", Queued), ("c", Queued)],
            None,
            &["b", "c"],
            &[],
        );
    }

    #[test]
    fn every_run_past_queued_holds_a_slot_until_it_ends() {
        for busy in [Preparing, Starting, Running, Finalizing, CancelRequested] {
            check(&[("a", busy), ("b", Queued)], Some(1), &[], &["b"]);
        }
        // Ended runs hold none (the store lists only live runs, but the rule holds).
        for ended in [Completed, Failed, Canceled] {
            check(&[("a", ended), ("b", Queued)], Some(1), &["b"], &[]);
        }
    }

    #[test]
    fn a_newer_run_never_overtakes_an_older_one() {
        // Runs that started out of line (after a restart with a lower limit) do not
        // let a newer queued run jump ahead, and over the limit nothing starts.
        check(
            &[
                ("a", Queued),
                ("b", Running),
                ("c", Running),
                ("d", Running),
                ("e", Queued),
            ],
            Some(2),
            &[],
            &["a", "e"],
        );
        check(
            &[("a", Queued), ("b", Running), ("c", Queued)],
            Some(2),
            &["a"],
            &["c"],
        );
    }
}
