//! `cntr-resolve`: turns a container name, id or PID into one verified
//! process (pidfd, `/proc/PID` dir, root dir, cgroup.procs, host procfs)
//! and prints it, or runs the rest of the chain with that handoff. The
//! first link of every chain.

use crate::{help, next};
use cntr::error::{Error, Result};
use cntr::handoff::Handoff;
use cntr::proc::Process;
use std::ffi::OsString;

const USAGE: &str = "\
Usage: cntr-resolve [-t TYPES] [--json] [-k] TARGET [PROG [ARGS...]]
Resolve a container name, id or PID to one verified process; print it, or run PROG with the handoff.

  -t, --type TYPES  comma list of resolvers to try: process_id, podman, docker,
                    nspawn, lxc, lxd, containerd, kubernetes, command
      --json        print one JSON object per line instead of the PID
  -k, --keep-fds    hand the fds on even when PROG is not a cntr applet
  -h, --help        show this help
";

struct Opts {
    types: Option<OsString>,
    json: bool,
    keep: bool,
    target: OsString,
    rest: Vec<OsString>,
}

fn parse(args: Vec<OsString>) -> Result<Option<Opts>> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(args);
    let (mut types, mut json, mut keep) = (None, false, false);
    while let Some(arg) = p.next()? {
        match arg {
            Short('t') | Long("type") => types = Some(p.value()?),
            Long("json") => json = true,
            Short('k') | Long("keep-fds") => keep = true,
            Short('h') | Long("help") => return Ok(None),
            Value(target) => {
                let rest = p.raw_args()?.collect();
                return Ok(Some(Opts {
                    types,
                    json,
                    keep,
                    target,
                    rest,
                }));
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    Err(Error::usage("missing target"))
}

pub fn main(args: Vec<OsString>, _h: Option<Handoff>) -> Result<u8> {
    let Some(o) = parse(args)? else {
        return help(USAGE);
    };
    let proc = cntr::engine::resolve(o.types.as_deref(), &o.target)?;
    if o.rest.is_empty() {
        let line = if o.json {
            json(&proc)?
        } else {
            proc.pid.to_string()
        };
        println!("{line}");
        return Ok(0);
    }
    next(o.rest, Some(Handoff::open(proc)?), o.keep)
}

/// The JSON line for `--json`: what resolution learned.
fn json(p: &Process) -> Result<String> {
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
    Ok(format!(
        "{{\"pid\":{},\"engine\":\"process_id\",\"id\":\"{}\",\"name\":\"{}\",\"namespaces\":{{{}}},\"cgroup\":[{}]}}",
        p.pid,
        p.pid,
        p.pid,
        ns.join(","),
        cgroups.join(",")
    ))
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
