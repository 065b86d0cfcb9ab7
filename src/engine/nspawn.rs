//! systemd-nspawn machines, by name, as systemd-machined records them:
//! `/run/systemd/machines/NAME` holds `LEADER=PID` (and `SCOPE=`, the
//! machine's cgroup unit). machinectl would ask machined the same over
//! D-Bus, but refuses to run unless systemd is PID 1. The name is checked
//! to be a plain file name before it reaches a path, and the leader,
//! once pinned, to be in the machine's scope.

use super::{Check, Engine, Find, Found};
use crate::error::{Error, Result};

/// The `nspawn` resolver, a row of [`super::ENGINES`].
pub const ENGINE: Engine = Engine {
    name: "nspawn",
    by_default: true,
    find: Find::Now(|q| q.name().map_or(Ok(Vec::new()), find)),
    list: |_| Ok(list()),
};

const MACHINES: &str = "/run/systemd/machines";

/// `KEY=VALUE` lines of a machine file. Public for the fuzz target
/// (`fuzz/fuzz_targets/engine_files.rs`).
pub fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
}

fn machine(name: &str) -> Option<Result<Found>> {
    let raw = crate::proc::read(rustix::fs::CWD, &format!("{MACHINES}/{name}"), 64 * 1024).ok()?;
    let text = String::from_utf8_lossy(&raw);
    if field(&text, "CLASS").is_some_and(|c| c != "container") {
        return None;
    }
    let scope = field(&text, "SCOPE").unwrap_or_default().to_string();
    let pid = field(&text, "LEADER")
        .and_then(|p| p.parse::<i32>().ok())
        .filter(|&p| p > 0);
    Some(match pid.filter(|&p| crate::proc::running(p)) {
        Some(pid) if !scope.is_empty() => Ok(Found {
            engine: &ENGINE,
            id: scope,
            name: name.to_string(),
            pid,
            extra: Vec::new(),
            check: Check::CgroupId,
        }),
        _ => Err(Error::new(format!("nspawn machine {name} is not running"))),
    })
}

/// The machine named `target`.
pub fn find(target: &str) -> Result<Vec<Found>> {
    if !super::containerd::plausible(target) {
        return Ok(Vec::new());
    }
    match machine(target) {
        None => Ok(Vec::new()),
        Some(r) => r.map(|f| vec![f]),
    }
}

/// Every running machine.
pub fn list() -> Vec<Found> {
    crate::proc::names(MACHINES)
        .into_iter()
        .filter(|n| super::containerd::plausible(n))
        .filter_map(|n| machine(&n)?.ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let t = "# private\nNAME=web\nSCOPE=machine-web.scope\nLEADER=42\nCLASS=container\n";
        assert_eq!(field(t, "LEADER"), Some("42"));
        assert_eq!(field(t, "SCOPE"), Some("machine-web.scope"));
        assert_eq!(field(t, "NAME"), Some("web"));
        assert_eq!(field(t, "LEAD"), None);
    }
}
