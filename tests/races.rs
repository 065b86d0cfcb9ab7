//! The target dies, or its PID goes to an unrelated host process, in the
//! middle of cntr's set-up. Pause points (the `test-pause` feature, which
//! scripts/test turns on and a release never has) stop cntr at each step
//! so that the window, otherwise microseconds wide, is there every time.
//!
//! The container is named through the runc resolver (a state.json in a
//! runc root of the test's own), so that the engine's answer is checked
//! against the pinned process as for any engine.

mod common;
use common::*;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// An unrelated host process that holds PID `pid` (now free): the kernel
/// hands out the PID after `ns_last_pid` next, so set it and fork until
/// the PID is ours (another process may take it first).
fn impostor(pid: i32) -> Child {
    for _ in 0..500 {
        std::fs::write("/proc/sys/kernel/ns_last_pid", (pid - 1).to_string()).unwrap();
        let mut c = Command::new("sleep")
            .arg("60")
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        if c.id() as i32 == pid {
            return c;
        }
        c.kill().unwrap();
        c.wait().unwrap();
    }
    panic!("could not get PID {pid} back");
}

/// A file the command creates to show it ran: the path the command is
/// given under `front` (attach keeps the host's /, exec sees the
/// container's), and where the test finds it.
fn marker(front: &str, name: &str) -> (String, PathBuf) {
    let file = format!("cntr-races-ran-{name}");
    match front {
        // The container's /tmp is a tmpfs of its own.
        "exec" => (format!("/var/{file}"), rootfs(0).join("var").join(&file)),
        _ => (
            format!("/tmp/{file}"),
            PathBuf::from(format!("/tmp/{file}")),
        ),
    }
}

/// `cntr FRONT -t runc NAME -- touch MARKER`.
fn session(front: &str, runc: &RuncRoot, name: &str, marker: &str) -> Command {
    let mut c = command(&[front, "-t", "runc", name, "--", "touch", marker]);
    c.env("CNTR_RUNC_ROOT", &runc.root);
    c
}

/// The PID dies and goes to a host process between the engine's answer
/// and the pidfd (`resolved`), and after the pidfd (`pinned`): both are
/// refused, and nothing runs.
#[test]
fn a_reused_pid_is_never_entered() {
    let _serial = serial();
    need_root();
    need_pause_points();
    for front in ["attach", "exec"] {
        for point in ["resolved", "pinned"] {
            let mut ct = Container::start(Variant::Docker);
            let pid = ct.pid;
            let runc = RuncRoot::new(&ct.name, pid);
            let (inside, marker) = marker(front, &ct.name);
            // Unpaused, the same command works: the fake engine is right.
            let ok = session(front, &runc, &ct.name, &inside).output().unwrap();
            assert!(
                ok.status.success(),
                "{}",
                String::from_utf8_lossy(&ok.stderr)
            );
            std::fs::remove_file(&marker).unwrap();

            let child = paused_at(session(front, &runc, &ct.name, &inside), point);
            ct.stop();
            let mut other = impostor(pid);
            let r = resume(child);
            assert_eq!(r.code, 125, "{front} at {point}: {}", r.stderr);
            assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
            assert!(
                r.stderr.contains(&format!("process {pid} is no longer"))
                    || r.stderr.contains("exited"),
                "{front} at {point}: {}",
                r.stderr
            );
            assert!(!marker.exists(), "{front} at {point}: the command ran");
            // The impostor is untouched: still running, in the host's
            // namespaces.
            assert_eq!(proc_state(pid), Some('S'));
            other.kill().unwrap();
            other.wait().unwrap();
        }
    }
}

/// The container dies while cntr is stopped at each step of its set-up:
/// cntr ends with one line and 125, or (once inside the container's PID
/// namespace, whose end kills it) as killed by SIGKILL; it leaves no
/// process, zombie or mount behind (checked when the container drops).
#[test]
fn the_container_dying_at_each_step() {
    let _serial = serial();
    need_root();
    need_pause_points();
    let points: &[(&str, &[&str])] = &[
        (
            "attach",
            &["resolved", "pinned", "joined", "mounted", "credentials"],
        ),
        ("exec", &["resolved", "pinned", "joined", "credentials"]),
    ];
    for (front, steps) in points {
        for point in *steps {
            let mut ct = Container::start(Variant::Docker);
            let pid = ct.pid.to_string();
            let (inside, marker) = marker(front, &ct.name);
            let child = paused_at(command(&[*front, &pid, "--", "touch", &inside]), point);
            let me = child.id() as i32;
            // Kill the container's init, without waiting: once cntr is in
            // the container's PID namespace, the namespace cannot finish
            // dying until cntr's stopped parent reaps its child.
            rustix::process::kill_process(
                rustix::process::Pid::from_raw(ct.pid).unwrap(),
                rustix::process::Signal::KILL,
            )
            .unwrap();
            // Resume only once the init is past killing its namespace's
            // processes: a SIGCONT before that would let cntr finish first.
            let dying = wait_for(5, || {
                let wchan = std::fs::read_to_string(format!("/proc/{}/wchan", ct.pid));
                (!matches!(proc_state(ct.pid), Some('S' | 'R' | 'D'))
                    || wchan.is_ok_and(|w| w == "zap_pid_ns_processes"))
                .then_some(())
            });
            assert!(dying.is_some(), "the container's init did not die");
            let r = resume(child);
            ct.stop();
            match r.code {
                125 => assert_eq!(
                    r.stderr.lines().count(),
                    1,
                    "{front} at {point}: {}",
                    r.stderr
                ),
                137 => assert_eq!(r.stderr, "", "{front} at {point}"),
                c => panic!("{front} at {point}: status {c}: {}", r.stderr),
            }
            assert!(!marker.exists(), "{front} at {point}: the command ran");
            assert_eq!(descendants(me), Vec::<i32>::new());
        }
    }
}

/// The container dies during a session: the command dies with its PID
/// namespace, and cntr ends as it did (128 + SIGKILL), leaving nothing.
#[test]
fn the_container_dying_during_a_session() {
    for front in ["attach", "exec"] {
        let mut ct = Container::start(Variant::Docker);
        let mut c = command(&[front, &ct.pid.to_string(), "--", "sleep", "64"]);
        c.stdout(Stdio::null()).stderr(Stdio::piped());
        let (child, _) = spawn_session(c, "sleep 64");
        let me = child.id() as i32;
        ct.stop();
        let r = Run::from(child.wait_with_output().unwrap());
        assert_eq!(r.code, 137, "{front}: {}", r.stderr);
        assert_eq!(r.stderr, "", "{front}");
        assert_eq!(descendants(me), Vec::<i32>::new(), "{front}");
    }
}

/// Every credential change re-asserts non-dumpable until the command's
/// exec: the kernel resets dumpability to `fs.suid_dumpable` on each
/// (`commit_creds`), and a host that set that to 1 would otherwise leave
/// cntr dumpable, as the session's uid, while it still holds the host's
/// fds. Stopped right after the credentials are taken, the process's
/// files belong to root, which is how the kernel shows a
/// non-dumpable process (a dumpable one's belongs to its euid): its
/// `/proc/PID/fd` (not `/proc/PID` itself, which always shows the euid).
#[test]
fn non_dumpable_until_exec_whatever_suid_dumpable_says() {
    let _serial = serial();
    need_root();
    need_pause_points();
    struct SuidDumpable(String);
    impl Drop for SuidDumpable {
        fn drop(&mut self) {
            std::fs::write("/proc/sys/fs/suid_dumpable", &self.0).unwrap();
        }
    }
    let _restore = SuidDumpable(std::fs::read_to_string("/proc/sys/fs/suid_dumpable").unwrap());
    std::fs::write("/proc/sys/fs/suid_dumpable", "1").unwrap();
    for (v, uid) in [(Variant::User, 1000), (Variant::Userns, 100000)] {
        for front in ["attach", "exec"] {
            let ct = Container::start(v);
            let child = paused_at(
                command(&[front, &ct.pid.to_string(), "--", "true"]),
                "credentials",
            );
            let mut all = descendants(child.id() as i32);
            all.push(child.id() as i32);
            let paused: Vec<i32> = all
                .into_iter()
                .filter(|&p| {
                    std::fs::read_to_string(format!("/proc/{p}/status")).is_ok_and(|s| {
                        status_lines(&s, &["Uid"])
                            .first()
                            .is_some_and(|l| l.split_whitespace().nth(2) == Some(&uid.to_string()))
                    })
                })
                .collect();
            assert_eq!(
                paused.len(),
                1,
                "{v:?} {front}: the process that took the credentials"
            );
            use std::os::unix::fs::MetadataExt;
            let owner = std::fs::metadata(format!("/proc/{}/fd", paused[0]))
                .unwrap()
                .uid();
            // Let cntr go on before any assertion: a stopped cntr would
            // keep the container from stopping.
            let r = resume(child);
            assert_eq!(owner, 0, "{v:?} {front}: dumpable as {uid} before its exec");
            assert_eq!(r.code, 0, "{v:?} {front}: {}", r.stderr);
        }
    }
}
