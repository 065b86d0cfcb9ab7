//! PIDs: a target that is a PID, as the host sees it, names that process
//! (see `crate::proc::parse_pid` for what counts as one). It names no
//! container, so the process is not checked against one, and there is
//! nothing to list.

use super::{Check, Engine, Find, Found};

/// The `process_id` resolver, a row of [`super::ENGINES`].
pub const ENGINE: Engine = Engine {
    name: "process_id",
    by_default: true,
    find: Find::Now(|q| {
        Ok(crate::proc::parse_pid(q.target)
            .map(found)
            .into_iter()
            .collect())
    }),
    list: |_| Ok(Vec::new()),
};

/// What this resolver says of PID `pid`.
pub fn found(pid: i32) -> Found {
    Found {
        engine: &ENGINE,
        id: pid.to_string(),
        name: pid.to_string(),
        pid,
        extra: Vec::new(),
        check: Check::None,
    }
}
