//! Running a program that is not a cntr applet: `execve` with an explicit
//! environment, searching the `PATH` of that environment (so after a
//! chroot the container's `PATH` finds the container's binaries).

use crate::error::{Error, CANNOT_EXEC, NOT_FOUND};
use rustix::io::Errno;
use std::ffi::{CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// Replaces the process with `argv[0]`, found through `path` unless it
/// holds a `/`. Returns only on failure: 127 when nothing was found, 126
/// when something was found but could not be run, 125 otherwise.
pub fn exec(argv: &[OsString], env: &[Vec<u8>], path: &[u8]) -> Error {
    let Some(prog) = argv.first() else {
        return Error::usage("missing command");
    };
    let name = prog.to_string_lossy().into_owned();
    let cstrings = |items: Vec<Vec<u8>>| -> Option<Vec<CString>> {
        items.into_iter().map(|i| CString::new(i).ok()).collect()
    };
    let (Some(args), Some(envs)) = (
        cstrings(argv.iter().map(|a| a.clone().into_vec()).collect()),
        cstrings(env.to_vec()),
    ) else {
        return Error::new(format!("unable to run {name}: argument holds a NUL byte"));
    };
    let mut argp: Vec<*const u8> = args.iter().map(|a| a.as_ptr().cast()).collect();
    argp.push(std::ptr::null());
    let mut envp: Vec<*const u8> = envs.iter().map(|e| e.as_ptr().cast()).collect();
    envp.push(std::ptr::null());

    // The command starts with no signal blocked and SIGPIPE at its default,
    // whatever cntr did with them.
    let _ = crate::sys::set_signal_mask(0);
    let _ = crate::sys::default_signal(crate::sys::SIGPIPE);

    let try_one = |file: &[u8]| -> Errno {
        match CString::new(file.to_vec()) {
            Ok(c) => crate::sys::execve(&c, &argp, &envp),
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
