//! Container engines: turning a container name, id or PID into a pinned
//! process. `-t TYPES` picks which resolvers are tried, in the order of
//! the existing cntr. Every resolver that knows the target is asked; two
//! answers are an ambiguity, reported with the candidates.

pub mod cli;
pub mod command;
pub mod containerd;
pub mod docker;
pub mod http;
pub mod json;
pub mod kubernetes;
pub mod lxc;
pub mod lxd;
pub mod nspawn;
pub mod podman;
pub mod runc;

use crate::error::{Error, Result};
use crate::proc::Process;
use std::ffi::OsStr;

/// A container an engine knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub engine: Type,
    pub id: String,
    pub name: String,
    /// Its main process, as the host sees it.
    pub pid: i32,
    /// More that the engine tells (kubernetes pod and namespace).
    pub extra: Vec<(String, String)>,
    /// How the PID is checked once pinned.
    pub check: Check,
}

/// How a resolved PID is checked to still be the container's, once
/// pinned: between the engine's answer and `pidfd_open` the container may
/// have died and its PID gone to another process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Nothing to check (a PID, or a command line, given as such).
    None,
    /// The container's ID is a word of the process's cgroup paths.
    CgroupId,
    /// The process's parent is this one (podman's conmon).
    Parent(i32),
    /// A rootless podman container's: the process is the user's with this
    /// uid (see `podman::check_user`), and its parent is conmon, if known,
    /// else the ID is in its cgroup paths.
    User { parent: Option<i32>, uid: u32 },
}

impl Found {
    /// One line for messages: `docker web (34b48a34880d, PID 4714)`.
    pub fn describe(&self) -> String {
        let short: String = self.id.chars().take(12).collect();
        if self.engine == Type::ProcessId {
            format!("process {}", self.pid)
        } else if self.engine == Type::Command {
            format!(
                "process {} ({})",
                self.pid,
                self.name.chars().take(60).collect::<String>()
            )
        } else {
            format!(
                "{} {} ({short}, PID {})",
                self.engine.name(),
                self.name,
                self.pid
            )
        }
    }

    /// The container as the fields of a JSON object (without braces):
    /// `pid`, `engine`, `id`, `name`, then what the engine told more, each
    /// under its plain name (`image`, `namespace`, `pod`, ...).
    pub fn json_fields(&self) -> String {
        use json::quote;
        let mut out = format!(
            "\"pid\":{},\"engine\":{},\"id\":{},\"name\":{}",
            self.pid,
            quote(self.engine.name().as_bytes()),
            quote(self.id.as_bytes()),
            quote(self.name.as_bytes())
        );
        for (k, v) in &self.extra {
            out.push_str(&format!(",{}:{}", quote(k.as_bytes()), quote(v.as_bytes())));
        }
        out
    }

    /// A value the engine told of the container (`image`, ...).
    pub fn extra(&self, key: &str) -> Option<&str> {
        self.extra
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Checks, once the PID is pinned, that it is still this container's.
    fn verify(&self, p: &Process) -> Result<()> {
        let cgroup =
            || -> Result<bool> { Ok(holds_id(&p.read("cgroup", 64 * 1024)?, self.id.as_bytes())) };
        let parent = |parent: i32| -> Result<bool> {
            let stat = p.read("stat", 4096)?;
            Ok(crate::proc::parse_stat(&stat).is_some_and(|st| st.ppid == parent))
        };
        let ok = match self.check {
            Check::None => true,
            Check::CgroupId => cgroup()?,
            Check::Parent(pid) => parent(pid)?,
            Check::User {
                parent: conmon,
                uid,
            } => {
                podman::check_user(p, uid, self)?;
                match conmon {
                    Some(pid) => parent(pid)?,
                    None => cgroup()?,
                }
            }
        };
        if !ok {
            return Err(Error::new(format!(
                "process {} is no longer {}'s",
                self.pid,
                self.describe()
            )));
        }
        Ok(())
    }
}

/// The candidates among an engine's containers `all` for `target`: those
/// `exact` matches (a name, a full ID) if there are any, else those whose
/// ID starts with it. `running` turns one whose process runs into a
/// candidate; when none of the matches runs, that is the answer, said of
/// the first by `stopped`.
fn pick<E>(
    all: &[E],
    target: &str,
    exact: impl Fn(&E) -> bool,
    id: impl Fn(&E) -> &str,
    running: impl Fn(&E) -> Option<Found>,
    stopped: impl Fn(&E) -> String,
) -> Result<Vec<Found>> {
    let exact: Vec<&E> = all.iter().filter(|e| exact(e)).collect();
    let hits = if exact.is_empty() {
        all.iter().filter(|e| id(e).starts_with(target)).collect()
    } else {
        exact
    };
    let out: Vec<Found> = hits.iter().filter_map(|e| running(e)).collect();
    match (out.is_empty(), hits.first()) {
        (true, Some(e)) => Err(Error::new(stopped(e))),
        _ => Ok(out),
    }
}

/// Whether `id` occurs in `cgroup` as a word of its own (not followed or
/// preceded by a letter or digit): `/docker/ID`, `docker-ID.scope`,
/// `/kubepods/.../ID`, but not `web` inside `/webshop`.
fn holds_id(cgroup: &[u8], id: &[u8]) -> bool {
    let word = |c: Option<&u8>| c.is_some_and(u8::is_ascii_alphanumeric);
    memchr::memmem::find_iter(cgroup, id).any(|i| {
        let before = i > 0 && word(cgroup.get(i - 1));
        let after = word(cgroup.get(i + id.len()));
        !before && !after
    })
}

/// A resolved target: the pinned process and what the engine said of it.
pub struct Resolved {
    pub process: Process,
    pub found: Found,
}

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
    Runc,
    Command,
}

/// Tried when `-t` is not given, in this order (the existing cntr's, then
/// runc); `command` only on request.
pub const DEFAULT: [Type; 9] = [
    Type::ProcessId,
    Type::Podman,
    Type::Docker,
    Type::Nspawn,
    Type::Lxc,
    Type::Lxd,
    Type::Containerd,
    Type::Kubernetes,
    Type::Runc,
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
            "runc" => Type::Runc,
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
            Type::Runc => "runc",
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

/// What to resolve: the target, the resolvers to ask (`-t`; the default
/// order when `None`), and the user whose rootless podman containers are
/// read too (`--owner`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Query<'a> {
    pub types: Option<&'a OsStr>,
    pub owner: Option<&'a str>,
    pub target: &'a OsStr,
}

/// Resolves `q.target` with the resolvers `q.types` names.
pub fn resolve(q: &Query<'_>) -> Result<Resolved> {
    let (target, owner) = (q.target, q.owner);
    let types = match q.types {
        Some(t) => parse_types(t)?,
        None => DEFAULT.to_vec(),
    };
    if target.is_empty() {
        return Err(Error::usage("empty container name"));
    }
    let shown = target.to_string_lossy();
    let mut found: Vec<Found> = Vec::new();
    let mut errors: Vec<Error> = Vec::new();
    let mut tried = Vec::new();
    // A target that is not UTF-8 can only be a PID (which it is not).
    let name = target.to_str();
    for t in &types {
        let answer: Result<Vec<Found>> = match (t, name) {
            (Type::ProcessId, _) => Ok(crate::proc::parse_pid(target)
                .map(|pid| Found {
                    engine: Type::ProcessId,
                    id: pid.to_string(),
                    name: pid.to_string(),
                    pid,
                    extra: Vec::new(),
                    check: Check::None,
                })
                .into_iter()
                .collect()),
            (_, None) => Ok(Vec::new()),
            (Type::Docker, Some(s)) => docker::find(s).map(|f| f.into_iter().collect()),
            (Type::Podman, Some(s)) => podman::find(s, owner),
            (Type::Nspawn, Some(s)) => nspawn::find(s),
            (Type::Lxc, Some(s)) => lxc::find(s),
            (Type::Containerd, Some(s)) => containerd::find(s),
            (Type::Kubernetes, Some(s)) => kubernetes::find(s),
            (Type::Runc, Some(s)) => runc::find(s),
            (Type::Lxd, Some(s)) => lxd::find(s),
            (Type::Command, Some(s)) => command::find(s),
        };
        tried.push(t.name());
        match answer {
            // Several processes or tasks can match: each is a candidate,
            // and a process two engines name counts once.
            Ok(list) => {
                for f in list {
                    if !found.iter().any(|g| g.pid == f.pid) {
                        found.push(f);
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    let f = match found.len() {
        1 => found.remove(0),
        0 => {
            return Err(errors.into_iter().next().unwrap_or_else(|| {
                Error::new(format!(
                    "no container found for '{shown}' (tried: {})",
                    tried.join(", ")
                ))
            }))
        }
        _ => {
            let mut list: Vec<String> = found.iter().take(8).map(Found::describe).collect();
            if found.len() > 8 {
                list.push(format!("and {} more", found.len() - 8));
            }
            return Err(Error::new(format!(
                "'{shown}' is ambiguous: {}; name one more precisely, or pick the engine with -t",
                list.join(", ")
            )));
        }
    };
    crate::sys::pause("resolved");
    let process = Process::open(f.pid)?;
    f.verify(&process)?;
    crate::sys::pause("pinned");
    Ok(Resolved { process, found: f })
}

/// Every running container the engines in `types` know, in their order;
/// a container two of them know (docker's is also a containerd task) is
/// listed once, by the first, but a pod container under its pod's name.
/// `process_id` has nothing to list, and `command` (any process at all)
/// says so.
pub fn list(types: &[Type], owner: Option<&str>) -> Result<Vec<Found>> {
    let mut out: Vec<Found> = Vec::new();
    for t in types {
        let more = match t {
            Type::ProcessId => Vec::new(),
            Type::Podman => podman::list(owner),
            Type::Docker => docker::list()?,
            // A pod container under its pod's name rather than as a task.
            Type::Containerd => containerd::list()
                .into_iter()
                .filter(|f| {
                    types.contains(&Type::Kubernetes)
                        || !f
                            .extra
                            .iter()
                            .any(|(k, v)| k == "namespace" && v == "k8s.io")
                })
                .collect(),
            Type::Kubernetes => kubernetes::list(),
            Type::Runc => runc::list(),
            Type::Lxc => lxc::list(),
            Type::Nspawn => nspawn::list(),
            Type::Lxd => lxd::list()?,
            Type::Command => return Err(Error::usage("--list lists containers, not commands")),
        };
        for f in more {
            if let Some(i) = out.iter().position(|g| g.pid == f.pid) {
                // The pod's own name beats the bare task it also is.
                if f.engine == Type::Kubernetes && out[i].engine == Type::Containerd {
                    out[i] = f;
                }
            } else {
                out.push(f);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_ids() {
        assert!(holds_id(b"1:cpu:/docker/abc123\n", b"abc123"));
        assert!(holds_id(
            b"0::/system.slice/docker-abc123.scope\n",
            b"abc123"
        ));
        assert!(!holds_id(b"0::/webshop\n", b"web"));
        assert!(!holds_id(b"0::/abc1234\n", b"abc123"));
        assert!(holds_id(b"0::/webshop\n0::/x/web\n", b"web"));
    }

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
