//! `cntr-nsenter`: joins the target's namespaces with one `setns` on its
//! pidfd, then runs the rest of the chain. A new PID or time namespace
//! applies only to children, so then it forks: the child goes on in the
//! container's namespaces, the parent waits, relays signals and exits with
//! the child's status. Reads the handoff (or resolves `-t TARGET`).

use crate::link::{help, next, Link, Opt};
use cntr::error::{Context, Error, Result};
use cntr::handoff::Handoff;
use cntr::ns::KINDS;
use cntr::sys::{self, sig_bit, SigSet};
use rustix::fd::AsFd;
use rustix::thread::ThreadNameSpaceType as T;
use std::ffi::OsString;

const USAGE: &str = "\
Usage: cntr-nsenter [OPTIONS] PROG [ARGS...]
Join the target's namespaces and run PROG there, forking when the PID or time namespace changes.

  -m, --mount          mount namespace
  -u, --uts            UTS namespace (hostname)
  -i, --ipc            IPC namespace
  -n, --net            network namespace
  -p, --pid            PID namespace
  -C, --cgroup         cgroup namespace
  -U, --user           user namespace
  -T, --time           time namespace
  -a, --all            every namespace
      --all-but-mount  every namespace but the mount namespace
      --no-NS          leave namespace NS out (e.g. --no-user, with --all)
  -t, --target TARGET  resolve TARGET (name, id or PID) instead of using the handoff
      --type TYPES     resolvers to try for --target (see cntr-resolve)
      --owner USER     whose rootless podman containers --target also finds
  -k, --keep-fds       hand the fds on even when PROG is not a cntr applet
  -h, --help           show this help
Namespaces the target shares with cntr are skipped.
";

/// Parses the command line: the namespaces to join, and the link.
fn parse(args: Vec<OsString>) -> Result<Option<(T, Link)>> {
    let all = KINDS.iter().fold(T::empty(), |a, k| a | k.flag);
    let (mut add, mut remove) = (T::empty(), T::empty());
    let link = Link::parse(args, true, |opt, _| {
        let kind = |name: &str| KINDS.iter().find(|k| k.option == name).map(|k| k.flag);
        match opt {
            _ if opt.is('a', "all") => add |= all,
            _ if opt.is('\0', "all-but-mount") => add |= all - T::MOUNT,
            Opt::Short(c) => match KINDS.iter().find(|k| k.short == *c) {
                Some(k) => add |= k.flag,
                None => return Ok(false),
            },
            Opt::Long(name) => match (kind(name), name.strip_prefix("no-").and_then(kind)) {
                (Some(f), _) => add |= f,
                (None, Some(f)) => remove |= f,
                (None, None) => return Ok(false),
            },
        }
        Ok(true)
    })?;
    Ok(link.map(|l| (add - remove, l)))
}

/// Signals the waiting parent passes on to the child.
const FORWARD: [i32; 9] = [
    sys::SIGHUP,
    sys::SIGINT,
    sys::SIGQUIT,
    sys::SIGUSR1,
    sys::SIGUSR2,
    sys::SIGALRM,
    sys::SIGTERM,
    sys::SIGCONT,
    sys::SIGWINCH,
];

pub fn main(args: Vec<OsString>, h: Option<Handoff>) -> Result<u8> {
    let Some((wanted, o)) = parse(args)? else {
        return help(USAGE);
    };
    let h = o.handoff(h)?;
    // Whether to re-exec first: the other kinds are compared once, after.
    if cntr::ns::differing(&h, wanted & T::MOUNT)?.contains(T::MOUNT) {
        // PROG will be found in the container's root: go on from a
        // read-only bind of cntr's binary (see cntr::sealed), with the
        // same namespaces and the handoff instead of the target.
        let mut argv: Vec<OsString> = vec!["cntr-nsenter".into()];
        argv.extend(
            KINDS
                .iter()
                .filter(|k| wanted.contains(k.flag))
                .map(|k| format!("--{}", k.option).into()),
        );
        if o.keep {
            argv.push("-k".into());
        }
        argv.push("--".into());
        argv.extend(o.rest.iter().cloned());
        cntr::sealed::ensure(&argv, &h)?;
    }
    let join = cntr::ns::differing(&h, wanted)?;
    if !join.intersects(T::PROCESS_ID | T::TIME) {
        cntr::ns::enter(&h, join)?;
        cntr::trace!("joined {join:?}");
        cntr::sys::pause("joined");
        return next(o.rest, Some(h), o.keep);
    }
    // The child is forked straight into the target's cgroup v2 (see
    // cntr::cgroup). The kernel checks that against our user and cgroup
    // namespaces, which must still be the host's: those two are joined
    // by the child.
    let late = join & (T::USER | T::CONTROL_GROUP);
    cntr::ns::enter(&h, join - late)?;
    cntr::trace!("joined {:?}", join - late);
    cntr::sys::pause("forking");
    let set: SigSet = FORWARD
        .iter()
        .fold(sig_bit(sys::SIGCHLD), |s, &n| s | sig_bit(n));
    // Block before forking so that no signal meant for the child is lost
    // between fork and the parent's first wait.
    let old = sys::block_signals(set).ctx("block signals")?;
    // cntr needs Linux 5.12+, where clone3 with CLONE_INTO_CGROUP always
    // exists: a failure is the cgroup refusing the child (at its pids.max,
    // busy with child cgroups, gone), which no later write to cgroup.procs
    // would overcome: a plain fork would only move the failure to the last
    // link's write, after the session has started in the container's
    // namespaces, and pay the slow lock that clone3 avoids.
    let in_cgroup = h.cgroup2dir.is_some();
    let fork = match &h.cgroup2dir {
        Some(d) => sys::fork_into(d.as_fd())
            .ctx(format_args!("fork into the cgroup of {}", h.target.pid))?,
        // No cgroup v2 to fork into: the last link joins the v1 ones.
        None => sys::fork().ctx("fork")?,
    };
    match fork {
        sys::Fork::Child => {
            let mut h = h;
            if in_cgroup {
                h.cgroups.retain(|f| !cntr::cgroup::is_v2(f));
                h.cgroup2dir = None;
            }
            // The child dies with the parent (kill -9 of cntr must not
            // leave a session running in the container).
            let parent = rustix::process::getppid();
            rustix::process::set_parent_process_death_signal(
                rustix::process::Signal::from_named_raw(sys::SIGKILL),
            )
            .ctx("set the parent-death signal")?;
            if rustix::process::getppid() != parent {
                return Err(Error::new("cntr exited during set-up"));
            }
            cntr::trace!("forked into the PID namespace");
            cntr::ns::enter(&h, late)?;
            cntr::trace!("joined {late:?}");
            cntr::sys::pause("joined");
            sys::set_signal_mask(old).ctx("restore the signal mask")?;
            next(o.rest, Some(h), o.keep)
        }
        sys::Fork::Parent(child) => {
            // The parent stays outside the container's PID namespace and
            // needs none of the target's fds, nor any the caller leaked:
            // one close_range for them all, not a close per handoff fd
            // first (the child often shares this CPU while it sets up).
            std::mem::forget(h);
            sys::close_all_but(&[]).ctx("close fds")?;
            wait_child(child, set)
        }
    }
}

/// Waits for `child`, forwarding signals, following its stops as
/// nsenter(1) does, and returns its exit status (128+N for signal N).
pub fn wait_child(child: i32, set: SigSet) -> Result<u8> {
    use rustix::process::{Pid, WaitOptions};
    let sfd = sys::signalfd(set).ctx("create a signalfd")?;
    let pid = Pid::from_raw(child).ok_or_else(|| Error::new("bad child pid"))?;
    loop {
        // Reap first: the child may already be gone before any signal.
        while let Some((_, st)) =
            rustix::process::waitpid(Some(pid), WaitOptions::NOHANG | WaitOptions::UNTRACED)
                .ctx("wait for the child")?
        {
            if let Some(code) = st.exit_status() {
                cntr::trace!("child exited");
                return Ok(code as u8);
            }
            if let Some(sig) = st.terminating_signal() {
                cntr::trace!("child killed");
                return Ok(128u8.wrapping_add(sig as u8));
            }
            if st.stopped() {
                // The child stopped: stop as well, so that the shell sees
                // the job stop; resume it when we are resumed.
                let _ = rustix::process::kill_process(
                    rustix::process::getpid(),
                    rustix::process::Signal::STOP,
                );
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::CONT);
            }
        }
        let sig = sys::read_signal(&sfd).ctx("read a signal")?;
        if sig != sys::SIGCHLD {
            if let Some(s) = rustix::process::Signal::from_named_raw(sig) {
                let _ = rustix::process::kill_process(pid, s);
            }
        }
    }
}
