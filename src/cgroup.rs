//! Cgroups: finding the target's cgroup in every hierarchy (v1, v2 and the
//! hybrid of both) and joining it.
//!
//! The target's `/proc/PID/cgroup` names a path per hierarchy; the host's
//! mountinfo says where each hierarchy is mounted. The files are opened on
//! the host side, before any namespace or root changes, and written last:
//! the kernel checks a migration against the credentials and cgroup
//! namespace of the *opener* (since 5.16), so the late write needs no
//! privilege the session keeps.
//!
//! Speed: moving a whole process (`cgroup.procs`) takes the global
//! `cgroup_threadgroup_rwsem` for writing, which waits for an RCU grace
//! period: 5 to 20 ms on an idle machine, per attach. Moving the calling
//! thread alone (`0` written to a v1 `tasks` file) skips that lock, and
//! cntr is single-threaded, so the thread is the process. cgroup v2 has no
//! such file for domain cgroups; there `cntr-nsenter` forks the session
//! straight into the cgroup (`clone3(CLONE_INTO_CGROUP)`; a refusal is an
//! error), and only a chain that does not fork writes `cgroup.procs`.

use crate::error::{Context, Error, Result};
use crate::mount::{parse_mountinfo, MountInfo};
use crate::proc::Process;
use rustix::fd::OwnedFd;
use rustix::fs::{Mode, OFlags, ResolveFlags};

/// One line of `/proc/PID/cgroup`: `ID:CONTROLLERS:PATH`.
#[derive(Debug, PartialEq, Eq)]
pub struct Membership {
    pub id: u32,
    /// Comma-separated controllers (`cpu,cpuacct`, `name=systemd`), empty
    /// for cgroup v2.
    pub controllers: Vec<u8>,
    pub path: Vec<u8>,
}

/// Parses `/proc/PID/cgroup`. The path is everything after the second
/// colon (it may hold colons itself). A hierarchy listed twice means the
/// file was forged through a cgroup name holding a newline: refuse it.
pub fn parse(b: &[u8]) -> Option<Vec<Membership>> {
    let mut out: Vec<Membership> = Vec::new();
    for line in b.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
        let c1 = memchr::memchr(b':', line)?;
        let c2 = c1 + 1 + memchr::memchr(b':', &line[c1 + 1..])?;
        let id = std::str::from_utf8(&line[..c1]).ok()?.parse().ok()?;
        let m = Membership {
            id,
            controllers: line[c1 + 1..c2].to_vec(),
            path: line[c2 + 1..].to_vec(),
        };
        if !m.path.starts_with(b"/")
            || out
                .iter()
                .any(|o| o.id == m.id && o.controllers == m.controllers)
        {
            return None;
        }
        out.push(m);
    }
    Some(out)
}

/// The host's mount of hierarchy `m`, if any (its index in `mounts`): for
/// v2 the `cgroup2` mount, for v1 the `cgroup` mount whose options list
/// exactly its controllers.
fn mount_of(m: &Membership, mounts: &[MountInfo]) -> Option<usize> {
    mounts.iter().position(|mi| {
        if m.controllers.is_empty() {
            mi.fstype == b"cgroup2" && m.id == 0
        } else if mi.fstype == b"cgroup" {
            let opts: Vec<&[u8]> = mi.super_options.split(|&c| c == b',').collect();
            let wanted: Vec<&[u8]> = m.controllers.split(|&c| c == b',').collect();
            wanted.iter().all(|w| opts.contains(w))
                && opts
                    .iter()
                    .filter(|o| is_controller(o))
                    .all(|o| wanted.contains(o))
                && path_under(&m.path, &mi.root).is_some()
        } else {
            false
        }
    })
}

// Options of a v1 cgroup mount that are not controller names; `name=X`
// counts as one, since /proc/PID/cgroup lists it like a controller.
fn is_controller(opt: &[u8]) -> bool {
    !matches!(
        opt,
        b"rw"
            | b"ro"
            | b"noprefix"
            | b"xattr"
            | b"clone_children"
            | b"cpuset_v2_mode"
            | b"favordynmods"
    ) && !opt.starts_with(b"release_agent=")
}

/// `path` relative to `root`, if it lies below it.
fn path_under<'a>(path: &'a [u8], root: &[u8]) -> Option<&'a [u8]> {
    if root == b"/" {
        return Some(&path[1..]);
    }
    let rest = path.strip_prefix(root)?;
    match rest.first() {
        None => Some(rest),
        Some(b'/') => Some(&rest[1..]),
        _ => None,
    }
}

/// What joining the target's cgroups takes, opened on the host side.
pub struct Joins {
    /// Write-only: `tasks` of each v1 hierarchy, `cgroup.procs` of v2.
    pub files: Vec<OwnedFd>,
    /// The target's v2 cgroup directory, for `CLONE_INTO_CGROUP`.
    pub v2_dir: Option<OwnedFd>,
}

/// The host's cgroup mounts, each with its mount point once opened: the
/// host-side half of [`open_joins`], which needs no target. Read while the
/// daemons answer (see `crate::handoff::HostSide`), it costs nothing on
/// the way.
pub struct Hierarchies {
    mounts: Vec<MountInfo>,
    bases: Vec<Option<OwnedFd>>,
}

impl Hierarchies {
    /// The `cgroup` and `cgroup2` mounts of the host's mountinfo.
    pub fn read() -> Result<Hierarchies> {
        let own = rustix::fs::open(
            "/proc/thread-self/mountinfo",
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ctx("open /proc/thread-self/mountinfo")?;
        let mounts: Vec<MountInfo> = parse_mountinfo(
            &crate::proc::read_fd(&own, 4 << 20).ctx("read /proc/thread-self/mountinfo")?,
        )
        .into_iter()
        .filter(|m| m.fstype == b"cgroup" || m.fstype == b"cgroup2")
        .collect();
        let bases = mounts.iter().map(|_| None).collect();
        Ok(Hierarchies { mounts, bases })
    }

    /// Opens ahead the mount point of every hierarchy cntr itself belongs
    /// to: every process lists the same hierarchies, so these are the
    /// target's too. Best effort: what fails here is opened, and reported,
    /// when the target needs it.
    pub fn prepare(&mut self) {
        let Ok(raw) = rustix::fs::open(
            "/proc/thread-self/cgroup",
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .and_then(|fd| crate::proc::read_fd(&fd, 64 * 1024)) else {
            return;
        };
        for m in parse(&raw).unwrap_or_default() {
            if let Some(i) = mount_of(&m, &self.mounts) {
                let _ = self.base(i);
            }
        }
    }

    /// The mount point of mount `i`, opened `O_PATH` the first time.
    fn base(&mut self, i: usize) -> Result<&OwnedFd> {
        if self.bases[i].is_none() {
            let point = &self.mounts[i].mount_point;
            let fd = rustix::fs::open(
                point.as_slice(),
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .ctx(format_args!("open {}", String::from_utf8_lossy(point)))?;
            self.bases[i] = Some(fd);
        }
        Ok(self.bases[i].as_ref().expect("opened above"))
    }
}

/// Opens, for every hierarchy the target belongs to that the host has
/// mounted, the file to write to join it, and the v2 directory.
/// Hierarchies the host does not mount are skipped: there is nothing to
/// join there.
pub fn open_joins(target: &Process, hier: &mut Hierarchies) -> Result<Joins> {
    let raw = target.read("cgroup", 64 * 1024)?;
    let list = parse(&raw)
        .ok_or_else(|| Error::new(format!("unable to parse /proc/{}/cgroup", target.pid)))?;
    let mut out = Joins {
        files: Vec::new(),
        v2_dir: None,
    };
    for m in &list {
        let Some(i) = mount_of(m, &hier.mounts) else {
            continue;
        };
        let Some(rel) = path_under(&m.path, &hier.mounts[i].root) else {
            continue;
        };
        let base = hier.base(i)?;
        let rel = if rel.is_empty() { &b"."[..] } else { rel };
        // The path comes from the target; it must stay inside this
        // hierarchy whatever it says.
        let how = ResolveFlags::BENEATH
            | ResolveFlags::NO_SYMLINKS
            | ResolveFlags::NO_XDEV
            | ResolveFlags::NO_MAGICLINKS;
        let shown = || String::from_utf8_lossy(&m.path).into_owned();
        let open = |path: &[u8], flags: OFlags| {
            rustix::fs::openat2(base, path, flags | OFlags::CLOEXEC, Mode::empty(), how)
                .map_err(|e| Error::sys(format_args!("open cgroup {}", shown()), e))
        };
        if m.controllers.is_empty() {
            // v2: the directory too, which cntr-nsenter forks into.
            let dir = open(rel, OFlags::PATH | OFlags::DIRECTORY)?;
            let fd = rustix::fs::openat(
                &dir,
                "cgroup.procs",
                OFlags::WRONLY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| Error::sys(format_args!("open cgroup {}", shown()), e))?;
            out.files.push(fd);
            out.v2_dir = Some(dir);
        } else {
            // v1: the join file alone, in one lookup below the mount.
            out.files
                .push(open(&[rel, b"/tasks"].concat(), OFlags::WRONLY)?);
        }
    }
    Ok(out)
}

const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// Whether `fd` is on a cgroup v2 filesystem.
pub fn is_v2(fd: &OwnedFd) -> bool {
    rustix::fs::fstatfs(fd).is_ok_and(|s| s.f_type == CGROUP2_SUPER_MAGIC)
}

/// Moves the calling thread (the whole of single-threaded cntr) into each
/// cgroup whose join file is given: "0" means the writer.
pub fn join(files: &[OwnedFd]) -> Result<()> {
    for fd in files {
        rustix::io::write(fd, b"0").ctx("join the target's cgroup")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_hybrid() {
        let raw = b"12:pids:/docker/abc\n3:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n0::/x:y\n";
        let l = parse(raw).unwrap();
        assert_eq!(l.len(), 4);
        assert_eq!(l[1].controllers, b"cpu,cpuacct");
        assert_eq!(l[3].id, 0);
        assert_eq!(l[3].path, b"/x:y");
        // A forged second line for the same hierarchy.
        assert!(parse(b"12:pids:/a\n12:pids:/\n").is_none());
        assert!(parse(b"12:pids:relative\n").is_none());
        assert!(parse(b"x:pids:/\n").is_none());
    }

    #[test]
    fn hierarchy_matching() {
        let mounts = parse_mountinfo(
            b"30 25 0:26 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n\
              31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n\
              32 25 0:28 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n\
              33 25 0:29 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n\
              34 25 0:30 /sub /srv/mem rw - cgroup cgroup rw,memory\n",
        );
        let m = |c: &[u8], p: &[u8]| Membership {
            id: 1,
            controllers: c.to_vec(),
            path: p.to_vec(),
        };
        let mp = |mm: &Membership| mount_of(mm, &mounts).map(|i| mounts[i].mount_point.clone());
        assert_eq!(mp(&m(b"cpu", b"/a")), Some(b"/sys/fs/cgroup/cpu".to_vec()));
        assert_eq!(
            mp(&m(b"cpu,cpuacct", b"/a")),
            Some(b"/sys/fs/cgroup/cpu,cpuacct".to_vec())
        );
        assert_eq!(
            mp(&m(b"name=systemd", b"/a")),
            Some(b"/sys/fs/cgroup/systemd".to_vec())
        );
        assert_eq!(mp(&m(b"memory", b"/sub/x")), Some(b"/srv/mem".to_vec()));
        assert_eq!(mp(&m(b"memory", b"/other")), None);
        assert_eq!(
            mp(&Membership {
                id: 0,
                controllers: vec![],
                path: b"/a".to_vec()
            }),
            Some(b"/sys/fs/cgroup/unified".to_vec())
        );
        assert_eq!(path_under(b"/sub/x", b"/sub"), Some(&b"x"[..]));
        assert_eq!(path_under(b"/subx", b"/sub"), None);
    }
}
