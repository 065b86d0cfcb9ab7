//! `command`: a process found by its command line, for targets that no
//! engine names (a plain chroot, a hand-made namespace). The target must
//! occur in the process's arguments joined by spaces. Never matched: cntr
//! itself and every other process running the cntr binary (whose command
//! lines hold the target too), cntr's ancestors (the calling shell among
//! them), kernel threads and zombies. Only tried when asked for with `-t`.

use super::{Engine, Find, Found};
use crate::error::Result;
use rustix::fd::OwnedFd;
use rustix::fs::{Mode, OFlags};

/// The `command` resolver, a row of [`super::ENGINES`].
pub const ENGINE: Engine = Engine {
    name: "command",
    by_default: false,
    find: Find::Now(|q| q.name().map_or(Ok(Vec::new()), find)),
    list: |_| {
        Err(crate::error::Error::usage(
            "--list lists containers, not commands",
        ))
    },
};

const CMDLINE_LIMIT: usize = 64 * 1024;

/// cntr's own PID and those of all its ancestors.
fn lineage() -> Vec<i32> {
    let mut out = vec![rustix::process::getpid().as_raw_nonzero().get()];
    while let Some(&p) = out.last() {
        let ppid = crate::proc::read(rustix::fs::CWD, &format!("/proc/{p}/stat"), 4096)
            .ok()
            .and_then(|s| crate::proc::parse_stat(&s))
            .map(|s| s.ppid)
            .unwrap_or(0);
        if ppid <= 0 || out.contains(&ppid) {
            break;
        }
        out.push(ppid);
    }
    out
}

fn open_dir(pid: i32) -> Option<OwnedFd> {
    rustix::fs::open(
        format!("/proc/{pid}"),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()
}

/// The processes whose command line holds `target`.
pub fn find(target: &str) -> Result<Vec<Found>> {
    if target.is_empty() {
        return Ok(Vec::new());
    }
    let skip = lineage();
    let own_exe = rustix::fs::stat("/proc/self/exe")
        .ok()
        .map(|s| (s.st_dev, s.st_ino));
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Ok(out);
    };
    for e in entries.flatten() {
        let Some(pid) = e
            .file_name()
            .to_str()
            .and_then(|n| crate::proc::parse_pid(std::ffi::OsStr::new(n)))
        else {
            continue;
        };
        if skip.contains(&pid) {
            continue;
        }
        let Some(dir) = open_dir(pid) else { continue };
        let Ok(raw) = crate::proc::read(rustix::fd::AsFd::as_fd(&dir), "cmdline", CMDLINE_LIMIT)
        else {
            continue;
        };
        // Kernel threads have no command line; zombies neither.
        if raw.is_empty() {
            continue;
        }
        let mut line = raw;
        while line.last() == Some(&0) {
            line.pop();
        }
        for c in line.iter_mut().filter(|c| **c == 0) {
            *c = b' ';
        }
        if memchr::memmem::find(&line, target.as_bytes()).is_none() {
            continue;
        }
        let line = String::from_utf8_lossy(&line).into_owned();
        let exe = rustix::fs::statat(&dir, "exe", rustix::fs::AtFlags::empty())
            .ok()
            .map(|s| (s.st_dev, s.st_ino));
        if exe.is_some() && exe == own_exe {
            continue;
        }
        out.push(Found {
            engine: &ENGINE,
            id: pid.to_string(),
            name: line,
            pid,
            extra: Vec::new(),
            check: super::Check::None,
        });
    }
    Ok(out)
}
