//! `os`, `os.path` and `shutil` on the files area, and the path rules behind them.
//!
//! A notebook sees the files area as a file system whose root is `/`; its working
//! directory is the notebook's folder (`os.getcwd()` → `/projects/mnist`). Every path a
//! cell gives is resolved against it into an area path ([`resolve`]) before it reaches
//! the host, and a path that would leave the area is refused.

use super::args::Args;
use super::error::PyError;
use super::eval::Interp;
use super::host::{FileKind, Host, HostError};
use super::value::{Builtin, Value, str_repr};

/// Resolves `path` (absolute from the area's root, else relative to `cwd`) into a
/// normalized area path: no leading `/`, no `.` or `..`; `""` is the root.
pub(crate) fn resolve(cwd: &str, path: &str) -> Result<String, PyError> {
    let mut parts: Vec<&str> = Vec::new();
    let base = if path.starts_with('/') { "" } else { cwd };
    for part in base.split('/').chain(path.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(PyError::new(
                        "PermissionError",
                        format!(
                            "{} is outside the files area of this notebook",
                            str_repr(path)
                        ),
                    ));
                }
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

/// An area path as the notebook sees it: `/` + the path.
pub(crate) fn absolute(area_path: &str) -> String {
    format!("/{area_path}")
}

/// `os.path.join`, with POSIX rules: an absolute part discards what came before.
pub(crate) fn join(parts: &[String]) -> String {
    let mut out = String::new();
    for part in parts {
        if part.starts_with('/') {
            out.clear();
        } else if !out.is_empty() && !out.ends_with('/') {
            out.push('/');
        }
        out.push_str(part);
    }
    out
}

/// `os.path.basename`.
pub(crate) fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `os.path.dirname`.
pub(crate) fn dirname(path: &str) -> String {
    match path.rfind('/') {
        None => String::new(),
        Some(i) => {
            let head = &path[..=i];
            if head.chars().all(|c| c == '/') {
                head.to_owned()
            } else {
                head.trim_end_matches('/').to_owned()
            }
        }
    }
}

/// The Python exception for a host error about `path`.
pub(crate) fn file_error(e: HostError, path: &str) -> PyError {
    match e {
        HostError::NotFound(_) => PyError::new(
            "FileNotFoundError",
            format!("[Errno 2] No such file or directory: {}", str_repr(path)),
        ),
        HostError::Exists(_) => PyError::new(
            "FileExistsError",
            format!("[Errno 17] File exists: {}", str_repr(path)),
        ),
        other => host_error(other, "OSError"),
    }
}

/// The Python exception for a host error; `other` names the class for
/// [`HostError::Other`].
pub(crate) fn host_error(e: HostError, other: &str) -> PyError {
    match e {
        HostError::NotFound(m) => PyError::new("FileNotFoundError", m),
        HostError::Exists(m) => PyError::new("FileExistsError", m),
        HostError::Invalid { message, fields } => {
            // The server's message may already list the fields ("invalid estimator:
            // node_count: …; …"): keep its head, and give each field its own line.
            let mut message = match fields
                .first()
                .and_then(|f| message.find(&format!("{}: {}", f.field, f.message)))
            {
                Some(at)
                    if fields
                        .iter()
                        .all(|f| message.contains(&format!("{}: {}", f.field, f.message))) =>
                {
                    message[..at].trim_end().trim_end_matches(':').to_owned()
                }
                _ => message,
            };
            for f in fields {
                message.push_str(&format!("\n  {}: {}", f.field, f.message));
            }
            PyError::value_error(message)
        }
        HostError::Unsupported(m) => PyError::new("NotImplementedError", m),
        HostError::Interrupted => PyError::new("KeyboardInterrupt", "interrupted by the user"),
        HostError::Other(m) => PyError::new(other, m),
    }
}

fn path_arg(v: Option<&Value>, function: &str) -> Result<String, PyError> {
    match v {
        Some(Value::Str(s)) => Ok(s.to_string()),
        Some(other) => Err(PyError::type_error(format!(
            "{function}: path should be string, not {}",
            other.type_name()
        ))),
        None => Err(PyError::type_error(format!("{function} missing a path"))),
    }
}

impl<H: Host> Interp<'_, H> {
    /// `path` resolved against the notebook's folder.
    pub fn resolve(&self, path: &str) -> Result<String, PyError> {
        resolve(&self.host.cwd(), path)
    }

    pub async fn stat(&mut self, path: &str) -> Result<Option<FileKind>, PyError> {
        let area = self.resolve(path)?;
        self.host.stat(&area).await.map_err(|e| file_error(e, path))
    }

    pub async fn call_os(&mut self, b: Builtin, args: Args) -> Result<Value, PyError> {
        match b {
            Builtin::OsPathJoin => {
                if !args.keywords.is_empty() {
                    return Err(PyError::type_error("join() takes no keyword arguments"));
                }
                if args.positional.is_empty() {
                    return Err(PyError::type_error(
                        "join() missing 1 required positional argument: 'a'",
                    ));
                }
                let parts = args
                    .positional
                    .iter()
                    .map(|v| path_arg(Some(v), "join()"))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Value::str(&join(&parts)))
            }
            Builtin::OsPathBasename | Builtin::OsPathDirname | Builtin::OsPathAbspath => {
                let fname = format!("{}()", b.name());
                let a = args.bind(&fname, &["p"], 1)?;
                let p = path_arg(a.get("p"), &fname)?;
                Ok(Value::str(&match b {
                    Builtin::OsPathBasename => basename(&p).to_owned(),
                    Builtin::OsPathDirname => dirname(&p),
                    _ => absolute(&self.resolve(&p)?),
                }))
            }
            Builtin::OsPathExists | Builtin::OsPathIsdir | Builtin::OsPathIsfile => {
                let fname = format!("{}()", b.name());
                let a = args.bind(&fname, &["path"], 1)?;
                let p = path_arg(a.get("path"), &fname)?;
                // Python answers False for a path it may not look at.
                let kind = match self.stat(&p).await {
                    Ok(kind) => kind,
                    Err(e) if e.ename == "PermissionError" => None,
                    Err(e) => return Err(e),
                };
                Ok(Value::Bool(match b {
                    Builtin::OsPathExists => kind.is_some(),
                    Builtin::OsPathIsdir => kind == Some(FileKind::Dir),
                    _ => kind == Some(FileKind::File),
                }))
            }
            Builtin::OsGetcwd => {
                args.none("getcwd()")?;
                Ok(Value::str(&absolute(&self.host.cwd())))
            }
            Builtin::OsMakedirs => {
                let a = args.bind("makedirs()", &["name", "mode", "exist_ok"], 1)?;
                let name = path_arg(a.get("name"), "makedirs()")?;
                let exist_ok = a.bool("exist_ok", false);
                match self.stat(&name).await? {
                    Some(FileKind::Dir) if exist_ok => return Ok(Value::None),
                    Some(_) => return Err(file_error(HostError::Exists(String::new()), &name)),
                    None => {}
                }
                let area = self.resolve(&name)?;
                self.host
                    .make_dirs(&area)
                    .await
                    .map_err(|e| file_error(e, &name))?;
                Ok(Value::None)
            }
            Builtin::OsListdir => {
                let a = args.bind("listdir()", &["path"], 0)?;
                let path = match a.opt("path") {
                    None => ".".to_owned(),
                    v => path_arg(v, "listdir()")?,
                };
                let area = self.resolve(&path)?;
                match self
                    .host
                    .stat(&area)
                    .await
                    .map_err(|e| file_error(e, &path))?
                {
                    Some(FileKind::Dir) => {}
                    Some(FileKind::File) => {
                        return Err(PyError::new(
                            "NotADirectoryError",
                            format!("[Errno 20] Not a directory: {}", str_repr(&path)),
                        ));
                    }
                    None => return Err(file_error(HostError::NotFound(String::new()), &path)),
                }
                let entries = self
                    .host
                    .list_dir(&area)
                    .await
                    .map_err(|e| file_error(e, &path))?;
                Ok(Value::list(
                    entries.iter().map(|e| Value::str(&e.name)).collect(),
                ))
            }
            Builtin::ShutilCopy => {
                let a = args.bind("copy()", &["src", "dst"], 2)?;
                let src = path_arg(a.get("src"), "copy()")?;
                let mut dst = path_arg(a.get("dst"), "copy()")?;
                match self.stat(&src).await? {
                    Some(FileKind::File) => {}
                    Some(FileKind::Dir) => {
                        return Err(PyError::new(
                            "IsADirectoryError",
                            format!("[Errno 21] Is a directory: {}", str_repr(&src)),
                        ));
                    }
                    None => return Err(file_error(HostError::NotFound(String::new()), &src)),
                }
                if self.stat(&dst).await? == Some(FileKind::Dir) {
                    dst = join(&[dst, basename(&src).to_owned()]);
                }
                let (from, to) = (self.resolve(&src)?, self.resolve(&dst)?);
                self.host
                    .copy_file(&from, &to)
                    .await
                    .map_err(|e| file_error(e, &dst))?;
                Ok(Value::str(&dst))
            }
            other => Err(PyError::type_error(format!(
                "'{}' is not an os function",
                other.name()
            ))),
        }
    }
}
