//! `cntr-resolve`: turns a container name, id or PID into one verified
//! process (pidfd, `/proc/PID` dir, root dir, cgroup join files and v2
//! directory, host procfs)
//! and prints it, or runs the rest of the chain with that handoff. The
//! first link of every chain.

use crate::link::{help, next};
use cntr::engine::json::quote;
use cntr::engine::Found;
use cntr::error::{Error, Result};
use cntr::handoff::Handoff;
use cntr::proc::Process;
use std::ffi::OsString;

const USAGE: &str = "\
Usage: cntr-resolve [-t TYPES] [--owner USER] [--seccomp] [--tools SRC] [--json] [-k] TARGET [PROG [ARGS...]] | --list [--json]
Resolve a container name, id or PID to one verified process; print it, or run PROG with the handoff.

  -t, --type TYPES  comma list of resolvers to try: @TYPES@
      --owner USER  also find USER's rootless podman containers (name or uid)
      --seccomp     copy the target's seccomp filters into the handoff, for
                    cntr-inherit to apply (the target stops for microseconds)
      --tools SRC   build the tools tree SRC (DIR, container:NAME or image:REF)
                    into the handoff, for cntr-mount-tree to make the
                    session's root (see cntr-mount-tree)
      --json        print one JSON object per line instead of the PID, with
                    what is known of the door of an attach session
                    (door_closed, ptrace_holders: see cntr(1), SECURITY)
      --list        list the running containers the engines know:
                    ENGINE NAME ID PID, one per line
  -k, --keep-fds    hand the fds on even when PROG is not a cntr applet
  -h, --help        show this help
";

#[derive(Default)]
struct Opts {
    types: Option<OsString>,
    owner: Option<String>,
    seccomp: bool,
    tools: Option<OsString>,
    json: bool,
    keep: bool,
    list: bool,
    target: OsString,
    rest: Vec<OsString>,
}

fn parse(args: Vec<OsString>) -> Result<Option<Opts>> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(args);
    let mut o = Opts::default();
    while let Some(arg) = p.next()? {
        match arg {
            Short('t') | Long("type") => o.types = Some(crate::link::types(p.value()?)?),
            Long("owner") => o.owner = Some(crate::link::owner(p.value()?)?),
            Short('u') | Long("user") => return Err(Error::usage(
                "cntr-resolve has no --user: the owner of rootless podman containers is --owner",
            )),
            Long("seccomp") => o.seccomp = true,
            Long("tools") => o.tools = Some(p.value()?),
            Long("json") => o.json = true,
            Long("list") => o.list = true,
            Short('k') | Long("keep-fds") => o.keep = true,
            Short('h') | Long("help") => return Ok(None),
            Value(target) => {
                o.target = target;
                o.rest = p.raw_args()?.collect();
                return Ok(Some(o));
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    if o.list {
        return Ok(Some(o));
    }
    Err(Error::usage("missing target"))
}

pub fn main(args: Vec<OsString>, _h: Option<Handoff>) -> Result<u8> {
    let Some(o) = parse(args)? else {
        return help(USAGE);
    };
    if o.list {
        if !o.target.is_empty() || o.keep || o.seccomp || o.tools.is_some() {
            return Err(Error::usage(
                "--list takes no target, no --keep-fds, no --seccomp and no --tools",
            ));
        }
        let types = match &o.types {
            Some(t) => cntr::engine::parse_types(t)?,
            None => cntr::engine::defaults(),
        };
        for f in cntr::engine::list(&types, o.owner.as_deref())? {
            let line = if o.json {
                json(&f, None)?
            } else {
                format!("{} {} {} {}", f.engine.name, f.name, f.id, f.pid)
            };
            cntr::error::say(&line)?;
        }
        return Ok(0);
    }
    if o.tools.is_some() && o.rest.is_empty() {
        return Err(Error::usage(
            "--tools goes with PROG: it builds a tree for the chain",
        ));
    }
    let q = cntr::engine::Query {
        types: o.types.as_deref(),
        owner: o.owner.as_deref(),
        target: &o.target,
    };
    if o.rest.is_empty() {
        let r = cntr::engine::resolve(&q)?;
        let filters = if o.seccomp {
            copy_seccomp(&r.process)?
        } else {
            None
        };
        let line = if o.json {
            let mut j = json(&r.found, Some(&r.process))?;
            if let Some((f, stopped)) = &filters {
                j.pop();
                j.push_str(&format!(
                    ",\"seccomp\":{{\"filters\":{},\"instructions\":{},\"stopped_us\":{}}}}}",
                    f.0.len(),
                    f.0.iter().map(Vec::len).sum::<usize>(),
                    stopped.as_micros()
                ));
            }
            j
        } else {
            r.process.pid.to_string()
        };
        cntr::error::say(&line)?;
        return Ok(0);
    }
    let mut h = Handoff::resolve(&q)?;
    if o.seccomp {
        if let Some((f, _)) = copy_seccomp(&h.target)? {
            h.seccomp = Some(f.to_memfd()?);
            cntr::trace!("seccomp filters copied");
        }
    }
    if let Some(src) = &o.tools {
        cntr::tools::hand(&mut h, src, &q)?;
        cntr::trace!("tools tree built");
    }
    next(o.rest, Some(h), o.keep)
}

/// The target's seccomp filters, and how long it was stopped to read them;
/// `None` when it has none. Filters that hand system calls to a listener
/// are refused here, before the chain does anything.
fn copy_seccomp(p: &Process) -> Result<Option<(cntr::seccomp::Filters, std::time::Duration)>> {
    let status = p.status().map_err(|e| {
        match cntr::sys::pidfd_signal(rustix::fd::AsFd::as_fd(&p.pidfd), 0) {
            Ok(()) => e,
            Err(_) => Error::new(format!("process {} exited", p.pid)),
        }
    })?;
    match status.seccomp {
        0 => return Ok(None),
        2 => {}
        _ => {
            return Err(Error::new(format!(
                "process {} runs in strict seccomp mode, which no command can run under",
                p.pid
            )))
        }
    }
    let (f, stopped) = cntr::seccomp::read(rustix::fd::AsFd::as_fd(&p.pidfd), p.pid)?;
    f.check_no_notify()?;
    Ok((!f.0.is_empty()).then_some((f, stopped)))
}

/// The JSON line for `--json`: what resolution learned.
fn json(f: &Found, p: Option<&Process>) -> Result<String> {
    let mut out = format!("{{{}", f.json_fields());
    if let Some(p) = p {
        let mut ns = Vec::new();
        for kind in &cntr::ns::KINDS {
            if let Ok(st) = rustix::fs::statat(
                &p.dir,
                format!("ns/{}", kind.file),
                rustix::fs::AtFlags::empty(),
            ) {
                ns.push(format!("\"{}\":{}", kind.file, st.st_ino));
            }
        }
        let cgroup = p.read("cgroup", 64 * 1024)?;
        let cgroups: Vec<String> = cgroup
            .split(|&c| c == b'\n')
            .filter(|l| !l.is_empty())
            .map(quote)
            .collect();
        out.push_str(&format!(
            ",\"namespaces\":{{{}}},\"cgroup\":[{}]",
            ns.join(","),
            cgroups.join(",")
        ));
        out.push_str(&door(p)?);
    }
    out.push('}');
    Ok(out)
}

/// What is provable about an attach session's door (cntr(1), SECURITY):
/// whether the user namespace that owns the target's PID namespace is the
/// host's, how many tasks its PID namespace holds, which of them can hold
/// CAP_SYS_PTRACE over the host's user namespace (and so reach into a
/// session), and whether that list is empty: then none of them, nor any
/// process they start, ever can.
fn door(p: &Process) -> Result<String> {
    use rustix::fd::AsFd;
    let hostproc = rustix::fs::open(
        "/proc",
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| Error::sys("open /proc", e))?;
    let pidns = rustix::fs::openat(
        &p.dir,
        "ns/pid",
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| Error::sys(format_args!("open the PID namespace of {}", p.pid), e))?;
    let owner = cntr::sys::ns_ioctl(pidns.as_fd(), cntr::sys::NS_GET_USERNS)
        .and_then(|fd| rustix::fs::fstat(&fd))
        .map_err(|e| Error::sys("find the owner of the PID namespace", e))?
        .st_ino;
    let host = cntr::pidns::ns_inode(hostproc.as_fd(), "thread-self/ns/user")?;
    let mut out = format!(
        ",\"pidns_owner\":{}",
        quote(if owner == host { b"host" } else { b"own" })
    );
    match cntr::cred::survey(p, hostproc.as_fd()) {
        Ok(s) => {
            let tracers: Vec<String> = s
                .tracers
                .iter()
                .map(|t| {
                    format!(
                        "{{\"pid\":{},\"tid\":{},\"comm\":{}}}",
                        t.pid,
                        t.tid,
                        quote(t.comm.as_bytes())
                    )
                })
                .collect();
            out.push_str(&format!(
                ",\"tasks\":{},\"ptrace_holders\":[{}],\"door_closed\":{}",
                s.tasks,
                tracers.join(","),
                s.tracers.is_empty()
            ));
        }
        // An older kernel cannot make a procfs of another PID namespace
        // from here: say that nothing is known rather than fail.
        Err(e) => out.push_str(&format!(
            ",\"door_closed\":null,\"survey_error\":{}",
            quote(e.message().as_bytes())
        )),
    }
    Ok(out)
}
