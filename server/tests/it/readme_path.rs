//! The README's path, as a new user takes it: the server started exactly as
//! `cargo xtask run` starts it (the same arguments, from the one function that builds
//! them, with a data folder relative to the checkout, which is the working directory),
//! then the CLI found through the client config that server wrote.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use crate::support::{RUNBOARD, source, text};

// `cargo xtask run`'s own definition of the command (this test uses only part of it).
#[allow(dead_code)]
#[path = "../../../xtask/src/serve_command.rs"]
mod serve_command;

/// The checkout: the working directory of `cargo xtask run` (as the server's own
/// working directory will name it: no `..`, no symlinks).
fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .canonicalize()
        .unwrap()
}

/// `runboard serve` as `cargo xtask run` starts it, on a free port; killed on drop,
/// its data folder removed.
struct ReadmeServer {
    child: Child,
    data_dir: PathBuf,
    client_config: tempfile::NamedTempFile,
    printed: String,
}

impl ReadmeServer {
    fn start(data_dir: &str) -> Self {
        let client_config = tempfile::NamedTempFile::new().unwrap();
        let mut child = Command::new(RUNBOARD)
            .args(serve_command::serve_args(data_dir, false))
            .args(["--port", "0"])
            .current_dir(checkout())
            .env("RUNBOARD_CONFIG", client_config.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut printed = String::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            printed += &line;
            printed.push('\n');
            if line.starts_with("Sample notebook: ") {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            data_dir: checkout().join(data_dir),
            client_config,
            printed,
        }
    }

    /// The CLI, from the checkout, finding this server through its client config.
    fn cli(&self, args: &[&str]) -> Output {
        Command::new(RUNBOARD)
            .args(args)
            .current_dir(checkout())
            .env("RUNBOARD_CONFIG", self.client_config.path())
            .env_remove("RUNBOARD_URL")
            .env_remove("RUNBOARD_TOKEN")
            .output()
            .unwrap()
    }
}

impl Drop for ReadmeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

#[test]
fn the_readme_server_runs_the_quickstart_and_a_default_environment_job() {
    let data_dir = format!("target/readme-path/it-{}", std::process::id());
    assert!(Path::new(&data_dir).is_relative());
    let server = ReadmeServer::start(&data_dir);

    // It says where the data lives, as an absolute path.
    let expected = checkout().join(&data_dir);
    assert!(
        server
            .printed
            .contains(&format!("Data: {}\n", expected.display())),
        "{}",
        server.printed
    );

    // And who its jobs run as (as root: the job user, when it can reach the checkout).
    assert!(
        server.printed.contains("\nJobs run as "),
        "{}",
        server.printed
    );

    // The seeded sample notebook, headless, as the README says.
    let notebook = server.cli(&["notebook", "run", "Quickstart.ipynb"]);
    assert!(notebook.status.success(), "{}", text(&notebook));
    let saved = std::fs::read_to_string(server.data_dir.join("files/Quickstart.ipynb")).unwrap();
    assert!(saved.contains("Status: Completed"), "{saved}");

    // A job with the default environment (built with uv, not user_managed), submitted
    // and followed the README's way.
    let src = source(&[(
        "train.py",
        "import sys\nfrom azureml.core import Run\nrun = Run.get_context()\nrun.log('x', 1.0)\n\
         print('python at', sys.executable)\n",
    )]);
    let submit = server.cli(&[
        "submit",
        "--experiment",
        "demo",
        "--source-directory",
        src.path().to_str().unwrap(),
        "--entry-script",
        "train.py",
        "--follow",
    ]);
    assert!(submit.status.success(), "{}", text(&submit));
    let stdout = String::from_utf8_lossy(&submit.stdout);
    let envs = expected.join("envs");
    assert!(
        stdout.contains(&format!("python at {}", envs.display())),
        "the job should run in a built environment under {}: {}",
        envs.display(),
        text(&submit)
    );
}
