//! Podman: a container's name, ID or ID prefix, from the files of its
//! storage and run roots: names and IDs in
//! `<root>/<driver>-containers/containers.json`, the PID in
//! `<runroot>/<driver>-containers/<id>/userdata/pidfile`, its conmon's in
//! `conmon.pid` beside it. No podman is run: a CLI start costs tens of
//! milliseconds.
//!
//! Root's containers live in `/var/lib/containers/storage` and
//! `/run/containers/storage` (or `CNTR_PODMAN_ROOT` and
//! `CNTR_PODMAN_RUNROOT`). Root's podman cannot see a user's rootless
//! containers; cntr also reads those of the user `-u/--user` names, or of
//! `CNTR_PODMAN_USER` (a user name or uid), or of the invoking user
//! (`SUDO_UID`, as when run through sudo):
//! `~/.local/share/containers/storage` and `/run/user/UID/containers`.
//! That user controls those files, so they are opened below the user's
//! directories without following any symlink, as regular files, bounded and
//! non-blocking; nothing of the user's environment is read. The home
//! directory comes from the host's `/etc/passwd`, parsed (no NSS).

use super::json::Json;
use super::{Check, Found, Type};
use crate::error::Result;
use rustix::fd::OwnedFd;
use rustix::fs::{Mode, OFlags, ResolveFlags};

const LIST_LIMIT: usize = 16 << 20;

/// A podman storage: its root and run root.
struct Store {
    root: String,
    runroot: String,
}

fn var(name: &str, default: &str) -> String {
    std::env::var_os(name).map_or_else(|| default.to_string(), |v| v.to_string_lossy().into_owned())
}

thread_local! {
    // The user `-u/--user` names (cntr-resolve, attach, exec).
    static USER_HINT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Reads the rootless containers of `user` (a name or uid) too, as the
/// `--user` option asks; it comes before `CNTR_PODMAN_USER` and `SUDO_UID`.
/// A user the host does not know (or root, who has no rootless
/// containers) is an error: a typo must not silently read nothing.
pub fn set_user(user: &str) -> Result<()> {
    if lookup_user(user).is_none() {
        return Err(crate::error::Error::usage(format!(
            "--user: no user '{user}' other than root with a home directory in /etc/passwd"
        )));
    }
    USER_HINT.with(|h| *h.borrow_mut() = Some(user.to_string()));
    Ok(())
}

/// The uid and home of the user whose rootless containers are read too.
fn rootless_user() -> Option<(u32, String)> {
    let hint = USER_HINT
        .with(|h| h.borrow().clone())
        .or_else(|| std::env::var_os("CNTR_PODMAN_USER").and_then(|h| h.into_string().ok()))
        .or_else(|| std::env::var_os("SUDO_UID").and_then(|h| h.into_string().ok()))?;
    lookup_user(&hint)
}

/// The uid and home of `hint` (a name or uid) in the host's /etc/passwd;
/// None for root.
fn lookup_user(hint: &str) -> Option<(u32, String)> {
    if hint.is_empty() {
        return None;
    }
    let passwd = crate::proc::read(rustix::fs::CWD, "/etc/passwd", 4 << 20).ok()?;
    for line in passwd.split(|&c| c == b'\n') {
        let f: Vec<&[u8]> = line.split(|&c| c == b':').collect();
        if f.len() < 7 {
            continue;
        }
        let (name, uid, home) = (
            String::from_utf8_lossy(f[0]),
            String::from_utf8_lossy(f[2]),
            String::from_utf8_lossy(f[5]),
        );
        if (name == hint || uid == hint) && home.starts_with('/') {
            let uid: u32 = uid.parse().ok()?;
            return (uid != 0).then(|| (uid, home.into_owned()));
        }
    }
    None
}

fn stores() -> Vec<Store> {
    let mut v = vec![Store {
        root: var("CNTR_PODMAN_ROOT", "/var/lib/containers/storage"),
        runroot: var("CNTR_PODMAN_RUNROOT", "/run/containers/storage"),
    }];
    if let Some((uid, home)) = rootless_user() {
        v.push(Store {
            root: format!("{home}/.local/share/containers/storage"),
            runroot: format!("/run/user/{uid}/containers"),
        });
    }
    v
}

/// Opens `rel` below directory `base`, never through a symlink.
fn open_beneath(base: &str, rel: &str, flags: OFlags) -> Option<OwnedFd> {
    let dir = rustix::fs::open(
        base,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    rustix::fs::openat2(
        &dir,
        rel,
        flags | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
    )
    .ok()
}

/// A regular file below `base`, at most `limit` bytes.
fn read_beneath(base: &str, rel: &str, limit: usize) -> Option<Vec<u8>> {
    let fd = open_beneath(base, rel, OFlags::RDONLY)?;
    let st = rustix::fs::fstat(&fd).ok()?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return None;
    }
    crate::proc::read_fd(&fd, limit).ok()
}

fn read_pid(base: &str, rel: &str) -> Option<i32> {
    let b = read_beneath(base, rel, 32)?;
    std::str::from_utf8(&b)
        .ok()?
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|&p| p > 0)
}

/// A container as podman's files describe it.
struct Entry {
    id: String,
    names: Vec<String>,
    pid: Option<i32>,
    conmon: Option<i32>,
}

/// Every container podman's files know.
fn containers() -> Vec<Entry> {
    let mut out = Vec::new();
    for s in stores() {
        let Some(top) = open_beneath(&s.root, ".", OFlags::RDONLY | OFlags::DIRECTORY) else {
            continue;
        };
        let Ok(mut dir) = rustix::fs::Dir::new(top) else {
            continue;
        };
        let mut drivers = Vec::new();
        while let Some(Ok(e)) = dir.read() {
            if let Ok(n) = e.file_name().to_str() {
                if n.ends_with("-containers") && !n.starts_with('.') {
                    drivers.push(n.to_string());
                }
            }
        }
        for driver in drivers {
            let Some(raw) = read_beneath(&s.root, &format!("{driver}/containers.json"), LIST_LIMIT)
            else {
                continue;
            };
            let Some(list) = Json::parse(&raw) else {
                continue;
            };
            for c in list.arr() {
                let Some(id) = c
                    .get("id")
                    .and_then(Json::str)
                    .filter(|id| super::containerd::plausible(id))
                else {
                    continue;
                };
                let names = c
                    .get("names")
                    .map(|n| {
                        n.arr()
                            .iter()
                            .filter_map(Json::str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                let pid = read_pid(&s.runroot, &format!("{driver}/{id}/userdata/pidfile"));
                let conmon = read_pid(&s.runroot, &format!("{driver}/{id}/userdata/conmon.pid"));
                out.push(Entry {
                    id: id.to_string(),
                    names,
                    pid,
                    conmon,
                });
            }
        }
    }
    out
}

/// The container, if its process runs.
fn found(e: &Entry) -> Option<Found> {
    let pid = e.pid.filter(|&p| crate::proc::running(p))?;
    let name = e.names.first().cloned().unwrap_or_else(|| e.id.clone());
    // conmon is the container's parent, also for rootless containers,
    // which have no cgroup of their own.
    let check = e.conmon.map_or(Check::CgroupId, Check::Parent);
    Some(Found {
        engine: Type::Podman,
        id: e.id.clone(),
        name,
        pid,
        extra: Vec::new(),
        check,
    })
}

/// The containers `target` names: by name or full ID, else by ID prefix.
pub fn find(target: &str) -> Result<Vec<Found>> {
    if target.is_empty() {
        return Ok(Vec::new());
    }
    super::pick(
        &containers(),
        target,
        |e| e.id == target || e.names.iter().any(|n| n == target),
        |e| &e.id,
        found,
        |e| {
            format!(
                "podman container {} is not running",
                e.names.first().unwrap_or(&e.id)
            )
        },
    )
}

/// Every running container.
pub fn list() -> Vec<Found> {
    containers().iter().filter_map(found).collect()
}
