//! `-t command`: a process found by its command line; never cntr itself,
//! its parents or the calling shell.

mod common;
use common::*;

#[test]
fn finds_a_process_by_its_command_line() {
    // The container's init execs into a command line that no other
    // process has: the supervisor's own arguments hold only the formula.
    let n = 40000 + std::process::id() % 20000;
    let ct = Container::start_with(
        Variant::Docker,
        &[],
        &["/bin/sh", "-c", &format!("exec /bin/sleep $(({n}+1))")],
    );
    let target = format!("/bin/sleep {}", n + 1);
    let pid = wait_for(5, || {
        let r = run(&["resolve", "-t", "command", &target]);
        (r.code == 0).then(|| r.stdout.trim().to_string())
    })
    .expect("the container's command line");
    assert_eq!(pid, ct.pid.to_string());
    assert_eq!(
        run(&["attach", "-t", "command", &target, "--", "hostname"])
            .ok()
            .trim(),
        ct.name
    );
    assert_eq!(
        run(&[
            "exec",
            "-t",
            "command",
            &target,
            "--",
            "cat",
            "/etc/ct-marker"
        ])
        .ok(),
        "inside-ct\n"
    );
    // Not in the default order: a command line is not a name.
    let r = run(&["resolve", &target]);
    assert_eq!(r.code, 125);
    assert!(r.stderr.contains("no container found"), "{}", r.stderr);
}

#[test]
fn never_cntr_its_parents_or_the_calling_shell() {
    let uniq = format!("cntr-uniq-{}", std::process::id());
    // The calling shell's command line holds the target, and so does
    // cntr's own.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} resolve -t command {uniq}; echo status=$?",
            cntr_bin().display()
        ))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("status=125"), "{text}");
    assert!(
        err.contains(&format!("no container found for '{uniq}'")),
        "{err}"
    );
}
