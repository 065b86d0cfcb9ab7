//! The handoff: how one applet passes its target to the next.
//!
//! Between applets the target travels as open file descriptors, never as a
//! bare PID (a PID can be reused between two steps; a pidfd cannot lie). In
//! one process the next applet receives the [`Handoff`] as a value. Across
//! an exec it travels as fds named in one environment variable:
//!
//! ```text
//! CNTR_FDS=pidfd:3,proc:4,root:5,cgroup:6,cgroup:7
//! ```
//!
//! | name | what | opened by |
//! |---|---|---|
//! | `pidfd` | pidfd of the target process | `pidfd_open` |
//! | `proc` | the target's `/proc/PID` directory on the host's procfs | `open` |
//! | `root` | the target's root directory (`O_PATH`) | `/proc/PID/root` |
//! | `cgroup` | the file that joins each of the target's cgroups (v1 `tasks`, v2 `cgroup.procs`), write-only; repeated | host side |
//! | `cgroup2dir` | the target's cgroup v2 directory (`O_PATH`), to fork into | host side |
//! | `seccomp` | the target's seccomp filters, in a sealed memfd (`cntr-resolve --seccomp`) | host side |
//! | `tools` | the session's tools tree, a detached overlay (`--tools`, see `crate::tools`) | host side |
//! | `toolsenv` | the tools tree's `PATH`, in a sealed memfd; only with `tools` | host side |
//! | `hostproc` | the host's procfs (`O_PATH`), for comparing namespaces and late writes | host side |
//! | `answer-ENGINE` | a daemon's answer still to read (ENGINE asks one, such as `docker`): the target, a live PID, was pinned before it came (see [`Handoff::settle`]); a connected socket | host side |
//!
//! The set of names is closed: an unknown name, a repeated one (except
//! `cgroup`), a missing one, a closed fd or an fd of the wrong kind is an
//! error, never ignored. Every fd is close-on-exec except while it is being
//! handed across an exec on purpose.

use crate::error::{Context, Error, Result};
use crate::proc::Process;
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use rustix::fs::{Mode, OFlags};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// The environment variable that names the handed fds.
pub const VAR: &str = "CNTR_FDS";

/// Set (to `1`) by the read-only re-exec for the process it starts (see
/// `crate::sealed`). Like [`VAR`], private to cntr: never passed to a
/// foreign program.
pub const SEALED: &str = "CNTR_SEALED";

const CGROUP_SUPER_MAGIC: i64 = 0x27e0eb;
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
const OVERLAYFS_SUPER_MAGIC: i64 = 0x794c_7630;

/// A verified target, as open descriptors.
pub struct Handoff {
    pub target: Process,
    /// The target's root directory, opened through `/proc/PID/root`.
    pub root: OwnedFd,
    /// The join file of each hierarchy the target belongs to (v1 `tasks`,
    /// v2 `cgroup.procs`), opened for writing on the host side, so the last
    /// applet can join them after the host's cgroup mounts are out of reach.
    pub cgroups: Vec<OwnedFd>,
    /// The target's v2 cgroup, for forking straight into it.
    pub cgroup2dir: Option<OwnedFd>,
    /// The target's seccomp filters, copied on the host's side (reading
    /// them needs CAP_SYS_ADMIN over the host's user namespace), for the
    /// last link to install: a sealed memfd (see `crate::seccomp`).
    pub seccomp: Option<OwnedFd>,
    /// The session's tools tree (`--tools`): a detached overlay, made on
    /// the host's side (see `crate::tools`), for cntr-mount-tree to make
    /// the session's root; with its `PATH` in a sealed memfd.
    pub tools: Option<OwnedFd>,
    pub tools_env: Option<OwnedFd>,
    /// The host's procfs: cntr's own namespaces are compared through it
    /// and late writes (LSM exec label, user namespace maps) go through it,
    /// since `/proc` may by then be the container's.
    pub hostproc: OwnedFd,
    /// The daemons' answers still to read (see [`Handoff::settle`]).
    pub pending: Vec<crate::engine::Pending>,
}

/// What a handoff needs from the host that no target decides: the host's
/// procfs and its cgroup mounts. Opened while the daemons answer a name
/// (see [`crate::engine::resolve_with`]), it is off the critical path.
struct HostSide {
    hostproc: OwnedFd,
    hier: crate::cgroup::Hierarchies,
}

impl HostSide {
    /// Opens it, while `/proc` is certainly the host's (see
    /// [`Handoff::hostproc`]).
    fn open() -> Result<HostSide> {
        let hostproc = rustix::fs::open(
            "/proc",
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ctx("open /proc")?;
        Ok(HostSide {
            hostproc,
            hier: crate::cgroup::Hierarchies::read()?,
        })
    }

    /// [`HostSide::open`], with the mount point of each of cntr's own
    /// cgroup hierarchies opened ahead as well.
    fn prepared() -> Result<HostSide> {
        let mut h = HostSide::open()?;
        h.hier.prepare();
        crate::trace!("host side opened");
        Ok(h)
    }
}

impl Handoff {
    /// Opens everything later applets need from the host side, while cntr
    /// still stands in the host's namespaces, with its target-free half
    /// `host` already open.
    fn open(target: Process, host: HostSide) -> Result<Handoff> {
        let HostSide { hostproc, mut hier } = host;
        let pid = target.pid;
        let root = rustix::fs::openat(
            &target.dir,
            "root",
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            rustix::io::Errno::NOENT | rustix::io::Errno::SRCH => {
                Error::new(format!("process {pid} exited"))
            }
            e => Error::sys(format_args!("open the root of process {pid}"), e),
        })?;
        let joins = crate::cgroup::open_joins(&target, &mut hier)?;
        crate::trace!("handoff opened: root, {} cgroup files", joins.files.len());
        Ok(Handoff {
            target,
            root,
            cgroups: joins.files,
            cgroup2dir: joins.v2_dir,
            seccomp: None,
            tools: None,
            tools_env: None,
            hostproc,
            pending: Vec::new(),
        })
    }

    /// Resolves a target for a chain (`cntr-resolve`, or a link started
    /// without a handoff): the host side opens while the daemons answer,
    /// and a live PID does not wait for them (their answers, in
    /// [`Handoff::pending`], are settled before the chain runs anything).
    pub fn resolve(q: &crate::engine::Query<'_>) -> Result<Handoff> {
        let mut host = None;
        let r = crate::engine::resolve_with(q, true, &mut || host = Some(HostSide::prepared()))?;
        let host = host.unwrap_or_else(HostSide::open)?;
        let mut h = Handoff::open(r.process, host)?;
        h.pending = r.pending;
        Ok(h)
    }

    /// Reads the daemons' answers the target was pinned without (see
    /// [`crate::engine::resolve_with`]): an error if one names another
    /// process. Nothing of the container's may run before: every link
    /// calls this before it execs anything but cntr itself
    /// ([`run_foreign`]), and `cntr-inherit` before the command's
    /// credentials and seccomp filter, which could forbid the reading.
    pub fn settle(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        crate::engine::settle(self.target.pid, std::mem::take(&mut self.pending))
    }

    /// Takes the handoff from the environment, if there is one.
    ///
    /// # Safety
    ///
    /// As for [`parse`]: every fd that `CNTR_FDS` names is taken over (and
    /// closed on an error), so none of them may be owned or used by
    /// anything else in the process. That holds for fds inherited across
    /// exec that nothing has opened, wrapped or closed since, read once,
    /// before the process opens anything.
    pub unsafe fn from_env() -> Result<Option<Handoff>> {
        match std::env::var_os(VAR) {
            None => Ok(None),
            // SAFETY: the caller vouches for every fd the value names.
            Some(v) => unsafe { parse(v.as_bytes()) }.map(Some),
        }
    }

    /// The numbers of every fd of the handoff.
    pub fn fds(&self) -> Vec<RawFd> {
        let mut v = vec![
            self.target.pidfd.as_raw_fd(),
            self.target.dir.as_raw_fd(),
            self.root.as_raw_fd(),
            self.hostproc.as_raw_fd(),
        ];
        v.extend(self.cgroups.iter().map(AsRawFd::as_raw_fd));
        v.extend(self.cgroup2dir.iter().map(AsRawFd::as_raw_fd));
        v.extend(self.seccomp.iter().map(AsRawFd::as_raw_fd));
        v.extend(self.tools.iter().map(AsRawFd::as_raw_fd));
        v.extend(self.tools_env.iter().map(AsRawFd::as_raw_fd));
        v.extend(self.pending.iter().map(|p| p.fd.as_raw_fd()));
        v
    }

    /// Makes the fds survive exec and returns the `CNTR_FDS` value naming
    /// them. Only for a chain the user asked to keep across a foreign
    /// program.
    pub fn export(&self) -> Result<OsString> {
        let mut out = Vec::new();
        let mut put = |name: &str, fd: BorrowedFd<'_>| -> Result<()> {
            rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::empty()).ctx("clear close-on-exec")?;
            if !out.is_empty() {
                out.push(b',');
            }
            out.extend_from_slice(format!("{name}:{}", fd.as_raw_fd()).as_bytes());
            Ok(())
        };
        put("pidfd", self.target.pidfd.as_fd())?;
        put("proc", self.target.dir.as_fd())?;
        put("root", self.root.as_fd())?;
        for c in &self.cgroups {
            put("cgroup", c.as_fd())?;
        }
        if let Some(d) = &self.cgroup2dir {
            put("cgroup2dir", d.as_fd())?;
        }
        if let Some(d) = &self.seccomp {
            put("seccomp", d.as_fd())?;
        }
        if let (Some(t), Some(e)) = (&self.tools, &self.tools_env) {
            put("tools", t.as_fd())?;
            put("toolsenv", e.as_fd())?;
        }
        for p in &self.pending {
            put(&format!("answer-{}", p.engine.name), p.fd.as_fd())?;
        }
        put("hostproc", self.hostproc.as_fd())?;
        Ok(std::os::unix::ffi::OsStringExt::from_vec(out))
    }
}

/// Parses and verifies a `CNTR_FDS` value, taking over the fds it names,
/// as [`Handoff::from_env`] does. Public for the fuzz target
/// (`fuzz/fuzz_targets/handoff.rs`).
///
/// # Safety
///
/// Each fd number that a well-formed `v` names becomes owned by the
/// returned [`Handoff`], or is closed when an error comes after it was
/// taken: the caller must make sure that no other owner in the process (an
/// `OwnedFd`, a `File`, a library) holds any of them, and that nothing
/// uses them afterwards but through the [`Handoff`]. Numbers that are not
/// open are reported, never taken.
pub unsafe fn parse(v: &[u8]) -> Result<Handoff> {
    let bad = |m: String| Error::new(format!("{VAR}: {m}"));
    let mut pidfd = None;
    let mut dir = None;
    let mut root = None;
    let mut hostproc = None;
    let mut cgroups = Vec::new();
    let mut cgroup2dir = None;
    let mut seccomp = None;
    let mut tools = None;
    let mut tools_env = None;
    let mut pending = Vec::new();
    // First the syntax of every entry, then the fds: a malformed or
    // repeated entry is reported as such, whatever the fds are.
    let mut entries: Vec<(&str, i32)> = Vec::new();
    for item in v.split(|&c| c == b',') {
        let s = String::from_utf8_lossy(item);
        let colon =
            memchr::memchr(b':', item).ok_or_else(|| bad(format!("malformed entry {s:?}")))?;
        let (name, num) = (&item[..colon], &item[colon + 1..]);
        let fd = parse_fd(num).ok_or_else(|| bad(format!("malformed fd in {s:?}")))?;
        let name = match std::str::from_utf8(name) {
            Ok(
                n @ ("pidfd" | "proc" | "root" | "hostproc" | "cgroup" | "cgroup2dir" | "seccomp"
                | "tools" | "toolsenv"),
            ) => n,
            Ok(n)
                if n.strip_prefix("answer-")
                    .is_some_and(|e| crate::engine::later(e).is_some()) =>
            {
                n
            }
            _ => return Err(bad(format!("unknown name in {s:?}"))),
        };
        if entries.iter().any(|&(_, f)| f == fd) {
            return Err(bad(format!("fd {fd} is named twice")));
        }
        if name != "cgroup" && entries.iter().any(|&(n, _)| n == name) {
            return Err(bad(format!("{name} is given twice")));
        }
        entries.push((name, fd));
    }
    for name in ["pidfd", "proc", "root", "hostproc"] {
        if !entries.iter().any(|&(n, _)| n == name) {
            return Err(bad(format!("no {name} fd")));
        }
    }
    for (name, fd) in entries {
        // SAFETY: the caller vouches that nothing else owns the fds the
        // value names, and each number is taken once (checked above).
        let fd = unsafe { take(fd, name) }?;
        match name {
            "pidfd" => pidfd = Some(fd),
            "proc" => dir = Some(fd),
            "root" => root = Some(fd),
            "hostproc" => hostproc = Some(fd),
            "cgroup2dir" => cgroup2dir = Some(fd),
            "seccomp" => seccomp = Some(fd),
            "tools" => tools = Some(fd),
            "toolsenv" => tools_env = Some(fd),
            "cgroup" => cgroups.push(fd),
            n => pending.push((n, fd)),
        }
    }
    let need = |fd: Option<OwnedFd>, name: &str| fd.ok_or_else(|| bad(format!("no {name} fd")));
    let (pidfd, dir, root) = (
        need(pidfd, "pidfd")?,
        need(dir, "proc")?,
        need(root, "root")?,
    );
    let hostproc = need(hostproc, "hostproc")?;

    let kind = |ok: bool, fd: &OwnedFd, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(bad(format!("fd {} is not {what}", fd.as_raw_fd())))
        }
    };
    let pid =
        pidfd_pid(&pidfd).ok_or_else(|| bad(format!("fd {} is not a pidfd", pidfd.as_raw_fd())))?;
    if crate::sys::pidfd_signal(pidfd.as_fd(), 0).is_err() {
        return Err(Error::new(format!("process {pid} exited")));
    }
    kind(
        is_dir_on(&dir, Some(crate::proc::PROC_SUPER_MAGIC)),
        &dir,
        "a /proc/PID directory",
    )?;
    // The proc directory must be the pidfd's process: the first field of
    // its stat is its PID.
    let stat = crate::proc::read(dir.as_fd(), "stat", 4096)?;
    let first = stat.split(|&c| c == b' ').next().unwrap_or(b"");
    if crate::proc::parse_pid(OsStr::from_bytes(first)) != Some(pid) {
        return Err(bad(format!("fd {} is not /proc/{pid}", dir.as_raw_fd())));
    }
    kind(is_dir_on(&root, None), &root, "a directory")?;
    for c in &cgroups {
        let magic = rustix::fs::fstatfs(c).map(|s| s.f_type).unwrap_or(0);
        let writable = rustix::fs::fcntl_getfl(c)
            .map(|f| f.contains(OFlags::WRONLY))
            .unwrap_or(false);
        kind(
            (magic == CGROUP_SUPER_MAGIC || magic == CGROUP2_SUPER_MAGIC) && writable,
            c,
            "a writable cgroup file",
        )?;
    }
    // The root of a procfs that shows this thread: cntr's own namespaces
    // are compared through its thread-self, and a missing namespace file
    // means "this kernel has no such namespace", never "wrong directory".
    kind(
        is_dir_on(&hostproc, Some(crate::proc::PROC_SUPER_MAGIC))
            && rustix::fs::statat(&hostproc, "thread-self/ns", rustix::fs::AtFlags::empty())
                .is_ok_and(|st| {
                    rustix::fs::FileType::from_raw_mode(st.st_mode)
                        == rustix::fs::FileType::Directory
                }),
        &hostproc,
        "the root of a procfs that shows cntr",
    )?;
    if let Some(d) = &cgroup2dir {
        kind(
            is_dir_on(d, Some(CGROUP2_SUPER_MAGIC)),
            d,
            "a cgroup v2 directory",
        )?;
    }
    // Sealed against writes: what cntr-resolve put there is what a later
    // link reads.
    for f in seccomp.iter().chain(&tools_env) {
        kind(is_sealed(f), f, "a sealed memfd")?;
    }
    if let Some(t) = &tools {
        kind(
            is_dir_on(t, Some(OVERLAYFS_SUPER_MAGIC)),
            t,
            "an overlay's root directory",
        )?;
    }
    if tools.is_some() != tools_env.is_some() {
        return Err(bad("tools and toolsenv go together".to_string()));
    }
    let mut answers = Vec::new();
    for (name, fd) in pending {
        let socket = rustix::fs::fstat(&fd).is_ok_and(|st| {
            rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Socket
        });
        kind(socket, &fd, "a socket")?;
        let engine = name
            .strip_prefix("answer-")
            .and_then(crate::engine::later)
            .expect("checked with the names");
        answers.push(crate::engine::Pending { engine, fd });
    }
    Ok(Handoff {
        target: Process { pid, pidfd, dir },
        root,
        cgroups,
        cgroup2dir,
        hostproc,
        seccomp,
        tools,
        tools_env,
        pending: answers,
    })
}

/// Whether `fd` is sealed against writes and further seals.
fn is_sealed(fd: &OwnedFd) -> bool {
    rustix::fs::fcntl_get_seals(fd)
        .is_ok_and(|s| s.contains(rustix::fs::SealFlags::WRITE | rustix::fs::SealFlags::SEAL))
}

/// `data` in a memfd sealed against every change, for the handoff: what a
/// host-side link put there is what a later link reads, whatever runs
/// between them.
pub fn sealed_memfd(name: &str, data: &[u8]) -> Result<OwnedFd> {
    let fd = rustix::fs::memfd_create(
        name,
        rustix::fs::MemfdFlags::CLOEXEC | rustix::fs::MemfdFlags::ALLOW_SEALING,
    )
    .ctx("create a memfd")?;
    crate::sys::write_all(fd.as_fd(), data).ctx(format_args!("write {name}"))?;
    rustix::fs::fcntl_add_seals(
        &fd,
        rustix::fs::SealFlags::WRITE
            | rustix::fs::SealFlags::GROW
            | rustix::fs::SealFlags::SHRINK
            | rustix::fs::SealFlags::SEAL,
    )
    .ctx(format_args!("seal {name}"))?;
    Ok(fd)
}

/// The contents of a memfd of [`sealed_memfd`], at most `limit` bytes;
/// `what` names it in errors.
pub fn read_sealed(fd: &OwnedFd, limit: usize, what: &str) -> Result<Vec<u8>> {
    if !is_sealed(fd) {
        return Err(Error::new(format!("the {what} fd is not sealed")));
    }
    let mut b = Vec::new();
    let mut off = 0u64;
    loop {
        let mut chunk = [0u8; 4096];
        let n = rustix::io::pread(fd, &mut chunk, off).ctx(format_args!("read the {what} fd"))?;
        if n == 0 {
            return Ok(b);
        }
        b.extend_from_slice(&chunk[..n]);
        off += n as u64;
        if b.len() > limit {
            return Err(Error::new(format!("the {what} fd is too large")));
        }
    }
}

/// An fd number of `CNTR_FDS`: decimal digits only, no sign, no leading
/// zero, above 2 (0, 1 and 2 are stdio) and below `i32::MAX`.
fn parse_fd(b: &[u8]) -> Option<i32> {
    if b.is_empty() || b.len() > 10 || b[0] == b'0' || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b)
        .ok()?
        .parse::<i32>()
        .ok()
        .filter(|&n| n > 2)
}

/// Takes ownership of inherited fd `fd`, making it close-on-exec again.
///
/// # Safety
///
/// Nothing else in the process may own or use `fd` (see [`parse`]).
unsafe fn take(fd: i32, name: &str) -> Result<OwnedFd> {
    // SAFETY: fd is only borrowed to probe it; it is owned below only once
    // we know it is open.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd as RawFd) };
    rustix::io::fcntl_setfd(borrowed, rustix::io::FdFlags::CLOEXEC)
        .map_err(|_| Error::new(format!("{VAR}: {name} fd {fd} is not open")))?;
    // SAFETY: the fd is open, and the caller vouches that nothing else
    // owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

fn is_dir_on(fd: &OwnedFd, magic: Option<i64>) -> bool {
    let dir = rustix::fs::fstat(fd).is_ok_and(|st| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory
    });
    dir && magic.is_none_or(|m| rustix::fs::fstatfs(fd).is_ok_and(|s| s.f_type == m))
}

/// The PID behind a pidfd, from `/proc/self/fdinfo` (`Pid:` line).
fn pidfd_pid(fd: &OwnedFd) -> Option<i32> {
    let info = rustix::fs::open(
        format!("/proc/self/fdinfo/{}", fd.as_raw_fd()),
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let text = crate::proc::read_fd(&info, 4096).ok()?;
    let line = text
        .split(|&c| c == b'\n')
        .find(|l| l.starts_with(b"Pid:"))?;
    let n = std::str::from_utf8(&line[4..])
        .ok()?
        .trim()
        .parse::<i32>()
        .ok()?;
    (n > 0).then_some(n)
}

/// cntr's own environment without what cntr passes to itself across an
/// exec ([`VAR`], [`SEALED`]): what a foreign program may get.
pub fn caller_env() -> Vec<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    std::env::vars_os()
        .filter(|(k, _)| k != VAR && k != SEALED)
        .map(|(k, v)| [k.as_bytes(), b"=", v.as_bytes()].concat())
        .collect()
}

/// Runs a program that is not a cntr applet with `env`, found through
/// `path`, holding fds 0, 1 and 2 and, when `keep` asks for it, the
/// handoff's fds, named in [`VAR`]; nothing else. Every other fd is closed
/// before the search, not only marked close-on-exec: a `PATH` entry such
/// as `/proc/self/fd/N/` would resolve through a directory fd that is
/// still open during execve (runc's CVE-2024-21626). Returns only on
/// failure. The caller must own no fd but the handoff's.
pub fn run_foreign(
    args: &[OsString],
    env: &[Vec<u8>],
    path: &[u8],
    h: Option<Handoff>,
    keep: bool,
) -> Error {
    let mut env = env.to_vec();
    let mut fds = Vec::new();
    let mut h = h;
    if let Some(h) = &mut h {
        if let Err(e) = h.settle() {
            return e;
        }
    }
    match h {
        Some(h) if keep => {
            let mut e = format!("{VAR}=").into_bytes();
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
    if let Err(e) = crate::sys::close_all_but(&fds) {
        return Error::sys("close inherited fds", e);
    }
    crate::trace!("exec {}", args[0].to_string_lossy());
    crate::exec::exec(args, &env, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(v: &str) -> String {
        // SAFETY: the values name fds 900 and up, which nothing in the
        // test process opens (an fd that is not open is never taken).
        match unsafe { parse(v.as_bytes()) } {
            Ok(_) => panic!("{v:?} was accepted"),
            Err(e) => e.message().to_string(),
        }
    }

    #[test]
    fn rejects_malformed() {
        assert!(err("").contains("malformed"));
        assert!(err("pidfd").contains("malformed entry"));
        assert!(err("pidfd:x").contains("malformed fd"));
        assert!(err("pidfd:1").contains("malformed fd"));
        assert!(err("pidfd:0x5").contains("malformed fd"));
        assert!(err("nope:900").contains("unknown name"));
        // Only a resolver that asks a daemon has answers to hand on.
        assert!(err("answer-podman:900").contains("unknown name"));
        assert!(err("answer-:900").contains("unknown name"));
        assert!(err("answer-docker:900,answer-docker:901").contains("given twice"));
        assert!(err("pidfd:900,pidfd:901").contains("given twice"));
        assert!(err("pidfd:900,proc:900").contains("named twice"));
        assert!(err("pidfd:900").contains("no proc fd"));
        assert!(err("pidfd:900,proc:901,root:902,hostproc:903,cgroup:904").contains("not open"));
    }
}
