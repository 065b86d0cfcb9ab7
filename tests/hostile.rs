//! A compromised container lays traps in what cntr reads or the attach
//! session uses: its identity files point at the host's secrets or are
//! FIFOs, devices, huge, sparse or directories; its environment and
//! passwd entry carry loaders, shell start-up files, exported functions
//! and its own PATH and SHELL. cntr must finish quickly and small, show
//! nothing of the host's secret, change no host file, and run nothing of
//! the container's in the host-rooted session.

mod common;
use common::*;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// The identity files an attach session shows the container's versions
/// of, and one cntr never reads.
const IDENTITY: [&str; 7] = [
    "passwd",
    "group",
    "hostname",
    "hosts",
    "resolv.conf",
    "localtime",
    "environment",
];

/// The host's identity files, with their contents now.
fn host_files() -> Vec<(PathBuf, Vec<u8>)> {
    IDENTITY
        .iter()
        .map(|n| {
            let p = Path::new("/etc").join(n);
            let data = std::fs::read(&p).unwrap_or_default();
            (p, data)
        })
        .collect()
}

/// Puts one kind of trap at a path.
type Trap<'a> = Box<dyn Fn(&Path) + 'a>;

#[test]
fn hostile_identity_files() {
    let secret = Secret::new();
    let ct = Container::start_private(Variant::Docker, |_| {}, &[], &[]);
    let etc = ct.private.as_ref().unwrap().join("etc");
    let pid = ct.pid.to_string();
    let host_before = host_files();
    let up = "../".repeat(30);
    let traps: Vec<(&str, Trap)> = vec![
        (
            "absolute symlink to the host's secret",
            Box::new(|p| std::os::unix::fs::symlink(&secret.path, p).unwrap()),
        ),
        (
            "../ symlink to the host's secret",
            Box::new(|p| {
                std::os::unix::fs::symlink(format!("{up}{}", secret.path.display()), p).unwrap()
            }),
        ),
        (
            "symlink to /proc/self/root",
            Box::new(|p| {
                let target = format!("/proc/self/root{}", secret.path.display());
                std::os::unix::fs::symlink(target, p).unwrap()
            }),
        ),
        (
            "FIFO",
            Box::new(|p| {
                rustix::fs::mknodat(
                    rustix::fs::CWD,
                    p,
                    rustix::fs::FileType::Fifo,
                    rustix::fs::Mode::from_raw_mode(0o644),
                    0,
                )
                .unwrap()
            }),
        ),
        (
            "device (/dev/zero)",
            Box::new(|p| {
                rustix::fs::mknodat(
                    rustix::fs::CWD,
                    p,
                    rustix::fs::FileType::CharacterDevice,
                    rustix::fs::Mode::from_raw_mode(0o644),
                    rustix::fs::makedev(1, 5),
                )
                .unwrap()
            }),
        ),
        (
            "huge file",
            Box::new(|p| std::fs::write(p, vec![b'x'; 4 << 20]).unwrap()),
        ),
        (
            "sparse file",
            Box::new(|p| std::fs::File::create(p).unwrap().set_len(64 << 30).unwrap()),
        ),
        ("directory", Box::new(|p| std::fs::create_dir(p).unwrap())),
    ];
    for name in IDENTITY {
        let file = etc.join(name);
        let saved = std::fs::read(&file).ok();
        for (what, make) in &traps {
            let _ = std::fs::remove_file(&file);
            let _ = std::fs::remove_dir(&file);
            make(&file);
            let shown = format!("/etc/{name} as a {what}");
            // The session's view of the file: the host's when the
            // container's is no regular file it can read.
            let script = format!("head -c 4096 /etc/{name}; echo");
            for args in [
                vec!["attach", &pid, "--", "sh", "-c", &script],
                vec!["exec", &pid, "--", "true"],
            ] {
                let m = measured(command(&args), Duration::from_secs(10));
                assert_eq!(m.run.code, 0, "{shown}, {}: {}", args[0], m.run.stderr);
                assert!(
                    m.run.stderr.lines().count() <= 1,
                    "{shown}: one warning at most: {}",
                    m.run.stderr
                );
                let all = format!("{}{}", m.run.stdout, m.run.stderr);
                assert!(!all.contains(&secret.content[..16]), "{shown}: {all}");
                assert!(
                    m.took < Duration::from_secs(2),
                    "{shown}: took {:?}",
                    m.took
                );
                assert!(m.rss_kib < 8 * 1024, "{shown}: {} KiB", m.rss_kib);
            }
            // The container's file is left as it was (cntr writes nothing
            // there), and so is every host file.
            let meta = std::fs::symlink_metadata(&file).unwrap();
            match *what {
                "FIFO" => assert!(meta.file_type().is_fifo()),
                "device (/dev/zero)" => assert!(meta.file_type().is_char_device()),
                "directory" => assert!(meta.is_dir()),
                _ => {}
            }
            assert!(host_files() == host_before, "{shown}: a host file changed");
        }
        let _ = std::fs::remove_file(&file);
        let _ = std::fs::remove_dir(&file);
        if let Some(data) = saved {
            std::fs::write(&file, data).unwrap();
        }
    }
}

#[test]
fn hostile_environment_runs_nothing_in_the_session() {
    let tag = format!("cntr-payload-{}", std::process::id());
    let mark = |what: &str| format!("/tmp/{tag}-{what}");
    let base = "/var/lib/cntr";
    let env: Vec<String> = vec![
        format!("LD_PRELOAD={base}/payload.so"),
        format!("LD_LIBRARY_PATH={base}/lib"),
        format!("LD_AUDIT={base}/payload.so"),
        format!("BASH_ENV={base}/payload-bash-env.sh"),
        format!("ENV={base}/payload-env.sh"),
        format!("PROMPT_COMMAND=touch {}", mark("prompt")),
        format!("BASH_FUNC_id%%=() {{ touch {}; }}", mark("function")),
        format!("GCONV_PATH={base}/gconv"),
        format!("PATH={base}/evil:/usr/bin:/bin"),
        format!("SHELL={base}/evil/sh"),
    ];
    let so_src = std::env::temp_dir().join(format!("{tag}.c"));
    std::fs::write(
        &so_src,
        format!(
            "#include <fcntl.h>\n__attribute__((constructor)) static void p(void) \
             {{ close(open(\"{}\", O_CREAT | O_WRONLY, 0644)); }}\n",
            mark("preload")
        ),
    )
    .unwrap();
    let ct = Container::start_private(
        Variant::Docker,
        |root| {
            let cc = std::process::Command::new("gcc")
                .args(["-shared", "-fPIC", "-o"])
                .arg(root.join("payload.so"))
                .arg(&so_src)
                .output()
                .expect("gcc");
            assert!(
                cc.status.success(),
                "{}",
                String::from_utf8_lossy(&cc.stderr)
            );
            std::fs::create_dir_all(root.join("lib")).unwrap();
            std::fs::copy(root.join("payload.so"), root.join("lib/libc.so.6")).unwrap();
            for (file, what) in [
                ("payload-bash-env.sh", "bash-env"),
                ("payload-env.sh", "env"),
            ] {
                std::fs::write(root.join(file), format!("touch {}\n", mark(what))).unwrap();
            }
            std::fs::create_dir_all(root.join("evil")).unwrap();
            for prog in ["sh", "bash", "id", "ls", "env", "true", "cat"] {
                let p = root.join("evil").join(prog);
                std::fs::write(&p, format!("#!/bin/sh\ntouch {}\n", mark(prog))).unwrap();
                std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                    .unwrap();
            }
            let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
            let passwd: String = passwd
                .lines()
                .map(|l| {
                    let mut f: Vec<&str> = l.split(':').collect();
                    if f.len() == 7 {
                        f[6] = "/var/lib/cntr/evil/sh";
                    }
                    f.join(":") + "\n"
                })
                .collect();
            std::fs::write(root.join("etc/passwd"), passwd).unwrap();
        },
        &env.iter()
            .flat_map(|e| ["--env", e.as_str()])
            .collect::<Vec<_>>(),
        &[],
    );
    let _ = std::fs::remove_file(&so_src);
    let pid = ct.pid.to_string();
    // The container's own processes do carry all of it.
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    assert!(String::from_utf8_lossy(&environ).contains("LD_PRELOAD="));
    // And the payloads are live: given on purpose, they run.
    run(&[
        "attach",
        &pid,
        "--",
        "env",
        &format!("LD_PRELOAD={base}/payload.so"),
        &format!("BASH_ENV={base}/payload-bash-env.sh"),
        &format!("PATH={base}/evil:/usr/bin:/bin"),
        "/bin/bash",
        "-c",
        "id",
    ])
    .ok();
    for what in ["preload", "bash-env", "id"] {
        std::fs::remove_file(mark(what)).unwrap_or_else(|_| panic!("payload {what} is dead"));
    }

    // Non-interactive bash, interactive bash and sh, a login shell, the
    // default shell, and commands found through PATH.
    let r = run(&[
        "attach",
        &pid,
        "--",
        "bash",
        "-c",
        "id >/dev/null; ls / >/dev/null; sh -c true; env",
    ]);
    let session_env = r.ok().to_string();
    for var in [
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "LD_AUDIT",
        "BASH_ENV",
        "ENV",
        "PROMPT_COMMAND",
        "BASH_FUNC_id",
        "GCONV_PATH",
    ] {
        assert!(
            !session_env
                .lines()
                .any(|l| l.starts_with(&format!("{var}="))),
            "{var} reached the session:\n{session_env}"
        );
    }
    assert!(session_env.contains(&format!("PATH={}\n", std::env::var("PATH").unwrap())));
    assert!(session_env.contains("SHELL=/bin/sh\n"), "{session_env}");
    for (args, input) in [
        (vec!["attach", &pid, "--", "bash", "-i"], "id\nexit\n"),
        (vec!["attach", &pid, "--", "sh", "-i"], "id\nexit\n"),
        (vec!["attach", &pid, "--", "bash", "-l", "-c", "id"], ""),
        (vec!["attach", &pid], "id\nexit\n"),
    ] {
        let r = run_input(&args, input.as_bytes());
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    }
    // Without SHELL of its own, the caller still gets a host shell.
    let r = Run::from(
        command(&["attach", &pid])
            .env_remove("SHELL")
            .stdin(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(b"echo $0\nexit\n")?;
                c.wait_with_output()
            })
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("evil"), "{}", r.stdout);

    let left: Vec<String> = std::fs::read_dir("/tmp")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(&tag))
        .collect();
    for f in &left {
        let _ = std::fs::remove_file(Path::new("/tmp").join(f));
    }
    assert_eq!(left, Vec::<String>::new(), "payloads ran in the session");
}

/// The attach session stands in the container's tree: a relative or empty
/// entry in the caller's PATH must not find the container's programs
/// there (they would run as the host-rooted session).
#[test]
fn relative_path_entries_find_nothing_in_the_container() {
    let mark = format!("/tmp/cntr-relative-path-{}", std::process::id());
    let ct = Container::start_private(
        Variant::Docker,
        |root| {
            for dir in ["", "bin-rel"] {
                let p = root.join(dir).join("cntr-only-here");
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(&p, format!("#!/bin/sh\ntouch {mark}\n")).unwrap();
                std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                    .unwrap();
            }
        },
        &[],
        &[],
    );
    let pid = ct.pid.to_string();
    for path in [
        "/usr/bin:/bin:",
        ":/usr/bin:/bin",
        "/usr/bin::/bin",
        ".:/usr/bin",
        "bin-rel:/usr/bin",
    ] {
        let r = Run::from(
            command(&["attach", &pid, "--", "cntr-only-here"])
                .env("PATH", path)
                .output()
                .unwrap(),
        );
        assert_eq!(r.code, 127, "PATH={path}: {}", r.stderr);
        assert!(
            !Path::new(&mark).exists(),
            "PATH={path}: the container's program ran"
        );
        // The session's PATH holds the absolute entries only.
        let r = Run::from(
            command(&["attach", &pid, "--", "/bin/sh", "-c", "echo $PATH"])
                .env("PATH", path)
                .output()
                .unwrap(),
        );
        let absolute: Vec<&str> = path.split(':').filter(|d| d.starts_with('/')).collect();
        assert_eq!(r.ok(), format!("{}\n", absolute.join(":")), "PATH={path}");
    }
}
