//! The attach session is not a door: while `cntr attach` runs, a process of
//! the container (one without CAP_SYS_PTRACE) cannot read a host file
//! through `/proc/<pid>/root`, `/proc/<pid>/cwd` or `/proc/<pid>/fd/*` of
//! any process, the session's included, even when the session holds that
//! file open, stands in its directory, and has the host's `/` as root.

mod common;
use common::*;
use std::process::Stdio;

/// Runs a session that holds the secrets every way it can, then attacks
/// it from inside the container; returns what the attacker printed and
/// the session's PID in the container.
fn attack(
    ct: &Container,
    root_secret: &Secret,
    user_secret: &std::path::Path,
) -> (String, String, String) {
    let dir = user_secret.parent().unwrap().display().to_string();
    let hold = format!(
        "exec 5<{}; exec 6<{}; cd {dir}; exec sleep 60",
        user_secret.display(),
        if ct_is_root(ct) {
            root_secret.path.display().to_string()
        } else {
            "/dev/null".into()
        }
    );
    // stderr goes to a file: a pipe would be drained by the attacker
    // reading /proc/<session>/fd/2 where it can.
    let errfile = std::env::temp_dir().join(format!("cntr-door-err-{}", &root_secret.content[..8]));
    let mut session = command(&["attach", &ct.pid.to_string(), "--", "sh", "-c", &hold])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&errfile).unwrap())
        .spawn()
        .unwrap();
    let sleeper = wait_for(10, || {
        descendants(session.id() as i32)
            .into_iter()
            .find(|&p| cmdline(p) == "sleep 60")
    })
    .expect("session started");
    let status = std::fs::read_to_string(format!("/proc/{sleeper}/status")).unwrap();
    let inner = status
        .lines()
        .find(|l| l.starts_with("NSpid:"))
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .to_string();
    let secret_name = root_secret.path.file_name().unwrap().to_str().unwrap();
    let user_name = user_secret.file_name().unwrap().to_str().unwrap();
    let script = format!(
        "for p in /proc/[0-9]*; do n=${{p#/proc/}}; [ $n = $$ ] && continue; echo seen=$n; \
           timeout -s KILL 1 cat $p/root/root/{secret_name} $p/root{dir}/{user_name} $p/cwd/{user_name} 2>/dev/null; \
           for f in $p/fd/*; do timeout -s KILL 1 cat $f 2>/dev/null; done; \
         done; true"
    );
    let out = ct.exec_sh(&script);
    session.kill().unwrap();
    session.wait().unwrap();
    let err = std::fs::read_to_string(&errfile).unwrap();
    std::fs::remove_file(&errfile).unwrap();
    (format!("{}{}", out.stdout, out.stderr), inner, err)
}

fn ct_is_root(ct: &Container) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{}/status", ct.pid)).unwrap();
    let uid = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap()
        .split_whitespace()
        .nth(2)
        .unwrap()
        .to_string();
    uid == "0" || uid == "100000"
}

/// A file owned by `uid` (the attacker's uid as the host sees it), mode
/// 600, in a directory that uid may enter: readable for the attacker if
/// it ever reached the host's `/`.
fn user_secret(uid: u32, content: &str) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(format!("/tmp/cntr-door-{}-{uid}", &content[..8]));
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::chown(&dir, Some(uid), Some(uid)).unwrap();
    let f = dir.join("user-secret");
    std::fs::write(&f, format!("{content}\n")).unwrap();
    std::os::unix::fs::chown(&f, Some(uid), Some(uid)).unwrap();
    std::fs::set_permissions(&f, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    f
}

#[test]
fn no_door_for_docker_like_root_non_root_and_userns_root() {
    for (v, uid) in [
        (Variant::Docker, 0),
        (Variant::User, 1000),
        (Variant::Userns, 100000),
    ] {
        let host = HostState::take();
        let secret = Secret::new();
        let usecret = user_secret(uid, &secret.content);
        let ct = Container::start(v);
        let (seen, inner, err) = attack(&ct, &secret, &usecret);
        assert!(
            seen.lines().any(|l| l == format!("seen={inner}")),
            "{v:?}: the attacker did not see the session {inner}: {seen}"
        );
        assert!(
            !seen.contains(&secret.content),
            "{v:?}: the container read the host's secret through the session"
        );
        assert!(!err.contains("warning"), "{v:?}: {err}");
        drop(ct);
        std::fs::remove_dir_all(usecret.parent().unwrap()).unwrap();
        host.check();
    }
}

/// The control: a container holding CAP_SYS_PTRACE gets through, and
/// attach warns before starting. This shows the attack above is real.
#[test]
fn a_container_with_cap_sys_ptrace_gets_through_and_is_warned_of() {
    let secret = Secret::new();
    let usecret = user_secret(0, &secret.content);
    let ct = Container::start(Variant::Full);
    let (seen, _, err) = attack(&ct, &secret, &usecret);
    assert!(
        seen.contains(&secret.content),
        "the control attack failed: {seen} {err}"
    );
    assert!(
        err.contains("warning") && err.contains("CAP_SYS_PTRACE"),
        "{err}"
    );
    std::fs::remove_dir_all(usecret.parent().unwrap()).unwrap();
}

/// A static attacker in the container loops over every process it sees
/// with pidfd_getfd(2) on fds 0-63 and PTRACE_SEIZE, while sessions are
/// being set up (20 short attaches) and while one runs. It gets nothing
/// of cntr's processes (named `cntr` until the command runs) nor of the
/// session (`sleep`); the container's own init (`tail`) is fair game. The
/// control, a container with CAP_SYS_PTRACE, does seize the session.
#[test]
fn pidfd_getfd_and_ptrace_seize_get_nothing() {
    for v in [
        Variant::Docker,
        Variant::User,
        Variant::Userns,
        Variant::Full,
    ] {
        let ct = Container::start_private(v, |_| {}, &[], &["tail", "-f", "/dev/null"]);
        let pid = ct.pid.to_string();
        // Its report goes to a file: a pipe nobody reads yet could fill
        // and stop it while it holds a session's process seized.
        let report = std::env::temp_dir().join(format!("cntr-door-report-{}", ct.name));
        let attacker = command(&["exec", &pid, "--", "hostile", "door", "5"])
            .stdout(std::fs::File::create(&report).unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        for _ in 0..20 {
            let r = run(&["attach", &pid, "--", "true"]);
            assert!(r.code == 0, "{v:?}: {}", r.stderr);
        }
        run(&["attach", &pid, "--", "sleep", "2"]);
        let out = attacker.wait_with_output().unwrap();
        let said = std::fs::read_to_string(&report).unwrap();
        std::fs::remove_file(&report).unwrap();
        assert!(
            out.status.success(),
            "{v:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let hits: Vec<&str> = said
            .lines()
            .filter(|l| l.ends_with(" cntr") || l.ends_with(" sleep"))
            .collect();
        if v == Variant::Full {
            assert!(
                hits.iter().any(|l| l.starts_with("seized")),
                "control: {said}"
            );
        } else {
            assert_eq!(hits, Vec::<&str>::new(), "{v:?}");
        }
    }
}
