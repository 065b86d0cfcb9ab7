//! Container engines: turning a container name, id or PID into a pinned
//! process. Each engine is a file with its `ENGINE`, a row of [`ENGINES`];
//! `-t TYPES` picks which of them are asked. Every resolver that knows the
//! target is asked; two answers are an ambiguity, reported with the
//! candidates.

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
pub mod process_id;
pub mod runc;

use crate::error::{Error, Result};
use crate::proc::Process;
use rustix::fd::OwnedFd;
use std::ffi::OsStr;

/// A container an engine knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub engine: &'static Engine,
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
        if self.engine == &process_id::ENGINE {
            format!("process {}", self.pid)
        } else if self.engine == &command::ENGINE {
            format!(
                "process {} ({})",
                self.pid,
                self.name.chars().take(60).collect::<String>()
            )
        } else {
            format!(
                "{} {} ({short}, PID {})",
                self.engine.name, self.name, self.pid
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
            quote(self.engine.name.as_bytes()),
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
    /// Answers still to read, with `defer` (see [`resolve_with`]).
    pub pending: Vec<Pending>,
}

/// A resolver: what turns a target into the containers an engine knows
/// by it, and lists them. Adding an engine is its file, with its
/// `ENGINE`, and one row of [`ENGINES`].
pub struct Engine {
    /// The name `-t` takes, and messages and `--list` use.
    pub name: &'static str,
    /// Asked when `-t` is not given.
    pub by_default: bool,
    /// The running containers `q.target` names; `Err` says why none runs
    /// when the engine knows the target but it does not run.
    pub find: Find,
    /// Every running container.
    pub list: fn(&Query<'_>) -> Result<Vec<Found>>,
}

impl PartialEq for Engine {
    fn eq(&self, other: &Engine) -> bool {
        self.name == other.name
    }
}

impl Eq for Engine {}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// How a resolver finds the containers a target names.
pub enum Find {
    /// It reads files: answered in its turn.
    Now(fn(&Query<'_>) -> Result<Vec<Found>>),
    /// It waits on a daemon: asked before the others and answered after
    /// them, so that the daemon works while they read their files. `read`
    /// takes the answer on the connection `ask` left open.
    Later {
        ask: fn(&Query<'_>) -> Later,
        read: fn(OwnedFd) -> Result<Vec<Found>>,
    },
}

/// What [`Find::Later`] asked.
pub enum Later {
    /// The answer is there already (no daemon to ask, or nothing it could
    /// know by this target).
    Answered(Result<Vec<Found>>),
    /// A request on its way: the connection its answer comes on.
    Asked(OwnedFd),
}

/// A daemon's answer not read yet: a live PID was pinned without it (see
/// [`resolve_with`]), and [`settle`] reads it before anything runs.
pub struct Pending {
    pub engine: &'static Engine,
    pub fd: OwnedFd,
}

/// The resolver `name` if it asks a daemon: the ones whose answer can be
/// [`Pending`].
pub fn later(name: &str) -> Option<&'static Engine> {
    ENGINES
        .iter()
        .copied()
        .find(|e| e.name == name && matches!(e.find, Find::Later { .. }))
}

/// Reads the answers left [`Pending`] for the PID `pid`: an error naming
/// every candidate when a daemon names a container whose process is
/// another one, as [`resolve`] would have said had it waited. A daemon's
/// error counts for nothing, as it would not have either (the PID was
/// found).
pub fn settle(pid: i32, pending: Vec<Pending>) -> Result<()> {
    let mut found: Vec<Found> = Vec::new();
    for p in pending {
        let Find::Later { read, .. } = p.engine.find else {
            continue;
        };
        for f in read(p.fd).unwrap_or_default() {
            if f.pid != pid && !found.iter().any(|g| g.pid == f.pid) {
                found.push(f);
            }
        }
    }
    crate::trace!(
        "read the daemons' answers: {} other candidates",
        found.len()
    );
    if found.is_empty() {
        return Ok(());
    }
    let target = pid.to_string();
    found.insert(0, process_id::found(pid));
    Err(ambiguous(&target, &found))
}

/// The error for a target that names several processes.
fn ambiguous(shown: &str, found: &[Found]) -> Error {
    let mut list: Vec<String> = found.iter().take(8).map(Found::describe).collect();
    if found.len() > 8 {
        list.push(format!("and {} more", found.len() - 8));
    }
    Error::new(format!(
        "'{shown}' is ambiguous: {}; name one more precisely, or pick the engine with -t",
        list.join(", ")
    ))
}

/// Every resolver, in the order they are asked (`command` only on
/// request).
pub const ENGINES: [&Engine; 10] = [
    &process_id::ENGINE,
    &podman::ENGINE,
    &docker::ENGINE,
    &nspawn::ENGINE,
    &lxc::ENGINE,
    &lxd::ENGINE,
    &containerd::ENGINE,
    &kubernetes::ENGINE,
    &runc::ENGINE,
    &command::ENGINE,
];

/// The names of every resolver, comma-separated, for usage texts.
pub fn names() -> String {
    ENGINES.map(|e| e.name).join(", ")
}

/// The resolvers asked when `-t` is not given.
pub fn defaults() -> Vec<&'static Engine> {
    ENGINES.into_iter().filter(|e| e.by_default).collect()
}

/// Parses a `-t` value: a comma list of resolver names (`process-id` is
/// `process_id` too).
pub fn parse_types(s: &OsStr) -> Result<Vec<&'static Engine>> {
    let s = s
        .to_str()
        .ok_or_else(|| Error::usage("container types must be UTF-8"))?;
    let mut out = Vec::new();
    for name in s.split(',') {
        let wanted = if name == "process-id" {
            "process_id"
        } else {
            name
        };
        let e = ENGINES
            .into_iter()
            .find(|e| e.name == wanted)
            .ok_or_else(|| Error::usage(format!("unknown container type '{name}'")))?;
        if !out.contains(&e) {
            out.push(e);
        }
    }
    Ok(out)
}

/// An image in an engine's local store, as `--tools image:REF` mounts it.
#[derive(Debug)]
pub struct Image {
    /// The engine whose store holds it.
    pub engine: &'static str,
    /// Its layers' directories (`O_PATH`), top first.
    pub layers: Vec<rustix::fd::OwnedFd>,
    /// The `PATH` of its configuration, if it sets one.
    pub path: Option<Vec<u8>>,
}

/// Whether `s` can be an image reference at all (`[registry/]name[:tag]`,
/// `name@digest`, an ID): letters, digits and `._/:@-`, starting with a
/// letter or digit, no `..`. Anything else is sent to no engine.
pub fn plausible_image(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 512
        && b[0].is_ascii_alphanumeric()
        && !s.contains("..")
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"._/:@-".contains(c))
}

/// Opens an image's layer directory `path` (`O_PATH`, never through a
/// symlink at its end): a missing layer is an error that names it.
fn open_layer(engine: &str, reference: &str, path: &str) -> Result<rustix::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    rustix::fs::open(
        path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| layer_error(engine, reference, path, e))
}

/// The error for a layer of an image that cannot be opened.
fn layer_error(engine: &str, reference: &str, path: &str, e: rustix::io::Errno) -> Error {
    match e {
        rustix::io::Errno::NOENT => Error::new(format!(
            "{engine} image {reference}: layer {path} is missing"
        )),
        e => Error::sys(
            format_args!("{engine} image {reference}: open layer {path}"),
            e,
        ),
    }
}

/// The `PATH` of an image configuration's `Env` list.
fn image_path(env: Option<&json::Json>) -> Option<Vec<u8>> {
    env?.arr()
        .iter()
        .filter_map(json::Json::str)
        .find_map(|e| e.strip_prefix("PATH="))
        .map(|p| p.as_bytes().to_vec())
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

impl Query<'_> {
    /// The target as a name: a target that is not UTF-8 can only be a
    /// PID, which only `process_id` takes.
    pub fn name(&self) -> Option<&str> {
        self.target.to_str()
    }
}

/// Resolves `q.target` with the resolvers `q.types` names.
pub fn resolve(q: &Query<'_>) -> Result<Resolved> {
    resolve_with(q, false, &mut || {})
}

/// [`resolve`], running `meanwhile` (work that needs no target) while the
/// daemons answer, if one was asked: after the requests are sent and the
/// other resolvers have looked, before the answers are read.
///
/// With `defer`, a target that is a live PID which no resolver reading
/// files names otherwise is pinned at once, and the daemons' answers are
/// left in [`Resolved::pending`], for [`settle`] to read before the
/// chain runs anything: a daemon takes up to a millisecond, which the
/// chain's set-up then hides. The caller must settle them.
pub fn resolve_with(q: &Query<'_>, defer: bool, meanwhile: &mut dyn FnMut()) -> Result<Resolved> {
    let types = match q.types {
        Some(t) => parse_types(t)?,
        None => defaults(),
    };
    if q.target.is_empty() {
        return Err(Error::usage("empty container name"));
    }
    let shown = q.target.to_string_lossy();
    let mut found: Vec<Found> = Vec::new();
    let mut errors: Vec<Error> = Vec::new();
    let mut tried = Vec::new();
    // The daemons are asked first and read last; the answers are taken in
    // the resolvers' order all the same.
    let mut later: Vec<Option<Later>> = types
        .iter()
        .map(|t| match t.find {
            Find::Later { ask, .. } => Some(ask(q)),
            Find::Now(_) => None,
        })
        .collect();
    let now: Vec<Option<Result<Vec<Found>>>> = types
        .iter()
        .map(|t| match t.find {
            Find::Now(find) => {
                let a = find(q);
                crate::trace!("asked {}", t.name);
                Some(a)
            }
            Find::Later { .. } => None,
        })
        .collect();
    if later.iter().any(|l| matches!(l, Some(Later::Asked(_)))) {
        meanwhile();
    }
    if defer {
        if let Some(r) = pin_now(&types, &now, &mut later) {
            return r;
        }
    }
    let answers: Vec<Result<Vec<Found>>> = now
        .into_iter()
        .zip(types.iter().zip(later))
        .map(|(a, (t, l))| match (a, l, &t.find) {
            (Some(a), _, _) => a,
            (None, Some(Later::Answered(a)), _) => a,
            (None, Some(Later::Asked(fd)), Find::Later { read, .. }) => read(fd),
            _ => Ok(Vec::new()),
        })
        .collect();
    crate::trace!("read the daemons' answers");
    for (t, answer) in types.iter().zip(answers) {
        tried.push(t.name);
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
        _ => return Err(ambiguous(&shown, &found)),
    };
    crate::sys::pause("resolved");
    crate::trace!(
        "resolved by {} ({}): {}",
        f.engine.name,
        tried.join(","),
        f.describe()
    );
    let process = Process::open(f.pid)?;
    f.verify(&process)?;
    crate::sys::pause("pinned");
    crate::trace!("pinned and checked {}", f.pid);
    Ok(Resolved {
        process,
        found: f,
        pending: Vec::new(),
    })
}

/// The target pinned as a live PID, with the daemons' answers left
/// pending, when that is all the answers so far allow: `process_id`
/// names the only candidate of the resolvers that read files, every
/// daemon that was answered already names nothing, and at least one is
/// still to answer. `None` otherwise, or when the PID is not a live
/// process (then the daemons are waited for, as without `defer`).
fn pin_now(
    types: &[&'static Engine],
    now: &[Option<Result<Vec<Found>>>],
    later: &mut [Option<Later>],
) -> Option<Result<Resolved>> {
    let mut candidates = now.iter().flatten().flat_map(|a| a.iter().flatten());
    let f = candidates.next()?;
    if f.engine != &process_id::ENGINE || candidates.any(|g| g.pid != f.pid) {
        return None;
    }
    let mut asked = false;
    for l in later.iter() {
        match l {
            Some(Later::Answered(Ok(list))) if !list.is_empty() => return None,
            Some(Later::Asked(_)) => asked = true,
            _ => {}
        }
    }
    if !asked {
        return None;
    }
    // Not a live process: the daemons are waited for, as without `defer`
    // (a number can name a container and no process at all). One that
    // dies from here on is the pin's error, as it would be after waiting.
    let pid = rustix::process::Pid::from_raw(f.pid)?;
    rustix::process::test_kill_process(pid).ok()?;
    crate::sys::pause("resolved");
    let process = match Process::open(f.pid) {
        Ok(p) => p,
        Err(e) => return Some(Err(e)),
    };
    crate::sys::pause("pinned");
    let pending = types
        .iter()
        .zip(later.iter_mut())
        .filter_map(|(t, l)| match l.take() {
            Some(Later::Asked(fd)) => Some(Pending { engine: t, fd }),
            other => {
                *l = other;
                None
            }
        })
        .collect();
    crate::trace!(
        "pinned and checked {}, the daemons' answers left for later",
        f.pid
    );
    Some(Ok(Resolved {
        process,
        found: process_id::found(f.pid),
        pending,
    }))
}

/// Every running container the engines in `types` know, in their order;
/// a container two of them know (docker's is also a containerd task) is
/// listed once, by the first. `process_id` has nothing to list, and
/// `command` (any process at all) says so.
pub fn list(types: &[&'static Engine], owner: Option<&str>) -> Result<Vec<Found>> {
    let q = Query {
        owner,
        ..Query::default()
    };
    let mut out: Vec<Found> = Vec::new();
    for t in types {
        for f in (t.list)(&q)? {
            if !out.iter().any(|g| g.pid == f.pid) {
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
            parse_types(OsStr::new("process-id,docker,docker")).unwrap(),
            vec![&process_id::ENGINE, &docker::ENGINE]
        );
        assert!(parse_types(OsStr::new("docker,nope"))
            .unwrap_err()
            .message()
            .contains("unknown container type 'nope'"));
        assert!(parse_types(OsStr::new("")).is_err());
    }
}
