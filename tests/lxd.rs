//! LXD instances by name, through LXD's REST API on its unix socket,
//! against the LXD `scripts/engines start` runs (`LXD_DIR`, a busybox image,
//! no network). LXD's containers are unprivileged: root in a user namespace.

mod common;
use common::*;
use std::process::Command;

fn lxc(args: &[&str]) -> Run {
    assert!(
        std::env::var_os("LXD_DIR").is_some(),
        "no LXD: run `eval \"$(scripts/engines start)\"` (scripts/test does)"
    );
    Run::from(Command::new("lxc").args(args).output().unwrap())
}

struct Instance(String);

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = lxc(&["delete", "-f", &self.0]);
    }
}

#[test]
fn by_name() {
    need_root();
    let name = format!("cntr-lxd-{}", std::process::id());
    lxc(&[
        "launch",
        "cntr-busybox",
        &name,
        "-c",
        "raw.lxc=lxc.init.cmd = /bin/sleep infinity",
    ])
    .ok();
    let i = Instance(name.clone());
    let state = lxc(&["query", &format!("/1.0/instances/{name}/state")])
        .ok()
        .to_string();
    let pid = state
        .split("\"pid\": ")
        .nth(1)
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .to_string();
    assert_eq!(run(&["resolve", "-t", "lxd", &name]).ok().trim(), pid);
    assert_eq!(
        sh(
            "attach",
            &name,
            "hostname; id -u; cat /var/lib/cntr/etc/ct-marker"
        )
        .ok(),
        // LXD's containers are unprivileged: their root is a host uid of
        // LXD's range, which the attach session runs as (cntr(1),
        // SECURITY).
        format!("{name}\n{}\ninside-ct\n", host_uid_of_root(&pid))
    );
    exec_runs_in_its_user_namespace(&name);
    let list = run(&["resolve", "--list", "-t", "lxd"]).ok().to_string();
    assert!(
        list.lines()
            .any(|l| l == format!("lxd {name} {name} {pid}")),
        "{list}"
    );
    lxc(&["stop", "-f", &name]).ok();
    let r = run(&["attach", &name]);
    assert_eq!(r.code, 125);
    assert_eq!(
        r.stderr,
        format!("cntr-resolve: lxd instance {name} is not running\n")
    );
    drop(i);
}

/// The host uid that uid 0 of process `pid`'s user namespace maps to.
fn host_uid_of_root(pid: &str) -> u32 {
    let map = std::fs::read_to_string(format!("/proc/{pid}/uid_map")).unwrap();
    map.lines()
        .find_map(|l| {
            let f: Vec<u32> = l
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            (f.len() == 3 && f[0] == 0).then_some(f[1])
        })
        .expect("uid 0 is mapped")
}
