//! Who the attach session is (cntr(1), SECURITY): it lives in the host's
//! user namespace as the target's uid and gid as the host sees them, with
//! CAP_SYS_PTRACE added, so that the host's debuggers attach to the
//! container's processes and files it makes belong to the container's own
//! ids; `cntr exec` is the target exactly, in the container's user
//! namespace. And what `cntr-resolve --json` says is provable about the
//! door.

mod common;
use common::*;

/// The host's `strace -p` and `gdb -p` attach to the container's init
/// from an attach session, for a root target, a non-root one and the root
/// of a user-namespaced container: the session's CAP_SYS_PTRACE in the
/// host's user namespace covers every process of the container. (A
/// session in a user namespace of its own, for a non-root target, would
/// hold CAP_SYS_PTRACE only there: strace would get EPERM.)
#[test]
fn host_debuggers_attach_to_the_containers_processes() {
    for v in [Variant::Docker, Variant::User, Variant::Userns] {
        let ct = Container::start(v);
        // gdb gets the executable from the base dir: it would otherwise
        // enter the container's mount namespace to read it, which needs
        // CAP_SYS_ADMIN (README, Security).
        let out = ct.attach_sh(
            "strace -p 1 -o /dev/null & s=$!; sleep 0.5; kill $s; wait $s; \
             gdb -batch -nx /var/lib/cntr/usr/bin/busybox -p 1 -ex 'info registers rip' 2>&1",
        );
        assert_eq!(out.code, 0, "{v:?}: {} {}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("Process 1 attached"),
            "{v:?}: strace: {}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("not permitted") && !out.stdout.contains("not permitted"),
            "{v:?}: {} {}",
            out.stdout,
            out.stderr
        );
        assert!(!out.stderr.contains("warning"), "{v:?}: {}", out.stderr);
        assert!(
            out.stdout.lines().any(|l| l.starts_with("rip ")),
            "{v:?}: gdb read no register of process 1: {}",
            out.stdout
        );
    }
}

/// The owner of `path` on the host.
fn owner(path: &std::path::Path) -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let md = std::fs::metadata(path).unwrap();
    (md.uid(), md.gid())
}

/// For the root of a user-namespaced container (0 is 100000 on the host):
/// `exec` is root in the container's user namespace; the attach session is
/// 100000 in the host's, as cntr(1) says. A file the session makes through
/// the base dir belongs to the container's root, on its root filesystem and
/// on the tmpfs its user namespace owns (where the host's root would get
/// EOVERFLOW: it is not mapped there).
#[test]
fn a_user_namespaced_containers_ids_inside_and_out() {
    let ct = Container::start_private(Variant::Userns, |_| {}, &[], &[]);
    let exec = ct.exec_sh("id; id -u");
    assert_eq!(
        exec.ok(),
        "uid=0(root) gid=0(root) groups=0(root)\n0\n",
        "exec is the container's root"
    );
    let attach = ct.attach_sh(
        "id; echo made >/var/lib/cntr/root/by-session && echo made >/var/lib/cntr/tmp/by-session && echo ok",
    );
    assert_eq!(
        attach.ok(),
        "uid=100000 gid=100000 groups=100000\nok\n",
        "{}",
        attach.stderr
    );
    let rootfs = ct.private.as_ref().unwrap().join("root/by-session");
    assert_eq!(owner(&rootfs), (100000, 100000), "on the root filesystem");
    let tmpfs = std::path::PathBuf::from(format!("/proc/{}/root/tmp/by-session", ct.pid));
    assert_eq!(owner(&tmpfs), (100000, 100000), "on the container's tmpfs");
    let inside = ct.exec_sh("ls -ln /root/by-session /tmp/by-session");
    for line in inside.ok().lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            (f[2], f[3]),
            ("0", "0"),
            "the container sees its root: {line}"
        );
    }
    // The container's root can change what the session made.
    assert_eq!(
        ct.exec_sh("chmod 600 /root/by-session /tmp/by-session && rm /tmp/by-session && echo ok")
            .ok(),
        "ok\n"
    );
}

/// A non-root target's session makes files as the target.
#[test]
fn a_non_root_targets_files_are_its_own() {
    let ct = Container::start(Variant::User);
    let out = ct.attach_sh("id -u; echo x >/var/lib/cntr/tmp/by-session && echo ok");
    assert_eq!(out.ok(), "1000\nok\n", "{}", out.stderr);
    let f = std::path::PathBuf::from(format!("/proc/{}/root/tmp/by-session", ct.pid));
    assert_eq!(owner(&f), (1000, 1000));
}

/// `cntr-resolve --json` says who owns the target's PID namespace and
/// whether any of its processes can hold CAP_SYS_PTRACE over the host's
/// user namespace: none for docker-like, non-root and user-namespaced
/// containers (the door is closed for good), the init of a container with
/// every capability (named).
#[test]
fn resolve_json_says_whether_the_door_is_closed() {
    for (v, owner, closed) in [
        (Variant::Docker, "host", true),
        (Variant::User, "host", true),
        (Variant::Userns, "own", true),
        (Variant::Full, "host", false),
    ] {
        let ct = Container::start(v);
        let out = run(&["resolve", "--json", &ct.pid.to_string()]);
        let json = out.ok();
        assert!(
            json.contains(&format!("\"pidns_owner\":\"{owner}\"")),
            "{v:?}: {json}"
        );
        assert!(json.contains("\"tasks\":1,"), "{v:?}: {json}");
        assert!(
            json.contains(&format!("\"door_closed\":{closed}")),
            "{v:?}: {json}"
        );
        let holders = if closed {
            "\"ptrace_holders\":[]".to_string()
        } else {
            "\"ptrace_holders\":[{\"pid\":1,\"tid\":1,\"comm\":\"sleep\"}]".to_string()
        };
        assert!(json.contains(&holders), "{v:?}: {json}");
    }
}

/// The survey covers the whole container, not the target alone: a
/// container whose init holds every capability gets a warning naming that
/// init also when the session's target is a process that runs as uid 1000
/// with every capability set emptied, bounding set included (the
/// target's own bounding set would say nothing).
#[test]
fn a_tracer_beside_the_target_is_named() {
    let ct = Container::start_private(Variant::Full, |_| {}, &[], &[]);
    let pid = ct.pid.to_string();
    let mut worker = command(&["exec", &pid, "--", "hostile", "as", "1000", "sleep", "77"]);
    worker
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let (mut child, worker) = spawn_session(worker, "sleep 77");
    let status = std::fs::read_to_string(format!("/proc/{worker}/status")).unwrap();
    for key in ["CapBnd", "CapPrm", "CapInh", "CapAmb"] {
        assert!(
            status_lines(&status, &[key])[0].ends_with("0000000000000000"),
            "{status}"
        );
    }
    let out = run(&["attach", &worker.to_string(), "--", "id", "-u"]);
    assert_eq!(out.ok(), "1000\n");
    assert!(
        out.stderr
            .contains("warning: process 1 (sleep) of the container can hold CAP_SYS_PTRACE"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    child.kill().unwrap();
    child.wait().unwrap();
}
