//! The attach session is not a door. A session process lives in the
//! container's PID namespace while its root is the host's `/`, and the
//! kernel lets process A open `/proc/S/root`, `cwd` and `fd/*` of process
//! S, take its fds with `pidfd_getfd` and `PTRACE_SEIZE` it whenever
//! `__ptrace_may_access(A, S)` passes: A's uid and gid are S's (as the
//! host sees them) and A shares S's user namespace with S's permitted set
//! a subset of A's effective set; or A has CAP_SYS_PTRACE over S's user
//! namespace, which a process also has over every namespace that its
//! euid made from its own (ownership, no capability needed). The attacker
//! is every process of the container, with every credential it can
//! reach. This file attacks one session per cell of a matrix from inside
//! the container with `hostile door-as` (examples/hostile.rs), during the
//! session's set-up (an attach stopped at each pause point of its chain
//! inside the container until every attacker has tried it, then ten
//! short attaches) and while it runs. One container per cell, the
//! attackers all at once: the file takes a few seconds.
//!
//! **Layouts × targets.** Layouts: (i) a container in the host's user
//! namespace; (ii) a container in a user namespace of its own, mapped at
//! 100000; (iii) a target one user namespace below its container's (a
//! process of a host-userns container that made one, as `unshare -r`
//! does, and emptied its bounding set). Targets: root; uid 1000 with a
//! root process beside it (the container's root init); uid 1000 alone.
//!
//! | layout | root | uid 1000 beside root | uid 1000 alone |
//! |---|---|---|---|
//! | (i) host userns | `docker` init | `docker`, worker `hostile as 1000` | `user` init |
//! | (ii) own userns | `userns` init | `userns`, worker `hostile as 1000` | `userns-user` init |
//! | (iii) nested | `docker`, `hostile nest` by root | `docker`, `hostile nest` by uid 1000 | `user`, `hostile nest` by uid 1000 |
//!
//! In (iii) the target is root of its own namespace; its uid on the host
//! is its creator's.
//!
//! **Attackers.** Each is `hostile door-as ROLE` started by `cntr exec`
//! as the container's root where it has one, else as its uid 1000:
//! - `docker`: root with Docker's default capabilities. The container's
//!   root as engines run it: same uid as a root session, every capability
//!   a container keeps, and (as kuid 0 in the host's namespace) the owner
//!   of every user namespace that root made, cntr's included.
//! - `setuid`: root with CAP_SETUID and CAP_SETGID only, which takes on
//!   each victim's uid and gid (in a child per uid, keeping the two
//!   capabilities) before attacking it: root's power to pass the same-uid
//!   rule against a session of any uid. (CAP_SETGID too: the gids are
//!   compared as well, and a gid cannot be changed without it.) Its
//!   decoy has uid and gid 1234, which it must take on to get in.
//! - `user`: uid 1000, no capabilities: the unprivileged process, same
//!   uid as a non-root target's session.
//! - `userns`: root with every capability in a user namespace of its own
//!   (`unshare -r`): every capability any process can reach, held in a
//!   namespace below the container's.
//! - `owner`: a process that made a user namespace (a child lives there)
//!   and attacks from the parent side as its owner, after dropping every
//!   capability it had: ownership alone, the credential that gets into
//!   a session living in a user namespace root made (the first hole
//!   below), and what every root process of a host-userns container has
//!   over namespaces made by kuid 0.
//!
//! Together they cover what a container reaches: its uids (setuid,
//! user), its capabilities (docker), capabilities below its namespace
//! (userns) and ownership of namespaces (owner, docker); a cell without a
//! root process skips the two roles that need root, saying so.
//!
//! **Checks, per cell.** No success line of any attacker names a cntr
//! process or the session (comm `cntr`, then `door-hold` which opens the
//! secrets and execs `door-sess`, a host `sleep`: the container's own
//! processes have other names and are fair game); no
//! session secret (a root-only host file, and one owned by the session's
//! uid, both held open, the latter's directory its cwd) appears but
//! through a decoy; every attacker tried the session; attach warned of
//! nothing.
//!
//! **Controls, per cell.** Beside the session, for each attacker a decoy
//! (`hostile decoy`, run on the host) that looks like a session with that
//! attacker's own credentials: same uid, gid, capabilities and user
//! namespace (the owner's decoy lives in the namespace its pawn made);
//! the attacker reads the decoy's secret, so each attack works where
//! credentials allow. And two holes, sessions with credentials that look
//! safe and are doors, as decoys with those credentials: in (i) beside
//! root, a uid 1000 session in a root-owned user namespace mapping every
//! id to itself, which `docker` and `owner` enter as its owner; in (iii)
//! with a root process, a host-userns uid 0 session with no
//! capabilities, which every root role (docker, setuid, owner) passes. Last, a container holding CAP_SYS_PTRACE gets through,
//! and attach warns of it.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    HostUserns,
    OwnUserns,
    Nested,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Root,
    UserBesideRoot,
    UserAlone,
}

/// The roles of `hostile door-as`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Docker,
    Setuid,
    User,
    Userns,
    Owner,
    /// The credentials `cntr exec` gave it (the CAP_SYS_PTRACE control).
    Asis,
}

const ROLES: [Role; 5] = [
    Role::Docker,
    Role::Setuid,
    Role::User,
    Role::Userns,
    Role::Owner,
];

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Docker => "docker",
            Role::Setuid => "setuid",
            Role::User => "user",
            Role::Userns => "userns",
            Role::Owner => "owner",
            Role::Asis => "asis",
        }
    }

    fn needs_root(self) -> bool {
        matches!(self, Role::Docker | Role::Setuid)
    }
}

/// The names the session runs under: cntr, then its command.
const SESSION_COMMS: [&str; 3] = ["cntr", "door-hold", "door-sess"];

/// The pause points of the attach chain that stop it inside the
/// container's PID namespace (test-pause builds): after nsenter joined,
/// after mount-tree built the tree, after inherit took the credentials.
const PAUSE_POINTS: [&str; 3] = ["joined", "mounted", "credentials"];

/// Where the target sleeps, by its command line.
const TARGET_CMDLINE: &str = "sleep 1000001";

/// One cell of the matrix: its container and the command of its init.
struct Cell {
    layout: Layout,
    target: Target,
    /// `attach -u`: the user the session runs as, and its uid in the
    /// container.
    user: Option<(&'static str, u32)>,
    /// `attach --tools DIR`: the session's root is a tools tree (see
    /// [`Scratch::with_tools`]).
    tools: bool,
}

impl Cell {
    fn name(&self) -> String {
        let mut n = format!("{:?}/{:?}", self.layout, self.target);
        if let Some((u, _)) = self.user {
            n.push_str(&format!(" -u {u}"));
        }
        if self.tools {
            n.push_str(" --tools");
        }
        n
    }

    /// `attach [-u USER] [--tools DIR] TARGET -- ARGS...`.
    fn attach<'a>(&self, scratch: &'a Scratch, target: &'a str, args: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec!["attach"];
        if let Some((u, _)) = self.user {
            v.extend(["-u", u]);
        }
        if let Some(t) = &scratch.tools {
            v.extend(["--tools", t.to_str().unwrap()]);
        }
        v.extend([target, "--"]);
        v.extend(args);
        v
    }

    fn variant(&self) -> Variant {
        match (self.layout, self.target) {
            (Layout::HostUserns | Layout::Nested, Target::UserAlone) => Variant::User,
            (Layout::HostUserns | Layout::Nested, _) => Variant::Docker,
            (Layout::OwnUserns, Target::UserAlone) => Variant::UsernsUser,
            (Layout::OwnUserns, _) => Variant::Userns,
        }
    }

    /// The container's init: the target itself, or a shell that starts
    /// it in the background and becomes a root `sleep`. A failure to
    /// start it is left in the container's /tmp/target-err.
    fn init(&self) -> Vec<String> {
        let beside = |cmd: &str| {
            vec![
                "sh".into(),
                "-c".into(),
                format!("{cmd} {TARGET_CMDLINE} 2>/tmp/target-err & exec sleep 1000000"),
            ]
        };
        match (self.layout, self.target) {
            (Layout::Nested, Target::Root | Target::UserAlone) => beside("hostile nest"),
            (Layout::Nested, Target::UserBesideRoot) => beside("hostile as 1000 hostile nest"),
            (_, Target::UserBesideRoot) => beside("hostile as 1000"),
            (_, _) => TARGET_CMDLINE.split(' ').map(String::from).collect(),
        }
    }

    /// Whether the container has a root process to start attackers as.
    fn has_root(&self) -> bool {
        self.target != Target::UserAlone
    }

    /// The hole for this cell, if it has one: a session credential that
    /// looks safe and is a door. Its decoy's name, credentials and the
    /// roles that get through.
    fn hole(&self) -> Option<(&'static str, &'static str, Vec<Role>)> {
        match (self.layout, self.target) {
            (Layout::HostUserns, Target::UserBesideRoot) => Some((
                "hole1",
                "userns=new,uid=1000,gid=1000,caps=0",
                vec![Role::Docker, Role::Owner],
            )),
            (Layout::Nested, Target::Root | Target::UserBesideRoot) => Some((
                "hole2",
                "uid=0,gid=0,caps=0",
                vec![Role::Docker, Role::Setuid, Role::Owner],
            )),
            _ => None,
        }
    }
}

/// A host directory for one cell, removed on drop: the programs that
/// the session and the decoys run, as symlinks named for what they are
/// (a process's comm is the name it was executed by), and the secrets.
/// It lies outside `/tmp`, which a tools session has fresh.
struct Scratch {
    dir: PathBuf,
    /// The tools tree of a `--tools` cell, inside `dir`: the test busybox
    /// tree, holding at the same paths as on the host the programs (the
    /// static `hostile` as `door-hold`, `door-sess` a link to it, which
    /// then sleeps) and a copy of each secret, so that the session holds
    /// the same things either way.
    tools: Option<PathBuf>,
}

/// A secret planted on the host: `dir/name-secret`, mode 600.
struct Planted {
    dir: String,
    path: String,
    content: String,
}

impl Scratch {
    fn new() -> Scratch {
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = PathBuf::from(format!("/var/tmp/cntr-door-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        for d in [&dir, &dir.join("bin")] {
            std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
        }
        let s = Scratch { dir, tools: None };
        std::os::unix::fs::symlink(hostile_bin(), s.dir.join("bin/door-hold")).unwrap();
        std::os::unix::fs::symlink("/bin/sleep", s.dir.join("bin/door-sess")).unwrap();
        s
    }

    /// A scratch directory with a tools tree (see [`Scratch::tools`]).
    fn with_tools() -> Scratch {
        let mut s = Scratch::new();
        let t = s.dir.join("tools");
        copy_rootfs(0, &t);
        let bin = t.join(s.dir.strip_prefix("/").unwrap()).join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        copy_program(&hostile_bin(), &bin.join("door-hold"));
        std::os::unix::fs::symlink("door-hold", bin.join("door-sess")).unwrap();
        s.tools = Some(t);
        s
    }

    fn bin(&self, name: &str) -> String {
        let p = self.dir.join("bin").join(name);
        if !p.exists() {
            std::os::unix::fs::symlink("/bin/sleep", &p).unwrap();
        }
        if let Some(t) = &self.tools {
            let inner = t.join(p.strip_prefix("/").unwrap());
            if std::fs::symlink_metadata(&inner).is_err() {
                std::os::unix::fs::symlink("door-hold", &inner).unwrap();
            }
        }
        p.display().to_string()
    }

    /// Copies host file or directory `host` into the tools tree, if any,
    /// at the same path, owner and mode.
    fn mirror(&self, host: &Path) {
        let Some(t) = &self.tools else {
            return;
        };
        use std::os::unix::fs::MetadataExt;
        let inner = t.join(host.strip_prefix("/").unwrap());
        std::fs::create_dir_all(inner.parent().unwrap()).unwrap();
        let m = std::fs::metadata(host).unwrap();
        if m.is_dir() {
            std::fs::create_dir(&inner).unwrap();
        } else {
            std::fs::copy(host, &inner).unwrap();
        }
        std::fs::set_permissions(&inner, m.permissions()).unwrap();
        std::os::unix::fs::chown(&inner, Some(m.uid()), Some(m.gid())).unwrap();
    }

    /// `name/name-secret`, owned by `owner` (the one uid, as the host
    /// sees it, that may read it), in a directory anyone may enter.
    fn plant(&self, name: &str, owner: u32) -> Planted {
        let dir = self.dir.join(name);
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o711))
            .unwrap();
        std::os::unix::fs::chown(&dir, Some(owner), Some(owner)).unwrap();
        let path = dir.join(format!("{name}-secret"));
        let content = random_hex();
        std::fs::write(&path, format!("{content}\n")).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        std::os::unix::fs::chown(&path, Some(owner), Some(owner)).unwrap();
        self.mirror(&dir);
        self.mirror(&path);
        Planted {
            dir: dir.display().to_string(),
            path: path.display().to_string(),
            content,
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The session: `front` (`attach [-u USER] TARGET --`) running
    /// `door-hold hold`, which opens `root_secret` and `own`'s secret,
    /// holds them every way it can (its cwd `own`'s directory) and execs
    /// `door-sess 1000`; its stderr goes to [`Scratch::session_err`].
    /// Returns it, and its `door-sess` (host PID) once that runs.
    fn hold_session(
        &self,
        front: &[&str],
        root_secret: &str,
        own: &Planted,
    ) -> (Child, Option<i32>) {
        let (hold, sess) = (self.bin("door-hold"), self.bin("door-sess"));
        let mut args = front.to_vec();
        args.extend([
            hold.as_str(),
            "hold",
            &own.dir,
            root_secret,
            &own.path,
            "--",
            &sess,
            "1000",
        ]);
        let session = command(&args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.session_err()).unwrap())
            .spawn()
            .unwrap();
        let sleeper = wait_for(10, || {
            descendants(session.id() as i32)
                .into_iter()
                .find(|&p| comm(p) == "door-sess")
        });
        (session, sleeper)
    }

    /// Where [`Scratch::hold_session`] puts the session's stderr.
    fn session_err(&self) -> PathBuf {
        self.file("session-err")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn random_hex() -> String {
    let mut rnd = [0u8; 16];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").unwrap(), &mut rnd).unwrap();
    rnd.iter().map(|b| format!("{b:02x}")).collect()
}

/// `hostile door-as` running in the container.
struct Attacker {
    role: Role,
    child: Child,
    out: PathBuf,
    err: PathBuf,
}

impl Attacker {
    fn report(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// The PID its `# key` line names (`# ready ROLE pid P ...`,
    /// `# pawn P`), in the container's PID namespace.
    fn said(&self, key: &str) -> Option<i32> {
        let report = self.report();
        let line = report
            .lines()
            .find(|l| l.starts_with(&format!("# {key} ")))?;
        let rest = line.split_whitespace().collect::<Vec<_>>();
        let i = rest.iter().position(|w| *w == "pid").map_or(2, |i| i + 1);
        rest.get(i)?.parse().ok()
    }

    /// The host PID of the process the attacker names `inner` in its
    /// PID namespace (itself, or its pawn).
    fn host_pid(&self, inner: i32) -> Option<i32> {
        descendants(self.child.id() as i32)
            .into_iter()
            .find(|&p| nspid(p) == Some(inner))
    }
}

/// A decoy session on the host, and what it shows.
struct Decoy {
    name: String,
    child: Child,
    /// Its program, in the container's PID namespace.
    pid: i32,
    secret: Planted,
    /// The roles that must get through it.
    expect: Vec<Role>,
}

/// The PIDs of `pid` from the host's PID namespace inward.
fn nspids(pid: i32) -> Vec<i32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .map(|l| {
            l.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The PID of `pid` in its innermost PID namespace.
fn nspid(pid: i32) -> Option<i32> {
    nspids(pid).last().copied()
}

fn comm(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim().to_string())
        .unwrap_or_default()
}

/// The effective uid of `pid` as the host sees it.
fn host_uid(pid: i32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status_lines(&status, &["Uid"])[0];
    line.split_whitespace().nth(2).unwrap().parse().unwrap()
}

/// The victim of a success line of a report (`VERB PID NAME: ...`), by
/// its name before and after the attack (`hostile` names one name,
/// `cntr>hostile` a process that exec'd meanwhile); None for `#` lines.
fn victim(line: &str) -> Option<(&str, &str)> {
    if line.starts_with('#') {
        return None;
    }
    let name = line.split_whitespace().nth(2)?.trim_end_matches(':');
    Some(name.split_once('>').unwrap_or((name, name)))
}

/// Whether the victim was the session, or cntr. A process that was cntr
/// when the attack began and something else when it succeeded had
/// exec'd: the kernel makes a process dumpable during exec only after
/// closing its close-on-exec fds, so what one gets then is the new
/// program's.
fn is_session(line: &str) -> bool {
    victim(line).is_some_and(|(before, after)| {
        SESSION_COMMS.contains(&after) || SESSION_COMMS[1..].contains(&before)
    })
}

fn is_decoy(name: &str) -> bool {
    name.starts_with("decoy-") || name.starts_with("hole")
}

/// Starts `hostile door-as ROLE` in the container, reporting to files.
fn start_attacker(ct: &Container, scratch: &Scratch, role: Role, paths: &[&str]) -> Attacker {
    let out = scratch.file(&format!("out-{}", role.name()));
    let err = scratch.file(&format!("err-{}", role.name()));
    let pid = ct.pid.to_string();
    let mut args = vec!["exec", &pid, "--", "hostile", "door-as", role.name(), "60"];
    args.extend_from_slice(paths);
    // Files, not pipes: a pipe nobody reads yet could fill and stop the
    // attacker while it holds a session's process seized.
    let child = command(&args)
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    Attacker {
        role,
        child,
        out,
        err,
    }
}

/// Starts `hostile decoy` on the host in the container's PID namespace
/// and waits until it runs its program (named `name`).
fn start_decoy(
    cell: &str,
    ct: &Container,
    scratch: &Scratch,
    name: &str,
    creds: &str,
    secret: Planted,
    expect: Vec<Role>,
) -> Decoy {
    let err = scratch.file(&format!("err-{name}"));
    let mut child = std::process::Command::new(hostile_bin())
        .args([
            "decoy",
            &ct.pid.to_string(),
            creds,
            &secret.dir,
            &secret.path,
        ])
        .args(["--", &scratch.bin(name), "1000"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let up = wait_for(10, || {
        descendants(child.id() as i32)
            .into_iter()
            .find(|&p| comm(p) == name)
    });
    let Some(pid) = up else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "{cell}: decoy {name} ({creds}) did not start: {}",
            std::fs::read_to_string(&err).unwrap_or_default()
        );
    };
    Decoy {
        name: name.into(),
        child,
        pid,
        secret,
        expect,
    }
}

/// Runs one cell; returns what failed, each line naming the cell.
fn run_cell(cell: &Cell) -> Vec<String> {
    if !cfg!(feature = "test-pause") {
        panic!(
            "this test stops sessions at the pause points of their set-up: \
             build with --features test-pause (scripts/test does)"
        );
    }
    let name = cell.name();
    let v = cell.variant();
    let init = cell.init();
    let init: Vec<&str> = init.iter().map(String::as_str).collect();
    let ct = Container::start_private(v, |_| {}, &[], &init);
    let target = wait_for(10, || {
        std::iter::once(ct.pid)
            .chain(descendants(ct.pid))
            .find(|&p| cmdline(p) == TARGET_CMDLINE)
    })
    .unwrap_or_else(|| {
        let err = std::fs::read_to_string(format!("/proc/{}/root/tmp/target-err", ct.pid));
        panic!("{name}: the target did not start: {err:?}")
    });
    let scratch = if cell.tools {
        Scratch::with_tools()
    } else {
        Scratch::new()
    };
    let root_secret = Secret::new();
    scratch.mirror(&root_secret.path);
    let session_uid = match cell.user {
        Some((_, uid)) => v.owner() + uid,
        None => host_uid(target),
    };
    let session_secret = scratch.plant("session", session_uid);
    // The host uid that `cntr exec` gives the attackers (the container's
    // root, else its uid 1000), which userns and owner keep.
    let own = v.owner() + if cell.has_root() { 0 } else { 1000 };
    let roles: Vec<Role> = ROLES
        .into_iter()
        .filter(|r| {
            let runs = cell.has_root() || !r.needs_root();
            if !runs {
                println!(
                    "{name}: role {} skipped: no process of this container is root, \
                     and the role needs root",
                    r.name()
                );
            }
            runs
        })
        .collect();
    let decoy_secrets: Vec<(Role, Planted)> = roles
        .iter()
        .map(|&r| {
            let owner = match r {
                Role::Docker => v.owner(),
                Role::Setuid => v.owner() + 1234,
                Role::User => v.owner() + 1000,
                _ => own,
            };
            (r, scratch.plant(&format!("decoy-{}", r.name()), owner))
        })
        .collect();
    let hole = cell
        .hole()
        .map(|(n, creds, expect)| (n, creds, expect, scratch.plant(n, 0)));
    let mut paths = vec![root_secret.path.to_str().unwrap(), &session_secret.path];
    paths.extend(decoy_secrets.iter().map(|(_, p)| p.path.as_str()));
    paths.extend(hole.iter().map(|h| h.3.path.as_str()));

    let mut attackers: Vec<Attacker> = roles
        .iter()
        .map(|&r| start_attacker(&ct, &scratch, r, &paths))
        .collect();
    let mut failures = Vec::new();
    for a in &attackers {
        if wait_for(10, || a.said("ready")).is_none() {
            failures.push(format!(
                "{name}: attacker {} did not start: {}",
                a.role.name(),
                std::fs::read_to_string(&a.err).unwrap_or_default()
            ));
        }
    }
    if !failures.is_empty() {
        stop(&ct, &mut attackers);
        return failures;
    }

    // The controls: decoys with each attacker's own credentials, and the
    // hole's.
    let mut decoys = Vec::new();
    for (r, secret) in decoy_secrets {
        let a = attackers.iter().find(|a| a.role == r).unwrap();
        let on_host = |key| {
            a.said(key)
                .and_then(|p| a.host_pid(p))
                .unwrap_or_else(|| panic!("{name}: no host PID for {} {key}", r.name()))
        };
        let creds = match r {
            Role::Setuid => format!("userns={},uid=1234,gid=1234,caps=c0", ct.pid),
            Role::Owner => format!("userns={},uid=0,gid=0,caps=all", on_host("pawn")),
            _ => format!("like={}", on_host("ready")),
        };
        let dname = format!("decoy-{}", r.name());
        decoys.push(start_decoy(
            &name,
            &ct,
            &scratch,
            &dname,
            &creds,
            secret,
            vec![r],
        ));
    }
    if let Some((n, creds, expect, secret)) = hole {
        decoys.push(start_decoy(&name, &ct, &scratch, n, creds, secret, expect));
    }

    // Set-up: sessions stopped at each pause point until every attacker
    // has been at them, then short sessions while the attackers run.
    let tpid = target.to_string();
    let short = scratch.bin("door-sess");
    let mut warned = String::new();
    for point in PAUSE_POINTS {
        let mut c = command(&cell.attach(&scratch, &tpid, &[&short, "0"]));
        c.env("CNTR_TEST_PAUSE", point)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let child = c.spawn().unwrap();
        let stopped = wait_for(10, || {
            descendants(child.id() as i32)
                .into_iter()
                .find(|&p| proc_state(p) == Some('T') && nspids(p).len() > 1)
        });
        match stopped.and_then(nspid) {
            Some(inner) => {
                let tried = format!("# tried {inner} cntr");
                if wait_for(10, || {
                    attackers
                        .iter()
                        .all(|a| a.report().contains(&tried))
                        .then_some(())
                })
                .is_none()
                {
                    failures.push(format!(
                        "{name}: not every attacker tried cntr stopped at {point}"
                    ));
                }
            }
            None => failures.push(format!("{name}: attach did not stop at {point}")),
        }
        let r = resume(child);
        if r.code != 0 {
            failures.push(format!(
                "{name}: the attach paused at {point} failed: {}",
                r.stderr
            ));
        }
        warned.push_str(&r.stderr);
    }
    for _ in 0..10 {
        let r = run(&cell.attach(&scratch, &tpid, &[&short, "0"]));
        if r.code != 0 {
            failures.push(format!("{name}: a short attach failed: {}", r.stderr));
            break;
        }
        warned.push_str(&r.stderr);
    }

    // The session, holding its secrets every way it can.
    let errfile = scratch.session_err();
    let (mut session, sleeper) = scratch.hold_session(
        &cell.attach(&scratch, &tpid, &[]),
        root_secret.path.to_str().unwrap(),
        &session_secret,
    );
    let inner = sleeper.and_then(nspid);
    if let (true, Some(p)) = (cell.tools, sleeper) {
        // The session's root is the tools overlay, not the host's.
        let mi = std::fs::read_to_string(format!("/proc/{p}/mountinfo")).unwrap_or_default();
        let root = mi.lines().find(|l| l.split(' ').nth(4) == Some("/"));
        if !root.is_some_and(|l| l.contains(" - overlay ")) {
            failures.push(format!(
                "{name}: the session's root is not the tools tree: {root:?}"
            ));
        }
    }
    if let Some(inner) = inner {
        // Until every attacker has been at the session and every
        // control has got through (or 10 s).
        let tried = format!("# tried {inner} door-sess");
        wait_for(10, || {
            let all_tried = attackers.iter().all(|a| a.report().contains(&tried));
            let all_in = decoys.iter().all(|d| {
                d.expect.iter().all(|&r| {
                    attackers
                        .iter()
                        .filter(|a| a.role == r)
                        .all(|a| a.report().contains(&d.secret.content))
                })
            });
            (all_tried && all_in).then_some(())
        });
        // A few more rounds at the running session.
        std::thread::sleep(Duration::from_millis(100));
        for a in &attackers {
            if !a.report().contains(&tried) {
                failures.push(format!(
                    "{name}: attacker {} never tried the session ({inner})",
                    a.role.name()
                ));
            }
        }
    } else {
        failures.push(format!(
            "{name}: the session did not start: {}",
            std::fs::read_to_string(&errfile).unwrap_or_default()
        ));
    }
    stop(&ct, &mut attackers);
    end(&mut session, sleeper);
    for d in &mut decoys {
        end(&mut d.child, Some(d.pid));
    }
    let session_err = std::fs::read_to_string(&errfile).unwrap_or_default();
    warned.push_str(&session_err);
    if inner.is_some() && !session_err.contains(&format!("held {}", session_secret.path)) {
        failures.push(format!(
            "{name}: the session could not hold its secret: {session_err}"
        ));
    }
    if warned.contains("warning") {
        failures.push(format!("{name}: attach warned: {warned}"));
    }

    let secrets = [&root_secret.content, &session_secret.content];
    for a in &mut attackers {
        let role = a.role.name();
        let err = std::fs::read_to_string(&a.err).unwrap_or_default();
        let status = a.child.try_wait().ok().flatten();
        if !err.trim().is_empty() || !status.is_some_and(|s| s.success()) {
            failures.push(format!(
                "{name}: attacker {role} failed ({status:?}): {err}"
            ));
        }
    }
    for a in &attackers {
        let report = a.report();
        let role = a.role.name();
        let through: Vec<&str> = report.lines().filter(|l| is_session(l)).collect();
        if !through.is_empty() {
            failures.push(format!(
                "{name}: attacker {role} got into the session or cntr:\n    {}",
                through.join("\n    ")
            ));
        }
        // A decoy's root is the host's `/` too: what an attacker reads
        // through it is the decoy's door (the decoy is `hostile` until it
        // execs its program), and another attacker may take it from that
        // one's fds in the instant it holds it. Whatever came through the
        // session names the session first.
        let elsewhere = |n: &str| is_decoy(n) || n == "hostile";
        let leaked: Vec<&str> = report
            .lines()
            .filter(|l| secrets.iter().any(|s| l.contains(s.as_str())))
            .filter(|l| !victim(l).is_some_and(|(b, a)| elsewhere(b) || elsewhere(a)))
            .collect();
        if !leaked.is_empty() {
            failures.push(format!(
                "{name}: attacker {role} read the session's secrets:\n    {}",
                leaked.join("\n    ")
            ));
        }
    }
    for d in &decoys {
        for &r in &d.expect {
            let a = attackers.iter().find(|a| a.role == r).unwrap();
            let got = a.report().lines().any(|l| {
                l.contains(&d.secret.content) && victim(l).is_some_and(|(_, a)| a == d.name)
            });
            if !got {
                failures.push(format!(
                    "{name}: control failed: attacker {} did not read the secret of {}:\n{}",
                    r.name(),
                    d.name,
                    a.report()
                ));
            }
        }
    }
    drop(ct);
    failures
}

/// Ends `child` by killing its descendant `inner`, which lives in the
/// container's PID namespace, so that its parent (outside) reaps it:
/// reparented, it would wait for the host's init to reap it, and the
/// container's init cannot finish exiting until then.
fn end(child: &mut Child, inner: Option<i32>) {
    match inner.and_then(rustix::process::Pid::from_raw) {
        Some(p) => {
            let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
        }
        None => {
            let _ = child.kill();
        }
    }
    let _ = child.wait();
}

/// Tells the attackers to stop (a file in the container's root) and
/// waits for them; kills those that do not stop.
fn stop(ct: &Container, attackers: &mut [Attacker]) {
    let flag = ct.private.as_ref().unwrap().join("run/hostile-stop");
    std::fs::write(&flag, "").unwrap();
    for a in attackers.iter_mut() {
        if wait_for(10, || a.child.try_wait().unwrap()).is_none() {
            let _ = a.child.kill();
            let _ = a.child.wait();
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&a.err)
                .unwrap();
            let _ = std::io::Write::write_all(&mut f, b"did not stop within 10 s\n");
        }
    }
}

fn run_cells(layout: Layout) {
    let start = std::time::Instant::now();
    let mut failures = Vec::new();
    for target in [Target::Root, Target::UserBesideRoot, Target::UserAlone] {
        failures.extend(run_cell(&Cell {
            layout,
            target,
            user: None,
            tools: false,
        }));
    }
    println!("{layout:?}: {:.1} s", start.elapsed().as_secs_f64());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn no_door_in_a_container_of_the_hosts_user_namespace() {
    run_cells(Layout::HostUserns);
}

#[test]
fn no_door_in_a_container_with_its_own_user_namespace() {
    run_cells(Layout::OwnUserns);
}

#[test]
fn no_door_for_a_target_in_a_nested_user_namespace() {
    run_cells(Layout::Nested);
}

/// `attach -u USER`: a session that runs as a user of the container other
/// than the target follows the same rule (its ids as the host sees them,
/// CAP_SYS_PTRACE added), and is no door either: as `nobody` beside a
/// docker-like root, and as `app` in a user-namespaced container.
#[test]
fn no_door_for_a_session_run_as_another_user() {
    let mut failures = Vec::new();
    for (layout, user) in [
        (Layout::HostUserns, ("nobody", 65534)),
        (Layout::OwnUserns, ("app", 1000)),
    ] {
        failures.extend(run_cell(&Cell {
            layout,
            target: Target::Root,
            user: Some(user),
            tools: false,
        }));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `attach --tools DIR`: a session whose root is a tools tree holds the
/// same credentials as any attach session, and is no door either; its
/// secrets are the tools tree's copies (the host's files are not in its
/// mount namespace at all).
#[test]
fn no_door_for_a_tools_session() {
    let mut failures = Vec::new();
    for (layout, target) in [
        (Layout::HostUserns, Target::Root),
        (Layout::HostUserns, Target::UserBesideRoot),
        (Layout::OwnUserns, Target::Root),
    ] {
        failures.extend(run_cell(&Cell {
            layout,
            target,
            user: None,
            tools: true,
        }));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The control: a container holding CAP_SYS_PTRACE gets through, and
/// attach warns before starting. This shows the attack above is real.
#[test]
fn a_container_with_cap_sys_ptrace_gets_through_and_is_warned_of() {
    let name = "Full/Root (the CAP_SYS_PTRACE control)";
    let ct = Container::start_private(Variant::Full, |_| {}, &[], &["sleep", "1000001"]);
    let scratch = Scratch::new();
    let secret = Secret::new();
    let own = scratch.plant("session", 0);
    let mut attackers = vec![start_attacker(
        &ct,
        &scratch,
        Role::Asis,
        &[secret.path.to_str().unwrap(), &own.path],
    )];
    assert!(
        wait_for(10, || attackers[0].said("ready")).is_some(),
        "{name}: the attacker did not start"
    );
    let errfile = scratch.session_err();
    let pid = ct.pid.to_string();
    let (mut session, sleeper) =
        scratch.hold_session(&["attach", &pid, "--"], secret.path.to_str().unwrap(), &own);
    let read = |r: &str| {
        r.lines()
            .any(|l| l.contains(&secret.content) && is_session(l))
    };
    let seized = |r: &str| r.lines().any(|l| l.starts_with("seized ") && is_session(l));
    wait_for(10, || {
        let r = attackers[0].report();
        (read(&r) && seized(&r)).then_some(())
    });
    stop(&ct, &mut attackers);
    end(&mut session, sleeper);
    let report = attackers[0].report();
    let err = std::fs::read_to_string(&errfile).unwrap();
    assert!(
        read(&report),
        "{name}: the attacker read no secret through the session: {report} {err}"
    );
    assert!(
        seized(&report),
        "{name}: the attacker did not seize the session: {report}"
    );
    assert!(
        err.contains("warning") && err.contains("CAP_SYS_PTRACE"),
        "{name}: attach did not warn: {err}"
    );
}
