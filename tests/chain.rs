//! `cntr attach` and `cntr exec` are their documented applet chains: the
//! command observes the same thing either way.

mod common;
use common::*;

/// What a command observes about itself.
const PROBE: &str = "hostname; readlink /proc/self/ns/pid /proc/self/ns/net /proc/self/ns/uts /proc/self/ns/ipc /proc/self/ns/cgroup; \
    grep -E '^(Uid|Gid|Groups|Cap|NoNewPrivs)' /proc/self/status; cat /proc/self/cgroup; pwd; \
    env | grep -v '^_=' | sort; ls /proc/self/fd | wc -l";

fn observe(args: &[&str]) -> String {
    let r = run(args);
    r.ok().to_string()
}

/// `cntr FRONT PID -- sh -c PROBE` prints (with `-n`) the chain
/// `cntr-resolve OPTS... PID LINKS... sh -c PROBE`, and the probe observes
/// the same run either way, for each container variant.
fn front_is_its_chain(front: &str, opts: &[&str], links: &[&str]) {
    for v in [Variant::Docker, Variant::User, Variant::Userns] {
        let ct = Container::start(v);
        let pid = ct.pid.to_string();
        let dry = run(&[front, "-n", &pid, "--", "sh", "-c", PROBE]);
        let mut resolve = vec!["cntr-resolve"];
        resolve.extend_from_slice(opts);
        let expected = format!("{} {pid} {} sh -c ", resolve.join(" "), links.join(" "));
        assert!(dry.ok().starts_with(&expected), "{front}: {}", dry.stdout);
        let by_front = observe(&[front, &pid, "--", "sh", "-c", PROBE]);
        let mut chain = vec!["resolve"];
        chain.extend_from_slice(opts);
        chain.push(pid.as_str());
        chain.extend_from_slice(links);
        chain.extend(["sh", "-c", PROBE]);
        assert_eq!(by_front, observe(&chain), "{front} {v:?}");
    }
}

#[test]
fn attach_is_its_chain() {
    front_is_its_chain(
        "attach",
        &[],
        &[
            "cntr-nsenter",
            "--all-but-mount",
            "--no-user",
            "cntr-mount-tree",
            "cntr-inherit",
        ],
    );
}

#[test]
fn exec_is_its_chain() {
    front_is_its_chain(
        "exec",
        &["--seccomp"],
        &["cntr-nsenter", "--all", "cntr-chroot-exec", "cntr-inherit"],
    );
}

#[test]
fn links_run_alone_and_across_exec() {
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();
    // nsenter on its own: the host's tool in the container's UTS namespace.
    let r = run(&["nsenter", "-t", &pid, "--uts", "hostname"]);
    assert_eq!(r.ok().trim(), ct.name);
    // The handoff across a foreign program: env(1) passes it on with -k.
    let exe = cntr_bin();
    let link_dir = std::env::temp_dir().join(format!("cntr-links-{}", std::process::id()));
    std::fs::create_dir_all(&link_dir).unwrap();
    run(&["--install", link_dir.to_str().unwrap()]).ok();
    assert_eq!(
        std::fs::read_link(link_dir.join("cntr-nsenter")).unwrap(),
        std::fs::canonicalize(exe).unwrap()
    );
    let nsenter = link_dir.join("cntr-nsenter");
    let r = run(&[
        "resolve",
        "-k",
        &pid,
        "env",
        nsenter.to_str().unwrap(),
        "--uts",
        "hostname",
    ]);
    assert_eq!(r.ok().trim(), ct.name);
    // Without -k the fds are gone and the next link says so.
    let r = run(&[
        "resolve",
        &pid,
        "env",
        nsenter.to_str().unwrap(),
        "--uts",
        "hostname",
    ]);
    assert_eq!(r.code, 125);
    assert!(r.stderr.contains("no target"), "{}", r.stderr);
    std::fs::remove_dir_all(&link_dir).unwrap();
}

/// The cgroups are joined in every hierarchy whether or not nsenter forks:
/// with a fork the child is born in the target's cgroup v2 and joins the
/// v1 hierarchies through `tasks`; without one, cntr-inherit also writes
/// the v2 `cgroup.procs`.
#[test]
fn cgroups_are_joined_with_and_without_a_fork() {
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();
    let theirs = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(
        theirs
            .lines()
            .all(|l| l.ends_with(&format!("/ct-{}", ct.name))),
        "{theirs}"
    );
    for chain in [
        vec![
            "resolve",
            &pid,
            "cntr-nsenter",
            "--net",
            "cntr-inherit",
            "cat",
            "/proc/self/cgroup",
        ],
        vec![
            "resolve",
            &pid,
            "cntr-nsenter",
            "--pid",
            "cntr-inherit",
            "cat",
            "/proc/self/cgroup",
        ],
    ] {
        let r = run(&chain);
        assert_eq!(r.ok(), theirs, "{chain:?}");
    }
}
