//! runc and other OCI runtimes that keep runc's state layout:
//! `<root>/<id>/state.json` with `init_process_pid`. The roots are runc's
//! default `/run/runc` and whatever `CNTR_RUNC_ROOT` lists
//! (colon-separated, for runtimes run with `--root`). Read from disk: no
//! runtime is run.

use super::json::Json;
use super::{Engine, Find, Found};
use crate::error::Result;

/// The `runc` resolver, a row of [`super::ENGINES`].
pub const ENGINE: Engine = Engine {
    name: "runc",
    by_default: true,
    find: Find::Now(|q| q.name().map_or(Ok(Vec::new()), find)),
    list: |_| Ok(list()),
};

const STATE_LIMIT: usize = 4 << 20;

fn roots() -> Vec<String> {
    let mut v = vec!["/run/runc".to_string()];
    if let Some(extra) = std::env::var_os("CNTR_RUNC_ROOT") {
        v.extend(
            extra
                .to_string_lossy()
                .split(':')
                .filter(|r| !r.is_empty())
                .map(str::to_string),
        );
    }
    v
}

/// The containers whose ID `keep` keeps: (id, PID) from its state.json.
/// Only those state files are read (a runtime writes the whole OCI
/// configuration there, tens of kilobytes each).
fn states(keep: impl Fn(&str) -> bool) -> Vec<(String, Option<i32>)> {
    let mut out = Vec::new();
    for root in roots() {
        for id in crate::proc::names(&root).into_iter().filter(|id| keep(id)) {
            let pid = crate::proc::read(
                rustix::fs::CWD,
                &format!("{root}/{id}/state.json"),
                STATE_LIMIT,
            )
            .ok()
            .and_then(|b| Json::parse(&b))
            .and_then(|j| j.get("init_process_pid").and_then(Json::int))
            .and_then(|p| i32::try_from(p).ok())
            .filter(|&p| p > 0);
            out.push((id, pid));
        }
    }
    out
}

fn alive(pid: i32) -> bool {
    rustix::process::Pid::from_raw(pid)
        .is_some_and(|p| rustix::process::test_kill_process(p).is_ok())
}

fn found(id: &str, pid: i32) -> Found {
    Found {
        engine: &ENGINE,
        id: id.to_string(),
        name: id.to_string(),
        pid,
        extra: Vec::new(),
        check: super::Check::CgroupId,
    }
}

/// The containers whose ID is `target` (or starts with it, when no ID is).
pub fn find(target: &str) -> Result<Vec<Found>> {
    if !super::containerd::plausible(target) {
        return Ok(Vec::new());
    }
    super::pick(
        &states(|id| id.starts_with(target)),
        target,
        |(id, _)| id == target,
        |(id, _)| id,
        |(id, pid)| pid.filter(|&p| alive(p)).map(|p| found(id, p)),
        |(id, _)| format!("runc container {id} is not running"),
    )
}

/// Every running container.
pub fn list() -> Vec<Found> {
    states(|_| true)
        .into_iter()
        .filter_map(|(id, pid)| pid.filter(|&p| alive(p)).map(|p| found(&id, p)))
        .collect()
}
