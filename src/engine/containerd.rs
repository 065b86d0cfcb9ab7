//! containerd: every namespace (`default`, `k8s.io`, `moby`, ...), read
//! from the runtime v2 task state that the shims keep on disk,
//! `<state>/io.containerd.runtime.v2.task/<namespace>/<id>/init.pid`, so
//! that resolution neither needs the daemon up nor spawns `ctr` (which
//! hangs ten seconds when the daemon is down). The state directory is
//! `/run/containerd` unless `CNTR_CONTAINERD_STATE` names another (a
//! daemon started with `--state`). A stopped task may keep its directory
//! and a stale PID: the PID is pinned and checked to be in the task's
//! cgroup before use (see `Found::verify`), and a dead one is reported.

use super::{Engine, Find, Found};
use crate::error::Result;

/// The `containerd` resolver, a row of [`super::ENGINES`].
pub const ENGINE: Engine = Engine {
    name: "containerd",
    by_default: true,
    find: Find::Now(|q| q.name().map_or(Ok(Vec::new()), find)),
    list: |_| Ok(list()),
};

pub fn tasks_dir() -> String {
    let state = std::env::var_os("CNTR_CONTAINERD_STATE").map(|s| s.to_string_lossy().into_owned());
    format!(
        "{}/io.containerd.runtime.v2.task",
        state.as_deref().unwrap_or("/run/containerd")
    )
}

/// Whether `s` can be (a prefix of) a containerd ID: IDs are
/// `[A-Za-z0-9][A-Za-z0-9_.-]*`, and nothing else may reach a path.
pub fn plausible(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 76
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(c))
}

/// Every task: (namespace, id, PID or None when unreadable).
fn tasks() -> Vec<(String, String, Option<i32>)> {
    let mut out = Vec::new();
    let base = tasks_dir();
    for ns in crate::proc::names(&base) {
        for id in crate::proc::names(&format!("{base}/{ns}")) {
            let pid = crate::proc::read(rustix::fs::CWD, &format!("{base}/{ns}/{id}/init.pid"), 32)
                .ok()
                .and_then(|b| std::str::from_utf8(&b).ok()?.trim().parse::<i32>().ok())
                .filter(|&p| p > 0);
            out.push((ns.clone(), id, pid));
        }
    }
    out
}

fn found(ns: &str, id: &str, pid: i32) -> Found {
    Found {
        engine: &ENGINE,
        id: id.to_string(),
        name: id.to_string(),
        pid,
        extra: vec![("namespace".into(), ns.into())],
        check: super::Check::CgroupId,
    }
}

/// The tasks whose ID is `target` or starts with it (an exact ID wins
/// over prefixes).
pub fn find(target: &str) -> Result<Vec<Found>> {
    if !plausible(target) {
        return Ok(Vec::new());
    }
    super::pick(
        &tasks(),
        target,
        |(_, id, _)| id == target,
        |(_, id, _)| id,
        |(ns, id, pid)| {
            pid.filter(|&p| crate::proc::running(p))
                .map(|p| found(ns, id, p))
        },
        |(ns, id, _)| format!("containerd container {id} (namespace {ns}) is not running"),
    )
}

/// Task `id` of namespace `ns`, if its PID is live.
pub fn task(ns: &str, id: &str) -> Option<Found> {
    let pid = crate::proc::read(
        rustix::fs::CWD,
        &format!("{}/{ns}/{id}/init.pid", tasks_dir()),
        32,
    )
    .ok()
    .and_then(|b| std::str::from_utf8(&b).ok()?.trim().parse::<i32>().ok())
    .filter(|&p| p > 0 && crate::proc::running(p))?;
    Some(found(ns, id, pid))
}

/// Every task with a live PID, in every namespace.
pub fn all() -> Vec<Found> {
    tasks()
        .into_iter()
        .filter_map(|(ns, id, pid)| pid.map(|p| found(&ns, &id, p)))
        .filter(|f| crate::proc::running(f.pid))
        .collect()
}

/// The namespace of Kubernetes' CRI: its pod containers are listed by the
/// `kubernetes` resolver, under their pods' names, and its pods' sandboxes
/// are no container to enter.
pub const K8S_NAMESPACE: &str = "k8s.io";

/// Every task with a live PID, but those of [`K8S_NAMESPACE`].
pub fn list() -> Vec<Found> {
    all()
        .into_iter()
        .filter(|f| f.extra("namespace") != Some(K8S_NAMESPACE))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(plausible("d53ab534"));
        assert!(plausible("redis-1.k8s_x"));
        for bad in ["", "../x", "a/b", ".x", "-x"] {
            assert!(!plausible(bad), "{bad}");
        }
    }
}
