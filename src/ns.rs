//! Namespaces: which of the target's differ from ours, and joining them in
//! one `setns` on the target's pidfd.

use crate::error::{Context, Result};
use crate::handoff::Handoff;
use rustix::fd::AsFd;
use rustix::fs::AtFlags;
use rustix::thread::ThreadNameSpaceType as T;

/// A namespace kind: its file in `/proc/PID/ns`, its `CLONE_NEW*` flag and
/// the long option that selects it (as in nsenter(1)).
pub struct Kind {
    pub file: &'static str,
    pub option: &'static str,
    pub short: char,
    pub flag: T,
}

/// Every kind, in the order nsenter(1) lists them. The user namespace
/// comes first in `setns` anyway: the kernel joins it before the others.
pub const KINDS: [Kind; 8] = [
    Kind {
        file: "mnt",
        option: "mount",
        short: 'm',
        flag: T::MOUNT,
    },
    Kind {
        file: "uts",
        option: "uts",
        short: 'u',
        flag: T::HOST_NAME_AND_NIS_DOMAIN_NAME,
    },
    Kind {
        file: "ipc",
        option: "ipc",
        short: 'i',
        flag: T::INTER_PROCESS_COMMUNICATION,
    },
    Kind {
        file: "net",
        option: "net",
        short: 'n',
        flag: T::NETWORK,
    },
    Kind {
        file: "pid",
        option: "pid",
        short: 'p',
        flag: T::PROCESS_ID,
    },
    Kind {
        file: "cgroup",
        option: "cgroup",
        short: 'C',
        flag: T::CONTROL_GROUP,
    },
    Kind {
        file: "user",
        option: "user",
        short: 'U',
        flag: T::USER,
    },
    Kind {
        file: "time",
        option: "time",
        short: 'T',
        flag: T::TIME,
    },
];

/// The inode of our own namespace of `kind` and the target's; `None` for
/// a kind the kernel does not have. Ours is read through the host's procfs
/// handle: `/proc` itself may already be the container's.
fn inodes(h: &Handoff, kind: &Kind) -> Result<Option<(u64, u64)>> {
    let own = match rustix::fs::statat(
        &h.hostproc,
        format!("thread-self/ns/{}", kind.file),
        AtFlags::empty(),
    ) {
        Ok(st) => st,
        Err(rustix::io::Errno::NOENT) => return Ok(None),
        Err(e) => {
            return Err(crate::error::Error::sys(
                format_args!("stat /proc/thread-self/ns/{}", kind.file),
                e,
            ))
        }
    };
    let theirs = rustix::fs::statat(&h.target.dir, format!("ns/{}", kind.file), AtFlags::empty())
        .ctx(format_args!("stat /proc/{}/ns/{}", h.target.pid, kind.file))?;
    Ok(Some((own.st_ino, theirs.st_ino)))
}

/// Whether the target's namespace of `kind` is not ours.
pub fn differs(h: &Handoff, kind: &Kind) -> Result<bool> {
    Ok(inodes(h, kind)?.is_some_and(|(a, b)| a != b))
}

/// The namespaces in `wanted` that the target does not share with us.
/// Joining a shared user namespace would fail with EINVAL, and a shared one
/// of any other kind is a no-op, so they are left out.
pub fn differing(h: &Handoff, wanted: T) -> Result<T> {
    let mut join = T::empty();
    for kind in KINDS.iter().filter(|k| wanted.contains(k.flag)) {
        if differs(h, kind)? {
            join |= kind.flag;
        }
    }
    Ok(join)
}

/// Joins the target's namespaces in `join` with one `setns(pidfd, flags)`
/// (setns(2)); the kernel joins the user namespace first.
pub fn enter(h: &Handoff, join: T) -> Result<()> {
    if join.is_empty() {
        return Ok(());
    }
    rustix::thread::move_into_thread_name_spaces(h.target.pidfd.as_fd(), join).map_err(|e| {
        let names: Vec<&str> = KINDS
            .iter()
            .filter(|k| join.contains(k.flag))
            .map(|k| k.file)
            .collect();
        crate::error::Error::sys(
            format_args!("enter {} namespaces of {}", names.join(","), h.target.pid),
            e,
        )
    })
}
