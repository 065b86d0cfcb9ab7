//! Processes: parsing a PID, pinning a live process with a pidfd and its
//! `/proc/PID` directory, and reading the files in that directory, which the
//! target (and so possibly a hostile container) controls. Every read is
//! bounded and parsed from bytes.

use crate::error::{Context, Error, Result};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// The `f_type` statfs(2) gives for a procfs.
pub const PROC_SUPER_MAGIC: i64 = 0x9fa0;

/// The largest PID the kernel hands out (`PID_MAX_LIMIT` on 64-bit).
const PID_MAX: u32 = 4 * 1024 * 1024;

/// Parses a PID strictly: decimal digits only, no sign, no spaces, no
/// prefix, no leading zero, 1 to 4194304. `0x10`, `+5`, ` 5` and `-1` are
/// names, not PIDs.
pub fn parse_pid(s: &OsStr) -> Option<i32> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 7 || b[0] == b'0' || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = b.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    (1..=PID_MAX).contains(&n).then_some(n as i32)
}

/// A live process, pinned: the pidfd keeps the PID from being reused for
/// as long as we hold it, and `dir` is `/proc/PID` of that very process.
pub struct Process {
    pub pid: i32,
    pub pidfd: OwnedFd,
    pub dir: OwnedFd,
}

impl Process {
    /// Pins process `pid`.
    ///
    /// 1. `pidfd_open(pid)`: from now on the PID cannot be recycled until
    ///    the process is reaped.
    /// 2. open `/proc/PID`.
    /// 3. check through the pidfd that the process has still not been
    ///    reaped. If it had been between 1 and 2, step 2 might have opened a
    ///    newcomer's directory under the same number; since it was not, the
    ///    directory is the pidfd's process.
    pub fn open(pid: i32) -> Result<Process> {
        let nopid = || Error::new(format!("no such process: {pid}"));
        let p = rustix::process::Pid::from_raw(pid).ok_or_else(nopid)?;
        let pidfd =
            rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).map_err(|e| {
                match e {
                    rustix::io::Errno::SRCH | rustix::io::Errno::INVAL => nopid(),
                    e => Error::sys(format_args!("open process {pid}"), e),
                }
            })?;
        let dir = rustix::fs::open(
            format!("/proc/{pid}"),
            OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::RDONLY,
            Mode::empty(),
        )
        .map_err(|e| match e {
            rustix::io::Errno::NOENT => nopid(),
            e => Error::sys(format_args!("open /proc/{pid}"), e),
        })?;
        crate::sys::pidfd_signal(pidfd.as_fd(), 0).map_err(|_| nopid())?;
        let proc = Process { pid, pidfd, dir };
        proc.check_target()?;
        Ok(proc)
    }

    /// Refuses what cannot be a container's process: a zombie (its
    /// namespaces are gone), a kernel thread, and cntr itself.
    fn check_target(&self) -> Result<()> {
        let pid = self.pid;
        if pid == rustix::process::getpid().as_raw_nonzero().get() {
            return Err(Error::new(format!("{pid} is cntr itself")));
        }
        let stat = read(self.dir.as_fd(), "stat", 4096)?;
        let st = parse_stat(&stat)
            .ok_or_else(|| Error::new(format!("unable to parse /proc/{pid}/stat")))?;
        if st.state == b'Z' || st.state == b'X' {
            return Err(Error::new(format!("process {pid} is a zombie")));
        }
        if st.flags & PF_KTHREAD != 0 {
            return Err(Error::new(format!("process {pid} is a kernel thread")));
        }
        Ok(())
    }

    /// Reads a file of this process's `/proc` directory, at most `limit`
    /// bytes.
    pub fn read(&self, name: &str, limit: usize) -> Result<Vec<u8>> {
        read(self.dir.as_fd(), name, limit)
            .map_err(|e| Error::new(format!("/proc/{}/{name}: {}", self.pid, e.message())))
    }

    /// The parsed `/proc/PID/status`.
    pub fn status(&self) -> Result<Status> {
        let raw = self.read("status", 64 * 1024)?;
        Status::parse(&raw)
            .ok_or_else(|| Error::new(format!("unable to parse /proc/{}/status", self.pid)))
    }
}

/// Reads `name` below directory `dir`, at most `limit` bytes; a longer
/// file is cut at `limit` (callers that care compare the length). Opened
/// non-blocking and without following a final symlink, so a FIFO or a link
/// planted by a container can neither hang nor redirect the read.
pub fn read(dir: BorrowedFd<'_>, name: &str, limit: usize) -> Result<Vec<u8>> {
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY,
        Mode::empty(),
    )
    .ctx(format_args!("open {name}"))?;
    read_fd(&fd, limit).ctx(format_args!("read {name}"))
}

/// Reads from `fd` until end of file or `limit` bytes.
pub fn read_fd(fd: &OwnedFd, limit: usize) -> std::result::Result<Vec<u8>, rustix::io::Errno> {
    let mut buf = Vec::with_capacity(limit.min(4096));
    loop {
        if buf.len() >= limit {
            return Ok(buf);
        }
        // Doubling from 4 KiB: most files cntr reads are small, and a
        // large first allocation costs an mmap and munmap of its own.
        if buf.capacity() == buf.len() {
            buf.reserve((limit - buf.len()).min(buf.len().max(4096)));
        }
        let want = (limit - buf.len()).min(buf.capacity() - buf.len());
        let spare = buf.spare_capacity_mut();
        let spare = &mut spare[..want];
        let (got, _) = rustix::io::read(fd, spare)?;
        if got.is_empty() {
            return Ok(buf);
        }
        let n = got.len();
        // SAFETY: read() initialised the first n bytes of the spare capacity.
        unsafe { buf.set_len(buf.len() + n) };
    }
}

/// Whether `pid` names a process that has not exited (a zombie has).
pub fn running(pid: i32) -> bool {
    read(rustix::fs::CWD, &format!("/proc/{pid}/stat"), 4096)
        .ok()
        .and_then(|s| parse_stat(&s))
        .is_some_and(|st| !matches!(st.state, b'Z' | b'X'))
}

/// The names in directory `path`, `.` and `..` left out; empty when it
/// cannot be read.
pub fn names(path: &str) -> Vec<String> {
    let Ok(fd) = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return Vec::new();
    };
    let Ok(mut dir) = rustix::fs::Dir::new(fd) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while let Some(Ok(e)) = dir.read() {
        let n = e.file_name().to_bytes();
        if n != b"." && n != b".." {
            if let Ok(n) = std::str::from_utf8(n) {
                out.push(n.to_string());
            }
        }
    }
    out
}

const PF_KTHREAD: u64 = 0x0020_0000;

/// The fields of `/proc/PID/stat` that cntr uses.
pub struct Stat {
    pub state: u8,
    pub ppid: i32,
    pub flags: u64,
}

/// Parses `/proc/PID/stat`. The command name may hold spaces and
/// parentheses, so fields are counted from the last `)`.
pub fn parse_stat(b: &[u8]) -> Option<Stat> {
    let close = memchr::memrchr(b')', b)?;
    let mut f = b
        .get(close + 1..)?
        .split(|&c| c == b' ')
        .filter(|s| !s.is_empty());
    let state = *f.next()?.first()?;
    let ppid = num(f.next()?)? as i32;
    // pgrp, session, tty_nr, tpgid, then flags.
    let flags = num(f.nth(4)?)?;
    Some(Stat { state, ppid, flags })
}

/// How long ago process `pid` started, in seconds: its start time (the
/// 22nd field of `/proc/PID/stat`, in clock ticks since boot) against the
/// time since boot (`/proc/uptime`).
pub fn age(pid: i32) -> Option<u64> {
    let stat = read(rustix::fs::CWD, &format!("/proc/{pid}/stat"), 4096).ok()?;
    let close = memchr::memrchr(b')', &stat)?;
    let start = stat
        .get(close + 1..)?
        .split(|&c| c == b' ')
        .filter(|s| !s.is_empty())
        .nth(19)
        .and_then(num)?;
    let uptime = read(rustix::fs::CWD, "/proc/uptime", 256).ok()?;
    let up = uptime
        .split(|&c| c == b'.' || c == b' ')
        .next()
        .and_then(num)?;
    let ticks = rustix::param::clock_ticks_per_second().max(1);
    Some(up.saturating_sub(start / ticks))
}

/// A duration in seconds as `docker ps` words it: `5 seconds`,
/// `About a minute`, `3 minutes`, `About an hour`, `4 hours`, `2 days`,
/// `3 weeks`, `5 months`.
pub fn age_words(s: u64) -> String {
    let (m, h, d) = (s / 60, s / 3600, s / 86400);
    match s {
        0 => "Less than a second".into(),
        1..=59 => format!("{s} seconds"),
        60..=119 => "About a minute".into(),
        120..=3599 => format!("{m} minutes"),
        3600..=7199 => "About an hour".into(),
        7200..=172_799 => format!("{h} hours"),
        172_800..=1_209_599 => format!("{d} days"),
        1_209_600..=5_183_999 => format!("{} weeks", d / 7),
        _ => format!("{} months", d / 30),
    }
}

fn num(b: &[u8]) -> Option<u64> {
    std::str::from_utf8(b).ok()?.trim().parse().ok()
}

/// The credential lines of `/proc/PID/status`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// Real, effective, saved and filesystem UID.
    pub uid: [u32; 4],
    pub gid: [u32; 4],
    pub groups: Vec<u32>,
    pub cap_inh: u64,
    pub cap_prm: u64,
    pub cap_eff: u64,
    pub cap_bnd: u64,
    pub cap_amb: u64,
    pub no_new_privs: bool,
    pub seccomp: u32,
    /// The PID in each PID namespace, outermost first.
    pub nspid: Vec<u32>,
    /// The number of threads of the process (0 when the line is missing).
    pub threads: u32,
    /// The state letter (`R`, `S`, `Z`, ...; 0 when the line is missing).
    pub state: u8,
}

impl Status {
    /// What is assumed of a task whose status cannot be read: every
    /// capability in every set, and more than one thread.
    pub fn unknown() -> Status {
        Status {
            cap_inh: !0,
            cap_prm: !0,
            cap_eff: !0,
            cap_bnd: !0,
            cap_amb: !0,
            threads: u32::MAX,
            ..Status::default()
        }
    }

    /// Parses the lines cntr needs; `None` when one is missing or malformed.
    pub fn parse(b: &[u8]) -> Option<Status> {
        let mut s = Status::default();
        let (mut uid, mut gid, mut caps) = (false, false, 0);
        for line in b.split(|&c| c == b'\n') {
            let Some(colon) = memchr::memchr(b':', line) else {
                continue;
            };
            let (key, val) = (&line[..colon], &line[colon + 1..]);
            let words = || {
                val.split(|c| c.is_ascii_whitespace())
                    .filter(|w| !w.is_empty())
            };
            match key {
                b"Uid" | b"Gid" => {
                    let v: Vec<u32> = words()
                        .map(|w| num(w).and_then(|n| u32::try_from(n).ok()))
                        .collect::<Option<_>>()?;
                    let ids: [u32; 4] = v.try_into().ok()?;
                    if key == b"Uid" {
                        (s.uid, uid) = (ids, true);
                    } else {
                        (s.gid, gid) = (ids, true);
                    }
                }
                b"Groups" => {
                    s.groups = words()
                        .map(|w| num(w).and_then(|n| u32::try_from(n).ok()))
                        .collect::<Option<_>>()?;
                }
                b"CapInh" | b"CapPrm" | b"CapEff" | b"CapBnd" | b"CapAmb" => {
                    let w = words().next()?;
                    let v = u64::from_str_radix(std::str::from_utf8(w).ok()?, 16).ok()?;
                    caps += 1;
                    match &key[3..] {
                        b"Inh" => s.cap_inh = v,
                        b"Prm" => s.cap_prm = v,
                        b"Eff" => s.cap_eff = v,
                        b"Bnd" => s.cap_bnd = v,
                        _ => s.cap_amb = v,
                    }
                }
                b"NoNewPrivs" => s.no_new_privs = num(words().next()?)? != 0,
                b"Seccomp" => s.seccomp = num(words().next()?)? as u32,
                b"Threads" => s.threads = u32::try_from(num(words().next()?)?).ok()?,
                b"State" => s.state = *words().next()?.first()?,
                b"NSpid" => {
                    s.nspid = words()
                        .map(|w| num(w).map(|n| n as u32))
                        .collect::<Option<_>>()?;
                }
                _ => {}
            }
        }
        (uid && gid && caps == 5).then_some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_in_words() {
        let w = |s| age_words(s);
        assert_eq!(w(0), "Less than a second");
        assert_eq!(w(5), "5 seconds");
        assert_eq!(w(61), "About a minute");
        assert_eq!(w(300), "5 minutes");
        assert_eq!(w(3600), "About an hour");
        assert_eq!(w(4 * 3600), "4 hours");
        assert_eq!(w(3 * 86400), "3 days");
        assert_eq!(w(21 * 86400), "3 weeks");
        assert_eq!(w(150 * 86400), "5 months");
    }

    #[test]
    fn pids_are_strict() {
        let p = |s: &str| parse_pid(OsStr::new(s));
        assert_eq!(p("1"), Some(1));
        assert_eq!(p("4194304"), Some(4194304));
        for bad in [
            "",
            "0",
            "-1",
            "+5",
            "0x10",
            " 5",
            "5 ",
            "05",
            "4194305",
            "99999999999999999999",
            "1e3",
            "web",
        ] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn stat_with_hostile_comm() {
        let st = parse_stat(b"42 (a) b) Z 1 42 42 0 -1 2129984 0 0").unwrap();
        assert_eq!(st.state, b'Z');
        assert_eq!(st.ppid, 1);
        assert_eq!(st.flags, 2129984);
        assert!(parse_stat(b"42 (x").is_none());
        assert!(parse_stat(b"").is_none());
    }

    #[test]
    fn status_lines() {
        let raw = b"Name:\tsh\nState:\tZ (zombie)\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nGroups:\t1000 2000 \nNSpid:\t55\t1\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n";
        let s = Status::parse(raw).unwrap();
        assert_eq!(s.uid, [1000; 4]);
        assert_eq!(s.groups, vec![1000, 2000]);
        assert_eq!(s.cap_bnd, 0xa80425fb);
        assert!(s.no_new_privs);
        assert_eq!(s.seccomp, 2);
        assert_eq!(s.nspid, vec![55, 1]);
        assert_eq!(s.state, b'Z');
        assert!(Status::parse(b"Uid:\t1\t1\t1\nGid:\t0\t0\t0\t0\n").is_none());
        assert!(Status::parse(b"Uid:\tx\n").is_none());
    }
}
