//! `cntr attach` against real namespaced busybox containers: what a user
//! checks from inside the session.

mod common;
use common::*;

#[test]
fn sees_container_hostname_network_files_and_host_tools() {
    let host = HostState::take();
    let ct = Container::start(Variant::Docker);
    let out = ct.attach_sh(
        "hostname; cat /etc/hostname; cat /var/lib/cntr/etc/ct-marker; \
         readlink /var/lib/cntr/bin; ls /var/lib/cntr/bin/busybox; \
         [ \"$(readlink /proc/self/ns/net)\" = \"$(readlink /proc/1/ns/net)\" ] && echo same-net; \
         cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '; \
         python3 -c 'print(6*7)'; /usr/bin/env true && echo host-env; pwd",
    );
    let text = out.ok();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], ct.name, "hostname");
    assert_eq!(lines[1], ct.name, "/etc/hostname shows the container's");
    assert_eq!(lines[2], "inside-ct");
    assert_eq!(lines[3], "usr/bin", "top-level symlinks stay symlinks");
    assert_eq!(lines[4], "/var/lib/cntr/bin/busybox");
    assert_eq!(lines[5], "same-net");
    assert_eq!(lines[6], "lo", "only the container's loopback: {text}");
    assert_eq!(lines[7], "42", "host python runs");
    assert_eq!(lines[8], "host-env");
    assert_eq!(lines[9], "/var/lib/cntr", "starts in the base dir");
    drop(ct);
    host.check();
}

#[test]
fn lives_in_the_containers_pid_namespace() {
    let host = HostState::take();
    let ct = Container::start(Variant::Docker);
    let out = ct.attach_sh(
        "echo $$; while read -r l; do case $l in NSpid*) echo $l;; esac; done < /proc/self/status; tr '\\0' ' ' < /proc/1/cmdline; echo; \
         readlink /proc/self; ls /proc | grep -c '^[0-9]'; ps -e -o pid= -o comm= | tr -s ' ' | sort -n",
    );
    let text = out.ok();
    let lines: Vec<&str> = text.lines().collect();
    let me: u32 = lines[0].parse().unwrap();
    assert!(me > 1 && me < 100, "$$ is a container PID: {me}");
    // /proc is the container's: it knows the shell by its container PID
    // only.
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["NSpid:", lines[0]]
    );
    assert_eq!(
        lines[2].trim(),
        "/bin/sleep infinity",
        "/proc/1 is the container's init"
    );
    // /proc/self is the reading process itself, a container PID.
    let selfpid: u32 = lines[3].parse().unwrap();
    assert!(selfpid > me && selfpid < 100);
    let count: u32 = lines[4].parse().unwrap();
    assert!(count < 10, "only the container's processes: {count}");
    assert!(
        lines[5..].iter().any(|l| l.trim() == "1 sleep"),
        "ps lists the container's init: {text}"
    );

    // Seen from the host, the session is nested one PID namespace deeper.
    let mut c = command(&[
        "attach",
        &ct.pid.to_string(),
        "--",
        "sh",
        "-c",
        "echo $$; exec sleep 30",
    ]);
    let mut child = c.stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let sleeper = wait_for(10, || {
        descendants(child.id() as i32)
            .into_iter()
            .find(|&p| cmdline(p) == "sleep 30")
    })
    .unwrap();
    let status = std::fs::read_to_string(format!("/proc/{sleeper}/status")).unwrap();
    let nspid = status.lines().find(|l| l.starts_with("NSpid:")).unwrap();
    assert_eq!(
        nspid.split_whitespace().skip(1).collect::<Vec<_>>(),
        [sleeper.to_string().as_str(), line.trim()]
    );
    child.kill().unwrap();
    child.wait().unwrap();
    drop(ct);
    host.check();
}

#[test]
fn credentials_and_cgroup_match_the_target() {
    for v in [
        Variant::Docker,
        Variant::User,
        Variant::Userns,
        Variant::Full,
    ] {
        let host = HostState::take();
        let ct = Container::start(v);
        let out = ct.attach_sh("cat /proc/self/status; echo ====; cat /proc/1/status; echo ====; cat /proc/self/cgroup; echo ====; cat /proc/1/cgroup; echo ====; id -u");
        let text = out.ok();
        let parts: Vec<&str> = text.split("====\n").collect();
        let mine = status_lines(parts[0], CRED_KEYS);
        let theirs = status_lines(parts[1], CRED_KEYS);
        assert_eq!(parts[2], parts[3], "{v:?}: cgroup");
        assert!(
            parts[2].lines().count() >= 2,
            "{v:?}: cgroup lines: {}",
            parts[2]
        );
        let expected: Vec<String> = match v {
            // Documented extra: CAP_SYS_PTRACE (bit 19) in the bounding,
            // permitted and effective sets, so no container process holds a
            // superset of the session's capabilities.
            Variant::Docker => theirs
                .iter()
                .map(|l| match l.split(':').next().unwrap() {
                    "CapPrm" | "CapEff" | "CapBnd" => {
                        let v =
                            u64::from_str_radix(l.split_whitespace().nth(1).unwrap(), 16).unwrap();
                        format!(
                            "{}\t{:016x}",
                            l.split_whitespace().next().unwrap(),
                            v | 1 << 19
                        )
                    }
                    _ => l.to_string(),
                })
                .collect(),
            // Root in its own user namespace: a root session on the host's
            // side with the target's capability sets (cntr(1), SECURITY).
            Variant::Userns => {
                let inside = ct.exec_sh(
                    "grep -E '^(Uid|Gid|Groups|Cap[A-Za-z]+|NoNewPrivs|Seccomp):' /proc/1/status",
                );
                // Capabilities the host's root lacks (here CAP_SYS_RESOURCE)
                // cannot be given.
                let own = std::fs::read_to_string("/proc/self/status").unwrap();
                let own = status_lines(&own, &["CapPrm"])[0]
                    .split_whitespace()
                    .nth(1)
                    .unwrap()
                    .to_string();
                let own = u64::from_str_radix(&own, 16).unwrap();
                inside
                    .ok()
                    .lines()
                    .map(|l| {
                        let key = l.split(':').next().unwrap();
                        if key == "Groups" {
                            "Groups:\t".to_string()
                        } else if key.starts_with("Cap") {
                            let v = u64::from_str_radix(l.split_whitespace().nth(1).unwrap(), 16)
                                .unwrap();
                            format!("{key}:\t{:016x}", v & own)
                        } else {
                            l.to_string()
                        }
                    })
                    .collect()
            }
            _ => theirs.iter().map(|l| l.to_string()).collect(),
        };
        let mine: Vec<String> = mine.iter().map(|l| l.trim_end().to_string()).collect();
        let expected: Vec<String> = expected.iter().map(|l| l.trim_end().to_string()).collect();
        assert_eq!(mine, expected, "{v:?}: credentials");
        let uid = parts[4].trim();
        match v {
            Variant::User => assert_eq!(
                uid, "1000",
                "a non-root container never yields a root session"
            ),
            _ => assert_eq!(uid, "0"),
        }
        if v == Variant::Full {
            assert!(
                out.stderr.contains("CAP_SYS_PTRACE"),
                "warning for a container that can trace the session: {}",
                out.stderr
            );
        } else {
            assert!(!out.stderr.contains("warning"), "{v:?}: {}", out.stderr);
        }
        drop(ct);
        host.check();
    }
}

#[test]
fn environment_is_the_containers_without_loaders() {
    let ct = Container::start_with(
        Variant::Docker,
        &[
            "--env",
            "BASH_FUNC_ls%%=() { touch /tmp/pwned; }",
            "--env",
            "PROMPT_COMMAND=touch /tmp/pwned",
            "--env",
            "GCONV_PATH=/var/lib/cntr/tmp",
            "--env",
            "LD_PRELOAD=/var/lib/cntr/evil.so",
            "--env",
            "BASH_ENV=/var/lib/cntr/evil",
            "--env",
            "ENV=/var/lib/cntr/evil",
            "--env",
            "PATH=/var/lib/cntr/bin",
        ],
        &[],
    );
    let out = ct.attach_sh("env | sort");
    let text = out.ok();
    assert!(text.contains("CT_FOO=bar baz\n"), "{text}");
    assert!(text.contains(&format!("CT_NAME={}\n", ct.name)), "{text}");
    assert!(
        text.contains("TERM=xterm-test\n"),
        "the caller's TERM: {text}"
    );
    assert!(
        !text.contains("CNTR_TEST_CALLER_SECRET"),
        "the caller's environment leaked: {text}"
    );
    assert!(!text.contains("CNTR_FDS"), "{text}");
    for bad in [
        "LD_PRELOAD",
        "BASH_ENV",
        "ENV=",
        "BASH_FUNC_",
        "PROMPT_COMMAND",
        "GCONV_PATH",
    ] {
        assert!(
            !text.lines().any(|l| l.starts_with(bad)),
            "{bad} passed into the host-rooted session: {text}"
        );
    }
    assert!(!text.contains("PATH=/var/lib/cntr/bin"), "{text}");
}

#[test]
fn command_holds_only_stdio_even_with_leaked_fds() {
    let ct = Container::start(Variant::Docker);
    assert_eq!(command_fds("attach", &ct), vec![0, 1, 2]);
}

#[test]
fn exit_status_passes_through() {
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();
    assert_eq!(ct.attach_sh("exit 0").code, 0);
    assert_eq!(ct.attach_sh("exit 7").code, 7);
    assert_eq!(ct.attach_sh("kill -9 $$").code, 137);
    let r = run(&["attach", &pid, "--", "/no/such/command"]);
    assert_eq!(r.code, 127, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    let r = run(&["attach", &pid, "--", "/etc/hostname"]);
    assert_eq!(r.code, 126, "{}", r.stderr);
}

#[test]
fn stdio_is_byte_exact_without_a_terminal() {
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();
    let r = run(&["attach", &pid, "--", "printf", "a\\nb"]);
    assert_eq!(r.raw, b"a\nb");
    let r = run(&["attach", &pid, "--", "sh", "-c", "tty; true"]);
    assert_eq!(r.stdout, "not a tty\n");
    let mut data = vec![0u8; 10 << 20];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").unwrap(), &mut data)
        .unwrap();
    let r = run_input(&["attach", &pid, "--", "cat"], &data);
    assert_eq!(r.code, 0);
    assert!(
        r.raw == data,
        "10 MiB round trip differs ({} bytes back)",
        r.raw.len()
    );
}

#[test]
fn default_command_is_the_callers_shell() {
    let ct = Container::start(Variant::Docker);
    let r = run_input(&["attach", &ct.pid.to_string()], b"echo $0; hostname\n");
    assert_eq!(r.ok(), format!("/bin/sh\n{}\n", ct.name));
}

/// Without a terminal, signals sent to cntr reach the command: its trap
/// decides the exit status.
#[test]
fn signals_to_cntr_reach_the_command() {
    let ct = Container::start(Variant::Docker);
    for (sig, code) in [("TERM", 42), ("INT", 43), ("HUP", 44), ("USR1", 45)] {
        let script = format!("trap 'exit {code}' {sig}; echo ready; while :; do sleep 0.05; done");
        let mut c = command(&["attach", &ct.pid.to_string(), "--", "sh", "-c", &script]);
        c.stdout(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line, "ready\n");
        let kill = std::process::Command::new("kill")
            .args([format!("-{sig}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "SIG{sig}");
    }
}

/// `kill -9` of cntr ends the command it runs in the container (the
/// parent-death signal, kept across the change of credentials).
#[test]
fn kill_9_of_cntr_ends_the_command() {
    let ct = Container::start(Variant::User);
    for front in ["attach", "exec"] {
        let mut c = command(&[front, &ct.pid.to_string(), "--", "sleep", "61"]);
        c.stdout(std::process::Stdio::null());
        let (mut child, sleeper) = spawn_session(c, "sleep 61");
        child.kill().unwrap();
        child.wait().unwrap();
        let gone = wait_for(3, || {
            matches!(proc_state(sleeper), None | Some('Z')).then_some(())
        });
        assert!(gone.is_some(), "{front}: the command outlived cntr");
    }
}

/// What the processes cntr leaves running during a session hold: the
/// waiting parent (and, with a terminal, the relay) keep stdio, a signalfd
/// and the pseudo-terminal's master, never a directory or a host file a
/// container process could steal through /proc.
#[test]
fn cntr_processes_hold_only_a_whitelist_of_fds() {
    let ct = Container::start(Variant::Docker);
    let mut c = command(&["attach", &ct.pid.to_string(), "--", "sleep", "62"]);
    c.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let (mut child, sleeper) = spawn_session(c, "sleep 62");
    let mut cntr_procs = vec![child.id() as i32];
    cntr_procs.extend(
        descendants(child.id() as i32)
            .into_iter()
            .filter(|&p| p != sleeper),
    );
    for p in cntr_procs {
        for fd in fds(p) {
            let target = std::fs::read_link(format!("/proc/{p}/fd/{fd}")).unwrap_or_default();
            let t = target.to_string_lossy();
            let allowed = (fd <= 2
                && (t == "/dev/null" || t.starts_with("pipe:") || t.starts_with("/dev/pts/")))
                || t == "anon_inode:[signalfd]"
                || t == "/dev/ptmx"
                || t.starts_with("/dev/pts/");
            assert!(allowed, "process {p} ({}) holds fd {fd} -> {t}", cmdline(p));
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Job control, as nsenter(1) does it: when the command stops, cntr stops
/// too (the shell sees the job stop); continuing cntr continues the
/// command. For attach and exec, without a terminal.
#[test]
fn job_control_stop_and_continue_propagate() {
    let ct = Container::start(Variant::Docker);
    let state = |pid: i32| proc_state(pid).unwrap_or('?');
    let signal = |pid: i32, sig: rustix::process::Signal| {
        rustix::process::kill_process(rustix::process::Pid::from_raw(pid).unwrap(), sig).unwrap()
    };
    for front in ["attach", "exec"] {
        let mut c = command(&[front, &ct.pid.to_string(), "--", "sleep", "62"]);
        c.stdout(std::process::Stdio::null());
        let (mut child, sleeper) = spawn_session(c, "sleep 62");
        let cntr = child.id() as i32;
        signal(sleeper, rustix::process::Signal::STOP);
        assert!(
            wait_for(5, || (state(cntr) == 'T').then_some(())).is_some(),
            "{front}: cntr did not stop with its command"
        );
        signal(cntr, rustix::process::Signal::CONT);
        assert!(
            wait_for(5, || (state(sleeper) == 'S' && state(cntr) == 'S')
                .then_some(()))
            .is_some(),
            "{front}: continuing cntr did not continue the command ({} {})",
            state(cntr),
            state(sleeper)
        );
        signal(cntr, rustix::process::Signal::TERM);
        assert_eq!(child.wait().unwrap().code(), Some(143), "{front}");
    }
}
