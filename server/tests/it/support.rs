//! Test support: a real `runboard serve` process on 127.0.0.1:0 with a temporary data
//! folder, an in-process app for request-level tests, and small builders.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use runboard_server::snapshot;
use runboard_shared::api::{RunDetails, SubmitResponse};
use runboard_shared::event::{EventBody, Frame};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The `runboard` binary under test.
pub const RUNBOARD: &str = env!("CARGO_BIN_EXE_runboard");

/// A source folder with the given files.
pub fn source(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// A running `runboard serve`.
#[derive(Debug)]
pub struct Server {
    child: Option<Child>,
    /// Base URL.
    pub url: String,
    /// Access token.
    pub token: String,
    /// The data folder.
    pub data_dir: PathBuf,
    /// The port it listens on.
    pub port: u16,
    http: reqwest::Client,
}

impl Server {
    /// Starts a server on a free port.
    pub fn start(data_dir: &Path) -> Self {
        Self::start_on(data_dir, 0)
    }

    /// Starts a server on `port` (0: a free one) and waits until it listens.
    pub fn start_on(data_dir: &Path, port: u16) -> Self {
        Self::start_with(data_dir, port, &[])
    }

    /// Starts a server on `port` with extra `serve` flags.
    pub fn start_with(data_dir: &Path, port: u16, extra: &[&str]) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data_dir.with_extension("serve.log"))
            .unwrap();
        let mut child = Command::new(RUNBOARD)
            .args([
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--grace-seconds",
                "2",
            ])
            .args(extra)
            .arg("--data-dir")
            .arg(data_dir)
            .env("RUNBOARD_CONFIG", data_dir.with_extension("client.json"))
            .env("RUST_LOG", "runboard_server=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut url = String::new();
        let mut token = String::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(u) = line.strip_prefix("Runboard is serving ") {
                url = u.to_owned();
            }
            if let Some(login) = line.strip_prefix("Log in: ") {
                token = login.rsplit("token=").next().unwrap().to_owned();
                break;
            }
        }
        assert!(!token.is_empty(), "the server did not print its login URL");
        // Keep reading stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let port = url.rsplit(':').next().unwrap().parse().unwrap();
        Self {
            child: Some(child),
            url,
            token,
            data_dir: data_dir.to_owned(),
            port,
            http: reqwest::Client::new(),
        }
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// A GET with credentials.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    /// A POST with credentials and no body.
    pub async fn post(&self, path: &str) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    /// Submits `src` with `estimator` (source_directory is filled in).
    pub async fn submit(
        &self,
        experiment: &str,
        src: &Path,
        mut estimator: Value,
    ) -> SubmitResponse {
        estimator["source_directory"] = json!(src.display().to_string());
        let mut archive = Vec::new();
        snapshot::pack(src, snapshot::DEFAULT_LIMIT, &mut archive).unwrap();
        let form = reqwest::multipart::Form::new()
            .text("estimator", estimator.to_string())
            .part("snapshot", reqwest::multipart::Part::bytes(archive));
        let response = self
            .http
            .post(format!("{}/api/experiments/{experiment}/runs", self.url))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        response.json().await.unwrap()
    }

    /// The run's details.
    pub async fn details(&self, run_id: &str) -> RunDetails {
        let response = self.get(&format!("/api/runs/{run_id}")).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Waits until the run's status satisfies `done`, failing after `timeout`.
    pub async fn wait_for(
        &self,
        run_id: &str,
        timeout: Duration,
        done: impl Fn(&RunDetails) -> bool,
    ) -> RunDetails {
        let start = Instant::now();
        loop {
            let details = self.details(run_id).await;
            if done(&details) {
                return details;
            }
            assert!(
                start.elapsed() < timeout,
                "run {run_id} still {} after {timeout:?}: {:?}",
                details.status,
                details.error
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the run has ended.
    pub async fn wait_until_ended(&self, run_id: &str) -> RunDetails {
        self.wait_for(run_id, Duration::from_secs(60), |d| d.status.is_terminal())
            .await
    }

    /// A file of the run, as bytes.
    pub async fn file(&self, run_id: &str, path: &str) -> Vec<u8> {
        let response = self.get(&format!("/api/runs/{run_id}/files/{path}")).await;
        assert_eq!(response.status(), 200, "{path}");
        response.bytes().await.unwrap().to_vec()
    }

    /// A file of the run, as text.
    pub async fn text(&self, run_id: &str, path: &str) -> String {
        String::from_utf8(self.file(run_id, path).await).unwrap()
    }

    /// The CLI, pointed at this server.
    pub fn cli(&self) -> Command {
        let mut cmd = Command::new(RUNBOARD);
        cmd.env("RUNBOARD_URL", &self.url)
            .env("RUNBOARD_TOKEN", &self.token)
            .env("RUNBOARD_CONFIG", self.data_dir.with_extension("cli.json"));
        cmd
    }

    /// The websocket URL of a run's events.
    pub fn events_url(&self, run_id: &str, after: u64) -> String {
        format!(
            "{}/api/runs/{run_id}/events?after={after}",
            self.url.replacen("http", "ws", 1)
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A websocket connection to a run's events.
pub async fn connect(server: &Server, run_id: &str, after: u64) -> WsStream {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = server
        .events_url(run_id, after)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Authorization",
        format!("Bearer {}", server.token).parse().unwrap(),
    );
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

/// A client websocket.
pub type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next frame on a websocket, or `None` when it closed.
pub async fn next_frame(ws: &mut WsStream) -> Option<Frame> {
    use futures_util::StreamExt;
    loop {
        match tokio::time::timeout(Duration::from_secs(60), ws.next())
            .await
            .expect("no frame for 60 s")?
        {
            Ok(tokio_tungstenite::tungstenite::Message::Text(text)) => {
                return Some(serde_json::from_str(&text).unwrap());
            }
            Ok(tokio_tungstenite::tungstenite::Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// The log text and terminal status carried by a list of frames.
pub fn log_text(frames: &[Frame]) -> String {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::Event { event } => match &event.body {
                EventBody::Log { path, text, .. } if path == "user_logs/std_log.txt" => {
                    Some(text.as_str())
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// A multipart body, built by hand so tests can send what no client library would.
pub fn multipart(parts: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "runboard-test-boundary";
    let mut body = Vec::new();
    for (name, data) in parts {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A tar.gz of the given (path, bytes) files, paths written verbatim.
pub fn tar_gz(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        let name = &mut header.as_gnu_mut().unwrap().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_cksum();
        builder.append(&header, *data).unwrap();
    }
    gzip(&builder.into_inner().unwrap())
}

/// A tar.gz holding one symlink.
pub fn tar_gz_symlink(path: &str, target: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Symlink);
    header.set_size(0);
    builder.append_link(&mut header, path, target).unwrap();
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(1);
    header.set_path("train.py").unwrap();
    header.set_cksum();
    builder.append(&header, &b"\n"[..]).unwrap();
    gzip(&builder.into_inner().unwrap())
}

fn gzip(raw: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(raw).unwrap();
    gz.finish().unwrap()
}

/// A notebook of code cells, as nbformat 4 JSON.
pub fn notebook_json(cells: &[&str]) -> String {
    use runboard_shared::notebook::{Cell, CodeCell, Notebook};
    let mut nb = Notebook::new();
    for source in cells {
        nb.cells.push(Cell::Code(CodeCell {
            id: None,
            metadata: serde_json::Map::new(),
            source: (*source).into(),
            execution_count: None,
            outputs: Vec::new(),
        }));
    }
    nb.to_json()
}

/// A real component that some tests need and a machine may lack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// Open MPI's `mpirun` (Debian's `openmpi-bin`, installed by the setup).
    Mpirun,
    /// The local Slurm cluster (`scripts/local-slurm.sh`, installed by the setup).
    Slurm,
    /// A Docker engine: none can be installed on these machines.
    Docker,
    /// Root: only a root server runs jobs as another user (CI runs as root).
    Root,
}

/// Says that `test` did not run (or not all of it) because `tool` is missing: on the
/// terminal, past the test harness's output capture, and in the list of skipped tests
/// that `cargo xtask test` prints as its last line (the file `$RUNBOARD_SKIP_LOG`).
/// With `CI=true` a missing `mpirun` or Slurm fails the test instead, since the setup
/// installs them; Docker is the one exception.
pub fn skip(test: &str, tool: Tool, why: &str) {
    use std::io::Write;
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        !ci || tool == Tool::Docker,
        "{test} needs {tool:?}, which is missing ({why}); with CI=true that is a failure, \
         as `cargo xtask test` installs it"
    );
    let line = format!("{test}: {why}");
    let _ = writeln!(std::io::stderr(), "SKIPPED {line}");
    if let Some(log) = std::env::var_os("RUNBOARD_SKIP_LOG") {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log);
        match file {
            Ok(mut file) => {
                let _ = writeln!(file, "{line}");
            }
            Err(e) => panic!("could not record the skip in {}: {e}", log.display()),
        }
    }
}

/// A finished process's exit status and output, for assertion messages.
pub fn text(output: &std::process::Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A new, empty virtual environment in `dir/venv`; its Python.
pub fn new_venv(dir: &Path) -> PathBuf {
    let venv = dir.join("venv");
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made));
    venv.join("bin/python")
}

/// A new virtual environment in `dir/venv` with the SDK package (`runboard-azureml`)
/// installed by pip from the server's own index; its Python.
pub fn venv_with_sdk(dir: &Path, server: &Server) -> PathBuf {
    let python = new_venv(dir);
    let index = format!("{}/simple/", server.url);
    let pip = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--no-cache-dir",
            "--index-url",
            &index,
        ])
        .arg("runboard-azureml")
        .env_remove("PIP_FIND_LINKS")
        .output()
        .unwrap();
    assert!(pip.status.success(), "{}", text(&pip));
    python
}

/// Runs `script` with the venv's Python in `dir`, finding the server through the
/// client config that server wrote (as on a machine where `runboard serve` ran).
pub fn run_script(
    python: &Path,
    dir: &Path,
    server: &Server,
    script: &str,
) -> std::process::Output {
    std::fs::write(dir.join("script.py"), script).unwrap();
    Command::new(python)
        .arg("script.py")
        .current_dir(dir)
        .env(
            "RUNBOARD_CONFIG",
            server.data_dir.with_extension("client.json"),
        )
        .env_remove("RUNBOARD_URL")
        .env_remove("RUNBOARD_TOKEN")
        .env_remove("PYTHONPATH")
        .output()
        .unwrap()
}
