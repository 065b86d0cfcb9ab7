//! `cntr-chroot-exec`: enters the container's root from the handed root fd
//! and runs PROG, found through the container's `PATH` inside the
//! container. Reads the handoff's root (and the target's environment for
//! its `PATH`); adds nothing.

use crate::{help, next, Link};
use cntr::error::{Context, Error, Result};
use cntr::handoff::Handoff;
use std::ffi::OsString;

const USAGE: &str = "\
Usage: cntr-chroot-exec PROG [ARGS...]
Change root to the container's root, change to /, and run PROG found with the container's PATH.

  -t, --target TARGET  resolve TARGET (name, id or PID) instead of using the handoff
      --type TYPES     resolvers to try for --target (see cntr-resolve)
  -k, --keep-fds       hand the fds on even when PROG is not a cntr applet
  -h, --help           show this help
";

pub fn main(args: Vec<OsString>, h: Option<Handoff>) -> Result<u8> {
    let Some(link) = Link::parse(args, true, |_, _| Ok(false))? else {
        return help(USAGE);
    };
    let (h, keep, rest) = (link.handoff(h)?, link.keep, link.rest);
    // PROG comes from the container: go on from a read-only bind of
    // cntr's binary (see cntr::sealed).
    let mut argv: Vec<OsString> = vec!["cntr-chroot-exec".into()];
    if keep {
        argv.push("-k".into());
    }
    argv.push("--".into());
    argv.extend(rest.iter().cloned());
    cntr::sealed::ensure(&argv, &h)?;
    // Read the container's PATH while the target's /proc is still at hand
    // (it is, through the fd, but reading early keeps the order plain).
    let environ = h.target.read("environ", cntr::env::ENVIRON_LIMIT)?;
    let complete = environ.len() < cntr::env::ENVIRON_LIMIT;
    let ct_env = cntr::env::parse(&environ, complete);
    let path = cntr::env::get(&ct_env, b"PATH")
        .unwrap_or(cntr::env::DEFAULT_PATH)
        .to_vec();

    rustix::process::fchdir(&h.root).ctx("change to the container's root")?;
    rustix::process::chroot(".").ctx("change root to the container's root")?;
    rustix::process::chdir("/").ctx("change to /")?;
    // After chroot, getcwd must say "/": anything else means the working
    // directory is outside the new root, and paths would escape it.
    let cwd = rustix::process::getcwd(Vec::new()).ctx("get the working directory")?;
    if cwd.as_bytes() != b"/" {
        return Err(Error::new(format!(
            "working directory {} is outside the container's root",
            cwd.to_string_lossy()
        )));
    }
    if crate::lookup(&rest[0]).is_some() {
        return next(rest, Some(h), keep);
    }
    Err(crate::foreign(
        &rest,
        &cntr::env::caller_public(),
        &path,
        Some(h),
        keep,
    ))
}
