//! Bad input: one clear line on stderr, exit 125, nothing left behind.

mod common;
use common::*;
use std::process::Stdio;

/// Runs `cntr ARGS`, expects exit 125 with one line on stderr that starts
/// with an applet's name, nothing on stdout, and no change to the host.
fn fails(args: &[&str], why: &str) {
    let host = HostState::take();
    let r = run(args);
    assert_eq!(r.code, 125, "{args:?}: exit {} stderr {}", r.code, r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
    assert!(r.stderr.starts_with("cntr"), "{args:?}: {}", r.stderr);
    assert!(
        r.stderr.contains(why),
        "{args:?}: expected {why:?} in {}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    host.check();
}

#[test]
fn bad_targets() {
    need_root();
    for front in ["attach", "exec", "resolve"] {
        fails(&[front, "999999"], "no such process: 999999");
        for bad in [
            "0",
            "-1",
            "+5",
            "0x10",
            " 5",
            "99999999999999999999999",
            "4194305",
            "web",
        ] {
            let args: Vec<&str> = if bad.starts_with('-') {
                vec![front, "--", bad]
            } else {
                vec![front, bad]
            };
            fails(&args, "no container found");
        }
        // A kernel thread.
        fails(&[front, "2"], "kernel thread");
        fails(&[front, ""], "empty container name");
    }
}

#[test]
fn cntr_itself() {
    let host = HostState::take();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("exec {} resolve $$", cntr_bin().display()))
        .output()
        .unwrap();
    let r = Run::from(out);
    assert_eq!(r.code, 125);
    assert!(r.stderr.contains("is cntr itself"), "{}", r.stderr);
    host.check();
}

#[test]
fn zombie() {
    // A child that exits and is not reaped yet.
    let mut child = std::process::Command::new("true")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    wait_for(5, || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat.rsplit(')')
            .next()?
            .trim_start()
            .starts_with('Z')
            .then_some(())
    })
    .expect("zombie");
    fails(&["attach", &pid], "zombie");
    fails(&["exec", &pid], "zombie");
    child.wait().unwrap();
}

#[test]
fn usage_errors() {
    fails(&["attach"], "missing target");
    fails(&["exec", "-t"], "missing argument");
    fails(
        &["attach", "-t", "nope", "1"],
        "unknown container type 'nope'",
    );
    fails(
        &["attach", "-t", "docker,bogus", "1"],
        "unknown container type 'bogus'",
    );
    fails(
        &["attach", "--apparmor", "maybe", "1"],
        "--apparmor takes auto or off",
    );
    fails(&["attach", "--frobnicate", "1"], "--frobnicate");
    fails(&["resolve"], "missing target");
    fails(&["nsenter", "--net", "true"], "no target");
    fails(&["nsenter", "--net"], "missing program");
    fails(&["mount-tree", "true"], "no target");
    fails(&["inherit", "true"], "no target");
    fails(&["chroot-exec", "true"], "no target");
    fails(&["pty"], "missing program");
    fails(&["frob"], "unknown applet 'frob'");
    let r = run(&[]);
    assert_eq!(r.code, 125);
    for r in [run(&["attach"]), run(&["resolve", "-x", "1"])] {
        assert!(
            r.stderr.trim_end().ends_with("(see --help)"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn bad_handoff() {
    let host = HostState::take();
    for (v, why) in [
        ("pidfd:2", "malformed fd"),
        ("pidfd:x", "malformed fd"),
        ("pidfd:900,proc:901,root:902", "no hostproc fd"),
        ("pidfd:3", "no proc fd"),
        ("pidfd:900,proc:901,root:902,hostproc:903", "not open"),
        ("bogus:7", "unknown name"),
        ("pidfd:7,pidfd:8", "given twice"),
        ("pidfd:7,proc:7", "named twice"),
        ("root:0", "malformed fd"),
        ("", "malformed"),
    ] {
        let r = Run::from(
            command(&["nsenter", "--uts", "true"])
                .env("CNTR_FDS", v)
                .output()
                .unwrap(),
        );
        assert_eq!(r.code, 125, "{v}: {}", r.stderr);
        assert!(r.stderr.contains(why), "{v}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{v}: {}", r.stderr);
        assert!(r.stderr.starts_with("cntr-nsenter: "), "{v}: {}", r.stderr);
    }
    // Right names on fds of the wrong kind: a plain file as the pidfd.
    let secret = Secret::new();
    let mut c = command(&["nsenter", "--uts", "true"]);
    c.env("CNTR_FDS", "pidfd:7,proc:8,root:9,hostproc:10");
    with_leaked_fds(&mut c, &secret.path);
    let r = Run::from(c.output().unwrap());
    assert_eq!(r.code, 125, "{}", r.stderr);
    assert!(r.stderr.contains("not a pidfd"), "{}", r.stderr);
    host.check();
}

#[test]
fn bad_base_dir() {
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();
    let dir = std::env::temp_dir().join(format!("cntr-base-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("file");
    std::fs::write(&file, "x").unwrap();
    let link = dir.join("link");
    std::os::unix::fs::symlink("/", &link).unwrap();
    let other = dir.join("other");
    std::fs::create_dir(&other).unwrap();
    std::os::unix::fs::chown(&other, Some(1000), Some(1000)).unwrap();
    let open = dir.join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    for (base, why) in [
        (&file, "not a directory"),
        (&link, "symlink"),
        (&other, "owned by uid 1000"),
        (&open, "writable by others"),
    ] {
        let host = HostState::take();
        let r = Run::from(
            command(&["attach", &pid, "--", "true"])
                .env("CNTR_BASE_DIR", base)
                .output()
                .unwrap(),
        );
        assert_eq!(r.code, 125, "{}", r.stderr);
        assert!(r.stderr.contains(why), "{why}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        host.check();
    }
    assert!(std::fs::read_dir(&other).unwrap().next().is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn closed_stdio_long_and_non_utf8_values() {
    let host = HostState::take();
    // Closed stdin, stdout and stderr: cntr puts /dev/null there and still
    // fails with 125, writing nowhere it should not.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} attach 999999 -- true <&- >&- 2>&-; echo $?",
            cntr_bin().display()
        ))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "125\n");
    // A very long name, and one that is not UTF-8.
    fails(&["attach", &"a".repeat(100_000)], "no container found");
    let bad = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"web\xff\xfe");
    let r = Run::from(
        command(&[std::ffi::OsStr::new("exec"), bad])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 125);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("no container found"), "{}", r.stderr);
    host.check();
}
