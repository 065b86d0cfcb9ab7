//! The flags docker exec, podman and nsenter users know: `-u` runs as a
//! user of the container, `-w` picks the working directory (exec's default
//! is the target's own), `-e` and `--env-file` set variables; and the shell
//! completions, tried in bash, zsh and fish for real.

mod common;
use common::*;
use std::process::Command;

/// `exec -u`: names and numbers from the container's files, with the
/// groups and capabilities `docker exec -u` gives (checked against docker
/// itself in tests/docker.rs).
#[test]
fn exec_runs_as_a_user_of_the_container() {
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();
    let exec =
        |user: &str, script: &str| run(&["exec", "-u", user, &pid, "--", "sh", "-c", script]);
    assert_eq!(
        exec("nobody", "id; echo $HOME").ok(),
        "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n/nonexistent\n"
    );
    assert_eq!(
        exec("app", "id").ok(),
        "uid=1000(app) gid=1000(app) groups=1000(app),2000(staff2)\n"
    );
    assert_eq!(exec("root", "id -u; echo $HOME").ok(), "0\n/root\n");
    assert_eq!(exec("app:staff2", "id -g; id -G").ok(), "2000\n2000\n");
    assert_eq!(
        exec("4321:7", "id -u; id -g; echo $HOME").ok(),
        "4321\n7\n/\n"
    );
    // Capabilities: root gets the container's bounding set, anyone else
    // none (the bounding set stays).
    let caps = |user: &str| {
        let out = exec(user, "grep -E '^Cap(Prm|Bnd)' /proc/self/status")
            .ok()
            .to_string();
        out.lines()
            .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(caps("root"), ["00000000a80425fb", "00000000a80425fb"]);
    assert_eq!(caps("nobody"), ["0000000000000000", "00000000a80425fb"]);
    // Unknown names are one line and 125, and the message for an
    // unknown user says the owner of rootless podman containers is
    // --owner, another option.
    for (user, why) in [
        ("alice", "no user 'alice' in the container's /etc/passwd"),
        (
            "app:wheel",
            "no group 'wheel' in the container's /etc/group",
        ),
    ] {
        let r = exec(user, "true");
        assert_eq!(r.code, 125, "{user}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.contains(why), "{}", r.stderr);
    }
    assert!(exec("alice", "true").stderr.contains("--owner"));
}

/// `attach -u`: the user's ids as the host sees them, and the session's
/// rule on top (CAP_SYS_PTRACE, the host's user namespace): in a
/// user-namespaced container, app (1000) is 101000 on the host, and a file
/// it makes through the base dir is app's inside.
#[test]
fn attach_runs_as_a_user_of_the_container() {
    let ct = Container::start(Variant::Docker);
    let out = run(&[
        "attach",
        "-u",
        "app",
        &ct.pid.to_string(),
        "--",
        "sh",
        "-c",
        "id -u; id -G; grep -E '^Cap(Amb|Prm)' /proc/self/status",
    ]);
    assert_eq!(
        out.ok(),
        "1000\n1000 2000\nCapPrm:\t0000000000080000\nCapAmb:\t0000000000080000\n"
    );
    let ct = Container::start(Variant::Userns);
    let pid = ct.pid.to_string();
    let out = run(&[
        "attach",
        "-u",
        "app",
        &pid,
        "--",
        "sh",
        "-c",
        "id -u; echo x >/var/lib/cntr/tmp/by-app && echo ok",
    ]);
    assert_eq!(out.ok(), "101000\nok\n", "{}", out.stderr);
    let inside = ct.exec_sh("ls -ln /tmp/by-app");
    let f: Vec<&str> = inside.ok().split_whitespace().collect();
    assert_eq!((f[2], f[3]), ("1000", "1000"), "app's inside");
}

/// exec starts where the target works (as docker exec starts in the
/// image's WORKDIR), or in `-w DIR`; back at `/` when the target's
/// directory is gone. attach starts in the base dir, or in the container's
/// DIR under it; `-w` follows symbolic links inside the container only.
#[test]
fn working_directories() {
    let ct = Container::start_private(
        Variant::Docker,
        |root| {
            std::os::unix::fs::symlink("../../../../etc", root.join("up")).unwrap();
        },
        &[],
        &[],
    );
    let pid = ct.pid.to_string();
    let mut c = command(&["exec", "-w", "/tmp", &pid, "--", "sleep", "77"]);
    c.stdout(std::process::Stdio::null());
    let (mut in_tmp, worker) = spawn_session(c, "sleep 77");
    let w = worker.to_string();
    assert_eq!(run(&["exec", &w, "--", "pwd"]).ok(), "/tmp\n");
    assert_eq!(run(&["exec", "-w", "/etc", &w, "--", "pwd"]).ok(), "/etc\n");
    in_tmp.kill().unwrap();
    in_tmp.wait().unwrap();
    let mut c = command(&[
        "exec",
        &pid,
        "--",
        "sh",
        "-c",
        "mkdir /tmp/gone && cd /tmp/gone && rmdir /tmp/gone && exec sleep 78",
    ]);
    c.stdout(std::process::Stdio::null());
    let (mut gone, worker) = spawn_session(c, "sleep 78");
    assert_eq!(run(&["exec", &worker.to_string(), "--", "pwd"]).ok(), "/\n");
    gone.kill().unwrap();
    gone.wait().unwrap();
    assert_eq!(ct.attach_sh("pwd").ok(), "/var/lib/cntr\n");
    for (dir, want) in [("/etc", "/var/lib/cntr/etc"), ("/up", "/var/lib/cntr/etc")] {
        let out = run(&["attach", "-w", dir, &pid, "--", "pwd"]);
        assert_eq!(out.ok(), format!("{want}\n"), "attach -w {dir}");
    }
    assert_eq!(
        run(&["exec", "-w", "/up", &pid, "--", "pwd"]).ok(),
        "/etc\n"
    );
    for front in ["attach", "exec"] {
        let r = run(&[front, "-w", "/nonexistent", &pid, "--", "true"]);
        assert_eq!(r.code, 125, "{front}: {}", r.stderr);
        assert!(
            r.stderr
                .contains("unable to change to the container's /nonexistent"),
            "{}",
            r.stderr
        );
        let r = run(&[front, "-w", "etc", &pid, "--", "true"]);
        assert_eq!(r.code, 125);
        assert!(r.stderr.contains("absolute path"), "{}", r.stderr);
    }
}

/// `-e` and `--env-file`, as docker reads them, after cntr's own rules: in
/// attach too (the caller chose them), where the container's own values of
/// the same names never pass.
#[test]
fn environment_flags() {
    let ct = Container::start_with(Variant::Docker, &["--env", "VIMRUNTIME=/evil"], &[]);
    let pid = ct.pid.to_string();
    let file = std::env::temp_dir().join(format!("cntr-envfile-{}", std::process::id()));
    std::fs::write(
        &file,
        "# a comment\n\nFROM_FILE=a b\n  INDENTED=1\nCNTR_TEST_CALLER_SECRET\nUNSET_IN_CALLER\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    for front in ["exec", "attach"] {
        let out = run(&[
            front,
            "-e",
            "A=1",
            "-e",
            "A=2",
            "-e",
            "VIMRUNTIME=/mine",
            "--env-file",
            f,
            &pid,
            "--",
            "sh",
            "-c",
            "env | sort",
        ]);
        let env = out.ok();
        for want in [
            "A=2",
            "VIMRUNTIME=/mine",
            "FROM_FILE=a b",
            "INDENTED=1",
            "CNTR_TEST_CALLER_SECRET=caller-only",
        ] {
            assert!(env.lines().any(|l| l == want), "{front}: {want} in {env}");
        }
        assert!(!env.contains("UNSET_IN_CALLER"), "{front}: {env}");
    }
    std::fs::remove_file(&file).unwrap();
}

/// The completions, in the real shells: a live container's name prefix
/// completes to its name (as `cntr list -q` knows it, here through a runc
/// root), also after `-t runc`, and not after `-t lxc`; applets, options
/// and resolver names complete too.
#[test]
fn completions_in_bash_zsh_and_fish() {
    let ct = Container::start(Variant::Docker);
    let name = format!("cmpl{}", ct.name);
    // Named in a runc root of its own, so that `cntr list` (which the
    // completions ask) knows it without any engine.
    let state = RuncRoot::new(&name, ct.pid);
    let bin = cntr_bin().parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let prefix = &name[..6];
    let shell = |sh: &str, script: String| -> String {
        let out = Command::new(sh)
            .args(["-c", &script])
            .env("PATH", &path)
            .env("CNTR_RUNC_ROOT", &state.root)
            .env_remove("DOCKER_HOST")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{sh}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let words = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    };
    // bash: the completion function, called as readline would.
    let bash = |line: &[&str]| {
        let words: Vec<String> = line.iter().map(|w| format!("'{w}'")).collect();
        shell(
            "bash",
            format!(
                "source <(cntr completions bash); COMP_WORDS=({}); COMP_CWORD={}; _cntr; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                words.join(" "),
                line.len() - 1
            ),
        )
    };
    assert_eq!(
        words(&bash(&["cntr", "exec", "-t", "docker,po"])),
        ["docker,podman"]
    );
    assert!(words(&bash(&["cntr", "exec", "--w"])).contains(&"--workdir".to_string()));
    // zsh: the function with compadd caught, as the completion system
    // would call it.
    let zsh = |line: &[&str]| {
        let words: Vec<String> = line.iter().map(|w| format!("'{w}'")).collect();
        shell(
            "zsh",
            format!(
                "source <(cntr completions zsh); compadd() {{ local p=''; while [[ $1 == -* && $1 != -- ]]; do [[ $1 == -P ]] && {{ p=$2; shift; }}; shift; done; [[ $1 == -- ]] && shift; local w; for w in \"$@\"; do [[ $p$w == ${{words[CURRENT]}}* ]] && print -r -- $p$w; done }}; words=({}); CURRENT={}; _cntr",
                words.join(" "),
                line.len()
            ),
        )
    };
    // What both complete the same way: the running containers by name,
    // by the engine -t names, and the commands.
    for (sh, complete) in [("bash", &bash as &dyn Fn(&[&str]) -> String), ("zsh", &zsh)] {
        assert_eq!(
            words(&complete(&["cntr", "attach", prefix])),
            [name.as_str()],
            "{sh}"
        );
        assert_eq!(
            words(&complete(&["cntr", "exec", "-t", "runc", prefix])),
            [name.as_str()],
            "{sh}"
        );
        assert!(
            words(&complete(&["cntr", "exec", "-t", "lxc", prefix])).is_empty(),
            "{sh}"
        );
        assert_eq!(words(&complete(&["cntr", "li"])), ["list"], "{sh}");
    }
    // fish: its own completion query.
    let fish = |line: &str| {
        shell(
            "fish",
            format!("cntr completions fish | source; complete -C '{line}'"),
        )
    };
    let first = |s: String| {
        words(&s)
            .into_iter()
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        first(fish(&format!("cntr attach {prefix}"))),
        [name.as_str()]
    );
    assert_eq!(
        first(fish(&format!("cntr exec -t runc {prefix}"))),
        [name.as_str()]
    );
    assert!(first(fish(&format!("cntr exec -t lxc {prefix}"))).is_empty());
    assert_eq!(first(fish("cntr li")), ["list"]);
}

/// cntr(1)'s TARGET paragraph names every engine a resolver knows.
#[test]
fn the_target_paragraph_names_every_resolver() {
    let man = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/man/cntr.1")).unwrap();
    let start = man.find("\\fITARGET\\fR names one process").unwrap();
    let para = &man[start..start + man[start..].find("\n.PP").unwrap()];
    let plain = para
        .replace("\\fB", "")
        .replace("\\fR", "")
        .replace("\\-", "-");
    for (resolver, word) in [
        ("podman", "podman"),
        ("docker", "docker"),
        ("nspawn", "systemd-nspawn"),
        ("lxc", "LXC"),
        ("lxd", "LXD"),
        ("containerd", "containerd"),
        ("kubernetes", "Kubernetes"),
        ("runc", "runc"),
    ] {
        assert!(
            plain.contains(word),
            "{resolver} ({word}) is not named: {plain}"
        );
    }
}

/// `--trace` (and `CNTR_TRACE=1`): one line per step on stderr, from
/// every link, counted from one origin; the command's output, status and
/// environment are what they are without it, and without it there is no
/// line at all.
#[test]
fn trace_prints_each_step_of_the_chain() {
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();
    let script = "env | grep -c CNTR_ || true; exit 3";
    for (front, mut want) in [
        (
            "attach",
            vec![
                "cntr-attach: start",
                "cntr-resolve: start",
                "cntr-resolve: pinned and checked",
                "cntr-resolve: handoff opened",
                "cntr-nsenter: start",
                "cntr-nsenter: forked into the PID namespace",
                "cntr-mount-tree: mount namespace made",
                "cntr-mount-tree: container tree attached",
                "cntr-mount-tree: /proc shown",
                "cntr-inherit: credentials chosen",
                "cntr-inherit: cgroups joined",
                "cntr-inherit: credentials set",
                "cntr-inherit: exec sh",
                "cntr-nsenter: child exited",
            ],
        ),
        (
            "exec",
            vec![
                "cntr-exec: start",
                "cntr-resolve: handoff opened",
                "cntr-nsenter: re-exec through a read-only bind of the binary",
                "cntr-nsenter: start",
                "cntr-chroot-exec: changed root",
                "cntr-inherit: credentials set",
                "cntr-inherit: exec sh",
                "cntr-nsenter: child exited",
            ],
        ),
    ] {
        let plain = run(&[front, &pid, "--", "sh", "-c", script]);
        assert_eq!(
            (plain.code, plain.stdout.as_str(), plain.stderr.as_str()),
            (3, "0\n", "")
        );
        let traced = run(&[front, "--trace", &pid, "--", "sh", "-c", script]);
        assert_eq!(
            (traced.code, traced.stdout.as_str()),
            (3, "0\n"),
            "{}",
            traced.stderr
        );
        let mut last = 0;
        for line in traced.stderr.lines() {
            // APPLET: trace N us: STEP
            let (who, rest) = line
                .split_once(": trace ")
                .unwrap_or_else(|| panic!("{line}"));
            let (us, step) = rest.split_once(" us: ").unwrap_or_else(|| panic!("{line}"));
            let us: u64 = us.parse().unwrap_or_else(|_| panic!("{line}"));
            assert!(us >= last, "not in order: {}", traced.stderr);
            last = us;
            if want
                .first()
                .is_some_and(|w| format!("{who}: {step}").starts_with(w))
            {
                want.remove(0);
            }
        }
        assert!(
            want.is_empty(),
            "{front}: missing {want:?} in\n{}",
            traced.stderr
        );
        assert!(traced.stderr.contains(": exit 3"), "{}", traced.stderr);
        // The variable asks for the same.
        let r = Run::from(
            command(&[front, &pid, "--", "true"])
                .env("CNTR_TRACE", "1")
                .output()
                .unwrap(),
        );
        assert!(r.stderr.contains("cntr-inherit: trace "), "{}", r.stderr);
    }
}
