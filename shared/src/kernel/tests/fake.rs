//! A host in memory: a files area, a server with scripted runs, and the outputs.

use std::collections::{BTreeMap, BTreeSet};

use crate::api::{RunDetails, RunFile, StatusChange, SubmitResponse, TagsPatch};
use crate::event::{EventBody, RunEvent};
use crate::run::{RunId, RunStatus};

use super::super::{DirEntry, FileKind, Host, HostError, Output, Submission};

/// What a submitted run does: its log lines, how it ends, what it leaves.
#[derive(Debug, Clone)]
pub struct Script {
    pub log: Vec<&'static str>,
    pub status: RunStatus,
    pub error: Option<&'static str>,
    pub files: Vec<&'static str>,
    pub metrics: Vec<(&'static str, serde_json::Value)>,
}

impl Default for Script {
    fn default() -> Self {
        Self {
            log: vec!["Loading data\n", "accuracy 0.9\n"],
            status: RunStatus::Completed,
            error: None,
            files: vec![
                "outputs/sklearn_mnist_model.pkl",
                "outputs/plots/loss.png",
                "user_logs/std_log.txt",
            ],
            metrics: vec![
                ("accuracy", serde_json::json!(0.9)),
                ("loss", serde_json::json!([0.5, 0.25])),
            ],
        }
    }
}

#[derive(Debug)]
struct FakeRun {
    details: RunDetails,
    events: Vec<RunEvent>,
    files: Vec<RunFile>,
    metrics: BTreeMap<String, serde_json::Value>,
}

/// The fake host. Every call answers at once, so a cell's future completes on its
/// first poll.
#[derive(Debug)]
pub struct FakeHost {
    pub cwd: String,
    pub files: BTreeMap<String, Vec<u8>>,
    pub dirs: BTreeSet<String>,
    pub outputs: Vec<Output>,
    pub targets: Vec<String>,
    pub submissions: Vec<Submission>,
    pub script: Script,
    pub canceled: Vec<String>,
    pub uploads: Vec<(String, String, String)>,
    pub interrupt_after: Option<usize>,
    /// What `Host::waiting` was told, in order.
    pub waiting: Vec<crate::cell::worker::WaitingRun>,
    /// When set, the next submission fails with this error.
    pub reject: Option<HostError>,
    runs: BTreeMap<String, FakeRun>,
    polls: usize,
}

impl Default for FakeHost {
    fn default() -> Self {
        let mut host = Self {
            cwd: "work".into(),
            files: BTreeMap::new(),
            dirs: BTreeSet::new(),
            outputs: Vec::new(),
            targets: vec!["local".into(), "cpu-cluster".into()],
            submissions: Vec::new(),
            script: Script::default(),
            canceled: Vec::new(),
            uploads: Vec::new(),
            interrupt_after: None,
            waiting: Vec::new(),
            reject: None,
            runs: BTreeMap::new(),
            polls: 0,
        };
        host.dirs.insert(String::new());
        host.dirs.insert("work".into());
        host.dirs.insert("work/my-sklearn-proj".into());
        host.files.insert(
            "work/my-sklearn-proj/train.py".into(),
            b"print('hi')\n".to_vec(),
        );
        host
    }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

fn event(seq: u64, body: EventBody) -> RunEvent {
    RunEvent {
        seq,
        time: format!("2026-11-27T05:00:{seq:02}Z"),
        body,
    }
}

impl FakeHost {
    fn run(&mut self, id: &RunId) -> Result<&mut FakeRun, HostError> {
        self.runs
            .get_mut(id.as_str())
            .ok_or_else(|| HostError::NotFound(format!("no run with id {id}")))
    }
}

impl Host for FakeHost {
    fn cwd(&self) -> String {
        self.cwd.clone()
    }

    fn output(&mut self, output: Output) {
        self.outputs.push(output);
    }

    fn waiting(&mut self, run: &crate::cell::worker::WaitingRun) {
        self.waiting.push(run.clone());
    }

    fn interrupted(&mut self) -> bool {
        self.polls += 1;
        self.interrupt_after.is_some_and(|n| self.polls > n)
    }

    async fn compute_targets(&mut self) -> Result<Vec<String>, HostError> {
        Ok(self.targets.clone())
    }

    async fn submit(&mut self, submission: Submission) -> Result<SubmitResponse, HostError> {
        if let Some(e) = self.reject.take() {
            return Err(e);
        }
        if !self.dirs.contains(&submission.source_directory) {
            return Err(HostError::NotFound(submission.source_directory.clone()));
        }
        let n = self.submissions.len() + 1;
        let run_id = RunId::parse(&format!("{}_1700000000_{n:08x}", submission.experiment))
            .map_err(|e| HostError::Other(e.to_string()))?;
        let portal_url = format!("http://runboard.test/runs/{run_id}");
        let script = self.script.clone();
        let mut events = vec![event(
            1,
            EventBody::Status {
                status: RunStatus::Running,
                error: None,
            },
        )];
        for line in &script.log {
            events.push(event(
                events.len() as u64 + 1,
                EventBody::Log {
                    path: "user_logs/std_log.txt".into(),
                    rank: None,
                    text: (*line).into(),
                },
            ));
        }
        // A line of another log, which the stream must not show.
        events.push(event(
            events.len() as u64 + 1,
            EventBody::Log {
                path: "system_logs/supervisor.txt".into(),
                rank: None,
                text: "supervisor says hi\n".into(),
            },
        ));
        events.push(event(
            events.len() as u64 + 1,
            EventBody::Status {
                status: script.status,
                error: script.error.map(str::to_owned),
            },
        ));
        let details = RunDetails {
            run_id: run_id.clone(),
            experiment: submission.experiment.clone(),
            target: submission.estimator["compute_target"]
                .as_str()
                .unwrap_or("local")
                .to_owned(),
            status: script.status,
            created_utc: "2026-11-27T05:00:00Z".into(),
            start_time_utc: Some("2026-11-27T05:00:01Z".into()),
            end_time_utc: Some("2026-11-27T05:00:09Z".into()),
            properties: BTreeMap::from([("azureml.git.dirty".into(), "False".into())]),
            tags: submission.tags.clone(),
            run_definition: serde_json::json!({"estimator": submission.estimator}),
            log_files: BTreeMap::new(),
            submitted_by: None,
            status_history: vec![StatusChange {
                status: RunStatus::Queued,
                time: "2026-11-27T05:00:00Z".into(),
            }],
            error: script.error.map(str::to_owned),
            portal_url: portal_url.clone(),
            queue_position: None,
        };
        self.runs.insert(
            run_id.to_string(),
            FakeRun {
                details,
                events,
                files: script
                    .files
                    .iter()
                    .map(|p| RunFile {
                        path: (*p).into(),
                        size: 10,
                    })
                    .collect(),
                metrics: script
                    .metrics
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.clone()))
                    .collect(),
            },
        );
        self.submissions.push(submission);
        Ok(SubmitResponse {
            run_id,
            portal_url,
            status: RunStatus::Queued,
        })
    }

    async fn run_details(&mut self, run_id: &RunId) -> Result<RunDetails, HostError> {
        Ok(self.run(run_id)?.details.clone())
    }

    async fn next_events(
        &mut self,
        run_id: &RunId,
        after: u64,
    ) -> Result<Vec<RunEvent>, HostError> {
        // One event at a time, so the kernel's loop is exercised.
        let run = self.run(run_id)?;
        Ok(run
            .events
            .iter()
            .find(|e| e.seq > after)
            .cloned()
            .into_iter()
            .collect())
    }

    async fn run_files(&mut self, run_id: &RunId) -> Result<Vec<RunFile>, HostError> {
        Ok(self.run(run_id)?.files.clone())
    }

    async fn download_run_file(
        &mut self,
        run_id: &RunId,
        name: &str,
        to: &str,
    ) -> Result<u64, HostError> {
        if !self.run(run_id)?.files.iter().any(|f| f.path == name) {
            return Err(HostError::NotFound(name.to_owned()));
        }
        if !self.dirs.contains(parent(to)) {
            return Err(HostError::NotFound(to.to_owned()));
        }
        let data = format!("contents of {name}").into_bytes();
        let size = data.len() as u64;
        self.files.insert(to.to_owned(), data);
        Ok(size)
    }

    async fn metrics(
        &mut self,
        run_id: &RunId,
    ) -> Result<BTreeMap<String, serde_json::Value>, HostError> {
        Ok(self.run(run_id)?.metrics.clone())
    }

    async fn cancel_run(&mut self, run_id: &RunId) -> Result<(), HostError> {
        self.run(run_id)?;
        self.canceled.push(run_id.to_string());
        Ok(())
    }

    async fn patch_tags(&mut self, run_id: &RunId, patch: &TagsPatch) -> Result<(), HostError> {
        let run = self.run(run_id)?;
        run.details.tags.extend(patch.set.clone());
        for k in &patch.remove {
            run.details.tags.remove(k);
        }
        Ok(())
    }

    async fn stat(&mut self, path: &str) -> Result<Option<FileKind>, HostError> {
        Ok(if self.dirs.contains(path) {
            Some(FileKind::Dir)
        } else if self.files.contains_key(path) {
            Some(FileKind::File)
        } else {
            None
        })
    }

    async fn list_dir(&mut self, path: &str) -> Result<Vec<DirEntry>, HostError> {
        let mut entries: Vec<DirEntry> = self
            .dirs
            .iter()
            .filter(|d| !d.is_empty() && parent(d) == path)
            .map(|d| DirEntry {
                name: d.rsplit('/').next().unwrap_or(d).to_owned(),
                kind: FileKind::Dir,
            })
            .chain(
                self.files
                    .keys()
                    .filter(|f| parent(f) == path)
                    .map(|f| DirEntry {
                        name: f.rsplit('/').next().unwrap_or(f).to_owned(),
                        kind: FileKind::File,
                    }),
            )
            .collect();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    async fn write_file(&mut self, path: &str, data: &[u8], append: bool) -> Result<(), HostError> {
        if !self.dirs.contains(parent(path)) {
            return Err(HostError::NotFound(path.to_owned()));
        }
        let file = self.files.entry(path.to_owned()).or_default();
        if !append {
            file.clear();
        }
        file.extend_from_slice(data);
        Ok(())
    }

    async fn make_dirs(&mut self, path: &str) -> Result<(), HostError> {
        let mut at = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            if !at.is_empty() {
                at.push('/');
            }
            at.push_str(part);
            if self.files.contains_key(&at) {
                return Err(HostError::Exists(at));
            }
            self.dirs.insert(at.clone());
        }
        Ok(())
    }

    async fn read_file(&mut self, path: &str) -> Result<Vec<u8>, HostError> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| HostError::NotFound(path.to_owned()))
    }

    async fn copy_file(&mut self, from: &str, to: &str) -> Result<(), HostError> {
        let data = self
            .files
            .get(from)
            .cloned()
            .ok_or_else(|| HostError::NotFound(from.to_owned()))?;
        if !self.dirs.contains(parent(to)) {
            return Err(HostError::NotFound(to.to_owned()));
        }
        self.files.insert(to.to_owned(), data);
        Ok(())
    }

    async fn upload_to_datastore(
        &mut self,
        datastore: &str,
        src: &str,
        target_path: &str,
        _overwrite: bool,
    ) -> Result<Vec<String>, HostError> {
        self.uploads
            .push((datastore.to_owned(), src.to_owned(), target_path.to_owned()));
        let prefix = format!("{src}/");
        Ok(self
            .files
            .keys()
            .filter_map(|f| f.strip_prefix(&prefix).map(str::to_owned))
            .collect())
    }
}
