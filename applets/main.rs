//! The cntr binary: the table of applets and the dispatch on the name the
//! binary was started under (`cntr-X`, busybox style) or on its first
//! argument (`cntr X`). Also the chain runner every applet ends with: the
//! next word of the command line runs in this same process when it is a
//! cntr applet, and is exec'd otherwise.

// cntr has its own C `main`: the binary may be linked on musl (see
// build.rs), and std's way of finding argv there is glibc's alone.
#![no_main]

mod attach;
mod chroot_exec;
mod completions;
mod exec;
mod inherit;
mod list;
mod mount_tree;
mod nsenter;
mod pty;
mod resolve;

use cntr::error::{self, Context, Error, Result};
use cntr::handoff::Handoff;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

const USAGE: &str = "\
Usage: cntr APPLET [ARGS...] | cntr --install DIR | cntr --version
Debug running containers with the host's tools.

Applets (also runnable as cntr-APPLET):
";

const VERSION: &str = env!("CARGO_PKG_VERSION");

type Main = fn(Vec<OsString>, Option<Handoff>) -> Result<u8>;

/// One applet: its name without the `cntr-` prefix, a one-line summary,
/// and its entry point.
struct Applet {
    name: &'static str,
    summary: &'static str,
    main: Main,
}

/// Every applet, sorted by name.
const APPLETS: &[Applet] = &[
    Applet {
        name: "attach",
        summary: "shell in the container's namespaces with the host's tools",
        main: attach::main,
    },
    Applet {
        name: "chroot-exec",
        summary: "enter the container's root and run a program found there",
        main: chroot_exec::main,
    },
    Applet {
        name: "completions",
        summary: "print the shell completion script for bash, zsh or fish",
        main: completions::main,
    },
    Applet {
        name: "exec",
        summary: "run the container's own command inside the container",
        main: exec::main,
    },
    Applet {
        name: "inherit",
        summary: "take on the target's cgroup, credentials and environment",
        main: inherit::main,
    },
    Applet {
        name: "list",
        summary: "list the running containers the engines know, as docker ps does",
        main: list::main,
    },
    Applet {
        name: "mount-tree",
        summary: "private mount namespace with the container's tree at the base dir",
        main: mount_tree::main,
    },
    Applet {
        name: "nsenter",
        summary: "join the target's namespaces",
        main: nsenter::main,
    },
    Applet {
        name: "pty",
        summary: "run the rest of the chain on a fresh pseudo-terminal and relay it",
        main: pty::main,
    },
    Applet {
        name: "resolve",
        summary: "turn a container name, id or PID into a verified process",
        main: resolve::main,
    },
];

/// The applet a chain word names: exactly `cntr-X`, no path.
fn lookup(word: &OsStr) -> Option<&'static Applet> {
    let name = word.as_bytes().strip_prefix(b"cntr-")?;
    APPLETS.iter().find(|a| a.name.as_bytes() == name)
}

/// Runs the next link of a chain: `args[0]` in this process if it is a
/// cntr applet, else exec'd. The handoff fds are closed by exec (they are
/// close-on-exec) and `CNTR_FDS` is removed, unless `keep` asks to hand
/// them to a foreign program.
pub fn next(args: Vec<OsString>, h: Option<Handoff>, keep: bool) -> Result<u8> {
    let Some(first) = args.first() else {
        return Err(Error::usage("missing program"));
    };
    if let Some(applet) = lookup(first) {
        return run(applet, args[1..].to_vec(), h);
    }
    let env = cntr::env::caller_public();
    let path = cntr::env::get(&env, b"PATH")
        .unwrap_or(cntr::env::DEFAULT_PATH)
        .to_vec();
    Err(foreign(&args, &env, &path, h, keep))
}

/// Runs a program that is not a cntr applet with `env`, found through
/// `path`, holding fds 0, 1 and 2 and, when `keep` asks for it, the
/// handoff's fds named in `CNTR_FDS`; nothing else. Every other fd is
/// closed before the search, not only marked close-on-exec: a `PATH`
/// entry such as `/proc/self/fd/N/` would resolve through a directory fd
/// that is still open during execve (runc's CVE-2024-21626). Returns only
/// on failure. The caller must own no fd but the handoff's.
pub fn foreign(
    args: &[OsString],
    env: &[Vec<u8>],
    path: &[u8],
    h: Option<Handoff>,
    keep: bool,
) -> Error {
    let mut env = env.to_vec();
    let mut fds = Vec::new();
    match h {
        Some(h) if keep => {
            let mut e = format!("{}=", cntr::handoff::VAR).into_bytes();
            match h.export() {
                Ok(v) => e.extend_from_slice(v.as_bytes()),
                Err(err) => return err,
            }
            env.push(e);
            fds = h.fds();
            // The fds stay open for the program: never closed by a drop.
            std::mem::forget(h);
        }
        h => drop(h),
    }
    if let Err(e) = cntr::sys::close_all_but(&fds) {
        return Error::sys("close inherited fds", e);
    }
    cntr::exec::exec(args, &env, path)
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
                let v = p.value()?;
                let v = v
                    .into_string()
                    .map_err(|_| Error::usage("--owner must be UTF-8"))?;
                cntr::engine::podman::check_owner(&v)?;
                l.owner = Some(v);
            } else if opt.is('\0', "type") {
                // Every list is checked, not only the one that counts.
                let v = p.value()?;
                cntr::engine::parse_types(&v)?;
                l.types = Some(v);
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

fn run(applet: &'static Applet, args: Vec<OsString>, h: Option<Handoff>) -> Result<u8> {
    error::set_applet(applet_name(applet));
    (applet.main)(args, h)
}

/// Runs the applet the binary was started as, with the handoff from the
/// environment (read only once the applet's name is set, for messages).
fn run_first(applet: &'static Applet, args: Vec<OsString>) -> Result<u8> {
    error::set_applet(applet_name(applet));
    // SAFETY: the fds CNTR_FDS names were inherited across exec, and
    // nothing in this process has opened an fd above 2 yet (stdio_open
    // fills only 0, 1 and 2) or touched one: they are ours to take.
    let h = unsafe { Handoff::from_env() }?;
    run(applet, args, h)
}

/// `cntr-NAME`, as a static string for message prefixes.
fn applet_name(a: &Applet) -> &'static str {
    match a.name {
        "attach" => "cntr-attach",
        "chroot-exec" => "cntr-chroot-exec",
        "completions" => "cntr-completions",
        "exec" => "cntr-exec",
        "inherit" => "cntr-inherit",
        "list" => "cntr-list",
        "mount-tree" => "cntr-mount-tree",
        "nsenter" => "cntr-nsenter",
        "pty" => "cntr-pty",
        _ => "cntr-resolve",
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

/// Prints an applet's usage text for `--help`.
pub fn help(usage: &str) -> Result<u8> {
    cntr::sys::write_all(rustix::stdio::stdout(), usage.as_bytes()).ctx("write help")?;
    Ok(0)
}

fn top(args: Vec<OsString>) -> Result<u8> {
    let argv0 = args.first().cloned().unwrap_or_default();
    let base = argv0
        .as_bytes()
        .rsplit(|&c| c == b'/')
        .next()
        .unwrap_or(b"");
    if let Some(applet) = lookup(OsStr::from_bytes(base)) {
        return run_first(applet, args[1..].to_vec());
    }
    let Some(first) = args.get(1) else {
        return Err(Error::usage("missing applet"));
    };
    let extra = |n: usize| match args.get(n) {
        Some(a) => Err(Error::usage(format!(
            "unexpected argument '{}'",
            a.to_string_lossy()
        ))),
        None => Ok(()),
    };
    match first.as_bytes() {
        b"-h" | b"--help" => {
            extra(2)?;
            let mut text = USAGE.to_string();
            for a in APPLETS {
                text.push_str(&format!("  {:<12} {}\n", a.name, a.summary));
            }
            help(&text)
        }
        b"-V" | b"--version" => {
            extra(2)?;
            cntr::error::say(&format!("cntr {VERSION}"))?;
            Ok(0)
        }
        b"--install" => {
            extra(3)?;
            install(
                args.get(2)
                    .ok_or_else(|| Error::usage("--install needs a directory"))?,
            )
        }
        name => {
            let applet = APPLETS
                .iter()
                .find(|a| {
                    a.name.as_bytes() == name || lookup(first).is_some_and(|b| b.name == a.name)
                })
                .ok_or_else(|| {
                    Error::usage(format!("unknown applet '{}'", first.to_string_lossy()))
                })?;
            run_first(applet, args[2..].to_vec())
        }
    }
}

/// `cntr --install DIR`: a `cntr-X` symlink to this binary for every
/// applet. An existing symlink is replaced; any other file is left alone
/// and reported. Everything is checked before anything is made, and links
/// made before a failure are removed again.
fn install(dir: &OsStr) -> Result<u8> {
    use rustix::fs::{AtFlags, FileType, CWD};
    if dir.is_empty() {
        return Err(Error::usage("--install needs a directory"));
    }
    let exe = rustix::fs::readlink("/proc/self/exe", Vec::new()).ctx("read /proc/self/exe")?;
    let mut links = Vec::new();
    for a in APPLETS {
        let mut link = dir.as_bytes().to_vec();
        link.extend_from_slice(format!("/cntr-{}", a.name).as_bytes());
        let shown = String::from_utf8_lossy(&link).into_owned();
        let replace = match rustix::fs::statat(CWD, link.as_slice(), AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Symlink => true,
            Ok(_) => return Err(Error::new(format!("{shown} exists and is not a symlink"))),
            Err(rustix::io::Errno::NOENT) => false,
            Err(e) => return Err(Error::sys(format_args!("create {shown}"), e)),
        };
        links.push((link, shown, replace));
    }
    let mut made: Vec<&[u8]> = Vec::new();
    let result = (|| {
        for (link, shown, replace) in &links {
            if *replace {
                // A new link renamed over the old one: the name never
                // goes missing, even when this fails halfway.
                let mut tmp = link.clone();
                tmp.extend_from_slice(b".new");
                let _ = rustix::fs::unlink(tmp.as_slice());
                rustix::fs::symlink(exe.as_c_str(), tmp.as_slice())
                    .ctx(format_args!("create {shown}"))?;
                if let Err(e) = rustix::fs::rename(tmp.as_slice(), link.as_slice()) {
                    let _ = rustix::fs::unlink(tmp.as_slice());
                    return Err(Error::sys(format_args!("replace {shown}"), e));
                }
            } else {
                rustix::fs::symlink(exe.as_c_str(), link.as_slice())
                    .ctx(format_args!("create {shown}"))?;
                made.push(link);
            }
        }
        Ok(0)
    })();
    if result.is_err() {
        for link in made {
            let _ = rustix::fs::unlink(link);
        }
    }
    result
}

/// Makes sure fds 0, 1 and 2 are open, on /dev/null if need be, so that
/// nothing cntr opens can land on them and be mistaken for stdio.
fn stdio_open() -> Result<()> {
    for fd in 0..3 {
        // SAFETY: the fd is only probed.
        let b = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) };
        if rustix::io::fcntl_getfd(b) == Err(rustix::io::Errno::BADF) {
            let null = rustix::fs::open(
                "/dev/null",
                rustix::fs::OFlags::RDWR,
                rustix::fs::Mode::empty(),
            )
            .ctx("open /dev/null")?;
            // The lowest free number is `fd`: keep it open for good.
            std::mem::forget(null);
        }
    }
    Ok(())
}

/// The unwinder's entry points, which the standard library refers to (for
/// backtraces and for unwinding, which cntr never does: it aborts on
/// panic and carries no unwind tables, see build.rs). Defined here, they
/// keep libgcc's unwinder (about 15 KiB) out of the binary; a backtrace
/// asked for with `RUST_BACKTRACE` comes out empty, as it did anyway.
#[cfg(musl_libc)]
mod no_unwinder {
    /// `_URC_END_OF_STACK`: there is no frame to walk.
    const END_OF_STACK: i32 = 5;
    type Ctx = *mut u8;

    #[no_mangle]
    pub extern "C" fn _Unwind_Backtrace(_trace: *mut u8, _arg: *mut u8) -> i32 {
        END_OF_STACK
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_RaiseException(_e: *mut u8) -> i32 {
        END_OF_STACK
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_Resume(_e: *mut u8) -> ! {
        std::process::abort()
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_DeleteException(_e: *mut u8) {}
    #[no_mangle]
    pub extern "C" fn _Unwind_GetIP(_c: Ctx) -> usize {
        0
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_GetIPInfo(_c: Ctx, before: *mut i32) -> usize {
        if !before.is_null() {
            // SAFETY: the caller passes a valid int pointer or null.
            unsafe { *before = 0 };
        }
        0
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_GetCFA(_c: Ctx) -> usize {
        0
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_FindEnclosingFunction(_pc: *mut u8) -> *mut u8 {
        std::ptr::null_mut()
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_GetLanguageSpecificData(_c: Ctx) -> *mut u8 {
        std::ptr::null_mut()
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_GetRegionStart(_c: Ctx) -> usize {
        0
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_GetTextRelBase(_c: Ctx) -> usize {
        0
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_GetDataRelBase(_c: Ctx) -> usize {
        0
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_SetGR(_c: Ctx, _i: i32, _v: usize) {}
    #[no_mangle]
    pub extern "C" fn _Unwind_SetIP(_c: Ctx, _v: usize) {}
}

/// The C entry point: libc calls it with the arguments.
///
/// # Safety
///
/// `argv` holds `argc` valid NUL-terminated strings, as libc guarantees.
#[no_mangle]
pub unsafe extern "C" fn main(argc: i32, argv: *const *const std::ffi::c_char) -> i32 {
    let mut args = Vec::with_capacity(argc.max(0) as usize);
    for i in 0..argc.max(0) as usize {
        // SAFETY: libc passes argc valid NUL-terminated strings in argv.
        let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
        args.push(OsStr::from_bytes(arg.to_bytes()).to_os_string());
    }
    // Any process may read another's /proc/PID/cmdline, without a ptrace
    // check: once cntr has forked into the container's PID namespace, its
    // processes would read the rest of the chain there, values given with
    // -e among them. The words are copied above; their memory is wiped,
    // so that only the applet's name shows.
    for i in 1..argc.max(0) as usize {
        // SAFETY: each argv string is writable memory of its length, which
        // nothing reads again (the copies above are what cntr uses).
        unsafe {
            let p = *argv.add(i) as *mut u8;
            let n = std::ffi::CStr::from_ptr(p.cast()).to_bytes().len();
            std::ptr::write_bytes(p, 0, n);
        }
    }
    run_main(args)
}

fn run_main(args: Vec<OsString>) -> ! {
    // Non-dumpable before anything is opened: nothing in a container may
    // ptrace cntr or open its /proc/PID/fd while it holds host resources.
    // exec of the final command resets it.
    // A write to a pipe nobody reads fails with EPIPE, reported as any
    // error, instead of killing cntr (std's own main does the same; the
    // command gets SIGPIPE back at its default, see cntr::exec).
    let _ = cntr::sys::ignore_signal(cntr::sys::SIGPIPE);
    // A panic is cntr failing: one line and 125, as every other failure,
    // never abort(3), which in a child made by clone3 would signal the
    // thread its libc still takes for itself (see cntr::sys::fork_into).
    std::panic::set_hook(Box::new(|info| {
        error::report(format_args!("internal error: {info}"));
        cntr::sys::exit_now(i32::from(error::FAILED));
    }));
    let code = match rustix::process::set_dumpable_behavior(
        rustix::process::DumpableBehavior::NotDumpable,
    )
    .ctx("make the process non-dumpable")
    .and_then(|()| stdio_open())
    .and_then(|()| top(args))
    {
        Ok(code) => code,
        Err(e) => {
            error::report(&e);
            e.code()
        }
    };
    std::process::exit(i32::from(code));
}
