//! Opening files inside a folder that an untrusted job writes (a run folder, a
//! snapshot), so that no link, FIFO or device can turn a read against the server.
//!
//! A job can replace any file of its run folder between two of the server's calls:
//! with a symlink to `/dev/zero` or to a secret, a FIFO that blocks whoever opens it,
//! or a folder link that points out. So every read of a run's files goes through
//! [`open`]: the path is resolved by the kernel beneath the folder in one step
//! (`openat2` with `RESOLVE_BENEATH`: links are followed only while they stay inside,
//! atomically), opened `O_NONBLOCK` (a FIFO never blocks the open), and the opened
//! file's own type is checked (`fstat`): only regular files are read. Reads are
//! capped ([`read_capped`], [`read_at`]).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};

/// Why a file inside a folder could not be opened for reading.
#[derive(Debug, thiserror::Error)]
pub enum ConfinedError {
    /// The path leaves the folder: absolute, `..`, or through a link that points out.
    #[error("the path leaves its folder")]
    Escapes,
    /// Nothing is there.
    #[error("no such file")]
    NotFound,
    /// Something is there but it is not a regular file (a folder, FIFO, device or
    /// socket).
    #[error("not a regular file (it is a {0})")]
    NotRegular(&'static str),
    /// The file holds more than the reader accepts.
    #[error("the file is larger than {limit} bytes")]
    TooLarge {
        /// The cap in bytes.
        limit: u64,
    },
    /// Another I/O error.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// An opened regular file inside a folder, with its metadata read from the open
/// file itself (not from the path, which may have changed since).
#[derive(Debug)]
pub struct Opened {
    /// The open file (read-only).
    pub file: File,
    /// Its metadata (`fstat`).
    pub meta: std::fs::Metadata,
}

impl Opened {
    /// A path that names this very open file (`/proc/self/fd/N`), for APIs that
    /// open by path (tower-http's `ServeFile`): opening it gives the same file even
    /// if the job renamed or replaced the original path since. Valid while `self`
    /// lives.
    pub fn fd_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.file.as_raw_fd()))
    }
}

/// True when `rel` is relative and has no `..`, root or prefix component.
fn is_relative_inside(rel: &Path) -> bool {
    !rel.as_os_str().is_empty()
        && rel
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Opens the regular file `rel` names beneath `root` for reading. Symlinks are
/// followed only while they stay beneath `root`; FIFOs, devices, sockets and folders
/// are refused without blocking.
pub fn open(root: &Path, rel: &Path) -> Result<Opened, ConfinedError> {
    if !is_relative_inside(rel) {
        return Err(ConfinedError::Escapes);
    }
    let root_dir = match File::open(root) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfinedError::NotFound);
        }
        Err(e) => return Err(e.into()),
    };
    open_at(&root_dir, root, rel)
}

/// [`open`] of `rel` beneath the folder `area` of `base` (a run's `wd/outputs`),
/// where `area` itself must be a real folder beneath `base`, not a link: the job
/// may have replaced it with one.
pub fn open_in_area(base: &Path, area: &Path, rel: &Path) -> Result<Opened, ConfinedError> {
    if !is_relative_inside(rel) || !is_relative_inside(area) {
        return Err(ConfinedError::Escapes);
    }
    let base_dir = match File::open(base) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfinedError::NotFound);
        }
        Err(e) => return Err(e.into()),
    };
    let how = OpenHow::new()
        .flags(OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS);
    let area_dir = match nix::fcntl::openat2(&base_dir, area, how) {
        Ok(fd) => File::from(fd),
        Err(Errno::ENOSYS) | Err(Errno::EPERM) => {
            let real_base = base.canonicalize().map_err(|_| ConfinedError::NotFound)?;
            let real_area = base
                .join(area)
                .canonicalize()
                .map_err(|_| ConfinedError::NotFound)?;
            if real_area != real_base.join(area) {
                return Err(ConfinedError::Escapes);
            }
            File::open(&real_area)?
        }
        Err(e) => return Err(errno_error(e)),
    };
    open_at(&area_dir, &base.join(area), rel)
}

fn open_at(root_dir: &File, root: &Path, rel: &Path) -> Result<Opened, ConfinedError> {
    let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC | OFlag::O_NOCTTY;
    let how = OpenHow::new()
        .flags(flags)
        .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let file = match nix::fcntl::openat2(root_dir, rel, how) {
        Ok(fd) => File::from(fd),
        // Kernels before 5.6 (or a seccomp filter) lack openat2: resolve in user
        // space, then open the final component without following it.
        Err(Errno::ENOSYS) | Err(Errno::EPERM) => open_fallback(root, rel, flags)?,
        // An absolute link (`/data/runs/<id>/wd/outputs/a -> /data/.../b`) is refused
        // by RESOLVE_BENEATH even when it points inside. Resolve it in user space,
        // then open the resolved path with no link allowed on the way: if the job
        // swapped a component for a link meanwhile, the open fails.
        Err(Errno::EXDEV) => {
            let real_root = root.canonicalize()?;
            // The kernel saw the path leave: so it does, unless it resolves inside.
            let real = root
                .join(rel)
                .canonicalize()
                .map_err(|_| ConfinedError::Escapes)?;
            let inside = real
                .strip_prefix(&real_root)
                .map_err(|_| ConfinedError::Escapes)?;
            if inside.as_os_str().is_empty() {
                return Err(ConfinedError::NotRegular("folder"));
            }
            let how = OpenHow::new()
                .flags(flags)
                .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS);
            File::from(nix::fcntl::openat2(root_dir, inside, how).map_err(errno_error)?)
        }
        Err(e) => return Err(errno_error(e)),
    };
    let meta = file.metadata()?;
    let kind = meta.file_type();
    if !kind.is_file() {
        use std::os::unix::fs::FileTypeExt;
        let what = if kind.is_dir() {
            "folder"
        } else if kind.is_fifo() {
            "FIFO"
        } else if kind.is_char_device() || kind.is_block_device() {
            "device"
        } else if kind.is_socket() {
            "socket"
        } else {
            "special file"
        };
        return Err(ConfinedError::NotRegular(what));
    }
    Ok(Opened { file, meta })
}

/// `base/rel` when every folder on the way from `base` is a real folder, not a link
/// (for walking an area of a run folder with `read_dir`, which would follow a link
/// the job put in place of the area). Entries met during the walk are checked with
/// `DirEntry::file_type`, which does not follow links.
pub fn real_folder(base: &Path, rel: &Path) -> Option<PathBuf> {
    if !is_relative_inside(rel) {
        return None;
    }
    let mut at = base.to_path_buf();
    for c in rel.components() {
        at.push(c);
        if !at.symlink_metadata().ok()?.is_dir() {
            return None;
        }
    }
    Some(at)
}

fn errno_error(e: Errno) -> ConfinedError {
    match e {
        // EXDEV: resolution left the folder; ELOOP: a link loop (or, in the
        // fallback, a final component that is a link).
        Errno::EXDEV | Errno::ELOOP => ConfinedError::Escapes,
        Errno::ENOENT | Errno::ENOTDIR => ConfinedError::NotFound,
        e => ConfinedError::Io(std::io::Error::from(e)),
    }
}

fn open_fallback(root: &Path, rel: &Path, flags: OFlag) -> Result<File, ConfinedError> {
    let real_root = root.canonicalize().map_err(|_| ConfinedError::NotFound)?;
    let real = root
        .join(rel)
        .canonicalize()
        .map_err(|_| ConfinedError::NotFound)?;
    if !real.starts_with(&real_root) {
        return Err(ConfinedError::Escapes);
    }
    let fd = nix::fcntl::open(
        &real,
        flags | OFlag::O_NOFOLLOW,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(errno_error)?;
    Ok(File::from(fd))
}

/// Reads the whole regular file `rel` beneath `root`, refusing one larger than
/// `limit` bytes (without reading more than `limit + 1`).
pub fn read_capped(root: &Path, rel: &Path, limit: u64) -> Result<Vec<u8>, ConfinedError> {
    let opened = open(root, rel)?;
    let mut bytes = Vec::new();
    opened.file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ConfinedError::TooLarge { limit });
    }
    Ok(bytes)
}

/// Reads at most `max` bytes of the regular file `rel` beneath `root`, from byte
/// `offset` on (nothing when the file is shorter).
pub fn read_at(root: &Path, rel: &Path, offset: u64, max: u64) -> Result<Vec<u8>, ConfinedError> {
    let mut opened = open(root, rel)?;
    opened.file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    opened.file.take(max).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads the last `max` bytes (or fewer) of the regular file `rel` beneath `root`.
pub fn read_tail(root: &Path, rel: &Path, max: u64) -> Result<Vec<u8>, ConfinedError> {
    let mut opened = open(root, rel)?;
    let len = opened.meta.len();
    opened.file.seek(SeekFrom::Start(len.saturating_sub(max)))?;
    let mut bytes = Vec::new();
    opened.file.take(max).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// What opening each name of a hostile folder gives.
    #[test]
    fn only_regular_files_inside_are_opened() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("secret.txt");
        std::fs::write(&outside, "secret").unwrap();
        let root = dir.path().join("run");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/ok.txt"), "ok").unwrap();
        symlink("sub/ok.txt", root.join("alias.txt")).unwrap();
        symlink("/dev/zero", root.join("zero")).unwrap();
        symlink(&outside, root.join("leak.txt")).unwrap();
        symlink(".", root.join("s")).unwrap();
        symlink("s/s/s/../../../secret.txt", root.join("chain")).unwrap();
        symlink(dir.path(), root.join("up")).unwrap();
        symlink(root.join("sub/ok.txt"), root.join("absolute_inside.txt")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        nix::unistd::mkfifo(&root.join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();

        let cases: &[(&str, Result<&str, &str>)] = &[
            ("sub/ok.txt", Ok("ok")),
            ("alias.txt", Ok("ok")),
            ("s/s/sub/ok.txt", Ok("ok")),
            ("absolute_inside.txt", Ok("ok")),
            ("zero", Err("leaves")),
            ("leak.txt", Err("leaves")),
            ("chain", Err("leaves")),
            ("up/secret.txt", Err("leaves")),
            ("../secret.txt", Err("leaves")),
            ("/etc/passwd", Err("leaves")),
            ("loop", Err("leaves")),
            ("fifo", Err("FIFO")),
            ("sub", Err("folder")),
            ("missing.txt", Err("no such file")),
            ("sub/ok.txt/x", Err("no such file")),
        ];
        for (rel, expect) in cases {
            let got = read_capped(&root, Path::new(rel), 100)
                .map(|b| String::from_utf8(b).unwrap())
                .map_err(|e| e.to_string());
            match (expect, &got) {
                (Ok(text), Ok(read)) => assert_eq!(read, text, "{rel}"),
                (Err(part), Err(err)) => assert!(err.contains(part), "{rel}: {err}"),
                _ => panic!("{rel}: expected {expect:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn an_area_folder_replaced_by_a_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        std::fs::create_dir_all(run.join("wd/outputs")).unwrap();
        std::fs::write(run.join("wd/outputs/model.txt"), "m").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "s").unwrap();
        symlink(dir.path(), run.join("wd/logs")).unwrap();
        let open = |area: &str, rel: &str| open_in_area(&run, Path::new(area), Path::new(rel));
        assert!(open("wd/outputs", "model.txt").is_ok());
        assert!(matches!(
            open("wd/logs", "secret.txt"),
            Err(ConfinedError::Escapes)
        ));
        assert!(matches!(
            open("wd/missing", "x"),
            Err(ConfinedError::NotFound)
        ));
    }

    #[test]
    fn reads_are_capped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("log.txt"), "0123456789").unwrap();
        let rel = Path::new("log.txt");
        assert!(matches!(
            read_capped(dir.path(), rel, 9),
            Err(ConfinedError::TooLarge { limit: 9 })
        ));
        assert_eq!(read_capped(dir.path(), rel, 10).unwrap(), b"0123456789");
        assert_eq!(read_at(dir.path(), rel, 3, 4).unwrap(), b"3456");
        assert_eq!(read_at(dir.path(), rel, 20, 4).unwrap(), b"");
        assert_eq!(read_tail(dir.path(), rel, 3).unwrap(), b"789");
        assert_eq!(read_tail(dir.path(), rel, 30).unwrap(), b"0123456789");
    }
}
