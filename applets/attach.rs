//! `cntr attach`: a shell (or CMD) in the container's namespaces, cgroup,
//! credentials and environment, with the host's `/` and the container's
//! tree at the base dir. It runs the chain
//!
//! ```text
//! cntr-resolve [--seccomp] [--tools SRC] TARGET [cntr-pty] cntr-nsenter --all-but-mount --no-user cntr-mount-tree [-w DIR] cntr-inherit [-u USER] [-e KEY=VALUE]... CMD
//! ```
//!
//! in this process; `-n` prints that chain instead. `cntr exec` shares
//! this front end with another chain.

use crate::link::{help, next, stdio_ttys};
use cntr::error::{Error, Result};
use cntr::handoff::Handoff;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

const USAGE: &str = "\
Usage: cntr attach [OPTIONS] TARGET [-- CMD [ARGS...]]
Run the host's $SHELL (or CMD) inside the container's namespaces, with the container's files at the base dir.

@OPTIONS@      --tools SRC          make the tools tree SRC the session's / instead of the
                           host's: a directory, container:NAME or image:REF (a
                           docker or podman image); writes to it go with the
                           session; CMD defaults to sh, found with its PATH
The base dir is $CNTR_BASE_DIR, else /var/lib/cntr.
";

/// The options of attach and exec, which differ in their defaults only
/// (`@WORKDIR@`, `@SECCOMP@`).
const OPTIONS: &str =
    "  -u, --user USER[:GROUP]  run as USER of the container (name or uid) instead
                           of the target's credentials
  -w, --workdir DIR        @WORKDIR@
  -e, --env KEY[=VALUE]    set KEY for CMD (without =VALUE: the caller's value)
      --env-file FILE      read KEY=VALUE lines from FILE, as docker does
  -t, --type TYPES         comma list of resolvers to try: @TYPES@
      --owner USER         also find USER's rootless podman containers
      --seccomp on|off     @SECCOMP@
      --apparmor auto|off  take on the target's AppArmor/SELinux label, or not
  -n, --dry-run            print the applet chain instead of running it
      --trace              print one line per step on stderr, with the
                           microseconds since the start (also CNTR_TRACE=1)
  -h, --help               show this help
";

/// A front end's usage text: its head (with `@OPTIONS@`) and the options
/// as `mode` takes them.
pub fn usage(head: &str, mode: Mode) -> String {
    let (workdir, seccomp) = match mode {
        Mode::Attach => (
            "start in the container's DIR (shown under the base\n                           dir); default: the base dir",
            "apply the target's seccomp filter to CMD (default:\n                           off: CMD is a host tool)",
        ),
        Mode::Exec => (
            "start in DIR; default: the target's working directory",
            "apply the target's seccomp filter to CMD (default: on)",
        ),
    };
    let options = OPTIONS
        .replace("@WORKDIR@", workdir)
        .replace("@SECCOMP@", seccomp);
    head.replace("@OPTIONS@", &options)
}

/// Which front end.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Attach,
    Exec,
}

pub fn main(args: Vec<OsString>, h: Option<Handoff>) -> Result<u8> {
    front(args, h, Mode::Attach, USAGE)
}

#[derive(Default)]
struct Opts {
    types: Option<OsString>,
    owner: Option<String>,
    user: Option<OsString>,
    workdir: Option<OsString>,
    env: Vec<OsString>,
    seccomp: Option<bool>,
    lsm_off: bool,
    tools: Option<OsString>,
    trace: bool,
    dry_run: bool,
    target: OsString,
    cmd: Vec<OsString>,
}

fn parse(args: Vec<OsString>, mode: Mode) -> Result<Option<Opts>> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(args);
    let mut o = Opts::default();
    let mut target = None::<OsString>;
    while let Some(arg) = p.next()? {
        match arg {
            Short('t') | Long("type") => o.types = Some(crate::link::types(p.value()?)?),
            Long("owner") => o.owner = Some(crate::link::owner(p.value()?)?),
            Short('u') | Long("user") => {
                let v = p.value()?;
                if v.is_empty() {
                    return Err(Error::usage("--user takes USER[:GROUP]"));
                }
                o.user = Some(v);
            }
            Short('w') | Long("workdir") => o.workdir = Some(crate::link::workdir(p.value()?)?),
            Short('e') | Long("env") => o.env.extend(crate::link::env_entry(p.value()?, true)?),
            Long("env-file") => {
                let f = p.value()?;
                o.env.extend(env_file(&f)?);
            }
            Long("seccomp") => {
                o.seccomp = Some(match p.value()?.to_str() {
                    Some("on") => true,
                    Some("off") => false,
                    _ => return Err(Error::usage("--seccomp takes on or off")),
                })
            }
            Long("apparmor") => {
                o.lsm_off = match p.value()?.to_str() {
                    Some("auto") => false,
                    Some("off") => true,
                    _ => return Err(Error::usage("--apparmor takes auto or off")),
                }
            }
            Long("tools") if mode == Mode::Attach => {
                let v = p.value()?;
                cntr::tools::parse(&v)?;
                o.tools = Some(v);
            }
            Long("tools") => {
                return Err(Error::usage(
                    "--tools is attach's: exec runs the container's own programs",
                ))
            }
            Short('n') | Long("dry-run") => o.dry_run = true,
            Long("trace") => o.trace = true,
            Short('h') | Long("help") => return Ok(None),
            Value(v) if target.is_none() => {
                target = Some(v);
                // `TARGET -- CMD`: everything after `--` is the command,
                // verbatim. Options may still follow TARGET otherwise.
                let mut raw = p.raw_args()?;
                if raw.peek().is_some_and(|a| a == "--") {
                    raw.next();
                    o.cmd.extend(raw);
                }
            }
            Value(v) => {
                o.cmd.push(v);
                o.cmd.extend(p.raw_args()?);
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    o.target = target.ok_or_else(|| Error::usage("missing target"))?;
    Ok(Some(o))
}

/// The entries of an env file, as `docker --env-file` reads one: a
/// `KEY=VALUE` or `KEY` per line, taken as they are (no quotes, no
/// expansion), empty lines and lines starting with `#` skipped. At most
/// 1 MiB is read.
fn env_file(path: &OsStr) -> Result<Vec<OsString>> {
    let shown = path.to_string_lossy();
    let data = rustix::fs::open(
        path,
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .and_then(|fd| cntr::proc::read_fd(&fd, 1 << 20))
    .map_err(|e| Error::sys(format_args!("read env file {shown}"), e))?;
    let mut out = Vec::new();
    for line in data.split(|&c| c == b'\n') {
        let line = line.trim_ascii_start();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        out.extend(crate::link::env_entry(
            OsString::from_vec(line.to_vec()),
            true,
        )?);
    }
    Ok(out)
}

/// Parses the front end's command line, builds the chain and runs it.
pub fn front(args: Vec<OsString>, h: Option<Handoff>, mode: Mode, head: &str) -> Result<u8> {
    let Some(o) = parse(args, mode)? else {
        return help(&usage(head, mode));
    };
    drop(h);
    // cntr-pty joins the chain when any of 0, 1, 2 is a terminal: none may
    // reach the command (see cntr-pty).
    let tty = stdio_ttys().contains(&true);
    let chain = chain(&o, mode, tty);
    if o.trace && !o.dry_run {
        cntr::trace::start();
        cntr::trace!("start");
    }
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
    if let Some(u) = &o.owner {
        c.extend([w("--owner"), w(u)]);
    }
    // exec runs the container's own programs, under the container's
    // filter as docker exec does; attach runs the host's tools, which
    // the container's filter was not written for.
    if o.seccomp.unwrap_or(mode == Mode::Exec) {
        c.push(w("--seccomp"));
    }
    // The tools tree is built here, in the host's namespaces, where its
    // resolvers may run (see cntr-mount-tree).
    if let Some(t) = &o.tools {
        c.extend([w("--tools"), t.clone()]);
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
    // The user namespace is not joined by attach: see cntr(1), SECURITY.
    // The mount tree is built after the PID namespace is joined, so that
    // the waiting parent stays in the host's mount namespace and a fresh
    // procfs, if needed, is the container's.
    let (enter, root): (&[&str], &str) = match mode {
        Mode::Attach => (&["--all-but-mount", "--no-user"], "cntr-mount-tree"),
        Mode::Exec => (&["--all"], "cntr-chroot-exec"),
    };
    c.push(w("cntr-nsenter"));
    c.extend(enter.iter().map(|s| w(s)));
    c.push(w(root));
    if let Some(d) = &o.workdir {
        c.extend([w("-w"), d.clone()]);
    }
    c.push(w("cntr-inherit"));
    if let Some(u) = &o.user {
        c.extend([w("-u"), u.clone()]);
    }
    for e in &o.env {
        c.extend([w("-e"), e.clone()]);
    }
    if o.lsm_off {
        c.extend([w("--apparmor"), w("off")]);
    }
    let cmd = if o.cmd.is_empty() {
        vec![match mode {
            // The caller's shell is a host path; a tools tree has its own.
            Mode::Attach if o.tools.is_some() => w("sh"),
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
