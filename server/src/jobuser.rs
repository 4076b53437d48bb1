//! Who local jobs run as.
//!
//! A server running as root runs each local job as an unprivileged user (`--job-user`,
//! default [`DEFAULT_NAME`], created with `useradd` if missing). What that user can
//! reach is set by file modes, decided here and nowhere else:
//!
//! - `<data>` and `<data>/runs` are `0711`: searchable, not listable;
//! - the token and the database are `0600`; the files area and the datastores are
//!   `0700`; environments, the SDK (`<data>/python`) and registered models stay
//!   readable;
//! - a run folder is `0700` root's, except while its job runs: then it is
//!   `root:<job group> 0710`, its `wd/`, `user_logs/` and `home/` belong to the job
//!   user, and `control/`, `snapshot/` and `system_logs/` stay `0700`
//!   ([`hand_over`]); the supervisor closes it again when the job ends
//!   ([`hand_back`]);
//! - a datastore path given to the job is linked (hard links, read-only to it) into
//!   `<run>/datastores/` ([`grant_datastore`]).
//!
//! Jobs running at the same time share the user, so one could read another running
//! job's working folder; a finished run's folder is closed to all of them.

use std::os::unix::fs::{PermissionsExt, chown, lchown};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

/// The job user's name when `--job-user` is not given.
pub const DEFAULT_NAME: &str = "runboard-job";

/// The Debian interpreter tried when the configured one lives where the job user
/// cannot reach (pyenv under `/root`).
pub const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// The unprivileged user local jobs run as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobUser {
    /// Its name (`USER` and `LOGNAME` in the job).
    pub name: String,
    /// Its uid.
    pub uid: u32,
    /// Its primary group.
    pub gid: u32,
}

/// What `--job-user` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Not given: [`DEFAULT_NAME`] when the server is root, falling back to running
    /// jobs as root (with a line saying why) if that user cannot be used.
    Default,
    /// A named user, which must work.
    Named(String),
    /// `--job-user none`: jobs run as the server's user.
    None,
}

impl Request {
    /// `--job-user NAME`, `none`, or absent.
    pub fn from_flag(flag: Option<&str>) -> Self {
        match flag {
            None => Request::Default,
            Some("none") => Request::None,
            Some(name) => Request::Named(name.to_owned()),
        }
    }
}

/// How jobs run, decided once when the server starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The user local jobs run as; `None` when they run as the server's user.
    pub user: Option<JobUser>,
    /// An interpreter to use instead of the configured one, which the job user
    /// cannot run.
    pub python: Option<String>,
    /// A copy of the `runboard` binary the job user can run (for `rank-exec`).
    pub exe: Option<PathBuf>,
    /// The line `runboard serve` prints about it.
    pub line: String,
}

/// What the server knows when it decides.
#[derive(Debug, Clone)]
pub struct Setup<'a> {
    /// The data folder (absolute, existing).
    pub data_dir: &'a Path,
    /// The interpreter for jobs (resolved).
    pub python: &'a str,
    /// Whether `python` is the default (`python3`), so another may be tried.
    pub python_is_default: bool,
    /// The `runboard` binary.
    pub exe: &'a Path,
}

/// Decides who jobs run as, creating the job user if it is missing. An error only
/// for a user named with `--job-user` that cannot be used; the message says why.
pub fn decide(request: &Request, setup: &Setup<'_>) -> Result<Decision, String> {
    let data = setup.data_dir.display();
    if !nix::unistd::geteuid().is_root() {
        let me = nix::unistd::User::from_uid(nix::unistd::geteuid())
            .ok()
            .flatten()
            .map_or_else(|| nix::unistd::geteuid().to_string(), |u| u.name);
        return Ok(shared(format!(
            "Jobs run as {me}, the server's user, and can read its data folder {data}."
        )));
    }
    let name = match request {
        Request::None => {
            return Ok(shared(format!(
                "Jobs run as root and can read the data folder {data} (--job-user none)."
            )));
        }
        Request::Default => DEFAULT_NAME,
        Request::Named(name) => name.as_str(),
    };
    match isolate(name, setup) {
        Ok(decision) => Ok(decision),
        Err(why) if *request == Request::Default => Ok(shared(format!(
            "Jobs run as root and can read the data folder {data}: the job user {name} \
             cannot be used ({why}). See README, \"Sharing and security\"."
        ))),
        Err(why) => Err(format!("--job-user {name}: {why}")),
    }
}

fn shared(line: String) -> Decision {
    Decision {
        user: None,
        python: None,
        exe: None,
        line,
    }
}

fn isolate(name: &str, setup: &Setup<'_>) -> Result<Decision, String> {
    let user = find_or_create(name)?;
    let runs = setup.data_dir.join("runs");
    if !runs_as(
        &user,
        "/bin/sh",
        &["-c", "test -x \"$1\"", "sh", &path_str(&runs)],
    ) {
        return Err(format!(
            "it cannot reach {} (a folder above it is not open to other users); \
             give --data-dir a folder under one that is, such as /var/lib/runboard",
            runs.display()
        ));
    }
    let python = if can_run_python(&user, setup.python) {
        None
    } else if setup.python_is_default && can_run_python(&user, SYSTEM_PYTHON) {
        Some(SYSTEM_PYTHON.to_owned())
    } else {
        return Err(format!(
            "it cannot run {} (a folder above it is not open to other users); give \
             --python an interpreter it can run, such as {SYSTEM_PYTHON}",
            setup.python
        ));
    };
    let exe = if runs_as(
        &user,
        "/bin/sh",
        &["-c", "test -x \"$1\"", "sh", &path_str(setup.exe)],
    ) {
        None
    } else {
        Some(copy_exe(setup.exe, setup.data_dir)?)
    };
    let line = format!(
        "Jobs run as {} (uid {}): they cannot read the token, the database, other runs, \
         the files area or datastores they were not given.{}",
        user.name,
        user.uid,
        python
            .as_ref()
            .map(|p| format!(
                " Their Python is {p}, as {} is out of its reach.",
                setup.python
            ))
            .unwrap_or_default()
    );
    Ok(Decision {
        user: Some(user),
        python,
        exe,
        line,
    })
}

fn path_str(path: &Path) -> String {
    path.display().to_string()
}

/// The user called `name`, created as a system user without a home if missing.
fn find_or_create(name: &str) -> Result<JobUser, String> {
    let lookup =
        || nix::unistd::User::from_name(name).map_err(|e| format!("looking it up failed: {e}"));
    let user = match lookup()? {
        Some(user) => user,
        None => {
            let out = Command::new("useradd")
                .args([
                    "--system",
                    "--user-group",
                    "--no-create-home",
                    "--home-dir",
                    "/nonexistent",
                    "--shell",
                    "/usr/sbin/nologin",
                    "--",
                    name,
                ])
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("it does not exist, and useradd could not start: {e}"))?;
            if !out.status.success() {
                // Another server starting at the same moment may have made it.
                if let Some(user) = lookup()? {
                    return checked(user);
                }
                return Err(format!(
                    "it does not exist, and useradd failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            lookup()?.ok_or("useradd succeeded but the user is still unknown")?
        }
    };
    checked(user)
}

fn checked(user: nix::unistd::User) -> Result<JobUser, String> {
    if user.uid.is_root() {
        return Err("it is root".into());
    }
    Ok(JobUser {
        name: user.name,
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
    })
}

/// Whether `program args…` exits 0 when run as `user`.
fn runs_as(user: &JobUser, program: &str, args: &[&str]) -> bool {
    use std::os::unix::process::CommandExt;
    Command::new(program)
        .args(args)
        .uid(user.uid)
        .gid(user.gid)
        .current_dir("/")
        .env("HOME", "/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn can_run_python(user: &JobUser, python: &str) -> bool {
    runs_as(user, python, &["-c", "import sys"])
}

/// Copies the `runboard` binary to `<data>/bin/runboard` (mode 0755) unless an equal
/// copy is there.
fn copy_exe(exe: &Path, data_dir: &Path) -> Result<PathBuf, String> {
    let bin = data_dir.join("bin");
    let copy = bin.join("runboard");
    let why = |e: std::io::Error| format!("copying {} to {}: {e}", exe.display(), copy.display());
    let same = match (std::fs::metadata(exe), std::fs::metadata(&copy)) {
        (Ok(a), Ok(b)) => a.len() == b.len() && a.modified().ok() <= b.modified().ok(),
        _ => false,
    };
    if !same {
        std::fs::create_dir_all(&bin).map_err(why)?;
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).map_err(why)?;
        let tmp = bin.join(".runboard.tmp");
        std::fs::copy(exe, &tmp).map_err(why)?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).map_err(why)?;
        std::fs::rename(&tmp, &copy).map_err(why)?;
    }
    Ok(copy)
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    match std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Closes the data folder to the job user: see the module's table. Run folders of
/// runs that have ended are closed; those of live runs are left to their supervisor.
pub fn lock_down(data_dir: &Path) -> std::io::Result<()> {
    set_mode(data_dir, 0o711)?;
    set_mode(&data_dir.join("runs"), 0o711)?;
    for secret in [
        "token",
        "runboard.sqlite",
        "runboard.sqlite-wal",
        "runboard.sqlite-shm",
    ] {
        set_mode(&data_dir.join(secret), 0o600)?;
    }
    set_mode(&crate::files::root(data_dir), 0o700)?;
    set_mode(&crate::datastores::root(data_dir), 0o700)?;
    for entry in std::fs::read_dir(data_dir.join("runs"))? {
        let dir = entry?.path();
        let ended = crate::runner::control::path(&dir, crate::runner::control::EXIT).exists();
        let launched = crate::runner::control::path(&dir, crate::runner::control::JOB).exists();
        if ended || !launched {
            set_mode(&dir, 0o700)?;
        }
    }
    Ok(())
}

/// Makes a new run's folder (and `sub`, a folder within it, when not empty), closed to
/// jobs (`0700`) until [`hand_over`] opens it to its own.
pub fn create_run_dir(run_dir: &Path, sub: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(run_dir.join(sub))?;
    set_mode(run_dir, 0o700)
}

/// Opens a run folder to its job, just before launch (see the module's table).
pub fn hand_over(run_dir: &Path, user: &JobUser) -> std::io::Result<()> {
    std::fs::create_dir_all(run_dir.join("home"))?;
    for own in ["wd", "user_logs", "home"] {
        chown_tree(&run_dir.join(own), user)?;
    }
    for closed in ["control", "snapshot", "system_logs"] {
        set_mode(&run_dir.join(closed), 0o700)?;
    }
    chown(run_dir, Some(0), Some(user.gid))?;
    set_mode(run_dir, 0o710)
}

/// Closes a run folder when its job has ended.
pub fn hand_back(run_dir: &Path) -> std::io::Result<()> {
    chown(run_dir, Some(0), Some(0))?;
    set_mode(run_dir, 0o700)
}

/// Gives `user` everything under `path`, links themselves rather than what they
/// point to.
fn chown_tree(path: &Path, user: &JobUser) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    lchown(path, Some(user.uid), Some(user.gid))?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            chown_tree(&entry?.path(), user)?;
        }
    }
    Ok(())
}

/// Links `source` (a file or folder in a datastore) to `dest` in the run folder: a
/// tree of new folders (`0755`) holding hard links to the same files, which stay
/// root's and are made `0644`, readable by the job and by no one else, since the
/// datastores' root is `0700`. `dest` must not exist.
pub fn grant_datastore(source: &Path, dest: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(source)?;
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if meta.is_dir() {
        std::fs::create_dir(dest)?;
        set_mode(dest, 0o755)?;
        for entry in std::fs::read_dir(source)? {
            let entry = entry?;
            grant_datastore(&entry.path(), &dest.join(entry.file_name()))?;
        }
        Ok(())
    } else if meta.is_file() {
        // Uploads are written `0600`; the link shares the file's mode.
        set_mode(source, 0o644)?;
        match std::fs::hard_link(source, dest) {
            // Another filesystem: a copy, root's like the original.
            Err(e) if e.raw_os_error() == Some(nix::libc::EXDEV) => {
                std::fs::copy(source, dest).map(drop)
            }
            other => other,
        }
    } else {
        // Links and special files in a datastore are not given to jobs.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_names_a_user_or_none() {
        assert_eq!(Request::from_flag(None), Request::Default);
        assert_eq!(Request::from_flag(Some("none")), Request::None);
        assert_eq!(
            Request::from_flag(Some("jobs")),
            Request::Named("jobs".into())
        );
    }

    #[test]
    fn a_granted_datastore_is_a_tree_of_links_to_the_same_files() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store/images");
        std::fs::create_dir_all(store.join("cats")).unwrap();
        std::fs::write(store.join("cats/a.txt"), "meow").unwrap();
        // As an upload leaves it.
        set_mode(&store.join("cats/a.txt"), 0o600).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", store.join("out")).unwrap();
        let dest = dir.path().join("run/datastores/store/images");
        grant_datastore(&store, &dest).unwrap();
        let original = std::fs::metadata(store.join("cats/a.txt")).unwrap();
        let linked = std::fs::metadata(dest.join("cats/a.txt")).unwrap();
        assert_eq!(original.ino(), linked.ino());
        assert_eq!(
            linked.mode() & 0o777,
            0o644,
            "the job can read what it is given"
        );
        let folder = std::fs::metadata(dest.join("cats")).unwrap();
        assert_eq!(folder.mode() & 0o777, 0o755);
        assert!(
            std::fs::symlink_metadata(dest.join("out")).is_err(),
            "a link out of the datastore is not given"
        );
    }
}
