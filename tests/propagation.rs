//! The attach session's copy of the container's tree receives and sends no
//! mount propagation: a mount the container makes later under one of its
//! shared mounts does not appear in the session (at the base dir), and a
//! mount the session makes there does not appear in the container.

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;

/// A directory on the host for the test to signal the session through
/// (the session's `/` is the host's).
struct Steps(PathBuf);

impl Steps {
    fn new() -> Steps {
        let d = std::env::temp_dir().join(format!("cntr-propagation-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir(&d).unwrap();
        Steps(d)
    }

    fn go(&self, step: &str) {
        std::fs::write(self.0.join(step), "").unwrap();
    }
}

impl Drop for Steps {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running cntr, killed if the test fails before it ends.
struct Running(Option<std::process::Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Whether a line of the mountinfo text `mi` has `point` as mount point.
fn mounted_at(mi: &str, point: &str) -> bool {
    mi.lines().any(|l| l.split(' ').nth(4) == Some(point))
}

#[test]
fn the_sessions_tree_is_private() {
    let ct = Container::start(Variant::Full);
    let pid = ct.pid.to_string();
    // A shared mount in the container, with two empty directories.
    let r = ct.exec_sh(
        "mount -t tmpfs shared /mnt && mount --make-shared /mnt && mkdir /mnt/in /mnt/out \
         && grep ' /mnt ' /proc/self/mountinfo",
    );
    assert!(r.ok().contains("shared:"), "{}", r.stdout);

    let steps = Steps::new();
    let d = steps.0.display();
    let script = format!(
        "wait() {{ while [ ! -e {d}/$1 ]; do sleep 0.02; done; }}; \
         echo ready; wait 1; \
         grep ' /var/lib/cntr/mnt/in ' /proc/self/mountinfo >/dev/null && echo saw-in; \
         mount -t tmpfs session /var/lib/cntr/mnt/out && echo mounted-out; \
         wait 2"
    );
    let mut session = Running(Some(
        command(&["attach", &pid, "--", "sh", "-c", &script])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    let mut out = BufReader::new(session.0.as_mut().unwrap().stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");

    // The container mounts under its shared /mnt: not in the session.
    let r =
        ct.exec_sh("mount -t tmpfs container /mnt/in && grep -c ' /mnt/in ' /proc/self/mountinfo");
    assert_eq!(r.ok(), "1\n");
    steps.go("1");
    line.clear();
    out.read_line(&mut line).unwrap();
    let seen_in = line == "saw-in\n";
    if seen_in {
        line.clear();
        out.read_line(&mut line).unwrap();
    }
    assert_eq!(line, "mounted-out\n", "the session could not mount");

    // The session mounted under the container's /mnt at the base dir: not
    // in the container.
    let mi = ct.exec_sh("cat /proc/self/mountinfo").ok().to_string();
    let seen_out = mounted_at(&mi, "/mnt/out");
    steps.go("2");
    let r = Run::from(session.0.take().unwrap().wait_with_output().unwrap());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !seen_in && !seen_out,
        "propagation: from the container into the session {seen_in}, \
         from the session into the container {seen_out}"
    );
}
