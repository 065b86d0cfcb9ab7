//! `cntr-resolve`: turns a container name, id or PID into one verified
//! process (pidfd, `/proc/PID` dir, root dir, cgroup join files and v2
//! directory, host procfs)
//! and prints it, or runs the rest of the chain with that handoff. The
//! first link of every chain.

use crate::{help, next};
use cntr::engine::Found;
use cntr::error::{Error, Result};
use cntr::handoff::Handoff;
use cntr::proc::Process;
use std::ffi::OsString;

const USAGE: &str = "\
Usage: cntr-resolve [-t TYPES] [-u USER] [--json] [-k] TARGET [PROG [ARGS...]] | --list [--json]
Resolve a container name, id or PID to one verified process; print it, or run PROG with the handoff.

  -u, --user USER   also find USER's rootless podman containers (name or uid)
  -t, --type TYPES  comma list of resolvers to try: process_id, podman, docker,
                    nspawn, lxc, lxd, containerd, kubernetes, runc, command
      --json        print one JSON object per line instead of the PID, with
                    what is known of the door of an attach session
                    (door_closed, ptrace_holders: see cntr(1), SECURITY)
      --list        list the running containers the engines know:
                    ENGINE NAME ID PID, one per line
  -k, --keep-fds    hand the fds on even when PROG is not a cntr applet
  -h, --help        show this help
";

struct Opts {
    types: Option<OsString>,
    json: bool,
    keep: bool,
    list: bool,
    target: OsString,
    rest: Vec<OsString>,
}

fn parse(args: Vec<OsString>) -> Result<Option<Opts>> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(args);
    let (mut types, mut json, mut keep, mut list) = (None, false, false, false);
    while let Some(arg) = p.next()? {
        match arg {
            Short('t') | Long("type") => {
                // Every list is checked, not only the one that counts.
                let v = p.value()?;
                cntr::engine::parse_types(&v)?;
                types = Some(v);
            }
            Short('u') | Long("user") => {
                let u = p.value()?;
                let u = u
                    .to_str()
                    .ok_or_else(|| Error::usage("--user must be UTF-8"))?;
                cntr::engine::podman::set_user(u)?;
            }
            Long("json") => json = true,
            Long("list") => list = true,
            Short('k') | Long("keep-fds") => keep = true,
            Short('h') | Long("help") => return Ok(None),
            Value(target) => {
                let rest = p.raw_args()?.collect();
                return Ok(Some(Opts {
                    types,
                    json,
                    keep,
                    list,
                    target,
                    rest,
                }));
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    if list {
        return Ok(Some(Opts {
            types,
            json,
            keep,
            list,
            target: OsString::new(),
            rest: Vec::new(),
        }));
    }
    Err(Error::usage("missing target"))
}

pub fn main(args: Vec<OsString>, _h: Option<Handoff>) -> Result<u8> {
    let Some(o) = parse(args)? else {
        return help(USAGE);
    };
    if o.list {
        if !o.target.is_empty() || o.keep {
            return Err(Error::usage("--list takes no target and no --keep-fds"));
        }
        let types = match &o.types {
            Some(t) => cntr::engine::parse_types(t)?,
            None => cntr::engine::DEFAULT.to_vec(),
        };
        for f in cntr::engine::list(&types)? {
            let line = if o.json {
                json(&f, None)?
            } else {
                format!("{} {} {} {}", f.engine.name(), f.name, f.id, f.pid)
            };
            cntr::error::say(&line)?;
        }
        return Ok(0);
    }
    let r = cntr::engine::resolve(o.types.as_deref(), &o.target)?;
    if o.rest.is_empty() {
        let line = if o.json {
            json(&r.found, Some(&r.process))?
        } else {
            r.process.pid.to_string()
        };
        cntr::error::say(&line)?;
        return Ok(0);
    }
    next(o.rest, Some(Handoff::open(r.process)?), o.keep)
}

/// The JSON line for `--json`: what resolution learned.
fn json(f: &Found, p: Option<&Process>) -> Result<String> {
    let mut out = format!(
        "{{\"pid\":{},\"engine\":{},\"id\":{},\"name\":{}",
        f.pid,
        quote(f.engine.name().as_bytes()),
        quote(f.id.as_bytes()),
        quote(f.name.as_bytes())
    );
    for (k, v) in &f.extra {
        out.push_str(&format!(",{}:{}", quote(k.as_bytes()), quote(v.as_bytes())));
    }
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

/// A JSON string literal of arbitrary bytes (invalid UTF-8 replaced).
fn quote(b: &[u8]) -> String {
    let mut out = String::from("\"");
    for c in String::from_utf8_lossy(b).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
