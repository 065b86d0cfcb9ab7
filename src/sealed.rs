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
//! namespace with a program still to run, cntr execs itself again through
//! a read-only bind mount of its own binary: detached (in no mount
//! namespace, so nobody sees it, and gone with the last process running
//! from it), and a write through any `/proc/PID/exe` of the processes that
//! run from it fails with EROFS.
//!
//! runc's answer, a sealed in-memory copy, costs a copy of the binary and
//! page faults on fresh pages: 0.9 ms per exec here, against 0.4 ms for
//! the bind. Attach needs neither: it runs only host programs.

use crate::error::{Context, Error, Result};
use crate::handoff::{Handoff, SEALED as VAR};
use rustix::fd::{AsFd, AsRawFd};
use rustix::fs::{Mode, OFlags};
use std::ffi::OsString;

/// Returns when this process runs from the read-only bind a re-exec made;
/// otherwise makes one and execs through it with `argv` (whose first word
/// is the applet to go on with) and the handoff in `CNTR_FDS`, and returns
/// only on failure.
pub fn ensure(argv: &[OsString], h: &Handoff) -> Result<()> {
    // Our binary, through the host's procfs (`/proc` may be the
    // container's already): the same path any /proc/PID/exe gives.
    let exe = rustix::fs::openat(
        &h.hostproc,
        "self/exe",
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ctx("open cntr's own binary")?;
    let read_only = rustix::fs::fstatvfs(&exe)
        .ctx("stat cntr's own binary")?
        .f_flag
        .contains(rustix::fs::StatVfsMountFlags::RDONLY);
    // Only a bind made here counts: a mount that is read-only now (a
    // read-only /usr, say) may be made writable by the host later, while
    // the container still holds a path to the binary.
    if std::env::var_os(VAR).is_some_and(|v| v == "1") {
        if read_only {
            return Ok(());
        }
        return Err(Error::new(
            "cntr's binary is still writable after its re-exec through a read-only bind",
        ));
    }
    let ro = rustix::mount::open_tree(
        &exe,
        "",
        rustix::mount::OpenTreeFlags::OPEN_TREE_CLONE
            | rustix::mount::OpenTreeFlags::OPEN_TREE_CLOEXEC
            | rustix::mount::OpenTreeFlags::AT_EMPTY_PATH,
    )
    .ctx("bind cntr's own binary")?;
    // Private as well: the bind stays in no peer group of the host's.
    crate::sys::mount_setattr_tree(
        &ro,
        rustix::mount::MountAttrFlags::MOUNT_ATTR_RDONLY,
        rustix::mount::MountAttrFlags::empty(),
        crate::sys::MS_PRIVATE,
    )
    .ctx("make the bind of cntr's binary read-only")?;
    drop(exe);

    let mut env = crate::handoff::caller_env();
    let mut var = format!("{}=", crate::handoff::VAR).into_bytes();
    var.extend_from_slice(std::os::unix::ffi::OsStrExt::as_bytes(
        h.export()?.as_os_str(),
    ));
    env.push(var);
    env.push(format!("{VAR}=1").into_bytes());
    crate::trace!("re-exec through a read-only bind of the binary");
    Err(crate::exec::exec_fd(ro.as_fd().as_raw_fd(), argv, &env))
}
