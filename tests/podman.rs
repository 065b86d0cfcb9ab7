//! Podman as root: attach and exec by name, ID and prefix, from podman's
//! storage and run roots, against real podman containers (runc, the
//! roots `scripts/engines start` gives).

mod common;
use common::*;
use std::process::Command;
use std::time::Duration;

#[test]
fn by_name_id_and_prefix() {
    let host = HostState::take();
    let name = format!("cntr-pod-{}", std::process::id());
    let p = Engine::Podman.run(&name, &["--hostname", &format!("p-{name}")]);
    let pid = p.pid().to_string();
    for target in [p.name.as_str(), p.id.as_str(), &p.id[..12]] {
        assert_eq!(
            run(&["resolve", "-t", "podman", target]).ok().trim(),
            pid,
            "{target}"
        );
        let r = sh(
            "attach",
            target,
            "hostname; cat /var/lib/cntr/etc/ct-marker; cat /proc/self/cgroup",
        );
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

/// The rootless user `scripts/engines` made (`CNTR_PODMAN_USER`), and
/// its uid.
fn rootless_user() -> (String, String) {
    let user = std::env::var("CNTR_PODMAN_USER")
        .expect("no rootless user: run `eval \"$(scripts/engines start)\"` (scripts/test does)");
    let uid = Run::from(Command::new("id").args(["-u", &user]).output().unwrap())
        .ok()
        .trim()
        .to_string();
    (user, uid)
}

/// Podman as the rootless user.
fn rootless(args: &str) -> Run {
    let (user, uid) = rootless_user();
    let conf = std::env::var("CONTAINERS_CONF").unwrap();
    let script =
        format!("cd && XDG_RUNTIME_DIR=/run/user/{uid} CONTAINERS_CONF={conf} podman {args}");
    Run::from(
        Command::new("su")
            .args(["-s", "/bin/sh", &user, "-c", &script])
            .output()
            .unwrap(),
    )
}

/// A running container of the rootless user, removed on drop.
struct Rootless {
    name: String,
    id: String,
    pid: String,
    user: String,
    uid: String,
}

impl Rootless {
    fn run(name: &str) -> Rootless {
        need_root();
        let (user, uid) = rootless_user();
        let id = rootless(&format!(
            "run -d --network none --name {name} cntr-busybox:test /bin/sleep infinity"
        ))
        .ok()
        .trim()
        .to_string();
        // Made before its PID is asked for: removed on drop from here on.
        let mut c = Rootless {
            name: name.to_string(),
            id,
            pid: String::new(),
            user,
            uid,
        };
        c.pid = rootless(&format!("inspect --format '{{{{.State.Pid}}}}' {name}"))
            .ok()
            .trim()
            .to_string();
        c
    }
}

impl Drop for Rootless {
    fn drop(&mut self) {
        let _ = rootless(&format!("rm -f -t 0 {}", self.name));
    }
}

#[test]
fn a_users_rootless_container_by_name() {
    let c = Rootless::run(&format!("cntr-rl-{}", std::process::id()));
    let (name, id, pid) = (c.name.as_str(), c.id.as_str(), c.pid.as_str());
    let (user, uid) = (c.user.as_str(), c.uid.as_str());
    // By the user's name (CNTR_PODMAN_USER), or as through sudo.
    assert_eq!(run(&["resolve", "-t", "podman", name]).ok().trim(), pid);
    let sudo = Run::from(
        command(&["resolve", &id[..12]])
            .env_remove("CNTR_PODMAN_USER")
            .env("SUDO_UID", uid)
            .output()
            .unwrap(),
    );
    assert_eq!(sudo.ok().trim(), pid);
    // Or named with --owner, on the command line.
    let r = Run::from(
        command(&[
            "attach",
            "--owner",
            user,
            name,
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
        command(&["resolve", name])
            .env_remove("CNTR_PODMAN_USER")
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 125, "{}", r.stdout);
    // Root in the user's namespace is the user on the host's side: the
    // attach session runs as that uid (see cntr(1), SECURITY); exec runs
    // as root inside.
    let r = sh("attach", name, "id -u; cat /var/lib/cntr/etc/ct-marker");
    assert_eq!(r.ok(), format!("{uid}\ninside-ct\n"));
    exec_runs_in_its_user_namespace(name);
    rootless(&format!("rm -f -t 0 {name}")).ok();
}

/// Puts back a file's content when dropped.
struct Restore(std::path::PathBuf, Vec<u8>);

impl Drop for Restore {
    fn drop(&mut self) {
        std::fs::write(&self.0, &self.1).unwrap();
    }
}

/// The rootless user writes the PID files of their containers: forged to
/// name a process of root's (and its parent as conmon), they must not get
/// root's cntr into it.
#[test]
fn a_forged_rootless_pid_file_is_refused() {
    let c = Rootless::run(&format!("cntr-forged-{}", std::process::id()));
    let (name, id, pid) = (c.name.as_str(), c.id.as_str(), c.pid.as_str());
    let (user, uid) = (c.user.as_str(), c.uid.as_str());
    let runroot = std::path::PathBuf::from(format!("/run/user/{uid}/containers"));
    let userdata = std::fs::read_dir(&runroot)
        .unwrap()
        .flatten()
        .map(|d| d.path().join(id).join("userdata"))
        .find(|d| d.join("pidfile").exists())
        .expect("the container's run files");
    assert_eq!(run(&["resolve", "-t", "podman", name]).ok().trim(), pid);

    // A process of root's, whose parent is this test.
    let mut sleeper = Command::new("sleep").arg("60").spawn().unwrap();
    let forged = sleeper.id().to_string();
    let files: Vec<Restore> = ["pidfile", "conmon.pid"]
        .iter()
        .map(|f| {
            let p = userdata.join(f);
            let saved = std::fs::read(&p).unwrap();
            Restore(p, saved)
        })
        .collect();
    std::fs::write(&files[0].0, &forged).unwrap();
    std::fs::write(&files[1].0, std::process::id().to_string()).unwrap();
    let r = run(&["attach", "-t", "podman", name, "--", "true"]);
    let list = run(&["resolve", "--list"]);
    drop(files);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert_eq!(r.code, 125, "attached to root's process: {}", r.stdout);
    assert_eq!(
        r.stderr,
        format!(
            "cntr-resolve: podman {name} ({}, PID {forged}) is not user {user}'s: its process runs as host uid 0\n",
            &id[..12]
        )
    );
    assert!(!list.ok().contains(name), "{}", list.stdout);
    // Put back, the files name the container again.
    assert_eq!(run(&["resolve", "-t", "podman", name]).ok().trim(), pid);
    assert_eq!(
        run(&["attach", name, "--", "cat", "/var/lib/cntr/etc/ct-marker"]).ok(),
        "inside-ct\n"
    );
}

/// A containers.json of 16 MiB (the most cntr reads) made of millions of
/// tiny values, deep nests, or one huge entry: resolving through it stays
/// quick and small.
#[test]
fn a_hostile_container_list_is_cheap() {
    need_root();
    let dir = std::env::temp_dir().join(format!("cntr-podman-list-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    struct Gone(std::path::PathBuf);
    impl Drop for Gone {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _gone = Gone(dir.clone());
    let size = 16 << 20;
    let fill_in = |unit: &str, room: usize| -> String {
        let n = (room - 2) / (unit.len() + 1);
        format!("[{}]", vec![unit; n].join(","))
    };
    let fill = |unit: &str| fill_in(unit, size);
    let deep = format!("{}{}", "[".repeat(60), "]".repeat(60));
    let entry = |i: usize| format!(r#"{{"id":"{i:064x}","names":["n{i:08x}"]}}"#);
    let lists = [
        ("zeros", fill("0")),
        ("objects", fill("{}")),
        ("nests", fill(&deep)),
        ("entries", {
            let one = entry(0).len() + 1;
            format!(
                "[{}]",
                (0..(size - 2) / one)
                    .map(entry)
                    .collect::<Vec<_>>()
                    .join(",")
            )
        }),
        (
            "one-entry",
            format!(
                r#"[{{"id":"{}","names":{}}}]"#,
                "a".repeat(64),
                fill_in(r#""x""#, size - 100)
            ),
        ),
    ];
    for (what, text) in lists {
        assert!(text.len() <= size, "{what}: {}", text.len());
        let root = dir.join(what);
        std::fs::create_dir_all(root.join("overlay-containers")).unwrap();
        std::fs::write(root.join("overlay-containers/containers.json"), &text).unwrap();
        drop(text);
        let mut c = command(&["resolve", "-t", "podman", "0"]);
        c.env("CNTR_PODMAN_ROOT", &root)
            .env("CNTR_PODMAN_RUNROOT", dir.join("run"))
            .env_remove("CNTR_PODMAN_USER")
            .env_remove("SUDO_UID");
        let Measured {
            run: r,
            rss_kib: kib,
            took,
        } = measured(c, Duration::from_secs(10));
        assert_eq!(r.code, 125, "{what}: {}", r.stdout);
        assert_eq!(r.stderr.lines().count(), 1, "{what}: {}", r.stderr);
        // The list itself is read whole (16 MiB); beyond that, little.
        assert!(kib < 40 << 10, "{what}: {kib} KiB");
        assert!(took < Duration::from_secs(3), "{what}: {took:?}");
    }
}
