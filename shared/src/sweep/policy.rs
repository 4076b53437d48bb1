//! Early termination policies, as the Azure ML SDK v1 documents them, and the goal
//! that says which of two metric values is better.
//!
//! An *interval* is one logged value of the primary metric: a child that has logged
//! it 3 times has reached interval 3. A policy with `evaluation_interval = i` and
//! `delay_evaluation = d` is applied at every interval that is a multiple of `i` and
//! at least `d` ([`Policy::applies_at`]).

use serde::{Deserialize, Serialize};

/// Whether a larger or a smaller primary metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Goal {
    /// Larger is better (accuracy).
    Maximize,
    /// Smaller is better (loss).
    Minimize,
}

impl Goal {
    /// True when `a` is strictly better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Self::Maximize => a > b,
            Self::Minimize => a < b,
        }
    }

    /// The best of `values` (NaN skipped), `None` when there is none.
    pub fn best(self, values: &[f64]) -> Option<f64> {
        values
            .iter()
            .copied()
            .filter(|v| !v.is_nan())
            .reduce(|a, b| if self.better(b, a) { b } else { a })
    }
}

/// A child as a policy sees it: its primary metric values in the order logged, and
/// whether it has ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Child<'a> {
    /// The primary metric's values, one per interval.
    pub values: &'a [f64],
    /// The child has reached a terminal status.
    pub finished: bool,
}

/// An early termination policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Policy {
    /// `NoTerminationPolicy`: every child runs to its end.
    None,
    /// `BanditPolicy`: stops a child whose best value so far is not within the slack
    /// of the best child's at the same interval. Exactly one of `slack_factor` and
    /// `slack_amount` is set.
    Bandit {
        /// Slack as a ratio: (maximize) stop when `best_so_far * (1 + f) < best`.
        slack_factor: Option<f64>,
        /// Slack as an amount: (maximize) stop when `best_so_far + a < best`.
        slack_amount: Option<f64>,
        /// Apply at every multiple of this interval (≥ 1).
        evaluation_interval: u32,
        /// … that is at least this.
        delay_evaluation: u32,
    },
    /// `MedianStoppingPolicy`: stops a child whose best value up to interval X is
    /// worse than the median of every child's running average over intervals 1..X.
    MedianStopping {
        /// Apply at every multiple of this interval (≥ 1).
        evaluation_interval: u32,
        /// … that is at least this.
        delay_evaluation: u32,
    },
    /// `TruncationSelectionPolicy`: at interval X, stops a child that is among the
    /// lowest `truncation_percentage` percent of the children that reached X.
    TruncationSelection {
        /// 1 to 99.
        truncation_percentage: u32,
        /// Apply at every multiple of this interval (≥ 1).
        evaluation_interval: u32,
        /// … that is at least this.
        delay_evaluation: u32,
        /// Leave children that have ended out of the comparison.
        exclude_finished_jobs: bool,
    },
}

impl Policy {
    /// Whether the policy is applied when a child reaches interval `x` (1, 2, …).
    pub fn applies_at(&self, x: usize) -> bool {
        let (every, delay) = match self {
            Self::None => return false,
            Self::Bandit {
                evaluation_interval,
                delay_evaluation,
                ..
            }
            | Self::MedianStopping {
                evaluation_interval,
                delay_evaluation,
            }
            | Self::TruncationSelection {
                evaluation_interval,
                delay_evaluation,
                ..
            } => (*evaluation_interval as usize, *delay_evaluation as usize),
        };
        x >= 1 && every >= 1 && x.is_multiple_of(every) && x >= delay
    }

    /// Whether child `me` of `children` is stopped at interval `x`: the reason, in
    /// words, or `None` to let it run. Only children that have reached `x` take part.
    pub fn decide(
        &self,
        goal: Goal,
        children: &[Child<'_>],
        me: usize,
        x: usize,
    ) -> Option<String> {
        if !self.applies_at(x) || children.get(me)?.values.len() < x {
            return None;
        }
        let upto = |c: &Child<'_>| goal.best(&c.values[..x]);
        let reached = || {
            children
                .iter()
                .enumerate()
                .filter(|(_, c)| c.values.len() >= x)
        };
        let mine = upto(&children[me])?;
        let worse = |a: f64, b: f64| goal.better(b, a);
        match self {
            Self::None => None,
            Self::Bandit {
                slack_factor,
                slack_amount,
                ..
            } => {
                let best =
                    goal.best(&reached().filter_map(|(_, c)| upto(c)).collect::<Vec<_>>())?;
                let (allowed, slack) = match (slack_factor, slack_amount, goal) {
                    (Some(f), _, Goal::Maximize) => (mine * (1.0 + f), format!("slack_factor {f}")),
                    (Some(f), _, Goal::Minimize) => (mine / (1.0 + f), format!("slack_factor {f}")),
                    (None, Some(a), Goal::Maximize) => (mine + a, format!("slack_amount {a}")),
                    (None, Some(a), Goal::Minimize) => (mine - a, format!("slack_amount {a}")),
                    (None, None, _) => return None,
                };
                worse(allowed, best).then(|| {
                    let allowed = shown(allowed);
                    format!(
                        "BanditPolicy at interval {x}: its best value {mine} with {slack} gives {allowed}, worse than the best child's {best}"
                    )
                })
            }
            Self::MedianStopping { .. } => {
                let mut averages: Vec<f64> = reached()
                    .map(|(_, c)| c.values[..x].iter().sum::<f64>() / x as f64)
                    .collect();
                averages.sort_by(f64::total_cmp);
                let n = averages.len();
                let median = if n % 2 == 1 {
                    averages[n / 2]
                } else {
                    (averages[n / 2 - 1] + averages[n / 2]) / 2.0
                };
                worse(mine, median).then(|| {
                    let median = shown(median);
                    format!(
                        "MedianStoppingPolicy at interval {x}: its best value {mine} is worse than the median {median} of the running averages of {n} children"
                    )
                })
            }
            Self::TruncationSelection {
                truncation_percentage,
                exclude_finished_jobs,
                ..
            } => {
                // Worst first; between equal values the later child goes first, so
                // the earlier one is kept.
                let mut ranked: Vec<(usize, f64)> = reached()
                    .filter(|(i, c)| *i == me || !(*exclude_finished_jobs && c.finished))
                    .filter_map(|(i, c)| upto(c).map(|v| (i, v)))
                    .collect();
                ranked.sort_by(|(i, a), (j, b)| {
                    let by_value = match goal {
                        Goal::Maximize => a.total_cmp(b),
                        Goal::Minimize => b.total_cmp(a),
                    };
                    by_value.then(j.cmp(i))
                });
                let cut = ranked.len() * (*truncation_percentage as usize) / 100;
                let place = ranked.iter().position(|(i, _)| *i == me)?;
                (place < cut).then(|| {
                    format!(
                        "TruncationSelectionPolicy at interval {x}: its best value {mine} is among the lowest {truncation_percentage}% ({cut} of {} children)",
                        ranked.len()
                    )
                })
            }
        }
    }
}

/// A number the scheduler computed, as a person would write it: rounded to 12
/// significant digits, so `0.31 + 0.15` reads `0.46`, not `0.45999999999999996`.
///
/// ```
/// use runboard_shared::sweep::policy::shown;
/// assert_eq!(shown(0.31 + 0.15), "0.46");
/// assert_eq!(shown(1e-15), "0.000000000000001");
/// assert_eq!(shown(12345.5), "12345.5");
/// ```
pub fn shown(x: f64) -> String {
    format!("{x:.11e}").parse::<f64>().unwrap_or(x).to_string()
}

/// The index of the best child by its best value (ties: the earlier child), `None`
/// when no child logged the metric.
pub fn best_child(goal: Goal, children: &[Option<f64>]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, v) in children.iter().enumerate() {
        if let Some(v) = v.filter(|v| !v.is_nan())
            && best.is_none_or(|(_, b)| goal.better(v, b))
        {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(values: &[f64]) -> Child<'_> {
        Child {
            values,
            finished: false,
        }
    }

    fn bandit(factor: Option<f64>, amount: Option<f64>, every: u32, delay: u32) -> Policy {
        Policy::Bandit {
            slack_factor: factor,
            slack_amount: amount,
            evaluation_interval: every,
            delay_evaluation: delay,
        }
    }

    #[test]
    fn a_policy_applies_at_multiples_of_its_interval_from_the_delay_on() {
        let p = bandit(Some(0.1), None, 2, 5);
        let at: Vec<usize> = (0..12).filter(|&x| p.applies_at(x)).collect();
        assert_eq!(at, [6, 8, 10]);
        assert!(!Policy::None.applies_at(1));
        assert!(bandit(None, Some(1.0), 1, 0).applies_at(1));
    }

    #[test]
    fn bandit_compares_the_best_so_far_with_slack_to_the_best_child() {
        // The docs' example: the best child has 0.8 at the interval; slack_factor 0.2.
        // A child whose best is 0.6 gives 0.72 < 0.8: stopped. 0.7 gives 0.84: kept.
        let p = bandit(Some(0.2), None, 1, 0);
        let (best, low, fair) = ([0.5, 0.8], [0.6, 0.5], [0.7, 0.6]);
        let kids = [live(&best), live(&low), live(&fair)];
        let reason = p.decide(Goal::Maximize, &kids, 1, 2).unwrap();
        assert!(
            reason.contains("interval 2") && reason.contains("0.8"),
            "{reason}"
        );
        assert_eq!(p.decide(Goal::Maximize, &kids, 2, 2), None);
        assert_eq!(p.decide(Goal::Maximize, &kids, 0, 2), None);
        // At interval 1 the best is 0.6 (the low child's): nobody is 20% short of it.
        assert_eq!(p.decide(Goal::Maximize, &kids, 2, 1), None);

        // slack_amount 0.25, minimize (a loss): best 1.0; 1.3 - 0.25 = 1.05 > 1.0.
        let p = bandit(None, Some(0.25), 1, 0);
        let (a, b, c) = ([1.0], [1.3], [1.2]);
        let kids = [live(&a), live(&b), live(&c)];
        assert!(p.decide(Goal::Minimize, &kids, 1, 1).is_some());
        assert_eq!(p.decide(Goal::Minimize, &kids, 2, 1), None);
    }

    #[test]
    fn bandit_only_compares_children_that_reached_the_interval() {
        let p = bandit(None, Some(0.1), 1, 0);
        let (ahead, behind) = ([0.1, 0.1, 0.1], [0.9]);
        let kids = [live(&ahead), live(&behind)];
        // At interval 3 only the first child has a value: it is the best, kept.
        assert_eq!(p.decide(Goal::Maximize, &kids, 0, 3), None);
        assert!(p.decide(Goal::Maximize, &kids, 0, 1).is_some());
    }

    #[test]
    fn median_stopping_compares_the_best_so_far_with_the_median_running_average() {
        // Running averages over intervals 1..2: 0.85, 0.45, 0.2 → median 0.45.
        let p = Policy::MedianStopping {
            evaluation_interval: 1,
            delay_evaluation: 0,
        };
        let (a, b, c) = ([0.8, 0.9], [0.4, 0.5], [0.1, 0.3]);
        let kids = [live(&a), live(&b), live(&c)];
        assert!(
            p.decide(Goal::Maximize, &kids, 2, 2)
                .unwrap()
                .contains("median 0.45")
        );
        assert_eq!(
            p.decide(Goal::Maximize, &kids, 1, 2),
            None,
            "0.5 is not worse than 0.45"
        );
        assert_eq!(p.decide(Goal::Maximize, &kids, 0, 2), None);
    }

    #[test]
    fn truncation_selection_stops_the_lowest_percentage() {
        // Five children at interval 1; 40% of 5 is 2: the two lowest are stopped.
        let p = Policy::TruncationSelection {
            truncation_percentage: 40,
            evaluation_interval: 1,
            delay_evaluation: 0,
            exclude_finished_jobs: false,
        };
        let vals = [[0.5], [0.1], [0.9], [0.3], [0.7]];
        let kids: Vec<Child<'_>> = vals.iter().map(|v| live(v)).collect();
        let stopped: Vec<usize> = (0..5)
            .filter(|&i| p.decide(Goal::Maximize, &kids, i, 1).is_some())
            .collect();
        assert_eq!(stopped, [1, 3]);
        let stopped: Vec<usize> = (0..5)
            .filter(|&i| p.decide(Goal::Minimize, &kids, i, 1).is_some())
            .collect();
        assert_eq!(stopped, [2, 4]);
    }

    #[test]
    fn the_best_child_follows_the_goal_and_ties_go_to_the_earlier() {
        let vals = [Some(0.3), None, Some(0.9), Some(0.9), Some(0.1)];
        assert_eq!(best_child(Goal::Maximize, &vals), Some(2));
        assert_eq!(best_child(Goal::Minimize, &vals), Some(4));
        assert_eq!(best_child(Goal::Maximize, &[None, None]), None);
    }
}
