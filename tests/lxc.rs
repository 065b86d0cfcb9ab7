//! LXC containers (started with lxc-start in the lxcpath
//! `scripts/engines` gives, `LXC_PATH`), by name, through lxc-info.

mod common;
use common::*;
use std::process::Command;

struct Lxc {
    path: String,
    name: String,
}

impl Lxc {
    fn start(name: &str) -> Lxc {
        need_root();
        let path = std::env::var("LXC_PATH")
            .expect("no LXC_PATH: run `eval \"$(scripts/engines start)\"` (scripts/test does)");
        let dir = format!("{path}/{name}");
        std::fs::create_dir_all(&dir).unwrap();
        let config = format!(
            "lxc.uts.name = {name}\nlxc.rootfs.path = dir:{}\nlxc.net.0.type = empty\nlxc.apparmor.profile = unconfined\n\
             lxc.init.cmd = /bin/sleep infinity\nlxc.mount.auto = proc:mixed sys:ro\n",
            rootfs(0).display()
        );
        std::fs::write(format!("{dir}/config"), config).unwrap();
        let st = Command::new("lxc-start")
            .args(["-P", &path, "-n", name, "-d"])
            .status()
            .unwrap();
        assert!(st.success(), "lxc-start");
        Lxc {
            path,
            name: name.to_string(),
        }
    }

    fn pid(&self) -> String {
        let out = Command::new("lxc-info")
            .args(["-P", &self.path, "-n", &self.name, "--no-humanize", "--pid"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn stop(&self) {
        let _ = Command::new("lxc-stop")
            .args(["-P", &self.path, "-n", &self.name, "-k"])
            .status();
    }
}

impl Drop for Lxc {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(format!("{}/{}", self.path, self.name));
    }
}

#[test]
fn by_name() {
    let c = Lxc::start(&format!("cntr-lxc-{}", std::process::id()));
    let pid = wait_for(5, || Some(c.pid()).filter(|p| !p.is_empty())).unwrap();
    assert_eq!(run(&["resolve", "-t", "lxc", &c.name]).ok().trim(), pid);
    let r = sh(
        "attach",
        &c.name,
        "hostname; cat /var/lib/cntr/etc/ct-marker",
    );
    assert_eq!(r.ok(), format!("{}\ninside-ct\n", c.name));
    // A privileged LXC container holds CAP_SYS_PTRACE: attach says so.
    assert!(r.stderr.contains("CAP_SYS_PTRACE"), "{}", r.stderr);
    assert_eq!(
        run(&["exec", &c.name, "--", "cat", "/etc/ct-marker"]).ok(),
        "inside-ct\n"
    );
    let list = run(&["resolve", "--list", "-t", "lxc"]).ok().to_string();
    assert!(
        list.lines()
            .any(|l| l == format!("lxc {} {} {pid}", c.name, c.name)),
        "{list}"
    );
    c.stop();
    let r = run(&["attach", &c.name]);
    assert_eq!(r.code, 125);
    assert_eq!(
        r.stderr,
        format!("cntr-resolve: lxc container {} is not running\n", c.name)
    );
}
