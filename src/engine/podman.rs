//! Podman (as root): a container's name, ID or ID prefix, from the files
//! of its storage and run roots: names and IDs in
//! `<root>/<driver>-containers/containers.json`, the PID in
//! `<runroot>/<driver>-containers/<id>/userdata/pidfile`. No podman is
//! run: a CLI start costs tens of milliseconds. The roots are
//! `/var/lib/containers/storage` and `/run/containers/storage`, or
//! `CNTR_PODMAN_ROOT` and `CNTR_PODMAN_RUNROOT` for a podman run with
//! `--root`/`--runroot`.

use super::json::Json;
use super::{Found, Type};
use crate::error::{Error, Result};

const LIST_LIMIT: usize = 16 << 20;

fn var(name: &str, default: &str) -> String {
    std::env::var_os(name).map_or_else(|| default.to_string(), |v| v.to_string_lossy().into_owned())
}

/// Every container: (id, names, PID if its pidfile is readable).
fn containers() -> Vec<(String, Vec<String>, Option<i32>)> {
    let root = var("CNTR_PODMAN_ROOT", "/var/lib/containers/storage");
    let runroot = var("CNTR_PODMAN_RUNROOT", "/run/containers/storage");
    let mut out = Vec::new();
    for driver in crate::proc::names(&root)
        .into_iter()
        .filter(|d| d.ends_with("-containers"))
    {
        let Ok(raw) = crate::proc::read(
            rustix::fs::CWD,
            &format!("{root}/{driver}/containers.json"),
            LIST_LIMIT,
        ) else {
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
            let pid = crate::proc::read(
                rustix::fs::CWD,
                &format!("{runroot}/{driver}/{id}/userdata/pidfile"),
                32,
            )
            .ok()
            .and_then(|b| std::str::from_utf8(&b).ok()?.trim().parse::<i32>().ok())
            .filter(|&p| p > 0);
            out.push((id.to_string(), names, pid));
        }
    }
    out
}

fn found(id: &str, names: &[String], pid: i32) -> Found {
    let name = names.first().cloned().unwrap_or_else(|| id.to_string());
    Found {
        engine: Type::Podman,
        id: id.to_string(),
        name,
        pid,
        extra: Vec::new(),
    }
}

/// The containers `target` names: by name or full ID, else by ID prefix.
pub fn find(target: &str) -> Result<Vec<Found>> {
    if target.is_empty() {
        return Ok(Vec::new());
    }
    let all = containers();
    let exact: Vec<_> = all
        .iter()
        .filter(|(id, names, _)| id == target || names.iter().any(|n| n == target))
        .collect();
    let hits = if exact.is_empty() {
        all.iter()
            .filter(|(id, _, _)| id.starts_with(target))
            .collect()
    } else {
        exact
    };
    let out: Vec<Found> = hits
        .iter()
        .filter_map(|(id, names, pid)| {
            pid.filter(|&p| crate::proc::running(p))
                .map(|p| found(id, names, p))
        })
        .collect();
    if out.is_empty() {
        if let Some((id, names, _)) = hits.first() {
            let name = names.first().unwrap_or(id);
            return Err(Error::new(format!(
                "podman container {name} is not running"
            )));
        }
    }
    Ok(out)
}

/// Every running container.
pub fn list() -> Vec<Found> {
    containers()
        .into_iter()
        .filter_map(|(id, names, pid)| {
            pid.filter(|&p| crate::proc::running(p))
                .map(|p| found(&id, &names, p))
        })
        .collect()
}
