//! systemd-nspawn machines by name, registered with the systemd-machined
//! that `scripts/engines start` runs. There is no systemd as PID 1 on the
//! test machines: the machine's scope cgroups are made here, as systemd
//! would make them, before nspawn starts in them.

mod common;
use common::*;
use std::process::{Command, Stdio};

struct Machine {
    name: String,
    nspawn: std::process::Child,
    scopes: Vec<std::path::PathBuf>,
}

impl Machine {
    fn start(name: &str) -> Machine {
        need_root();
        assert!(
            std::path::Path::new("/run/dbus/system_bus_socket").exists(),
            "no machined: run `eval \"$(scripts/engines start)\"` (scripts/test does)"
        );
        let scopes: Vec<std::path::PathBuf> = ["systemd", "unified"]
            .iter()
            .map(|h| {
                std::path::PathBuf::from(format!(
                    "/sys/fs/cgroup/{h}/machine.slice/machine-{name}.scope"
                ))
            })
            .filter(|p| p.parent().unwrap().parent().unwrap().exists())
            .collect();
        let mut join = String::new();
        for s in &scopes {
            std::fs::create_dir_all(s).unwrap();
            join.push_str(&format!("echo $$ > {}/cgroup.procs; ", s.display()));
        }
        let script = format!(
            "{join}exec systemd-nspawn --register=yes --keep-unit --console=passive -D {} -M {name} /bin/sleep infinity",
            rootfs(0).display()
        );
        let nspawn = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let file = format!("/run/systemd/machines/{name}");
        wait_for(10, || {
            std::fs::read_to_string(&file)
                .ok()
                .filter(|t| t.contains("LEADER="))
        })
        .expect("machine registered");
        Machine {
            name: name.to_string(),
            nspawn,
            scopes,
        }
    }

    fn leader(&self) -> String {
        let t = std::fs::read_to_string(format!("/run/systemd/machines/{}", self.name)).unwrap();
        t.lines()
            .find_map(|l| l.strip_prefix("LEADER="))
            .unwrap()
            .to_string()
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.nspawn.id().to_string()])
            .status();
        if wait_for(5, || self.nspawn.try_wait().ok().flatten()).is_none() {
            let _ = self.nspawn.kill();
            let _ = self.nspawn.wait();
        }
        // The scopes go once their last process is reaped (by PID 1 here,
        // lazily); what is left then, scripts/engines stop removes.
        // nspawn makes payload/ and supervisor/ below the scope.
        for s in &self.scopes {
            let _ = wait_for(2, || {
                for sub in ["payload", "supervisor"] {
                    let _ = std::fs::remove_dir(s.join(sub));
                }
                std::fs::remove_dir(s).ok()
            });
        }
    }
}

#[test]
fn by_machine_name() {
    let m = Machine::start(&format!("cntr-nspawn-{}", std::process::id()));
    let pid = m.leader();
    assert_eq!(run(&["resolve", "-t", "nspawn", &m.name]).ok().trim(), pid);
    assert_eq!(
        sh(
            "attach",
            &m.name,
            "hostname; cat /var/lib/cntr/etc/ct-marker",
        )
        .ok(),
        format!("{}\ninside-ct\n", m.name)
    );
    assert_eq!(
        run(&["exec", &m.name, "--", "cat", "/etc/ct-marker"]).ok(),
        "inside-ct\n"
    );
    let list = run(&["resolve", "--list", "-t", "nspawn"]).ok().to_string();
    assert_eq!(
        list,
        format!("nspawn {} machine-{}.scope {pid}\n", m.name, m.name)
    );
    let r = run(&["resolve", "-t", "nspawn", "no-such-machine"]);
    assert_eq!(r.code, 125);
    assert!(r.stderr.contains("no container found"), "{}", r.stderr);
}
