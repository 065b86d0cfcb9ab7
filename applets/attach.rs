//! `cntr attach`: a shell (or CMD) in the container's namespaces, cgroup,
//! credentials and environment, with the host's `/` and the container's
//! tree at the base dir. It runs the chain
//!
//! ```text
//! cntr-resolve TARGET [cntr-pty] cntr-nsenter --all-but-mount --no-user cntr-mount-tree cntr-inherit CMD
//! ```
//!
//! in this process; `-n` prints that chain instead. `cntr exec` shares
//! this front end with another chain.

use crate::{help, next};
use cntr::error::{Error, Result};
use cntr::handoff::Handoff;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

const USAGE: &str = "\
Usage: cntr attach [-t TYPES] [-u USER] [--apparmor auto|off] [-n|--dry-run] TARGET [-- CMD [ARGS...]]
Run the host's $SHELL (or CMD) inside the container's namespaces, with the container's files at the base dir.

  -u, --user USER      also find USER's rootless podman containers (name or uid)
  -t, --type TYPES     comma list of resolvers to try: process_id, podman, docker,
                       nspawn, lxc, lxd, containerd, kubernetes, runc, command
      --apparmor MODE  auto: take on the target's AppArmor/SELinux label; off: do not
  -n, --dry-run        print the applet chain instead of running it
  -h, --help           show this help
The base dir is $CNTR_BASE_DIR, else /var/lib/cntr.
";

/// Which front end.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Attach,
    Exec,
}

pub fn main(args: Vec<OsString>, h: Option<Handoff>) -> Result<u8> {
    front(args, h, Mode::Attach, USAGE)
}

struct Opts {
    types: Option<OsString>,
    user: Option<OsString>,
    lsm_off: bool,
    dry_run: bool,
    target: OsString,
    cmd: Vec<OsString>,
}

fn parse(args: Vec<OsString>) -> Result<Option<Opts>> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(args);
    let (mut types, mut lsm_off, mut dry_run, mut target) = (None, false, false, None::<OsString>);
    let mut user = None;
    let mut cmd = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Short('t') | Long("type") => {
                let v = p.value()?;
                cntr::engine::parse_types(&v)?;
                types = Some(v);
            }
            Short('u') | Long("user") => user = Some(p.value()?),
            Long("apparmor") => {
                lsm_off = match p.value()?.to_str() {
                    Some("auto") => false,
                    Some("off") => true,
                    _ => return Err(Error::usage("--apparmor takes auto or off")),
                }
            }
            Short('n') | Long("dry-run") => dry_run = true,
            Short('h') | Long("help") => return Ok(None),
            Value(v) if target.is_none() => {
                target = Some(v);
                // `TARGET -- CMD`: everything after `--` is the command,
                // verbatim. Options may still follow TARGET otherwise.
                let mut raw = p.raw_args()?;
                if raw.peek().is_some_and(|a| a == "--") {
                    raw.next();
                    cmd.extend(raw);
                }
            }
            Value(v) => {
                cmd.push(v);
                cmd.extend(p.raw_args()?);
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    let target = target.ok_or_else(|| Error::usage("missing target"))?;
    Ok(Some(Opts {
        types,
        user,
        lsm_off,
        dry_run,
        target,
        cmd,
    }))
}

/// Parses the front end's command line, builds the chain and runs it.
pub fn front(args: Vec<OsString>, h: Option<Handoff>, mode: Mode, usage: &str) -> Result<u8> {
    let Some(o) = parse(args)? else {
        return help(usage);
    };
    drop(h);
    // cntr-pty joins the chain when any of 0, 1, 2 is a terminal: none may
    // reach the command (see cntr-pty).
    let tty = [
        rustix::stdio::stdin(),
        rustix::stdio::stdout(),
        rustix::stdio::stderr(),
    ]
    .into_iter()
    .any(rustix::termios::isatty);
    let chain = chain(&o, mode, tty);
    if o.dry_run {
        let words: Vec<String> = chain.iter().map(|w| shell_quote(w.as_bytes())).collect();
        cntr::error::say(&words.join(" "))?;
        return Ok(0);
    }
    next(chain, None, false)
}

/// The applet chain for `mode`.
fn chain(o: &Opts, mode: Mode, tty: bool) -> Vec<OsString> {
    let w = |s: &str| OsString::from(s);
    let mut c = vec![w("cntr-resolve")];
    if let Some(t) = &o.types {
        c.extend([w("-t"), t.clone()]);
    }
    if let Some(u) = &o.user {
        c.extend([w("-u"), u.clone()]);
    }
    if o.target.as_bytes().starts_with(b"-") {
        c.push(w("--"));
    }
    c.push(o.target.clone());
    if tty {
        c.push(w("cntr-pty"));
        // exec's command lives in the container: give it a terminal of the
        // container's own devpts, as docker exec -t does. attach's session
        // is rooted in the host and gets one of the host's.
        if mode == Mode::Exec {
            c.extend([w("--ptmx"), w("container")]);
        }
    }
    match mode {
        // The user namespace is not joined: see cntr(1), SECURITY. The
        // mount tree is built after the PID namespace is joined, so that
        // the waiting parent stays in the host's mount namespace and a
        // fresh procfs, if needed, is the container's.
        Mode::Attach => c.extend([
            w("cntr-nsenter"),
            w("--all-but-mount"),
            w("--no-user"),
            w("cntr-mount-tree"),
            w("cntr-inherit"),
        ]),
        Mode::Exec => c.extend([
            w("cntr-nsenter"),
            w("--all"),
            w("cntr-chroot-exec"),
            w("cntr-inherit"),
        ]),
    }
    if o.lsm_off {
        c.extend([w("--apparmor"), w("off")]);
    }
    let cmd = if o.cmd.is_empty() {
        vec![match mode {
            Mode::Attach => std::env::var_os("SHELL")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| w("/bin/sh")),
            Mode::Exec => w("/bin/sh"),
        }]
    } else {
        o.cmd.clone()
    };
    if cmd[0].as_bytes().starts_with(b"-") {
        c.push(w("--"));
    }
    c.extend(cmd);
    c
}

/// Quotes a word for a POSIX shell, only when it needs it.
fn shell_quote(b: &[u8]) -> String {
    let plain = !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"-_./,:=+@%".contains(c));
    let s = String::from_utf8_lossy(b);
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
