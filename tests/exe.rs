//! The host's cntr binary is out of the container's reach (the class of
//! runc's CVE-2019-5736): the container makes `/bin/sh` a `#!/proc/self/exe`
//! script and another program a symlink to `/proc/self/exe`, while a
//! helper in the container holds `/proc/PID/exe` of every process it sees
//! and keeps writing through it. `cntr exec` and `cntr attach` run there
//! many times; the binary they ran from must come out unchanged, and no
//! process cntr starts may map it writable.

mod common;
use common::*;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// A copy of the cntr under test, so that a failure here cannot spoil
/// the binary the other tests run.
struct Copy {
    dir: PathBuf,
    bin: PathBuf,
}

impl Copy {
    fn new() -> Copy {
        let dir = std::env::temp_dir().join(format!("cntr-exe-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        let bin = dir.join("cntr");
        copy_program(&cntr_bin(), &bin);
        Copy { dir, bin }
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run_copy(bin: &Path, args: &[&str]) -> Run {
    // ETXTBSY here means the container holds the binary open for writing.
    Run::from(
        command_of(bin, args)
            .output()
            .expect("run the copy of cntr"),
    )
}

/// Mappings of `pid` of the file with inode `ino` through which the file
/// could be written: shared and writable (a private writable mapping,
/// such as the data segment, is copied on write and never reaches it).
fn writable_maps(pid: i32, ino: u64) -> Vec<String> {
    std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 4 && f[4] == ino.to_string() && f[1].contains('w') && f[1].contains('s')
        })
        .map(String::from)
        .collect()
}

#[test]
fn the_host_binary_cannot_be_written_through_proc_self_exe() {
    let copy = Copy::new();
    let before = std::fs::read(&copy.bin).unwrap();
    let ino = std::fs::metadata(&copy.bin).unwrap().ino();
    let ct = Container::start_private(
        Variant::Docker,
        |root| {
            let sh = root.join("usr/bin/sh");
            std::fs::remove_file(&sh).unwrap();
            std::fs::write(&sh, "#!/proc/self/exe\n").unwrap();
            std::fs::set_permissions(&sh, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
            std::os::unix::fs::symlink("/proc/self/exe", root.join("usr/bin/evil")).unwrap();
        },
        &[],
        &["sleep", "infinity"],
    );
    let pid = ct.pid.to_string();
    // The attacker is a plain process of the container, with its
    // credentials (root, Docker's capabilities).
    let grab = command(&["exec", &pid, "--", "hostile", "exe-grab", "6"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    for _ in 0..10 {
        for prog in ["/bin/sh", "/usr/bin/evil"] {
            // The kernel runs cntr again (as the script's interpreter, or
            // through the symlink); it then finds no applet to run.
            let r = run_copy(&copy.bin, &["exec", &pid, "--", prog]);
            assert_eq!(r.code, 125, "{prog}: {}", r.stderr);
            assert!(r.stderr.contains("applet"), "{}", r.stderr);
        }
        run_copy(&copy.bin, &["attach", &pid, "--", "true"]).ok();
    }
    // A long exec and a long attach: no process they start maps the
    // binary writable.
    for front in ["exec", "attach"] {
        let mut c = command_of(&copy.bin, &[front, &pid, "--", "sleep", "30"]);
        c.stdout(Stdio::null());
        let (mut child, _) = spawn_session(c, "sleep 30");
        let mut procs = descendants(child.id() as i32);
        procs.push(child.id() as i32);
        for p in procs {
            assert_eq!(
                writable_maps(p, ino),
                Vec::<String>::new(),
                "{front}: pid {p}"
            );
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let out = grab.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!said.contains("wrote"), "{said}");
    // Nor can the container make the read-only bind writable, from a user
    // namespace of its own (where it holds CAP_SYS_ADMIN), in place or as a
    // clone. Its own executables' mounts are fair game (its own files).
    let undone: Vec<&str> = said
        .lines()
        .filter(|l| {
            l.starts_with("made")
                && !l.ends_with("/usr/bin/busybox")
                && !l.ends_with("/usr/bin/hostile")
        })
        .collect();
    assert_eq!(undone, Vec::<&str>::new(), "{said}");
    // The attempt was made, on cntr's own processes (their executable shows
    // as "/", the root of the detached bind), from a user namespace.
    assert!(
        said.lines().any(|l| l.starts_with("tried")
            && l.contains("(unshare errno 0,")
            && l.ends_with(": /")),
        "{said}"
    );
    assert!(
        std::fs::read(&copy.bin).unwrap() == before,
        "the binary changed"
    );
}

/// The re-exec marks the process it starts (`CNTR_SEALED=1`): a process
/// with the mark that still runs from a writable binary is refused (no
/// trust in the mark alone, no loop of re-execs), and no program cntr
/// starts is handed the mark.
#[test]
fn the_re_exec_mark_is_checked_and_never_handed_on() {
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();
    let r = Run::from(
        command(&["exec", &pid, "--", "true"])
            .env("CNTR_SEALED", "1")
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 125, "{}", r.stderr);
    assert!(r.stderr.contains("still writable"), "{}", r.stderr);
    let env = run(&["nsenter", "-t", &pid, "--all", "env"])
        .ok()
        .to_string();
    assert!(!env.contains("CNTR_SEALED"), "{env}");
    assert!(!env.contains("CNTR_FDS"), "{env}");
}
