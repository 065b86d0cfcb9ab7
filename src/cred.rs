//! Credentials: taking on the target's groups, gid, uid, capability sets,
//! no_new_privs and LSM label; and choosing the credentials of the attach
//! session so that it is not a door into the host for any process of the
//! container.
//!
//! # The door
//!
//! A session process lives in the container's PID namespace, but its root
//! is the host's `/`. Process A may open `/proc/S/root`, `cwd` and `fd/*`
//! of session process S, take its fds with `pidfd_getfd` and ptrace it
//! when `__ptrace_may_access(A, S)` passes, which (no LSM beside
//! `capability` here) is:
//!
//! 1. A's uid and gid equal S's real, effective and saved ones (as kernel
//!    ids, whatever the user namespaces), or A has CAP_SYS_PTRACE over S's
//!    user namespace;
//! 2. and `cap_ptrace_access_check`: A and S share a user namespace and
//!    S's permitted set is a subset of A's effective set, or A has
//!    CAP_SYS_PTRACE over S's user namespace;
//! 3. and, while S is not dumpable, CAP_SYS_PTRACE over the namespace of
//!    S's memory (cntr stays non-dumpable until the command's exec).
//!
//! A has a capability over namespace N (`cap_capable`) when A lives in N
//! and holds it, or A lives in an ancestor of N and owns the child of its
//! own namespace on the way down to N. The attacker is every process of
//! the container, with every credential reachable there: root with
//! CAP_SETUID can take any uid, and any process may make a user namespace
//! below its own and hold every capability in it.
//!
//! # The rule
//!
//! The session always stays in the host's user namespace (cntr's own), as
//! the target's uid, gid and groups seen from there, with the target's
//! capability sets when the target lives in that namespace (none when it
//! lives in one below: what it holds there means nothing here), plus
//! CAP_SYS_PTRACE, in the bounding, permitted and effective sets and, for
//! a session that is not root, also the inheritable and ambient sets so
//! that the command keeps it across its exec.
//!
//! - A process in a user namespace below the host's has no capability
//!   over the host's namespace (it is no ancestor of it) and does not
//!   share it, so step 2 fails whatever its uid and capabilities: the
//!   root of a user-namespaced container, with every capability there,
//!   included.
//! - A process in the host's namespace passes step 2 only if its effective
//!   set holds all of S's permitted set, CAP_SYS_PTRACE included, and
//!   step 1 without the same ids only with CAP_SYS_PTRACE. A process can
//!   only ever hold a capability that is in its bounding, permitted,
//!   inheritable or ambient set (exec adds file capabilities only through
//!   the bounding and inheritable sets; a set never gains what none of
//!   them holds), and a child starts with its parent's sets. So when no
//!   process of the container's PID namespace living in the host's user
//!   namespace has CAP_SYS_PTRACE in any of them, none of them, nor
//!   anything they start, can ever pass: [`survey`] checks exactly that,
//!   and a warning names each process that could.
//!
//! The extra capability is also what the session needs: with it the
//! host's `strace -p` and `gdb -p` attach to the container's processes,
//! whatever their uid and user namespace.

use crate::error::{warn, Context, Error, Result};
use crate::handoff::Handoff;
use crate::pidns::Procfs;
use crate::proc::{Process, Status};
use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::{Mode, OFlags};
use rustix::thread::{CapabilitySet, CapabilitySets};

const CAP_SYS_PTRACE: u32 = 19;
const PTRACE: u64 = 1 << CAP_SYS_PTRACE;
/// The inode number of the initial user namespace, fixed by the kernel
/// (`PROC_USER_INIT_INO`).
const PROC_USER_INIT_INO: u64 = 0xEFFF_FFFD;

/// The credentials a command takes on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Creds {
    pub uid: [u32; 3],
    pub gid: [u32; 3],
    pub groups: Vec<u32>,
    pub inh: u64,
    pub prm: u64,
    pub eff: u64,
    pub bnd: u64,
    pub amb: u64,
    pub no_new_privs: bool,
}

/// Exactly the target's credentials: for a command rooted in the
/// container (`cntr exec`), which runs in the target's user namespace.
pub fn exact(st: &Status) -> Creds {
    Creds {
        uid: [st.uid[0], st.uid[1], st.uid[2]],
        gid: [st.gid[0], st.gid[1], st.gid[2]],
        groups: st.groups.clone(),
        inh: st.cap_inh,
        prm: st.cap_prm,
        eff: st.cap_eff,
        bnd: st.cap_bnd,
        amb: st.cap_amb,
        no_new_privs: st.no_new_privs,
    }
}

/// The credentials of a session rooted in the host (`cntr attach`), in the
/// host's user namespace (see the module documentation). `st` is the
/// target's status as the host reads it; `host_userns` tells whether the
/// target lives in the host's user namespace.
pub fn session(st: &Status, host_userns: bool) -> Creds {
    let mut c = exact(st);
    if !host_userns {
        // Capabilities of a namespace below ours: nothing here.
        (c.inh, c.prm, c.eff, c.bnd, c.amb) = (0, 0, 0, 0, 0);
    }
    c.bnd |= PTRACE;
    c.prm |= PTRACE;
    c.eff |= PTRACE;
    // A uid-0 exec gives the bounding set as the permitted set; any other
    // keeps only the ambient set.
    if c.uid[0] != 0 || c.uid[1] != 0 {
        c.inh |= PTRACE;
        c.amb |= PTRACE;
    }
    c
}

/// The target's status as it would be for `user` (`-u USER`), by the
/// rule `docker exec -u` follows (moby's `oci.SetCapabilities`): the
/// target's bounding set is kept; root gets it as its permitted and
/// effective sets, any other user no capability at all, as execve(2) would
/// give it; inheritable and ambient sets are empty; no_new_privs is the
/// target's. The ids are `user`'s, in the namespace they were named in.
pub fn as_user(st: &Status, user: &crate::passwd::User) -> Status {
    let caps = if user.uid == 0 { st.cap_bnd } else { 0 };
    Status {
        uid: [user.uid; 4],
        gid: [user.gid; 4],
        groups: user.groups.clone(),
        cap_inh: 0,
        cap_prm: caps,
        cap_eff: caps,
        cap_amb: 0,
        ..st.clone()
    }
}

/// Maps `id` of the target's user namespace to the host's, through one of
/// its `uid_map` or `gid_map` files as the host reads it (`INSIDE OUTSIDE
/// COUNT` per line); `None` when it is not mapped.
pub fn map_id(map: &[u8], id: u32) -> Option<u32> {
    for line in map.split(|&c| c == b'\n') {
        let f: Vec<u64> = line
            .split(u8::is_ascii_whitespace)
            .filter(|w| !w.is_empty())
            .map(|w| std::str::from_utf8(w).ok()?.parse().ok())
            .collect::<Option<_>>()?;
        if let [inside, outside, count] = f[..] {
            let id = u64::from(id);
            if id >= inside && id - inside < count {
                return u32::try_from(outside + (id - inside)).ok();
            }
        }
    }
    None
}

/// `user`, named in the target's user namespace, with its ids as the host
/// sees them: what a session in the host's user namespace takes on.
pub fn user_on_host(target: &Process, user: &crate::passwd::User) -> Result<crate::passwd::User> {
    let uids = target.read("uid_map", 64 * 1024)?;
    let gids = target.read("gid_map", 64 * 1024)?;
    let unmapped = |what: &str, id: u32| {
        Error::new(format!(
            "{what} {id} of the container is not mapped on the host"
        ))
    };
    let gid = |g: u32| map_id(&gids, g).ok_or_else(|| unmapped("gid", g));
    Ok(crate::passwd::User {
        uid: map_id(&uids, user.uid).ok_or_else(|| unmapped("uid", user.uid))?,
        gid: gid(user.gid)?,
        groups: user.groups.iter().map(|&g| gid(g)).collect::<Result<_>>()?,
        home: user.home.clone(),
    })
}

/// A process of the container that can hold CAP_SYS_PTRACE over the
/// host's user namespace, and so reach into any attach session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracer {
    /// Its PID and thread ID in the container's PID namespace.
    pub pid: i32,
    pub tid: i32,
    pub comm: String,
}

/// What [`survey`] found: how many tasks the container's PID namespace
/// holds, and which of them could reach a session.
#[derive(Debug, Default)]
pub struct Survey {
    pub tasks: usize,
    pub tracers: Vec<Tracer>,
}

/// Checks every task (thread) of the target's PID namespace and the
/// namespaces below it for what could pass the ptrace access check against
/// a session of [`session`]'s credentials: CAP_SYS_PTRACE in any of its
/// capability sets while it lives in the host's user namespace, or a user
/// namespace that is not the host's nor below it (possible only when cntr
/// itself runs in a user namespace that is not the initial one).
///
/// Not counted: cntr's own processes (they run the same binary, and are
/// non-dumpable until they exec) and processes whose root is the host's
/// `/` (other attach sessions, `nsenter` without a mount namespace): they
/// run the host's programs, not the container's.
///
/// The procfs is `/proc` when it already shows the target's PID namespace
/// (the attach session's, after `cntr-mount-tree`), else a new one; a
/// procfs with something mounted over a file of a process is not trusted,
/// and a new one is made.
pub fn survey(target: &Process, hostproc: BorrowedFd<'_>) -> Result<Survey> {
    let procfs = Procfs::of(target, hostproc)?;
    match survey_in(&procfs, hostproc) {
        Err(rustix::io::Errno::XDEV) => {}
        r => return r.map_err(|e| Error::sys("list the processes of the container", e)),
    }
    let procfs = Procfs::fresh(target, hostproc)?;
    survey_in(&procfs, hostproc).map_err(|e| Error::sys("list the processes of the container", e))
}

fn survey_in(
    procfs: &Procfs,
    hostproc: BorrowedFd<'_>,
) -> std::result::Result<Survey, rustix::io::Errno> {
    let host = crate::pidns::ns_inode(hostproc, "thread-self/ns/user")
        .map_err(|_| rustix::io::Errno::INVAL)?;
    let tasks = procfs.tasks()?;
    let mut s = Survey {
        tasks: tasks.len(),
        tracers: Vec::new(),
    };
    // When the host's namespace is not the initial one and has a parent
    // that cntr can see, a task may live in a namespace that is not below
    // it, whatever it holds.
    let nested_host = host != PROC_USER_INIT_INO && has_parent(hostproc);
    let mut ours = None;
    for t in tasks {
        let st = &t.status;
        let sets = st.cap_bnd | st.cap_prm | st.cap_inh | st.cap_amb | st.cap_eff;
        if sets & PTRACE == 0 && !nested_host {
            continue;
        }
        let userns = match procfs.userns(t.pid, t.tid) {
            Ok(ns) => Some(ns),
            Err(rustix::io::Errno::NOENT | rustix::io::Errno::SRCH) => continue,
            // A task that exits between its status and this gets EACCES
            // (its namespaces are gone first). One that is still there and
            // cannot be read is taken to reach the session.
            Err(_) if procfs.task_gone(t.pid, t.tid) => continue,
            Err(_) => None,
        };
        let reaches = if userns.is_none() {
            true
        } else if userns == Some(host) {
            sets & PTRACE != 0
        } else {
            nested_host && !below(procfs, &t, host)
        };
        if reaches
            && !ours
                .get_or_insert_with(|| Ours::read(hostproc))
                .runs(procfs, t.pid)
        {
            s.tracers.push(Tracer {
                pid: t.pid,
                tid: t.tid,
                comm: procfs.comm(t.pid),
            });
        }
    }
    Ok(s)
}

/// cntr's own binary and root, to tell its processes and host-rooted
/// sessions from the container's.
struct Ours {
    exe: Option<(u64, u64)>,
    root: Option<(u64, u64)>,
}

impl Ours {
    fn read(hostproc: BorrowedFd<'_>) -> Ours {
        let id = |p: &str| {
            rustix::fs::statat(hostproc, p, rustix::fs::AtFlags::empty())
                .ok()
                .map(|st| (st.st_dev, st.st_ino))
        };
        Ours {
            exe: id("self/exe"),
            root: id("self/root"),
        }
    }

    fn runs(&self, procfs: &Procfs, pid: i32) -> bool {
        let same = |a: Option<(u64, u64)>, b| a.is_some() && a == b;
        same(self.exe, procfs.follow(pid, "exe")) || same(self.root, procfs.follow(pid, "root"))
    }
}

/// Whether the user namespace with inode `host` has a parent in sight.
fn has_parent(hostproc: BorrowedFd<'_>) -> bool {
    rustix::fs::openat(
        hostproc,
        "thread-self/ns/user",
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .is_ok_and(|fd| crate::pidns::userns_parent(fd.as_fd()).is_ok())
}

/// Whether task `t` lives in a user namespace below the one with inode
/// `host`: its namespace's ancestors, walked up with `NS_GET_PARENT`,
/// include it.
fn below(procfs: &Procfs, t: &crate::pidns::Task, host: u64) -> bool {
    let Ok(mut ns) = rustix::fs::openat(
        procfs.fd(),
        format!("{}/task/{}/ns/user", t.pid, t.tid),
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return false;
    };
    // User namespaces nest at most 32 deep.
    for _ in 0..33 {
        match crate::pidns::userns_parent(ns.as_fd()) {
            Ok(parent) => {
                if rustix::fs::fstat(&parent).is_ok_and(|st| st.st_ino == host) {
                    return true;
                }
                ns = parent;
            }
            Err(_) => return false,
        }
    }
    false
}

/// Prints one warning per process of the survey that can reach the
/// session (four at most, then how many more).
pub fn warn_tracers(s: &Survey) {
    for t in s.tracers.iter().take(4) {
        let thread = if t.tid != t.pid {
            format!(" thread {}", t.tid)
        } else {
            String::new()
        };
        warn(format_args!(
            "process {} ({}){thread} of the container can hold CAP_SYS_PTRACE in the host's user namespace: processes of the container can read the host's files through this session",
            t.pid, t.comm
        ));
    }
    if s.tracers.len() > 4 {
        warn(format_args!(
            "{} more processes of the container can hold CAP_SYS_PTRACE",
            s.tracers.len() - 4
        ));
    }
}

/// Makes the process non-dumpable again. The kernel resets dumpability to
/// `fs.suid_dumpable` whenever a uid, gid or capability change commits
/// (`commit_creds`), which may be 1 on a host that set it so: every step
/// of [`apply`] is followed by this, until the command's exec.
fn nondumpable() -> Result<()> {
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .ctx("make the process non-dumpable")
}

/// Takes on `c`, in the order the kernel allows it: bounding set while
/// CAP_SETPCAP is still there, groups and gids while CAP_SETGID is, the
/// uids with PR_SET_KEEPCAPS so the capability sets survive, then the sets
/// themselves, the ambient set, and no_new_privs last.
pub fn apply(c: &Creds) -> Result<()> {
    for cap in 0..64u32 {
        if c.bnd & (1 << cap) == 0 {
            match rustix::thread::remove_capability_from_bounding_set(
                CapabilitySet::from_bits_retain(1 << cap),
            ) {
                Ok(()) => {}
                // Past the kernel's last capability (they are numbered
                // without gaps): none of the rest exists either.
                Err(rustix::io::Errno::INVAL) => break,
                Err(e) => return Err(Error::sys("drop capabilities from the bounding set", e)),
            }
        }
    }
    let groups: Vec<rustix::process::Gid> = c
        .groups
        .iter()
        .map(|&g| rustix::process::Gid::from_raw(g))
        .collect();
    if let Err(e) = rustix::thread::set_thread_groups(&groups) {
        // A user namespace with setgroups denied: fine if nothing changes.
        let now: Vec<u32> = rustix::process::getgroups()
            .unwrap_or_default()
            .iter()
            .map(|g| g.as_raw())
            .collect();
        if now != c.groups {
            return Err(Error::sys("set supplementary groups", e));
        }
    }
    nondumpable()?;
    let gid = |i: usize| rustix::process::Gid::from_raw(c.gid[i]);
    rustix::thread::set_thread_res_gid(gid(0), gid(1), gid(2))
        .ctx(format_args!("set gid {}", c.gid[1]))?;
    nondumpable()?;
    // What cntr itself lacks it cannot give (a user namespace's root holds
    // capabilities there that the host's root may not have).
    let own = rustix::thread::capabilities(None)
        .ctx("read capabilities")?
        .permitted
        .bits();
    rustix::thread::set_keep_capabilities(true).ctx("keep capabilities")?;
    let uid = |i: usize| rustix::process::Uid::from_raw(c.uid[i]);
    rustix::thread::set_thread_res_uid(uid(0), uid(1), uid(2))
        .ctx(format_args!("set uid {}", c.uid[1]))?;
    nondumpable()?;
    rustix::thread::set_keep_capabilities(false).ctx("reset keep-capabilities")?;
    rustix::thread::set_capabilities(
        None,
        CapabilitySets {
            effective: CapabilitySet::from_bits_retain(c.eff & own),
            permitted: CapabilitySet::from_bits_retain(c.prm & own),
            inheritable: CapabilitySet::from_bits_retain(c.inh & own),
        },
    )
    .ctx("set capabilities")?;
    nondumpable()?;
    for cap in 0..64u32 {
        if c.amb & own & (1 << cap) != 0 {
            rustix::thread::configure_capability_in_ambient_set(
                CapabilitySet::from_bits_retain(1 << cap),
                true,
            )
            .ctx("raise ambient capabilities")?;
        }
    }
    nondumpable()?;
    if c.no_new_privs {
        rustix::thread::set_no_new_privs(true).ctx("set no_new_privs")?;
    }
    Ok(())
}

/// The target's LSM label, if it has one other than "unconfined".
pub fn lsm_label(target: &Process) -> Result<Option<Vec<u8>>> {
    let raw = match crate::proc::read(target.dir.as_fd(), "attr/current", 4096) {
        Ok(raw) => raw,
        // No LSM that keeps a task label.
        Err(_) => return Ok(None),
    };
    let label: Vec<u8> = raw
        .into_iter()
        .take_while(|&c| c != 0 && c != b'\n')
        .collect();
    Ok((!label.is_empty() && label != b"unconfined" && label != b"kernel").then_some(label))
}

/// Asks the LSM to put the next exec under `label`, through the host's
/// procfs (never the container's, whose `/proc` the container controls).
/// AppArmor takes `exec PROFILE` and shows labels as `PROFILE (mode)`;
/// SELinux takes the context as it is.
pub fn set_exec_label(hostproc: BorrowedFd<'_>, label: &[u8]) -> Result<()> {
    let apparmor = rustix::fs::openat(
        hostproc,
        "thread-self/attr/apparmor/exec",
        OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::empty(),
    );
    let (fd, value) = match apparmor {
        Ok(fd) => {
            let name = match memchr::memmem::find(label, b" (") {
                Some(i) => &label[..i],
                None => label,
            };
            let mut v = b"exec ".to_vec();
            v.extend_from_slice(name);
            (fd, v)
        }
        Err(_) => (
            rustix::fs::openat(
                hostproc,
                "thread-self/attr/exec",
                OFlags::WRONLY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .ctx("open /proc/thread-self/attr/exec")?,
            label.to_vec(),
        ),
    };
    rustix::io::write(&fd, &value).ctx(format_args!(
        "set the LSM label {}",
        String::from_utf8_lossy(label)
    ))?;
    Ok(())
}

/// The credentials `cntr-inherit` gives the command: the target's, or
/// those [`as_user`] gives `user`; exactly, for a command rooted in the
/// container; as a session, for one rooted in the host (after a survey of
/// the container, whose findings are printed as warnings).
pub fn choose(h: &Handoff, host_rooted: bool, user: Option<&crate::passwd::User>) -> Result<Creds> {
    let st = h.target.status()?;
    if !host_rooted {
        return Ok(exact(&match user {
            Some(u) => as_user(&st, u),
            None => st,
        }));
    }
    let host_userns = !crate::ns::differs(h, &crate::ns::KINDS[6])?;
    let st = match user {
        Some(u) if host_userns => as_user(&st, u),
        Some(u) => as_user(&st, &user_on_host(&h.target, u)?),
        None => st,
    };
    warn_tracers(&survey(&h.target, h.hostproc.as_fd())?);
    Ok(session(&st, host_userns))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(uid: u32, bnd: u64) -> Status {
        Status {
            uid: [uid; 4],
            gid: [uid; 4],
            cap_bnd: bnd,
            cap_prm: bnd,
            cap_eff: bnd,
            ..Status::default()
        }
    }

    const DOCKER: u64 = 0xa80425fb;

    #[test]
    fn root_in_the_host_namespace_keeps_its_sets_and_gains_ptrace() {
        let c = session(&st(0, DOCKER), true);
        assert_eq!(c.uid, [0; 3]);
        assert_eq!(
            (c.bnd, c.prm, c.eff),
            (DOCKER | PTRACE, DOCKER | PTRACE, DOCKER | PTRACE)
        );
        assert_eq!((c.inh, c.amb), (0, 0));
    }

    #[test]
    fn a_non_root_session_keeps_ptrace_through_the_ambient_set() {
        let c = session(&st(1000, 0), true);
        assert_eq!(c.uid, [1000; 3]);
        assert_eq!(
            (c.bnd, c.prm, c.eff, c.inh, c.amb),
            (PTRACE, PTRACE, PTRACE, PTRACE, PTRACE)
        );
    }

    #[test]
    fn a_target_below_the_host_namespace_brings_no_capability() {
        let c = session(&st(100000, !0 >> 23), false);
        assert_eq!(c.uid, [100000; 3]);
        assert_eq!(
            (c.bnd, c.prm, c.eff, c.inh, c.amb),
            (PTRACE, PTRACE, PTRACE, PTRACE, PTRACE)
        );
        let c = session(&st(0, !0 >> 23), false);
        assert_eq!(
            (c.bnd, c.prm, c.eff, c.inh, c.amb),
            (PTRACE, PTRACE, PTRACE, 0, 0)
        );
    }

    #[test]
    fn users_get_dockers_capabilities() {
        let u = |uid| crate::passwd::User {
            uid,
            gid: 7,
            groups: vec![8],
            home: None,
        };
        let target = st(1000, DOCKER);
        let root = as_user(&target, &u(0));
        assert_eq!(
            (root.uid, root.cap_prm, root.cap_eff),
            ([0; 4], DOCKER, DOCKER)
        );
        assert_eq!((root.cap_bnd, root.cap_inh, root.cap_amb), (DOCKER, 0, 0));
        let other = as_user(&st(0, DOCKER), &u(65534));
        assert_eq!(
            (other.cap_prm, other.cap_eff, other.cap_bnd),
            (0, 0, DOCKER)
        );
        assert_eq!((other.gid, other.groups), ([7; 4], vec![8]));
    }

    #[test]
    fn ids_map_through_the_targets_maps() {
        let map = b"         0     100000      65536\n     65536          0          1\n";
        assert_eq!(map_id(map, 0), Some(100000));
        assert_eq!(map_id(map, 1000), Some(101000));
        assert_eq!(map_id(map, 65535), Some(165535));
        assert_eq!(map_id(map, 65536), Some(0));
        assert_eq!(map_id(map, 65537), None);
        assert_eq!(map_id(b"0 0 4294967295\n", 77), Some(77));
        assert_eq!(map_id(b"garbage\n", 0), None);
    }

    #[test]
    fn exact_is_the_target() {
        let s = st(1000, DOCKER);
        let c = exact(&s);
        assert_eq!((c.bnd, c.prm, c.uid), (DOCKER, DOCKER, [1000; 3]));
    }
}
