//! The server's files area, `<data>/files/`: notebooks and source folders, as
//! Jupyter's contents model has them. The notebook reads and writes here, and a run
//! can be submitted from one of its folders (the server packs it).
//!
//! Every function takes a path relative to the area's root, `/`-separated, and
//! refuses anything that would leave the area: absolute paths, `..`, and symlinks
//! that point outside (checked on the real path, component by component when
//! writing, so a link never makes the server create or touch anything outside).
//! The root is a parameter, so the same checks guard other folders too: a
//! datastore's ([`crate::datastores`]) writes go through [`check_write`] and
//! [`write_from`] with the datastore's folder as the root.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use runboard_shared::api::{FilesAreaList, RunFile};

use crate::snapshot::{self, PathProblem};

/// The sample notebook copied into a new files area.
pub const QUICKSTART: &str = include_str!("../../notebooks/Quickstart.ipynb");

/// The sample notebook's name in the files area.
pub const QUICKSTART_NAME: &str = "Quickstart.ipynb";

/// Errors of the files area.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// The path would leave the area (absolute, `..`, a link outside) or names the
    /// area itself where a file or folder inside it is needed.
    #[error(
        "file path '{0}' escapes the files area; give a relative path such as project/train.py"
    )]
    Escapes(String),
    /// Nothing is there.
    #[error("no file or folder '{0}' in the files area")]
    NotFound(String),
    /// A folder is where a file is needed, or a file where a folder is needed.
    #[error("'{path}' {problem}")]
    Conflict {
        /// The path asked for.
        path: String,
        /// What is in the way.
        problem: &'static str,
    },
    /// Reading or writing failed.
    #[error("files area I/O error: {0}")]
    Io(#[from] std::io::Error),
}

type Result<T> = std::result::Result<T, FilesError>;

/// The files area of the data folder `data_dir`.
pub fn root(data_dir: &Path) -> PathBuf {
    data_dir.join("files")
}

/// Creates the area if needed and copies the sample notebook into it when absent.
pub fn seed(root: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(root)?;
    let quickstart = root.join(QUICKSTART_NAME);
    if std::fs::symlink_metadata(&quickstart).is_err() {
        std::fs::write(quickstart, QUICKSTART)?;
    }
    Ok(())
}

/// The normal components of `rel`, or `Escapes` for an absolute path or `..`.
/// An empty list means the area's root (`""`, `.`, `./`).
fn components(rel: &str) -> Result<Vec<String>> {
    let escapes = || FilesError::Escapes(rel.to_owned());
    if rel.starts_with('/') {
        return Err(escapes());
    }
    let mut parts = Vec::new();
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str().ok_or_else(escapes)?.to_owned()),
            Component::CurDir => {}
            _ => return Err(escapes()),
        }
    }
    Ok(parts)
}

/// `rel` with its `.` components and repeated `/` dropped (`""` for the root), or
/// `Escapes` for an absolute path or `..`: the check every function here makes first.
pub fn normalize(rel: &str) -> Result<String> {
    Ok(components(rel)?.join("/"))
}

/// The real path of the area's root.
fn real_root(root: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(root)?;
    Ok(root.canonicalize()?)
}

/// What `rel` names, as a real path inside the area: a file or a folder (the root
/// when `rel` is empty).
pub fn resolve(root: &Path, rel: &str) -> Result<PathBuf> {
    let parts = components(rel)?;
    let real_root = real_root(root)?;
    let joined = real_root.join(parts.join("/"));
    let Ok(real) = joined.canonicalize() else {
        // Nothing there: still say "escapes" when the part that exists leads out.
        let leaves = joined
            .ancestors()
            .find_map(|a| a.canonicalize().ok())
            .is_some_and(|real| !real.starts_with(&real_root));
        return Err(if leaves {
            FilesError::Escapes(rel.to_owned())
        } else {
            FilesError::NotFound(rel.to_owned())
        });
    };
    if !real.starts_with(&real_root) {
        return Err(FilesError::Escapes(rel.to_owned()));
    }
    Ok(real)
}

/// The real path of the folder `rel` names, for packing a snapshot from it.
pub fn folder(root: &Path, rel: &str) -> Result<PathBuf> {
    let real = resolve(root, rel)?;
    if !real.is_dir() {
        return Err(FilesError::Conflict {
            path: rel.to_owned(),
            problem: "is a file, not a folder",
        });
    }
    Ok(real)
}

/// The real path of the regular file `rel` names (the checks of
/// [`snapshot::resolve_inside`]).
pub fn file(root: &Path, rel: &str) -> Result<PathBuf> {
    let real_root = real_root(root)?;
    snapshot::resolve_inside(&real_root, rel).map_err(|problem| match problem {
        PathProblem::Escapes => FilesError::Escapes(rel.to_owned()),
        PathProblem::NotFound => FilesError::NotFound(rel.to_owned()),
    })
}

/// Every file (with its size) and folder under the folder `rel` (the whole area
/// when empty), with paths relative to the area's root, sorted. Symlinks are
/// listed only when they point at a file or folder inside the area, and folders
/// reached through a link are not walked (no cycles).
pub fn list(root: &Path, rel: &str) -> Result<FilesAreaList> {
    let real_root = real_root(root)?;
    let start = folder(root, rel)?;
    let mut out = FilesAreaList::default();
    let mut stack = vec![start];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            let kind = entry.file_type()?;
            let Ok(shown) = path.strip_prefix(&real_root) else {
                continue;
            };
            let shown = shown
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            if kind.is_dir() {
                out.folders.push(shown);
                stack.push(path);
            } else if kind.is_file() {
                out.files.push(RunFile {
                    path: shown,
                    size: entry.metadata()?.len(),
                });
            } else if kind.is_symlink() {
                match path.canonicalize() {
                    Ok(real) if real.starts_with(&real_root) && real.is_file() => {
                        out.files.push(RunFile {
                            path: shown,
                            size: std::fs::metadata(&real)?.len(),
                        });
                    }
                    Ok(real) if real.starts_with(&real_root) && real.is_dir() => {
                        out.folders.push(shown);
                    }
                    _ => {}
                }
            }
        }
    }
    out.files.sort_by(|a, b| a.path.cmp(&b.path));
    out.folders.sort();
    Ok(out)
}

/// The real path of the folder that will hold `parts`' last component, creating the
/// folders on the way one by one and checking each real path stays inside.
fn make_parent(real_root: &Path, rel: &str, parts: &[String]) -> Result<PathBuf> {
    parent(real_root, rel, parts, true)?.ok_or_else(|| FilesError::NotFound(rel.to_owned()))
}

/// The real path of the folder that holds `parts`' last component, checking each
/// folder on the way stays inside the area and is a folder. A missing folder is
/// created when `create` is true; otherwise the answer is `None` (everything from
/// there on would be new).
fn parent(real_root: &Path, rel: &str, parts: &[String], create: bool) -> Result<Option<PathBuf>> {
    let mut dir = real_root.to_path_buf();
    for part in &parts[..parts.len().saturating_sub(1)] {
        let next = dir.join(part);
        match std::fs::symlink_metadata(&next) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !create {
                    return Ok(None);
                }
                std::fs::create_dir(&next)?;
                dir = next;
            }
            Err(e) => return Err(e.into()),
            Ok(_) => {
                let real = next.canonicalize()?;
                if !real.starts_with(real_root) {
                    return Err(FilesError::Escapes(rel.to_owned()));
                }
                if !real.is_dir() {
                    return Err(FilesError::Conflict {
                        path: rel.to_owned(),
                        problem: "cannot be written: a file is where a folder is needed on its way",
                    });
                }
                dir = real;
            }
        }
    }
    Ok(Some(dir))
}

/// Whether the file `target` (the path `rel` names) exists, after checking it is not
/// a folder nor a link that leads outside.
fn existing_target(real_root: &Path, rel: &str, target: &Path) -> Result<bool> {
    match std::fs::symlink_metadata(target) {
        Err(_) => Ok(false),
        Ok(meta) if meta.is_dir() => Err(FilesError::Conflict {
            path: rel.to_owned(),
            problem: "is a folder; give a file path inside it",
        }),
        Ok(meta) if meta.file_type().is_symlink() => {
            // Writing replaces the link itself, never what it points at; still,
            // refuse a link that leads outside, as every other call does.
            match target.canonicalize() {
                Ok(real) if !real.starts_with(real_root) => {
                    Err(FilesError::Escapes(rel.to_owned()))
                }
                _ => Ok(true),
            }
        }
        Ok(_) => Ok(true),
    }
}

/// What [`write_from`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The file is new.
    Created,
    /// The file was there and was replaced.
    Replaced,
    /// The file was there and was kept (`replace` was false).
    Kept,
}

/// Writes `data` to the file `rel`, creating its folders; the file is replaced
/// whole (written beside it, then renamed). True when the file is new.
pub fn write(root: &Path, rel: &str, data: &[u8]) -> Result<bool> {
    Ok(write_from(root, rel, &mut &*data, true)? == Written::Created)
}

/// Writes what `data` reads to the file `rel`, creating its folders, as [`write`]
/// does: written beside, then renamed, so no reader ever sees half a file. With
/// `replace` false a file already there is kept (also one that appears meanwhile).
pub fn write_from(root: &Path, rel: &str, data: &mut dyn Read, replace: bool) -> Result<Written> {
    let parts = components(rel)?;
    let Some(name) = parts.last() else {
        return Err(FilesError::Escapes(rel.to_owned()));
    };
    let real_root = real_root(root)?;
    let dir = make_parent(&real_root, rel, &parts)?;
    let target = dir.join(name);
    let exists = existing_target(&real_root, rel, &target)?;
    if exists && !replace {
        return Ok(Written::Kept);
    }
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
    std::io::copy(data, &mut tmp)?;
    if replace {
        tmp.persist(&target).map_err(|e| FilesError::Io(e.error))?;
        return Ok(if exists {
            Written::Replaced
        } else {
            Written::Created
        });
    }
    match tmp.persist_noclobber(&target) {
        Ok(_) => Ok(Written::Created),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(Written::Kept),
        Err(e) => Err(FilesError::Io(e.error)),
    }
}

/// Makes every check [`write_from`] makes for the file `rel` under `root`, creating
/// nothing (a `root` that does not exist yet holds nothing). True when a file is
/// already there.
pub fn check_write(root: &Path, rel: &str) -> Result<bool> {
    let parts = components(rel)?;
    let Some(name) = parts.last() else {
        return Err(FilesError::Escapes(rel.to_owned()));
    };
    let real_root = match root.canonicalize() {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    match parent(&real_root, rel, &parts, false)? {
        Some(dir) => existing_target(&real_root, rel, &dir.join(name)),
        None => Ok(false),
    }
}

/// The regular files of `rel`, each as (its path relative to `rel`, its real path),
/// sorted: a folder's files recursively, or the file `rel` itself under its name.
/// As the SDK's `Datastore.upload` (Python's `os.walk`) does, a link to a file is
/// taken and a link to a folder is not walked; links that lead outside the area are
/// refused (`Escapes` naming the link), and links to nothing are passed over.
pub fn files_under(root: &Path, rel: &str) -> Result<Vec<(String, PathBuf)>> {
    let real_root = real_root(root)?;
    let start = resolve(root, rel)?;
    if !start.is_dir() {
        let name = components(rel)?.pop().unwrap_or_default();
        return Ok(vec![(name, start)]);
    }
    let base = normalize(rel)?;
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), start)];
    while let Some((prefix, dir)) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let shown = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push((shown, path));
            } else if kind.is_file() {
                out.push((shown, path));
            } else if kind.is_symlink() {
                let Ok(real) = path.canonicalize() else {
                    continue;
                };
                if !real.starts_with(&real_root) {
                    let whole = if base.is_empty() {
                        shown
                    } else {
                        format!("{base}/{shown}")
                    };
                    return Err(FilesError::Escapes(whole));
                }
                if real.is_file() {
                    out.push((shown, real));
                }
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Creates the folder `rel` and those on its way. True when it is new.
pub fn make_folder(root: &Path, rel: &str) -> Result<bool> {
    let parts = components(rel)?;
    let Some(name) = parts.last() else {
        return Err(FilesError::Escapes(rel.to_owned()));
    };
    let real_root = real_root(root)?;
    let dir = make_parent(&real_root, rel, &parts)?.join(name);
    match std::fs::symlink_metadata(&dir) {
        Err(_) => {
            std::fs::create_dir(&dir)?;
            Ok(true)
        }
        Ok(_) => {
            let real = dir.canonicalize()?;
            if !real.starts_with(&real_root) {
                return Err(FilesError::Escapes(rel.to_owned()));
            }
            if !real.is_dir() {
                return Err(FilesError::Conflict {
                    path: rel.to_owned(),
                    problem: "is a file, not a folder",
                });
            }
            Ok(false)
        }
    }
}

/// Moves the file or folder `from` to `to` (a symlink itself, not its target),
/// creating the folders on the way; never overwrites, never moves a folder into
/// itself.
pub fn rename(root: &Path, from: &str, to: &str) -> Result<()> {
    let source = existing_entry(root, from)?;
    let from_parts = components(from)?;
    let to_parts = components(to)?;
    let Some(name) = to_parts.last() else {
        return Err(FilesError::Escapes(to.to_owned()));
    };
    if to_parts.starts_with(&from_parts) {
        return Err(FilesError::Conflict {
            path: to.to_owned(),
            problem: "is inside the folder being moved",
        });
    }
    let real_root = real_root(root)?;
    // Check the destination's existing folders before creating any.
    if let Err(FilesError::Escapes(_)) = resolve(root, to) {
        return Err(FilesError::Escapes(to.to_owned()));
    }
    let target = make_parent(&real_root, to, &to_parts)?.join(name);
    if std::fs::symlink_metadata(&target).is_ok() {
        return Err(FilesError::Conflict {
            path: to.to_owned(),
            problem: "already exists; delete it first or choose another name",
        });
    }
    std::fs::rename(source, target)?;
    Ok(())
}

/// The path of the entry `rel` names (not following a final symlink), after checking
/// that its folder is inside the area.
fn existing_entry(root: &Path, rel: &str) -> Result<PathBuf> {
    let parts = components(rel)?;
    let Some(name) = parts.last() else {
        return Err(FilesError::Escapes(rel.to_owned()));
    };
    let parent_rel = parts[..parts.len() - 1].join("/");
    let parent = resolve(root, &parent_rel).map_err(|e| match e {
        FilesError::NotFound(_) => FilesError::NotFound(rel.to_owned()),
        FilesError::Escapes(_) => FilesError::Escapes(rel.to_owned()),
        other => other,
    })?;
    let target = parent.join(name);
    std::fs::symlink_metadata(&target).map_err(|_| FilesError::NotFound(rel.to_owned()))?;
    Ok(target)
}

/// Removes the file or folder (with everything in it) `rel` names; a symlink is
/// removed itself, never what it points at.
pub fn remove(root: &Path, rel: &str) -> Result<()> {
    let target = existing_entry(root, rel)?;
    if std::fs::symlink_metadata(&target)?.is_dir() {
        std::fs::remove_dir_all(&target)?;
    } else {
        std::fs::remove_file(&target)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_checked_before_anything_happens() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("files");
        for bad in ["/etc/passwd", "../x", "a/../../x", "a/.."] {
            assert!(
                matches!(write(&root, bad, b"x"), Err(FilesError::Escapes(_))),
                "{bad}"
            );
            assert!(
                matches!(remove(&root, bad), Err(FilesError::Escapes(_))),
                "{bad}"
            );
        }
        for root_itself in ["", ".", "./"] {
            assert!(matches!(
                remove(&root, root_itself),
                Err(FilesError::Escapes(_))
            ));
            assert!(matches!(
                write(&root, root_itself, b"x"),
                Err(FilesError::Escapes(_))
            ));
        }
        assert!(!dir.path().join("x").exists());
    }

    #[test]
    fn check_write_creates_nothing_and_write_from_keeps_or_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        assert!(!check_write(&root, "a/b.txt").unwrap());
        assert!(!root.exists(), "checking created the root");
        assert_eq!(
            write_from(&root, "a/b.txt", &mut &b"one"[..], false).unwrap(),
            Written::Created
        );
        assert!(check_write(&root, "a/b.txt").unwrap());
        assert!(!check_write(&root, "a/new/c.txt").unwrap());
        assert!(!root.join("a/new").exists());
        assert!(matches!(
            check_write(&root, "a/b.txt/c.txt"),
            Err(FilesError::Conflict { .. })
        ));
        assert!(matches!(
            check_write(&root, "a"),
            Err(FilesError::Conflict { .. })
        ));
        assert_eq!(
            write_from(&root, "a/b.txt", &mut &b"two"[..], false).unwrap(),
            Written::Kept
        );
        assert_eq!(std::fs::read(root.join("a/b.txt")).unwrap(), b"one");
        assert_eq!(
            write_from(&root, "a/b.txt", &mut &b"two"[..], true).unwrap(),
            Written::Replaced
        );
        assert_eq!(std::fs::read(root.join("a/b.txt")).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(root.join("a")).unwrap().count(), 1);
    }

    #[test]
    fn seed_copies_the_quickstart_only_when_absent() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("files");
        seed(&root).unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join(QUICKSTART_NAME)).unwrap(),
            QUICKSTART
        );
        std::fs::write(root.join(QUICKSTART_NAME), "mine").unwrap();
        seed(&root).unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join(QUICKSTART_NAME)).unwrap(),
            "mine"
        );
    }
}
