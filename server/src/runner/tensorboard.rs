//! Real TensorBoard on demand: one `tensorboard` process per run that asks for it,
//! on the run's `logs/`, on a loopback port, with `--path_prefix
//! /runs/<id>/tensorboard` so the server can reverse-proxy it behind its own auth.
//! A process idle for [`IDLE`] is stopped.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use runboard_shared::run::RunId;

/// How long a TensorBoard may go unused before it is stopped.
pub const IDLE: Duration = Duration::from_secs(600);

/// Why TensorBoard cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum TensorBoardError {
    /// The configured Python cannot import `tensorboard`.
    #[error(
        "TensorBoard is not installed for {python}: install it with `{python} -m pip install tensorboard` (or `uv pip install --python {python} tensorboard`) and try again"
    )]
    NotInstalled {
        /// The interpreter that was asked.
        python: String,
    },
    /// It started but did not answer in time.
    #[error("TensorBoard did not start: {0}")]
    DidNotStart(String),
    /// Starting the process failed.
    #[error("could not start TensorBoard: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Debug)]
struct Instance {
    child: tokio::process::Child,
    port: u16,
    last_used: Instant,
}

/// The TensorBoard processes of the server.
#[derive(Debug, Default)]
pub struct TensorBoards {
    instances: Mutex<HashMap<RunId, Instance>>,
}

impl TensorBoards {
    /// The port of the run's TensorBoard, starting it if needed.
    pub async fn ensure(
        &self,
        python: &str,
        run_id: &RunId,
        logs: &Path,
    ) -> Result<u16, TensorBoardError> {
        if let Some(port) = self.touch(run_id) {
            return Ok(port);
        }
        let importable = tokio::process::Command::new(python)
            .args(["-c", "import tensorboard"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .is_ok_and(|s| s.success());
        if !importable {
            return Err(TensorBoardError::NotInstalled {
                python: python.to_owned(),
            });
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        std::fs::create_dir_all(logs)?;
        // TensorBoard's own main, with a watchdog thread that ends it when the server
        // goes away (even by SIGKILL, which leaves children running otherwise).
        const LAUNCH: &str = r#"
import os, sys, threading, time
parent = os.getppid()
def watch():
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
sys.argv[0] = 'tensorboard'
from tensorboard.main import run_main
run_main()
"#;
        let mut child = tokio::process::Command::new(python)
            .args([
                "-c",
                LAUNCH,
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
            ])
            .arg("--logdir")
            .arg(logs)
            .arg("--path_prefix")
            .arg(format!("/runs/{run_id}/tensorboard"))
            .args(["--reload_interval", "5"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        // Wait until it answers.
        let start = Instant::now();
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(TensorBoardError::DidNotStart(format!(
                    "it exited with {status}"
                )));
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill().await;
                return Err(TensorBoardError::DidNotStart(
                    "no answer within 60 s".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut instances = self.instances.lock().unwrap_or_else(|e| e.into_inner());
        instances.insert(
            run_id.clone(),
            Instance {
                child,
                port,
                last_used: Instant::now(),
            },
        );
        Ok(port)
    }

    /// The port of a running TensorBoard of the run, marking it used.
    pub fn touch(&self, run_id: &RunId) -> Option<u16> {
        let mut instances = self.instances.lock().unwrap_or_else(|e| e.into_inner());
        let instance = instances.get_mut(run_id)?;
        if matches!(instance.child.try_wait(), Ok(Some(_))) {
            instances.remove(run_id);
            return None;
        }
        instance.last_used = Instant::now();
        Some(instance.port)
    }

    /// Stops the run's TensorBoard, if one runs.
    pub fn stop(&self, run_id: &RunId) {
        let mut instances = self.instances.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(mut instance) = instances.remove(run_id) {
            let _ = instance.child.start_kill();
        }
    }

    /// Stops the TensorBoards unused for `idle` or more. Returns how many.
    pub fn stop_idle(&self, idle: Duration) -> usize {
        let mut instances = self.instances.lock().unwrap_or_else(|e| e.into_inner());
        let before = instances.len();
        instances.retain(|_, i| {
            let keep = i.last_used.elapsed() < idle;
            if !keep {
                let _ = i.child.start_kill();
            }
            keep
        });
        before - instances.len()
    }
}
