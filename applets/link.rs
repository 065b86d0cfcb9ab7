//! The chain protocol every link speaks: its command line ([`Link`]:
//! options, then PROG and its arguments, passed on verbatim), and running
//! the next link ([`next`]): in this same process when it is a cntr
//! applet, exec'd otherwise (through [`cntr::handoff::run_foreign`]).

use cntr::error::{Context, Error, Result};
use cntr::handoff::Handoff;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

/// Runs the next link of a chain: `args[0]` in this process if it is a
/// cntr applet, else exec'd with the caller's environment, found through
/// its `PATH`. The handoff goes with it only to an applet, or when `keep`
/// asks to hand it to a foreign program (`-k`).
pub fn next(args: Vec<OsString>, h: Option<Handoff>, keep: bool) -> Result<u8> {
    let Some(first) = args.first() else {
        return Err(Error::usage("missing program"));
    };
    if let Some(applet) = crate::lookup(first) {
        return crate::run(applet, args[1..].to_vec(), h);
    }
    let env = cntr::handoff::caller_env();
    let path = cntr::env::get(&env, b"PATH")
        .unwrap_or(cntr::env::DEFAULT_PATH)
        .to_vec();
    Err(cntr::handoff::run_foreign(&args, &env, &path, h, keep))
}

/// An option as the applet-specific part of a link's parser sees it.
pub enum Opt {
    Short(char),
    Long(String),
}

impl Opt {
    /// Whether this is `-s` or `--long`.
    pub fn is(&self, short: char, long: &str) -> bool {
        match self {
            Opt::Short(c) => *c == short,
            Opt::Long(l) => l == long,
        }
    }
}

/// The command line of a chain link: its options, then PROG and its
/// arguments, passed on verbatim. Every link that can start a chain alone
/// takes `-t/--target TARGET` and `--type TYPES`; `-k/--keep-fds` where
/// `keep` says it may run a foreign PROG.
#[derive(Default)]
pub struct Link {
    pub target: Option<OsString>,
    pub types: Option<OsString>,
    pub owner: Option<String>,
    pub keep: bool,
    pub rest: Vec<OsString>,
}

impl Link {
    /// Parses `args`; `own` takes the applet's own options and returns
    /// false for one it does not know. `None` means `--help`.
    pub fn parse(
        args: Vec<OsString>,
        keep: bool,
        mut own: impl FnMut(&Opt, &mut lexopt::Parser) -> Result<bool>,
    ) -> Result<Option<Link>> {
        // One body for every applet (through `dyn`), not one copy each.
        Link::parse_dyn(args, keep, &mut own)
    }

    fn parse_dyn(
        args: Vec<OsString>,
        keep: bool,
        own: &mut dyn FnMut(&Opt, &mut lexopt::Parser) -> Result<bool>,
    ) -> Result<Option<Link>> {
        let mut p = lexopt::Parser::from_args(args);
        let mut l = Link::default();
        while let Some(arg) = p.next()? {
            let opt = match arg {
                lexopt::Arg::Value(prog) => {
                    if (l.types.is_some() || l.owner.is_some()) && l.target.is_none() {
                        return Err(Error::usage("--type and --owner go with --target"));
                    }
                    l.rest.push(prog);
                    l.rest.extend(p.raw_args()?);
                    return Ok(Some(l));
                }
                lexopt::Arg::Short(c) => Opt::Short(c),
                lexopt::Arg::Long(s) => Opt::Long(s.to_string()),
            };
            if opt.is('h', "help") {
                return Ok(None);
            } else if opt.is('t', "target") {
                l.target = Some(p.value()?);
            } else if opt.is('\0', "owner") {
                l.owner = Some(owner(p.value()?)?);
            } else if opt.is('\0', "type") {
                l.types = Some(types(p.value()?)?);
            } else if keep && opt.is('k', "keep-fds") {
                l.keep = true;
            } else if !own(&opt, &mut p)? {
                return Err(Error::usage(match opt {
                    Opt::Short(c) => format!("invalid option '-{c}'"),
                    Opt::Long(s) => format!("invalid option '--{s}'"),
                }));
            }
        }
        Err(Error::usage("missing program"))
    }

    /// The target: resolved from `--target` if given, else the handoff.
    pub fn handoff(&self, h: Option<Handoff>) -> Result<Handoff> {
        // (`--type` without `--target` was refused by the parser.)
        match (&self.target, h) {
            (Some(t), _) => Handoff::resolve(&cntr::engine::Query {
                types: self.types.as_deref(),
                owner: self.owner.as_deref(),
                target: t,
            }),
            (None, Some(h)) => Ok(h),
            (None, None) => Err(Error::usage(
                "no target: give --target or run under cntr-resolve",
            )),
        }
    }
}

/// A `-w/--workdir` value: an absolute path in the container.
pub fn workdir(v: OsString) -> Result<OsString> {
    if !v.as_bytes().starts_with(b"/") {
        return Err(Error::usage(format!(
            "--workdir takes an absolute path in the container, not '{}'",
            v.to_string_lossy()
        )));
    }
    Ok(v)
}

/// Prints an applet's usage text for `--help`, with the names of the
/// resolvers (from `cntr::engine::ENGINES`) where it says `@TYPES@`.
/// Which of 0, 1, 2 is a terminal. cntr-pty replaces every one that is;
/// cntr attach adds cntr-pty to the chain and cntr-inherit keeps TERM
/// only when one is.
pub fn stdio_ttys() -> [bool; 3] {
    [0, 1, 2].map(|fd| {
        // SAFETY: 0, 1 and 2 are open: the runtime opens /dev/null on any
        // that is not before an applet runs.
        rustix::termios::isatty(unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) })
    })
}

pub fn help(usage: &str) -> Result<u8> {
    cntr::sys::write_all(rustix::stdio::stdout(), fill_types(usage).as_bytes())
        .ctx("write help")?;
    Ok(0)
}

/// `usage` with `@TYPES@` replaced by the resolvers' names, wrapped at 80
/// columns under where the placeholder stood.
fn fill_types(usage: &str) -> String {
    let mut out = String::new();
    for line in usage.split_inclusive('\n') {
        let Some(at) = line.find("@TYPES@") else {
            out.push_str(line);
            continue;
        };
        // Continued lines start where the option's description does.
        let lead = line.len() - line.trim_start().len();
        let indent = line[lead..at].find("  ").map_or(at, |i| {
            lead + i + line[lead + i..].len() - line[lead + i..].trim_start().len()
        });
        let mut cur = line[..at].to_string();
        let names: Vec<&str> = cntr::engine::ENGINES.iter().map(|e| e.name).collect();
        for (i, name) in names.iter().enumerate() {
            let comma = if i + 1 < names.len() { "," } else { "" };
            if i > 0 {
                if cur.len() + 1 + name.len() + comma.len() > 80 {
                    out.push_str(&cur);
                    out.push('\n');
                    cur = " ".repeat(indent);
                } else {
                    cur.push(' ');
                }
            }
            cur.push_str(name);
            cur.push_str(comma);
        }
        out.push_str(&cur);
        out.push_str(&line[at + "@TYPES@".len()..]);
    }
    out
}

/// A `-t/--type` value, checked as it is read: every list given is
/// checked, not only the one that counts.
pub fn types(v: OsString) -> Result<OsString> {
    cntr::engine::parse_types(&v)?;
    Ok(v)
}

/// An `--owner` value: a user of the host with rootless podman
/// containers (see `cntr::engine::podman::check_owner`).
pub fn owner(v: OsString) -> Result<String> {
    let v = v
        .into_string()
        .map_err(|_| Error::usage("--owner must be UTF-8"))?;
    cntr::engine::podman::check_owner(&v)?;
    Ok(v)
}

/// A `-e/--env` value as `KEY=VALUE`: a key that is not empty and holds
/// no white space. With `bare`, a `KEY` alone takes the caller's value,
/// and is left out (`None`) when the caller has none, as docker does;
/// without, it is an error.
pub fn env_entry(v: OsString, bare: bool) -> Result<Option<OsString>> {
    use std::os::unix::ffi::OsStringExt;
    let e = v.into_vec();
    let key = cntr::env::key(&e);
    let ok = !key.is_empty()
        && !key.iter().any(|c| c.is_ascii_whitespace())
        && (bare || key.len() < e.len());
    if !ok {
        let form = if bare {
            "KEY=VALUE or KEY"
        } else {
            "KEY=VALUE"
        };
        return Err(Error::usage(format!(
            "--env takes {form}, not '{}'",
            String::from_utf8_lossy(&e)
        )));
    }
    if key.len() < e.len() {
        return Ok(Some(OsString::from_vec(e)));
    }
    Ok(std::env::var_os(std::ffi::OsStr::from_bytes(key))
        .map(|v| OsString::from_vec([key, b"=", v.as_bytes()].concat())))
}
