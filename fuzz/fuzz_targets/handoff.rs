//! `handoff::parse`, the reader of `CNTR_FDS`. The value comes from the
//! environment of an applet run across a foreign program; the parser
//! checks the syntax and then takes over and checks each fd it names.
//!
//! The target keeps real fds open at fixed numbers (`FIRST` on: a pidfd
//! of itself, its `/proc/PID`, `/`, `/proc`, and where the machine lets it
//! a cgroup v2 `cgroup.procs` and directory; the seeds name them), so both
//! the syntax and the fd checks run, and the fds the parser took are
//! opened again before the next input. An input that names any other fd
//! open in this process (libFuzzer's own) is skipped: the parser would
//! take it over and close it.
//!
//! Checks: never a panic; an error is one line, status 125; an accepted
//! value is this process, and `export` names exactly the fds it named.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rustix::fd::{AsRawFd, BorrowedFd, IntoRawFd, OwnedFd};
use rustix::fs::{Mode, OFlags};

/// The first of the fd numbers kept open for the parser, in the order of
/// `open_slot`.
const FIRST: i32 = 600;
const SLOTS: i32 = 6;

const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

fn is_open(fd: i32) -> bool {
    // SAFETY: the number is only probed with fcntl(F_GETFD), which fails
    // with EBADF on a closed one; nothing is closed or kept.
    rustix::io::fcntl_getfd(unsafe { BorrowedFd::borrow_raw(fd) }).is_ok()
}

fn open(path: &str, flags: OFlags) -> Option<OwnedFd> {
    rustix::fs::open(path, flags | OFlags::CLOEXEC, Mode::empty()).ok()
}

fn open_slot(i: i32) -> Option<OwnedFd> {
    let dir = OFlags::PATH | OFlags::DIRECTORY;
    let cgroup2 = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"];
    match i {
        0 => rustix::process::pidfd_open(
            rustix::process::getpid(),
            rustix::process::PidfdFlags::empty(),
        )
        .ok(),
        1 => open("/proc/self", OFlags::RDONLY | OFlags::DIRECTORY),
        2 => open("/", dir),
        3 => open("/proc", dir),
        // Opened, never written: holding it moves nothing. Needs root.
        4 => cgroup2
            .iter()
            .find_map(|d| open(&format!("{d}/cgroup.procs"), OFlags::WRONLY)),
        _ => cgroup2.iter().find_map(|d| {
            open(d, dir)
                .filter(|fd| rustix::fs::fstatfs(fd).is_ok_and(|s| s.f_type == CGROUP2_SUPER_MAGIC))
        }),
    }
}

/// Opens again each slot the last input's parse took (and closed).
fn refill() {
    for i in 0..SLOTS {
        let n = FIRST + i;
        if is_open(n) {
            continue;
        }
        let Some(fd) = open_slot(i) else {
            continue;
        };
        // The lowest free number from n is n itself, which is free.
        if let Ok(d) = rustix::io::fcntl_dupfd_cloexec(&fd, n) {
            if d.as_raw_fd() == n {
                // Owned by nobody now: the parser takes it over.
                let _ = d.into_raw_fd();
            }
        }
    }
}

/// Whether `data` may name an fd that is open here and not a slot: every
/// run of up to seven digits is taken for an fd number.
fn names_foreign_fd(data: &[u8]) -> bool {
    data.split(|c| !c.is_ascii_digit())
        .filter(|r| !r.is_empty() && r.len() <= 7)
        .filter_map(|r| std::str::from_utf8(r).ok()?.parse::<i32>().ok())
        .any(|n| n > 2 && !(FIRST..FIRST + SLOTS).contains(&n) && is_open(n))
}

/// The `(name, fd)` entries of a well-formed value, sorted.
fn entries(v: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut e: Vec<(Vec<u8>, Vec<u8>)> = v
        .split(|&c| c == b',')
        .map(|item| {
            let colon = item.iter().position(|&c| c == b':').unwrap_or(item.len());
            (item[..colon].to_vec(), item[colon..].to_vec())
        })
        .collect();
    e.sort();
    e
}

fuzz_target!(|data: &[u8]| {
    refill();
    if names_foreign_fd(data) {
        return;
    }
    // SAFETY: an input that names an fd open here other than the slots
    // was skipped above, and the slots are owned by nothing (see refill):
    // every fd the parser can take is its own.
    match unsafe { cntr::handoff::parse(data) } {
        Err(e) => {
            assert_eq!(e.code(), 125);
            assert!(
                !e.message().is_empty() && !e.message().contains('\n'),
                "{:?}",
                e.message()
            );
        }
        Ok(h) => {
            assert_eq!(
                h.target.pid,
                rustix::process::getpid().as_raw_nonzero().get()
            );
            let out = h.export().expect("export of an accepted handoff");
            assert_eq!(
                entries(std::os::unix::ffi::OsStrExt::as_bytes(out.as_os_str())),
                entries(data),
                "exported as {out:?}"
            );
        }
    }
});
