//! `cargo xtask test`'s API fuzzing: schemathesis (PyPI, pinned, in a venv under
//! `target/`) against a real `runboard serve` and its `/api/openapi.json`, logged in
//! with the server's token, with a bounded number of examples per operation.
//!
//! The server first gets one completed run (submitted with the CLI), whose id and
//! experiment the read operations are given as path parameters, so that they reach
//! their handlers instead of answering 404. The checks are the ones a server must
//! pass whatever it is sent: no 5xx, only documented statuses, content types and
//! headers, and bodies that match the document. Request bodies are not described
//! field by field yet (docs/decisions.md), so schemathesis's two checks that a
//! request the schema allows is accepted, and one it forbids refused, are not run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

/// The schemathesis release the step installs.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// Examples generated per operation and phase: about 6,000 requests, about a minute
/// on 2 cores.
const MAX_EXAMPLES: &str = "30";

/// Operations left out, each with why.
const EXCLUDED: &[(&str, &str, &str)] = &[
    (
        "GET",
        "/api/frameworks/{framework}/versions",
        "asks the package index, a server outside this machine (environments::* test it)",
    ),
    (
        "GET",
        "/api/runs/{id}/events",
        "a websocket, or a long poll that waits as long as `wait` says (websocket::* test it)",
    ),
];

/// What schemathesis checks on every answer.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance";

/// Runs the fuzzing step; fails if schemathesis reports a failure.
pub(crate) fn test() -> Result<()> {
    crate::step("API fuzzing: schemathesis against /api/openapi.json");
    let python = venv()?;
    crate::cargo(&["build", "--package", "runboard-server"])?;
    let bin = crate::target_dir().join("debug/runboard");
    let home = crate::target_dir().join("fuzz");
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home)?;
    let mut server = Serving::start(&bin, &home)?;
    let result = fuzz(&python, &bin, &home, &server);
    server.stop();
    result
}

fn fuzz(python: &Path, bin: &Path, home: &Path, server: &Serving) -> Result<()> {
    let run = seed_run(bin, home, server)?;
    let config = home.join("schemathesis.toml");
    std::fs::write(
        &config,
        format!(
            "# Written by cargo xtask test (xtask/src/fuzz.rs).\n\
             [[operations]]\n\
             include-method = \"GET\"\n\
             parameters = {{ \"path.id\" = \"{run}\", \"path.name\" = \"fuzz\", \
             \"query.path\" = \"user_logs/std_log.txt\" }}\n"
        ),
    )?;
    let url = &server.url;
    let mut cmd = Command::new(python);
    cmd.args(["-m", "schemathesis.cli", "--config-file"])
        .arg(&config)
        .args(["run", &format!("{url}/api/openapi.json"), "--url", url])
        .args(["-H", &format!("Authorization: Bearer {}", server.token)])
        .args(["--max-examples", MAX_EXAMPLES, "--generation-deterministic"])
        .args(["--checks", CHECKS])
        .arg("--report-dir")
        .arg(home.join("report"))
        .args(["--no-color"]);
    eprintln!("excluded operations:");
    for (method, path, why) in EXCLUDED {
        eprintln!("  {method} {path}: {why}");
        cmd.args(["--exclude-path", path]);
    }
    let status = cmd.status().context("running schemathesis")?;
    if !status.success() {
        bail!("schemathesis found failures ({status}); its report is above");
    }
    Ok(())
}

/// The venv's interpreter, made on first use with uv (else pip), keyed by the version.
fn venv() -> Result<PathBuf> {
    let key: String = SCHEMATHESIS
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let venv = crate::target_dir().join(format!("venv-{key}"));
    let python = venv.join("bin/python");
    if python.exists() {
        return Ok(python);
    }
    eprintln!("==> installing {SCHEMATHESIS} into {}", venv.display());
    let partial = venv.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    let ok = |cmd: &mut Command| -> Result<()> {
        let status = cmd.status().with_context(|| format!("{cmd:?}"))?;
        if !status.success() {
            bail!("{cmd:?} failed ({status})");
        }
        Ok(())
    };
    ok(Command::new("python3").args(["-m", "venv"]).arg(&partial))?;
    let partial_python = partial.join("bin/python");
    let uv = if crate::setup::has("uv", &["--version"]) {
        Some(vec!["uv"])
    } else if crate::setup::has("python3", &["-m", "uv", "--version"]) {
        Some(vec!["python3", "-m", "uv"])
    } else {
        None
    };
    match uv {
        Some(uv) => ok(Command::new(uv[0])
            .args(&uv[1..])
            .args(["pip", "install", "--quiet", "--python"])
            .arg(&partial_python)
            .arg(SCHEMATHESIS))?,
        None => ok(Command::new(&partial_python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            SCHEMATHESIS,
        ]))?,
    }
    // The interpreter is a link to the base one, so the folder can move; the step
    // runs `python -m schemathesis.cli`, not the scripts whose first line names the
    // old folder.
    std::fs::rename(&partial, &venv)?;
    Ok(python)
}

/// A `runboard serve` on a free port with a data folder in `home`.
struct Serving {
    child: Child,
    url: String,
    token: String,
    config: PathBuf,
}

impl Serving {
    fn start(bin: &Path, home: &Path) -> Result<Self> {
        let config = home.join("client.json");
        let mut child = Command::new(bin)
            .args(["serve", "--port", "0", "--data-dir"])
            .arg(home.join("data"))
            .env("RUNBOARD_CONFIG", &config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(home.join("serve.log"))?)
            .spawn()
            .context("starting runboard serve")?;
        let stdout = child.stdout.take().context("serve's stdout")?;
        let mut url = None;
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            if let Some(rest) = line.strip_prefix("Runboard is serving ") {
                url = Some(rest.trim().to_owned());
            }
            if let Some((_, token)) = line.split_once("?token=")
                && line.starts_with("Log in:")
            {
                let token = token.trim().to_owned();
                let url = url.context("serve printed its login link before its URL")?;
                return Ok(Self {
                    child,
                    url,
                    token,
                    config,
                });
            }
        }
        let _ = child.kill();
        bail!(
            "runboard serve printed no login link; see {}",
            home.join("serve.log").display()
        )
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Submits a short run with the CLI and waits until it completes; its id.
fn seed_run(bin: &Path, home: &Path, server: &Serving) -> Result<String> {
    let source = home.join("source");
    std::fs::create_dir_all(&source)?;
    std::fs::write(
        source.join("train.py"),
        "import os\nos.makedirs('outputs', exist_ok=True)\n\
         open('outputs/a.txt', 'w').write('fuzz')\nprint('hello from the fuzzing run')\n",
    )?;
    let out = Command::new(bin)
        .args([
            "submit",
            "--experiment",
            "fuzz",
            "--entry-script",
            "train.py",
        ])
        .arg("--source-directory")
        .arg(&source)
        .args(["--follow", "--url", &server.url, "--token", &server.token])
        .env("RUNBOARD_CONFIG", &server.config)
        .output()
        .context("runboard submit")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "the fuzzing run did not complete: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Run id: "))
        .map(|id| id.trim().to_owned())
        .with_context(|| format!("runboard submit printed no run id: {text}"))
}
