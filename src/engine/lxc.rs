//! LXC: a container by name, in every lxcpath cntr is told of
//! (`$LXC_PATH`, colon-separated, else `/var/lib/lxc`). A name is only
//! looked up when it is a container directory there (it is then a plain
//! file name); its PID comes from `lxc-info --no-humanize --pid`, run by
//! absolute path with a timeout. A stopped container prints nothing.

use super::{cli, Engine, Find, Found};
use crate::error::{Error, Result};
use std::time::Duration;

/// The `lxc` resolver, a row of [`super::ENGINES`].
pub const ENGINE: Engine = Engine {
    name: "lxc",
    by_default: true,
    find: Find::Now(|q| q.name().map_or(Ok(Vec::new()), find)),
    list: |_| Ok(list()),
};

const TIMEOUT: Duration = Duration::from_secs(5);

fn paths() -> Vec<String> {
    match std::env::var_os("LXC_PATH") {
        Some(p) if !p.is_empty() => p
            .to_string_lossy()
            .split(':')
            .filter(|s| s.starts_with('/'))
            .map(str::to_string)
            .collect(),
        _ => vec!["/var/lib/lxc".to_string()],
    }
}

/// Whether `name` is a container of lxcpath `path`.
fn exists(path: &str, name: &str) -> bool {
    super::containerd::plausible(name)
        && rustix::fs::stat(format!("{path}/{name}/config")).is_ok_and(|s| {
            rustix::fs::FileType::from_raw_mode(s.st_mode) == rustix::fs::FileType::RegularFile
        })
}

/// The PID of container `name` of `path`, `None` when it is stopped.
fn pid(tool: &str, path: &str, name: &str) -> Result<Option<i32>> {
    let out = cli::run(
        tool,
        &["-P", path, "-n", name, "--no-humanize", "--pid"],
        TIMEOUT,
    )?;
    if out.code != Some(0) {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(Error::new(format!(
            "lxc-info: {}",
            err.lines().next().unwrap_or("failed")
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    match text.trim() {
        "" => Ok(None),
        t => t
            .parse::<i32>()
            .map(Some)
            .map_err(|_| Error::new(format!("lxc-info: unexpected answer {t:?}"))),
    }
}

fn found(path: &str, name: &str, pid: i32) -> Found {
    Found {
        engine: &ENGINE,
        id: name.to_string(),
        name: name.to_string(),
        pid,
        extra: vec![("lxcpath".into(), path.into())],
        check: super::Check::CgroupId,
    }
}

/// The containers named `target` (one per lxcpath that has it).
pub fn find(target: &str) -> Result<Vec<Found>> {
    let hits: Vec<String> = paths().into_iter().filter(|p| exists(p, target)).collect();
    if hits.is_empty() {
        return Ok(Vec::new());
    }
    let Some(tool) = cli::which("lxc-info") else {
        return Err(Error::new("lxc-info is not installed"));
    };
    let mut out = Vec::new();
    for path in &hits {
        match pid(&tool, path, target)? {
            Some(p) if crate::proc::running(p) => out.push(found(path, target, p)),
            _ => {}
        }
    }
    if out.is_empty() {
        return Err(Error::new(format!("lxc container {target} is not running")));
    }
    Ok(out)
}

/// Every running container.
pub fn list() -> Vec<Found> {
    let Some(tool) = cli::which("lxc-info") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for path in paths() {
        for name in crate::proc::names(&path)
            .into_iter()
            .filter(|n| exists(&path, n))
        {
            if let Ok(Some(p)) = pid(&tool, &path, &name) {
                out.push(found(&path, &name, p));
            }
        }
    }
    out
}
