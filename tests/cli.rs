//! The binary's own interface: dispatch, help, version, install.

mod common;
use common::*;

#[test]
fn help_lists_applets_and_every_applet_answers_help() {
    let r = run(&["--help"]);
    let text = r.ok();
    for a in APPLETS {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(a)),
            "{a} missing from --help: {text}"
        );
        for flag in ["--help", "-h"] {
            let r = run(&[a, flag]);
            assert_eq!(r.code, 0, "{a} {flag}");
            assert!(r.stdout.starts_with("Usage: cntr"), "{a}: {}", r.stdout);
            assert!(r.stderr.is_empty());
        }
    }
    assert!(run(&["--version"]).ok().starts_with("cntr "));
}

#[test]
fn man_page_synopses_match_usage() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for a in APPLETS {
        let usage = run(&[a, "--help"]).stdout;
        let first = usage
            .lines()
            .next()
            .unwrap()
            .trim_start_matches("Usage: ")
            .to_string();
        let page = match a {
            "attach" | "exec" | "list" | "completions" => root.join("man/cntr.1"),
            _ => root.join(format!("man/cntr-{a}.1")),
        };
        let text =
            std::fs::read_to_string(&page).unwrap_or_else(|_| panic!("{} missing", page.display()));
        let plain = text
            .replace("\\-", "-")
            .replace("\\fB", "")
            .replace("\\fR", "")
            .replace("\\fI", "");
        assert!(
            plain.contains(&first),
            "{}: SYNOPSIS lacks {first:?}",
            page.display()
        );
    }
}

#[test]
fn names_and_symlinks() {
    let dir = std::env::temp_dir().join(format!("cntr-install-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    run(&["--install", dir.to_str().unwrap()]).ok();
    for a in APPLETS {
        let link = dir.join(format!("cntr-{a}"));
        let r = Run::from(
            std::process::Command::new(&link)
                .arg("--help")
                .output()
                .unwrap(),
        );
        assert!(
            r.stdout.starts_with(&format!(
                "Usage: cntr{}{a}",
                if ["attach", "exec", "list", "completions"].contains(&a) {
                    " "
                } else {
                    "-"
                }
            )),
            "{a}: {}",
            r.stdout
        );
    }
    // As `cntr cntr-resolve` too.
    assert!(run(&["cntr-resolve", "--help"])
        .ok()
        .starts_with("Usage: cntr-resolve"));
    // A second install replaces the links; a foreign file is refused.
    run(&["--install", dir.to_str().unwrap()]).ok();
    std::fs::remove_file(dir.join("cntr-pty")).unwrap();
    std::fs::write(dir.join("cntr-pty"), "").unwrap();
    let r = run(&["--install", dir.to_str().unwrap()]);
    assert_eq!(r.code, 125);
    assert!(r.stderr.contains("not a symlink"), "{}", r.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dry_run_prints_the_chains() {
    let words = |args: &[&str]| run(args).ok().trim().to_string();
    assert_eq!(
        words(&["attach", "-n", "-t", "docker", "web", "--", "ls", "-l"]),
        "cntr-resolve -t docker web cntr-nsenter --all-but-mount --no-user cntr-mount-tree cntr-inherit ls -l"
    );
    assert_eq!(
        words(&["exec", "-n", "web", "--", "ls", "-l"]),
        "cntr-resolve --seccomp web cntr-nsenter --all cntr-chroot-exec cntr-inherit ls -l"
    );
    // Options may follow the target; the default commands; words that look
    // like options are kept from the next link's parser; quoting.
    assert_eq!(
        words(&["exec", "web", "-n", "--apparmor", "off", "--seccomp", "off"]),
        "cntr-resolve web cntr-nsenter --all cntr-chroot-exec cntr-inherit --apparmor off /bin/sh"
    );
    // Every interface option goes to the link that does it.
    assert_eq!(
        words(&[
            "exec", "-n", "-u", "app:staff", "-w", "/srv", "-e", "A=1", "--owner", "daemon", "-t",
            "podman", "web", "--", "id"
        ]),
        "cntr-resolve -t podman --owner daemon --seccomp web cntr-nsenter --all cntr-chroot-exec -w /srv cntr-inherit -u app:staff -e A=1 id"
    );
    assert_eq!(
        words(&["attach", "-n", "-u", "0", "-w", "/srv", "--seccomp", "on", "web", "--", "id"]),
        "cntr-resolve --seccomp web cntr-nsenter --all-but-mount --no-user cntr-mount-tree -w /srv cntr-inherit -u 0 id"
    );
    assert_eq!(
        words(&["attach", "-n", "--", "-web", "--", "-x", "it's"]),
        "cntr-resolve -- -web cntr-nsenter --all-but-mount --no-user cntr-mount-tree cntr-inherit -- -x 'it'\\''s'"
    );
    assert!(
        words(&["attach", "-n", "web"]).ends_with("cntr-inherit /bin/sh"),
        "the caller's SHELL"
    );
}

#[test]
fn resolve_prints_the_pid_or_json() {
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();
    assert_eq!(run(&["resolve", &pid]).ok(), format!("{pid}\n"));
    let json = run(&["resolve", "--json", &pid]).ok().to_string();
    assert_eq!(json.lines().count(), 1);
    for key in [
        "\"pid\":",
        "\"engine\":\"process_id\"",
        "\"namespaces\":{",
        "\"net\":",
        "\"cgroup\":[",
    ] {
        assert!(json.contains(key), "{key} in {json}");
    }
    let net = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    let ino = net
        .to_str()
        .unwrap()
        .trim_start_matches("net:[")
        .trim_end_matches(']');
    assert!(json.contains(&format!("\"net\":{ino}")), "{json}");
    assert!(json.contains(&format!("/ct-{}", ct.name)), "{json}");
}
