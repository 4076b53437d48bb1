//! `cargo xtask test`'s browser tests: Playwright (`e2e/`) driving Debian's Chromium
//! against real `runboard serve` processes, which the tests start themselves
//! (`e2e/lib/runboard.mjs`) from the debug binary, serving `static/pkg`.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// Builds the server, then runs `npx playwright test` in `e2e/`; fails if a test
/// fails. Expects the frontend bundle in `static/pkg/` and `setup::e2e_setup()` done.
pub(crate) fn test() -> Result<()> {
    crate::cargo(&["build", "--package", "runboard-server"])?;
    let bin = crate::target_dir().join("debug/runboard");
    let e2e = crate::project_root().join("e2e");
    crate::step("browser tests: npx playwright test (e2e/)");
    let status = Command::new("npx")
        .args(["playwright", "test"])
        .current_dir(&e2e)
        .env("RUNBOARD_BIN", &bin)
        .status()
        .context("running npx playwright test in e2e/")?;
    if !status.success() {
        bail!(
            "browser tests failed ({status}); screenshots and traces are in {}",
            e2e.join("test-results").display()
        );
    }
    Ok(())
}
