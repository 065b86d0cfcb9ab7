//! Running a program that is not a cntr applet: `execve` with an explicit
//! environment, searching the `PATH` of that environment (so after a
//! chroot the container's `PATH` finds the container's binaries).

use crate::error::{Error, CANNOT_EXEC, NOT_FOUND};
use rustix::io::Errno;
use std::ffi::{CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// `argv` and `env` as the NULL-terminated arrays execve(2) takes; the
/// strings live as long as the value.
struct Args {
    _strings: (Vec<CString>, Vec<CString>),
    argp: Vec<*const u8>,
    envp: Vec<*const u8>,
}

impl Args {
    fn new(argv: &[OsString], env: &[Vec<u8>]) -> Result<Args, Error> {
        let cstrings = |items: Vec<Vec<u8>>| -> Option<Vec<CString>> {
            items.into_iter().map(|i| CString::new(i).ok()).collect()
        };
        let (Some(args), Some(envs)) = (
            cstrings(argv.iter().map(|a| a.clone().into_vec()).collect()),
            cstrings(env.to_vec()),
        ) else {
            return Err(Error::new(format!(
                "unable to run {}: argument holds a NUL byte",
                argv.first()
                    .map(|a| a.to_string_lossy())
                    .unwrap_or_default()
            )));
        };
        let ptrs = |v: &[CString]| -> Vec<*const u8> {
            v.iter()
                .map(|a| a.as_ptr().cast())
                .chain(std::iter::once(std::ptr::null()))
                .collect()
        };
        Ok(Args {
            argp: ptrs(&args),
            envp: ptrs(&envs),
            _strings: (args, envs),
        })
    }
}

/// Replaces the process with the program open at `fd` (execveat(2) with
/// `AT_EMPTY_PATH`). Returns only on failure.
pub fn exec_fd(fd: std::os::fd::RawFd, argv: &[OsString], env: &[Vec<u8>]) -> Error {
    let a = match Args::new(argv, env) {
        Ok(a) => a,
        Err(e) => return e,
    };
    let err = crate::sys::execveat_fd(fd, &a.argp, &a.envp);
    Error::new(format!(
        "unable to run cntr again: {}",
        crate::error::errno_text(err)
    ))
}

/// Replaces the process with `argv[0]`, found through `path` unless it
/// holds a `/`. Returns only on failure: 127 when nothing was found, 126
/// when something was found but could not be run, 125 otherwise.
pub fn exec(argv: &[OsString], env: &[Vec<u8>], path: &[u8]) -> Error {
    let Some(prog) = argv.first() else {
        return Error::usage("missing command");
    };
    let name = prog.to_string_lossy().into_owned();
    let a = match Args::new(argv, env) {
        Ok(a) => a,
        Err(e) => return e,
    };
    let (argp, envp) = (&a.argp, &a.envp);

    // The command starts with no signal blocked and SIGPIPE at its default,
    // whatever cntr did with them.
    let _ = crate::sys::set_signal_mask(0);
    let _ = crate::sys::default_signal(crate::sys::SIGPIPE);

    let try_one = |file: &[u8]| -> Errno {
        match CString::new(file.to_vec()) {
            Ok(c) => crate::sys::execve(&c, argp, envp),
            Err(_) => Errno::NOENT,
        }
    };
    let bytes = prog.as_bytes();
    if bytes.is_empty() {
        return Error::with_code(NOT_FOUND, "unable to run '': not found");
    }
    let err = if memchr::memchr(b'/', bytes).is_some() {
        try_one(bytes)
    } else {
        let mut seen_eacces = false;
        let mut last = Errno::NOENT;
        for dir in path.split(|&c| c == b':') {
            let dir = if dir.is_empty() { &b"."[..] } else { dir };
            let mut file = dir.to_vec();
            file.push(b'/');
            file.extend_from_slice(bytes);
            match try_one(&file) {
                // Not here: go on with the next directory, as execvp(3).
                Errno::NOENT | Errno::NOTDIR | Errno::LOOP | Errno::NAMETOOLONG => {}
                Errno::ACCESS => seen_eacces = true,
                e => {
                    last = e;
                    break;
                }
            }
        }
        if seen_eacces && last == Errno::NOENT {
            Errno::ACCESS
        } else {
            last
        }
    };
    let text = crate::error::errno_text(err);
    match err {
        Errno::NOENT | Errno::NOTDIR | Errno::LOOP | Errno::NAMETOOLONG => Error::with_code(
            NOT_FOUND,
            format!(
                "unable to run {name}: {}",
                if err == Errno::NOENT {
                    "not found".into()
                } else {
                    text
                }
            ),
        ),
        Errno::ACCESS | Errno::NOEXEC | Errno::ISDIR | Errno::PERM | Errno::TXTBSY => {
            Error::with_code(CANNOT_EXEC, format!("unable to run {name}: {text}"))
        }
        _ => Error::new(format!("unable to run {name}: {text}")),
    }
}
