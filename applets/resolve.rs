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
      --json        print one JSON object per line instead of the PID
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
    }
    out.push('}');
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
