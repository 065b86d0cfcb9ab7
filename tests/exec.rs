//! `cntr exec` against real namespaced busybox containers: the container's
//! own binaries, inside the container.

mod common;
use common::*;

#[test]
fn runs_the_containers_own_binaries() {
    let host = HostState::take();
    let ct = Container::start(Variant::Docker);
    let out = ct.exec_sh("hostname; cat /etc/ct-marker; readlink /proc/self/exe; readlink /proc/$$/exe; echo $$; pwd; ls /var/lib/cntr 2>&1 | head -1");
    let text = out.ok();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], ct.name);
    assert_eq!(lines[1], "inside-ct");
    assert_eq!(
        lines[2], "/usr/bin/busybox",
        "the container's busybox, by its path in the container"
    );
    assert_eq!(
        lines[3], "/usr/bin/busybox",
        "sh is the container's busybox sh"
    );
    let me: u32 = lines[4].parse().unwrap();
    assert!(me > 1 && me < 100);
    assert_eq!(lines[5], "/");
    assert!(
        lines[6].contains("No such file"),
        "the host is not visible: {}",
        lines[6]
    );
    drop(ct);
    host.check();
}

#[test]
fn credentials_cgroup_and_environment_equal_the_targets() {
    for v in [
        Variant::Docker,
        Variant::User,
        Variant::Userns,
        Variant::Full,
    ] {
        let ct = Container::start(v);
        let out = ct.exec_sh("cat /proc/self/status; echo ====; cat /proc/1/status; echo ====; cat /proc/self/cgroup; echo ====; cat /proc/1/cgroup; echo ====; env | sort");
        let text = out.ok();
        let parts: Vec<&str> = text.split("====\n").collect();
        assert_eq!(
            status_lines(parts[0], CRED_KEYS),
            status_lines(parts[1], CRED_KEYS),
            "{v:?}"
        );
        assert_eq!(parts[2], parts[3], "{v:?}: cgroup");
        let env = parts[4];
        assert!(env.contains("CT_FOO=bar baz\n"), "{env}");
        assert!(
            env.contains("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"),
            "{env}"
        );
        // No terminal, no TERM of the caller's (as docker exec without -t).
        assert!(!env.contains("TERM="), "{env}");
        assert!(!env.contains("CNTR_TEST_CALLER_SECRET"), "{env}");
        assert!(!env.contains("CNTR_FDS"), "{env}");
        assert!(!env.contains("CNTR_SEALED"), "{env}");
    }
}

#[test]
fn command_holds_only_stdio_even_with_leaked_fds() {
    let ct = Container::start(Variant::Docker);
    assert_eq!(command_fds("exec", &ct), vec![0, 1, 2]);
}

/// A container whose `PATH` goes through `/proc/self/fd/8/...` gets
/// nothing from an fd the caller leaked to cntr (here 8, the host's `/`):
/// every such fd is closed before the `PATH` search, not only marked
/// close-on-exec, which would leave it open while execve resolves the path
/// (runc's CVE-2024-21626). The program is a static one that only the host
/// has (the tests' `hostile`), so it would run if the fd were reachable.
#[test]
fn a_path_through_a_leaked_fd_finds_nothing() {
    let dir = hostile_bin().parent().unwrap().display().to_string();
    let path = format!("PATH=/proc/self/fd/8{dir}:/proc/self/fd/8/bin");
    let ct = Container::start_with(Variant::Docker, &["--env", &path], &[]);
    let pid = ct.pid.to_string();
    let secret = Secret::new();
    for args in [
        vec!["exec", &pid, "--", "hostile"],
        vec![
            "resolve",
            &pid,
            "cntr-nsenter",
            "--all",
            "cntr-chroot-exec",
            "cntr-inherit",
            "hostile",
        ],
    ] {
        let mut c = command(&args);
        with_leaked_fds(&mut c, &secret.path);
        let r = Run::from(c.output().unwrap());
        assert_eq!(r.code, 127, "{args:?}: {} {}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("unable to run hostile: not found"),
            "{}",
            r.stderr
        );
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    }
}

#[test]
fn exit_statuses() {
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();
    assert_eq!(ct.exec_sh("exit 3").code, 3);
    assert_eq!(ct.exec_sh("kill -TERM $$").code, 143);
    let r = run(&["exec", &pid, "--", "no-such-command"]);
    assert_eq!(r.code, 127, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("cntr-inherit: ") && r.stderr.lines().count() == 1,
        "{}",
        r.stderr
    );
    let r = run(&["exec", &pid, "--", "/etc/ct-marker"]);
    assert_eq!(r.code, 126, "{}", r.stderr);
    // Found through the container's PATH, not the host's.
    let r = run(&["exec", &pid, "--", "busybox", "true"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn default_command_is_the_containers_sh() {
    let ct = Container::start(Variant::User);
    let r = run_input(
        &["exec", &ct.pid.to_string()],
        b"id -u; readlink /proc/$$/exe\n",
    );
    assert_eq!(r.ok(), "1000\n/usr/bin/busybox\n");
}
