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

/// The session's credentials follow cntr(1)'s rule, written here again
/// from the target's status as the host reads it: the target's ids as the
/// host sees them; its capability sets if it lives in the host's user
/// namespace, else none; plus CAP_SYS_PTRACE (bit 19) in the bounding,
/// permitted and effective sets, and for a non-root session in the
/// inheritable and ambient sets too; all within what cntr itself holds
/// (the test machine's root lacks CAP_SYS_RESOURCE).
#[test]
fn credentials_and_cgroup_follow_the_rule() {
    for v in [
        Variant::Docker,
        Variant::User,
        Variant::Userns,
        Variant::Full,
    ] {
        let host = HostState::take();
        let ct = Container::start(v);
        let target = std::fs::read_to_string(format!("/proc/{}/status", ct.pid)).unwrap();
        let out = ct.attach_sh(
            "cat /proc/self/status; echo ====; cat /proc/self/cgroup; echo ====; cat /proc/1/cgroup; echo ====; id -u",
        );
        let text = out.ok();
        let parts: Vec<&str> = text.split("====\n").collect();
        assert_eq!(parts[1], parts[2], "{v:?}: cgroup");
        assert!(
            parts[1].lines().count() >= 2,
            "{v:?}: cgroup lines: {}",
            parts[1]
        );
        let mine: Vec<String> = status_lines(parts[0], CRED_KEYS)
            .iter()
            .map(|l| l.trim_end().to_string())
            .collect();
        let in_host_userns = v != Variant::Userns;
        assert_eq!(
            mine,
            session_model(&target, in_host_userns),
            "{v:?}: credentials"
        );
        let uid = parts[3].trim();
        let want = match v {
            Variant::User => "1000",
            Variant::Userns => "100000",
            _ => "0",
        };
        assert_eq!(uid, want, "{v:?}: the target's uid as the host sees it");
        if v == Variant::Full {
            assert!(
                out.stderr.contains("CAP_SYS_PTRACE") && out.stderr.contains("process 1 (sleep)"),
                "warning naming the container's process that can trace the session: {}",
                out.stderr
            );
        } else {
            assert!(!out.stderr.contains("warning"), "{v:?}: {}", out.stderr);
        }
        drop(ct);
        host.check();
    }
}

/// The credential lines of a session for a target whose host-side status
/// is `target` (see `credentials_and_cgroup_follow_the_rule`).
fn session_model(target: &str, in_host_userns: bool) -> Vec<String> {
    let field = |key: &str| -> String {
        status_lines(target, &[key])[0]
            .split_once(':')
            .unwrap()
            .1
            .trim()
            .to_string()
    };
    let hex = |key: &str| u64::from_str_radix(&field(key), 16).unwrap();
    let own = std::fs::read_to_string("/proc/self/status").unwrap();
    let own = u64::from_str_radix(
        status_lines(&own, &["CapPrm"])[0]
            .split_whitespace()
            .nth(1)
            .unwrap(),
        16,
    )
    .unwrap();
    let ptrace = 1u64 << 19;
    let caps = |key: &str| if in_host_userns { hex(key) } else { 0 };
    let root = field("Uid").split_whitespace().take(2).all(|u| u == "0");
    let (inh, amb) = if root {
        (caps("CapInh"), caps("CapAmb"))
    } else {
        (caps("CapInh") | ptrace, caps("CapAmb") | ptrace)
    };
    let mut out = Vec::new();
    for key in CRED_KEYS {
        let line = match *key {
            "CapInh" => format!("CapInh:\t{:016x}", inh & own),
            "CapPrm" | "CapEff" => format!("{key}:\t{:016x}", (caps(key) | ptrace) & own),
            // The bounding set is not limited by what cntr holds.
            "CapBnd" => format!("CapBnd:\t{:016x}", caps(key) | ptrace),
            "CapAmb" => format!("CapAmb:\t{:016x}", amb & own),
            // cntr(1): the target's seccomp filter is not applied.
            "Seccomp" => "Seccomp:\t0".to_string(),
            _ => status_lines(target, &[key])[0].trim_end().to_string(),
        };
        out.push(line);
    }
    out
}

/// The host-rooted session gets an allowlist of the container's
/// environment (HOSTNAME and locale names that are not paths) and the
/// caller's basics; none of the variables that make a host tool load or run
/// something. The container's full environment stays readable.
#[test]
fn environment_is_an_allowlist() {
    let evil = [
        "BASH_FUNC_ls%%=() { touch /tmp/pwned; }",
        "PROMPT_COMMAND=touch /tmp/pwned",
        "GCONV_PATH=/var/lib/cntr/tmp",
        "LD_PRELOAD=/var/lib/cntr/evil.so",
        "BASH_ENV=/var/lib/cntr/evil",
        "ENV=/var/lib/cntr/evil",
        "PATH=/var/lib/cntr/bin",
        "VIMRUNTIME=/var/lib/cntr/vim",
        "VIM=/var/lib/cntr/vim",
        "SYSTEMD_PAGER=touch /tmp/pwned",
        "SYSTEMD_PAGERSECURE=0",
        "KUBECONFIG=/var/lib/cntr/kube",
        "MAKEFILES=/var/lib/cntr/evil.mk",
        "WGETRC=/var/lib/cntr/wgetrc",
        "CURL_HOME=/var/lib/cntr",
        "SSH_ASKPASS=/var/lib/cntr/evil",
        "LUA_INIT=@/var/lib/cntr/evil.lua",
        "PHPRC=/var/lib/cntr/php.ini",
        "EMACSLOADPATH=/var/lib/cntr/el",
        "BROWSER=/var/lib/cntr/evil",
        "DOCKER_CONFIG=/var/lib/cntr/docker",
        "PIP_CONFIG_FILE=/var/lib/cntr/pip.conf",
        "LC_MESSAGES=/var/lib/cntr/locale",
        "LC_TIME=de_DE.UTF-8",
    ];
    let mut opts = Vec::new();
    for e in evil {
        opts.extend(["--env", e]);
    }
    let ct = Container::start_with(Variant::Docker, &opts, &[]);
    let out = sh(
        "attach",
        &ct.pid.to_string(),
        "env | sort; echo ====; tr '\\0' '\\n' </proc/1/environ",
    );
    let text = out.ok();
    let (session, container) = text.split_once("====\n").unwrap();
    let keys: Vec<&str> = session
        .lines()
        .map(|l| l.split('=').next().unwrap())
        .collect();
    let allowed = [
        "HOSTNAME", "LC_TIME", "PATH", "HOME", "SHELL", "USER", "LOGNAME", "PWD", "SHLVL", "_",
        "LANG", "LANGUAGE", "LC_ALL",
    ];
    for k in &keys {
        assert!(
            allowed.contains(k),
            "{k} passed into the host-rooted session: {session}"
        );
    }
    assert!(
        session.contains(&format!("HOSTNAME={}\n", ct.name)),
        "{session}"
    );
    assert!(session.contains("LC_TIME=de_DE.UTF-8\n"), "{session}");
    assert!(
        session.contains("SHELL=/bin/sh\n"),
        "the caller's: {session}"
    );
    assert!(
        !session.contains("TERM="),
        "TERM without a terminal: {session}"
    );
    assert!(!session.contains("CT_FOO"), "{session}");
    assert!(!session.contains("PATH=/var/lib/cntr/bin"), "{session}");
    for e in evil {
        assert!(
            container.lines().any(|l| l == e),
            "the container's {e} is one command away: {container}"
        );
    }
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
