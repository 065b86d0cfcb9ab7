//! runc containers (an OCI bundle run with `runc run -d`, its own
//! `--root`), by ID and prefix, from runc's state on disk.

mod common;
use common::*;
use std::process::Command;

struct Runc {
    root: String,
    id: String,
    bundle: std::path::PathBuf,
}

impl Runc {
    fn run() -> Runc {
        need_root();
        let root = std::env::var("CNTR_RUNC_ROOT")
            .expect("no runc root: run `eval \"$(scripts/engines start)\"` (scripts/test does)");
        let id = format!("cntr-runc-{}", std::process::id());
        let bundle = std::env::temp_dir().join(&id);
        std::fs::create_dir_all(&bundle).unwrap();
        let spec = Command::new("runc")
            .arg("spec")
            .current_dir(&bundle)
            .status()
            .unwrap();
        assert!(spec.success());
        let path = bundle.join("config.json");
        let config = std::fs::read_to_string(&path).unwrap();
        let config = config
            .replace("\"terminal\": true", "\"terminal\": false")
            .replace("\"sh\"", "\"/bin/sleep\", \"infinity\"")
            .replace(
                "\"path\": \"rootfs\"",
                &format!("\"path\": \"{}\"", rootfs(0).display()),
            );
        std::fs::write(&path, config).unwrap();
        let null = || std::process::Stdio::null();
        let st = Command::new("runc")
            .args(["--root", &root, "run", "-d", &id])
            .current_dir(&bundle)
            .stdin(null())
            .stdout(null())
            .stderr(null())
            .status()
            .unwrap();
        assert!(st.success(), "runc run");
        Runc { root, id, bundle }
    }
}

impl Drop for Runc {
    fn drop(&mut self) {
        let _ = Command::new("runc")
            .args(["--root", &self.root, "delete", "-f", &self.id])
            .status();
        let _ = std::fs::remove_dir_all(&self.bundle);
    }
}

#[test]
fn by_id_and_prefix() {
    let c = Runc::run();
    let state = Command::new("runc")
        .args(["--root", &c.root, "state", &c.id])
        .output()
        .unwrap();
    let state = String::from_utf8_lossy(&state.stdout).to_string();
    let pid = state
        .split("\"pid\": ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .trim()
        .to_string();
    for target in [c.id.as_str(), &c.id[..12]] {
        assert_eq!(
            run(&["resolve", "-t", "runc", target]).ok().trim(),
            pid,
            "{target}"
        );
    }
    assert_eq!(
        run(&["attach", &c.id, "--", "cat", "/var/lib/cntr/etc/ct-marker"]).ok(),
        "inside-ct\n"
    );
    assert_eq!(
        run(&["exec", &c.id, "--", "cat", "/etc/ct-marker"]).ok(),
        "inside-ct\n"
    );
    let list = run(&["resolve", "--list", "-t", "runc"]).ok().to_string();
    assert_eq!(list, format!("runc {} {} {pid}\n", c.id, c.id));
    let _ = Command::new("runc")
        .args(["--root", &c.root, "kill", &c.id, "KILL"])
        .status();
    // Once the process has died (a zombie until PID 1 reaps it), the
    // answer is that the container does not run.
    let r = wait_for(5, || {
        let r = run(&["resolve", "-t", "runc", &c.id]);
        (r.stderr.contains("is not running") || r.stderr.contains("no container found"))
            .then_some(r)
    });
    assert!(r.is_some_and(|r| r.code == 125));
}
