//! The debug image that ships only cntr (Dockerfile: FROM scratch, the
//! static release binary and its links), built offline with the real
//! dockerd of `scripts/engines`, attaching to another container by PID,
//! exec'ing in it by name and attaching with a toolbox container's tools,
//! the way README's "Debug image" shows.

mod common;
use common::*;

/// What the debug container needs instead of --privileged (which cannot
/// start on a host whose root lacks CAP_SYS_RESOURCE, as here): the host's
/// PID and cgroup namespaces, no seccomp filter (it knows none of the
/// mount API), and these capabilities.
const RUN: &[&str] = &[
    "run",
    "--rm",
    "--pid=host",
    "--cgroupns=host",
    "--security-opt",
    "seccomp=unconfined",
    "--cap-add",
    "SYS_ADMIN",
    "--cap-add",
    "SYS_PTRACE",
    "--cap-add",
    "SYS_CHROOT",
    "--cap-add",
    "DAC_READ_SEARCH",
    "--cap-add",
    "SETPCAP",
];

#[test]
fn debug_image_attaches_by_pid_and_execs_by_name() {
    need_root();
    let root = env!("CARGO_MANIFEST_DIR");
    let release = std::path::Path::new(root).join("target/release/cntr");
    assert!(
        release.exists(),
        "build the release binary first (scripts/test does)"
    );
    let image = format!("cntr-debug:test{}", std::process::id());
    docker(&["build", "-q", "-t", &image, root]).ok();
    let name = format!("cntr-dbg-{}", std::process::id());
    let c = Engine::Docker.run(&name, &["--hostname", "dbg-target"]);
    let pid = c.pid().to_string();

    // The image holds the binary and its links, nothing else.
    let r = docker(&[RUN, &[&image, "--version"]].concat());
    assert!(r.ok().starts_with("cntr "));

    // Attach by PID: the session's root is the debug image's; the target's
    // files are at /var/lib/cntr, its busybox runs from there.
    let bb = "/var/lib/cntr/bin/busybox";
    let script = format!("{bb} hostname; {bb} cat /var/lib/cntr/etc/ct-marker; echo $$");
    let r = docker(
        &[
            RUN,
            &[&image, "attach", &pid, "--", bb, "sh", "-c", &script],
        ]
        .concat(),
    );
    let text = r.ok();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[..2], ["dbg-target", "inside-ct"], "{text}");
    assert!(lines[2].parse::<u32>().unwrap() < 100);

    // Exec by name, through the docker socket handed in.
    let sock = std::env::var("DOCKER_HOST")
        .unwrap()
        .trim_start_matches("unix://")
        .to_string();
    let volume = format!("{sock}:/var/run/docker.sock");
    let r = docker(
        &[
            RUN,
            &[
                "-v",
                &volume,
                &image,
                "exec",
                &name,
                "--",
                "sh",
                "-c",
                "hostname; cat /etc/ct-marker",
            ],
        ]
        .concat(),
    );
    assert_eq!(r.ok(), "dbg-target\ninside-ct\n");

    docker(&["rm", "-f", &c.id]).ok();
    docker(&["rmi", &image]).ok();
}
