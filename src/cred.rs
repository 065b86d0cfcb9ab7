//! Credentials: taking on the target's groups, gid, uid, capability sets,
//! no_new_privs and LSM label, and choosing the attach session's
//! credentials so that the session is not a door into the host.
//!
//! # The door
//!
//! A session process lives in the container's PID namespace but its root
//! is the host's `/`. The kernel lets another process open
//! `/proc/<session>/root`, `cwd` and `fd/*` when ptrace access passes
//! (`__ptrace_may_access`, `cap_ptrace_access_check`): same uid and gid and
//! a permitted set that is a subset of the caller's effective set, in the
//! same user namespace; or CAP_SYS_PTRACE over the session's user
//! namespace. A session with exactly the target's credentials would pass
//! for every process of the container. So a host-rooted session gets:
//!
//! - **root target, host user namespace**: the target's credentials plus
//!   CAP_SYS_PTRACE in its bounding, permitted and effective sets, when the
//!   target's bounding set lacks it. No process of the container can then
//!   hold a superset of the session's permitted set, and none holds
//!   CAP_SYS_PTRACE. The extra capability also lets the session trace any
//!   container process, which is what one attaches for.
//! - **non-root target, host user namespace**: the target's credentials in
//!   a user namespace of the session's own, created by root (its owner) and
//!   mapping every id to itself. A non-root container process has no
//!   capability over it. Every id is mapped, so host setuid binaries work
//!   as on the host. The limit: a *root* process of the same container
//!   owns that namespace (see cntr(1), SECURITY).
//! - **target in a user namespace of its own**: the session stays in the
//!   host's user namespace, which no container process can hold a
//!   capability over. A target that is root in its namespace gives a root
//!   session with the target's capability sets; any other target keeps
//!   its host-side uid and gid.
//!
//! When the container holds CAP_SYS_PTRACE over the session (its bounding
//! set has it, in the host's user namespace), nothing can shut the door and
//! a warning says so.

use crate::error::{warn, Context, Error, Result};
use crate::handoff::Handoff;
use crate::proc::{Process, Status};
use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::{Mode, OFlags};
use rustix::thread::{CapabilitySet, CapabilitySets};

const CAP_SYS_PTRACE: u32 = 19;

/// How the session's user namespace and capabilities are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Exactly the target's credentials (container-rooted command).
    Exact,
    /// The target's credentials plus CAP_SYS_PTRACE.
    KeepPtrace,
    /// The target's credentials in a user namespace of the session's own.
    OwnUserNs,
    /// Host user namespace; root session for a root-in-its-namespace target.
    HostUserNs,
}

/// Chooses the policy (see the module documentation).
pub fn policy(st: &Status, host_rooted: bool, same_userns: bool) -> Policy {
    let ptrace = 1u64 << CAP_SYS_PTRACE;
    match (host_rooted, same_userns) {
        (false, _) => Policy::Exact,
        (true, false) => Policy::HostUserNs,
        (true, true) if st.uid[1] != 0 => Policy::OwnUserNs,
        (true, true) if st.cap_bnd & ptrace == 0 => Policy::KeepPtrace,
        (true, true) => Policy::Exact,
    }
}

/// Whether processes of the container can reach into a host-rooted
/// session whatever cntr does.
pub fn container_can_trace(st: &Status, same_userns: bool) -> bool {
    same_userns && st.cap_bnd & (1 << CAP_SYS_PTRACE) != 0
}

/// The credentials the session takes on.
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

/// The credentials for `policy`. `inside_root` tells, for a target in a
/// user namespace of its own, whether it is root there.
pub fn creds(st: &Status, policy: Policy, inside_root: bool) -> Creds {
    let mut c = Creds {
        uid: [st.uid[0], st.uid[1], st.uid[2]],
        gid: [st.gid[0], st.gid[1], st.gid[2]],
        groups: st.groups.clone(),
        inh: st.cap_inh,
        prm: st.cap_prm,
        eff: st.cap_eff,
        bnd: st.cap_bnd,
        amb: st.cap_amb,
        no_new_privs: st.no_new_privs,
    };
    match policy {
        Policy::KeepPtrace => {
            let p = 1u64 << CAP_SYS_PTRACE;
            c.bnd |= p;
            c.prm |= p;
            c.eff |= p;
        }
        Policy::HostUserNs if inside_root => {
            c.uid = [0; 3];
            c.gid = [0; 3];
            c.groups = Vec::new();
        }
        _ => {}
    }
    c
}

/// Whether the target is root inside its own user namespace: its euid,
/// seen through the target's `uid_map`, is 0.
pub fn inside_root(target: &Process, st: &Status) -> Result<bool> {
    let map = target.read("uid_map", 64 * 1024)?;
    for line in map.split(|&c| c == b'\n') {
        let f: Vec<u64> = line
            .split(|c| c.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
            .filter_map(|w| std::str::from_utf8(w).ok()?.parse().ok())
            .collect();
        if let [inside, outside, count] = f[..] {
            let euid = u64::from(st.uid[1]);
            if euid >= outside && euid < outside + count {
                return Ok(inside + (euid - outside) == 0);
            }
        }
    }
    Ok(false)
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
                Ok(()) | Err(rustix::io::Errno::INVAL) => {}
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
    let gid = |i: usize| rustix::process::Gid::from_raw(c.gid[i]);
    rustix::thread::set_thread_res_gid(gid(0), gid(1), gid(2))
        .ctx(format_args!("set gid {}", c.gid[1]))?;
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
    for cap in 0..64u32 {
        if c.amb & own & (1 << cap) != 0 {
            rustix::thread::configure_capability_in_ambient_set(
                CapabilitySet::from_bits_retain(1 << cap),
                true,
            )
            .ctx("raise ambient capabilities")?;
        }
    }
    if c.no_new_privs {
        rustix::thread::set_no_new_privs(true).ctx("set no_new_privs")?;
    }
    Ok(())
}

/// Moves the calling process into a new user namespace that maps every
/// uid and gid to itself, owned by root.
///
/// The maps must be written by a process that holds CAP_SETUID and
/// CAP_SETGID over the *parent* namespace, which the caller gives up by
/// entering the new one; so a short-lived child, still in the parent
/// namespace, writes them through the host's procfs:
///
/// 1. note our PID as the host's procfs sees it;
/// 2. fork the helper, which waits on a pipe;
/// 3. unshare(CLONE_NEWUSER) and wake the helper;
/// 4. the helper writes `uid_map` and `gid_map` of our host PID and exits;
/// 5. we reap it and check that it succeeded.
pub fn enter_own_userns(hostproc: BorrowedFd<'_>) -> Result<()> {
    let me = rustix::fs::readlinkat(hostproc, "self", Vec::new()).ctx("read /proc/self")?;
    let me = me.to_string_lossy().into_owned();
    let (rd, wr) =
        rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).ctx("create a pipe")?;
    let helper = match crate::sys::fork().ctx("fork")? {
        crate::sys::Fork::Child => {
            drop(wr);
            let mut b = [0u8; 1];
            let ok =
                matches!(rustix::io::read(&rd, &mut b), Ok(1)) && write_maps(hostproc, &me).is_ok();
            // Leave at once: no destructor, no buffer of the parent's may
            // run twice.
            crate::sys::exit_now(if ok { 0 } else { 1 });
        }
        crate::sys::Fork::Parent(pid) => pid,
    };
    drop(rd);
    // SAFETY: cntr is single-threaded, so no other thread's view of the
    // process can be affected.
    let unshared = unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWUSER) };
    let _ = rustix::io::write(&wr, b"x");
    drop(wr);
    let status = rustix::process::waitpid(
        rustix::process::Pid::from_raw(helper),
        rustix::process::WaitOptions::empty(),
    )
    .ctx("wait for the user namespace helper")?;
    unshared.ctx("create a user namespace")?;
    match status {
        Some((_, st)) if st.exit_status() == Some(0) => Ok(()),
        _ => Err(Error::new(
            "unable to write the maps of the session's user namespace",
        )),
    }
}

fn write_maps(hostproc: BorrowedFd<'_>, pid: &str) -> rustix::io::Result<()> {
    for file in ["uid_map", "gid_map"] {
        let fd = rustix::fs::openat(
            hostproc,
            format!("{pid}/{file}"),
            OFlags::WRONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        rustix::io::write(&fd, b"0 0 4294967295\n")?;
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

/// Everything `cntr-inherit` does to credentials, in order. Returns the
/// policy that was applied.
pub fn inherit(h: &Handoff, host_rooted: bool, lsm: bool) -> Result<Policy> {
    let target = &h.target;
    let st = target.status()?;
    let same_userns = !crate::ns::differs(h, &crate::ns::KINDS[6])?;
    let policy = policy(&st, host_rooted, same_userns);
    if host_rooted && container_can_trace(&st, same_userns) {
        warn(format_args!(
            "process {} holds CAP_SYS_PTRACE: processes of its container can read the host's files through this session",
            target.pid
        ));
    }
    let label = if lsm { lsm_label(target)? } else { None };
    let inside = policy == Policy::HostUserNs && inside_root(target, &st)?;
    crate::cgroup::join(&h.cgroups)?;
    if policy == Policy::OwnUserNs {
        enter_own_userns(h.hostproc.as_fd())?;
    }
    apply(&creds(&st, policy, inside))?;
    if let Some(label) = label {
        set_exec_label(h.hostproc.as_fd(), &label)?;
    }
    Ok(policy)
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

    #[test]
    fn policies() {
        let docker = 0xa80425fb;
        assert_eq!(policy(&st(0, docker), false, true), Policy::Exact);
        assert_eq!(policy(&st(0, docker), true, true), Policy::KeepPtrace);
        assert_eq!(policy(&st(0, !0 >> 23), true, true), Policy::Exact);
        assert!(container_can_trace(&st(0, !0 >> 23), true));
        assert_eq!(policy(&st(1000, docker), true, true), Policy::OwnUserNs);
        assert_eq!(
            policy(&st(100000, !0 >> 23), true, false),
            Policy::HostUserNs
        );
        assert!(!container_can_trace(&st(100000, !0 >> 23), false));
    }

    #[test]
    fn keep_ptrace_adds_one_cap() {
        let c = creds(&st(0, 0xa80425fb), Policy::KeepPtrace, false);
        assert_eq!(c.bnd, 0xa80425fb | 1 << 19);
        assert_eq!(c.inh, 0);
        assert_eq!(c.amb, 0);
        let c = creds(&st(100000, 0x1ff_ffff_ffff), Policy::HostUserNs, true);
        assert_eq!(c.uid, [0; 3]);
        let c = creds(&st(101000, 0), Policy::HostUserNs, false);
        assert_eq!(c.uid, [101000; 3]);
    }
}
