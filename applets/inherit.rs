//! `cntr-inherit`: takes on the target's cgroup, supplementary groups, gid,
//! uid, capability sets, no_new_privs, LSM label and environment, then
//! execs PROG with fds 0, 1 and 2 only. The last link of a chain: it reads
//! the whole handoff and hands nothing on.

use crate::{help, Link};
use cntr::error::{Context, Error, Result};
use cntr::handoff::Handoff;
use rustix::fd::AsFd;
use std::ffi::OsString;

const USAGE: &str = "\
Usage: cntr-inherit [--no-env] [--apparmor auto|off] PROG [ARGS...]
Take on the target's cgroup, credentials and environment, then run PROG with only fds 0, 1 and 2.

      --no-env             keep the current environment instead of the container's
      --apparmor auto|off  apply the target's AppArmor/SELinux label (auto), or not
  -t, --target TARGET      resolve TARGET (name, id or PID) instead of using the handoff
      --type TYPES         resolvers to try for --target (see cntr-resolve)
  -h, --help               show this help
When PROG runs with the host's root (attach), it runs in the host's user
namespace as the target's uid and gid, with CAP_SYS_PTRACE added (see cntr(1),
SECURITY), and of the container's environment it gets only HOSTNAME and locale
names; PATH, HOME, SHELL, USER, LOGNAME and the locale are the caller's.
";

pub fn main(args: Vec<OsString>, h: Option<Handoff>) -> Result<u8> {
    let (mut no_env, mut lsm) = (false, true);
    let Some(link) = Link::parse(args, false, |opt, p| {
        if opt.is('\0', "no-env") {
            no_env = true;
        } else if opt.is('\0', "apparmor") {
            lsm = match p.value()?.to_str() {
                Some("auto") => true,
                Some("off") => false,
                _ => return Err(Error::usage("--apparmor takes auto or off")),
            };
        } else {
            return Ok(false);
        }
        Ok(true)
    })?
    else {
        return help(USAGE);
    };
    let (h, rest) = (link.handoff(h)?, link.rest);
    let host_rooted = host_rooted(&h)?;
    let caller = cntr::env::caller_public();
    // The environment is read before the credentials change: afterwards
    // the target's /proc/PID/environ may no longer be readable.
    let env = if no_env {
        caller
    } else {
        let raw = h.target.read("environ", cntr::env::ENVIRON_LIMIT)?;
        let complete = raw.len() < cntr::env::ENVIRON_LIMIT;
        let tty = [
            rustix::stdio::stdin(),
            rustix::stdio::stdout(),
            rustix::stdio::stderr(),
        ]
        .into_iter()
        .any(rustix::termios::isatty);
        cntr::env::build(cntr::env::parse(&raw, complete), host_rooted, &caller, tty)
    };
    // A credential change clears the parent-death signal; keep the one
    // cntr-nsenter set.
    let pdeath =
        rustix::process::parent_process_death_signal().ctx("read the parent-death signal")?;
    let parent = rustix::process::getppid();
    let creds = cntr::cred::choose(&h, host_rooted)?;
    let label = if lsm {
        cntr::cred::lsm_label(&h.target)?
    } else {
        None
    };
    cntr::cgroup::join(&h.cgroups)?;
    cntr::cred::apply(&creds)?;
    // The label last: the LSM may forbid what comes before it.
    if let Some(label) = label {
        cntr::cred::set_exec_label(h.hostproc.as_fd(), &label)?;
    }
    cntr::sys::pause("credentials");
    if pdeath.is_some() {
        rustix::process::set_parent_process_death_signal(pdeath)
            .ctx("set the parent-death signal")?;
        if rustix::process::getppid() != parent {
            return Err(Error::new("cntr exited during set-up"));
        }
    }
    if crate::lookup(&rest[0]).is_some() {
        return crate::next(rest, Some(h), false);
    }
    let path = cntr::env::get(&env, b"PATH")
        .unwrap_or(cntr::env::DEFAULT_PATH)
        .to_vec();
    // Nothing but 0, 1 and 2 reaches the command: not the handoff, not
    // what the caller leaked to cntr.
    Err(crate::foreign(&rest, &env, &path, Some(h), false))
}

/// Whether the command will run with a root that is not the container's
/// (the attach session): then the door and environment rules apply.
fn host_rooted(h: &Handoff) -> Result<bool> {
    let ours = rustix::fs::stat("/").ctx("stat /")?;
    let theirs = rustix::fs::fstat(&h.root).ctx("stat the container's root")?;
    Ok((ours.st_dev, ours.st_ino) != (theirs.st_dev, theirs.st_ino))
}
