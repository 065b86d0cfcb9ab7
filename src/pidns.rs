//! The processes of a PID namespace: a procfs instance that shows the
//! target's PID namespace (and those below it) with nothing mounted over
//! the files cntr reads, and a walk over every task in it, threads
//! included, with its credentials and user namespace.
//!
//! This is what the attach session's credentials are checked against
//! (see `cred`): the attacker is every process of the container, not the
//! target alone.

use crate::error::{Context, Error, Result};
use crate::proc::{Process, Status};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::os::unix::ffi::OsStrExt;

/// Paths below a procfs are resolved beneath it, through no symlink and
/// across no mount: a container that can mount (root of its own user
/// namespace) could otherwise put a file of its choice over
/// `/proc/PID/status` in the procfs it hands cntr.
const BENEATH: ResolveFlags = ResolveFlags::BENEATH
    .union(ResolveFlags::NO_XDEV)
    .union(ResolveFlags::NO_SYMLINKS)
    .union(ResolveFlags::NO_MAGICLINKS);

/// A procfs that shows exactly the target's PID namespace.
pub struct Procfs {
    fd: OwnedFd,
}

/// The inode number of a namespace, from a `/proc/.../ns/KIND` link.
pub fn ns_inode(dir: BorrowedFd<'_>, path: &str) -> Result<u64> {
    Ok(rustix::fs::statat(dir, path, AtFlags::empty())
        .ctx(format_args!("stat {path}"))?
        .st_ino)
}

impl Procfs {
    /// The procfs at `/proc` if it shows the target's PID namespace (in an
    /// attach session, after `cntr-mount-tree`, it is the container's own),
    /// else a new one. Cheap when `/proc` will do: no mount is made.
    pub fn of(target: &Process, hostproc: BorrowedFd<'_>) -> Result<Procfs> {
        if let Some(fd) = Procfs::at_proc(target)? {
            return Ok(Procfs { fd });
        }
        Procfs::fresh(target, hostproc)
    }

    /// `/proc`, if it is a procfs whose PID 1 lives in the target's PID
    /// namespace: then its PID namespace is the target's (the PID 1 of a
    /// procfs is the init of that procfs's namespace, and it lives in it).
    fn at_proc(target: &Process) -> Result<Option<OwnedFd>> {
        let fd = rustix::fs::open(
            "/proc",
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ctx("open /proc")?;
        if !rustix::fs::fstatfs(&fd).is_ok_and(|s| s.f_type == crate::proc::PROC_SUPER_MAGIC) {
            return Ok(None);
        }
        let theirs = ns_inode(target.dir.as_fd(), "ns/pid")?;
        Ok((link_inode(fd.as_fd(), "1/ns/pid") == Some(theirs)).then_some(fd))
    }

    /// A new procfs of the target's PID namespace, attached nowhere:
    /// `fsconfig(FSCONFIG_SET_FD, "pidns")` (a procfs option of recent
    /// kernels) names the namespace, so this works from the host's side
    /// too. On an older kernel it works only from inside that namespace,
    /// where a procfs shows the namespace of its maker.
    pub fn fresh(target: &Process, hostproc: BorrowedFd<'_>) -> Result<Procfs> {
        let fs = crate::mount::open_fs("proc")?;
        let ns = rustix::fs::openat(
            &target.dir,
            "ns/pid",
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ctx(format_args!("open the PID namespace of {}", target.pid))?;
        if let Err(e) = rustix::mount::fsconfig_set_fd(fs.as_fd(), "pidns", ns.as_fd()) {
            let ours = ns_inode(hostproc, "thread-self/ns/pid")?;
            let what = format!("create a procfs of the PID namespace of {}", target.pid);
            if e != Errno::INVAL {
                return Err(Error::sys(what, e));
            }
            if ours != ns_inode(target.dir.as_fd(), "ns/pid")? {
                return Err(Error::new(format!(
                    "unable to {what}: this kernel's procfs has no pidns option"
                )));
            }
        }
        Ok(Procfs {
            fd: crate::mount::make_fs(&fs, "proc")?,
        })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Opens `path` below this procfs (see [`BENEATH`]).
    fn open(&self, path: &str, flags: OFlags) -> std::result::Result<OwnedFd, Errno> {
        // openat2 refuses O_PATH with any flag that only an open for I/O
        // means.
        let io = if flags.contains(OFlags::PATH) {
            OFlags::empty()
        } else {
            OFlags::NOCTTY | OFlags::NONBLOCK
        };
        rustix::fs::openat2(
            &self.fd,
            path,
            flags | io | OFlags::CLOEXEC,
            Mode::empty(),
            BENEATH,
        )
    }

    /// The numeric entries of directory `path` (PIDs, or thread IDs).
    fn numbers(&self, path: &str) -> std::result::Result<Vec<i32>, Errno> {
        let dir = self.open(path, OFlags::RDONLY | OFlags::DIRECTORY)?;
        let mut dir = rustix::fs::Dir::new(dir)?;
        let mut out = Vec::new();
        while let Some(e) = dir.read() {
            let e = e?;
            let name = e.file_name().to_bytes();
            if let Some(n) = crate::proc::parse_pid(std::ffi::OsStr::from_bytes(name)) {
                out.push(n);
            }
        }
        Ok(out)
    }

    /// The status of a task; `None` when it cannot be parsed. It is read
    /// whole: 65536 supplementary groups take 700 KiB, and the
    /// capability lines come after them.
    fn status(&self, path: &str) -> std::result::Result<Option<Status>, Errno> {
        let fd = self.open(path, OFlags::RDONLY)?;
        let raw = crate::proc::read_fd(&fd, 1 << 20)?;
        Ok(Status::parse(&raw))
    }

    /// The inode of the user namespace of task `tid` of process `pid`.
    pub fn userns(&self, pid: i32, tid: i32) -> std::result::Result<u64, Errno> {
        // The link itself, not what it points to (that would jump to
        // another mount, which BENEATH forbids); its text names the inode.
        let fd = self.open(
            &format!("{pid}/task/{tid}/ns/user"),
            OFlags::PATH | OFlags::NOFOLLOW,
        )?;
        let text = rustix::fs::readlinkat(&fd, "", Vec::new())?;
        parse_ns_link(text.as_bytes()).ok_or(Errno::INVAL)
    }

    /// Whether task `tid` of process `pid` has exited: its directory is
    /// gone, or it is a zombie.
    pub fn task_gone(&self, pid: i32, tid: i32) -> bool {
        match self.status(&format!("{pid}/task/{tid}/status")) {
            Ok(Some(st)) => dead(&st),
            Ok(None) => false,
            Err(e) => matches!(e, Errno::NOENT | Errno::SRCH),
        }
    }

    /// The device and inode of `/proc/PID/NAME` (`exe`, `root`) followed.
    pub fn follow(&self, pid: i32, name: &str) -> Option<(u64, u64)> {
        let dir = self
            .open(&pid.to_string(), OFlags::PATH | OFlags::DIRECTORY)
            .ok()?;
        rustix::fs::statat(&dir, name, AtFlags::empty())
            .ok()
            .map(|st| (st.st_dev, st.st_ino))
    }

    /// The command name of process `pid`, for messages.
    pub fn comm(&self, pid: i32) -> String {
        self.open(&format!("{pid}/comm"), OFlags::RDONLY)
            .ok()
            .and_then(|fd| crate::proc::read_fd(&fd, 64).ok())
            .map(|c| String::from_utf8_lossy(c.trim_ascii_end()).into_owned())
            .unwrap_or_default()
    }

    /// Every task of every process this procfs shows but cntr's own, with
    /// its status.
    /// A process or thread that exits during the walk is skipped; a file
    /// that cannot be read for any other reason (a mount over it, say)
    /// is an error.
    pub fn tasks(&self) -> std::result::Result<Vec<Task>, Errno> {
        let mut out = Vec::new();
        // cntr itself, when it stands in the namespace: not the container's.
        let me = rustix::fs::readlinkat(&self.fd, "self", Vec::new())
            .ok()
            .and_then(|p| crate::proc::parse_pid(std::ffi::OsStr::from_bytes(p.as_bytes())));
        for pid in self.numbers(".")? {
            if Some(pid) == me {
                continue;
            }
            let Some(st) = gone_is_none(self.status(&format!("{pid}/status")))? else {
                continue;
            };
            // A status cntr cannot read is not passed over: the task is
            // taken to hold every capability.
            let st = st.unwrap_or_else(Status::unknown);

            // Threads may hold other credentials than their process's
            // main thread (credentials are per task), but most processes
            // have one thread, and then the main thread's status is all.
            if st.threads <= 1 {
                // A zombie runs nothing and holds no file: it reaches
                // nothing (the tests' containers, whose init never reaps,
                // keep many). A group leader that exited before its other
                // threads is one too, but they still run: see below.
                if dead(&st) {
                    continue;
                }
                out.push(Task {
                    pid,
                    tid: pid,
                    status: st,
                });
                continue;
            }
            let Some(tids) = gone_is_none(self.numbers(&format!("{pid}/task")))? else {
                continue;
            };
            for tid in tids {
                let path = format!("{pid}/task/{tid}/status");
                if let Some(status) = gone_is_none(self.status(&path))? {
                    let status = status.unwrap_or_else(Status::unknown);
                    if !dead(&status) {
                        out.push(Task { pid, tid, status });
                    }
                }
            }
        }
        Ok(out)
    }
}

/// One task (thread) of a process.
pub struct Task {
    pub pid: i32,
    pub tid: i32,
    pub status: Status,
}

/// Whether a task has exited (a zombie, or dead).
fn dead(st: &Status) -> bool {
    matches!(st.state, b'Z' | b'X')
}

/// ENOENT and ESRCH mean the process or thread has gone meanwhile.
fn gone_is_none<T>(r: std::result::Result<T, Errno>) -> std::result::Result<Option<T>, Errno> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(Errno::NOENT | Errno::SRCH) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The inode that a namespace link below `dir` names, read as the link's
/// text (`pid:[4026531836]`) through no mount.
fn link_inode(dir: BorrowedFd<'_>, path: &str) -> Option<u64> {
    let fd = rustix::fs::openat2(
        dir,
        path,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
        BENEATH,
    )
    .ok()?;
    let text = rustix::fs::readlinkat(&fd, "", Vec::new()).ok()?;
    parse_ns_link(text.as_bytes())
}

/// The inode in a namespace link's text, `KIND:[INODE]`.
fn parse_ns_link(b: &[u8]) -> Option<u64> {
    let open = memchr::memchr(b'[', b)?;
    let inner = b.get(open + 1..b.len().checked_sub(1)?)?;
    if b.last() != Some(&b']') || inner.is_empty() || !inner.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(inner).ok()?.parse().ok()
}

/// `ioctl(fd, NS_GET_PARENT)`, see ioctl_ns(2): the parent of a user
/// namespace; EPERM when it is outside ours (or there is none).
pub fn userns_parent(fd: BorrowedFd<'_>) -> std::result::Result<OwnedFd, Errno> {
    crate::sys::ns_ioctl(fd, crate::sys::NS_GET_PARENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_links() {
        assert_eq!(parse_ns_link(b"user:[4026531837]"), Some(4026531837));
        assert_eq!(parse_ns_link(b"pid:[1]"), Some(1));
        for bad in [
            &b"user:[]"[..],
            b"user:[12",
            b"user:12]",
            b"",
            b"[x]",
            b"user:[1a]",
        ] {
            assert_eq!(parse_ns_link(bad), None, "{bad:?}");
        }
    }
}
