//! Runs: their ids, the experiments they belong to, and the status machine they follow.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An experiment name, checked against the SDK's rule `^[a-zA-Z0-9][\w\-]{0,254}$`
/// (ASCII letters, digits, `_` and `-`, starting with a letter or digit, at most 255).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExperimentName(String);

/// Why a string is not a valid experiment name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid experiment name {name:?}: {reason}")]
pub struct InvalidExperimentName {
    /// The rejected name.
    pub name: String,
    /// What rule it breaks, in words.
    pub reason: &'static str,
}

impl ExperimentName {
    /// Checks `name` against the SDK's rule.
    pub fn new(name: &str) -> Result<Self, InvalidExperimentName> {
        let invalid = |reason| InvalidExperimentName {
            name: name.to_owned(),
            reason,
        };
        let mut chars = name.chars();
        match chars.next() {
            None => return Err(invalid("it is empty")),
            Some(c) if !c.is_ascii_alphanumeric() => {
                return Err(invalid("it must start with a letter or a digit"));
            }
            Some(_) => {}
        }
        if name.len() > 255 {
            return Err(invalid("it is longer than 255 characters"));
        }
        if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(invalid(
                "it may hold only letters, digits, '_' and '-' (pattern ^[a-zA-Z0-9][\\w\\-]{0,254}$)",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ExperimentName {
    type Error = InvalidExperimentName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<ExperimentName> for String {
    fn from(value: ExperimentName) -> Self {
        value.0
    }
}

impl fmt::Display for ExperimentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// A run id in the SDK's shape: `<experiment>_<unix seconds>_<8 hex digits>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct RunId(String);

/// Why a string is not a run id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid run id {0:?}: expected <experiment>_<unix seconds>_<8 hex digits>")]
pub struct InvalidRunId(pub String);

impl RunId {
    /// Makes the id of a run of `experiment` submitted at `unix_seconds`; `random`
    /// supplies the 8 hex digits, so callers decide where randomness comes from.
    pub fn new(experiment: &ExperimentName, unix_seconds: u64, random: u32) -> Self {
        Self(format!("{experiment}_{unix_seconds}_{random:08x}"))
    }

    /// Parses an id, checking its shape (so that it is safe as a folder name too).
    pub fn parse(text: &str) -> Result<Self, InvalidRunId> {
        let bad = || InvalidRunId(text.to_owned());
        let mut parts = text.rsplitn(3, '_');
        let (hex, secs, experiment) = (
            parts.next().ok_or_else(bad)?,
            parts.next().ok_or_else(bad)?,
            parts.next().ok_or_else(bad)?,
        );
        let hex_ok = hex.len() == 8 && hex.chars().all(|c| c.is_ascii_hexdigit());
        let secs_ok = !secs.is_empty() && secs.chars().all(|c| c.is_ascii_digit());
        if !hex_ok || !secs_ok || ExperimentName::new(experiment).is_err() {
            return Err(bad());
        }
        Ok(Self(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The experiment part of the id.
    pub fn experiment(&self) -> &str {
        let mut parts = self.0.rsplitn(3, '_');
        parts.nth(2).unwrap_or_default()
    }
}

impl TryFrom<String> for RunId {
    type Error = InvalidRunId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RunId> for String {
    fn from(value: RunId) -> Self {
        value.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// The status of a run, with the SDK's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub enum RunStatus {
    /// Accepted and stored; nothing started yet. It waits here while its compute
    /// target runs as many runs as it may at once.
    Queued,
    /// The working directory and environment are being made ready.
    Preparing,
    /// The job is being launched on its compute target.
    Starting,
    /// The user's script is running.
    Running,
    /// The script has ended; logs and files are being collected.
    Finalizing,
    /// The script exited with status 0.
    Completed,
    /// The script, its preparation or its supervisor failed.
    Failed,
    /// A user asked to cancel; the job is being stopped.
    CancelRequested,
    /// The job was stopped on request.
    Canceled,
}

impl RunStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [RunStatus; 9] = [
        Self::Queued,
        Self::Preparing,
        Self::Starting,
        Self::Running,
        Self::Finalizing,
        Self::Completed,
        Self::Failed,
        Self::CancelRequested,
        Self::Canceled,
    ];

    /// The SDK's name of the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "Queued",
            Self::Preparing => "Preparing",
            Self::Starting => "Starting",
            Self::Running => "Running",
            Self::Finalizing => "Finalizing",
            Self::Completed => "Completed",
            Self::Failed => "Failed",
            Self::CancelRequested => "CancelRequested",
            Self::Canceled => "Canceled",
        }
    }

    /// Parses the SDK's name of a status.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// A terminal status never changes again.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Canceled)
    }

    /// The transition table. A run moves forward through
    /// Queued → Preparing → Starting → Running → Finalizing → Completed, may skip
    /// ahead (a script that ends before it is seen running goes straight to
    /// Finalizing), may fail from any live status, and may be cancelled from any live
    /// status (CancelRequested, then Canceled; or Failed/Completed if the job ends on
    /// its own first). A run still waiting in `Queued` has nothing to stop, so it may
    /// go straight to Canceled.
    pub fn can_become(self, next: RunStatus) -> bool {
        use RunStatus::*;
        if self.is_terminal() || self == next {
            return false;
        }
        match next {
            Failed => true,
            CancelRequested => self != CancelRequested,
            Canceled => matches!(self, CancelRequested | Queued),
            Completed => matches!(self, Finalizing | CancelRequested),
            Queued => false,
            Preparing | Starting | Running | Finalizing => {
                self != CancelRequested && lifecycle_rank(next) > lifecycle_rank(self)
            }
        }
    }
}

fn lifecycle_rank(status: RunStatus) -> u8 {
    match status {
        RunStatus::Queued => 0,
        RunStatus::Preparing => 1,
        RunStatus::Starting => 2,
        RunStatus::Running => 3,
        RunStatus::Finalizing => 4,
        _ => 5,
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_name(name: &str, ok: bool) {
        assert_eq!(ExperimentName::new(name).is_ok(), ok, "{name:?}");
    }

    #[test]
    fn experiment_names_follow_the_sdk_rule() {
        check_name("sklearn-mnist", true);
        check_name("a", true);
        check_name("9_lives", true);
        check_name(&"x".repeat(255), true);
        check_name(&"x".repeat(256), false);
        check_name("", false);
        check_name("-leading-dash", false);
        check_name("_leading_underscore", false);
        check_name("has space", false);
        check_name("dot.ted", false);
        check_name("../escape", false);
    }

    #[test]
    fn run_ids_have_the_sdk_shape_and_round_trip() {
        let exp = ExperimentName::new("my_exp-1").unwrap();
        let id = RunId::new(&exp, 1_700_000_000, 0xab);
        assert_eq!(id.as_str(), "my_exp-1_1700000000_000000ab");
        assert_eq!(id.experiment(), "my_exp-1");
        assert_eq!(RunId::parse(id.as_str()), Ok(id));
        for bad in [
            "",
            "exp",
            "exp_1_zz",
            "exp_x_0000000a",
            "../x_1_0000000a",
            "exp_1_0000000a/",
        ] {
            assert!(RunId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn transition_table() {
        use RunStatus::*;
        let allowed = [
            (Queued, Preparing),
            (Preparing, Starting),
            (Starting, Running),
            (Running, Finalizing),
            (Starting, Finalizing),
            (Finalizing, Completed),
            (Running, Failed),
            (Queued, CancelRequested),
            (Queued, Canceled),
            (Running, CancelRequested),
            (CancelRequested, Canceled),
            (CancelRequested, Completed),
            (CancelRequested, Failed),
        ];
        let forbidden = [
            (Completed, Running),
            (Failed, Completed),
            (Canceled, Queued),
            (Running, Starting),
            (Running, Completed),
            (Running, Canceled),
            (Preparing, Canceled),
            (CancelRequested, Running),
            (CancelRequested, CancelRequested),
            (Running, Running),
        ];
        for (from, to) in allowed {
            assert!(from.can_become(to), "{from} -> {to} should be allowed");
        }
        for (from, to) in forbidden {
            assert!(!from.can_become(to), "{from} -> {to} should be refused");
        }
    }

    #[test]
    fn status_names_round_trip() {
        for s in RunStatus::ALL {
            assert_eq!(RunStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
    }
}
