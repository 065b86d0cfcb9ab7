//! The container's identity files are opened by cntr as host root, so
//! opening one must not be an action: a FIFO's writer waiting in
//! open(O_WRONLY) for a reader must never be woken by an attach, while a
//! real reader (the control) does wake it.

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};

/// Starts `hostile fifo-wait /etc/hosts SECS` inside the container and
/// waits until it is blocked in its open of the FIFO.
fn waiter(ct: &Container, secs: u32) -> (Child, BufReader<std::process::ChildStdout>) {
    let mut child = command(&[
        "exec",
        &ct.pid.to_string(),
        "--",
        "hostile",
        "fifo-wait",
        "/etc/hosts",
        &secs.to_string(),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "waiting\n");
    let me = child.id() as i32;
    let cmd = format!("hostile fifo-wait /etc/hosts {secs}");
    // Blocked in openat (257) on the FIFO, in any of its threads.
    let blocked = wait_for(10, || {
        descendants(me)
            .into_iter()
            .filter(|&p| cmdline(p) == cmd)
            .find(|&p| {
                std::fs::read_dir(format!("/proc/{p}/task"))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .any(|t| {
                        std::fs::read_to_string(t.path().join("syscall"))
                            .is_ok_and(|s| s.starts_with("257 "))
                    })
            })
    });
    assert!(blocked.is_some(), "the FIFO's writer never blocked");
    (child, out)
}

/// What the waiter said after "waiting", once it has exited.
fn finish(mut child: Child, mut out: BufReader<std::process::ChildStdout>) -> String {
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    child.wait().unwrap();
    rest
}

#[test]
fn a_fifo_identity_file_is_never_opened() {
    let ct = Container::start_private(
        Variant::Docker,
        |root| {
            let hosts = root.join("etc/hosts");
            let _ = std::fs::remove_file(&hosts);
            rustix::fs::mknodat(
                rustix::fs::CWD,
                &hosts,
                rustix::fs::FileType::Fifo,
                rustix::fs::Mode::from_raw_mode(0o644),
                0,
            )
            .unwrap();
        },
        &[],
        &[],
    );
    let pid = ct.pid.to_string();

    let (child, out) = waiter(&ct, 3);
    for _ in 0..3 {
        let r = run(&["attach", &pid, "--", "true"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(
            r.stderr,
            "cntr-mount-tree: warning: keeping the host's /etc/hosts: the container's is not a regular file\n"
        );
    }
    let said = finish(child, out);
    assert_eq!(said, "", "attach opened the container's FIFO");

    // The control: a reader that opens it for real, for an instant and
    // without blocking, as cntr did, wakes the writer.
    let (child, out) = waiter(&ct, 3);
    let fifo = Path::new("/proc").join(&pid).join("root/etc/hosts");
    let reader = rustix::fs::open(
        &fifo,
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .unwrap();
    drop(reader);
    assert_eq!(finish(child, out), "fifo opened\n");
}
