//! Podman: a container's name, ID or ID prefix, from the files of its
//! storage and run roots: names and IDs in
//! `<root>/<driver>-containers/containers.json`, the PID in
//! `<runroot>/<driver>-containers/<id>/userdata/pidfile`, its conmon's in
//! `conmon.pid` beside it. No podman is run: a CLI start costs tens of
//! milliseconds.
//!
//! Root's containers live in `/var/lib/containers/storage` and
//! `/run/containers/storage` (or `CNTR_PODMAN_ROOT` and
//! `CNTR_PODMAN_RUNROOT`). Root's podman cannot see a user's rootless
//! containers; cntr also reads those of the user `--owner` names, or of
//! `CNTR_PODMAN_USER` (a user name or uid), or of the invoking user
//! (`SUDO_UID`, as when run through sudo):
//! `~/.local/share/containers/storage` and `/run/user/UID/containers`.
//! That user controls those files, so they are opened below the user's
//! directories without following any symlink, as regular files, bounded and
//! non-blocking; nothing of the user's environment is read. The home
//! directory comes from the host's `/etc/passwd`, parsed (no NSS). The user
//! writes the PID files too, so a PID read there must be the user's (see
//! [`check_user`]): otherwise the user could point root's cntr at any
//! process of the host.

use super::json::Json;
use super::{Check, Engine, Find, Found, Image};
use crate::error::{Error, Result};
use crate::proc::Process;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{Mode, OFlags, ResolveFlags};

/// The `podman` resolver, a row of [`super::ENGINES`].
pub const ENGINE: Engine = Engine {
    name: "podman",
    by_default: true,
    find: Find::Now(|q| q.name().map_or(Ok(Vec::new()), |n| find(n, q.owner))),
    list: |q| Ok(list(q.owner)),
};

/// The most of a `containers.json` that is read.
const LIST_LIMIT: usize = 16 << 20;
/// The most entries of one list that are looked at: podman writes about
/// 0.5 KiB per container (537 bytes for a busybox container here), so a
/// list within [`LIST_LIMIT`] holds fewer, and what lies past them is no
/// podman's. Each entry is parsed alone (`Json::each_element`), so a list
/// of millions of tiny or deeply nested values costs the memory of one
/// entry and the time of one pass, not a tree of the whole list (before:
/// 1.2 GB and 9 s for 16 MiB of nested empty arrays).
const MAX_ENTRIES: usize = 32 << 10;
/// The largest entry that is looked at.
const ENTRY_LIMIT: usize = 64 << 10;
/// The most names of one container that are kept (podman gives it one).
const MAX_NAMES: usize = 8;

/// A podman storage: its root and run root, and the uid of the rootless
/// user whose storage it is (`None` for root's).
#[derive(Clone)]
struct Store {
    root: String,
    runroot: String,
    user: Option<u32>,
}

fn var(name: &str, default: &str) -> String {
    std::env::var_os(name).map_or_else(|| default.to_string(), |v| v.to_string_lossy().into_owned())
}

/// Checks `--owner USER` (a name or uid): a user the host does not know
/// (or root, who has no rootless containers) is an error, so that a typo
/// does not silently read nothing.
pub fn check_owner(user: &str) -> Result<()> {
    match User::lookup(user) {
        Some(_) => Ok(()),
        None => Err(crate::error::Error::usage(format!(
            "--owner: no user '{user}' other than root with a home directory in /etc/passwd"
        ))),
    }
}

/// A host user, from the host's `/etc/passwd`.
struct User {
    uid: u32,
    name: String,
    home: String,
}

impl User {
    /// The user whose rootless containers are read too: `--owner`, else
    /// `CNTR_PODMAN_USER`, else the user who ran sudo.
    fn rootless(owner: Option<&str>) -> Option<User> {
        let hint = owner
            .map(str::to_string)
            .or_else(|| std::env::var_os("CNTR_PODMAN_USER").and_then(|h| h.into_string().ok()))
            .or_else(|| std::env::var_os("SUDO_UID").and_then(|h| h.into_string().ok()))?;
        User::lookup(&hint)
    }

    /// `hint` (a name or uid) in the host's /etc/passwd, parsed (no NSS);
    /// None for root.
    fn lookup(hint: &str) -> Option<User> {
        if hint.is_empty() {
            return None;
        }
        let passwd = crate::proc::read(rustix::fs::CWD, "/etc/passwd", 4 << 20).ok()?;
        for line in passwd.split(|&c| c == b'\n') {
            let f: Vec<&[u8]> = line.split(|&c| c == b':').collect();
            if f.len() < 7 {
                continue;
            }
            let (name, uid, home) = (
                String::from_utf8_lossy(f[0]),
                String::from_utf8_lossy(f[2]),
                String::from_utf8_lossy(f[5]),
            );
            if (name == hint || uid == hint) && home.starts_with('/') {
                let uid: u32 = uid.parse().ok()?;
                return (uid != 0).then(|| User {
                    uid,
                    name: name.into_owned(),
                    home: home.into_owned(),
                });
            }
        }
        None
    }
}

fn stores(owner: Option<&str>) -> Vec<Store> {
    let mut v = vec![Store {
        root: var("CNTR_PODMAN_ROOT", "/var/lib/containers/storage"),
        runroot: var("CNTR_PODMAN_RUNROOT", "/run/containers/storage"),
        user: None,
    }];
    if let Some(u) = User::rootless(owner) {
        v.push(Store {
            root: format!("{}/.local/share/containers/storage", u.home),
            runroot: format!("/run/user/{}/containers", u.uid),
            user: Some(u.uid),
        });
    }
    v
}

/// Opens `rel` below directory `base`, never through a symlink.
fn open_beneath(base: &str, rel: &str, flags: OFlags) -> Option<OwnedFd> {
    let dir = rustix::fs::open(
        base,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    // openat2 takes nothing but CLOEXEC, DIRECTORY and NOFOLLOW beside
    // O_PATH.
    let extra = if flags.contains(OFlags::PATH) {
        OFlags::CLOEXEC
    } else {
        OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY
    };
    rustix::fs::openat2(
        &dir,
        rel,
        flags | extra,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
    )
    .ok()
}

/// A regular file below `base`, at most `limit` bytes.
fn read_beneath(base: &str, rel: &str, limit: usize) -> Option<Vec<u8>> {
    let fd = open_beneath(base, rel, OFlags::RDONLY)?;
    let st = rustix::fs::fstat(&fd).ok()?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return None;
    }
    crate::proc::read_fd(&fd, limit).ok()
}

fn read_pid(base: &str, rel: &str) -> Option<i32> {
    let b = read_beneath(base, rel, 32)?;
    std::str::from_utf8(&b)
        .ok()?
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|&p| p > 0)
}

/// One `DRIVER-containers/containers.json`: where the run files of its
/// containers are, and the rootless user who writes them.
struct List {
    runroot: String,
    driver: String,
    user: Option<u32>,
}

/// A container as podman's files describe it.
struct Entry {
    id: String,
    names: Vec<String>,
    /// The image's name, from the entry's metadata.
    image: Option<String>,
    /// The [`List`] it is in.
    list: usize,
}

/// The containers podman's files know that `keep` keeps: of each list,
/// the first [`MAX_ENTRIES`], each at most [`ENTRY_LIMIT`] bytes. A list
/// that is not well-formed up to there counts for nothing.
fn containers(
    owner: Option<&str>,
    keep: impl Fn(&str, &[String]) -> bool,
) -> (Vec<List>, Vec<Entry>) {
    let mut lists = Vec::new();
    let mut out = Vec::new();
    for s in stores(owner) {
        let Some(top) = open_beneath(&s.root, ".", OFlags::RDONLY | OFlags::DIRECTORY) else {
            continue;
        };
        let Ok(mut dir) = rustix::fs::Dir::new(top) else {
            continue;
        };
        let mut drivers = Vec::new();
        while let Some(Ok(e)) = dir.read() {
            if let Ok(n) = e.file_name().to_str() {
                if n.ends_with("-containers") && !n.starts_with('.') {
                    drivers.push(n.to_string());
                }
            }
        }
        for driver in drivers {
            let Some(raw) = read_beneath(&s.root, &format!("{driver}/containers.json"), LIST_LIMIT)
            else {
                continue;
            };
            let mut kept = Vec::new();
            let well_formed = Json::each_element(&raw, MAX_ENTRIES, |text| {
                let Some((id, names, image)) = entry(text) else {
                    return;
                };
                if keep(&id, &names) {
                    kept.push(Entry {
                        id,
                        names,
                        image,
                        list: lists.len(),
                    });
                }
            });
            if well_formed.is_some() && !kept.is_empty() {
                out.append(&mut kept);
                lists.push(List {
                    runroot: s.runroot.clone(),
                    driver,
                    user: s.user,
                });
            }
        }
    }
    (lists, out)
}

/// The ID, names and image name of one entry of a `containers.json`
/// (the image name is in `metadata`, a JSON text of its own).
fn entry(text: &[u8]) -> Option<(String, Vec<String>, Option<String>)> {
    if text.len() > ENTRY_LIMIT || !text.starts_with(b"{") {
        return None;
    }
    let c = Json::parse(text)?;
    let id = c
        .get("id")
        .and_then(Json::str)
        .filter(|id| super::containerd::plausible(id))?;
    let names = names(&c, MAX_NAMES);
    let image = c
        .get("metadata")
        .and_then(Json::str)
        .and_then(|m| Json::parse(m.as_bytes()))
        .and_then(|m| m.get("image-name").and_then(Json::str).map(str::to_string));
    Some((id.to_string(), names, image))
}

/// The container, if its process runs.
fn found(lists: &[List], e: &Entry) -> Option<Found> {
    let l = lists.get(e.list)?;
    let file = |name: &str| {
        read_pid(
            &l.runroot,
            &format!("{}/{}/userdata/{name}", l.driver, e.id),
        )
    };
    let pid = file("pidfile").filter(|&p| crate::proc::running(p))?;
    let conmon = file("conmon.pid");
    let name = e.names.first().cloned().unwrap_or_else(|| e.id.clone());
    // conmon is the container's parent, also for rootless containers,
    // which have no cgroup of their own.
    let check = match l.user {
        Some(uid) => Check::User {
            parent: conmon,
            uid,
        },
        None => conmon.map_or(Check::CgroupId, Check::Parent),
    };
    Some(Found {
        engine: &ENGINE,
        id: e.id.clone(),
        name,
        pid,
        extra: e
            .image
            .iter()
            .map(|i| ("image".to_string(), i.clone()))
            .collect(),
        check,
    })
}

/// The containers `target` names: by name or full ID, else by ID prefix.
pub fn find(target: &str, owner: Option<&str>) -> Result<Vec<Found>> {
    if target.is_empty() {
        return Ok(Vec::new());
    }
    let (lists, all) = containers(owner, |id, names| {
        id.starts_with(target) || names.iter().any(|n| n == target)
    });
    super::pick(
        &all,
        target,
        |e| e.id == target || e.names.iter().any(|n| n == target),
        |e| &e.id,
        |e| found(&lists, e),
        |e| {
            format!(
                "podman container {} is not running",
                e.names.first().unwrap_or(&e.id)
            )
        },
    )
}

/// Every running container (a rootless one only when its process is the
/// user's).
pub fn list(owner: Option<&str>) -> Vec<Found> {
    let (lists, all) = containers(owner, |_, _| true);
    all.iter()
        .filter_map(|e| found(&lists, e))
        .filter(|f| match f.check {
            Check::User { uid, .. } => {
                Process::open(f.pid).is_ok_and(|p| check_user(&p, uid, f).is_ok())
            }
            _ => true,
        })
        .collect()
}

/// The most of an `images.json` or `layers.json` that is read.
const STORE_LIMIT: usize = 64 << 20;
/// The most layers an image may have: overlayfs takes no more lower
/// layers.
const MAX_LAYERS: usize = 500;
/// The most of an image's configuration that is read.
const CONFIG_LIMIT: usize = 4 << 20;

/// The names podman would try for a short `reference`: as given, then
/// under `localhost/` (a loaded or built image) and docker.io's library,
/// each with `:latest` when it names no tag or digest.
fn image_names(reference: &str) -> Vec<String> {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    let tagged = if last.contains(':') || reference.contains('@') {
        reference.to_string()
    } else {
        format!("{reference}:latest")
    };
    let mut v = vec![tagged.clone()];
    for prefix in ["localhost/", "docker.io/", "docker.io/library/"] {
        v.push(format!("{prefix}{tagged}"));
    }
    v
}

/// The first `most` strings of an entry's `names`.
fn names(entry: &Json, most: usize) -> Vec<String> {
    entry
        .get("names")
        .map(|n| {
            n.arr()
                .iter()
                .filter_map(Json::str)
                .take(most)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// An image entry of `images.json`: its ID, names and top layer.
fn image_entry(text: &[u8]) -> Option<(String, Vec<String>, String)> {
    if text.len() > ENTRY_LIMIT {
        return None;
    }
    let j = Json::parse(text)?;
    let id = j.get("id").and_then(Json::str).filter(|i| hex64(i))?;
    let layer = j.get("layer").and_then(Json::str).filter(|l| hex64(l))?;
    let names = names(&j, usize::MAX);
    Some((id.to_string(), names, layer.to_string()))
}

fn hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

/// The image `reference` (a name as podman completes it, see
/// [`image_names`], an ID or an ID prefix) in the `overlay` stores of
/// root and of the rootless user (as for containers): its layers from
/// `overlay-layers/layers.json`, each `overlay/ID/diff` opened below the
/// store without following a symlink (a rootless user controls those
/// files), and its `PATH` from its configuration. `Ok(None)`: no store
/// has it.
pub fn image(reference: &str, owner: Option<&str>) -> Result<Option<Image>> {
    if !super::plausible_image(reference) {
        return Ok(None);
    }
    let names = image_names(reference);
    let prefix = reference.strip_prefix("sha256:").unwrap_or(reference);
    let by_id =
        prefix.len() >= 3 && prefix.len() <= 64 && prefix.bytes().all(|c| c.is_ascii_hexdigit());
    // (store, id, top layer, whether by name)
    let mut hits: Vec<(Store, String, String, bool)> = Vec::new();
    // An image that only a store of another driver holds.
    let mut elsewhere = None;
    let matches = |raw: &[u8]| {
        let mut found = Vec::new();
        Json::each_element(raw, MAX_ENTRIES, |text| {
            if let Some((id, n, layer)) = image_entry(text) {
                if n.iter().any(|x| names.contains(x)) {
                    found.push((id, layer, true));
                } else if by_id && id.starts_with(prefix) {
                    found.push((id, layer, false));
                }
            }
        });
        found
    };
    for s in stores(owner) {
        let Some(raw) = read_beneath(&s.root, "overlay-images/images.json", STORE_LIMIT) else {
            for driver in ["vfs", "btrfs", "zfs", "aufs", "devmapper"] {
                let list = format!("{driver}-images/images.json");
                if read_beneath(&s.root, &list, STORE_LIMIT)
                    .is_some_and(|r| !matches(&r).is_empty())
                {
                    elsewhere = Some(format!(
                        "podman image {reference} is kept by the {driver} driver in {}; \
                         images are read from docker's overlay2 and podman's overlay",
                        s.root
                    ));
                }
            }
            continue;
        };
        for (id, layer, by_name) in matches(&raw) {
            hits.push((s.clone(), id, layer, by_name));
        }
    }
    // A name counts before an ID prefix, as in podman.
    if hits.iter().any(|h| h.3) {
        hits.retain(|h| h.3);
    }
    let (store, id, top) = match hits.len() {
        0 => return elsewhere.map_or(Ok(None), |e| Err(Error::new(e))),
        1 => {
            let h = hits.remove(0);
            (h.0, h.1, h.2)
        }
        _ => {
            let ids: Vec<String> = hits
                .iter()
                .map(|h| format!("{} in {}", &h.1[..12], h.0.root))
                .collect();
            return Err(Error::new(format!(
                "podman image {reference} is ambiguous: {}",
                ids.join(", ")
            )));
        }
    };
    let chain = layer_chain(&store.root, &top).ok_or_else(|| {
        Error::new(format!(
            "podman image {reference}: its layers are not all in {}/overlay-layers/layers.json",
            store.root
        ))
    })?;
    let mut layers = Vec::new();
    for l in &chain {
        let rel = format!("overlay/{l}/diff");
        let fd =
            open_beneath(&store.root, &rel, OFlags::PATH | OFlags::DIRECTORY).ok_or_else(|| {
                Error::new(format!(
                    "podman image {reference}: layer {}/{rel} is missing",
                    store.root
                ))
            })?;
        layers.push(fd);
    }
    let config = read_beneath(
        &store.root,
        &format!(
            "overlay-images/{id}/={}",
            base64(format!("sha256:{id}").as_bytes())
        ),
        CONFIG_LIMIT,
    );
    let path = config
        .and_then(|c| Json::parse(&c))
        .and_then(|j| super::image_path(j.at(&["config", "Env"])));
    Ok(Some(Image {
        engine: ENGINE.name,
        layers,
        path,
    }))
}

/// The layers from `top` down to the base, by each layer's `parent` in
/// `layers.json`; `None` when one is missing, the chain loops or is
/// longer than overlayfs takes.
fn layer_chain(root: &str, top: &str) -> Option<Vec<String>> {
    let raw = read_beneath(root, "overlay-layers/layers.json", STORE_LIMIT)?;
    let mut parents: Vec<(String, Option<String>)> = Vec::new();
    Json::each_element(&raw, MAX_ENTRIES, |text| {
        if text.len() > ENTRY_LIMIT {
            return;
        }
        let Some(j) = Json::parse(text) else {
            return;
        };
        if let Some(id) = j.get("id").and_then(Json::str).filter(|i| hex64(i)) {
            let parent = j.get("parent").and_then(Json::str).map(str::to_string);
            parents.push((id.to_string(), parent));
        }
    })?;
    let mut chain = vec![top.to_string()];
    loop {
        let last = chain.last()?;
        let (_, parent) = parents.iter().find(|(id, _)| id == last)?;
        match parent {
            None => return Some(chain),
            Some(p) if hex64(p) && !chain.contains(p) && chain.len() < MAX_LAYERS => {
                chain.push(p.clone())
            }
            Some(_) => return None,
        }
    }
}

/// Standard base64 with padding, as containers-storage names an image's
/// big-data files (`=` and the encoded key).
fn base64(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &x)| n | u32::from(x) << (16 - 8 * i));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Checks that process `p`, which the rootless store of user `uid` names
/// as container `f`, is that user's: none of its uids (real, effective,
/// saved, filesystem; as the host sees them) is root, and its user
/// namespace is owned by the user (`NS_GET_OWNER_UID`, as rootless podman
/// makes it), or else each of its uids is the user's own or one of the
/// user's subordinate uids in `/etc/subuid` (a container that made a user
/// namespace of its own).
pub(super) fn check_user(p: &Process, uid: u32, f: &Found) -> Result<()> {
    let ids = p.status()?.uid;
    let name = User::lookup(&uid.to_string()).map_or_else(|| uid.to_string(), |u| u.name);
    let refuse = |why: String| Error::new(format!("{} is not user {name}'s: {why}", f.describe()));
    if let Some(root) = ids.iter().find(|&&u| u == 0) {
        return Err(refuse(format!("its process runs as host uid {root}")));
    }
    let owner = rustix::fs::openat(
        &p.dir,
        "ns/user",
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .and_then(|ns| crate::sys::ns_owner_uid(ns.as_fd()));
    if owner == Ok(uid) {
        return Ok(());
    }
    let sub = crate::proc::read(rustix::fs::CWD, "/etc/subuid", 1 << 20)
        .map(|raw| subuids(&raw, &name, uid))
        .unwrap_or_default();
    match ids.iter().find(|&&u| u != uid && !sub.iter().any(|r| r.contains(&u64::from(u)))) {
        None => Ok(()),
        Some(u) => Err(refuse(format!(
            "its process runs as host uid {u}, neither the user's nor a subordinate uid of the user's"
        ))),
    }
}

/// The subordinate uid ranges that a `/etc/subuid` text gives the user
/// `name` with uid `uid` (lines `NAME_OR_UID:FIRST:COUNT`); at most 64.
fn subuids(raw: &[u8], name: &str, uid: u32) -> Vec<std::ops::Range<u64>> {
    let uid = uid.to_string();
    let num = |b: &[u8]| std::str::from_utf8(b).ok()?.parse::<u32>().ok();
    raw.split(|&c| c == b'\n')
        .filter_map(|line| {
            let f: Vec<&[u8]> = line.split(|&c| c == b':').collect();
            let [who, first, count] = f[..] else {
                return None;
            };
            if who.is_empty() || (who != name.as_bytes() && who != uid.as_bytes()) {
                return None;
            }
            let first = u64::from(num(first)?);
            Some(first..first + u64::from(num(count)?))
        })
        .take(64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_and_base64() {
        assert_eq!(
            image_names("busybox"),
            [
                "busybox:latest",
                "localhost/busybox:latest",
                "docker.io/busybox:latest",
                "docker.io/library/busybox:latest"
            ]
        );
        assert_eq!(image_names("quay.io/a/b:1")[0], "quay.io/a/b:1");
        assert_eq!(image_names("reg:5000/x")[0], "reg:5000/x:latest");
        assert_eq!(image_names("x@sha256:ab")[0], "x@sha256:ab");
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
        ] {
            assert_eq!(base64(raw.as_bytes()), enc);
        }
        assert_eq!(
            base64(b"sha256:c46662f5c4054e9edf96b4138a41dc3c4395335bc28f534178f459e388fd1915"),
            "c2hhMjU2OmM0NjY2MmY1YzQwNTRlOWVkZjk2YjQxMzhhNDFkYzNjNDM5NTMzNWJjMjhmNTM0MTc4ZjQ1OWUzODhmZDE5MTU="
        );
    }

    #[test]
    fn subordinate_ranges() {
        let raw = b"root:100000:65536\nalice:300000:65536\n1001:500000:10\nalice:x:1\nalice:1:2:3\n:7:7\nbob:400000:65536";
        assert_eq!(
            subuids(raw, "alice", 1001),
            vec![300000..365536, 500000..500010]
        );
        assert_eq!(subuids(raw, "carol", 1002), vec![]);
        assert_eq!(subuids(raw, "", 7), vec![]);
        let big = b"alice:4294967295:4294967295";
        assert_eq!(subuids(big, "alice", 1), vec![4294967295..8589934590]);
    }
}
