//! `cntr-inherit`: takes on the target's cgroup, supplementary groups, gid,
//! uid, capability sets, no_new_privs, LSM label and environment, then
//! execs PROG with fds 0, 1 and 2 only. The last link of a chain: it reads
//! the whole handoff and hands nothing on.

use crate::link::{help, stdio_ttys, Link};
use cntr::error::{Context, Error, Result};
use cntr::handoff::Handoff;
use rustix::fd::AsFd;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

const USAGE: &str = "\
Usage: cntr-inherit [-u USER[:GROUP]] [-e KEY=VALUE]... [--no-env] [--apparmor auto|off] PROG [ARGS...]
Take on the target's cgroup, credentials and environment, then run PROG with only fds 0, 1 and 2.

  -u, --user USER[:GROUP]  run as USER (name or uid, from the container's
                           /etc/passwd and /etc/group) instead of the target
  -e, --env KEY=VALUE      set KEY in PROG's environment, after every other rule
      --no-env             keep the current environment instead of the container's
      --apparmor auto|off  apply the target's AppArmor/SELinux label (auto), or not
  -t, --target TARGET      resolve TARGET (name, id or PID) instead of using the handoff
      --type TYPES         resolvers to try for --target (see cntr-resolve)
      --owner USER         whose rootless podman containers --target also finds
  -h, --help               show this help
When PROG runs with the host's root (attach), it runs in the host's user
namespace as the target's uid and gid, with CAP_SYS_PTRACE added (see cntr(1),
SECURITY), and of the container's environment it gets only HOSTNAME and locale
names; PATH, HOME, SHELL, USER, LOGNAME and the locale are the caller's.
The target's seccomp filters, when the handoff carries them (cntr-resolve
--seccomp), are installed before the credentials change.
";

pub fn main(args: Vec<OsString>, h: Option<Handoff>) -> Result<u8> {
    let (mut no_env, mut lsm) = (false, true);
    let mut user: Option<OsString> = None;
    let mut set_env: Vec<Vec<u8>> = Vec::new();
    let Some(link) = Link::parse(args, false, |opt, p| {
        if opt.is('u', "user") {
            user = Some(p.value()?);
        } else if opt.is('e', "env") {
            set_env.extend(crate::link::env_entry(p.value()?, false)?.map(OsStringExt::into_vec));
        } else if opt.is('\0', "no-env") {
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
    let (mut h, rest) = (link.handoff(h)?, link.rest);
    let host_rooted = host_rooted(&h)?;
    let user = match &user {
        Some(spec) => Some(container_user(&h, spec.as_bytes())?),
        None => None,
    };
    let caller = cntr::handoff::caller_env();
    // The environment is read before the credentials change: afterwards
    // the target's /proc/PID/environ may no longer be readable.
    let mut env = if no_env {
        caller
    } else {
        let raw = h.target.read("environ", cntr::env::ENVIRON_LIMIT)?;
        let complete = raw.len() < cntr::env::ENVIRON_LIMIT;
        let tty = stdio_ttys().contains(&true);
        cntr::env::build(cntr::env::parse(&raw, complete), host_rooted, &caller, tty)
    };
    // Another user's home, as docker exec -u sets it; the session's is
    // the caller's, where the host's tools keep their settings.
    if let (Some(u), false, false) = (&user, host_rooted, no_env) {
        cntr::env::set(&mut env, b"HOME", u.home.as_deref().unwrap_or(b"/"));
    }
    for e in &set_env {
        cntr::env::set(
            &mut env,
            cntr::env::key(e),
            &e[cntr::env::key(e).len() + 1..],
        );
    }
    let filters = match &h.seccomp {
        Some(fd) => Some(cntr::seccomp::Filters::from_memfd(fd)?),
        None => None,
    };
    // A credential change clears the parent-death signal; keep the one
    // cntr-nsenter set.
    let pdeath =
        rustix::process::parent_process_death_signal().ctx("read the parent-death signal")?;
    let parent = rustix::process::getppid();
    let creds = cntr::cred::choose(&h, host_rooted, user.as_ref())?;
    cntr::trace!("credentials chosen");
    let label = if lsm {
        cntr::cred::lsm_label(&h.target)?
    } else {
        None
    };
    cntr::cgroup::join(&h.cgroups)?;
    cntr::trace!("cgroups joined");
    // Before the credentials change, as runc does: without no_new_privs,
    // installing a filter needs CAP_SYS_ADMIN. What follows (setgroups,
    // setresuid, capset, prctl, close_range, execve) must pass it, as it
    // must for any engine.
    // The daemons' answers, if the target was pinned without them: read
    // before the filter and the credentials, which may forbid it.
    h.settle()?;
    if let Some(f) = &filters {
        f.install()?;
    }
    cntr::cred::apply(&creds)?;
    cntr::trace!("credentials set");
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
        return crate::link::next(rest, Some(h), false);
    }
    let path = cntr::env::get(&env, b"PATH")
        .unwrap_or(cntr::env::DEFAULT_PATH)
        .to_vec();
    // Nothing but 0, 1 and 2 reaches the command: not the handoff, not
    // what the caller leaked to cntr.
    Err(cntr::handoff::run_foreign(
        &rest,
        &env,
        &path,
        Some(h),
        false,
    ))
}

/// The user `-u` names, from the container's `/etc/passwd` and
/// `/etc/group` (read as checked regular files, confined to its root; a
/// missing file is an empty one, as for docker).
fn container_user(h: &Handoff, spec: &[u8]) -> Result<cntr::passwd::User> {
    let read = |name: &str| match cntr::root::read_file(
        h.root.as_fd(),
        h.hostproc.as_fd(),
        &format!("etc/{name}"),
        4 << 20,
    ) {
        Ok(b) => Ok(Some(b)),
        Err(cntr::root::Refusal::Missing) => Ok(None),
        Err(r) => Err(Error::new(format!(
            "unable to read the container's /etc/{name}: {}",
            r.describe()
        ))),
    };
    let (passwd, group) = (read("passwd")?, read("group")?);
    cntr::passwd::resolve(spec, passwd.as_deref(), group.as_deref())
}

/// Whether the command will run with a root that is not the container's
/// (the attach session): then the door and environment rules apply.
fn host_rooted(h: &Handoff) -> Result<bool> {
    let ours = rustix::fs::stat("/").ctx("stat /")?;
    let theirs = rustix::fs::fstat(&h.root).ctx("stat the container's root")?;
    Ok((ours.st_dev, ours.st_ino) != (theirs.st_dev, theirs.st_ino))
}
