//! Attach and exec by docker name, ID and ID prefix, against a real
//! dockerd that `scripts/engines start` runs (scripts/test does), with a
//! busybox image imported from the harness's root filesystem.

mod common;
use common::*;
use std::process::Command;

/// The daemon's socket, from `DOCKER_HOST`. The test fails (it does not
/// skip) when the daemon is not there: CI runs it.
fn docker_host() -> String {
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    let path = host.strip_prefix("unix://").unwrap_or("");
    assert!(
        std::path::Path::new(path).exists(),
        "no dockerd at DOCKER_HOST={host:?}: run `scripts/engines start` (scripts/test does)"
    );
    host
}

/// A running docker container, removed on drop.
struct Docker {
    id: String,
    name: String,
}

impl Docker {
    fn run(name: &str) -> Docker {
        need_root();
        let r = docker(&[
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            name,
            "--hostname",
            &format!("h-{name}"),
            "-e",
            "CT_FOO=bar baz",
            "cntr-busybox:test",
            "/bin/sleep",
            "infinity",
        ]);
        let id = r.ok().trim().to_string();
        assert_eq!(id.len(), 64, "{}", r.stderr);
        Docker {
            id,
            name: name.to_string(),
        }
    }

    fn pid(&self) -> i32 {
        docker(&["inspect", "--format", "{{.State.Pid}}", &self.id])
            .ok()
            .trim()
            .parse()
            .unwrap()
    }
}

impl Drop for Docker {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.id]);
    }
}

fn unique(tag: &str) -> String {
    format!("cntr-{tag}-{}", std::process::id())
}

#[test]
fn attach_and_exec_by_name_id_and_prefix() {
    let host = HostState::take();
    let d = Docker::run(&unique("web"));
    // Eight hex digits: never a PID (over 4194304 when all are decimal).
    for target in [d.name.as_str(), d.id.as_str(), &d.id[..12], &d.id[..8]] {
        let r = run(&["attach", target, "--", "sh", "-c", "hostname; cat /var/lib/cntr/etc/ct-marker; echo $$; grep -c . /proc/1/cmdline; cat /proc/self/cgroup"]);
        let text = r.ok();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], format!("h-{}", d.name), "{target}");
        assert_eq!(lines[1], "inside-ct");
        assert!(
            lines[2].parse::<u32>().unwrap() < 100,
            "container PID namespace"
        );
        assert!(
            lines[4..]
                .iter()
                .all(|l| l.ends_with(&format!("/docker/{}", d.id))),
            "{target}: cgroup {text}"
        );
        let r = run(&[
            "exec",
            target,
            "--",
            "sh",
            "-c",
            "hostname; readlink /proc/self/exe; echo $CT_FOO",
        ]);
        assert_eq!(
            r.ok(),
            format!("h-{}\n/usr/bin/busybox\nbar baz\n", d.name),
            "{target}"
        );
    }
    // -t names the engine alone.
    assert_eq!(
        run(&["resolve", "-t", "docker", &d.name]).ok().trim(),
        d.pid().to_string()
    );
    drop(d);
    host.check();
}

#[test]
fn session_credentials_are_the_containers_plus_ptrace() {
    let d = Docker::run(&unique("creds"));
    let r = run(&[
        "attach",
        &d.name,
        "--",
        "sh",
        "-c",
        "grep -E '^Cap(Prm|Eff|Bnd)' /proc/self/status /proc/1/status",
    ]);
    let text = r.ok();
    let cap = |who: &str, set: &str| {
        let l = text
            .lines()
            .find(|l| l.starts_with(who) && l.contains(set))
            .unwrap();
        u64::from_str_radix(l.split_whitespace().last().unwrap(), 16).unwrap()
    };
    for set in ["CapPrm", "CapEff", "CapBnd"] {
        assert_eq!(
            cap("/proc/self", set),
            cap("/proc/1", set) | 1 << 19,
            "{set}: {text}"
        );
    }
}

#[test]
fn list_shows_running_containers() {
    let d = Docker::run(&unique("list"));
    let pid = d.pid();
    let text = run(&["resolve", "--list"]).ok().to_string();
    assert!(
        text.lines()
            .any(|l| l == format!("docker {} {} {pid}", d.name, d.id)),
        "{text}"
    );
    let json = run(&["resolve", "--list", "--json"]).ok().to_string();
    assert!(
        json.lines().any(|l| l
            == format!(
                "{{\"pid\":{pid},\"engine\":\"docker\",\"id\":\"{}\",\"name\":\"{}\"}}",
                d.id, d.name
            )),
        "{json}"
    );
}

#[test]
fn stopped_unknown_and_absent() {
    let host = HostState::take();
    let d = Docker::run(&unique("stopped"));
    docker(&["stop", "-t", "0", &d.id]).ok();
    for front in ["attach", "exec"] {
        let r = run(&[front, &d.name]);
        assert_eq!(r.code, 125);
        assert_eq!(
            r.stderr,
            format!("cntr-resolve: docker container {} is not running\n", d.name)
        );
    }
    let r = run(&["attach", &unique("nosuch")]);
    assert_eq!(r.code, 125);
    assert!(r.stderr.contains("no container found"), "{}", r.stderr);
    // The daemon absent, or its socket left behind with nobody listening:
    // a quick, clear answer.
    let stale = std::env::temp_dir().join(format!("cntr-stale-{}.sock", std::process::id()));
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    for dh in [
        "unix:///nonexistent/docker.sock".to_string(),
        format!("unix://{}", stale.display()),
    ] {
        let start = std::time::Instant::now();
        let r = Run::from(
            command(&["attach", &d.name, "--", "true"])
                .env("DOCKER_HOST", &dh)
                .output()
                .unwrap(),
        );
        assert_eq!(r.code, 125, "{dh}");
        assert!(
            r.stderr.contains("no container found"),
            "{dh}: {}",
            r.stderr
        );
        assert!(
            start.elapsed() < std::time::Duration::from_secs(1),
            "{dh}: slow"
        );
    }
    std::fs::remove_file(&stale).unwrap();
    let r = Run::from(
        command(&["resolve", &d.name])
            .env("DOCKER_HOST", "tcp://127.0.0.1:2375")
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 125);
    assert!(r.stderr.contains("not a unix socket"), "{}", r.stderr);
    drop(d);
    host.check();
}

#[test]
fn a_name_two_engines_know_is_ambiguous() {
    // A docker container named like the PID of another container.
    let ct = Container::start(Variant::Docker);
    let d = Docker::run(&ct.pid.to_string());
    let r = run(&["resolve", &ct.pid.to_string()]);
    assert_eq!(r.code, 125);
    assert!(
        r.stderr.contains("is ambiguous")
            && r.stderr.contains(&format!("process {}", ct.pid))
            && r.stderr.contains(&d.id[..12]),
        "{}",
        r.stderr
    );
    assert_eq!(
        run(&["resolve", "-t", "docker", &d.name]).ok().trim(),
        d.pid().to_string()
    );
    assert_eq!(
        run(&["resolve", "-t", "process-id", &d.name]).ok().trim(),
        ct.pid.to_string()
    );
}

/// Without the daemon's socket where cntr looks, the docker CLI is asked:
/// its context names the socket.
#[test]
fn the_cli_when_the_socket_is_elsewhere() {
    let d = Docker::run(&unique("cli"));
    let config = std::env::temp_dir().join(format!("cntr-docker-config-{}", std::process::id()));
    std::fs::create_dir_all(&config).unwrap();
    let cfg = config.to_str().unwrap();
    let host = docker_host();
    Run::from(
        Command::new("docker")
            .args([
                "--config",
                cfg,
                "context",
                "create",
                "cntr-test",
                "--docker",
                &format!("host={host}"),
            ])
            .output()
            .unwrap(),
    )
    .ok();
    let r = Run::from(
        command(&["resolve", "-t", "docker", &d.name])
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .env("DOCKER_CONFIG", cfg)
            .env("DOCKER_CONTEXT", "cntr-test")
            .output()
            .unwrap(),
    );
    assert_eq!(r.ok().trim(), d.pid().to_string());
    std::fs::remove_dir_all(&config).unwrap();
}

/// Docker's default seccomp profile confines the container's processes;
/// as cntr(1) says under SECURITY, cntr does not apply it: the command of
/// `cntr exec` has the target's credentials exactly, but no filter.
#[test]
fn the_seccomp_filter_is_not_applied_as_documented() {
    let d = Docker::run(&unique("seccomp"));
    let text = run(&[
        "exec",
        &d.name,
        "--",
        "sh",
        "-c",
        "cat /proc/self/status; echo ====; cat /proc/1/status",
    ])
    .ok()
    .to_string();
    let parts: Vec<&str> = text.split("====\n").collect();
    let keys: Vec<&str> = CRED_KEYS
        .iter()
        .copied()
        .filter(|k| *k != "Seccomp")
        .collect();
    assert_eq!(status_lines(parts[0], &keys), status_lines(parts[1], &keys));
    assert_eq!(status_lines(parts[1], &["Seccomp"]), ["Seccomp:\t2"]);
    assert_eq!(status_lines(parts[0], &["Seccomp"]), ["Seccomp:\t0"]);
    let man = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/man/cntr.1")).unwrap();
    assert!(man.contains("filters are \\fInot\\fR applied"));
}
