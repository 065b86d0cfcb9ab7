//! With a terminal, the command gets a fresh pseudo-terminal relayed by
//! cntr; window size and exit status pass through.

mod common;
use common::*;

/// Runs SCRIPT under script(1), which gives it a real terminal. script's
/// own stdin is a pipe held open until it exits: at end of input script
/// would type an end-of-file character into the terminal, which the
/// pseudo-terminal inside may echo into the output.
fn under_terminal(script: &str) -> Run {
    let out = std::env::temp_dir().join(format!(
        "cntr-pty-out-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    let mut child = std::process::Command::new("script")
        .args(["-qefc", script, "/dev/null"])
        .env("CNTR", cntr_bin())
        .env("HOSTILE", hostile_bin())
        .env("SHELL", "/bin/bash")
        .env("TERM", "xterm-test")
        .stdin(std::process::Stdio::piped())
        .stdout(std::fs::File::create(&out).unwrap())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take();
    let status = child.wait().unwrap();
    drop(stdin);
    let stdout = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    Run::from(std::process::Output {
        status,
        stdout,
        stderr: Vec::new(),
    })
}

static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The lines of what the terminal showed, without the `\r` of its line
/// ends.
fn lines(r: &Run) -> Vec<&str> {
    r.stdout.lines().map(|l| l.trim_end_matches('\r')).collect()
}

/// The lines `stty -g` printed: the terminal's settings, as hex fields
/// between colons.
fn settings(r: &Run) -> Vec<&str> {
    lines(r)
        .into_iter()
        .filter(|l| {
            let f: Vec<&str> = l.split(':').collect();
            f.len() > 4 && f.iter().all(|x| u64::from_str_radix(x, 16).is_ok())
        })
        .collect()
}

#[test]
fn fresh_terminal_with_size_and_status() {
    let ct = Container::start(Variant::Docker);
    let r = under_terminal(&format!(
        "stty rows 33 cols 77; tty; \"$CNTR\" attach {} -- sh -c 'tty; stty size; ls -l /proc/self/fd/ | grep -c ptmx; exit 5'",
        ct.pid
    ));
    let lines = lines(&r);
    assert_eq!(r.code, 5, "{}", r.stdout);
    assert!(lines[0].starts_with("/dev/pts/"), "{:?}", lines);
    assert!(
        lines[1].starts_with("/dev/pts/") && lines[1] != lines[0],
        "a fresh terminal: {lines:?}"
    );
    assert_eq!(lines[2], "33 77");
    assert_eq!(lines[3], "0", "the pty master must not reach the command");
}

#[test]
fn exec_gets_a_terminal_too() {
    let ct = Container::start(Variant::Docker);
    let r = under_terminal(&format!(
        "\"$CNTR\" exec {} -- sh -c 'tty; echo $TERM'",
        ct.pid
    ));
    let lines = lines(&r);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(lines[0].starts_with("/dev/pts/"), "{lines:?}");
    assert_eq!(lines[1], "xterm-test");
}

/// A terminal on stdin alone (output redirected) is replaced as well: the
/// user's terminal never reaches the command.
#[test]
fn a_terminal_on_stdin_alone_is_replaced_too() {
    let ct = Container::start(Variant::Docker);
    let file = std::env::temp_dir().join(format!("cntr-pty-{}", std::process::id()));
    let r = under_terminal(&format!(
        "stat -L -c '%d %i' /proc/self/fd/0; \"$CNTR\" attach {} -- sh -c 'tty; stat -L -c \"%d %i\" /proc/self/fd/0' > {} 2>&1",
        ct.pid,
        file.display()
    ));
    assert_eq!(r.code, 0, "{}", r.stdout);
    let outer = r
        .stdout
        .lines()
        .next()
        .unwrap()
        .trim_end_matches('\r')
        .to_string();
    let inner = std::fs::read_to_string(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    let inner: Vec<&str> = inner.lines().collect();
    assert!(
        inner[0].starts_with("/dev/pts/"),
        "stdin is a terminal: {inner:?}"
    );
    assert_ne!(inner[1], outer, "the command got the user's own terminal");
}

/// The user's terminal settings are the same after cntr as before, however
/// it ends: normal exit, an error of the command, SIGTERM, SIGHUP and
/// SIGINT to cntr, the command killed, the container killed (and cntr
/// failing after cntr-pty: [`cntr_failing_on_its_terminal`]).
#[test]
fn terminal_settings_come_back() {
    let ct = Container::start(Variant::Docker);
    for (run_it, why) in [
        (
            format!("\"$CNTR\" attach {} -- true", ct.pid),
            "normal exit",
        ),
        (
            format!("\"$CNTR\" attach {} -- sh -c 'exit 3'", ct.pid),
            "error exit",
        ),
        (
            format!(
                "\"$CNTR\" attach {} -- sleep 30 & sleep 1; kill -TERM $!; wait",
                ct.pid
            ),
            "SIGTERM to cntr",
        ),
        (
            format!(
                "\"$CNTR\" attach {} -- sleep 30 & sleep 1; kill -HUP $!; wait",
                ct.pid
            ),
            "SIGHUP to cntr",
        ),
        (
            format!(
                "\"$CNTR\" attach {} -- sleep 30 & sleep 1; kill -INT $!; wait",
                ct.pid
            ),
            "SIGINT to cntr",
        ),
        (
            format!("\"$CNTR\" attach {} -- sh -c 'kill -9 $$'", ct.pid),
            "command killed",
        ),
        (
            format!(
                "\"$CNTR\" exec {} -- sh -c 'stty raw -echo; exit 0'",
                ct.pid
            ),
            "command changed its terminal",
        ),
        // Last: the container itself is killed under a session.
        (
            format!(
                "\"$CNTR\" attach {} -- sleep 30 & sleep 1; kill -9 {}; wait",
                ct.pid, ct.pid
            ),
            "container killed",
        ),
    ] {
        let r = under_terminal(&format!("stty -g; {run_it}; stty -g"));
        let settings = settings(&r);
        assert!(settings.len() >= 2, "{why}: {}", r.stdout);
        assert_eq!(
            settings.first(),
            settings.last(),
            "{why}: terminal settings changed"
        );
    }
}

/// cntr failing in a link after cntr-pty, once the pseudo-terminal is
/// made and the user's terminal is in raw mode: the user's settings come
/// back, the error is one line, relayed from the pseudo-terminal, and the
/// status is 125. First the attach chain with a shell put in after
/// cntr-pty (`-k` hands the fds on through it), which prints its terminal
/// before it execs the rest of the chain: a fresh one, not the user's,
/// so cntr-pty did run. Then `cntr attach` itself, failing in the same
/// link, after cntr-pty as its `-n` shows.
#[test]
fn cntr_failing_on_its_terminal() {
    let ct = Container::start(Variant::Docker);
    let base = "/etc/hostname";
    let rest = format!(
        "\"$CNTR\" nsenter --all-but-mount --no-user cntr-mount-tree --base {base} cntr-inherit true"
    );
    let why = format!("cntr-mount-tree: base dir {base} is not a directory (or is a symlink)");
    for (run_it, chain) in [
        (
            format!(
                "\"$CNTR\" resolve {} cntr-pty -k sh -c 'tty; exec {rest}'",
                ct.pid
            ),
            false,
        ),
        (
            format!(
                "\"$CNTR\" attach -n {pid} -- true; CNTR_BASE_DIR={base} \"$CNTR\" attach {pid} -- true",
                pid = ct.pid
            ),
            true,
        ),
    ] {
        let r = under_terminal(&format!(
            "tty; stty -g; {run_it}; echo \"status=$?\"; stty -g"
        ));
        let lines = lines(&r);
        let what = format!("{run_it}: {lines:?}");
        let settings = settings(&r);
        assert!(settings.len() >= 2, "{what}");
        assert_eq!(
            settings.first(),
            settings.last(),
            "terminal settings changed: {what}"
        );
        assert!(lines.contains(&"status=125"), "{what}");
        // Beside what the script prints (terminal names, settings, the
        // status, the dry run's chain), cntr's one line.
        let said: Vec<&&str> = lines
            .iter()
            .filter(|l| {
                !(l.starts_with("/dev/pts/")
                    || settings.contains(l)
                    || l.starts_with("status=")
                    || l.starts_with("cntr-resolve "))
            })
            .collect();
        assert_eq!(said, [&why.as_str()], "one line: {what}");
        if chain {
            let dry = lines.iter().find(|l| l.starts_with("cntr-resolve ")).unwrap();
            let at = |w: &str| dry.find(w).unwrap_or_else(|| panic!("no {w}: {dry}"));
            assert!(at(" cntr-pty ") < at(" cntr-mount-tree "), "{dry}");
        } else {
            let outer = lines[0];
            let inner = lines.iter().filter(|l| l.starts_with("/dev/pts/")).nth(1);
            assert!(outer.starts_with("/dev/pts/"), "{what}");
            assert!(
                inner.is_some_and(|t| *t != outer),
                "the rest of the chain did not run on a fresh terminal: {what}"
            );
        }
    }
}

/// A container program pushes a command into its terminal (TIOCSTI, and
/// TIOCLINUX where there is a console), with and without CAP_SYS_ADMIN:
/// it lands in cntr's pseudo-terminal, and the user's shell reads nothing
/// once cntr is gone. The control: the same program on the user's own
/// terminal does get its command read.
#[test]
fn terminal_injection_stays_in_cntrs_terminal() {
    let typed = "read -t 1 line; echo \"got:$line\"";
    let control = under_terminal(&format!("\"$HOSTILE\" tiocsti 'echo INJECTED\n'; {typed}"));
    assert!(
        control.stdout.contains("got:echo INJECTED"),
        "TIOCSTI does not work here, the test proves nothing: {}",
        control.stdout
    );
    for v in [Variant::Docker, Variant::Full] {
        let ct = Container::start_private(v, |_| {}, &[], &[]);
        for front in [
            format!("\"$CNTR\" exec {} -- hostile", ct.pid),
            format!(
                "\"$CNTR\" attach {} -- /var/lib/cntr/usr/bin/hostile",
                ct.pid
            ),
        ] {
            let r = under_terminal(&format!("{front} tiocsti 'echo INJECTED\n'; {typed}"));
            let why = format!("{v:?}, {front}");
            assert!(r.stdout.contains("tiocsti pushed"), "{why}: {}", r.stdout);
            assert!(
                r.stdout.contains("got:\r") || r.stdout.contains("got:\n"),
                "{why}: {}",
                r.stdout
            );
            assert!(!r.stdout.contains("got:echo"), "{why}: {}", r.stdout);
        }
    }
}

/// With a terminal: the relay holds stdio, the master and a signalfd; the
/// waiting parent stdio (the peer) and a signalfd; no directory, no file.
#[test]
fn the_relay_holds_only_its_terminal() {
    let ct = Container::start(Variant::Docker);
    let mut child = std::process::Command::new("script")
        .args([
            "-qefc",
            &format!("{} attach {} -- sleep 63", cntr_bin().display(), ct.pid),
            "/dev/null",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let sleeper = wait_for(10, || {
        descendants(child.id() as i32)
            .into_iter()
            .find(|&p| cmdline(p) == "sleep 63")
    })
    .expect("session");
    let procs: Vec<i32> = descendants(child.id() as i32)
        .into_iter()
        .filter(|&p| p != sleeper && cmdline(p).contains("cntr"))
        .collect();
    assert!(
        procs.len() >= 2,
        "the relay and the waiting parent: {procs:?}"
    );
    for p in procs {
        for fd in fds(p) {
            let t = std::fs::read_link(format!("/proc/{p}/fd/{fd}")).unwrap_or_default();
            let t = t.to_string_lossy();
            let ok = t == "anon_inode:[signalfd]" || t == "/dev/ptmx" || t.starts_with("/dev/pts/");
            assert!(ok, "process {p} holds fd {fd} -> {t}");
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
