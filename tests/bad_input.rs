//! Bad input to every entry point: the top-level `cntr`, each applet and
//! each of its options (missing, repeated, unknown, malformed, non-UTF-8,
//! very long and out-of-range values), `CNTR_FDS`, the base dir, and
//! closed standard fds. Every one must end with one clear line on stderr,
//! prefixed by the applet that failed, the documented status (125 for
//! cntr's own errors, 126/127 for a command that cannot run or is not
//! found), nothing on stdout, no panic, and the host as it was: the same
//! mount table, nothing under /var/lib/cntr, nothing written in the
//! directory cntr was run from, no process left in the container.

mod common;
use common::*;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The chain links: each takes `-t/--target` and `--type` and runs PROG.
const LINKS: [&str; 5] = ["chroot-exec", "inherit", "mount-tree", "nsenter", "pty"];

/// The options of attach and exec that take a value.
const FRONT_VALUED: &[&str] = &[
    "-t",
    "--type",
    "-u",
    "--user",
    "--owner",
    "-w",
    "--workdir",
    "-e",
    "--env",
    "--env-file",
    "--seccomp",
    "--apparmor",
];

/// The options that take a value, per applet, as its usage text lists
/// them.
const VALUED: [(&str, &[&str]); 9] = [
    ("attach", FRONT_VALUED),
    ("exec", FRONT_VALUED),
    ("resolve", &["-t", "--type", "--owner"]),
    ("list", &["-t", "--type", "--owner"]),
    ("pty", &["--ptmx", "-t", "--target", "--type", "--owner"]),
    ("nsenter", &["-t", "--target", "--type", "--owner"]),
    (
        "mount-tree",
        &[
            "-b",
            "--base",
            "-w",
            "--workdir",
            "-t",
            "--target",
            "--type",
        ],
    ),
    (
        "inherit",
        &[
            "-u",
            "--user",
            "-e",
            "--env",
            "--apparmor",
            "-t",
            "--target",
            "--type",
        ],
    ),
    (
        "chroot-exec",
        &["-w", "--workdir", "-t", "--target", "--type"],
    ),
];

/// Words that are not a PID in any spelling cntr accepts: zero, signed,
/// padded, with leading zeros, in another base, beyond `PID_MAX`
/// (4194304), beyond `i32`, `u32`, `i64` and `u64`, or not ASCII digits.
/// No resolver may take them: each is "no container found".
const NOT_PIDS: [&str; 27] = [
    "0",
    "00",
    "-1",
    "-0",
    "+1",
    "+5",
    "01",
    "007",
    " 1",
    "1 ",
    "\t1",
    "1-2",
    "0x10",
    "1e3",
    "1.0",
    "1_000",
    "\u{661}",
    "\u{ff11}",
    "4194305",
    "2147483647",
    "2147483648",
    "4294967296",
    "4294967297",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "99999999999999999999999",
];

/// A value that is not UTF-8.
const NOT_UTF8: &[u8] = b"web\xff\xfe";

/// A value of 100 KiB, below the kernel's 128 KiB limit for one argument.
fn long(prefix: &str) -> String {
    format!("{prefix}{}", "a".repeat(100 * 1024))
}

fn os(b: impl AsRef<[u8]>) -> OsString {
    OsString::from_vec(b.as_ref().to_vec())
}

fn words(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// At most 300 characters of `s`, for messages about 100 KiB values.
fn short(s: &str) -> String {
    match s.char_indices().nth(300) {
        Some((i, _)) => format!("{}...({} bytes)", &s[..i], s.len()),
        None => s.to_string(),
    }
}

/// `s` as cntr's messages show it: control characters escaped, so that a
/// message stays one line.
fn escaped(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn shown(args: &[OsString]) -> String {
    short(&format!("{args:?}"))
}

/// An empty directory cntr is run from: nothing may be written there. It
/// is removed on drop.
struct Here(PathBuf);

impl Here {
    fn new(test: &str) -> Here {
        let p = std::env::temp_dir().join(format!("cntr-bad-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir(&p).unwrap();
        Here(p)
    }

    /// `cntr ARGS` with the tests' environment, run from here.
    fn cmd(&self, args: &[impl AsRef<OsStr>]) -> Command {
        let mut c = command(args);
        c.current_dir(&self.0);
        c
    }

    fn check(&self) {
        let left: Vec<_> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "written where cntr ran: {left:?}");
    }
}

impl Drop for Here {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.check();
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Checks a failed run: status `code`, nothing on stdout, exactly one
/// line on stderr that starts with `applet: ` and contains `why`, and no
/// panic.
#[track_caller]
fn failed(r: &Run, what: &str, code: i32, applet: &str, why: &str) {
    let ctx = || {
        format!(
            "{what}: exit {}, stderr {:?}, stdout {:?}",
            r.code,
            short(&r.stderr),
            short(&r.stdout)
        )
    };
    assert_eq!(r.code, code, "{}", ctx());
    assert!(r.stdout.is_empty(), "{}", ctx());
    assert!(!r.stderr.contains("panicked"), "{}", ctx());
    assert!(
        r.stderr.ends_with('\n') && r.stderr.matches('\n').count() == 1,
        "not one line: {}",
        ctx()
    );
    assert!(r.stderr.starts_with(&format!("{applet}: ")), "{}", ctx());
    assert!(r.stderr.contains(why), "expected {why:?}: {}", ctx());
}

/// Runs `c`, expects it to fail with status 125 as [`failed`] says, and
/// the host's mounts and base dir to be as they were.
#[track_caller]
fn fails_125(mut c: Command, what: &str, applet: &str, why: &str) -> Run {
    let host = HostState::take();
    let r = Run::from(c.output().unwrap());
    failed(&r, what, 125, applet, why);
    host.check();
    r
}

/// As [`fails_125`] for a usage error, which also ends with `(see --help)`.
#[track_caller]
fn usage(here: &Here, args: &[OsString], applet: &str, why: &str) {
    let r = fails_125(here.cmd(args), &shown(args), applet, why);
    assert!(
        r.stderr.trim_end().ends_with("(see --help)"),
        "{}: {}",
        shown(args),
        short(&r.stderr)
    );
}

/// `cntr APPLET`'s message prefix.
fn prefix(applet: &str) -> String {
    format!("cntr-{applet}")
}

/// The arguments that make `applet` try to resolve `target`, and the
/// applet whose message it is: the front ends run cntr-resolve.
fn resolving(applet: &str, target: &OsStr) -> (Vec<OsString>, String) {
    let mut a = vec![OsString::from(applet)];
    if LINKS.contains(&applet) {
        a.extend([OsString::from("-t"), target.into(), OsString::from("true")]);
        return (a, prefix(applet));
    }
    if target.as_bytes().starts_with(b"-") {
        a.push("--".into());
    }
    a.push(target.into());
    (a, "cntr-resolve".into())
}

// ---------------------------------------------------------------------
// The command line

#[test]
fn top_level() {
    let here = Here::new("top");
    usage(&here, &[], "cntr", "missing applet");
    usage(
        &here,
        &words(&["--install"]),
        "cntr",
        "--install needs a directory",
    );
    for bad in [
        os(""),
        os("frob"),
        os("-x"),
        os("--frob"),
        os("-"),
        os("--"),
        os("cntr"),
        os("cntr-"),
        os("cntr-frob"),
        os("cntr-cntr-attach"),
        os("/usr/bin/cntr-attach"),
        os("./attach"),
        os("ATTACH"),
        os("attach "),
        os(" attach"),
        os("mount_tree"),
        os(NOT_UTF8),
        os(long("x")),
    ] {
        let why = format!("unknown applet '{}'", bad.to_string_lossy());
        usage(&here, &[bad], "cntr", &why);
    }
    // --install into what is not a directory, or nowhere: cntr's own
    // error, no file made.
    for (dir, why) in [
        (os("/etc/passwd"), "Not a directory"),
        (os("/nonexistent-cntr-dir"), "No such file or directory"),
        (
            os([b"/nonexistent-cntr-dir/".as_slice(), NOT_UTF8].concat()),
            "No such file or directory",
        ),
        // musl says "Filename too long", glibc "File name too long".
        (os(format!("/{}", long("x"))), "name too long"),
    ] {
        // cntr-attach is the first link it makes.
        let what = format!("unable to create {}/cntr-attach: ", dir.to_string_lossy());
        let args = vec![os("--install"), dir];
        let r = fails_125(here.cmd(&args), &shown(&args), "cntr", &what);
        assert!(r.stderr.trim_end().ends_with(why), "{}", short(&r.stderr));
    }
    // The applet from argv[0]: only a last component of exactly cntr-X.
    for (argv0, args, applet, why) in [
        ("cntr-attach", &[][..], "cntr-attach", "missing target"),
        (
            "/no/such/dir/cntr-nsenter",
            &["--net"][..],
            "cntr-nsenter",
            "missing program",
        ),
        (
            "cntr-resolve",
            &["-x"][..],
            "cntr-resolve",
            "invalid option",
        ),
        ("cntr-frob", &[][..], "cntr", "missing applet"),
        ("cntr-", &[][..], "cntr", "missing applet"),
        ("", &[][..], "cntr", "missing applet"),
        (
            "cntr-attach/",
            &["frob"][..],
            "cntr",
            "unknown applet 'frob'",
        ),
    ] {
        let mut c = here.cmd(args);
        c.arg0(argv0);
        let r = fails_125(c, &format!("argv0 {argv0:?}"), applet, why);
        assert!(r.stderr.trim_end().ends_with("(see --help)"));
    }
    let mut c = here.cmd(&[] as &[&str]);
    c.arg0(OsStr::from_bytes(NOT_UTF8));
    fails_125(c, "argv0 not UTF-8", "cntr", "missing applet");
}

#[test]
fn missing_option_values() {
    let here = Here::new("missing");
    for (applet, opts) in VALUED {
        for opt in opts {
            let why = format!("missing argument for option '{opt}'");
            usage(&here, &words(&[applet, opt]), &prefix(applet), &why);
            // After another option too.
            let flag = match applet {
                "attach" | "exec" => "-n",
                "resolve" | "list" => "--json",
                "inherit" => "--no-env",
                _ => "-k",
            };
            usage(&here, &words(&[applet, flag, opt]), &prefix(applet), &why);
        }
    }
    // A missing target or program.
    for applet in ["attach", "exec"] {
        for args in [&[][..], &["-n"], &["--"], &["-t", "docker"], &["-u", "x"]] {
            let mut a = words(&[applet]);
            a.extend(words(args));
            usage(&here, &a, &prefix(applet), "missing target");
        }
    }
    for args in [&[][..], &["--json"], &["-k"], &["-t", "docker"], &["--"]] {
        let mut a = words(&["resolve"]);
        a.extend(words(args));
        usage(&here, &a, "cntr-resolve", "missing target");
    }
    for applet in LINKS {
        for args in [&[][..], &["--"], &["-t", "999999"], &["--type", "docker"]] {
            let mut a = words(&[applet]);
            a.extend(words(args));
            usage(&here, &a, &prefix(applet), "missing program");
        }
    }
    usage(
        &here,
        &words(&["nsenter", "--net", "--all"]),
        "cntr-nsenter",
        "missing program",
    );
    // No target at all: every link but cntr-pty needs one (cntr-pty goes
    // on without).
    for applet in ["chroot-exec", "inherit", "mount-tree", "nsenter"] {
        usage(
            &here,
            &words(&[applet, "true"]),
            &prefix(applet),
            "no target: give --target or run under cntr-resolve",
        );
        usage(
            &here,
            &words(&[applet, "--type", "docker", "true"]),
            &prefix(applet),
            "--type and --owner go with --target",
        );
    }
    // An empty target, wherever one is taken.
    for applet in TARGETED {
        let (args, who) = resolving(applet, OsStr::new(""));
        usage(&here, &args, &who, "empty container name");
    }
    usage(
        &here,
        &words(&["resolve", "--list", "999999"]),
        "cntr-resolve",
        "--list takes no target, no --keep-fds, no --seccomp and no --tools",
    );
    usage(
        &here,
        &words(&["resolve", "--list", "-k"]),
        "cntr-resolve",
        "--list takes no target, no --keep-fds, no --seccomp and no --tools",
    );
}

#[test]
fn unknown_options() {
    let here = Here::new("unknown");
    // Options of other applets, misspelt, abbreviated or in capitals.
    let foreign: [(&str, &[&str]); 8] = [
        (
            "attach",
            &[
                "-k",
                "--keep-fds",
                "--json",
                "--list",
                "-b",
                "--base",
                "--ptmx",
                "--no-env",
                "--target",
                "--dry",
                "--TYPE",
                "-N",
            ],
        ),
        (
            "exec",
            &["-k", "--json", "--base", "--ptmx", "--target", "--all"],
        ),
        (
            "resolve",
            &[
                "--apparmor",
                "-n",
                "--dry-run",
                "--base",
                "--target",
                "--ptmx",
                "--jso",
                "--JSON",
            ],
        ),
        (
            "pty",
            &[
                "--base",
                "-b",
                "--apparmor",
                "-n",
                "--json",
                "--all",
                "--ptm",
            ],
        ),
        (
            "nsenter",
            &[
                "--base",
                "--ptmx",
                "--apparmor",
                "--no-env",
                "--no-",
                "--no-all",
                "--no-all-but-mount",
                "--no-no-net",
                "--no-frob",
                "--NET",
                "--network",
                "--pid-ns",
                "-N",
                "-M",
                "-b",
            ],
        ),
        (
            "mount-tree",
            &["--ptmx", "--apparmor", "-m", "--no-env", "--bas"],
        ),
        (
            "inherit",
            &[
                "-k",
                "--keep-fds",
                "--ptmx",
                "--base",
                "--envs",
                "--no-envs",
            ],
        ),
        (
            "chroot-exec",
            &["--base", "--apparmor", "--no-env", "--ptmx", "-b", "--root"],
        ),
    ];
    for (applet, opts) in foreign {
        for opt in opts.iter().chain(&["-Z", "--frobnicate", "-\u{e9}"]) {
            let why = format!("invalid option '{opt}'");
            usage(&here, &words(&[applet, opt, "1"]), &prefix(applet), &why);
        }
        // Not UTF-8, and 100 KiB long.
        let bad = os([b"--".as_slice(), NOT_UTF8].concat());
        usage(
            &here,
            &[os(applet), bad, os("1")],
            &prefix(applet),
            "invalid option '--web",
        );
        let big = long("--x");
        usage(
            &here,
            &words(&[applet, &big, "1"]),
            &prefix(applet),
            &format!("invalid option '{}", &big[..50]),
        );
    }
    // Flags given a value.
    for (applet, flag) in [
        ("attach", "--dry-run"),
        ("exec", "--dry-run"),
        ("resolve", "--json"),
        ("resolve", "--list"),
        ("resolve", "--keep-fds"),
        ("pty", "--keep-fds"),
        ("nsenter", "--keep-fds"),
        ("nsenter", "--net"),
        ("nsenter", "--all"),
        ("nsenter", "--all-but-mount"),
        ("nsenter", "--no-user"),
        ("mount-tree", "--keep-fds"),
        ("chroot-exec", "--keep-fds"),
        ("inherit", "--no-env"),
    ] {
        let why = format!("unexpected argument for option '{flag}'");
        let opt = format!("{flag}=x");
        usage(&here, &words(&[applet, &opt, "1"]), &prefix(applet), &why);
    }
}

#[test]
fn malformed_values() {
    let here = Here::new("malformed");
    // Container types.
    let bad_types: Vec<(OsString, String)> = [
        "nosuch",
        "",
        ",",
        "docker,",
        ",docker",
        "docker,bogus",
        "docker,,runc",
        "DOCKER",
        "docker ",
        " docker",
        "docker;runc",
        "process_id docker",
        "process",
        "pid",
    ]
    .iter()
    .map(|t| {
        let name = t.split(',').find(|n| !is_type(n)).unwrap();
        (os(t), format!("unknown container type '{name}'"))
    })
    .chain([
        (os(NOT_UTF8), "container types must be UTF-8".to_string()),
        (
            os(long("x")),
            format!("unknown container type '{}", &long("x")[..40]),
        ),
    ])
    .collect();
    for (types, why) in &bad_types {
        for applet in TARGETED {
            // Checked before the target is resolved: attach and exec check
            // the list themselves.
            let mut args = vec![os(applet), os("--type"), types.clone()];
            args.extend(
                resolving(applet, OsStr::new("999999"))
                    .0
                    .into_iter()
                    .skip(1),
            );
            usage(&here, &args, &prefix(applet), why);
            let mut eq = os("--type=");
            eq.push(types);
            args[1] = eq;
            args.remove(2);
            usage(&here, &args, &prefix(applet), why);
        }
        usage(
            &here,
            &[os("resolve"), os("--list"), os("-t"), types.clone()],
            "cntr-resolve",
            why,
        );
    }
    // --apparmor takes auto or off, nothing else.
    for v in [
        os(""),
        os("AUTO"),
        os("Off"),
        os("on"),
        os("yes"),
        os("0"),
        os("auto,off"),
        os(" auto"),
        os("off "),
        os("auto\n"),
        os(NOT_UTF8),
        os(long("auto")),
    ] {
        for applet in ["attach", "exec", "inherit"] {
            let args = [os(applet), os("--apparmor"), v.clone(), os("999999")];
            usage(
                &here,
                &args,
                &prefix(applet),
                "--apparmor takes auto or off",
            );
        }
    }
    // --ptmx takes host or container.
    for v in [
        os(""),
        os("Host"),
        os("bogus"),
        os("host,container"),
        os("devpts"),
        os("/dev/ptmx"),
        os(NOT_UTF8),
        os(long("host")),
    ] {
        let args = [os("pty"), os("--ptmx"), v, os("true")];
        usage(&here, &args, "cntr-pty", "--ptmx takes host or container");
    }
    // --owner must be UTF-8, checked as it is read.
    for applet in ["attach", "exec", "resolve", "list"] {
        let args = [os(applet), os("--owner"), os(NOT_UTF8), os("999999")];
        usage(&here, &args, &prefix(applet), "--owner must be UTF-8");
    }
    // --seccomp takes on or off; --workdir an absolute path; --env a
    // KEY; --env-file a file that can be read.
    for applet in ["attach", "exec"] {
        for v in ["", "auto", "ON", "1", "on,off"] {
            let args = [applet, "--seccomp", v, "999999"];
            usage(
                &here,
                &words(&args),
                &prefix(applet),
                "--seccomp takes on or off",
            );
        }
        for v in ["", "rel", "./x", "x/y"] {
            let args = [applet, "-w", v, "999999"];
            usage(&here, &words(&args), &prefix(applet), "absolute path");
        }
        for v in ["", "=x", "=", "A B=1", " X"] {
            let args = [applet, "-e", v, "999999"];
            usage(
                &here,
                &words(&args),
                &prefix(applet),
                "--env takes KEY=VALUE",
            );
        }
        for v in ["/nonexistent-cntr", "/root", "/proc/self/mem"] {
            let args = [applet, "--env-file", v, "999999"];
            let r = Run::from(here.cmd(&args).output().unwrap());
            failed(
                &r,
                &format!("--env-file {v}"),
                125,
                &prefix(applet),
                "unable to read env file",
            );
        }
    }
    for (applet, v) in [("mount-tree", "rel"), ("chroot-exec", "")] {
        let args = [applet, "-w", v, "true"];
        usage(&here, &words(&args), &prefix(applet), "absolute path");
    }
    for v in ["", "=x", "noequals"] {
        let args = ["inherit", "-e", v, "true"];
        usage(
            &here,
            &words(&args),
            "cntr-inherit",
            "--env takes KEY=VALUE",
        );
    }
    // --base and CNTR_BASE_DIR must be absolute: checked before anything
    // is resolved, opened or created (a relative one would land here).
    for base in [
        os(""),
        os("rel"),
        os("./rel"),
        os("../rel"),
        os("~/rel"),
        os(" /abs"),
        os(NOT_UTF8),
        os(long("rel")),
    ] {
        let shown: String = base.to_string_lossy().chars().take(40).collect();
        let why = format!("base dir {shown}");
        for opt in ["-b", "--base"] {
            let args = [os("mount-tree"), os(opt), base.clone(), os("true")];
            usage(&here, &args, "cntr-mount-tree", &why);
        }
        let mut c = here.cmd(&["mount-tree", "-t", "999999", "true"]);
        c.env("CNTR_BASE_DIR", &base);
        let r = fails_125(c, "CNTR_BASE_DIR", "cntr-mount-tree", &why);
        assert!(r.stderr.contains("is not an absolute path (see --help)"));
    }
    // Targets that are no PID and no container: out of range, signed,
    // padded, not UTF-8, 100 KiB long.
    for applet in TARGETED {
        let mut targets: Vec<OsString> = NOT_PIDS.iter().map(OsString::from).collect();
        targets.extend([os(NOT_UTF8), os(long("web")), os("web")]);
        for t in targets {
            let (args, who) = resolving(applet, &t);
            // Control characters are shown escaped, so the message stays
            // one line.
            let why = format!(
                "no container found for '{}",
                short(&escaped(&t.to_string_lossy()))
            );
            let why = why.split("...(").next().unwrap();
            fails_125(here.cmd(&args), &shown(&args), &who, why);
        }
        // In range, but no such process.
        for pid in ["4194304", "999999"] {
            let (args, who) = resolving(applet, OsStr::new(pid));
            let why = format!("no such process: {pid}");
            fails_125(here.cmd(&args), &shown(&args), &who, &why);
        }
        // A kernel thread.
        let (args, who) = resolving(applet, OsStr::new("2"));
        fails_125(
            here.cmd(&args),
            &shown(&args),
            &who,
            "process 2 is a kernel thread",
        );
    }
    // Only process_id asked: the same words are no PID.
    for t in NOT_PIDS {
        let args = words(&["resolve", "-t", "process_id", "--", t]);
        let why = format!(
            "no container found for '{}' (tried: process_id)",
            escaped(t)
        );
        fails_125(here.cmd(&args), &shown(&args), "cntr-resolve", &why);
    }
}

fn is_type(n: &str) -> bool {
    [
        "process_id",
        "process-id",
        "podman",
        "docker",
        "nspawn",
        "lxc",
        "lxd",
        "containerd",
        "kubernetes",
        "runc",
        "command",
    ]
    .contains(&n)
}

/// A repeated option: the last value wins, and every value given is
/// checked (attach and exec check each --type; each --apparmor and
/// --ptmx is checked as it is read). A repeated flag is the flag once.
#[test]
fn repeated_options() {
    let here = Here::new("repeated");
    let dry = |args: &[&str]| {
        let r = Run::from(here.cmd(args).output().unwrap());
        assert!(r.stderr.is_empty(), "{args:?}: {}", r.stderr);
        r.ok().trim_end().to_string()
    };
    let chain = dry(&["attach", "-n", "-t", "docker", "-t", "process_id", "1"]);
    assert!(
        chain.starts_with("cntr-resolve -t process_id 1 "),
        "{chain}"
    );
    let chain = dry(&["exec", "-u", "alice", "--user", "bob", "-n", "1"]);
    assert!(chain.contains(" cntr-inherit -u bob /bin/sh"), "{chain}");
    assert!(!chain.contains("alice"), "{chain}");
    let chain = dry(&["exec", "-w", "/a", "--workdir", "/b", "-n", "1"]);
    assert!(chain.contains(" cntr-chroot-exec -w /b "), "{chain}");
    let chain = dry(&["exec", "--seccomp", "off", "--seccomp", "on", "-n", "1"]);
    assert!(chain.starts_with("cntr-resolve --seccomp 1 "), "{chain}");
    let chain = dry(&["exec", "--seccomp", "on", "--seccomp", "off", "-n", "1"]);
    assert!(!chain.contains("--seccomp"), "{chain}");
    // Every -e is kept, in order; the last of a key wins in cntr-inherit.
    let chain = dry(&["attach", "-e", "A=1", "--env", "A=2", "-n", "1"]);
    assert!(chain.contains(" cntr-inherit -e A=1 -e A=2 "), "{chain}");
    let chain = dry(&[
        "attach",
        "--apparmor",
        "off",
        "--apparmor",
        "auto",
        "-n",
        "1",
    ]);
    assert!(!chain.contains("--apparmor"), "{chain}");
    let chain = dry(&[
        "exec",
        "--apparmor",
        "auto",
        "--apparmor",
        "off",
        "-n",
        "-n",
        "1",
    ]);
    assert!(
        chain.contains("cntr-inherit --apparmor off /bin/sh"),
        "{chain}"
    );
    for applet in ["attach", "exec"] {
        for order in [["nosuch", "docker"], ["docker", "nosuch"]] {
            let args = words(&[applet, "-t", order[0], "-t", order[1], "-n", "1"]);
            usage(
                &here,
                &args,
                &prefix(applet),
                "unknown container type 'nosuch'",
            );
        }
        for order in [["x", "off"], ["off", "x"]] {
            let args = words(&[applet, "--apparmor", order[0], "--apparmor", order[1], "1"]);
            usage(
                &here,
                &args,
                &prefix(applet),
                "--apparmor takes auto or off",
            );
        }
    }
    for order in [["x", "off"], ["auto", "x"]] {
        let args = words(&[
            "inherit",
            "--apparmor",
            order[0],
            "--apparmor",
            order[1],
            "true",
        ]);
        usage(&here, &args, "cntr-inherit", "--apparmor takes auto or off");
    }
    for order in [["bogus", "host"], ["container", "bogus"]] {
        let args = words(&["pty", "--ptmx", order[0], "--ptmx", order[1], "true"]);
        usage(&here, &args, "cntr-pty", "--ptmx takes host or container");
    }
    // The last type list is the one resolve uses.
    let args = words(&["resolve", "-t", "process_id", "--type", "runc", "999999"]);
    fails_125(
        here.cmd(&args),
        &shown(&args),
        "cntr-resolve",
        "(tried: runc)",
    );
    // The last target, and the last type list, of a link.
    for applet in LINKS {
        let args = words(&[applet, "-t", "999998", "--target", "999999", "true"]);
        let r = fails_125(
            here.cmd(&args),
            &shown(&args),
            &prefix(applet),
            "no such process: 999999",
        );
        assert!(!r.stderr.contains("999998"));
        let args = words(&[
            applet,
            "--type",
            "runc",
            "--type",
            "process_id",
            "-t",
            "0",
            "true",
        ]);
        fails_125(
            here.cmd(&args),
            &shown(&args),
            &prefix(applet),
            "(tried: process_id)",
        );
    }
    // The last base dir.
    let args = words(&["mount-tree", "--base", "/x", "-b", "rel", "true"]);
    usage(
        &here,
        &args,
        "cntr-mount-tree",
        "base dir rel is not an absolute path",
    );
    // Flags twice are the flag once.
    for args in [
        &["resolve", "--json", "--json", "-k", "-k", "999999"][..],
        &[
            "nsenter", "--net", "--net", "-a", "--all", "-k", "-k", "-t", "999999", "true",
        ],
        &["inherit", "--no-env", "--no-env", "-t", "999999", "true"],
    ] {
        let applet = prefix(args[0]);
        fails_125(
            here.cmd(args),
            &format!("{args:?}"),
            &applet,
            "no such process: 999999",
        );
    }
}

// ---------------------------------------------------------------------
// CNTR_FDS

/// Where [`handed`] puts the fds it hands: far above any the test process
/// holds.
const HANDED: i32 = 500;

/// `cntr ARGS` with `CNTR_FDS` naming `fds`: the i-th is put on fd
/// `HANDED + i` of the child without close-on-exec, as `cntr -k` leaves
/// them; `None` names that fd closed.
fn handed(here: &Here, args: &[&str], fds: &[(&str, Option<&OwnedFd>)]) -> Command {
    let mut names = Vec::new();
    let mut moves = Vec::new();
    let mut closed = Vec::new();
    for (i, (name, fd)) in fds.iter().enumerate() {
        let n = HANDED + i as i32;
        names.push(format!("{name}:{n}"));
        match fd {
            Some(fd) => {
                assert!(fd.as_raw_fd() < HANDED);
                moves.push((fd.as_raw_fd(), n));
            }
            None => closed.push(n),
        }
    }
    let mut c = here.cmd(args);
    c.env("CNTR_FDS", names.join(","));
    // SAFETY: only raw system calls between fork and exec.
    unsafe {
        c.pre_exec(move || {
            for &(from, to) in &moves {
                let r = sc::syscall!(DUP2, from as usize, to as usize) as isize;
                if r < 0 {
                    return Err(std::io::Error::from_raw_os_error(-r as i32));
                }
            }
            for &n in &closed {
                sc::syscall!(CLOSE, n as usize);
            }
            Ok(())
        });
    }
    c
}

fn open(path: impl AsRef<Path>, flags: rustix::fs::OFlags) -> OwnedFd {
    let path = path.as_ref();
    rustix::fs::open(
        path,
        flags | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

fn pidfd(pid: i32) -> OwnedFd {
    rustix::process::pidfd_open(
        rustix::process::Pid::from_raw(pid).unwrap(),
        rustix::process::PidfdFlags::empty(),
    )
    .unwrap()
}

#[test]
fn handoff_syntax() {
    let here = Here::new("fds-syntax");
    let n = |s: &str| os(s);
    let big = "5".repeat(100 * 1024);
    let many: String = (3..9000)
        .map(|i| format!("cgroup:{i}"))
        .collect::<Vec<_>>()
        .join(",");
    let cases: Vec<(OsString, &str)> = vec![
        (n(""), "malformed entry"),
        (n(","), "malformed entry"),
        (n(",,"), "malformed entry"),
        (n("pidfd"), "malformed entry"),
        (n("pidfd=500"), "malformed entry"),
        (n("pidfd:500;proc:501"), "malformed fd"),
        (n("pidfd:500,"), "malformed entry"),
        (n(",pidfd:500"), "malformed entry"),
        (n("pidfd:500 proc:501"), "malformed fd"),
        (n("pidfd::500"), "malformed fd"),
        (n("pidfd:500:501"), "malformed fd"),
        (n("pidfd:"), "malformed fd"),
        (n("pidfd:x"), "malformed fd"),
        (n("pidfd:0"), "malformed fd"),
        (n("pidfd:1"), "malformed fd"),
        (n("pidfd:2"), "malformed fd"),
        (n("root:0"), "malformed fd"),
        (n("pidfd:-1"), "malformed fd"),
        (n("pidfd:-500"), "malformed fd"),
        (n("pidfd:+500"), "malformed fd"),
        (n("pidfd:0500"), "malformed fd"),
        (n("pidfd: 500"), "malformed fd"),
        (n("pidfd:500 "), "malformed fd"),
        (n("pidfd:500\n"), "malformed fd"),
        (n("pidfd:0x1f4"), "malformed fd"),
        (n("pidfd:5e2"), "malformed fd"),
        // Fd numbers are not PIDs: one above the PID limit is well formed.
        (n("pidfd:4194305"), "no proc fd"),
        (n("pidfd:2147483648"), "malformed fd"),
        (n("pidfd:4294967797"), "malformed fd"),
        (n("pidfd:18446744073709552116"), "malformed fd"),
        (n(&format!("pidfd:{big}")), "malformed fd"),
        (os(b"pidfd:5\xff"), "malformed fd"),
        (n(":500"), "unknown name"),
        (n("PIDFD:500"), "unknown name"),
        (n(" pidfd:500"), "unknown name"),
        (n("pid:500"), "unknown name"),
        (n("cgroups:500"), "unknown name"),
        (n("bogus:7"), "unknown name"),
        (os(b"\xff:500"), "unknown name"),
        (os(b"pid\xfffd:500"), "unknown name"),
        (n(&format!("{}:500", long("x"))), "unknown name"),
        (
            os(b"pidfd:500,proc:501,root:502,hostproc:503,\xff"),
            "malformed entry",
        ),
        (
            n("pidfd:500,proc:501,root:502,hostproc:503,extra:504"),
            "unknown name",
        ),
        (n(&long("x")), "malformed entry"),
        (n("pidfd:500,pidfd:501"), "pidfd is given twice"),
        (n("proc:500,proc:501"), "proc is given twice"),
        (n("root:500,root:501"), "root is given twice"),
        (n("hostproc:500,hostproc:501"), "hostproc is given twice"),
        (
            n("cgroup2dir:500,cgroup2dir:501"),
            "cgroup2dir is given twice",
        ),
        (n("pidfd:500,proc:500"), "fd 500 is named twice"),
        (n("cgroup:500,cgroup:500"), "fd 500 is named twice"),
        (n("pidfd:500"), "no proc fd"),
        (n("proc:500,root:501,hostproc:502"), "no pidfd fd"),
        (n("pidfd:500,root:501,hostproc:502"), "no proc fd"),
        (n("pidfd:500,proc:501,hostproc:502"), "no root fd"),
        (n("pidfd:500,proc:501,root:502"), "no hostproc fd"),
        (
            n("pidfd:500,proc:501,root:502,cgroup:503,cgroup2dir:504"),
            "no hostproc fd",
        ),
        (n(&many), "no pidfd fd"),
        (n(&format!("{many},cgroup:3")), "fd 3 is named twice"),
        // Well formed, but nothing is open there.
        (
            n("pidfd:900,proc:901,root:902,hostproc:903"),
            "pidfd fd 900 is not open",
        ),
        (
            n("pidfd:900,proc:901,root:902,hostproc:903,cgroup:904"),
            "fd 900 is not open",
        ),
        (
            n("pidfd:1048575,proc:1048576,root:4194304,hostproc:903"),
            "is not open",
        ),
    ];
    for (v, why) in &cases {
        let mut c = here.cmd(&["nsenter", "--uts", "true"]);
        c.env("CNTR_FDS", v);
        let what = format!("CNTR_FDS={}", short(&v.to_string_lossy()));
        fails_125(c, &what, "cntr-nsenter", why);
    }
    // Every applet reads it first, even those that do not use it, and
    // even for --help: the message is the applet's own.
    for applet in APPLETS {
        for args in [&[applet, "--help"][..], &[applet, "-t", "1", "true"]] {
            let mut c = here.cmd(args);
            c.env("CNTR_FDS", "bogus:7");
            fails_125(
                c,
                &format!("{args:?}"),
                &prefix(applet),
                "CNTR_FDS: unknown name",
            );
        }
    }
}

/// Right names on fds that are not what they claim, each against an
/// otherwise valid handoff of a real container.
#[test]
fn handoff_wrong_fds() {
    use rustix::fs::OFlags;
    let here = Here::new("fds-kind");
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid;
    let dir = format!("/proc/{pid}");
    let good = [
        ("pidfd", pidfd(pid)),
        ("proc", open(&dir, OFlags::RDONLY | OFlags::DIRECTORY)),
        (
            "root",
            open(format!("{dir}/root"), OFlags::PATH | OFlags::DIRECTORY),
        ),
        ("hostproc", open("/proc", OFlags::PATH | OFlags::DIRECTORY)),
    ];
    let run_with = |args: &[&str], fds: &[(&str, Option<&OwnedFd>)]| {
        Run::from(handed(&here, args, fds).output().unwrap())
    };
    // The valid handoff works: the container's hostname.
    let r = run_with(&["nsenter", "--uts", "hostname"], &replaced(&good, &[]));
    assert_eq!(r.ok().trim(), ct.name, "{}", r.stderr);

    let file = open("/etc/hostname", OFlags::RDONLY);
    let tmp = open("/tmp", OFlags::RDONLY | OFlags::DIRECTORY);
    let (pipe_r, _pipe_w) = rustix::pipe::pipe().unwrap();
    let me = pidfd(std::process::id() as i32);
    let my_proc = open(
        format!("/proc/{}", std::process::id()),
        OFlags::RDONLY | OFlags::DIRECTORY,
    );
    let proc_root = open("/proc", OFlags::RDONLY | OFlags::DIRECTORY);
    let stat = open(format!("{dir}/stat"), OFlags::RDONLY);
    // The same process seen in the container's own procfs, as its PID 1.
    let theirs = open(
        format!("{dir}/root/proc/1"),
        OFlags::RDONLY | OFlags::DIRECTORY,
    );
    let task = open(format!("{dir}/task"), OFlags::RDONLY | OFlags::DIRECTORY);
    // A process that has exited and been reaped.
    let mut child = Command::new("true").spawn().unwrap();
    let gone_pid = child.id() as i32;
    let gone = pidfd(gone_pid);
    child.wait().unwrap();
    // A process that has exited and not been reaped.
    let mut zombie = Command::new("true").spawn().unwrap();
    let zombie_pid = zombie.id() as i32;
    let undead = pidfd(zombie_pid);
    wait_for(5, || {
        let stat = std::fs::read_to_string(format!("/proc/{zombie_pid}/stat")).ok()?;
        stat.contains(") Z ").then_some(())
    })
    .expect("zombie");
    let undead_proc = open(
        format!("/proc/{zombie_pid}"),
        OFlags::RDONLY | OFlags::DIRECTORY,
    );
    // The entry replaced is the last one.
    let last = HANDED + 3;
    let cases: Vec<(&str, &OwnedFd, String)> = vec![
        ("pidfd", &file, format!("fd {last} is not a pidfd")),
        ("pidfd", &tmp, format!("fd {last} is not a pidfd")),
        ("pidfd", &pipe_r, format!("fd {last} is not a pidfd")),
        ("pidfd", &good[1].1, format!("fd {last} is not a pidfd")),
        ("pidfd", &me, format!("is not /proc/{}", std::process::id())),
        // A reaped process's pidfd has no PID any more (fdinfo says -1).
        ("pidfd", &gone, format!("fd {last} is not a pidfd")),
        ("pidfd", &undead, format!("is not /proc/{zombie_pid}")),
        (
            "proc",
            &undead_proc,
            format!("fd {last} is not /proc/{pid}"),
        ),
        ("proc", &my_proc, format!("fd {last} is not /proc/{pid}")),
        ("proc", &proc_root, format!("fd {last} is not /proc/{pid}")),
        ("proc", &theirs, format!("fd {last} is not /proc/{pid}")),
        (
            "proc",
            &tmp,
            format!("fd {last} is not a /proc/PID directory"),
        ),
        (
            "proc",
            &stat,
            format!("fd {last} is not a /proc/PID directory"),
        ),
        (
            "proc",
            &good[0].1,
            format!("fd {last} is not a /proc/PID directory"),
        ),
        // A procfs directory without a stat.
        ("proc", &task, "unable to open stat".into()),
        ("root", &file, format!("fd {last} is not a directory")),
        ("root", &pipe_r, format!("fd {last} is not a directory")),
        ("root", &good[0].1, format!("fd {last} is not a directory")),
        (
            "hostproc",
            &tmp,
            format!("fd {last} is not the root of a procfs"),
        ),
        (
            "hostproc",
            &file,
            format!("fd {last} is not the root of a procfs"),
        ),
        (
            "hostproc",
            &pipe_r,
            format!("fd {last} is not the root of a procfs"),
        ),
        (
            "hostproc",
            &stat,
            format!("fd {last} is not the root of a procfs"),
        ),
    ];
    for (name, fd, why) in &cases {
        let fds = replaced(&good, &[(name, Some(*fd))]);
        let what = format!("{name} = {}", fd_path(fd));
        let host = HostState::take();
        let r = run_with(&["nsenter", "--uts", "true"], &fds);
        failed(&r, &what, 125, "cntr-nsenter", why);
        host.check();
    }
    // The whole target a zombie: nothing to enter.
    let r = run_with(
        &["nsenter", "--uts", "true"],
        &replaced(
            &good,
            &[("pidfd", Some(&undead)), ("proc", Some(&undead_proc))],
        ),
    );
    let why = format!("unable to stat /proc/{zombie_pid}/ns/uts");
    failed(&r, "a zombie's pidfd and proc", 125, "cntr-nsenter", &why);
    zombie.wait().unwrap();
    // Closed, wherever they are named.
    for name in ["pidfd", "proc", "root", "hostproc", "cgroup", "cgroup2dir"] {
        let r = run_with(
            &["nsenter", "--uts", "true"],
            &replaced(&good, &[(name, None)]),
        );
        let n = HANDED as usize + good.len() - usize::from(good.iter().any(|g| g.0 == name));
        let why = format!("{name} fd {n} is not open");
        failed(&r, &format!("{name} closed"), 125, "cntr-nsenter", &why);
    }
    // The cgroup entries, as cntr-resolve hands them: the target's v1
    // `tasks` file in each v1 hierarchy (every controller's on a hybrid
    // host, none on a unified one), its v2 `cgroup.procs`, and its v2
    // directory. The helpers fail the test, saying which, when a
    // hierarchy the target is in is not mounted, or no cgroup v2 is.
    let v1 = cgroup1_of(pid);
    let cg = cgroup2_of(pid);
    let tasks: Vec<OwnedFd> = v1
        .iter()
        .map(|d| open(d.join("tasks"), OFlags::WRONLY))
        .collect();
    let procs = open(cg.join("cgroup.procs"), OFlags::WRONLY);
    let procs_ro = open(cg.join("cgroup.procs"), OFlags::RDONLY);
    let cgdir = open(&cg, OFlags::PATH | OFlags::DIRECTORY);
    let null = open("/dev/null", OFlags::WRONLY);
    // Valid: every join file and the directory, as cntr-resolve hands
    // them; and the v2 file named twice.
    let mut all: Vec<(&str, Option<&OwnedFd>)> =
        tasks.iter().map(|fd| ("cgroup", Some(fd))).collect();
    all.extend([("cgroup", Some(&procs)), ("cgroup2dir", Some(&cgdir))]);
    for over in [
        all,
        vec![
            ("cgroup", Some(&procs)),
            ("cgroup", Some(&procs)),
            ("cgroup2dir", Some(&cgdir)),
        ],
    ] {
        let r = run_with(&["nsenter", "--uts", "hostname"], &replaced(&good, &over));
        assert_eq!(r.ok().trim(), ct.name, "{over:?}: {}", r.stderr);
    }
    // Wrong kinds, each the last entry.
    let last = HANDED + good.len() as i32;
    let mut wrong: Vec<(&str, &OwnedFd, &str)> = vec![
        ("cgroup", &procs_ro, "is not a writable cgroup file"),
        ("cgroup", &null, "is not a writable cgroup file"),
        ("cgroup", &cgdir, "is not a writable cgroup file"),
        ("cgroup", &tmp, "is not a writable cgroup file"),
        ("cgroup2dir", &tmp, "is not a cgroup v2 directory"),
        ("cgroup2dir", &procs, "is not a cgroup v2 directory"),
        ("cgroup2dir", &file, "is not a cgroup v2 directory"),
        // What cntr-resolve seals (--seccomp, --tools) must come sealed,
        // and a tools tree must be an overlay.
        ("seccomp", &file, "is not a sealed memfd"),
        ("toolsenv", &file, "is not a sealed memfd"),
        ("tools", &tmp, "is not an overlay's root directory"),
        ("tools", &file, "is not an overlay's root directory"),
        // A daemon's answer still to read comes on a socket.
        ("answer-docker", &file, "is not a socket"),
        ("answer-docker", &tmp, "is not a socket"),
        ("answer-docker", &pipe_r, "is not a socket"),
    ];
    let v1_ro: Vec<OwnedFd> = v1
        .iter()
        .map(|d| open(d.join("tasks"), OFlags::RDONLY))
        .collect();
    let v1_dirs: Vec<OwnedFd> = v1
        .iter()
        .map(|d| open(d, OFlags::PATH | OFlags::DIRECTORY))
        .collect();
    for ((ro, dir), wo) in v1_ro.iter().zip(&v1_dirs).zip(&tasks) {
        wrong.extend([
            ("cgroup", ro, "is not a writable cgroup file"),
            ("cgroup", dir, "is not a writable cgroup file"),
            // A v1 directory is on a cgroup filesystem, but not v2's.
            ("cgroup2dir", dir, "is not a cgroup v2 directory"),
            ("cgroup2dir", wo, "is not a cgroup v2 directory"),
        ]);
    }
    for (name, fd, why) in wrong {
        let host = HostState::take();
        let r = run_with(
            &["nsenter", "--uts", "true"],
            &replaced(&good, &[(name, Some(fd))]),
        );
        failed(
            &r,
            &format!("{name} = {}", fd_path(fd)),
            125,
            "cntr-nsenter",
            &format!("CNTR_FDS: fd {last} {why}"),
        );
        host.check();
    }
    // A tools tree's PATH without the tree.
    let sealed = rustix::fs::memfd_create(
        "path",
        rustix::fs::MemfdFlags::CLOEXEC | rustix::fs::MemfdFlags::ALLOW_SEALING,
    )
    .unwrap();
    rustix::io::write(&sealed, b"/bin").unwrap();
    rustix::fs::fcntl_add_seals(
        &sealed,
        rustix::fs::SealFlags::WRITE | rustix::fs::SealFlags::SEAL,
    )
    .unwrap();
    let r = run_with(
        &["nsenter", "--uts", "true"],
        &replaced(&good, &[("toolsenv", Some(&sealed))]),
    );
    failed(
        &r,
        "toolsenv alone",
        125,
        "cntr-nsenter",
        "CNTR_FDS: tools and toolsenv go together",
    );
    // A daemon's answer the target was pinned without, read before any
    // program runs: one naming another process stops the chain there;
    // one naming nothing (404), or this very process, lets it go on.
    let mark = std::env::temp_dir().join(format!("cntr-answered-{}", std::process::id()));
    let other = format!(
        "HTTP/1.0 200 OK\r\n\r\n{{\"Id\":\"{}\",\"Name\":\"/{pid}\",\
         \"State\":{{\"Running\":true,\"Pid\":1}}}}",
        "ab".repeat(32)
    );
    let same = other.replace("\"Pid\":1}", &format!("\"Pid\":{pid}}}"));
    for (answer, runs) in [
        (other.as_str(), false),
        ("HTTP/1.0 404 Not Found\r\n\r\n{}", true),
        (same.as_str(), true),
    ] {
        let _ = std::fs::remove_file(&mark);
        let (ours, daemon) = rustix::net::socketpair(
            rustix::net::AddressFamily::UNIX,
            rustix::net::SocketType::STREAM,
            rustix::net::SocketFlags::CLOEXEC,
            None,
        )
        .unwrap();
        rustix::io::write(&daemon, answer.as_bytes()).unwrap();
        drop(daemon);
        let host = HostState::take();
        let r = run_with(
            &["nsenter", "--uts", "touch", mark.to_str().unwrap()],
            &replaced(&good, &[("answer-docker", Some(&ours))]),
        );
        if runs {
            assert_eq!(r.code, 0, "{answer}: {}", r.stderr);
            assert!(mark.exists(), "{answer}: the program did not run");
        } else {
            failed(
                &r,
                "an answer naming PID 1",
                125,
                "cntr-nsenter",
                &format!("'{pid}' is ambiguous: process {pid}, docker {pid} (abababababab, PID 1)"),
            );
            assert!(!mark.exists(), "the program ran before the answer was read");
            host.check();
        }
    }
    let _ = std::fs::remove_file(&mark);
    assert!(descendants(pid).is_empty(), "left in the container");
}

/// The valid handoff `good`, with the entries of `over` in place of those
/// of the same name (at the end).
fn replaced<'a>(
    good: &'a [(&'static str, OwnedFd)],
    over: &[(&'static str, Option<&'a OwnedFd>)],
) -> Vec<(&'static str, Option<&'a OwnedFd>)> {
    let mut v: Vec<(&str, Option<&OwnedFd>)> = good
        .iter()
        .filter(|(n, _)| !over.iter().any(|(o, _)| o == n))
        .map(|(n, fd)| (*n, Some(fd)))
        .collect();
    v.extend(over.iter().copied());
    v
}

fn fd_path(fd: &OwnedFd) -> String {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------
// The base dir

/// What can be seen of a path without following it: type, mode, owner,
/// inode, symlink target, directory entries, file content.
fn snapshot(p: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let Ok(m) = std::fs::symlink_metadata(p) else {
        return "missing".into();
    };
    let mut s = format!("{:o} {}:{} ino {}", m.mode(), m.uid(), m.gid(), m.ino());
    if m.file_type().is_symlink() {
        s += &format!(" -> {:?}", std::fs::read_link(p).unwrap());
    } else if m.is_dir() {
        let mut e: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        e.sort();
        s += &format!(" {e:?}");
    } else if m.is_file() {
        s += &format!(" {:?}", std::fs::read(p).unwrap());
    }
    s
}

#[test]
fn bad_base_dir() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let here = Here::new("base");
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();
    let dir = std::env::temp_dir().join(format!("cntr-base-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    let mode =
        |p: &Path, m: u32| std::fs::set_permissions(p, PermissionsExt::from_mode(m)).unwrap();
    mode(&dir, 0o755);
    let good = dir.join("good");
    std::fs::create_dir(&good).unwrap();
    mode(&good, 0o755);
    let file = dir.join("file");
    std::fs::write(&file, "x").unwrap();
    let to_root = dir.join("to-root");
    symlink("/", &to_root).unwrap();
    let to_good = dir.join("to-good");
    symlink(&good, &to_good).unwrap();
    let dangling = dir.join("dangling");
    symlink(dir.join("nowhere"), &dangling).unwrap();
    let other = dir.join("other");
    std::fs::create_dir(&other).unwrap();
    mode(&other, 0o755);
    std::os::unix::fs::chown(&other, Some(1000), Some(1000)).unwrap();
    let other_gid = dir.join("other-gid");
    std::fs::create_dir(&other_gid).unwrap();
    mode(&other_gid, 0o770);
    std::os::unix::fs::chown(&other_gid, Some(0), Some(1000)).unwrap();
    let open = dir.join("open");
    std::fs::create_dir(&open).unwrap();
    mode(&open, 0o777);
    let sticky = dir.join("sticky");
    std::fs::create_dir(&sticky).unwrap();
    mode(&sticky, 0o1777);
    let group = dir.join("group");
    std::fs::create_dir(&group).unwrap();
    mode(&group, 0o775);
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let under_file = file.join("base");
    let no_parent = dir.join("nowhere/base");
    let no_parent_utf8 = PathBuf::from(os(
        [dir.join("nowhere/").as_os_str().as_bytes(), NOT_UTF8].concat()
    ));
    let too_long = PathBuf::from(format!("{}/{}", dir.display(), long("x")));
    let cases: Vec<(&Path, &str)> = vec![
        (&file, "is not a directory (or is a symlink)"),
        (&fifo, "is not a directory (or is a symlink)"),
        (
            Path::new("/dev/null"),
            "is not a directory (or is a symlink)",
        ),
        (&to_root, "is not a directory (or is a symlink)"),
        (&to_good, "is not a directory (or is a symlink)"),
        (&dangling, "is not a directory (or is a symlink)"),
        (&other, "is owned by uid 1000, not root"),
        (&other_gid, "is writable by others than root"),
        (&open, "is writable by others than root"),
        (&sticky, "is writable by others than root"),
        (&group, "is writable by others than root"),
        (Path::new("/tmp"), "is writable by others than root"),
        (&under_file, "unable to create base dir"),
        (&no_parent, "unable to create base dir"),
        (&no_parent_utf8, "unable to create base dir"),
        (&too_long, "unable to create base dir"),
        (Path::new("rel"), "is not an absolute path"),
        (Path::new(""), "is not an absolute path"),
    ];
    let all = [
        &dir, &good, &file, &to_root, &to_good, &dangling, &other, &other_gid, &open, &sticky,
        &group, &fifo,
    ];
    let before: Vec<String> = all.iter().map(|p| snapshot(p)).collect();
    for (base, reason) in &cases {
        let what = short(&base.to_string_lossy());
        let why = format!(
            "base dir {}",
            base.to_string_lossy().chars().take(40).collect::<String>()
        );
        let check = |r: Run| assert!(r.stderr.contains(reason), "{what}: {}", short(&r.stderr));
        // Through cntr attach (CNTR_BASE_DIR), and cntr-mount-tree alone
        // (both ways).
        let mut c = here.cmd(&["attach", &pid, "--", "true"]);
        c.env("CNTR_BASE_DIR", base);
        check(fails_125(
            c,
            &format!("attach, {what}"),
            "cntr-mount-tree",
            &why,
        ));
        let mut c = here.cmd(&["mount-tree", "-t", &pid, "true"]);
        c.env("CNTR_BASE_DIR", base);
        check(fails_125(
            c,
            &format!("mount-tree, {what}"),
            "cntr-mount-tree",
            &why,
        ));
        let mut c = here.cmd(&[
            OsStr::new("mount-tree"),
            OsStr::new("-t"),
            OsStr::new(&pid),
            OsStr::new("--base"),
            base.as_os_str(),
            OsStr::new("true"),
        ]);
        c.env("CNTR_BASE_DIR", &good);
        check(fails_125(
            c,
            &format!("mount-tree --base {what}"),
            "cntr-mount-tree",
            &why,
        ));
    }
    let after: Vec<String> = all.iter().map(|p| snapshot(p)).collect();
    assert_eq!(before, after, "the directories changed");
    for p in [&under_file, &no_parent, &no_parent_utf8] {
        assert_eq!(snapshot(p), "missing");
    }
    // The good one works, and is left as it was.
    let mut c = here.cmd(&[
        "mount-tree",
        "-t",
        &pid,
        "--base",
        good.to_str().unwrap(),
        "cat",
        "/etc/hostname",
    ]);
    c.env("CNTR_BASE_DIR", &file);
    let r = Run::from(c.output().unwrap());
    assert_eq!(r.ok().trim(), ct.name, "{}", r.stderr);
    assert_eq!(snapshot(&good), before[1]);
    assert!(descendants(ct.pid).is_empty(), "left in the container");
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------
// Closed standard fds, and what the command gets

/// Closes `fds` in the child before cntr starts.
fn closing(c: &mut Command, fds: &'static [i32]) {
    // SAFETY: only raw system calls between fork and exec.
    unsafe {
        c.pre_exec(move || {
            for &fd in fds {
                sc::syscall!(CLOSE, fd as usize);
            }
            Ok(())
        });
    }
}

const SUBSETS: [&[i32]; 7] = [&[0], &[1], &[2], &[0, 1], &[0, 2], &[1, 2], &[0, 1, 2]];

#[test]
fn closed_stdio() {
    let here = Here::new("stdio");
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();
    for closed in SUBSETS {
        // A failure: 125, the one line on stderr when it is open, nothing
        // on stdout, nothing written anywhere.
        let mut failures: Vec<Vec<&str>> = vec![
            vec!["attach", "999999", "--", "true"],
            vec!["exec", "999999", "--", "true"],
            vec!["resolve", "999999"],
            vec!["attach", "--apparmor", "x", "1"],
            vec!["resolve", "--frob"],
            vec!["frob"],
        ];
        for applet in LINKS {
            failures.push(vec![applet, "-t", "999999", "true"]);
        }
        for args in &failures {
            let host = HostState::take();
            let mut c = here.cmd(args);
            c.stdout(Stdio::piped()).stderr(Stdio::piped());
            closing(&mut c, closed);
            let r = Run::from(c.output().unwrap());
            let what = format!("{args:?} with {closed:?} closed");
            assert_eq!(r.code, 125, "{what}: {}", r.stderr);
            assert!(r.stdout.is_empty(), "{what}: {}", r.stdout);
            if !closed.contains(&2) {
                assert_eq!(r.stderr.lines().count(), 1, "{what}: {}", r.stderr);
                assert!(r.stderr.starts_with("cntr"), "{what}: {}", r.stderr);
            } else {
                assert!(r.stderr.is_empty(), "{what}: {}", r.stderr);
            }
            host.check();
        }
        // A success: the command finds /dev/null (a character device)
        // where its fd was closed, never one of cntr's fds.
        let script = "for f; do [ -c /proc/self/fd/$f ] || exit 9; done";
        for front in ["attach", "exec"] {
            let mut args = vec![front, &pid, "--", "sh", "-c", script, "sh"];
            let nums: Vec<String> = closed.iter().map(|f| f.to_string()).collect();
            args.extend(nums.iter().map(String::as_str));
            let mut c = here.cmd(&args);
            closing(&mut c, closed);
            let r = Run::from(c.output().unwrap());
            assert_eq!(r.code, 0, "{front} with {closed:?} closed: {}", r.stderr);
        }
        let mut c = here.cmd(&["resolve", &pid]);
        closing(&mut c, closed);
        let r = Run::from(c.output().unwrap());
        assert_eq!(r.code, 0, "resolve with {closed:?} closed: {}", r.stderr);
        if !closed.contains(&1) {
            assert_eq!(r.stdout, format!("{pid}\n"));
        }
    }
    assert!(descendants(ct.pid).is_empty(), "left in the container");
}

/// A command that cannot run: 126 when it is found but cannot be
/// executed, 127 when it is not found; one line from cntr-inherit.
#[test]
fn command_statuses() {
    let here = Here::new("status");
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();
    let not_utf8 = os(NOT_UTF8);
    let too_long = os(long("x"));
    let deep = os(format!("/{}", "a/".repeat(2100)));
    for front in ["attach", "exec"] {
        for (cmd, code, reason) in [
            (os("nosuch-cntr-command"), 127, "not found"),
            (os("/nonexistent/cmd"), 127, "not found"),
            (not_utf8.clone(), 127, "not found"),
            (too_long.clone(), 127, "not found"),
            (deep.clone(), 127, "name too long"),
            (os("/etc/passwd/x"), 127, "Not a directory"),
            (os("/"), 126, "Permission denied"),
            (os("/etc"), 126, "Permission denied"),
            (os("/etc/passwd"), 126, "Permission denied"),
            (os("/dev/null"), 126, "Permission denied"),
        ] {
            let why = format!("unable to run {}: ", cmd.to_string_lossy());
            let args = [os(front), os(&pid), os("--"), cmd.clone()];
            let host = HostState::take();
            let r = Run::from(here.cmd(&args).output().unwrap());
            failed(&r, &shown(&args), code, "cntr-inherit", &why);
            assert!(
                r.stderr.trim_end().ends_with(reason),
                "{}",
                short(&r.stderr)
            );
            host.check();
        }
        // An empty name is shown quoted.
        let args = [os(front), os(&pid), os("--"), os("")];
        let host = HostState::take();
        let r = Run::from(here.cmd(&args).output().unwrap());
        failed(
            &r,
            &shown(&args),
            127,
            "cntr-inherit",
            "unable to run '': not found",
        );
        host.check();
        // The command's own status passes through, as does a signal's.
        let r = Run::from(
            here.cmd(&[front, &pid, "--", "sh", "-c", "exit 124"])
                .output()
                .unwrap(),
        );
        assert_eq!(r.code, 124, "{}", r.stderr);
        let r = Run::from(
            here.cmd(&[front, &pid, "--", "sh", "-c", "kill -9 $$"])
                .output()
                .unwrap(),
        );
        assert_eq!(r.code, 128 + 9, "{}", r.stderr);
    }
    // attach runs $SHELL when no command is given.
    let mut c = here.cmd(&["attach", &pid]);
    c.env("SHELL", "/nonexistent/shell");
    let r = Run::from(c.output().unwrap());
    failed(
        &r,
        "SHELL=/nonexistent/shell",
        127,
        "cntr-inherit",
        "unable to run /nonexistent/shell: not found",
    );
    assert!(descendants(ct.pid).is_empty(), "left in the container");
}

// ---------------------------------------------------------------------
// Targets that are processes, but not ones to enter

#[test]
fn cntr_itself() {
    let host = HostState::take();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("exec {} resolve $$", cntr_bin().display()))
        .output()
        .unwrap();
    let r = Run::from(out);
    failed(&r, "resolve $$", 125, "cntr-resolve", "is cntr itself");
    host.check();
}

#[test]
fn zombie() {
    let here = Here::new("zombie");
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
    for applet in TARGETED {
        let (args, who) = resolving(applet, OsStr::new(&pid));
        let why = format!("process {pid} is a zombie");
        fails_125(here.cmd(&args), &shown(&args), &who, &why);
    }
    child.wait().unwrap();
}

// ---------------------------------------------------------------------
// Regressions: each test below checks a case this file once found broken.

/// A word the user gave that holds a newline is shown escaped in the
/// message, which stays one line.
#[test]
fn one_line_even_with_a_newline_in_a_value() {
    let here = Here::new("newline");
    let nl = "a\nb";
    for args in [
        vec![nl],
        vec!["attach", "-t", nl, "1"],
        vec!["attach", "--a\nb", "1"],
        vec!["nsenter", "--a\nb", "true"],
        vec!["mount-tree", "--base", nl, "true"],
        vec!["resolve", "--", nl],
        vec!["nsenter", "-t", nl, "true"],
        vec!["--install", "/nonexistent/a\nb"],
    ] {
        let host = HostState::take();
        let r = Run::from(here.cmd(&args).output().unwrap());
        assert_eq!(r.code, 125, "{args:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {:?}", r.stderr);
        host.check();
    }
}

/// cntr-pty, like every other link, refuses `--type` without `--target`
/// ("--type and --owner go with --target"), and checks the list itself.
#[test]
fn pty_checks_type_without_target() {
    let here = Here::new("pty-type");
    let args = [os("pty"), os("--type"), os("docker"), os("true")];
    usage(
        &here,
        &args,
        "cntr-pty",
        "--type and --owner go with --target",
    );
    // A bad list is a usage error in itself.
    for (types, why) in [
        (os("nosuch"), "unknown container type 'nosuch'"),
        (os(NOT_UTF8), "container types must be UTF-8"),
    ] {
        let args = [os("pty"), os("--type"), types, os("true")];
        usage(&here, &args, "cntr-pty", why);
    }
}

/// A `--type` list overridden by a later one is still checked, by
/// cntr-resolve and the links as by attach and exec: an unknown name is a
/// usage error, as the man page says.
#[test]
fn every_type_list_is_checked() {
    let here = Here::new("types-twice");
    usage(
        &here,
        &words(&["resolve", "-t", "nosuch", "-t", "process_id", "1"]),
        "cntr-resolve",
        "unknown container type 'nosuch'",
    );
    for applet in LINKS {
        let args = words(&[
            applet,
            "--type",
            "nosuch",
            "--type",
            "process_id",
            "-t",
            "999999",
            "true",
        ]);
        usage(
            &here,
            &args,
            &prefix(applet),
            "unknown container type 'nosuch'",
        );
    }
}

/// `--owner USER` for a user that does not exist (or an empty one, or
/// root) is an error before anything is resolved: the rootless store the
/// user asked for would otherwise be silently never read. And
/// cntr-resolve has no `-u` (the front ends' run-as user): given one, it
/// says the owner of rootless podman containers is `--owner`.
#[test]
fn unknown_owner_is_an_error() {
    let here = Here::new("owner");
    for user in [
        "no-such-user-cntr",
        "",
        "-1",
        "4294967296",
        "root",
        &long("u"),
    ] {
        for applet in ["attach", "exec", "resolve", "list"] {
            let args = [applet, "--owner", user, "999999"];
            let host = HostState::take();
            let r = Run::from(here.cmd(&args).output().unwrap());
            let what = format!("{applet} --owner {}", short(user));
            failed(&r, &what, 125, &prefix(applet), "--owner: no user");
            host.check();
        }
    }
    for opt in ["-u", "--user"] {
        let r = Run::from(here.cmd(&["resolve", opt, "alice", "1"]).output().unwrap());
        failed(&r, "resolve -u", 125, "cntr-resolve", "is --owner");
    }
}

/// Words after `--version`, `--help` or `--install DIR` are refused, not
/// ignored.
#[test]
fn extra_words_after_top_level_options() {
    let here = Here::new("extra-words");
    for args in [
        vec!["--version", "extra"],
        vec!["-V", "extra"],
        vec!["--help", "extra"],
        vec!["--install", "/nonexistent-cntr-dir", "extra"],
    ] {
        let host = HostState::take();
        let r = Run::from(here.cmd(&args).output().unwrap());
        failed(
            &r,
            &format!("{args:?}"),
            125,
            "cntr",
            "unexpected argument 'extra'",
        );
        host.check();
    }
}

/// `cntr --install ''` is a usage error and writes nothing: joined as
/// `"" + "/cntr-X"`, the empty name would put the links in `/`.
#[test]
fn install_into_empty_dir_name_writes_nothing() {
    let here = Here::new("install-empty");
    let links = || -> Vec<PathBuf> {
        APPLETS
            .iter()
            .map(|a| PathBuf::from(format!("/cntr-{a}")))
            .filter(|p| std::fs::symlink_metadata(p).is_ok())
            .collect()
    };
    assert!(links().is_empty(), "/cntr-* exist before the test");
    let r = Run::from(here.cmd(&["--install", ""]).output().unwrap());
    // Undo what a failing run did before asserting.
    let made = links();
    for p in &made {
        if std::fs::read_link(p).ok().as_deref() == Some(cntr_bin().as_path()) {
            let _ = std::fs::remove_file(p);
        }
    }
    assert!(made.is_empty(), "written into /: {made:?}");
    failed(
        &r,
        "--install ''",
        125,
        "cntr",
        "--install needs a directory",
    );
    assert!(
        r.stderr.trim_end().ends_with("(see --help)"),
        "{}",
        r.stderr
    );
}

/// A failed `--install` removes the links it made before the failure,
/// and leaves what was there before it.
#[test]
fn failed_install_leaves_nothing() {
    let dir = std::env::temp_dir().join(format!("cntr-install-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("cntr-pty"), "mine").unwrap();
    let r = run(&["--install", dir.to_str().unwrap()]);
    let mut left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    left.sort();
    let mine = std::fs::read_to_string(dir.join("cntr-pty")).unwrap_or_default();
    std::fs::remove_dir_all(&dir).unwrap();
    let why = format!("{}/cntr-pty exists and is not a symlink", dir.display());
    failed(&r, "--install", 125, "cntr", &why);
    assert_eq!(left, ["cntr-pty"], "left behind");
    assert_eq!(mine, "mine", "the file that was there changed");
}

/// With its stdout or stderr a pipe nobody reads, cntr exits with its
/// documented status, 125 in each case here (a failure, or output it
/// could not write), and is not killed by SIGPIPE (141 to a shell).
#[test]
fn broken_pipe_is_not_a_signal() {
    let here = Here::new("sigpipe");
    for (args, fd) in [
        (&["resolve", "999999"][..], 2),
        (&["attach", "-t", "nosuch", "1"][..], 2),
        (&["resolve", "1"][..], 1),
        (&["attach", "-n", "1"][..], 1),
    ] {
        let (r, w) = rustix::pipe::pipe().unwrap();
        drop(r);
        let mut c = here.cmd(args);
        let w = Stdio::from(w);
        if fd == 1 {
            c.stdout(w).stderr(Stdio::null());
        } else {
            c.stderr(w).stdout(Stdio::null());
        }
        let status = c.status().unwrap();
        assert_eq!(
            status.code(),
            Some(125),
            "{args:?} with fd {fd} a broken pipe: {status:?}"
        );
    }
}

/// `hostproc` must be the root of a procfs that shows cntr, not only a
/// directory on a procfs: cntr-nsenter compares namespaces through its
/// `thread-self`, and a missing namespace file there means "the kernel has
/// no such namespace", which would join nothing and run the command in the
/// host's namespaces. A `/proc/PID` directory and the container's own
/// procfs are refused.
#[test]
fn hostproc_must_be_the_hosts_procfs() {
    use rustix::fs::OFlags;
    let here = Here::new("fds-hostproc");
    let ct = Container::start(Variant::Docker);
    let dir = format!("/proc/{}", ct.pid);
    let good = [
        ("pidfd", pidfd(ct.pid)),
        ("proc", open(&dir, OFlags::RDONLY | OFlags::DIRECTORY)),
        (
            "root",
            open(format!("{dir}/root"), OFlags::PATH | OFlags::DIRECTORY),
        ),
        ("hostproc", open("/proc", OFlags::PATH | OFlags::DIRECTORY)),
    ];
    let target_dir = open(&dir, OFlags::PATH | OFlags::DIRECTORY);
    let their_procfs = open(format!("{dir}/root/proc"), OFlags::PATH | OFlags::DIRECTORY);
    for (what, fd) in [
        ("/proc/PID", &target_dir),
        ("the container's procfs", &their_procfs),
    ] {
        for ns in ["--uts", "--all"] {
            let fds = replaced(&good, &[("hostproc", Some(fd))]);
            let host = HostState::take();
            let r = Run::from(
                handed(&here, &["nsenter", ns, "hostname"], &fds)
                    .output()
                    .unwrap(),
            );
            // hostproc is handed last.
            let why = format!(
                "CNTR_FDS: fd {} is not the root of a procfs that shows cntr",
                HANDED + 3
            );
            failed(
                &r,
                &format!("hostproc = {what}, {ns}"),
                125,
                "cntr-nsenter",
                &why,
            );
            host.check();
        }
    }
}
