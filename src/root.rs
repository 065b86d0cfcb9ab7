//! The container's root directory (the handoff's `root` fd): reading the
//! files below it that cntr, as host root, takes from the container
//! (identity files, and users and groups).
//!
//! The container controls every name and inode there. A path is resolved
//! confined to the container's root, so a symlink cannot lead to a host
//! file; and the file is first opened `O_PATH`, which runs no driver code,
//! and reopened for reading only once it is known to be a regular file:
//! opening a FIFO wakes a writer blocked in its open (it learns that cntr
//! looked, and goes on), and opening a device is an action of its driver
//! (a watchdog arms, a tty's DTR line drops).

use rustix::fd::{AsRawFd, BorrowedFd, OwnedFd};
use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// Why a container file was not read.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// It does not exist (or a directory on its path is missing).
    Missing,
    /// It exists, as something else than a regular file.
    NotRegular,
    /// It is larger than the limit asked for (also when it grows past it
    /// while read).
    TooLarge,
    /// A system call failed.
    Failed(Errno),
}

impl Refusal {
    /// Why, in words, for messages.
    pub fn describe(&self) -> String {
        match self {
            Refusal::Missing => "no such file".into(),
            Refusal::NotRegular => "not a regular file".into(),
            Refusal::TooLarge => "too large".into(),
            Refusal::Failed(e) => crate::error::errno_text(*e),
        }
    }
}

/// Opens `path` (relative) below the container's root `root` for reading,
/// as a regular file of at most `limit` bytes:
///
/// 1. `openat2(root, path, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`:
///    an absolute or `../` symlink stays inside the container's root,
///    `/proc/self/root` and its like are refused, and nothing is opened for
///    real yet;
/// 2. `fstat` that fd: a regular file of at most `limit` bytes;
/// 3. reopen it for reading through `thread-self/fd/N` of the host's
///    procfs `hostproc` (the container's `/proc` may be mounted at `/proc`
///    by now), which opens that very inode and no other.
pub fn open_file(
    root: BorrowedFd<'_>,
    hostproc: BorrowedFd<'_>,
    path: &str,
    limit: u64,
) -> Result<OwnedFd, Refusal> {
    let fd = rustix::fs::openat2(
        root,
        path,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
    .map_err(|e| match e {
        Errno::NOENT | Errno::NOTDIR => Refusal::Missing,
        e => Refusal::Failed(e),
    })?;
    let st = rustix::fs::fstat(&fd).map_err(Refusal::Failed)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(Refusal::NotRegular);
    }
    if st.st_size as u64 > limit {
        return Err(Refusal::TooLarge);
    }
    rustix::fs::openat(
        hostproc,
        format!("thread-self/fd/{}", fd.as_raw_fd()),
        OFlags::RDONLY | OFlags::NOCTTY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(Refusal::Failed)
}

/// Reads `path` below the container's root, as [`open_file`] opens it: at
/// most `limit` bytes, and a file that has grown past them since it was
/// checked (a sparse or growing one) is refused, not cut.
pub fn read_file(
    root: BorrowedFd<'_>,
    hostproc: BorrowedFd<'_>,
    path: &str,
    limit: usize,
) -> Result<Vec<u8>, Refusal> {
    let fd = open_file(root, hostproc, path, limit as u64)?;
    let data = crate::proc::read_fd(&fd, limit.saturating_add(1)).map_err(Refusal::Failed)?;
    if data.len() > limit {
        return Err(Refusal::TooLarge);
    }
    Ok(data)
}
