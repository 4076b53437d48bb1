//! `cargo xtask test`'s browser tests: Playwright (`e2e/`) driving Debian's Chromium
//! against real `runboard serve` processes, which the tests start themselves
//! (`e2e/lib/runboard.mjs`) from the debug binary, serving `static/pkg`.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// Builds the server, then runs `npx playwright test` in `e2e/` (only the tests
/// tagged `tag`, if given); fails if a test fails. Expects the frontend bundle in
/// `static/pkg/` and `setup::e2e_setup()` done.
pub(crate) fn test(tag: Option<&str>) -> Result<()> {
    crate::cargo(&["build", "--package", "runboard-server"])?;
    let bin = crate::target_dir().join("debug/runboard");
    let e2e = crate::project_root().join("e2e");
    let mut args = vec!["playwright", "test"];
    if let Some(tag) = tag {
        args.extend(["--grep", tag]);
    }
    crate::step(&format!("browser tests: npx {} (e2e/)", args.join(" ")));
    // The README's path (e2e/tests/readme.spec.ts): `cargo xtask run`'s own arguments,
    // with a relative data folder of its own in the checkout, started from there.
    let readme_data = format!("target/readme-path/e2e-{}", tag.is_some());
    let _ = std::fs::remove_dir_all(crate::project_root().join(&readme_data));
    let serve_args = crate::serve_command::serve_args(&readme_data, false);
    let status = Command::new("npx")
        .args(&args)
        .current_dir(&e2e)
        .env("RUNBOARD_BIN", &bin)
        .env("RUNBOARD_SERVE_ARGS", serde_json::to_string(&serve_args)?)
        .env("RUNBOARD_SKIP_LOG", crate::skips::log_path())
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
