//! Podman as root: attach and exec by name, ID and prefix, from podman's
//! storage and run roots, against real podman containers (runc, the
//! roots `scripts/engines start` gives).

mod common;
use common::*;
use std::process::Command;

fn podman(args: &[&str]) -> Run {
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

struct Podman {
    id: String,
    name: String,
}

impl Podman {
    fn run(name: &str) -> Podman {
        need_root();
        let r = podman(&[
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            name,
            "--hostname",
            &format!("p-{name}"),
            "cntr-busybox:test",
            "/bin/sleep",
            "infinity",
        ]);
        let id = r.ok().trim().to_string();
        assert_eq!(id.len(), 64, "{}", r.stderr);
        Podman {
            id,
            name: name.to_string(),
        }
    }

    fn pid(&self) -> String {
        podman(&["inspect", "--format", "{{.State.Pid}}", &self.id])
            .ok()
            .trim()
            .to_string()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = podman(&["rm", "-f", "-t", "0", &self.id]);
    }
}

#[test]
fn by_name_id_and_prefix() {
    let host = HostState::take();
    let p = Podman::run(&format!("cntr-pod-{}", std::process::id()));
    let pid = p.pid();
    for target in [p.name.as_str(), p.id.as_str(), &p.id[..12]] {
        assert_eq!(
            run(&["resolve", "-t", "podman", target]).ok().trim(),
            pid,
            "{target}"
        );
        let r = run(&[
            "attach",
            target,
            "--",
            "sh",
            "-c",
            "hostname; cat /var/lib/cntr/etc/ct-marker; cat /proc/self/cgroup",
        ]);
        let text = r.ok();
        assert!(
            text.starts_with(&format!("p-{}\ninside-ct\n", p.name)),
            "{target}: {text}"
        );
        assert!(text.lines().skip(2).all(|l| l.contains(&p.id)), "{text}");
        assert_eq!(
            run(&["exec", target, "--", "cat", "/etc/ct-marker"]).ok(),
            "inside-ct\n"
        );
    }
    let list = run(&["resolve", "--list"]).ok().to_string();
    assert!(
        list.lines()
            .any(|l| l == format!("podman {} {} {pid}", p.name, p.id)),
        "{list}"
    );
    podman(&["stop", "-t", "0", &p.id]).ok();
    let r = run(&["attach", &p.name]);
    assert_eq!(r.code, 125);
    assert_eq!(
        r.stderr,
        format!("cntr-resolve: podman container {} is not running\n", p.name)
    );
    drop(p);
    host.check();
}

/// Podman as the rootless user `scripts/engines` made (`CNTR_PODMAN_USER`).
fn rootless(args: &str) -> Run {
    let user = std::env::var("CNTR_PODMAN_USER")
        .expect("no rootless user: run `eval \"$(scripts/engines start)\"` (scripts/test does)");
    let conf = std::env::var("CONTAINERS_CONF").unwrap();
    let uid = Run::from(Command::new("id").args(["-u", &user]).output().unwrap())
        .ok()
        .trim()
        .to_string();
    let script =
        format!("cd && XDG_RUNTIME_DIR=/run/user/{uid} CONTAINERS_CONF={conf} podman {args}");
    Run::from(
        Command::new("su")
            .args(["-s", "/bin/sh", &user, "-c", &script])
            .output()
            .unwrap(),
    )
}

#[test]
fn a_users_rootless_container_by_name() {
    need_root();
    let name = format!("cntr-rl-{}", std::process::id());
    let id = rootless(&format!(
        "run -d --network none --name {name} cntr-busybox:test /bin/sleep infinity"
    ))
    .ok()
    .trim()
    .to_string();
    let pid = rootless(&format!("inspect --format '{{{{.State.Pid}}}}' {name}"))
        .ok()
        .trim()
        .to_string();
    let user = std::env::var("CNTR_PODMAN_USER").unwrap();
    let uid = Run::from(Command::new("id").args(["-u", &user]).output().unwrap())
        .ok()
        .trim()
        .to_string();
    // By the user's name (CNTR_PODMAN_USER), or as through sudo.
    assert_eq!(run(&["resolve", "-t", "podman", &name]).ok().trim(), pid);
    let sudo = Run::from(
        command(&["resolve", &id[..12]])
            .env_remove("CNTR_PODMAN_USER")
            .env("SUDO_UID", &uid)
            .output()
            .unwrap(),
    );
    assert_eq!(sudo.ok().trim(), pid);
    // Or named with -u, on the command line.
    let r = Run::from(
        command(&[
            "attach",
            "-u",
            &user,
            &name,
            "--",
            "cat",
            "/var/lib/cntr/etc/ct-marker",
        ])
        .env_remove("CNTR_PODMAN_USER")
        .output()
        .unwrap(),
    );
    assert_eq!(r.ok(), "inside-ct\n");
    // Root's own podman does not see it, and neither does cntr unasked.
    let r = Run::from(
        command(&["resolve", &name])
            .env_remove("CNTR_PODMAN_USER")
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 125, "{}", r.stdout);
    // Root in the user's namespace: a root session on the host's side (see
    // cntr(1), SECURITY); exec runs as root inside.
    let r = run(&[
        "attach",
        &name,
        "--",
        "sh",
        "-c",
        "id -u; cat /var/lib/cntr/etc/ct-marker",
    ]);
    assert_eq!(r.ok(), "0\ninside-ct\n");
    let r = run(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        "id -u; cat /etc/ct-marker; cat /proc/self/uid_map",
    ]);
    let text = r.ok();
    assert!(text.starts_with("0\ninside-ct\n"), "{text}");
    assert!(
        !text
            .lines()
            .nth(2)
            .unwrap_or("")
            .trim()
            .starts_with("0          0"),
        "exec runs in the user's namespace: {text}"
    );
    rootless(&format!("rm -f -t 0 {name}")).ok();
}
