//! What the integration tests share: real namespaced busybox containers
//! started by the `ct` harness (examples/ct.rs), the cntr binary under
//! test, and the checks every test ends with (the host's mount table is
//! unchanged, nothing is left under the base dir, no process is left).
//!
//! The tests need root: they create namespaces and cgroups. Run them with
//! `scripts/test`, which builds `ct` first.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The cntr binary cargo built for these tests.
pub fn cntr_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cntr"))
}

/// The ct harness, built next to cntr by `cargo build --examples`.
pub fn ct_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("CNTR_CT") {
        return PathBuf::from(p);
    }
    let p = cntr_bin().parent().unwrap().join("examples/ct");
    assert!(
        p.exists(),
        "{} is missing: run `cargo build --examples` (scripts/test does)",
        p.display()
    );
    p
}

/// Every applet, as `cntr APPLET` names it.
pub const APPLETS: [&str; 10] = [
    "attach",
    "chroot-exec",
    "completions",
    "exec",
    "inherit",
    "list",
    "mount-tree",
    "nsenter",
    "pty",
    "resolve",
];

/// The applets that take a target (all but `list` and `completions`).
pub const TARGETED: [&str; 8] = [
    "attach",
    "chroot-exec",
    "exec",
    "inherit",
    "mount-tree",
    "nsenter",
    "pty",
    "resolve",
];

/// The state letter of `pid` (R, S, T, Z, ...) from /proc/PID/stat; None
/// once it is gone.
pub fn proc_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim().chars().next()
}

/// The attacks a compromised container runs (examples/hostile.rs).
pub fn hostile_bin() -> PathBuf {
    let p = cntr_bin().parent().unwrap().join("examples/hostile");
    assert!(
        p.exists(),
        "{} is missing: run `cargo build --examples`",
        p.display()
    );
    p
}

/// Fails the test unless it runs as root: every test here needs to create
/// namespaces and cgroups.
/// Copies the program `src` to `dst` with cp(1), not in the test process:
/// a thread of the test binary that forks while this process holds the
/// copy open for writing would leave the child a writable fd on it until
/// that child's exec, and running the copy meanwhile fails with ETXTBSY.
pub fn copy_program(src: &Path, dst: &Path) {
    let out = Command::new("cp").arg(src).arg(dst).output().unwrap();
    assert!(out.status.success(), "cp: {out:?}");
}

/// A copy of the test root filesystem of `owner` (see [`rootfs`]) at
/// `dst`, owners and modes kept.
pub fn copy_rootfs(owner: u32, dst: &Path) {
    let out = Command::new("cp")
        .arg("-a")
        .arg(rootfs(owner))
        .arg(dst)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn need_root() {
    assert!(
        rustix::process::geteuid().is_root(),
        "these tests create namespaces and cgroups and must run as root (scripts/test)"
    );
}

fn target_dir() -> PathBuf {
    cntr_bin().parent().unwrap().to_path_buf()
}

/// A busybox root filesystem, built once per test binary run and shared
/// (read-only use). `owner` shifts every file's owner, for a container in
/// a user namespace.
pub fn rootfs(owner: u32) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = target_dir().join(format!("ct-rootfs-{owner}"));
    if dir.join("etc/ct-marker").exists() {
        return dir;
    }
    let tmp = target_dir().join(format!("ct-rootfs-{owner}.tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let mut cmd = Command::new(ct_bin());
    cmd.arg("rootfs");
    if owner != 0 {
        cmd.args(["--owner", &owner.to_string()]);
    }
    let out = cmd.arg(&tmp).output().unwrap();
    assert!(
        out.status.success(),
        "ct rootfs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    match std::fs::rename(&tmp, &dir) {
        Ok(()) => {}
        // Another test binary built it meanwhile.
        Err(_) => {
            let _ = std::fs::remove_dir_all(&tmp);
        }
    }
    dir
}

/// Container variants of the harness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Root with every capability.
    Full,
    /// Root with Docker's default capability set (no CAP_SYS_PTRACE, no
    /// CAP_SYS_ADMIN).
    Docker,
    /// uid 1000, gid 1000, groups 1000 and 2000, no capabilities.
    User,
    /// Root in a user namespace mapped to 100000.
    Userns,
    /// uid 1000 (101000 on the host), groups 1000 and 2000, no
    /// capabilities, in a user namespace mapped as for `Userns`.
    UsernsUser,
}

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Variant::Full => "full",
            Variant::Docker => "docker",
            Variant::User => "user",
            Variant::Userns => "userns",
            Variant::UsernsUser => "userns-user",
        }
    }

    /// What the container's files are owned by on the host: its root.
    pub fn owner(self) -> u32 {
        match self {
            Variant::Userns | Variant::UsernsUser => 100000,
            _ => 0,
        }
    }
}

/// A running container; stopped (and its cgroups removed) on drop.
/// Every test that starts one also checks, when it is dropped, that the
/// host's mount table is what it was and nothing is left under the base
/// dir: cntr works in namespaces of its own, so other tests running
/// meanwhile cannot change either.
pub struct Container {
    pub pid: i32,
    pub name: String,
    sup: Child,
    host: HostState,
    /// The container's own copy of the root filesystem, if it has one.
    pub private: Option<PathBuf>,
}

static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

impl Container {
    pub fn start(v: Variant) -> Container {
        Container::start_with(v, &[], &[])
    }

    /// Starts a container of variant `v`, with extra `ct start` options and
    /// a command (default `sleep infinity`).
    pub fn start_with(v: Variant, opts: &[&str], cmd: &[&str]) -> Container {
        Container::start_on(v, None, opts, cmd)
    }

    /// Starts a container of variant `v` on its own copy of the root
    /// filesystem, with the `hostile` helper at /usr/bin/hostile; `prepare`
    /// may change the copy (as root on the host) before the container
    /// starts. The copy is removed when the container is dropped.
    pub fn start_private(
        v: Variant,
        prepare: impl FnOnce(&Path),
        opts: &[&str],
        cmd: &[&str],
    ) -> Container {
        need_root();
        let owner = v.owner();
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = target_dir().join(format!("ct-private-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy_rootfs(owner, &dir);
        let helper = dir.join("usr/bin/hostile");
        copy_program(&hostile_bin(), &helper);
        std::os::unix::fs::chown(&helper, Some(owner), Some(owner)).unwrap();
        prepare(&dir);
        Container::start_on(v, Some(dir), opts, cmd)
    }

    fn start_on(v: Variant, private: Option<PathBuf>, opts: &[&str], cmd: &[&str]) -> Container {
        need_root();
        let host = HostState::take();
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("t{}x{n}", std::process::id());
        let owner = v.owner();
        let root = private.clone().unwrap_or_else(|| rootfs(owner));
        let mut c = Command::new(ct_bin());
        c.arg("start")
            .arg("--rootfs")
            .arg(&root)
            .args([
                "--name",
                &name,
                "--variant",
                v.name(),
                "--hostname",
                &name,
                "--env",
                "CT_FOO=bar baz",
            ])
            .args(opts);
        if !cmd.is_empty() {
            c.arg("--").args(cmd);
        }
        let mut sup = c
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(sup.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let pid: i32 = match line.trim().parse() {
            Ok(p) => p,
            Err(_) => {
                let mut err = String::new();
                let _ = sup.stderr.take().unwrap().read_to_string(&mut err);
                let _ = sup.wait();
                if let Some(dir) = &private {
                    let _ = std::fs::remove_dir_all(dir);
                }
                panic!("ct start {} failed: {err}", v.name());
            }
        };
        Container {
            pid,
            name,
            sup,
            host,
            private,
        }
    }

    /// `cntr attach PID -- sh -c SCRIPT`, as the tests' caller would.
    pub fn attach_sh(&self, script: &str) -> Run {
        sh("attach", &self.pid.to_string(), script)
    }

    /// `cntr exec PID -- sh -c SCRIPT` (the container's busybox sh).
    pub fn exec_sh(&self, script: &str) -> Run {
        sh("exec", &self.pid.to_string(), script)
    }

    pub fn stop(&mut self) {
        let _ = Command::new(ct_bin())
            .args(["stop", &self.pid.to_string()])
            .output();
        let _ = self.sup.wait();
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        self.stop();
        if let Some(dir) = &self.private {
            let _ = std::fs::remove_dir_all(dir);
        }
        if !std::thread::panicking() {
            self.host.check();
        }
    }
}

/// The result of one cntr run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub raw: Vec<u8>,
}

impl Run {
    pub fn from(out: Output) -> Run {
        use std::os::unix::process::ExitStatusExt;
        let code = out
            .status
            .code()
            .unwrap_or_else(|| 128 + out.status.signal().unwrap_or(0));
        Run {
            code,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            raw: out.stdout,
        }
    }

    /// Asserts success and returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "exit {}; stderr: {}; stdout: {}",
            self.code, self.stderr, self.stdout
        );
        &self.stdout
    }
}

/// The environment the tests run cntr with: a marker the container must
/// never see, and a fixed TERM.
pub fn command(args: &[impl AsRef<OsStr>]) -> Command {
    command_of(&cntr_bin(), args)
}

/// As [`command`], for another copy of the cntr binary.
pub fn command_of(bin: &Path, args: &[impl AsRef<OsStr>]) -> Command {
    let mut c = Command::new(bin);
    c.args(args)
        .env("CNTR_TEST_CALLER_SECRET", "caller-only")
        .env("TERM", "xterm-test")
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::null());
    c
}

/// Runs `cntr ARGS...` with no stdin and collects its output.
pub fn run(args: &[&str]) -> Run {
    Run::from(command(args).output().unwrap())
}

/// `cntr FRONT TARGET -- sh -c SCRIPT`: attach runs the host's sh, exec
/// the container's.
pub fn sh(front: &str, target: &str, script: &str) -> Run {
    run(&[front, target, "--", "sh", "-c", script])
}

/// What a measured run of cntr did, how long it took, and its peak RSS in
/// KiB.
pub struct Measured {
    pub run: Run,
    pub rss_kib: i64,
    pub took: Duration,
}

/// Runs `c`, a cntr command as [`command`] makes it (its program,
/// arguments and environment are taken over), under GNU time(1) for its
/// peak RSS (the peak RSS of a direct child of the test would count the
/// test's own), with no stdin; fails the test after `limit`.
pub fn measured(c: Command, limit: Duration) -> Measured {
    let tag = format!("{}-{:?}", std::process::id(), std::thread::current().id());
    let rss = std::env::temp_dir().join(format!("cntr-rss-{tag}"));
    let start = Instant::now();
    let mut t = Command::new("/usr/bin/time");
    t.arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss)
        .arg(c.get_program())
        .args(c.get_args());
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => t.env(k, v),
            None => t.env_remove(k),
        };
    }
    let mut child = t
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let done = wait_for(limit.as_secs(), || child.try_wait().unwrap());
    if done.is_none() {
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_file(&rss);
        panic!("{:?} took more than {limit:?}", c.get_args());
    }
    let took = start.elapsed();
    let run = Run::from(child.wait_with_output().unwrap());
    let rss_kib = std::fs::read_to_string(&rss)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _ = std::fs::remove_file(&rss);
    Measured { run, rss_kib, took }
}

/// Runs `cntr ARGS...` with `input` on stdin.
pub fn run_input(args: &[&str], input: &[u8]) -> Run {
    let mut c = command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = c.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = c.wait_with_output().unwrap();
    writer.join().unwrap();
    Run::from(out)
}

/// Runs a prepared command with fds 7 to 10 leaked into it (opened
/// without close-on-exec): a secret file, the host's `/`, a scratch file
/// and the host's `/proc`, the way a careless caller would
/// (`7<secret 8</ 9<>/tmp/x 10</proc`).
pub fn with_leaked_fds(c: &mut Command, secret: &Path) {
    let secret = std::ffi::CString::new(secret.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: only raw system calls between fork and exec.
    unsafe {
        c.pre_exec(move || {
            const O_DIRECTORY: usize = 0o200000;
            const O_RDWR: usize = 2;
            const O_TMPFILE: usize = 0o20000000 | O_DIRECTORY;
            let opens: [(&std::ffi::CStr, usize, usize); 4] = [
                (&secret, 0, 7),
                (c"/", O_DIRECTORY, 8),
                (c"/tmp", O_RDWR | O_TMPFILE, 9),
                (c"/proc", O_DIRECTORY, 10),
            ];
            for (path, flags, n) in opens {
                let fd = sc::syscall!(OPEN, path.as_ptr() as usize, flags, 0o600) as isize;
                if fd < 0 {
                    return Err(std::io::Error::from_raw_os_error(-fd as i32));
                }
                if fd as usize != n {
                    sc::syscall!(DUP2, fd as usize, n);
                    sc::syscall!(CLOSE, fd as usize);
                }
            }
            Ok(())
        });
    }
}

/// A host file only root may read, with random content: what a container
/// must never get to see.
pub struct Secret {
    pub path: PathBuf,
    pub content: String,
}

impl Secret {
    pub fn new() -> Secret {
        let mut rnd = [0u8; 16];
        let f = std::fs::File::open("/dev/urandom").unwrap();
        (&f).read_exact(&mut rnd).unwrap();
        let content: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
        let path = PathBuf::from(format!("/root/host-secret-{}", &content[..12]));
        let mut file = std::os::unix::fs::OpenOptionsExt::mode(
            std::fs::OpenOptions::new().write(true).create_new(true),
            0o600,
        )
        .open(&path)
        .unwrap();
        file.write_all(format!("{content}\n").as_bytes()).unwrap();
        Secret { path, content }
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The host's state that no cntr run may change: its mount table and
/// the base dir. Take one at the start of a test and `check()` it at the
/// end.
pub struct HostState {
    mounts: Vec<String>,
}

/// The host's mount table without the mount IDs (they stay the same for
/// the same mounts, but the comparison is of what is mounted where).
///
/// The container engines the tests start (scripts/engines) mount their
/// containers' root filesystems and network namespaces on the host, under
/// their own directories: those are theirs, not cntr's.
pub fn host_mounts() -> Vec<String> {
    let raw = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let engines =
        |m: &String| m.contains(" /var/lib/cntr-engines/") || m.contains(" /run/cntr-engines/");
    let mut v: Vec<String> = raw
        .lines()
        .map(|l| l.split(' ').skip(3).collect::<Vec<_>>().join(" "))
        .filter(|m| !engines(m))
        .collect();
    v.sort();
    v
}

pub const BASE: &str = "/var/lib/cntr";

impl HostState {
    pub fn take() -> HostState {
        HostState {
            mounts: host_mounts(),
        }
    }

    pub fn check(&self) {
        let now = host_mounts();
        let added: Vec<&String> = now.iter().filter(|m| !self.mounts.contains(m)).collect();
        let gone: Vec<&String> = self.mounts.iter().filter(|m| !now.contains(m)).collect();
        assert!(
            added.is_empty() && gone.is_empty(),
            "host mount table changed: added {added:?}, removed {gone:?}"
        );
        if let Ok(rd) = std::fs::read_dir(BASE) {
            let left: Vec<_> = rd.map(|e| e.unwrap().file_name()).collect();
            assert!(left.is_empty(), "left under {BASE}: {left:?}");
        }
    }
}

/// The host's cgroup hierarchies mounted at their root: filesystem type
/// (`cgroup` or `cgroup2`), super options and mount point.
fn cgroup_mounts() -> Vec<(String, String, PathBuf)> {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    mi.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let dash = f.iter().position(|&w| w == "-")?;
            let fstype = *f.get(dash + 1)?;
            ((fstype == "cgroup" || fstype == "cgroup2") && f[3] == "/").then(|| {
                (
                    fstype.to_string(),
                    f.get(dash + 3).unwrap_or(&"").to_string(),
                    PathBuf::from(f[4]),
                )
            })
        })
        .collect()
}

/// The host's cgroup v2 mount point (`/sys/fs/cgroup` on a unified host,
/// `/sys/fs/cgroup/unified` on a hybrid one); the test fails where there
/// is none.
pub fn cgroup2_root() -> PathBuf {
    cgroup_mounts()
        .into_iter()
        .find(|(t, _, _)| t == "cgroup2")
        .map(|(_, _, p)| p)
        .expect("no cgroup v2 mounted: this test needs one (a hybrid host mounts it at /sys/fs/cgroup/unified)")
}

/// The cgroup v2 directory of `pid` on the host.
pub fn cgroup2_of(pid: i32) -> PathBuf {
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let rel = cg
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .expect("not in a cgroup v2");
    cgroup2_root().join(rel.trim_start_matches('/'))
}

/// The cgroup v1 directories of `pid` on the host, one per hierarchy its
/// `/proc/PID/cgroup` names (`/sys/fs/cgroup/CONTROLLER/...` on a hybrid
/// host; none on a unified one). The test fails, naming it, when one of
/// those hierarchies is not mounted, and when the host mounts a v1
/// hierarchy that `pid` is not in (the ct harness puts its containers in
/// every one).
pub fn cgroup1_of(pid: i32) -> Vec<PathBuf> {
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let v1: Vec<(String, PathBuf)> = cgroup_mounts()
        .into_iter()
        .filter(|(t, _, _)| t == "cgroup")
        .map(|(_, opts, p)| (opts, p))
        .collect();
    let mut dirs = Vec::new();
    let mut used = Vec::new();
    for line in cg.lines() {
        let mut f = line.splitn(3, ':');
        let (_, ctrls, rel) = (f.next(), f.next().unwrap_or(""), f.next().unwrap_or(""));
        if ctrls.is_empty() {
            continue;
        }
        let (i, (_, mnt)) = v1
            .iter()
            .enumerate()
            .find(|(_, (opts, _))| ctrls.split(',').all(|c| opts.split(',').any(|o| o == c)))
            .unwrap_or_else(|| {
                panic!("process {pid} is in cgroup v1 hierarchy {ctrls}, which is not mounted")
            });
        used.push(i);
        dirs.push(mnt.join(rel.trim_start_matches('/')));
    }
    for (i, (opts, mnt)) in v1.iter().enumerate() {
        assert!(
            used.contains(&i),
            "process {pid} is not in the cgroup v1 hierarchy at {} ({opts})",
            mnt.display()
        );
    }
    dirs
}

/// The `Key:` lines of a `/proc/PID/status` text.
pub fn status_lines<'a>(status: &'a str, keys: &[&str]) -> Vec<&'a str> {
    status
        .lines()
        .filter(|l| keys.iter().any(|k| l.split(':').next() == Some(*k)))
        .collect()
}

/// The credential lines compared between a command and its target.
pub const CRED_KEYS: &[&str] = &[
    "Uid",
    "Gid",
    "Groups",
    "CapInh",
    "CapPrm",
    "CapEff",
    "CapBnd",
    "CapAmb",
    "NoNewPrivs",
    "Seccomp",
];

/// Every descendant of `pid`, depth first.
pub fn descendants(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let children = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
            for c in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                out.push(c);
                todo.push(c);
            }
        }
    }
    out
}

/// Spawns a cntr command and waits for the process among its descendants
/// whose command line is `cmdline` (the command it runs in the container).
pub fn spawn_session(mut c: Command, cmdline_is: &str) -> (Child, i32) {
    let child = c.spawn().unwrap();
    let found = wait_for(10, || {
        descendants(child.id() as i32)
            .into_iter()
            .find(|&p| cmdline(p) == cmdline_is)
    });
    (
        child,
        found.unwrap_or_else(|| panic!("{cmdline_is} did not start")),
    )
}

/// The fds of the command `cntr FRONT PID -- sleep 30` runs, with fds
/// leaked into cntr.
pub fn command_fds(front: &str, ct: &Container) -> Vec<i32> {
    let secret = Secret::new();
    let mut c = command(&[front, &ct.pid.to_string(), "--", "sleep", "30"]);
    c.stdout(Stdio::null()).stderr(Stdio::null());
    with_leaked_fds(&mut c, &secret.path);
    let (mut child, sleeper) = spawn_session(c, "sleep 30");
    let fds = fds(sleeper);
    child.kill().unwrap();
    child.wait().unwrap();
    fds
}

/// The open fd numbers of `pid`.
pub fn fds(pid: i32) -> Vec<i32> {
    let mut v: Vec<i32> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The command line of `pid`, NULs as spaces.
pub fn cmdline(pid: i32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    String::from_utf8_lossy(&raw)
        .replace('\0', " ")
        .trim_end()
        .to_string()
}

/// Polls `f` until it returns `Some`, for at most `secs` seconds.
pub fn wait_for<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Serialises tests that must not overlap (e.g. ones that count host
/// processes).
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static M: OnceLock<Mutex<()>> = OnceLock::new();
    M.get_or_init(|| Mutex::new(()))
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// The `DOCKER_HOST` of the dockerd `scripts/engines start` runs; the
/// test fails, it does not skip, when there is none.
pub fn docker_host() -> String {
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    let path = host.strip_prefix("unix://").unwrap_or("");
    assert!(
        std::path::Path::new(path).exists(),
        "no dockerd at DOCKER_HOST={host:?}: run `eval \"$(scripts/engines start)\"` (scripts/test does)"
    );
    host
}

/// `docker ARGS` against the dockerd `scripts/engines start` runs.
pub fn docker(args: &[&str]) -> Run {
    docker_host();
    Run::from(Command::new("docker").args(args).output().unwrap())
}

/// `podman ARGS` as root, with the storage and run roots `scripts/engines
/// start` gives (`CNTR_PODMAN_ROOT`, `CNTR_PODMAN_RUNROOT`); the test
/// fails when they are not set.
pub fn podman(args: &[&str]) -> Run {
    let (Ok(root), Ok(runroot)) = (
        std::env::var("CNTR_PODMAN_ROOT"),
        std::env::var("CNTR_PODMAN_RUNROOT"),
    ) else {
        panic!("no podman roots: run `eval \"$(scripts/engines start)\"` (scripts/test does)");
    };
    Run::from(
        Command::new("podman")
            .args(["--root", &root, "--runroot", &runroot])
            .args(args)
            .output()
            .unwrap(),
    )
}

/// The engines with docker's command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Docker,
    Podman,
}

impl Engine {
    /// `docker ARGS` or `podman ARGS`, as [`docker`] and [`podman`] run them.
    pub fn cli(self, args: &[&str]) -> Run {
        match self {
            Engine::Docker => docker(args),
            Engine::Podman => podman(args),
        }
    }

    /// `ENGINE run -d --network none --name NAME OPTS... cntr-busybox:test
    /// /bin/sleep infinity`: the busybox image `scripts/engines start`
    /// imports, with no network.
    pub fn run(self, name: &str, opts: &[&str]) -> EngineContainer {
        need_root();
        let mut args = vec!["run", "-d", "--network", "none", "--name", name];
        args.extend_from_slice(opts);
        args.extend(["cntr-busybox:test", "/bin/sleep", "infinity"]);
        let r = self.cli(&args);
        let id = r.ok().trim().to_string();
        assert_eq!(id.len(), 64, "{}", r.stderr);
        EngineContainer {
            engine: self,
            id,
            name: name.to_string(),
        }
    }
}

/// A running container of docker or root's podman, removed on drop.
pub struct EngineContainer {
    pub engine: Engine,
    pub id: String,
    pub name: String,
}

impl EngineContainer {
    /// Its PID on the host, as the engine says.
    pub fn pid(&self) -> i32 {
        self.engine
            .cli(&["inspect", "--format", "{{.State.Pid}}", &self.id])
            .ok()
            .trim()
            .parse()
            .unwrap()
    }
}

impl Drop for EngineContainer {
    fn drop(&mut self) {
        let _ = match self.engine {
            Engine::Docker => docker(&["rm", "-f", &self.id]),
            Engine::Podman => podman(&["rm", "-f", "-t", "0", &self.id]),
        };
    }
}

/// A runc root of the test's own whose state says container `id` runs as
/// `pid`, so that the runc resolver (`CNTR_RUNC_ROOT`) names a harness
/// container without any engine. Removed on drop.
pub struct RuncRoot {
    pub root: PathBuf,
}

impl RuncRoot {
    pub fn new(id: &str, pid: i32) -> RuncRoot {
        let root = std::env::temp_dir().join(format!("cntr-runc-{}-{id}", std::process::id()));
        std::fs::create_dir_all(root.join(id)).unwrap();
        std::fs::write(
            root.join(id).join("state.json"),
            format!("{{\"id\": \"{id}\", \"init_process_pid\": {pid}}}"),
        )
        .unwrap();
        RuncRoot { root }
    }
}

impl Drop for RuncRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// `cntr exec TARGET` runs as root of the container's own user namespace
/// (LXD's instances, rootless podman's containers): `id -u` is 0, the
/// files are the container's, and its uid 0 is not the host's (the first
/// line of its uid_map does not map 0 to 0).
pub fn exec_runs_in_its_user_namespace(target: &str) {
    let r = sh(
        "exec",
        target,
        "id -u; cat /etc/ct-marker; cat /proc/self/uid_map",
    );
    let text = r.ok();
    assert!(text.starts_with("0\ninside-ct\n"), "{text}");
    let map: Vec<&str> = text
        .lines()
        .nth(2)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert!(
        map.len() == 3 && map[..2] != ["0", "0"],
        "exec runs in the container's user namespace: {text}"
    );
}

/// Fails the test unless cntr was built with its pause points (the
/// `test-pause` feature, which scripts/test turns on and a release never
/// has).
pub fn need_pause_points() {
    if !cfg!(feature = "test-pause") {
        panic!("this test needs cntr built with --features test-pause (scripts/test does)");
    }
}

/// Starts `c` with the pause point `point` (and stdout and stderr piped)
/// and waits until one of its processes has stopped there.
pub fn paused_at(mut c: Command, point: &str) -> Child {
    c.env("CNTR_TEST_PAUSE", point)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    let me = child.id() as i32;
    // Generous: a loaded machine may take a while to start cntr.
    let stopped = wait_for(30, || {
        let mut all = descendants(me);
        all.push(me);
        all.into_iter().find(|&p| proc_state(p) == Some('T'))
    });
    assert!(stopped.is_some(), "cntr did not reach pause point {point}");
    // A waiting parent stops when its child does (as nsenter's does): let
    // it get there.
    std::thread::sleep(Duration::from_millis(100));
    child
}

/// Lets every stopped process of a paused cntr go on (a waiting parent
/// stops with its child), and returns what it did; kills it if it does
/// not end within 10 s.
pub fn resume(mut child: Child) -> Run {
    let me = child.id() as i32;
    let ended = wait_for(10, || {
        for p in std::iter::once(me).chain(descendants(me)) {
            if proc_state(p) == Some('T') {
                if let Some(p) = rustix::process::Pid::from_raw(p) {
                    let _ = rustix::process::kill_process(p, rustix::process::Signal::CONT);
                }
            }
        }
        child.try_wait().unwrap()
    });
    if ended.is_none() {
        let states: Vec<_> = std::iter::once(me)
            .chain(descendants(me))
            .map(|p| (p, proc_state(p), cmdline(p)))
            .collect();
        let _ = child.kill();
        let _ = child.wait();
        panic!("cntr did not end after the pause: {states:?}");
    }
    Run::from(child.wait_with_output().unwrap())
}
