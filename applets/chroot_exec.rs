//! `cntr-chroot-exec`: enters the container's root from the handed root fd
//! and runs PROG, found through the container's `PATH` inside the
//! container. Reads the handoff's root (and the target's environment for
//! its `PATH`); adds nothing.

use crate::link::{help, next, Link};
use cntr::error::{Context, Error, Result};
use cntr::handoff::Handoff;
use rustix::fd::OwnedFd;
use rustix::fs::{Mode, OFlags};
use std::ffi::OsString;

const USAGE: &str = "\
Usage: cntr-chroot-exec [-w DIR] PROG [ARGS...]
Change root to the container's root, change to the target's working directory (or DIR), and run PROG found with the container's PATH.

  -w, --workdir DIR    start PROG in DIR, an absolute path in the container;
                       default: the target's working directory, else /
  -t, --target TARGET  resolve TARGET (name, id or PID) instead of using the handoff
      --type TYPES     resolvers to try for --target (see cntr-resolve)
      --owner USER     whose rootless podman containers --target also finds
  -k, --keep-fds       hand the fds on even when PROG is not a cntr applet
  -h, --help           show this help
";

pub fn main(args: Vec<OsString>, h: Option<Handoff>) -> Result<u8> {
    let mut workdir = None;
    let Some(link) = Link::parse(args, true, |opt, p| {
        if !opt.is('w', "workdir") {
            return Ok(false);
        }
        workdir = Some(crate::link::workdir(p.value()?)?);
        Ok(true)
    })?
    else {
        return help(USAGE);
    };
    let (h, keep, rest) = (link.handoff(h)?, link.keep, link.rest);
    // PROG comes from the container: go on from a read-only bind of
    // cntr's binary (see cntr::sealed).
    let mut argv: Vec<OsString> = vec!["cntr-chroot-exec".into()];
    if keep {
        argv.push("-k".into());
    }
    if let Some(dir) = &workdir {
        argv.extend(["-w".into(), dir.clone()]);
    }
    argv.push("--".into());
    argv.extend(rest.iter().cloned());
    cntr::sealed::ensure(&argv, &h)?;
    cntr::trace!("running from the read-only binary");
    // Read the container's PATH while the target's /proc is still at hand
    // (it is, through the fd, but reading early keeps the order plain).
    let environ = h.target.read("environ", cntr::env::ENVIRON_LIMIT)?;
    let complete = environ.len() < cntr::env::ENVIRON_LIMIT;
    let ct_env = cntr::env::parse(&environ, complete);
    let path = cntr::env::get(&ct_env, b"PATH")
        .unwrap_or(cntr::env::DEFAULT_PATH)
        .to_vec();

    // The target's working directory, as docker exec starts in the
    // image's WORKDIR: opened now, entered once inside the new root.
    let theirs = rustix::fs::openat(
        &h.target.dir,
        "cwd",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok();
    rustix::process::fchdir(&h.root).ctx("change to the container's root")?;
    rustix::process::chroot(".").ctx("change root to the container's root")?;
    rustix::process::chdir("/").ctx("change to /")?;
    cntr::trace!("changed root");
    // After chroot, getcwd must say "/": anything else means the working
    // directory is outside the new root, and paths would escape it.
    let cwd = rustix::process::getcwd(Vec::new()).ctx("get the working directory")?;
    if cwd.as_bytes() != b"/" {
        return Err(Error::new(format!(
            "working directory {} is outside the container's root",
            cwd.to_string_lossy()
        )));
    }
    match &workdir {
        Some(dir) => {
            // Symlinks on the way resolve within the new root.
            rustix::process::chdir(dir.as_os_str()).ctx(format_args!(
                "change to the container's {}",
                dir.to_string_lossy()
            ))?;
        }
        None => target_cwd(theirs)?,
    }
    if crate::lookup(&rest[0]).is_some() {
        return next(rest, Some(h), keep);
    }
    Err(cntr::handoff::run_foreign(
        &rest,
        &cntr::handoff::caller_env(),
        &path,
        Some(h),
        keep,
    ))
}

/// Enters the target's working directory `dir` (opened before the
/// chroot) if it lies inside the new root, where it is the same directory
/// the target works in; else stays at `/`. A directory outside the root (a
/// target whose cwd is elsewhere) or gone makes getcwd(3) fail or answer
/// `(unreachable)`: then back to `/`.
fn target_cwd(dir: Option<OwnedFd>) -> Result<()> {
    let Some(dir) = dir else {
        return Ok(());
    };
    if rustix::process::fchdir(&dir).is_err() {
        return Ok(());
    }
    let inside = rustix::process::getcwd(Vec::new()).is_ok_and(|c| c.as_bytes().starts_with(b"/"));
    if !inside {
        rustix::process::chdir("/").ctx("change to /")?;
    }
    Ok(())
}
