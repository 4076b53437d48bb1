//! The tests that did not run because a real component was missing: each such test
//! appends a line `test: why` to one file (`$RUNBOARD_SKIP_LOG`, which [`crate::cargo`]
//! and the browser tests are given), and `cargo xtask test` ends with one line naming
//! them all, or saying that none were skipped.

use std::path::PathBuf;

/// The file the tests append their skips to.
pub(crate) fn log_path() -> PathBuf {
    crate::target_dir().join("runboard-skipped-tests.txt")
}

/// Empties the list before a test run.
pub(crate) fn reset() -> anyhow::Result<()> {
    let path = log_path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, "")?;
    Ok(())
}

/// The closing line: every skipped test and why, or that none were skipped.
pub(crate) fn summary() -> String {
    let text = std::fs::read_to_string(log_path()).unwrap_or_default();
    line(&text)
}

fn line(log: &str) -> String {
    let skipped: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    if skipped.is_empty() {
        "Skipped real-component tests: none.".to_owned()
    } else {
        format!(
            "Skipped real-component tests ({}): {}",
            skipped.len(),
            skipped.join("; ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::line;

    #[test]
    fn the_closing_line_names_every_skip_or_says_none() {
        assert_eq!(line(""), "Skipped real-component tests: none.");
        assert_eq!(line("\n"), "Skipped real-component tests: none.");
        assert_eq!(
            line("slurm::a: Slurm is not installed\nenvironments::b: no Docker engine\n"),
            "Skipped real-component tests (2): slurm::a: Slurm is not installed; \
             environments::b: no Docker engine"
        );
    }
}
