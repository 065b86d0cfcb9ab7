//! LXD: an instance by name, through LXD's REST API on its unix socket
//! (`$LXD_DIR/unix.socket`, else `/var/lib/lxd/unix.socket` or the snap's
//! `/var/snap/lxd/common/lxd/unix.socket`): `GET
//! /1.0/instances/NAME/state` gives its status and PID, as `lxc query`
//! would, without a CLI start; and only for a name LXD keeps a container
//! directory for.

use super::http::get;
use super::json::Json;
use super::{Check, Engine, Find, Found};
use crate::error::{Error, Result};

/// The `lxd` resolver, a row of [`super::ENGINES`].
pub const ENGINE: Engine = Engine {
    name: "lxd",
    by_default: true,
    find: Find::Now(|q| q.name().map_or(Ok(Vec::new()), find)),
    list: |_| list(),
};

fn socket() -> Option<String> {
    let candidates = match std::env::var_os("LXD_DIR") {
        Some(d) if !d.is_empty() => vec![format!("{}/unix.socket", d.to_string_lossy())],
        _ => vec![
            "/var/lib/lxd/unix.socket".to_string(),
            "/var/snap/lxd/common/lxd/unix.socket".to_string(),
        ],
    };
    candidates
        .into_iter()
        .find(|s| rustix::fs::access(s.as_str(), rustix::fs::Access::EXISTS).is_ok())
}

/// Instance names are `[A-Za-z0-9-]`, starting with a letter.
fn plausible(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

/// The answer's `metadata`, or `None` for a 404.
fn query(sock: &str, path: &str) -> Result<Option<Json>> {
    let (code, body) = match get(sock, path) {
        Ok(r) => r,
        Err(rustix::io::Errno::CONNREFUSED) => return Ok(None),
        Err(e) => return Err(Error::sys(format_args!("ask LXD at {sock}"), e)),
    };
    if code == 404 {
        return Ok(None);
    }
    let j = Json::parse(&body).ok_or_else(|| Error::new("lxd: unreadable answer"))?;
    if code != 200 {
        let msg = j.get("error").and_then(Json::str).unwrap_or("failed");
        return Err(Error::new(format!("lxd: {msg}")));
    }
    Ok(j.get("metadata").cloned())
}

fn instance(sock: &str, name: &str) -> Result<Option<Found>> {
    let Some(state) = query(sock, &format!("/1.0/instances/{name}/state"))? else {
        return Ok(None);
    };
    let pid = state
        .get("pid")
        .and_then(Json::int)
        .and_then(|p| i32::try_from(p).ok())
        .filter(|&p| p > 0);
    match pid.filter(|&p| crate::proc::running(p)) {
        Some(pid) if state.get("status").and_then(Json::str) == Some("Running") => {
            Ok(Some(Found {
                engine: &ENGINE,
                id: name.to_string(),
                name: name.to_string(),
                pid,
                extra: Vec::new(),
                check: Check::CgroupId,
            }))
        }
        _ => Err(Error::new(format!("lxd instance {name} is not running"))),
    }
}

/// The instance named `target`. LXD keeps each container under
/// `containers/NAME` beside its socket: a name not there is not asked of
/// the daemon, whose answer costs milliseconds.
pub fn find(target: &str) -> Result<Vec<Found>> {
    let Some(sock) = socket().filter(|_| plausible(target)) else {
        return Ok(Vec::new());
    };
    let dir = sock.trim_end_matches("unix.socket");
    let known = ["containers", "virtual-machines"].iter().any(|k| {
        rustix::fs::statat(
            rustix::fs::CWD,
            format!("{dir}{k}/{target}"),
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        )
        .is_ok()
    });
    if !known {
        return Ok(Vec::new());
    }
    Ok(instance(&sock, target)?.into_iter().collect())
}

/// Every running instance.
pub fn list() -> Result<Vec<Found>> {
    let Some(sock) = socket() else {
        return Ok(Vec::new());
    };
    let Some(names) = query(&sock, "/1.0/instances")? else {
        return Ok(Vec::new());
    };
    Ok(names
        .arr()
        .iter()
        .filter_map(Json::str)
        .filter_map(|p| p.rsplit('/').next())
        .filter(|n| plausible(n))
        .filter_map(|n| instance(&sock, n).ok().flatten())
        .collect())
}
