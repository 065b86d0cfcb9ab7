//! `cntr attach --tools SRC`: the session as attach makes it (the
//! target's namespaces, cgroup and credentials, its tree at the base
//! dir), with a tools tree for `/` in place of the host's: a directory, a
//! toolbox container, or an image of docker's or podman's store. The
//! engine tests need the engines of `scripts/engines start`.

mod common;
use common::*;
use std::path::{Path, PathBuf};

/// The script every session here runs, one fact per line: hostname, uid,
/// the toolbox's marker, whether the session's cgroups are its PID 1's
/// (the target's, in its PID namespace), PID 1's command, the target's
/// files at the base dir, whether the host's secret can be read, and what
/// `/` is.
fn facts(secret: &Secret) -> String {
    format!(
        "{FSTYPE}; hostname; id -u; tbmark; \
         if [ \"$(cat /proc/self/cgroup)\" = \"$(cat /proc/1/cgroup)\" ]; then echo same-cgroup; else echo other-cgroup; fi; \
         cat /proc/1/comm; ls /var/lib/cntr | tr '\\n' ' '; echo; \
         cat {} 2>/dev/null || echo no-host-secret; \
         fstype /",
        secret.path.display(),
    )
}

/// A shell function, `fstype MOUNT_POINT`, that prints the filesystem
/// type of the mounts at MOUNT_POINT in the session's mount table: the
/// field after the `-` that ends a mountinfo line's optional fields.
const FSTYPE: &str = "fstype() { awk -v mp=\"$1\" '$5 == mp { for (i = 7; i <= NF; i++) if ($i == \"-\") { print $5, $(i + 1); break } }' /proc/self/mountinfo; }";

/// What [`facts`] prints, line by line.
struct Facts {
    lines: Vec<String>,
}

impl Facts {
    fn of(r: &Run) -> Facts {
        Facts {
            lines: r.ok().lines().map(str::to_string).collect(),
        }
    }

    /// Checks each fact against the target's: `hostname`, `uid`, the
    /// command of its PID 1 and a file of its tree.
    fn check(&self, hostname: &str, uid: u32, comm: &str, file: &str) {
        let l = &self.lines;
        assert_eq!(l.len(), 8, "{l:?}");
        assert_eq!(l[0], hostname, "{l:?}");
        assert_eq!(l[1], uid.to_string(), "{l:?}");
        assert_eq!(l[2], "toolbox-only", "{l:?}");
        assert_eq!(l[3], "same-cgroup", "{l:?}");
        assert_eq!(l[4], comm, "{l:?}");
        assert!(l[5].split(' ').any(|f| f == file), "{l:?}");
        assert_eq!(l[6], "no-host-secret", "{l:?}");
        // Nothing but the tools overlay is `/`: the host's root is gone
        // from the session's mount table.
        assert_eq!(l[7], "/ overlay", "{l:?}");
    }
}

/// `cntr attach OPTS... TARGET -- sh -c SCRIPT`, where sh is the tools
/// tree's.
fn attach_sh(opts: &[&str], target: &str, script: &str) -> Run {
    let mut args = vec!["attach"];
    args.extend_from_slice(opts);
    args.extend([target, "--", "sh", "-c", script]);
    run(&args)
}

/// `cntr attach --tools SRC TARGET -- sh -c SCRIPT`.
fn tools_sh(src: &str, target: &str, script: &str) -> Run {
    attach_sh(&["--tools", src], target, script)
}

/// `cntr attach --tools SRC TARGET -- true` fails with one line, 125,
/// that says `why`.
fn refused(src: &str, target: &str, why: &str) {
    let r = run(&["attach", "--tools", src, target, "--", "true"]);
    assert_eq!(r.code, 125, "{src}: {}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{src}: {}", r.stderr);
    assert!(r.stderr.contains(why), "{src}: {}", r.stderr);
}

/// The marker program of every tools tree here.
const MARKER: &str = "#!/bin/sh\necho toolbox-only\n";

/// A tools directory: a copy of the test busybox root filesystem with the
/// marker program at /bin/tbmark; removed on drop.
struct ToolsDir {
    dir: PathBuf,
}

impl ToolsDir {
    fn new() -> ToolsDir {
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = PathBuf::from(format!("/tmp/cntr-tools-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy_rootfs(0, &dir);
        let marker = dir.join("usr/bin/tbmark");
        std::fs::write(&marker, MARKER).unwrap();
        std::fs::set_permissions(&marker, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        ToolsDir { dir }
    }

    fn arg(&self) -> String {
        self.dir.display().to_string()
    }
}

impl Drop for ToolsDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every file of `dir`, recursively, as relative paths: what a session
/// must leave as it was.
fn tree(dir: &Path) -> Vec<String> {
    let out = std::process::Command::new("find")
        .arg(dir)
        .arg("-printf")
        .arg("%P %m %s\\n")
        .output()
        .unwrap();
    let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

#[test]
fn a_tools_dir_is_the_sessions_root() {
    let tools = ToolsDir::new();
    let before = tree(&tools.dir);
    let ct = Container::start(Variant::Docker);
    let secret = Secret::new();
    let pid = ct.pid.to_string();
    let t = tools.arg();
    let r = tools_sh(&t, &pid, &facts(&secret));
    Facts::of(&r).check(&ct.name, 0, "sleep", "etc");
    // The command comes from the tools tree's PATH, never the caller's:
    // the default shell is its sh; writes go to the session's layer.
    let r = tools_sh(
        &t,
        &pid,
        "echo $PATH; echo $SHELL; echo x >/written && cat /written; \
         echo y >/var/lib/cntr/tmp/from-tools; cat /var/lib/cntr/etc/ct-marker",
    );
    assert_eq!(
        r.ok(),
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/bin/sh\nx\ninside-ct\n"
    );
    // Written under the base dir: in the target.
    let landed = format!("/proc/{}/root/tmp/from-tools", ct.pid);
    assert_eq!(std::fs::read_to_string(&landed).unwrap(), "y\n");
    // Written in the tools tree: gone with the session, the directory
    // untouched.
    let r = tools_sh(&t, &pid, "ls /written 2>&1; true");
    assert!(r.ok().contains("No such file"), "{}", r.ok());
    assert_eq!(tree(&tools.dir), before);
    // No command: sh of the tools tree (its busybox), stdin a pipe.
    let r = run_input(
        &["attach", "--tools", &t, &pid],
        b"tbmark; readlink /proc/$$/exe\n",
    );
    assert_eq!(r.ok(), "toolbox-only\n/usr/bin/busybox\n");
}

#[test]
fn the_sessions_dev_sys_and_tmp() {
    let tools = ToolsDir::new();
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();
    let t = tools.arg();
    // /dev holds the allowlisted devices and the container's devpts; /tmp
    // is fresh (the tools tree's is empty, the container's is its own);
    // /proc is the container's.
    std::fs::write(tools.dir.join("tmp/in-tools-tmp"), "").unwrap();
    let script = format!(
        "{FSTYPE}; ls /dev | tr '\\n' ' '; echo; ls -A /tmp | wc -l; \
         stat -c %a /tmp; echo hi >/dev/null && echo null-ok; \
         head -c 4 /dev/zero | wc -c; fstype /dev/pts; fstype /proc"
    );
    let r = tools_sh(&t, &pid, &script);
    let out = r.ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].trim_end(),
        "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero",
        "{out}"
    );
    assert_eq!(lines[1..5], ["0", "1777", "null-ok", "4"], "{out}");
    assert!(lines.contains(&"/dev/pts devpts"), "{out}");
    assert!(lines.contains(&"/proc proc"), "{out}");
}

/// The container's identity files cover the tools tree's, also where the
/// tree lacks one or has a dangling link in its place (the tree is the
/// session's own: the file is made there to be covered).
#[test]
fn identity_files_over_a_tree_that_lacks_them() {
    let tools = ToolsDir::new();
    let etc = tools.dir.join("etc");
    std::fs::remove_file(etc.join("hostname")).unwrap();
    std::fs::remove_file(etc.join("hosts")).unwrap();
    std::os::unix::fs::symlink("../run/nowhere", etc.join("hosts")).unwrap();
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();
    let r = tools_sh(&tools.arg(), &pid, "cat /etc/hostname /etc/hosts");
    let theirs = |f: &str| std::fs::read_to_string(format!("/proc/{pid}/root/etc/{f}")).unwrap();
    assert_eq!(r.ok(), theirs("hostname") + &theirs("hosts"));
    // The tree itself is as it was.
    assert!(!etc.join("hostname").exists());
    assert_eq!(
        std::fs::read_link(etc.join("hosts")).unwrap(),
        Path::new("../run/nowhere")
    );
}

#[test]
fn tools_dir_errors_leave_nothing_mounted() {
    let host = HostState::take();
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();
    let rootfs_of_target = format!("/proc/{}/root", ct.pid);
    for (src, why) in [
        (
            "/nonexistent-tools",
            "tools dir /nonexistent-tools does not exist",
        ),
        (
            "/etc/hostname",
            "tools dir /etc/hostname is not a directory",
        ),
        (
            rootfs_of_target.as_str(),
            "is the target's own root: use cntr exec",
        ),
        ("image:", "--tools: '' is not an image reference"),
        ("container:", "--tools container: needs a name"),
    ] {
        refused(src, &pid, why);
    }
    // cntr-resolve builds a tree only for a chain to use.
    let r = run(&["resolve", "--tools", "/tmp", &pid]);
    assert_eq!(r.code, 125);
    assert!(r.stderr.contains("--tools goes with PROG"), "{}", r.stderr);
    let r = run(&["exec", "--tools", "/tmp", &pid, "--", "true"]);
    assert_eq!(r.code, 125);
    assert!(r.stderr.contains("--tools is attach's"), "{}", r.stderr);
    drop(ct);
    host.check();
}

#[test]
fn mount_tree_takes_tools_at_the_applet_level() {
    let tools = ToolsDir::new();
    let ct = Container::start(Variant::Docker);
    let pid = ct.pid.to_string();
    let t = tools.arg();
    // The attach chain, shown: the tree is built by cntr-resolve.
    let r = run(&["attach", "-n", "--tools", &t, &pid]);
    assert_eq!(
        r.ok().trim(),
        format!(
            "cntr-resolve --tools {t} {pid} cntr-nsenter --all-but-mount --no-user \
             cntr-mount-tree cntr-inherit sh"
        )
    );
    // cntr-mount-tree resolving its own target, in the host's namespaces.
    let r = run(&[
        "mount-tree",
        "-t",
        &pid,
        "--tools",
        &t,
        "sh",
        "-c",
        "tbmark; cat /var/lib/cntr/etc/ct-marker",
    ]);
    assert_eq!(r.ok(), "toolbox-only\ninside-ct\n");
    // `cntr-mount-tree --tools SRC` after cntr-nsenter.
    let after_nsenter = |src: &str, cmd: &[&str]| {
        let mut args = vec![
            "resolve",
            &pid,
            "cntr-nsenter",
            "--all-but-mount",
            "--no-user",
            "cntr-mount-tree",
            "--tools",
            src,
            "cntr-inherit",
        ];
        args.extend_from_slice(cmd);
        run(&args)
    };
    // A directory is still fine there ...
    let r = after_nsenter(&t, &["sh", "-c", "hostname; tbmark"]);
    assert_eq!(r.ok(), format!("{}\ntoolbox-only\n", ct.name));
    // ... a toolbox container is not: its resolvers must not run in the
    // container's namespaces, and a handed target may mean they would.
    let r = after_nsenter("container:anything", &["true"]);
    assert_eq!(r.code, 125);
    assert!(
        r.stderr.contains("is resolved by cntr-resolve --tools"),
        "{}",
        r.stderr
    );
    // A handed tree and another --tools: one tree only.
    let r = run(&[
        "resolve",
        "--tools",
        &t,
        &pid,
        "cntr-mount-tree",
        "--tools",
        &t,
        "true",
    ]);
    assert_eq!(r.code, 125);
    assert!(r.stderr.contains("--tools is given twice"), "{}", r.stderr);
}

/// A docker image built here, removed on drop.
struct Image {
    engine: Engine,
    name: String,
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = self.engine.cli(&["rmi", "-f", &self.name]);
    }
}

/// A container of `engine` from the test busybox image with the marker
/// program added: the toolbox.
fn toolbox(engine: Engine, name: &str) -> EngineContainer {
    let c = engine.run(name, &[]);
    let r = engine.cli(&[
        "exec",
        &c.id,
        "sh",
        "-c",
        &format!(
            "printf '{}' >/bin/tbmark && chmod 755 /bin/tbmark",
            MARKER.replace('\n', "\\n")
        ),
    ]);
    r.ok();
    c
}

/// The image of a FROM-scratch target: one static binary (the test
/// helper `hostile`, as /pause), no shell.
fn scratch_image() -> Image {
    let dir = PathBuf::from(format!("/tmp/cntr-scratch-ctx-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(hostile_bin(), dir.join("pause")).unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        "FROM scratch\nCOPY pause /pause\nCMD [\"/pause\", \"spin\", \"/dev/null\"]\n",
    )
    .unwrap();
    let name = format!("cntr-scratch-target:{}", std::process::id());
    let r = docker(&["build", "-q", "-t", &name, dir.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
    r.ok();
    Image {
        engine: Engine::Docker,
        name,
    }
}

#[test]
fn docker_toolbox_for_a_scratch_and_a_busybox_target() {
    let host = HostState::take();
    let tag = std::process::id();
    let tb = toolbox(Engine::Docker, &format!("cntr-toolbox-{tag}"));
    let img = scratch_image();
    let scratch_name = format!("cntr-scratch-{tag}");
    let r = docker(&[
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        &scratch_name,
        "--hostname",
        "scratch-tgt",
        "--user",
        "1000:1000",
        &img.name,
    ]);
    let scratch = EngineContainer {
        engine: Engine::Docker,
        id: r.ok().trim().to_string(),
        name: scratch_name.clone(),
    };
    let bb = Engine::Docker.run(&format!("cntr-bb-{tag}"), &["--hostname", "bb-tgt"]);
    let secret = Secret::new();
    let tools = format!("container:{}", tb.name);

    // The scratch target has no shell: every program is the toolbox's.
    let r = tools_sh(&tools, &scratch.name, &facts(&secret));
    Facts::of(&r).check("scratch-tgt", 1000, "pause", "pause");
    let r = tools_sh(&tools, &bb.name, &facts(&secret));
    Facts::of(&r).check("bb-tgt", 0, "sleep", "bin");

    // Writes: under the base dir they land in the target; in the tools
    // tree they go with the session, and the toolbox never sees them.
    let r = tools_sh(
        &tools,
        &bb.name,
        "echo t >/var/lib/cntr/tmp/from-tools && echo s >/tools-scratch && cat /tools-scratch",
    );
    assert_eq!(r.ok(), "s\n");
    let r = docker(&["exec", &bb.id, "cat", "/tmp/from-tools"]);
    assert_eq!(r.ok(), "t\n");
    let r = docker(&["exec", &tb.id, "ls", "/tools-scratch"]);
    assert_ne!(r.code, 0, "the toolbox saw the session's write");
    let r = tools_sh(&tools, &bb.name, "ls /tools-scratch");
    assert_ne!(r.code, 0, "a second session saw the first one's write");

    // The same toolbox as an image of docker's store, with its PATH.
    let image = Image {
        engine: Engine::Docker,
        name: format!("cntr-toolbox-image:{tag}"),
    };
    // Its configuration sets a PATH: the session's commands are found
    // through it.
    let image_path = "/opt/tb/bin:/usr/bin:/bin";
    docker(&[
        "commit",
        "--change",
        &format!("ENV PATH={image_path}"),
        &tb.id,
        &image.name,
    ])
    .ok();
    let src = format!("image:{}", image.name);
    let r = tools_sh(&src, &scratch.name, &facts(&secret));
    Facts::of(&r).check("scratch-tgt", 1000, "pause", "pause");
    let r = tools_sh(&src, &bb.name, "echo $PATH");
    assert_eq!(r.ok().trim(), image_path);

    // Bad sources: one line, 125, nothing mounted.
    let stopped = toolbox(Engine::Docker, &format!("cntr-stopped-{tag}"));
    docker(&["stop", "-t", "0", &stopped.id]).ok();
    let cases = [
        (
            format!("container:{}", stopped.name),
            "is not running".to_string(),
        ),
        (
            "container:cntr-no-such-box".into(),
            "no container found for 'cntr-no-such-box'".into(),
        ),
        (
            "image:cntr-no-such-image:1".into(),
            "no image 'cntr-no-such-image:1' found".into(),
        ),
        (
            format!("container:{}", bb.name),
            "is the target itself: use cntr exec".into(),
        ),
    ];
    for (src, why) in &cases {
        refused(src, &bb.name, why);
    }
    drop((tb, scratch, bb, stopped, image, img));
    host.check();
}

#[test]
fn podman_image_and_toolbox() {
    let host = HostState::take();
    let tag = std::process::id();
    let tb = toolbox(Engine::Podman, &format!("cntr-ptoolbox-{tag}"));
    let target = Engine::Podman.run(
        &format!("cntr-ptarget-{tag}"),
        &["--hostname", "podman-tgt"],
    );
    let secret = Secret::new();
    let image = Image {
        engine: Engine::Podman,
        name: format!("localhost/cntr-ptoolbox-image:{tag}"),
    };
    podman(&["commit", "-q", &tb.id, &image.name]).ok();
    for src in [
        format!("container:{}", tb.name),
        format!("image:{}", image.name),
    ] {
        let r = attach_sh(
            &["-t", "podman", "--tools", &src],
            &target.name,
            &facts(&secret),
        );
        Facts::of(&r).check("podman-tgt", 0, "sleep", "bin");
    }
    // A podman image named as podman completes it (localhost/).
    let short = format!("image:cntr-ptoolbox-image:{tag}");
    let r = attach_sh(&["-t", "podman", "--tools", &short], &target.name, "tbmark");
    assert_eq!(r.ok(), "toolbox-only\n");
    drop((tb, target, image));
    host.check();
}

/// A fake podman store of the test's own at `store` (`CNTR_PODMAN_ROOT`),
/// whose driver `driver` keeps image `name`, top layer `top` over
/// `base`, and `base`'s directory only.
fn fake_store(store: &Path, driver: &str, name: &str, top: &str, base: &str) {
    let _ = std::fs::remove_dir_all(store);
    let id = "a".repeat(64);
    std::fs::create_dir_all(store.join(format!("{driver}-images"))).unwrap();
    std::fs::create_dir_all(store.join(format!("{driver}-layers"))).unwrap();
    std::fs::create_dir_all(store.join(format!("{driver}/{base}/diff"))).unwrap();
    std::fs::write(
        store.join(format!("{driver}-images/images.json")),
        format!(r#"[{{"id":"{id}","names":["{name}"],"layer":"{top}"}}]"#),
    )
    .unwrap();
    std::fs::write(
        store.join(format!("{driver}-layers/layers.json")),
        format!(r#"[{{"id":"{top}","parent":"{base}"}},{{"id":"{base}"}}]"#),
    )
    .unwrap();
}

/// `cntr attach -t process_id,podman --tools SRC PID -- true` with the
/// podman store `store` alone.
fn with_store(store: &Path, src: &str, pid: i32) -> Run {
    Run::from(
        command(&[
            "attach",
            "-t",
            "process_id,podman",
            "--tools",
            src,
            &pid.to_string(),
            "--",
            "true",
        ])
        .env("CNTR_PODMAN_ROOT", store)
        .env_remove("CNTR_PODMAN_USER")
        .output()
        .unwrap(),
    )
}

/// `cntr attach --tools image:NAME:1` against a harness container, with
/// a fake podman store of `driver` (`CNTR_PODMAN_ROOT`) holding only
/// `localhost/NAME:1`, removed again: the run, the store's path and the
/// image's top layer. The host is checked to be as it was.
fn from_fake_store(driver: &str, name: &str) -> (Run, PathBuf, String) {
    let host = HostState::take();
    let ct = Container::start(Variant::Docker);
    let store = PathBuf::from(format!("/tmp/cntr-{driver}-store-{}", std::process::id()));
    let (top, base) = ("b".repeat(64), "c".repeat(64));
    fake_store(&store, driver, &format!("localhost/{name}:1"), &top, &base);
    let r = with_store(&store, &format!("image:{name}:1"), ct.pid);
    let _ = std::fs::remove_dir_all(&store);
    drop(ct);
    host.check();
    (r, store, top)
}

/// An image that only a store of another driver keeps: the error names
/// the driver and the store.
#[test]
fn an_image_of_another_driver() {
    let (r, store, _) = from_fake_store("vfs", "vfsonly");
    assert_eq!(r.code, 125, "{}", r.stderr);
    assert_eq!(
        r.stderr.trim(),
        format!(
            "cntr-resolve: podman image vfsonly:1 is kept by the vfs driver in {}; \
             images are read from docker's overlay2 and podman's overlay",
            store.display()
        )
    );
}

/// A store whose image names a layer that is not there: the error names
/// it, and nothing is mounted. The store is a fake podman store of the
/// test's own (`CNTR_PODMAN_ROOT`), the target a harness container.
#[test]
fn an_image_whose_layers_are_missing() {
    let (r, store, top) = from_fake_store("overlay", "broken");
    assert_eq!(r.code, 125, "{}", r.stderr);
    assert_eq!(
        r.stderr.trim(),
        format!(
            "cntr-resolve: podman image broken:1: layer {}/overlay/{top}/diff is missing",
            store.display()
        )
    );
}
