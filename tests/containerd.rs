//! Attach and exec by containerd task ID and prefix, in any namespace,
//! against the real containerd that `scripts/engines start` runs. The
//! tasks are docker's (containerd namespace `moby`): the resolver reads
//! the shims' task state, whoever created the task.

mod common;
use common::*;

#[test]
fn attach_and_exec_by_task_id_and_prefix() {
    need_root();
    assert!(
        std::env::var_os("CNTR_CONTAINERD_STATE").is_some(),
        "no containerd state dir: run `eval \"$(scripts/engines start)\"` (scripts/test does)"
    );
    let c = Engine::Docker.run(&format!("cntr-ctd-{}", std::process::id()), &[]);
    let (id, pid) = (c.id.clone(), c.pid());
    for target in [&id[..], &id[..10]] {
        let json = run(&["resolve", "-t", "containerd", "--json", target])
            .ok()
            .to_string();
        assert!(
            json.starts_with(&format!(
                "{{\"pid\":{pid},\"engine\":\"containerd\",\"id\":\"{id}\""
            )),
            "{json}"
        );
        assert!(json.contains("\"namespace\":\"moby\""), "{json}");
        assert_eq!(
            run(&[
                "attach",
                "-t",
                "containerd",
                target,
                "--",
                "cat",
                "/var/lib/cntr/etc/ct-marker"
            ])
            .ok(),
            "inside-ct\n"
        );
        assert_eq!(
            run(&[
                "exec",
                "-t",
                "containerd",
                target,
                "--",
                "cat",
                "/etc/ct-marker"
            ])
            .ok(),
            "inside-ct\n"
        );
    }
    // The same container through docker and containerd is one candidate.
    assert_eq!(run(&["resolve", &id]).ok().trim(), pid.to_string());
    docker(&["stop", "-t", "0", &id]).ok();
    let r = run(&["resolve", "-t", "containerd", &id]);
    assert_eq!(r.code, 125);
    assert!(
        r.stderr.contains("no container found") || r.stderr.contains("not running"),
        "{}",
        r.stderr
    );
    docker(&["rm", "-f", &id]).ok();
    // A state directory that does not exist (containerd not installed).
    let r = Run::from(
        command(&["resolve", "-t", "containerd", &id])
            .env("CNTR_CONTAINERD_STATE", "/nonexistent")
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 125);
    assert!(r.stderr.contains("no container found"), "{}", r.stderr);
}
