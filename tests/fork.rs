//! The forks cntr makes for a session: `cntr-nsenter` forks straight into
//! the target's cgroup v2 or fails (no silent fallback to a plain fork),
//! and an abort in a forked child ends that child alone, never the parent
//! that waits for it. Both need cntr built with `--features test-pause`
//! (a pause point before the fork, and `CNTR_TEST_ABORT`).

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

fn procs(dir: &Path) -> Vec<i32> {
    let mut v: Vec<i32> = std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap()
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect();
    v.sort();
    v
}

fn controls(dir: &Path, controller: &str) -> bool {
    std::fs::read_to_string(dir.join("cgroup.subtree_control"))
        .unwrap()
        .split_whitespace()
        .any(|c| c == controller)
}

fn write(path: &Path, what: &str) -> std::io::Result<()> {
    std::fs::write(path, what)
}

/// A cgroup v2 made busy: its processes moved to a child cgroup `inner`
/// and a controller enabled for its children, so that the kernel's
/// no-internal-process rule refuses any process into it (EBUSY). Undone on
/// drop, in reverse.
struct Busy {
    dir: PathBuf,
    inner: PathBuf,
    controller: &'static str,
    /// The ancestors whose `cgroup.subtree_control` this enabled the
    /// controller in, top first.
    enabled: Vec<PathBuf>,
    busy: bool,
}

impl Busy {
    fn make(dir: &Path) -> Busy {
        let root = cgroup2_root();
        let available = std::fs::read_to_string(root.join("cgroup.controllers")).unwrap();
        // Any controller of the v2 hierarchy does (this host's hybrid
        // layout has only hugetlb there).
        let controller = ["hugetlb", "pids", "memory", "io", "cpu"]
            .into_iter()
            .find(|c| available.split_whitespace().any(|a| a == *c))
            .unwrap_or_else(|| panic!("no controller on cgroup v2 to enable: {available:?}"));
        let mut b = Busy {
            dir: dir.to_path_buf(),
            inner: dir.join("cntr-busy"),
            controller,
            enabled: Vec::new(),
            busy: false,
        };
        // Every ancestor must pass the controller down.
        let mut chain: Vec<PathBuf> = dir.ancestors().skip(1).map(Path::to_path_buf).collect();
        chain.retain(|a| a.starts_with(&root));
        chain.reverse();
        for a in chain {
            if !controls(&a, controller) {
                write(&a.join("cgroup.subtree_control"), &format!("+{controller}")).unwrap();
                b.enabled.push(a);
            }
        }
        std::fs::create_dir(&b.inner).unwrap();
        let moved = wait_for(5, || {
            for p in procs(dir) {
                let _ = write(&b.inner.join("cgroup.procs"), &p.to_string());
            }
            procs(dir).is_empty().then_some(())
        });
        assert!(moved.is_some(), "the container's processes did not move");
        write(
            &dir.join("cgroup.subtree_control"),
            &format!("+{controller}"),
        )
        .unwrap();
        b.busy = true;
        b
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let sc = |d: &Path| d.join("cgroup.subtree_control");
        if self.busy {
            let _ = write(&sc(&self.dir), &format!("-{}", self.controller));
        }
        if self.inner.exists() {
            for p in procs(&self.inner) {
                let _ = write(&self.dir.join("cgroup.procs"), &p.to_string());
            }
            let _ = std::fs::remove_dir(&self.inner);
        }
        for a in self.enabled.iter().rev() {
            let _ = write(&sc(a), &format!("-{}", self.controller));
        }
        if !std::thread::panicking() {
            assert!(!self.inner.exists(), "{} is left", self.inner.display());
            for a in &self.enabled {
                assert!(!controls(a, self.controller), "{} left on", a.display());
            }
        }
    }
}

/// cntr-nsenter forks the session with clone3(CLONE_INTO_CGROUP); when
/// the kernel refuses that (here: the container's cgroup v2 became busy
/// after cntr opened it), nsenter fails at once, with one line, and leaves
/// nothing, rather than forking a session outside the container's cgroup.
#[test]
fn a_refused_fork_into_the_cgroup_is_a_failure() {
    need_pause_points();
    let ct = Container::start(Variant::Docker);
    let dir = cgroup2_of(ct.pid);
    let before = procs(&dir);
    assert!(before.contains(&ct.pid), "{before:?}");
    let cntr = paused_at(
        command(&["attach", &ct.pid.to_string(), "--", "true"]),
        "forking",
    );
    let busy = Busy::make(&dir);
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(cntr.id() as i32).unwrap(),
        rustix::process::Signal::CONT,
    )
    .unwrap();
    let r = Run::from(cntr.wait_with_output().unwrap());
    let inside = procs(&busy.inner);
    let left = procs(&dir);
    drop(busy);
    assert_eq!(r.code, 125, "{}", r.stderr);
    // EBUSY, in the words of whichever libc cntr is linked with.
    let line = format!(
        "cntr-nsenter: unable to fork into the cgroup of {}: ",
        ct.pid
    );
    assert!(
        r.stderr.starts_with(&line)
            && r.stderr.lines().count() == 1
            && r.stderr.to_lowercase().contains("busy"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout, "");
    assert_eq!(
        inside, before,
        "a process was left in the container's cgroup"
    );
    assert_eq!(left, Vec::<i32>::new());
}

/// A pseudo-terminal whose peer becomes cntr's stdin.
fn terminal() -> (rustix::fd::OwnedFd, rustix::fd::OwnedFd) {
    use rustix::pty::OpenptFlags as F;
    let master = rustix::pty::openpt(F::RDWR | F::NOCTTY | F::CLOEXEC).unwrap();
    rustix::pty::grantpt(&master).unwrap();
    rustix::pty::unlockpt(&master).unwrap();
    let peer = rustix::pty::ioctl_tiocgptpeer(&master, F::RDWR | F::NOCTTY | F::CLOEXEC).unwrap();
    (master, peer)
}

/// Runs `cmd` with abort point `point`, and returns how cntr (the process
/// the test started: the parent that waits) ended.
fn aborted_at(mut cmd: Command, point: &str) -> (ExitStatus, String) {
    let child = cmd
        .env("CNTR_TEST_ABORT", point)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let me = child.id() as i32;
    let done = wait_for(10, || (proc_state(me) == Some('Z')).then_some(()));
    let out = child.wait_with_output().unwrap();
    assert!(done.is_some(), "cntr did not end");
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An abort (what a panic ends in) in a child that cntr forked ends that
/// child alone: the parent that waits for it lives on and reports it as
/// the command's status, 128+N. On musl, abort(3) signals the thread ID
/// the libc cached: a child forked without the libc would signal its
/// parent.
#[test]
fn an_abort_in_a_forked_child_ends_the_child_alone() {
    use std::os::unix::process::ExitStatusExt;
    need_pause_points();
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();

    // cntr-pty's plain fork: with a terminal on stdin, the rest of the
    // chain runs in pty's child, and nsenter there forks no more (the UTS
    // namespace alone).
    let (master, peer) = terminal();
    let mut c = command(&[
        "resolve",
        &pid,
        "cntr-pty",
        "cntr-nsenter",
        "--uts",
        "cntr-inherit",
        "true",
    ]);
    c.stdin(Stdio::from(peer));
    let (status, stderr) = aborted_at(c, "joined");
    drop(master);
    assert_eq!(
        (status.code(), status.signal()),
        (Some(134), None),
        "the relay must report its child's abort, not die of it: {stderr}"
    );

    // cntr-nsenter's clone3 into the cgroup, in the same PID namespace
    // (the target differs only in its time namespace), where a wrong
    // thread ID names the parent.
    let mut target = Command::new("unshare")
        .args(["--time", "sleep", "60"])
        .spawn()
        .unwrap();
    let tpid = target.id() as i32;
    let ours = std::fs::read_link("/proc/self/ns/time").unwrap();
    let moved = wait_for(5, || {
        (std::fs::read_link(format!("/proc/{tpid}/ns/time")).ok()? != ours).then_some(())
    });
    let (status, stderr) = aborted_at(
        command(&["attach", &tpid.to_string(), "--", "true"]),
        "joined",
    );
    let _ = target.kill();
    let _ = target.wait();
    assert!(moved.is_some(), "unshare --time made no time namespace");
    // The child dies of SIGABRT where the libc's abort reaches it (glibc
    // asks the kernel for the thread ID); musl's, whose tkill went to the
    // parent's cached ID (ignored there), ends in its trap instruction,
    // SIGSEGV.
    assert!(
        status.signal().is_none() && matches!(status.code(), Some(134 | 139)),
        "the waiting parent must report its child's abort, not die of it: {status:?} {stderr}"
    );
}
