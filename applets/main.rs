//! The cntr binary: the table of applets and the dispatch on the name the
//! binary was started under (`cntr-X`, busybox style) or on its first
//! argument (`cntr X`). The front ends build the two chains:
//!
//! ```text
//! cntr attach T -- CMD = cntr-resolve T [cntr-pty] cntr-nsenter --all-but-mount --no-user
//!                        cntr-mount-tree cntr-inherit CMD
//! cntr exec T -- CMD   = cntr-resolve --seccomp T [cntr-pty --ptmx container]
//!                        cntr-nsenter --all cntr-chroot-exec cntr-inherit CMD
//! ```
//!
//! Adding an applet is its file and one row of [`APPLETS`].

// cntr has its own C `main`: the binary may be linked on musl (see
// build.rs), and std's way of finding argv there is glibc's alone.
#![no_main]

/// Small blocks from free lists, the rest from the libc (see cntr::heap).
#[global_allocator]
static HEAP: cntr::heap::Heap = cntr::heap::Heap::new();

mod attach;
mod chroot_exec;
mod completions;
mod exec;
mod inherit;
mod link;
mod list;
mod mount_tree;
mod nsenter;
mod pty;
mod resolve;
mod runtime;
mod toplevel;

use cntr::error::{self, Error, Result};
use cntr::handoff::Handoff;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// One applet: its name (`cntr-X`, as a chain word and as the prefix of
/// its messages), a one-line summary, and its entry point, which gets its
/// arguments and the handoff, if any.
pub struct Applet {
    pub name: &'static str,
    pub summary: &'static str,
    main: fn(Vec<OsString>, Option<Handoff>) -> Result<u8>,
}

/// Every applet, sorted by name.
#[rustfmt::skip]
pub const APPLETS: &[Applet] = &[
    Applet { name: "cntr-attach", summary: "shell in the container's namespaces with the host's tools", main: attach::main },
    Applet { name: "cntr-chroot-exec", summary: "enter the container's root and run a program found there", main: chroot_exec::main },
    Applet { name: "cntr-completions", summary: "print the shell completion script for bash, zsh or fish", main: completions::main },
    Applet { name: "cntr-exec", summary: "run the container's own command inside the container", main: exec::main },
    Applet { name: "cntr-inherit", summary: "take on the target's cgroup, credentials and environment", main: inherit::main },
    Applet { name: "cntr-list", summary: "list the running containers the engines know, as docker ps does", main: list::main },
    Applet { name: "cntr-mount-tree", summary: "private mount namespace with the container's tree at the base dir", main: mount_tree::main },
    Applet { name: "cntr-nsenter", summary: "join the target's namespaces", main: nsenter::main },
    Applet { name: "cntr-pty", summary: "run the rest of the chain on a fresh pseudo-terminal and relay it", main: pty::main },
    Applet { name: "cntr-resolve", summary: "turn a container name, id or PID into a verified process", main: resolve::main },
];

/// The applet a chain word names: exactly `cntr-X`, no path.
pub fn lookup(word: &OsStr) -> Option<&'static Applet> {
    APPLETS
        .iter()
        .find(|a| a.name.as_bytes() == word.as_bytes())
}

/// Runs `applet` in this process, with the handoff as a value.
pub fn run(applet: &'static Applet, args: Vec<OsString>, h: Option<Handoff>) -> Result<u8> {
    error::set_applet(applet.name);
    cntr::trace!("start");
    (applet.main)(args, h)
}

/// Runs the applet the binary was started as, with the handoff from the
/// environment (read only once the applet's name is set, for messages).
fn run_first(applet: &'static Applet, args: Vec<OsString>) -> Result<u8> {
    error::set_applet(applet.name);
    // SAFETY: the fds CNTR_FDS names were inherited across exec, and
    // nothing in this process has opened an fd above 2 yet (stdio_open
    // fills only 0, 1 and 2) or touched one: they are ours to take.
    let h = unsafe { Handoff::from_env() }?;
    run(applet, args, h)
}

fn top(args: Vec<OsString>) -> Result<u8> {
    let argv0 = args.first().map_or(&b""[..], |a| a.as_bytes());
    let base = argv0.rsplit(|&c| c == b'/').next().unwrap_or(b"");
    if let Some(applet) = lookup(OsStr::from_bytes(base)) {
        return run_first(applet, args[1..].to_vec());
    }
    let Some(first) = args.get(1) else {
        return Err(Error::usage("missing applet"));
    };
    if let Some(code) = toplevel::option(first, &args[2..])? {
        return Ok(code);
    }
    // `cntr X` or `cntr cntr-X`.
    let name = first.as_bytes();
    let applet = APPLETS
        .iter()
        .find(|a| a.name.as_bytes().strip_prefix(b"cntr-") == Some(name))
        .or_else(|| lookup(first))
        .ok_or_else(|| Error::usage(format!("unknown applet '{}'", first.to_string_lossy())))?;
    run_first(applet, args[2..].to_vec())
}

/// The C entry point: libc calls it with the arguments.
///
/// # Safety
///
/// `argv` holds `argc` valid NUL-terminated strings, as libc guarantees.
#[no_mangle]
pub unsafe extern "C" fn main(argc: i32, argv: *const *const std::ffi::c_char) -> i32 {
    // SAFETY: as libc guarantees, passed on.
    runtime::run(unsafe { runtime::args(argc, argv) })
}
