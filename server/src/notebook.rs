//! `runboard notebook run PATH`: runs a notebook's code cells in order with the
//! notebook kernel — the browser's, `notebook/py/runboard_kernel.py`, under this
//! machine's CPython — against a Runboard server, and writes the outputs back into the
//! `.ipynb`, for CI of notebooks, like papermill.
//!
//! The kernel is a child process ([`PythonKernel`]) speaking the notebook page's
//! protocol (`runboard_shared::cell::worker`) as JSON lines, so a cell's outputs are
//! built from the same messages, by the same functions
//! (`runboard_shared::notebook::push_output`, `cell_outputs`), as in the browser.
//! It imports the SDK package built into this binary (`crate::sdk`), written with the
//! kernel's module into a temporary folder put first on `PYTHONPATH`. Its files are
//! one of two:
//!
//! - the server's files area (the default), as in the browser: PATH is a path in the
//!   area, the notebook's folder there is the cells' working directory, and the
//!   kernel mirrors the area into a temporary folder, synced at cell boundaries;
//! - with `--local`, the notebook's own folder on this machine is the cells' files
//!   area, used as it is.

use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};

use anyhow::{Context, Result, anyhow, bail};
use runboard_client::requests;
use runboard_server::cli::Http;
use runboard_server::config::Endpoint;
use runboard_server::files;
use runboard_shared::api::FilesAreaList;
use runboard_shared::cell::worker::{FromWorker, ToWorker};
use runboard_shared::cell::{Display, Output, PyError};
use runboard_shared::notebook::{Notebook, cell_outputs};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

/// The exit status of a command line that cannot be carried out as given (a notebook
/// that is not there, a path that leaves the files area): clap's status for usage
/// errors.
const USAGE: u8 = 2;

/// The kernel's module, as the browser's worker loads it.
const KERNEL: &str = include_str!("../../notebook/py/runboard_kernel.py");

/// `runboard notebook …`.
#[derive(Debug, clap::Subcommand)]
pub enum NotebookCommand {
    /// Run every code cell of a notebook in order, and save it with the outputs.
    ///
    /// PATH is a notebook in the server's files area (as the notebook pages show it,
    /// e.g. `projects/mnist/Train.ipynb`); its folder there is the cells' working
    /// directory, as in the browser. With `--local`, PATH is a file on this machine and
    /// its folder is the cells' files area. The cells run in this machine's Python 3
    /// (`python3`, or `$RUNBOARD_PYTHON`) with the SDK of the server's version. Exits 1
    /// at the first failing cell, naming it (the notebook is saved with the error as
    /// the cell's output), and 2 when PATH is not there.
    Run {
        /// The notebook (`.ipynb`, nbformat 4): a files-area path, or with `--local` a
        /// local file.
        path: PathBuf,
        /// Write the executed notebook here instead of over PATH (a files-area path,
        /// or with `--local` a local file).
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
        /// Run the cells after a failing one too, and exit 0.
        #[arg(long)]
        allow_errors: bool,
        /// Run a notebook file on this machine: its folder is the cells' files area.
        #[arg(long)]
        local: bool,
        #[command(flatten)]
        remote: crate::Remote,
    },
}

/// Where the notebook is read from and written to.
enum Place {
    Local(PathBuf),
    Area(String),
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local(path) => write!(f, "{}", path.display()),
            Self::Area(path) => write!(f, "{path}"),
        }
    }
}

/// Says why the command line cannot be carried out, and gives the usage status.
fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(USAGE)
}

/// A files-area path as given on the command line (`/` first allowed, as
/// `os.getcwd()` shows them), normalized; `None` when it leaves the area or is not
/// UTF-8.
fn area_path(path: &Path) -> Option<String> {
    let text = path.to_str()?;
    let normal = files::normalize(text.strip_prefix('/').unwrap_or(text)).ok()?;
    (!normal.is_empty()).then_some(normal)
}

/// The folder of a files-area path (`""` for the root).
fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(folder, _)| folder)
}

/// Runs a `runboard notebook` command.
pub async fn main(command: NotebookCommand) -> Result<ExitCode> {
    let NotebookCommand::Run {
        path,
        output,
        allow_errors,
        local,
        remote,
    } = command;
    let endpoint = Endpoint::resolve(remote.url, remote.token).map_err(anyhow::Error::msg)?;
    let url = endpoint.url.clone();
    let api = Api::new(endpoint);

    let (input, out, text, files) = if local {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(usage_error(format_args!(
                    "no notebook at {} on this machine",
                    path.display()
                )));
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        let folder = std::fs::canonicalize(&folder)
            .with_context(|| format!("finding the folder of {}", path.display()))?;
        let out = Place::Local(output.unwrap_or_else(|| path.clone()));
        (Place::Local(path), out, text, Files::Local(folder))
    } else {
        let Some(input) = area_path(&path) else {
            return Ok(usage_error(format_args!(
                "{} is not a notebook path in the server's files area: give it relative to \
                 the area's root, without '..' (add --local to run a file on this machine)",
                path.display()
            )));
        };
        let out = match &output {
            None => input.clone(),
            Some(o) => match area_path(o) {
                Some(o) => o,
                None => {
                    return Ok(usage_error(format_args!(
                        "-o {} is not a path in the server's files area: give it relative \
                         to the area's root, without '..'",
                        o.display()
                    )));
                }
            },
        };
        let listing: FilesAreaList = serde_json::from_slice(
            &api.get(requests::files_area_list(""))
                .await
                .with_context(|| format!("listing the files area of {url}"))?,
        )
        .with_context(|| format!("reading the listing of the files area of {url}"))?;
        let is_folder = |path: &str| listing.folders.iter().any(|f| f == path);
        if is_folder(&input) {
            return Ok(usage_error(format_args!(
                "{input} is a folder in the server's files area ({url}), not a notebook"
            )));
        }
        if !listing.files.iter().any(|f| f.path == input) {
            return Ok(usage_error(format_args!(
                "no notebook {input} in the server's files area ({url}); PATH is a path \
                 in the area, as the notebook pages show it (add --local to run a file \
                 on this machine)"
            )));
        }
        if is_folder(&out) {
            return Ok(usage_error(format_args!(
                "-o {out} is a folder in the server's files area ({url})"
            )));
        }
        let bytes = api
            .get(requests::files_area_read(&input))
            .await
            .with_context(|| format!("reading {input} from the files area of {url}"))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow!("reading {input}: the notebook is not UTF-8 text"))?;
        let files = Files::Area {
            cwd: parent_of(&input).to_owned(),
        };
        (Place::Area(input), Place::Area(out), text, files)
    };
    let mut notebook = Notebook::from_json(&text).with_context(|| format!("reading {input}"))?;
    let mut kernel = PythonKernel::start(api.endpoint(), &files).await?;

    let total = notebook.code_cells_mut().count();
    let mut failure = None;
    for (n, (index, cell)) in notebook.code_cells_mut().enumerate() {
        eprintln!("[{}/{total}] cell {}", n + 1, index + 1);
        let id = (index + 1).to_string();
        let ran = match kernel.run(&id, cell.source.as_str(), files.cwd()).await {
            Ok(ran) => ran,
            Err(e) => {
                failure = Some((index + 1, format!("{e:#}")));
                break;
            }
        };
        match &ran.result {
            Ok(Some(display)) => println!("Out[{}]: {}", ran.execution_count, display.text_plain()),
            Ok(None) => {}
            Err(e) if e.traceback.is_empty() => eprintln!("{e}"),
            Err(e) => eprintln!("{}", e.traceback.join("\n")),
        }
        cell.outputs = cell_outputs(ran.produced, &ran.result, ran.execution_count);
        cell.execution_count = Some(ran.execution_count);
        if let Err(e) = ran.result
            && !allow_errors
        {
            failure = Some((index + 1, e.to_string()));
            break;
        }
    }
    kernel.stop().await;

    let json = notebook.to_json();
    match &out {
        Place::Local(path) => write_atomically(path, json.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?,
        // The server writes beside the file and renames, so this is atomic too.
        Place::Area(path) => api
            .put(requests::files_area_write(path, json))
            .await
            .with_context(|| format!("writing {path} into the files area of {url}"))?,
    }
    match &out {
        Place::Local(_) => eprintln!("wrote {out}"),
        Place::Area(_) => eprintln!("wrote {out} in the server's files area"),
    }
    match failure {
        Some((cell, e)) => {
            eprintln!("error: cell {cell} failed: {e}");
            Ok(ExitCode::FAILURE)
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

fn write_atomically(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(data)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The server's files API through the REST client (`runboard-client`), for reading
/// the notebook and writing it back (the cells reach the server through the SDK in the
/// kernel).
struct Api {
    http: Http,
}

impl Api {
    fn new(endpoint: Endpoint) -> Self {
        Self {
            http: Http::new(endpoint),
        }
    }

    fn endpoint(&self) -> &Endpoint {
        self.http.endpoint()
    }

    /// Sends a request; a non-2xx answer is an error with the server's message.
    async fn send(&self, request: runboard_client::Request) -> Result<Vec<u8>> {
        match runboard_client::call(&self.http, request).await {
            Ok(response) => Ok(response.body),
            Err(runboard_client::Error::Server { status, message }) => {
                bail!("the server answered {status}: {message}")
            }
            Err(runboard_client::Error::Network(cause)) => Err(anyhow!(cause)),
            Err(e) => Err(anyhow!(e.to_string())),
        }
    }

    async fn get(&self, request: runboard_client::Request) -> Result<Vec<u8>> {
        self.send(request).await
    }

    async fn put(&self, request: runboard_client::Request) -> Result<()> {
        self.send(request).await?;
        Ok(())
    }
}

/// The cells' files.
enum Files {
    /// The server's files area; the notebook's folder there.
    Area { cwd: String },
    /// A folder on this machine (canonical).
    Local(PathBuf),
}

impl Files {
    /// The cells' working directory, from the files' root.
    fn cwd(&self) -> &str {
        match self {
            Self::Area { cwd } => cwd,
            Self::Local(_) => "",
        }
    }
}

/// What one cell produced.
struct CellRun {
    /// Its streams and displays, in order.
    produced: Vec<Output>,
    execution_count: u32,
    result: Result<Option<Display>, PyError>,
}

/// The notebook kernel in a Python child process.
struct PythonKernel {
    child: Child,
    stdin: ChildStdin,
    answers: Lines<BufReader<ChildStdout>>,
    /// Holds the SDK and the kernel's module while the process runs.
    _modules: tempfile::TempDir,
}

impl PythonKernel {
    /// Starts the kernel and waits until it says it is ready.
    async fn start(endpoint: &Endpoint, files: &Files) -> Result<Self> {
        let modules = tempfile::Builder::new()
            .prefix("runboard-kernel-")
            .tempdir()
            .context("making a folder for the kernel's modules")?;
        for (path, contents) in runboard_server::sdk::files() {
            let file = modules.path().join(path);
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&file, contents)?;
        }
        std::fs::write(modules.path().join("runboard_kernel.py"), KERNEL)?;

        let python = std::env::var_os("RUNBOARD_PYTHON").unwrap_or_else(|| "python3".into());
        let mut command = tokio::process::Command::new(&python);
        command
            .args([
                "-u",
                "-c",
                "import sys\n\
                 if sys.version_info < (3, 9):\n\
                 \x20   sys.exit('runboard notebook run needs Python 3.9 or newer; this is ' + sys.version.split()[0])\n\
                 import runboard_kernel\n\
                 runboard_kernel.headless()",
            ])
            .env("PYTHONPATH", modules.path())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("RUNBOARD_URL", &endpoint.url)
            .env("RUNBOARD_TOKEN", &endpoint.token)
            .env_remove("RUNBOARD_RUN_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        match files {
            Files::Local(folder) => command.env("RUNBOARD_NOTEBOOK_ROOT", folder),
            Files::Area { .. } => command.env_remove("RUNBOARD_NOTEBOOK_ROOT"),
        };
        let mut child = command.spawn().map_err(|e| {
            anyhow!(
                "starting the notebook kernel with {}: {e}; `runboard notebook run` runs the \
                 cells in Python 3 — install it, or name an interpreter with RUNBOARD_PYTHON",
                Path::new(&python).display()
            )
        })?;
        let stdin = child.stdin.take().context("the kernel's stdin")?;
        let stdout = child.stdout.take().context("the kernel's stdout")?;
        let mut kernel = Self {
            child,
            stdin,
            answers: BufReader::new(stdout).lines(),
            _modules: modules,
        };
        match kernel.next().await? {
            FromWorker::Ready => Ok(kernel),
            other => bail!("the notebook kernel said {other:?} before it was ready"),
        }
    }

    /// The kernel's next message; its end is an error saying how it ended.
    async fn next(&mut self) -> Result<FromWorker> {
        loop {
            let Some(line) = self.answers.next_line().await? else {
                let status = self.child.wait().await?;
                bail!("the notebook kernel (Python) stopped ({status}); its messages are above");
            };
            if line.trim().is_empty() {
                continue;
            }
            return serde_json::from_str(&line)
                .with_context(|| format!("reading the notebook kernel's message {line:?}"));
        }
    }

    /// Runs one cell to its end, echoing its streams as they come.
    async fn run(&mut self, cell: &str, source: &str, cwd: &str) -> Result<CellRun> {
        let message = ToWorker::Run {
            cell: cell.to_owned(),
            source: source.to_owned(),
            cwd: cwd.to_owned(),
        };
        let mut line = message.to_json();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await?;
        self.stdin.flush().await?;
        let mut produced = Vec::new();
        loop {
            match self.next().await? {
                FromWorker::Output { output, .. } => {
                    echo(&output);
                    produced.push(output);
                }
                FromWorker::Done {
                    execution_count,
                    result,
                    error,
                    ..
                } => {
                    return Ok(CellRun {
                        produced,
                        execution_count,
                        result: error.map_or(Ok(result), Err),
                    });
                }
                FromWorker::Waiting { .. } | FromWorker::Ready => {}
            }
        }
    }

    /// Ends the kernel: its stdin closes, so it leaves its loop and cleans up.
    async fn stop(mut self) {
        drop(self.stdin);
        let _ = self.child.wait().await;
    }
}

/// Shows a piece of a cell's output on the terminal, as it comes.
fn echo(output: &Output) {
    use std::io::Write;
    match output {
        Output::Stdout { text } => {
            print!("{text}");
            let _ = std::io::stdout().flush();
        }
        Output::Stderr { text } => eprint!("{text}"),
        Output::Display { display } => println!("{}", display.text_plain()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_paths_are_files_area_paths() {
        for (given, area) in [
            ("a/b.ipynb", Some("a/b.ipynb")),
            ("/a/./b.ipynb", Some("a/b.ipynb")),
            ("../b.ipynb", None),
            ("", None),
            ("/", None),
        ] {
            assert_eq!(area_path(Path::new(given)).as_deref(), area, "{given}");
        }
    }

    #[test]
    fn files_urls_encode_each_segment() {
        assert_eq!(
            requests::files_area_path("a b/c#.ipynb"),
            "/api/files/a%20b/c%23.ipynb"
        );
        assert_eq!(parent_of("a/b/c.ipynb"), "a/b");
        assert_eq!(parent_of("c.ipynb"), "");
    }
}
