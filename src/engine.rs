//! Container engines: turning a container name, id or PID into a pinned
//! process. `-t TYPES` picks which resolvers are tried, in the order of
//! the existing cntr.

use crate::error::{Error, Result};
use crate::proc::Process;
use std::ffi::OsStr;

/// A resolver, by the names `-t` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    ProcessId,
    Podman,
    Docker,
    Nspawn,
    Lxc,
    Lxd,
    Containerd,
    Kubernetes,
    Command,
}

/// Tried when `-t` is not given, in this order; `command` only on request.
pub const DEFAULT: [Type; 8] = [
    Type::ProcessId,
    Type::Podman,
    Type::Docker,
    Type::Nspawn,
    Type::Lxc,
    Type::Lxd,
    Type::Containerd,
    Type::Kubernetes,
];

impl Type {
    pub fn from_name(s: &str) -> Option<Type> {
        Some(match s {
            "process_id" | "process-id" => Type::ProcessId,
            "podman" => Type::Podman,
            "docker" => Type::Docker,
            "nspawn" => Type::Nspawn,
            "lxc" => Type::Lxc,
            "lxd" => Type::Lxd,
            "containerd" => Type::Containerd,
            "kubernetes" => Type::Kubernetes,
            "command" => Type::Command,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Type::ProcessId => "process_id",
            Type::Podman => "podman",
            Type::Docker => "docker",
            Type::Nspawn => "nspawn",
            Type::Lxc => "lxc",
            Type::Lxd => "lxd",
            Type::Containerd => "containerd",
            Type::Kubernetes => "kubernetes",
            Type::Command => "command",
        }
    }
}

/// Parses a `-t` value: a comma list of type names.
pub fn parse_types(s: &OsStr) -> Result<Vec<Type>> {
    let s = s
        .to_str()
        .ok_or_else(|| Error::usage("container types must be UTF-8"))?;
    let mut out = Vec::new();
    for name in s.split(',') {
        let t = Type::from_name(name)
            .ok_or_else(|| Error::usage(format!("unknown container type '{name}'")))?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// Resolves `target` with the resolvers `types` names (all but `command`
/// when `None`).
pub fn resolve(types: Option<&OsStr>, target: &OsStr) -> Result<Process> {
    let types = match types {
        Some(t) => parse_types(t)?,
        None => DEFAULT.to_vec(),
    };
    let shown = target.to_string_lossy();
    if target.is_empty() {
        return Err(Error::usage("empty container name"));
    }
    if types.contains(&Type::ProcessId) {
        if let Some(pid) = crate::proc::parse_pid(target) {
            return Process::open(pid);
        }
    }
    let tried: Vec<&str> = types.iter().map(|t| t.name()).collect();
    Err(Error::new(format!(
        "no container found for '{shown}' (tried: {})",
        tried.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types() {
        assert_eq!(
            parse_types(OsStr::new("process-id,docker")).unwrap(),
            vec![Type::ProcessId, Type::Docker]
        );
        assert!(parse_types(OsStr::new("docker,nope"))
            .unwrap_err()
            .message()
            .contains("unknown container type 'nope'"));
        assert!(parse_types(OsStr::new("")).is_err());
    }
}
