//! Kubernetes names on a node: `POD/CONTAINER`, `NAMESPACE/POD/CONTAINER`
//! and the container ID, for containers made the way kubelet makes them
//! through containerd (namespace `k8s.io`, a `/kubepods/...` cgroup, the
//! pod labels and the CRI annotations), with `ctr` against the real
//! containerd of `scripts/engines`. No kubelet or cluster can run offline
//! here; what cntr reads is what they leave on a node.

mod common;
use common::*;
use std::process::Command;

fn ctr(args: &[&str]) -> Run {
    assert!(
        std::env::var_os("CONTAINERD_ADDRESS").is_some()
            && std::env::var_os("CNTR_CONTAINERD_STATE").is_some(),
        "no containerd: run `eval \"$(scripts/engines start)\"` (scripts/test does)"
    );
    Run::from(
        Command::new("ctr")
            .args(["--connect-timeout", "2s", "-n", "k8s.io"])
            .args(args)
            .output()
            .unwrap(),
    )
}

/// A pod container, removed on drop.
struct PodContainer {
    id: String,
}

impl PodContainer {
    fn run(ns: &str, pod: &str, container: &str, kind: &str) -> PodContainer {
        need_root();
        let mut rnd = [0u8; 32];
        std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").unwrap(), &mut rnd)
            .unwrap();
        let id: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
        let cgroup = format!("/kubepods/besteffort/pod{}/{id}", &id[..8]);
        let labels = [
            format!("io.kubernetes.pod.name={pod}"),
            format!("io.kubernetes.pod.namespace={ns}"),
            format!("io.kubernetes.container.name={container}"),
        ];
        let annotations = [
            format!("io.kubernetes.cri.container-type={kind}"),
            format!("io.kubernetes.cri.sandbox-name={pod}"),
            format!("io.kubernetes.cri.sandbox-namespace={ns}"),
            format!("io.kubernetes.cri.container-name={container}"),
        ];
        let mut args = vec!["run", "-d", "--cgroup", &cgroup];
        for l in &labels {
            args.extend(["--label", l]);
        }
        for a in &annotations {
            args.extend(["--annotation", a]);
        }
        args.extend([
            "docker.io/library/cntr-busybox:test",
            &id,
            "/bin/sleep",
            "infinity",
        ]);
        ctr(&args).ok();
        PodContainer { id }
    }

    fn pid(&self) -> String {
        let list = ctr(&["tasks", "ls"]).ok().to_string();
        let line = list
            .lines()
            .find(|l| l.starts_with(&self.id))
            .unwrap()
            .to_string();
        line.split_whitespace().nth(1).unwrap().to_string()
    }
}

impl Drop for PodContainer {
    fn drop(&mut self) {
        let _ = ctr(&["tasks", "kill", "-s", "KILL", &self.id]);
        for _ in 0..50 {
            let _ = ctr(&["tasks", "delete", &self.id]);
            if ctr(&["containers", "delete", &self.id]).code == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

#[test]
fn pod_container_names_and_id() {
    let host = HostState::take();
    let pod = format!("web-{}", std::process::id());
    let c = PodContainer::run("shop", &pod, "app", "container");
    // The pod's sandbox (pause) container carries the same names; it is
    // never the answer.
    let _sandbox = PodContainer::run("shop", &pod, "POD", "sandbox");
    let pid = c.pid();
    for target in [
        format!("{pod}/app"),
        format!("shop/{pod}/app"),
        c.id.clone(),
        c.id[..12].to_string(),
    ] {
        let r = run(&["resolve", "-t", "kubernetes", &target]);
        assert_eq!(r.ok().trim(), pid, "{target}");
    }
    let name = format!("{pod}/app");
    let r = sh(
        "attach",
        &name,
        "cat /var/lib/cntr/etc/ct-marker; cat /proc/self/cgroup",
    );
    let text = r.ok();
    assert!(text.starts_with("inside-ct\n"), "{text}");
    assert!(
        text.lines()
            .skip(1)
            .all(|l| l.contains("/kubepods/besteffort/pod")),
        "{text}"
    );
    assert_eq!(
        run(&[
            "exec",
            &format!("shop/{pod}/app"),
            "--",
            "cat",
            "/etc/ct-marker"
        ])
        .ok(),
        "inside-ct\n"
    );
    let json = run(&["resolve", "--json", &name]).ok().to_string();
    assert!(
        json.starts_with(&format!(
            "{{\"pid\":{pid},\"engine\":\"kubernetes\",\"id\":\"{}\",\"name\":\"shop/{pod}/app\",\"namespace\":\"shop\",\"pod\":\"{pod}\",\"container\":\"app\""
        , c.id)),
        "{json}"
    );
    let list = run(&["resolve", "--list"]).ok().to_string();
    assert!(
        list.lines()
            .any(|l| l == format!("kubernetes shop/{pod}/app {} {pid}", c.id)),
        "{list}"
    );
    assert!(
        !list.contains(&format!("{pod}/POD")),
        "the sandbox is listed: {list}"
    );
    drop(c);
    drop(_sandbox);
    host.check();
}

#[test]
fn the_same_pod_in_two_namespaces_is_ambiguous() {
    let pod = format!("api-{}", std::process::id());
    let a = PodContainer::run("blue", &pod, "app", "container");
    let b = PodContainer::run("green", &pod, "app", "container");
    let r = run(&["resolve", &format!("{pod}/app")]);
    assert_eq!(r.code, 125);
    assert!(
        r.stderr.contains("is ambiguous")
            && r.stderr.contains("blue/")
            && r.stderr.contains("green/"),
        "{}",
        r.stderr
    );
    assert_eq!(
        run(&["resolve", &format!("green/{pod}/app")]).ok().trim(),
        b.pid()
    );
    assert_eq!(
        run(&["resolve", &format!("blue/{pod}/app")]).ok().trim(),
        a.pid()
    );
    // A name that is no pod container's, shell characters and all: never
    // run anywhere, just not found.
    let r = run(&["resolve", "-t", "kubernetes", "x;touch /tmp/pwned/$(id)"]);
    assert_eq!(r.code, 125);
    assert!(r.stderr.contains("no container found"), "{}", r.stderr);
}
