//! Load: 200 attaches and 200 execs at once against one container, then
//! 1,000 in a row. Each one ends with status 0 (or, were the machine to
//! run out of something, a documented status and one line); afterwards no
//! mount, process or file is left, the host's count of open files is back
//! where it was, and so is the number of processes in the container.

mod common;
use common::*;
use std::process::{Child, Stdio};

/// Processes in the PID namespace of `init`.
fn in_namespace(init: i32) -> usize {
    let ns = std::fs::read_link(format!("/proc/{init}/ns/pid")).unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| std::fs::read_link(format!("/proc/{p}/ns/pid")).is_ok_and(|l| l == ns))
        .count()
}

/// Open files on the host (the first field of /proc/sys/fs/file-nr).
fn host_open_files() -> i64 {
    std::fs::read_to_string("/proc/sys/fs/file-nr")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn check(r: &Run, what: &str) {
    match r.code {
        0 => assert_eq!(r.stdout, "ok\n", "{what}"),
        125..=127 => {
            assert_eq!(r.stderr.lines().count(), 1, "{what}: {}", r.stderr);
            panic!("{what} failed under load: {}", r.stderr);
        }
        c => panic!("{what}: undocumented status {c}: {}", r.stderr),
    }
}

#[test]
fn parallel_and_sequential_sessions_leave_nothing() {
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();
    let me = std::process::id() as i32;
    // One run first, so the counts below start from a warm state (caches,
    // cgroup files opened by the harness).
    ct.attach_sh("echo ok").ok();
    let (files, procs, open) = (host_open_files(), in_namespace(ct.pid), fds(me).len());
    let before = descendants(me);

    let spawn = |front: &str| -> Child {
        command(&[front, &pid, "--", "sh", "-c", "echo ok"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children: Vec<(&str, Child)> = (0..400)
        .map(|i| {
            let front = if i % 2 == 0 { "attach" } else { "exec" };
            (front, spawn(front))
        })
        .collect();
    for (i, (front, c)) in children.into_iter().enumerate() {
        check(
            &Run::from(c.wait_with_output().unwrap()),
            &format!("parallel {front} {i}"),
        );
    }
    for i in 0..1000 {
        let front = if i % 2 == 0 { "attach" } else { "exec" };
        check(
            &run(&[front, &pid, "--", "sh", "-c", "echo ok"]),
            &format!("sequential {front} {i}"),
        );
    }

    assert_eq!(descendants(me), before, "processes left");
    assert_eq!(
        in_namespace(ct.pid),
        procs,
        "processes left in the container"
    );
    assert_eq!(fds(me).len(), open, "fds left in the test");
    // Other processes on the host open and close files meanwhile: allow
    // for that (the engines run meanwhile), not for one file per run
    // (1,400 runs).
    let now = host_open_files();
    assert!(
        now <= files + 256,
        "open files on the host: {files} before, {now} after"
    );
}
