//! The notebook kernel: runs cells written for the Azure ML SDK v1 against a Runboard
//! server, in the browser (wasm, in a Web Worker) and natively (`runboard notebook
//! run`). Sans-IO: every side effect goes through the [`Host`] trait.
//! [`remote`] is the pure half of a host over the server's API (URLs, error answers,
//! the files area's listings), shared by the browser's host and the CLI's.
//!
//! # The language
//!
//! Cells are parsed with Ruff's Python parser (`ruff_python_parser`, IPython mode) and
//! checked before anything runs: a cell that uses Python outside this subset fails
//! with `NotImplementedError` naming the construct and its line ("`class` definitions
//! are not supported in Runboard notebooks (line 1)"), without running any of it.
//!
//! - Statements: `import`/`from … import` of `azureml.*` names (bound to Runboard's
//!   objects), `os`, `os.path` and `shutil` (other modules: `ModuleNotFoundError`);
//!   assignment (with unpacking, subscripts) and augmented assignment; `if`/`elif`/
//!   `else`; `for` and `while` (with `break`, `continue`, `else`); `pass`; comments.
//! - Expressions: literals (str, bytes, int, float, bool, None, list, tuple, dict,
//!   set), f-strings (conversions, format specs, `=`), `%` and `str.format`,
//!   arithmetic, comparisons (chained, `in`, `is`), `and`/`or`/`not`, `x if c else y`,
//!   calls with positional and keyword arguments, attributes, methods, subscripts and
//!   slices. Integers are 64-bit (`OverflowError` beyond).
//! - Built-ins: `print` (`sep`, `end`), `len`, `range`, `str`, `int`, `float`, `bool`,
//!   `bytes`, `dict`, `list`, `tuple`, `set`, `sorted`, `enumerate`, `zip`, `min`,
//!   `max`, `sum`, `isinstance`, `abs`, `round`, `repr`, `type`; the common methods of
//!   `str`, `list`, `dict` and `set`.
//! - `os.path.join`/`exists`/`isdir`/`isfile`/`basename`/`dirname`/`abspath`,
//!   `os.getcwd`, `os.makedirs`, `os.listdir`, `shutil.copy`: on the server's files
//!   area, whose root is `/`; the working directory is the notebook's folder.
//! - The SDK: `Workspace` (`from_config`, `compute_targets`, `get_default_datastore`),
//!   `ComputeTarget`, `Experiment` (`submit(config, tags=None)`), `Estimator`,
//!   `SKLearn`, `PyTorch`, `TensorFlow`, `Chainer`, `Mpi`, `Gloo`, `Nccl`,
//!   `ParameterServer`, `ScriptRunConfig` (with `environment=`), `Environment`
//!   (`from_conda_specification`, `from_pip_requirements`, `python`, `docker`,
//!   `environment_variables`, `register`), `CondaDependencies` (`create`,
//!   `add_pip_package`, …), `Datastore` (`upload`, `path`, `as_mount`,
//!   `as_download`), `DataReference`, `Run` (`get_portal_url`,
//!   `wait_for_completion(show_output=True)`, `get_status`, `get_details`,
//!   `get_metrics`, `get_file_names`, `download_file`, `download_files`, `cancel`,
//!   `tag`) and `RunDetails(run).show()`. Estimator arguments are validated when the
//!   cell runs, every error at once ([`crate::estimator::Estimator::from_value`]).
//! - Cell magic `%%writefile [-a] path`, with `$name` and `{expr}` expanded in its
//!   line as IPython does; other magics and shell escapes fail clearly.
//!
//! Variables live in the [`Kernel`] across cells. The last expression of a cell is
//! displayed ([`Display`]): an estimator as a parameter table, a run as a run card,
//! anything else as its `repr` (`None` and a trailing `;` show nothing).

mod args;
mod builtins;
mod check;
mod environment;
mod eval;
mod format;
mod host;
mod magic;
mod methods;
mod modules;
mod ops;
mod os;
pub mod remote;
mod sdk;
mod value;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use ruff_python_ast::{Mod, Stmt};
use ruff_python_parser::{Mode, ParseOptions};
use ruff_text_size::Ranged;

pub use crate::cell::{DISPLAY_MIME, Display, Output, PyError};
// The cell's output types and its error live in `crate::cell` (the browser's notebook
// page uses them without the kernel); the kernel's modules name them as before.
use crate::cell as display;
use crate::cell::error;
pub use host::{DirEntry, FileKind, Host, HostError, Submission};

use eval::{Interp, line_of};
use value::{Obj, Value};

/// A notebook session: the variables every cell shares, and the execution count.
///
/// Not `Send`: values are shared with `Rc`, as the kernel runs on one thread (a Web
/// Worker, or the CLI's current thread).
#[derive(Debug, Default)]
pub struct Kernel {
    globals: HashMap<String, Value>,
    execution_count: u32,
}

impl Kernel {
    /// A fresh session.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many cells this session has run (Jupyter's `execution_count` of the last).
    pub fn execution_count(&self) -> u32 {
        self.execution_count
    }

    /// Runs one cell. Output goes to [`Host::output`] as it is produced; the result is
    /// what the cell's last expression displays, if anything.
    pub async fn run_cell<H: Host>(
        &mut self,
        host: &mut H,
        source: &str,
    ) -> Result<Option<Display>, PyError> {
        self.execution_count += 1;
        let mut interp = Interp {
            globals: &mut self.globals,
            host,
            source,
        };
        if let Some((name, line, body)) = magic::cell_magic(source) {
            interp.run_cell_magic(name, line, body).await?;
            return Ok(None);
        }
        let parsed =
            ruff_python_parser::parse(source, ParseOptions::from(Mode::Ipython)).map_err(|e| {
                let mut message = e.error.to_string();
                if matches!(
                    e.error,
                    ruff_python_parser::ParseErrorType::Lexical(
                        ruff_python_parser::LexicalErrorType::UnicodeError
                    )
                ) {
                    // The kernel carries no table of Unicode names (see
                    // patches/unicode_names2): say what to write instead.
                    message = "`\\N{...}` escapes are not supported in Runboard notebooks; \
                               write the character itself or its code point as `\\u....`"
                        .to_owned();
                }
                PyError::new("SyntaxError", message).at(line_of(source, e.location.start()))
            })?;
        let Mod::Module(module) = parsed.into_syntax() else {
            return Ok(None);
        };
        check::check_suite(&module.body).map_err(|(e, at)| e.at(line_of(source, at)))?;

        let (last, init) = match module.body.split_last() {
            Some((Stmt::Expr(last), init)) if !ends_with_semicolon(source, last.end()) => {
                (Some(last), init)
            }
            _ => (None, &module.body[..]),
        };
        interp.exec_suite(init).await?;
        let Some(last) = last else {
            return Ok(None);
        };
        let line = interp.line(last.start());
        let value = interp.eval(&last.value).await.map_err(|e| e.at(line))?;
        display(&mut interp, &value).await.map_err(|e| e.at(line))
    }
}

impl Kernel {
    /// Follows a run that a cell was waiting on when its output was lost (the page was
    /// reloaded), as `run.wait_for_completion()` does: from the run's first line, then
    /// the Execution Summary, failing as the cell would have if the run failed. The
    /// session's variables that named the run name it again. The rest of that cell does
    /// not run again.
    pub async fn attach<H: Host>(
        &mut self,
        host: &mut H,
        run: &crate::cell::worker::WaitingRun,
    ) -> Result<(), PyError> {
        let id = crate::run::RunId::parse(&run.run_id)
            .map_err(|e| PyError::new("ValueError", format!("cannot attach: {e}")))?;
        let handle = value::RunHandle {
            id,
            experiment: run.experiment.clone(),
            portal_url: run.portal_url.clone(),
        };
        for name in &run.names {
            self.globals
                .insert(name.clone(), Value::obj(Obj::Run(handle.clone())));
        }
        let mut interp = Interp {
            globals: &mut self.globals,
            host,
            source: "",
        };
        interp
            .wait_for_completion(&handle, run.show_output, true)
            .await
            .map(|_| ())
    }
}

/// Whether a `;` follows the cell's last statement (IPython then shows nothing).
fn ends_with_semicolon(source: &str, end: ruff_text_size::TextSize) -> bool {
    let at = usize::try_from(end.to_u32()).unwrap_or(source.len());
    source
        .get(at..)
        .is_some_and(|rest| rest.trim_start().starts_with(';'))
}

/// What a value shows as a cell's result.
async fn display<H: Host>(
    interp: &mut Interp<'_, H>,
    value: &Value,
) -> Result<Option<Display>, PyError> {
    Ok(Some(match value {
        Value::None => return Ok(None),
        Value::Obj(o) => match &**o {
            Obj::Estimator {
                class,
                estimator,
                args,
            } => Display::Estimator {
                class: class.name().to_owned(),
                parameters: sdk::estimator_rows(estimator, args),
            },
            Obj::Run(r) | Obj::RunDetails(r) => interp.run_display(r).await?,
            _ => Display::Text { text: value.repr() },
        },
        _ => Display::Text { text: value.repr() },
    }))
}
