//! ct: start throwaway namespaced busybox containers with no container
//! engine, so that cntr's tests, demo and benchmark have real containers to
//! attach to. Test tooling only: it is not shipped with cntr.
//!
//! `ct rootfs` builds the root filesystem, `ct start` creates the cgroups,
//! clones the container init into new namespaces and supervises it in the
//! foreground, `ct stop` kills a container init, `ct list` shows them.

use std::convert::Infallible;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{lchown, symlink, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::thread::sleep;
use std::time::{Duration, Instant};

use lexopt::prelude::*;
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::fd::OwnedFd;
use rustix::fs::{openat, Mode, OFlags, CWD};
use rustix::io::Errno;
use rustix::mount::{
    fsconfig_create, fsconfig_set_string, fsmount, fsopen, mount, mount_bind, mount_bind_recursive,
    mount_change, move_mount, open_tree, unmount, FsMountFlags, FsOpenFlags, MountAttrFlags,
    MountFlags, MountPropagationFlags, MoveMountFlags, OpenTreeFlags, UnmountFlags,
};
use rustix::pipe::{pipe_with, PipeFlags};
use rustix::process::{
    chdir, kill_process, pidfd_open, pidfd_send_signal, pivot_root, umask, waitpid, Gid, Pid,
    PidfdFlags, Signal, Uid, WaitOptions,
};
use rustix::thread::{
    capabilities, clear_ambient_capability_set, remove_capability_from_bounding_set,
    set_capabilities, set_thread_groups, set_thread_res_gid, set_thread_res_uid, CapabilitySet,
    CapabilitySets, UnshareFlags,
};

const USAGE: &str = "\
Usage: ct rootfs [--owner UID] DIR
       ct start --rootfs DIR [OPTION]... [--] [CMD [ARG]...]
       ct stop PID
       ct list

Start throwaway namespaced busybox containers without a container engine.

  rootfs            build a busybox root filesystem in the new or empty DIR
    --owner UID     add UID to every owner and group (for --variant userns
                    and userns-user)
  start             run CMD (default /bin/sleep infinity) as PID 1 of a new
                    container; print its host PID, stay in the foreground
                    until it exits, turn SIGTERM, SIGINT, SIGHUP into SIGKILL
    --rootfs DIR    root filesystem made by `ct rootfs`
    --name NAME     cgroup cntr-test/ct-NAME (default: ct<pid of ct>)
    --variant V     full: root, all capabilities (default); docker: root,
                    Docker's default capabilities; user: uid 1000, no
                    capabilities; userns: root of a user namespace mapped
                    at 100000 (needs `ct rootfs --owner 100000`);
                    userns-user: uid 1000, no capabilities, in a user
                    namespace mapped as for userns
    --hostname H    hostname (default: ct-NAME)
    --mounts N      N tiny tmpfs mounts at /mnt/m0 ... /mnt/m<N-1>
    --env K=V       add K=V to the environment (repeatable)
    --pidfile FILE  also write the host PID to FILE
  stop PID          SIGKILL the container init PID, wait for it and for its
                    supervisor to exit (5 s at most)
  list              print each container's cgroup and its PIDs
";

/// The cgroup, below ct's own in every hierarchy, that holds the containers.
const CGROUP_DIR: &str = "cntr-test";

/// Where `--variant userns` and `userns-user` map root, and how many ids.
const USERNS_BASE: u32 = 100_000;
const USERNS_SIZE: u32 = 65_536;

/// The unprivileged user of `--variant user`, and its groups (etc/group).
const APP_ID: u32 = 1000;
const APP_GROUPS: [u32; 2] = [1000, 2000];

const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Docker's default capability set (moby `oci/caps/defaults.go`); its
/// bounding set reads 00000000a80425fb in /proc/PID/status.
const DOCKER_CAPS: CapabilitySet = CapabilitySet::CHOWN
    .union(CapabilitySet::DAC_OVERRIDE)
    .union(CapabilitySet::FSETID)
    .union(CapabilitySet::FOWNER)
    .union(CapabilitySet::MKNOD)
    .union(CapabilitySet::NET_RAW)
    .union(CapabilitySet::SETGID)
    .union(CapabilitySet::SETUID)
    .union(CapabilitySet::SETFCAP)
    .union(CapabilitySet::SETPCAP)
    .union(CapabilitySet::NET_BIND_SERVICE)
    .union(CapabilitySet::SYS_CHROOT)
    .union(CapabilitySet::KILL)
    .union(CapabilitySet::AUDIT_WRITE);

/// Why ct failed; `main` prints it as one line after "ct: ".
#[derive(Debug)]
enum Error {
    /// A bad command line.
    Usage(String),
    /// `unable to VERB OBJECT: reason`.
    Failed(String),
}

type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(msg) => write!(f, "{msg} (see --help)"),
            Error::Failed(msg) => f.write_str(msg),
        }
    }
}

impl From<lexopt::Error> for Error {
    fn from(e: lexopt::Error) -> Self {
        Error::Usage(e.to_string())
    }
}

/// `unable to WHAT: <errno text>`.
fn unable(what: impl fmt::Display, err: impl Into<io::Error>) -> Error {
    let text = err.into().to_string();
    // std appends " (os error N)"; the errno text alone is the reason.
    let reason = text.find(" (os error ").map_or(&text[..], |i| &text[..i]);
    Error::Failed(format!("unable to {what}: {reason}"))
}

/// `unable to WHAT: REASON` for failures that have no errno.
fn unable_because(what: impl fmt::Display, reason: &str) -> Error {
    Error::Failed(format!("unable to {what}: {reason}"))
}

trait Context<T> {
    fn or_unable<D: fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T>;
}

impl<T, E: Into<io::Error>> Context<T> for std::result::Result<T, E> {
    fn or_unable<D: fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T> {
        self.map_err(|e| unable(what(), e))
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ct: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let mut p = lexopt::Parser::from_env();
    let cmd = match p.next()? {
        Some(Long("help") | Short('h')) => return help(),
        Some(Value(cmd)) => cmd,
        Some(arg) => return Err(arg.unexpected().into()),
        None => return Err(Error::Usage("missing command".into())),
    };
    match cmd.to_str() {
        Some("rootfs") => match parse_rootfs(&mut p)? {
            Some(o) => rootfs(&o),
            None => help(),
        },
        Some("start") => match parse_start(&mut p)? {
            Some(o) => start(&o),
            None => help(),
        },
        Some("stop") => match parse_stop(&mut p)? {
            Some(pid) => stop(pid),
            None => help(),
        },
        Some("list") => match p.next()? {
            None => list(),
            Some(Long("help") | Short('h')) => help(),
            Some(arg) => Err(arg.unexpected().into()),
        },
        _ => Err(Error::Usage(format!(
            "unknown command {}",
            cmd.to_string_lossy()
        ))),
    }
}

fn help() -> Result<()> {
    io::stdout()
        .write_all(USAGE.as_bytes())
        .or_unable(|| "write the usage")
}

// ---------------------------------------------------------------- rootfs

struct RootfsOpts {
    dir: PathBuf,
    owner: Option<u32>,
}

/// Options of `ct rootfs`; `None` when `--help` was asked for.
fn parse_rootfs(p: &mut lexopt::Parser) -> Result<Option<RootfsOpts>> {
    let mut dir = None;
    let mut owner = None;
    while let Some(arg) = p.next()? {
        match arg {
            Long("owner") => owner = Some(p.value()?.parse()?),
            Long("help") | Short('h') => return Ok(None),
            Value(v) if dir.is_none() => dir = Some(PathBuf::from(v)),
            _ => return Err(arg.unexpected().into()),
        }
    }
    let dir = dir.ok_or_else(|| Error::Usage("missing DIR".into()))?;
    Ok(Some(RootfsOpts { dir, owner }))
}

/// Builds the rootfs; on failure removes what it wrote, so a retry finds
/// the directory as it was.
fn rootfs(o: &RootfsOpts) -> Result<()> {
    let created = match fs::create_dir(&o.dir) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let mut entries =
                fs::read_dir(&o.dir).or_unable(|| format!("read {}", o.dir.display()))?;
            if entries.next().is_some() {
                return Err(unable_because(
                    format!("build a rootfs in {}", o.dir.display()),
                    "directory is not empty",
                ));
            }
            false
        }
        Err(e) => return Err(unable(format!("create {}", o.dir.display()), e)),
    };
    let res = populate(&o.dir).and_then(|()| match o.owner {
        Some(by) => shift_owner(&o.dir, by),
        None => Ok(()),
    });
    if res.is_err() {
        let _ = fs::remove_dir_all(&o.dir);
        if !created {
            let _ = fs::create_dir(&o.dir);
        }
    }
    res
}

/// Writes a usr-merged, Debian-like busybox tree into the empty `root`.
fn populate(root: &Path) -> Result<()> {
    // The modes below are the ones the tree gets, whatever the caller's umask.
    umask(Mode::from_raw_mode(0o022));
    let dirs = [
        "usr/bin", "usr/sbin", "usr/lib", "proc", "sys", "dev", "tmp", "etc", "root", "home/app",
        "mnt", "var", "run",
    ];
    for d in dirs {
        let p = root.join(d);
        fs::create_dir_all(&p).or_unable(|| format!("create {}", p.display()))?;
    }
    for (link, target) in [("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib")] {
        make_symlink(target, &root.join(link))?;
    }
    set_mode(&root.join("tmp"), 0o1777)?;
    set_mode(&root.join("root"), 0o700)?;
    let home = root.join("home/app");
    lchown(&home, Some(APP_ID), Some(APP_ID)).or_unable(|| format!("chown {}", home.display()))?;

    let busybox = root.join("usr/bin/busybox");
    fs::copy("/bin/busybox", &busybox).or_unable(|| "copy /bin/busybox")?;
    set_mode(&busybox, 0o755)?;
    let out = Command::new("/bin/busybox")
        .arg("--list")
        .output()
        .or_unable(|| "run /bin/busybox --list")?;
    for name in out.stdout.split(|&b| b == b'\n') {
        // Names are single path components; anything else is not an applet.
        if name.is_empty() || name == b"busybox" || name.contains(&b'/') || name[0] == b'.' {
            continue;
        }
        let name = OsStr::from_bytes(name);
        make_symlink("busybox", &root.join("usr/bin").join(name))?;
    }

    let files: [(&str, &str); 8] = [
        (
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\n\
             app:x:1000:1000:app:/home/app:/bin/sh\n\
             nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
        ),
        (
            "etc/group",
            "root:x:0:\napp:x:1000:\nstaff2:x:2000:app\nnogroup:x:65534:\n",
        ),
        ("etc/hostname", "ct\n"),
        (
            "etc/hosts",
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
        ),
        ("etc/resolv.conf", "nameserver 192.0.2.53\n"),
        (
            "etc/os-release",
            "ID=ct\nNAME=\"ct\"\nPRETTY_NAME=\"ct test container (busybox)\"\n",
        ),
        ("etc/ct-marker", "inside-ct\n"),
        ("etc/shells", "/bin/sh\n/bin/ash\n"),
    ];
    for (path, text) in files {
        let p = root.join(path);
        fs::write(&p, text).or_unable(|| format!("write {}", p.display()))?;
    }

    // Tokyo: a zone that is neither UTC nor the host's usual one, so a test
    // can tell whose /etc/localtime it reads.
    let zones = [
        "/usr/share/zoneinfo/Asia/Tokyo",
        "/usr/share/zoneinfo/Etc/UTC",
        "/usr/share/zoneinfo/UTC",
    ];
    if let Some(zone) = zones.iter().find(|z| Path::new(z).is_file()) {
        let p = root.join("etc/localtime");
        fs::copy(zone, &p).or_unable(|| format!("copy {zone}"))?;
    }
    Ok(())
}

fn make_symlink(target: &str, link: &Path) -> Result<()> {
    symlink(target, link).or_unable(|| format!("create symlink {}", link.display()))
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .or_unable(|| format!("chmod {}", path.display()))
}

/// Adds `by` to the owner and group of everything under `path`, symlinks
/// included, without following them.
fn shift_owner(path: &Path, by: u32) -> Result<()> {
    let md = fs::symlink_metadata(path).or_unable(|| format!("stat {}", path.display()))?;
    let (uid, gid) = match (md.uid().checked_add(by), md.gid().checked_add(by)) {
        (Some(uid), Some(gid)) => (uid, gid),
        _ => {
            return Err(unable_because(
                format!("chown {}", path.display()),
                "id out of range",
            ))
        }
    };
    lchown(path, Some(uid), Some(gid)).or_unable(|| format!("chown {}", path.display()))?;
    if md.is_dir() {
        for entry in fs::read_dir(path).or_unable(|| format!("read {}", path.display()))? {
            let entry = entry.or_unable(|| format!("read {}", path.display()))?;
            shift_owner(&entry.path(), by)?;
        }
    }
    Ok(())
}

// ----------------------------------------------------------------- start

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Full,
    Docker,
    User,
    Userns,
    UsernsUser,
}

impl Variant {
    /// Whether the container gets a user namespace of its own.
    fn userns(self) -> bool {
        matches!(self, Variant::Userns | Variant::UsernsUser)
    }

    /// Whether the init runs as the unprivileged user.
    fn app_user(self) -> bool {
        matches!(self, Variant::User | Variant::UsernsUser)
    }
}

struct StartOpts {
    rootfs: PathBuf,
    name: String,
    variant: Variant,
    hostname: String,
    mounts: u32,
    env: Vec<(OsString, OsString)>,
    pidfile: Option<PathBuf>,
    cmd: Vec<OsString>,
}

/// Options of `ct start`; `None` when `--help` was asked for. The first
/// positional word starts CMD, and the rest is CMD's, verbatim.
fn parse_start(p: &mut lexopt::Parser) -> Result<Option<StartOpts>> {
    let mut rootfs = None;
    let mut name = None;
    let mut variant = Variant::Full;
    let mut hostname = None;
    let mut mounts = 0;
    let mut env = Vec::new();
    let mut pidfile = None;
    let mut cmd = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Long("rootfs") => rootfs = Some(PathBuf::from(p.value()?)),
            Long("name") => name = Some(p.value()?.string()?),
            Long("variant") => {
                variant = match p.value()?.to_str() {
                    Some("full") => Variant::Full,
                    Some("docker") => Variant::Docker,
                    Some("user") => Variant::User,
                    Some("userns") => Variant::Userns,
                    Some("userns-user") => Variant::UsernsUser,
                    _ => {
                        return Err(Error::Usage(
                            "--variant takes full, docker, user, userns or userns-user".into(),
                        ))
                    }
                }
            }
            Long("hostname") => hostname = Some(p.value()?.string()?),
            Long("mounts") => mounts = p.value()?.parse()?,
            Long("env") => {
                let kv = p.value()?.into_vec();
                match kv.iter().position(|&b| b == b'=') {
                    Some(i) if i > 0 => {
                        let v = kv[i + 1..].to_vec();
                        let mut k = kv;
                        k.truncate(i);
                        env.push((OsString::from_vec(k), OsString::from_vec(v)));
                    }
                    _ => return Err(Error::Usage("--env takes K=V".into())),
                }
            }
            Long("pidfile") => pidfile = Some(PathBuf::from(p.value()?)),
            Long("help") | Short('h') => return Ok(None),
            Value(v) => {
                cmd.push(v);
                cmd.extend(p.raw_args()?);
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    let rootfs = rootfs.ok_or_else(|| Error::Usage("missing --rootfs DIR".into()))?;
    let name = name.unwrap_or_else(|| format!("ct{}", std::process::id()));
    // NAME becomes a directory name in every cgroup hierarchy.
    let name_ok = name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !name_ok || name.is_empty() {
        return Err(Error::Usage(format!("bad --name {name:?}")));
    }
    let hostname = hostname.unwrap_or_else(|| format!("ct-{name}"));
    // HOST_NAME_MAX; a newline would corrupt etc/hostname.
    if hostname.is_empty() || hostname.len() > 64 || hostname.contains('\n') {
        return Err(Error::Usage(format!("bad --hostname {hostname:?}")));
    }
    if cmd.is_empty() {
        cmd = vec!["/bin/sleep".into(), "infinity".into()];
    }
    Ok(Some(StartOpts {
        rootfs,
        name,
        variant,
        hostname,
        mounts,
        env,
        pidfile,
        cmd,
    }))
}

/// The signals the supervisor waits for with `rt_sigtimedwait`.
fn supervised() -> u64 {
    [Signal::TERM, Signal::INT, Signal::HUP, Signal::CHILD]
        .iter()
        .fold(0, |m, s| m | 1 << (s.as_raw() - 1))
}

fn start(o: &StartOpts) -> Result<()> {
    let rootfs =
        fs::canonicalize(&o.rootfs).or_unable(|| format!("find {}", o.rootfs.display()))?;
    // Block before creating anything: a SIGTERM during setup must end as a
    // SIGKILL of the init and a cleanup, not kill ct and leak cgroups.
    sigprocmask(SIG_BLOCK, supervised()).or_unable(|| "block signals")?;
    let cgroups = Cgroups::create(&hierarchies()?, &o.name)?;
    let res = run_container(o, &rootfs, &cgroups);
    let removed = cgroups.remove();
    res.and(removed)
}

/// Clones the container init, releases it, announces it and waits for it.
fn run_container(o: &StartOpts, rootfs: &Path, cgroups: &Cgroups) -> Result<()> {
    // The init reports a setup failure on `report`: the pipe is CLOEXEC, so
    // EOF without a word means its execve succeeded.
    let (report_r, report_w) = pipe_with(PipeFlags::CLOEXEC).or_unable(|| "create a pipe")?;
    // The init waits on `go` until the supervisor has done its part; the
    // supervisor keeps its end open until the init is gone, so that a
    // hang-up on it means the supervisor died.
    let (go_r, go_w) = pipe_with(PipeFlags::CLOEXEC).or_unable(|| "create a pipe")?;
    let mut ns = UnshareFlags::NEWNS
        | UnshareFlags::NEWUTS
        | UnshareFlags::NEWIPC
        | UnshareFlags::NEWNET
        | UnshareFlags::NEWPID
        | UnshareFlags::NEWCGROUP;
    if o.variant.userns() {
        ns |= UnshareFlags::NEWUSER;
    }

    // Join the container's cgroups before the clone: a new cgroup namespace
    // is rooted at the cgroups its creator is in at clone time, and the
    // init must never run outside them.
    if let Err(e) = cgroups.enter() {
        let _ = cgroups.leave();
        return Err(e);
    }
    let cloned = match clone_process(ns) {
        Ok(Forked::Child) => {
            drop(report_r);
            drop(go_w);
            container_main(o, rootfs, go_r, report_w)
        }
        Ok(Forked::Parent(pid)) => Ok(pid),
        Err(e) => Err(e),
    };
    // Leave at once: a cgroup ct is still in cannot be removed.
    let left = cgroups.leave();
    let pid = cloned.or_unable(|| "clone the container init")?;
    drop(report_w);
    drop(go_r);

    let setup = left
        .and_then(|()| release(o, pid, &go_w, report_r))
        .and_then(|()| announce(o, pid))
        .and_then(|()| supervise(pid));
    if setup.is_err() {
        kill_and_reap(pid);
    }
    setup
}

enum Forked {
    Child,
    Parent(Pid),
}

/// `clone(2)` with new namespaces, no `CLONE_VM` and no new stack: fork(2)
/// semantics, so the child runs on a copy of ct's memory.
fn clone_process(ns: UnshareFlags) -> io::Result<Forked> {
    let flags = ns.bits() as usize | Signal::CHILD.as_raw() as usize;
    // SAFETY: without CLONE_VM the child gets its own copy of the address
    // space, stack included, as with fork(2); ct is single-threaded, so no
    // lock in that copy can be held by a thread that does not exist there.
    let ret = unsafe { sc::syscall!(CLONE, flags, 0, 0, 0, 0) };
    match syscall_result(ret)? {
        0 => Ok(Forked::Child),
        pid => Pid::from_raw(pid as i32)
            .map(Forked::Parent)
            .ok_or_else(|| io::Error::from(Errno::SRCH)),
    }
}

/// Lets the container init go on once it can, and reads its verdict:
/// 1. for userns and userns-user, write its uid and gid maps; before them
///    it has no ids, and whatever it created would belong to the overflow
///    user;
/// 2. send the go byte;
/// 3. read the report pipe to EOF: empty means the execve succeeded.
fn release(o: &StartOpts, pid: Pid, go: &OwnedFd, report: OwnedFd) -> Result<()> {
    if o.variant.userns() {
        let map = format!("0 {USERNS_BASE} {USERNS_SIZE}\n");
        for file in ["uid_map", "gid_map"] {
            let path = format!("/proc/{}/{file}", pid.as_raw_nonzero());
            fs::write(&path, &map).or_unable(|| format!("write {path}"))?;
        }
    }
    // A failure here means the init is gone; its report says why.
    let _ = rustix::io::write(go, b"1");
    let mut msg = Vec::new();
    fs::File::from(report)
        .take(4096)
        .read_to_end(&mut msg)
        .or_unable(|| "read the container's report")?;
    if !msg.is_empty() {
        return Err(Error::Failed(String::from_utf8_lossy(&msg).into_owned()));
    }
    Ok(())
}

/// Prints the init's host PID on stdout and, atomically, to the pidfile.
fn announce(o: &StartOpts, pid: Pid) -> Result<()> {
    let line = format!("{}\n", pid.as_raw_nonzero());
    let mut out = io::stdout().lock();
    out.write_all(line.as_bytes())
        .and_then(|()| out.flush())
        .or_unable(|| "write the PID to stdout")?;
    if let Some(file) = &o.pidfile {
        // Readers poll for the file: they must never see it half written.
        let mut tmp = file.clone().into_os_string();
        tmp.push(format!(".tmp{}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        fs::write(&tmp, &line)
            .and_then(|()| fs::rename(&tmp, file))
            .or_unable(|| format!("write {}", file.display()))?;
    }
    Ok(())
}

/// Waits for the init to exit; SIGTERM, SIGINT and SIGHUP become SIGKILL
/// for it (the init of a PID namespace ignores signals it has no handler
/// for, and `sleep infinity` has none).
fn supervise(pid: Pid) -> Result<()> {
    loop {
        let sig = sigwait(supervised()).or_unable(|| "wait for signals")?;
        if sig != Signal::CHILD.as_raw() {
            let _ = kill_process(pid, Signal::KILL);
            continue;
        }
        match waitpid(Some(pid), WaitOptions::NOHANG) {
            Ok(Some(_)) | Err(Errno::CHILD) => return Ok(()),
            Ok(None) => continue,
            Err(e) => return Err(unable(format!("wait for {}", pid.as_raw_nonzero()), e)),
        }
    }
}

fn kill_and_reap(pid: Pid) {
    let _ = kill_process(pid, Signal::KILL);
    let _ = waitpid(Some(pid), WaitOptions::empty());
}

// -------------------------------------------------- the container init

/// The cloned child: sets the container up and execs CMD; on failure sends
/// the one-line reason to the supervisor and exits.
fn container_main(o: &StartOpts, rootfs: &Path, go: OwnedFd, report: OwnedFd) -> ! {
    let err = match container_init(o, rootfs, go) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    let _ = rustix::io::write(&report, err.to_string().as_bytes());
    exit_now(1)
}

/// The container init's setup, in order:
/// 1. die with the supervisor, and wait for its go (after the id maps);
/// 2. make `/` private, bind the rootfs on itself and enter it, still as
///    the host's uid 0, which owns the (0700) directories above the rootfs;
/// 3. become root of its own user namespace, so that what it creates has
///    an owner the container can see;
/// 4. mount proc, dev, tmp, the `--mounts` and etc/hostname;
/// 5. pivot_root into the rootfs and detach the old root;
/// 6. set the hostname, then the credentials of the variant;
/// 7. execve CMD with a fresh environment.
fn container_init(o: &StartOpts, rootfs: &Path, go: OwnedFd) -> Result<Infallible> {
    // Nobody else would kill the container, or remove its cgroups, once the
    // supervisor is gone.
    rustix::process::set_parent_process_death_signal(Some(Signal::KILL))
        .or_unable(|| "set the parent death signal")?;
    let mut byte = [0u8];
    if !matches!(rustix::io::read(&go, &mut byte), Ok(1)) {
        // The supervisor died before the go: there is no one to report to.
        exit_now(1)
    }

    // Private first: the mounts below must not propagate to the host.
    mount_change(
        "/",
        MountPropagationFlags::REC | MountPropagationFlags::PRIVATE,
    )
    .or_unable(|| "make / private")?;
    // pivot_root needs the new root to be a mount point.
    mount_bind_recursive(rootfs, rootfs)
        .or_unable(|| format!("bind {} on itself", rootfs.display()))?;
    chdir(rootfs).or_unable(|| format!("enter {}", rootfs.display()))?;

    let root = Gid::ROOT;
    set_thread_res_gid(root, root, root).or_unable(|| "set gid 0")?;
    set_thread_groups(&[root]).or_unable(|| "set groups 0")?;
    set_thread_res_uid(Uid::ROOT, Uid::ROOT, Uid::ROOT).or_unable(|| "set uid 0")?;
    rearm_death_signal(&go)?;

    // Paths are relative to the rootfs from here on.
    let show = |rel: &str| rootfs.join(rel).display().to_string();
    let nosuid = MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC;
    mount("proc", "proc", "proc", nosuid, None)
        .or_unable(|| format!("mount proc on {}", show("proc")))?;
    mount_dev(&show)?;
    mount(
        "tmpfs",
        "tmp",
        "tmpfs",
        MountFlags::NOSUID | MountFlags::NODEV,
        c"mode=1777",
    )
    .or_unable(|| format!("mount tmpfs on {}", show("tmp")))?;
    if o.mounts > 0 {
        // The mount points live in a tmpfs: nothing lands in the rootfs on
        // disk, which other containers may share.
        mount("tmpfs", "mnt", "tmpfs", nosuid, c"mode=755,size=1m")
            .or_unable(|| format!("mount tmpfs on {}", show("mnt")))?;
        for i in 0..o.mounts {
            let dir = format!("mnt/m{i}");
            fs::create_dir(&dir).or_unable(|| format!("create {}", show(&dir)))?;
            mount("tmpfs", dir.as_str(), "tmpfs", nosuid, c"mode=755,size=4k")
                .or_unable(|| format!("mount tmpfs on {}", show(&dir)))?;
        }
    }
    mount_hostname_file(&o.hostname).or_unable(|| format!("mount {}", show("etc/hostname")))?;

    // pivot_root(".", ".") stacks the old root on the new one, and the
    // detach removes it: no oldroot directory is needed (pivot_root(2)).
    pivot_root(".", ".").or_unable(|| format!("pivot_root to {}", rootfs.display()))?;
    unmount(".", UnmountFlags::DETACH).or_unable(|| "detach the old root")?;
    chdir("/").or_unable(|| "enter /")?;
    rustix::system::sethostname(o.hostname.as_bytes()).or_unable(|| "set the hostname")?;

    set_credentials(o.variant)?;
    rearm_death_signal(&go)?;
    drop(go);
    exec(o)
}

/// A change of uid or gid clears the parent death signal (prctl(2)): set it
/// again, then check that the supervisor did not die in between (its end of
/// `go` would have hung up).
fn rearm_death_signal(go: &OwnedFd) -> Result<()> {
    rustix::process::set_parent_process_death_signal(Some(Signal::KILL))
        .or_unable(|| "set the parent death signal")?;
    let mut fds = [PollFd::new(go, PollFlags::IN)];
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    match poll(&mut fds, Some(&now)) {
        Ok(0) => Ok(()),
        _ => exit_now(1),
    }
}

/// A small tmpfs on dev with the host's null, zero, urandom and tty bound
/// in; a tmpfs cannot hold working device nodes in a user namespace, bind
/// mounts of the host's can.
fn mount_dev(show: &dyn Fn(&str) -> String) -> Result<()> {
    mount(
        "tmpfs",
        "dev",
        "tmpfs",
        MountFlags::NOSUID | MountFlags::NOEXEC,
        c"mode=755,size=64k",
    )
    .or_unable(|| format!("mount tmpfs on {}", show("dev")))?;
    for name in ["null", "zero", "urandom", "tty"] {
        let host = format!("/dev/{name}");
        if name == "tty" && fs::symlink_metadata(&host).is_err() {
            continue;
        }
        let target = format!("dev/{name}");
        fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&target)
            .or_unable(|| format!("create {}", show(&target)))?;
        mount_bind(host.as_str(), target.as_str())
            .or_unable(|| format!("bind {host} on {}", show(&target)))?;
    }
    // A devpts instance of the container's own, as engines give, so that
    // a terminal allocated inside is visible inside.
    fs::create_dir("dev/pts").or_unable(|| format!("create {}", show("dev/pts")))?;
    mount(
        "devpts",
        "dev/pts",
        "devpts",
        MountFlags::NOSUID | MountFlags::NOEXEC,
        c"newinstance,ptmxmode=0666,mode=0620",
    )
    .or_unable(|| format!("mount devpts on {}", show("dev/pts")))?;
    std::os::unix::fs::symlink("pts/ptmx", "dev/ptmx")
        .or_unable(|| format!("create {}", show("dev/ptmx")))?;
    Ok(())
}

/// Gives the container its own etc/hostname without writing to the rootfs,
/// which other containers may share:
/// 1. fsopen + fsmount a tiny tmpfs that is attached nowhere;
/// 2. write `hostname` into it;
/// 3. clone a mount of just that file (open_tree) and attach it on
///    etc/hostname (move_mount).
///
/// The detached tmpfs vanishes with its fds; the file mount keeps the
/// superblock alive.
fn mount_hostname_file(hostname: &str) -> io::Result<()> {
    let fs = fsopen("tmpfs", FsOpenFlags::FSOPEN_CLOEXEC)?;
    fsconfig_set_string(&fs, "source", "tmpfs")?;
    fsconfig_set_string(&fs, "size", "4k")?;
    fsconfig_create(&fs)?;
    let attrs = MountAttrFlags::MOUNT_ATTR_NOSUID
        | MountAttrFlags::MOUNT_ATTR_NODEV
        | MountAttrFlags::MOUNT_ATTR_NOEXEC;
    let mnt = fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, attrs)?;
    let file = openat(
        &mnt,
        "hostname",
        OFlags::CREATE | OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    )?;
    fs::File::from(file).write_all(format!("{hostname}\n").as_bytes())?;
    let tree = open_tree(
        &mnt,
        "hostname",
        OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC,
    )?;
    move_mount(
        &tree,
        "",
        CWD,
        "etc/hostname",
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
    )?;
    Ok(())
}

/// The capabilities and ids of each variant (after the pivot: a `user`
/// init could no longer mount anything):
/// - full, userns: root with every capability of its user namespace;
/// - docker: drop all but Docker's set from the bounding set first (that
///   needs CAP_SETPCAP, which the set keeps), then trim permitted and
///   effective to it and empty inheritable and ambient, so that execve as
///   root gets exactly that set;
/// - user, userns-user: docker's sets, then uid and gid 1000; the change
///   of uid from 0 clears permitted, effective and ambient
///   (capabilities(7)).
fn set_credentials(v: Variant) -> Result<()> {
    if matches!(v, Variant::Full | Variant::Userns) {
        return Ok(());
    }
    for bit in 0..64 {
        let cap = CapabilitySet::from_bits_retain(1 << bit);
        if DOCKER_CAPS.contains(cap) {
            continue;
        }
        match remove_capability_from_bounding_set(cap) {
            Ok(()) => {}
            // Past CAP_LAST_CAP.
            Err(Errno::INVAL) => break,
            Err(e) => return Err(unable(format!("drop capability {bit}"), e)),
        }
    }
    let now = capabilities(None).or_unable(|| "read capabilities")?;
    let keep = now.permitted & DOCKER_CAPS;
    let sets = CapabilitySets {
        effective: keep,
        permitted: keep,
        inheritable: CapabilitySet::empty(),
    };
    set_capabilities(None, sets).or_unable(|| "set capabilities")?;
    clear_ambient_capability_set().or_unable(|| "clear ambient capabilities")?;
    if v.app_user() {
        let groups = APP_GROUPS.map(Gid::from_raw);
        set_thread_groups(&groups).or_unable(|| "set groups")?;
        let (g, u) = (Gid::from_raw(APP_ID), Uid::from_raw(APP_ID));
        set_thread_res_gid(g, g, g).or_unable(|| format!("set gid {APP_ID}"))?;
        set_thread_res_uid(u, u, u).or_unable(|| format!("set uid {APP_ID}"))?;
    }
    Ok(())
}

fn exec(o: &StartOpts) -> Result<Infallible> {
    let home = if o.variant.app_user() {
        "/home/app"
    } else {
        "/root"
    };
    let mut cmd = Command::new(&o.cmd[0]);
    cmd.args(&o.cmd[1..])
        .env_clear()
        .env("PATH", PATH)
        .env("HOME", home)
        .env("HOSTNAME", &o.hostname)
        .env("CT_NAME", &o.name);
    for (k, v) in &o.env {
        cmd.env(k, v);
    }
    // The mask blocked for the supervisor survives execve, and would leave
    // the container's processes deaf to SIGTERM and SIGCHLD; so do ignored
    // signals (a shell starts background jobs with SIGINT and SIGQUIT
    // ignored). A container's init starts with neither.
    sigprocmask(SIG_SETMASK, 0).or_unable(|| "unblock signals")?;
    reset_signal_dispositions().or_unable(|| "reset signal dispositions")?;
    let err = cmd.exec();
    Err(unable(
        format!("execute {}", o.cmd[0].to_string_lossy()),
        err,
    ))
}

/// `exit_group(2)` straight away: this is a copy of ct, and exit handlers
/// or buffer flushes would redo the supervisor's work.
fn exit_now(code: i32) -> ! {
    // SAFETY: exit_group takes no pointers and does not return.
    let _ = unsafe { sc::syscall!(EXIT_GROUP, code) };
    std::process::abort()
}

// --------------------------------------------------------------- signals

const SIG_BLOCK: usize = 0;
const SIG_SETMASK: usize = 2;

/// The kernel's `-errno` convention for raw syscalls.
fn syscall_result(ret: usize) -> io::Result<usize> {
    if ret > -4096isize as usize {
        Err(io::Error::from_raw_os_error(-(ret as isize) as i32))
    } else {
        Ok(ret)
    }
}

/// `rt_sigprocmask(2)` on the kernel's 64-bit signal set.
fn sigprocmask(how: usize, set: u64) -> io::Result<()> {
    // SAFETY: `set` outlives the call; the old set is not asked for.
    let ret = unsafe { sc::syscall!(RT_SIGPROCMASK, how, &set as *const u64, 0, 8) };
    syscall_result(ret).map(drop)
}

/// `rt_sigaction(2)`: every catchable signal back to SIG_DFL.
fn reset_signal_dispositions() -> io::Result<()> {
    // struct kernel_sigaction { handler, flags, restorer, mask }, all zero:
    // SIG_DFL needs no restorer.
    let dfl = [0u64; 4];
    for sig in 1..=64 {
        if sig == Signal::KILL.as_raw() || sig == Signal::STOP.as_raw() {
            continue;
        }
        // SAFETY: `dfl` outlives the call; the old action is not asked for.
        let ret = unsafe { sc::syscall!(RT_SIGACTION, sig, dfl.as_ptr(), 0, 8) };
        syscall_result(ret)?;
    }
    Ok(())
}

/// `rt_sigtimedwait(2)` with no timeout: the number of the next pending
/// signal in `set` (which must be blocked).
fn sigwait(set: u64) -> io::Result<i32> {
    // siginfo_t is 128 bytes.
    let mut info = [0u64; 16];
    loop {
        // SAFETY: `set` and `info` outlive the call and are large enough.
        let ret =
            unsafe { sc::syscall!(RT_SIGTIMEDWAIT, &set as *const u64, info.as_mut_ptr(), 0, 8) };
        match syscall_result(ret) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r.map(|sig| sig as i32),
        }
    }
}

// --------------------------------------------------------------- cgroups

/// ct's own cgroup in one hierarchy.
struct Hierarchy {
    dir: PathBuf,
    cpuset: bool,
    v2: bool,
}

/// Every mounted cgroup hierarchy, with ct's own cgroup in it.
fn hierarchies() -> Result<Vec<Hierarchy>> {
    let mountinfo =
        read_bounded("/proc/self/mountinfo", 16 << 20).or_unable(|| "read /proc/self/mountinfo")?;
    let cgroup =
        read_bounded("/proc/self/cgroup", 1 << 20).or_unable(|| "read /proc/self/cgroup")?;
    Ok(find_hierarchies(&mountinfo, &cgroup))
}

/// Pairs each line of /proc/self/cgroup with a mount of its hierarchy. The
/// containers go below ct's own cgroup, not at the top: ct may be confined
/// to a cgroup (here the memory one), and its containers must stay there.
fn find_hierarchies(mountinfo: &[u8], cgroup: &[u8]) -> Vec<Hierarchy> {
    let mounts: Vec<MountEntry> = lines(mountinfo)
        .filter_map(parse_mountinfo_line)
        .filter(|m| m.fstype == b"cgroup" || m.fstype == b"cgroup2")
        .collect();
    let mut found = Vec::new();
    for line in lines(cgroup) {
        let mut fields = line.splitn(3, |&b| b == b':');
        let (Some(_id), Some(ctrls), Some(path)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let v2 = ctrls.is_empty();
        let path = Path::new(OsStr::from_bytes(path));
        let matches = |m: &&MountEntry| {
            if v2 {
                m.fstype == b"cgroup2"
            } else {
                m.fstype == b"cgroup"
                    && ctrls
                        .split(|&b| b == b',')
                        .all(|c| m.superopts.split(|&b| b == b',').any(|o| o == c))
            }
        };
        // The mount's root is a cgroup too; ct's must lie below it.
        let dir = mounts.iter().filter(matches).find_map(|m| {
            let root = Path::new(OsStr::from_bytes(&m.root));
            let rel = path.strip_prefix(root).ok()?;
            Some(Path::new(OsStr::from_bytes(&m.mountpoint)).join(rel))
        });
        if let Some(dir) = dir {
            let cpuset = ctrls.split(|&b| b == b',').any(|c| c == b"cpuset");
            found.push(Hierarchy { dir, cpuset, v2 });
        }
    }
    found
}

/// ct's cgroup (`home`) and the container's (`own`) in one hierarchy.
struct Cgroup {
    home: PathBuf,
    base: PathBuf,
    own: PathBuf,
}

/// The container's cgroups, one per hierarchy, all created by this ct.
struct Cgroups(Vec<Cgroup>);

impl Cgroups {
    /// Creates `cntr-test/ct-NAME` below ct's cgroup in every hierarchy;
    /// on failure removes the ones it made.
    fn create(hier: &[Hierarchy], name: &str) -> Result<Cgroups> {
        let mut made = Cgroups(Vec::new());
        for h in hier {
            match make_cgroup(h, name) {
                Ok(cg) => made.0.push(cg),
                Err(e) => {
                    let _ = made.remove();
                    return Err(e);
                }
            }
        }
        Ok(made)
    }

    /// Moves ct into the container's cgroups.
    fn enter(&self) -> Result<()> {
        for cg in &self.0 {
            join_cgroup(&cg.own)?;
        }
        Ok(())
    }

    /// Moves ct back home; tries every hierarchy and reports the first error.
    fn leave(&self) -> Result<()> {
        let mut res = Ok(());
        for cg in &self.0 {
            res = res.and(join_cgroup(&cg.home));
        }
        res
    }

    /// Removes the container's cgroups, and `cntr-test` when it is the last.
    fn remove(&self) -> Result<()> {
        let mut res = Ok(());
        for cg in &self.0 {
            res = res.and(remove_cgroup(&cg.own));
            // Busy while other containers run, gone if one of them was
            // quicker: both are fine.
            let _ = fs::remove_dir(&cg.base);
        }
        res
    }
}

fn make_cgroup(h: &Hierarchy, name: &str) -> Result<Cgroup> {
    let base = h.dir.join(CGROUP_DIR);
    let own = base.join(format!("ct-{name}"));
    let mut attempt = 0;
    loop {
        match fs::create_dir(&base) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(unable(format!("create cgroup {}", base.display()), e)),
        }
        if h.cpuset {
            copy_cpuset(&h.dir, &base)?;
        }
        match fs::create_dir(&own) {
            Ok(()) => break,
            // The last container of another ct removed `base` just now.
            Err(e) if e.kind() == io::ErrorKind::NotFound && attempt < 10 => attempt += 1,
            Err(e) => return Err(unable(format!("create cgroup {}", own.display()), e)),
        }
    }
    if h.cpuset {
        if let Err(e) = copy_cpuset(&base, &own) {
            let _ = fs::remove_dir(&own);
            return Err(e);
        }
    }
    Ok(Cgroup {
        home: h.dir.clone(),
        base,
        own,
    })
}

/// A new v1 cpuset starts with no CPUs and no memory nodes, and no task
/// can join it until both are set; copy them from the parent. A cpuset
/// already set up is left alone, since changing it could fail while other
/// containers run below it.
fn copy_cpuset(from: &Path, to: &Path) -> Result<()> {
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let dst = to.join(file);
        let current = read_bounded(&dst, 4096).or_unable(|| format!("read {}", dst.display()))?;
        if !current.trim_ascii().is_empty() {
            continue;
        }
        let src = from.join(file);
        let value = read_bounded(&src, 4096).or_unable(|| format!("read {}", src.display()))?;
        fs::write(&dst, value.trim_ascii()).or_unable(|| format!("write {}", dst.display()))?;
    }
    Ok(())
}

/// Moves ct (pid "0": the writer) into the cgroup `dir`.
fn join_cgroup(dir: &Path) -> Result<()> {
    let procs = dir.join("cgroup.procs");
    fs::write(&procs, "0").or_unable(|| format!("join cgroup {}", dir.display()))
}

/// rmdir, retried for a second: the tasks of a PID namespace whose init was
/// just reaped may take some milliseconds to leave the cgroup.
fn remove_cgroup(dir: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(unable(format!("remove cgroup {}", dir.display()), e))
            }
            Err(_) => sleep(Duration::from_millis(10)),
        }
    }
}

// ------------------------------------------------------------ stop, list

/// Options of `ct stop`; `None` when `--help` was asked for.
fn parse_stop(p: &mut lexopt::Parser) -> Result<Option<Pid>> {
    let mut pid = None;
    while let Some(arg) = p.next()? {
        match arg {
            Long("help") | Short('h') => return Ok(None),
            Value(v) if pid.is_none() => {
                let raw: i32 = v.parse()?;
                pid = Some(Pid::from_raw(raw).ok_or_else(|| Error::Usage("bad PID".into()))?);
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    pid.map(Some)
        .ok_or_else(|| Error::Usage("missing PID".into()))
}

/// Kills a container init and waits until it, and then its supervisor
/// (which removes the cgroups), have exited.
fn stop(pid: Pid) -> Result<()> {
    let n = pid.as_raw_nonzero();
    let what = || format!("stop {n}");
    // pidfd first, checks second: if the PID is reused in between, the
    // pidfd still names the old process and the SIGKILL fails with ESRCH
    // instead of hitting a stranger.
    let init = pidfd_open(pid, PidfdFlags::empty()).or_unable(what)?;
    let status = read_bounded(format!("/proc/{n}/status"), 64 << 10).or_unable(what)?;
    if !is_container_init(&status) {
        return Err(unable_because(what(), "not the init of a PID namespace"));
    }
    let supervisor = status_field(&status, b"PPid")
        .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok())
        .and_then(Pid::from_raw)
        .and_then(open_supervisor);
    pidfd_send_signal(&init, Signal::KILL).or_unable(what)?;
    let deadline = Instant::now() + Duration::from_secs(5);
    if !wait_exit(&init, deadline).or_unable(what)? {
        return Err(unable_because(what(), "still running after 5 s"));
    }
    if let Some(sup) = supervisor {
        if !wait_exit(&sup, deadline).or_unable(what)? {
            return Err(unable_because(
                what(),
                "its supervisor still runs after 5 s",
            ));
        }
    }
    Ok(())
}

/// A pidfd for `ppid` if it is a ct (a supervisor), checked after opening
/// for the same reason as in `stop`.
fn open_supervisor(ppid: Pid) -> Option<OwnedFd> {
    let fd = pidfd_open(ppid, PidfdFlags::empty()).ok()?;
    let comm = read_bounded(format!("/proc/{}/comm", ppid.as_raw_nonzero()), 64).ok()?;
    (comm == b"ct\n").then_some(fd)
}

/// Waits until the process of `pidfd` has exited; false on timeout.
fn wait_exit(pidfd: &OwnedFd, deadline: Instant) -> io::Result<bool> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let timeout = Timespec {
            tv_sec: left.as_secs() as i64,
            tv_nsec: i64::from(left.subsec_nanos()),
        };
        let mut fds = [PollFd::new(pidfd, PollFlags::IN)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) => return Ok(false),
            Ok(_) => return Ok(true),
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// A ct container init, as seen from the host: PID 1 of a PID namespace
/// one level below ours (NSpid has two entries, the last is 1).
fn is_container_init(status: &[u8]) -> bool {
    let Some(nspid) = status_field(status, b"NSpid") else {
        return false;
    };
    let ids: Vec<&[u8]> = nspid
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty())
        .collect();
    ids.len() == 2 && ids[1] == b"1"
}

/// The value of `Name:` in a /proc/PID/status, trimmed.
fn status_field<'a>(status: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    lines(status).find_map(|line| {
        let rest = line.strip_prefix(name)?.strip_prefix(b":")?;
        Some(rest.trim_ascii())
    })
}

/// One line per container: its cgroup name and the PIDs in it. The
/// containers have a cgroup in every hierarchy; one is enough, the
/// unified one if it is mounted.
fn list() -> Result<()> {
    let hier = hierarchies()?;
    let Some(h) = hier.iter().find(|h| h.v2).or(hier.first()) else {
        return Ok(());
    };
    let base = h.dir.join(CGROUP_DIR);
    let entries = match fs::read_dir(&base) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(unable(format!("read {}", base.display()), e)),
    };
    let mut names: Vec<OsString> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name())
        .filter(|n| n.as_bytes().starts_with(b"ct-"))
        .collect();
    names.sort();
    let mut out = io::stdout().lock();
    for name in names {
        let procs = base.join(&name).join("cgroup.procs");
        // A container that ends while we list is not an error.
        let Ok(pids) = read_bounded(&procs, 1 << 20) else {
            continue;
        };
        // A cgroup with no PIDs is left over from a supervisor that was
        // SIGKILLed; listing it tells why `--name` says "File exists".
        let mut line = name.into_vec();
        for pid in lines(&pids).filter(|l| !l.is_empty()) {
            line.push(b' ');
            line.extend_from_slice(pid);
        }
        line.push(b'\n');
        out.write_all(&line).or_unable(|| "write the list")?;
    }
    out.flush().or_unable(|| "write the list")
}

// ----------------------------------------------------------------- /proc

/// Reads at most `limit` bytes of a file (opened O_CLOEXEC, as std does).
fn read_bounded(path: impl AsRef<Path>, limit: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    fs::File::open(path)?.take(limit).read_to_end(&mut buf)?;
    Ok(buf)
}

/// The lines of `data`, without their newlines.
fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let line = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or_default();
        Some(line)
    })
}

/// The fields of a mountinfo line that ct needs.
struct MountEntry<'a> {
    root: Vec<u8>,
    mountpoint: Vec<u8>,
    fstype: &'a [u8],
    superopts: &'a [u8],
}

/// proc_pid_mountinfo(5): `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS
/// [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS`; the optional fields are any
/// number, so the ones after them are found from the `-`.
fn parse_mountinfo_line(line: &[u8]) -> Option<MountEntry<'_>> {
    let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let sep = 6 + fields.get(6..)?.iter().position(|f| *f == b"-")?;
    Some(MountEntry {
        root: unescape(fields[3]),
        mountpoint: unescape(fields[4]),
        fstype: fields.get(sep + 1)?,
        superopts: fields.get(sep + 3)?,
    })
}

/// Undoes mountinfo's `\ooo` octal escapes (of space, tab, newline, `\`).
fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let octal = field
            .get(i + 1..i + 4)
            .filter(|d| field[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push((d[0] - b'0') << 6 | (d[1] - b'0') << 3 | (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(field[i]);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &[u8] = b"\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 /outer /sys/fs/cgroup/mem\\040ory rw - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
";

    #[test]
    fn hierarchies_from_proc() {
        let cgroup = b"9:name=systemd:/\n4:memory:/outer/inner\n3:cpuset:/\n\
                       1:cpu:/\n2:blkio:/\n0::/\n";
        let found = find_hierarchies(MOUNTINFO, cgroup);
        let dirs: Vec<&Path> = found.iter().map(|h| h.dir.as_path()).collect();
        assert_eq!(
            dirs,
            [
                Path::new("/sys/fs/cgroup/systemd"),
                Path::new("/sys/fs/cgroup/mem ory/inner"),
                Path::new("/sys/fs/cgroup/cpuset"),
                Path::new("/sys/fs/cgroup/cpu"),
                Path::new("/sys/fs/cgroup/unified"),
            ]
        );
        let flags: Vec<(bool, bool)> = found.iter().map(|h| (h.cpuset, h.v2)).collect();
        assert_eq!(
            flags,
            [
                (false, false),
                (false, false),
                (true, false),
                (false, false),
                (false, true)
            ]
        );
    }

    #[test]
    fn mountinfo_optional_fields() {
        let m = parse_mountinfo_line(b"1 2 0:1 / /a rw shared:1 master:2 - cgroup x rw,pids")
            .expect("parsed");
        assert_eq!(m.fstype, b"cgroup");
        assert_eq!(m.superopts, b"rw,pids");
        assert!(parse_mountinfo_line(b"1 2 0:1 / /a rw").is_none());
        assert_eq!(unescape(b"a\\134b\\011"), b"a\\b\t");
    }

    #[test]
    fn container_init_status() {
        assert!(is_container_init(
            b"Name:\tsleep\nNSpid:\t4242\t1\nPPid:\t7\n"
        ));
        assert!(!is_container_init(b"NSpid:\t4242\n"));
        assert!(!is_container_init(b"NSpid:\t4242\t7\n"));
        assert!(!is_container_init(b"NSpid:\t9\t8\t1\n"));
        assert_eq!(
            status_field(b"NSpid:\t1\nPPid:\t77\n", b"PPid"),
            Some(&b"77"[..])
        );
    }

    #[test]
    fn every_variant_parses_and_is_in_the_usage() {
        let all = [
            ("full", Variant::Full),
            ("docker", Variant::Docker),
            ("user", Variant::User),
            ("userns", Variant::Userns),
            ("userns-user", Variant::UsernsUser),
        ];
        for (name, v) in all {
            let mut p = lexopt::Parser::from_args(["--rootfs", "/r", "--variant", name]);
            let o = parse_start(&mut p).ok().flatten().expect(name);
            assert!(o.variant == v, "{name}");
            assert!(
                USAGE.contains(&format!(" {name}: ")),
                "{name} is not in the usage"
            );
            assert_eq!(v.userns(), name.starts_with("userns"), "{name}");
            assert_eq!(v.app_user(), name.ends_with("user"), "{name}");
        }
        let mut p = lexopt::Parser::from_args(["--rootfs", "/r", "--variant", "nobody"]);
        assert!(matches!(parse_start(&mut p), Err(Error::Usage(_))));
    }

    #[test]
    fn docker_capability_bits() {
        assert_eq!(DOCKER_CAPS.bits(), 0xa804_25fb);
    }
}
