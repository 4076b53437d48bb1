//! What the benchmarks share: a real `runboard serve`, and timing a submission until
//! its first output line arrives on the run's websocket.

#![allow(dead_code)] // Each benchmark uses a part of this module.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use runboard_server::snapshot;
use runboard_shared::event::{EventBody, Frame};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

/// The median of some durations.
/// The URL and the login token a starting `runboard serve` prints on its stdout (which
/// must be piped); the rest of its output is read and dropped, so the server never
/// writes to a closed pipe.
pub fn serving(child: &mut Child) -> (String, String) {
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let url = lines
        .next()
        .and_then(Result::ok)
        .and_then(|l| l.strip_prefix("Runboard is serving ").map(str::to_owned))
        .expect("url");
    // Lines follow (the data folder, who jobs run as) before the login URL.
    let token = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.split_once("?token=").map(|(_, t)| t.to_owned()))
        .expect("token");
    std::thread::spawn(move || lines.for_each(drop));
    (url, token)
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A `runboard serve` on a free port with a temporary data folder.
pub struct Server {
    child: Child,
    /// Base URL.
    pub url: String,
    /// Access token.
    pub token: String,
    http: reqwest::Client,
    _data: tempfile::TempDir,
}

impl Server {
    /// Starts the server.
    pub fn start() -> Self {
        Self::start_with_config("")
    }

    /// Starts the server with `config` as its `runboard.toml`.
    pub fn start_with_config(config: &str) -> Self {
        let data = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(data.path().join("data")).expect("mkdir");
        let dir = data.path().join("data");
        Self::start_in(data, &dir, config)
    }

    /// Starts the server on an existing data folder (which outlives it).
    pub fn start_on(data_dir: &Path, config: &str) -> Self {
        let holder = tempfile::tempdir().expect("tempdir");
        Self::start_in(holder, data_dir, config)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn start_in(data: tempfile::TempDir, data_dir: &Path, config: &str) -> Self {
        std::fs::write(data_dir.join("runboard.toml"), config).expect("config");
        let mut child = Command::new(env!("CARGO_BIN_EXE_runboard"))
            .args(["serve", "--port", "0", "--data-dir"])
            .arg(data_dir)
            .env("RUNBOARD_CONFIG", data.path().join("client.json"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("runboard serve");
        let (url, token) = serving(&mut child);
        Self {
            child,
            url,
            token,
            http: reqwest::Client::new(),
            _data: data,
        }
    }

    /// Submits `src` with `estimator` (source_directory filled in) and returns the
    /// time until the job's first output line arrives on the websocket.
    pub async fn submit_to_first_line(&self, src: &Path, estimator: serde_json::Value) -> Duration {
        self.submit_until(src, estimator, |path, text| {
            path == "user_logs/std_log.txt" && text.starts_with("first line")
        })
        .await
    }

    /// Submits `src` to `experiment` with `estimator` (source_directory filled in);
    /// returns the run id.
    pub async fn submit(
        &self,
        experiment: &str,
        src: &Path,
        mut estimator: serde_json::Value,
    ) -> String {
        estimator["source_directory"] = src.display().to_string().into();
        let mut archive = Vec::new();
        snapshot::pack(src, snapshot::DEFAULT_LIMIT, &mut archive).expect("pack");
        let form = reqwest::multipart::Form::new()
            .text("estimator", estimator.to_string())
            .part("snapshot", reqwest::multipart::Part::bytes(archive));
        let response: serde_json::Value = self
            .http
            .post(format!("{}/api/experiments/{experiment}/runs", self.url))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .expect("submit")
            .json()
            .await
            .expect("json");
        response["run_id"].as_str().expect("run_id").to_owned()
    }

    /// The run's events websocket, from the start.
    pub async fn events(&self, run_id: &str) -> Ws {
        events(&self.url, &self.token, run_id).await
    }

    /// Submits `src` with `estimator` and returns the time until `done` has said yes
    /// to log text arriving on the websocket (it sees each log event's path and text).
    pub async fn submit_until(
        &self,
        src: &Path,
        estimator: serde_json::Value,
        mut done: impl FnMut(&str, &str) -> bool,
    ) -> Duration {
        let start = Instant::now();
        let run_id = self.submit("bench", src, estimator).await;
        let mut ws = self.events(&run_id).await;
        while let Some(Ok(Message::Text(text))) = ws.next().await {
            if let Ok(Frame::Event { event }) = serde_json::from_str::<Frame>(&text)
                && let EventBody::Log { path, text, .. } = event.body
                && done(&path, &text)
            {
                return start.elapsed();
            }
        }
        panic!("run {run_id} ended without output");
    }
}

/// A websocket of run events.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The events websocket of `run_id` on the server at `url`, from the start.
pub async fn events(url: &str, token: &str, run_id: &str) -> Ws {
    let mut request = format!(
        "{}/api/runs/{run_id}/events?after=0",
        url.replacen("http", "ws", 1)
    )
    .into_client_request()
    .expect("request");
    request.headers_mut().insert(
        "Authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .expect("ws")
        .0
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
