//! Keeping the host's cntr binary out of the container's reach (the class
//! of runc's CVE-2019-5736).
//!
//! When cntr runs a program from the container's root, the kernel resolves
//! that program, its `#!` interpreter and its ELF interpreter while
//! `/proc/self/exe` is still cntr's own binary. A container that points
//! any of them at `/proc/self/exe` gets the host's binary started inside
//! it, with the container's credentials, and a path to that inode through
//! `/proc/PID/exe`: writable (to a root container) once the last cntr
//! process running it exits. So before joining a container's mount
//! namespace with a program still to run, cntr re-executes itself from a
//! sealed in-memory copy. The container can then reach only the copy,
//! which no one can write, and the copy dies with the session.
//!
//! It costs a copy of the binary and one more exec (see the README's
//! figures); attach needs none of it, since it runs only host programs.

use crate::error::{Context, Result};
use crate::handoff::Handoff;
use rustix::fd::{AsFd, AsRawFd};
use rustix::fs::{Mode, OFlags};
use std::ffi::OsString;

/// Whether `exe` sits on a read-only mount: then its path cannot be
/// opened for writing.
fn is_safe(exe: rustix::fd::BorrowedFd<'_>) -> bool {
    rustix::fs::fstatvfs(exe)
        .is_ok_and(|s| s.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY))
}

/// Returns when cntr runs from a binary no one can write through its
/// path; otherwise execs itself again through a read-only mount of its
/// binary, with `argv` (whose first word is the applet to go on with) and
/// the handoff in `CNTR_FDS`, and returns only on failure.
pub fn ensure(argv: &[OsString], h: &Handoff) -> Result<()> {
    // Our binary, through the host's procfs: `/proc` may be the
    // container's already.
    let exe = rustix::fs::openat(
        &h.hostproc,
        "self/exe",
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ctx("open cntr's own binary")?;
    if is_safe(exe.as_fd()) {
        return Ok(());
    }
    // A detached bind mount of the binary alone, made read-only: in no
    // namespace, so nobody sees it, and gone when the last process
    // running from it exits.
    let ro = rustix::mount::open_tree(
        &exe,
        "",
        rustix::mount::OpenTreeFlags::OPEN_TREE_CLONE
            | rustix::mount::OpenTreeFlags::OPEN_TREE_CLOEXEC
            | rustix::mount::OpenTreeFlags::AT_EMPTY_PATH,
    )
    .ctx("bind cntr's own binary")?;
    crate::sys::mount_setattr_tree(&ro, crate::sys::MOUNT_ATTR_RDONLY)
        .ctx("make the bind of cntr's binary read-only")?;
    drop(exe);

    let mut env = crate::env::caller();
    env.retain(|e| crate::env::key(e) != crate::handoff::VAR.as_bytes());
    let mut var = format!("{}=", crate::handoff::VAR).into_bytes();
    var.extend_from_slice(std::os::unix::ffi::OsStrExt::as_bytes(
        h.export()?.as_os_str(),
    ));
    env.push(var);
    Err(crate::exec::exec_fd(ro.as_fd().as_raw_fd(), argv, &env))
}
