//! The `runboard serve` command line that `cargo xtask run` starts, defined once.
//!
//! The test that starts a server the way a new user does
//! (`server/tests/it/readme_path.rs`) includes this file, and the browser test of the
//! same path (`e2e/tests/readme.spec.ts`) is handed these arguments by
//! `cargo xtask test`, so the README's command and its tests cannot drift apart.

/// The data folder `cargo xtask run` gives the server: relative, in the checkout.
pub const DATA_DIR: &str = "runboard-data";

/// The folder of the dev bundle, relative to the checkout.
pub const STATIC_DIR: &str = "static/pkg";

/// The arguments of `runboard serve` as `cargo xtask run` passes them, for a data
/// folder `data_dir` relative to the checkout, which is the working directory. A
/// `release` server carries its web app inside the binary.
pub fn serve_args(data_dir: &str, release: bool) -> Vec<String> {
    let mut args = vec![
        "serve".to_owned(),
        "--data-dir".to_owned(),
        data_dir.to_owned(),
    ];
    if !release {
        args.extend(["--static-dir".to_owned(), STATIC_DIR.to_owned()]);
    }
    args
}
