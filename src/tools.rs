//! Tools trees (`--tools SRC`): the tree a session gets as its `/` in
//! place of the host's, for hosts and debug images that have no tools of
//! their own. SRC is one of:
//!
//! - `DIR`: a directory of the host (an unpacked root filesystem, a Nix
//!   closure);
//! - `container:NAME`: the root of another running container, found with
//!   the same resolvers as a target;
//! - `image:REF`: an image of docker's (`overlay2`) or podman's
//!   (`overlay`) local store, read from its layers without a container.
//!
//! Whatever the source, the tree is an overlay whose lower layers are
//! SRC's and whose upper layer is a tmpfs of its own: the session may
//! install packages and write anywhere, SRC is never written, and it all
//! goes with the session. The overlay is mounted `nosuid,nodev`: a
//! setuid binary or a device node of SRC's (a toolbox container may be as
//! hostile as the target) counts for nothing.
//!
//! The tree is built on the host's side, in cntr's own namespaces, where
//! resolvers may run (`cntr-resolve --tools`, or `cntr-mount-tree --tools`
//! before any namespace is joined): detached, it is mounted nowhere until
//! `cntr-mount-tree` makes it the session's root, so an error on the way
//! leaves nothing mounted. It travels as the handoff's `tools` fd, its
//! `PATH` as a sealed memfd (`toolsenv`).

use crate::engine::{Image, Query};
use crate::error::{Context, Error, Result};
use crate::mount::{make_fs_with, open_fs};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use rustix::mount::MountAttrFlags;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// A tools tree, ready to be the session's root.
pub struct Tools {
    /// The overlay, detached (`fsmount`).
    pub tree: OwnedFd,
    /// Its `PATH`: its image's or toolbox's, else the standard one.
    pub path: Vec<u8>,
}

/// The forms of SRC.
#[derive(Debug, PartialEq, Eq)]
pub enum Source<'a> {
    Dir(&'a OsStr),
    Container(&'a OsStr),
    Image(&'a str),
}

/// Parses SRC: `container:NAME`, `image:REF`, else a directory.
pub fn parse(src: &OsStr) -> Result<Source<'_>> {
    let b = src.as_bytes();
    if b.is_empty() {
        return Err(Error::usage(
            "--tools takes DIR, container:NAME or image:REF",
        ));
    }
    if let Some(name) = b.strip_prefix(b"container:") {
        if name.is_empty() {
            return Err(Error::usage("--tools container: needs a name"));
        }
        return Ok(Source::Container(OsStr::from_bytes(name)));
    }
    if let Some(r) = b.strip_prefix(b"image:") {
        let r = std::str::from_utf8(r)
            .ok()
            .filter(|r| crate::engine::plausible_image(r))
            .ok_or_else(|| {
                Error::usage(format!(
                    "--tools: '{}' is not an image reference",
                    String::from_utf8_lossy(r)
                ))
            })?;
        return Ok(Source::Image(r));
    }
    Ok(Source::Dir(src))
}

/// The target a tools tree must not be: the tools are never the
/// container's own files (that is `cntr exec`).
pub struct Target<'a> {
    pub pid: i32,
    pub root: BorrowedFd<'a>,
}

/// Finds SRC and builds its tree. Runs in the host's namespaces: a
/// resolver asked from inside a container's network namespace could be
/// answered by the container.
pub fn open(src: &OsStr, q: &Query<'_>, target: &Target<'_>) -> Result<Tools> {
    let same_as_target = |fd: &OwnedFd| -> Result<bool> {
        let a = rustix::fs::fstat(fd).ctx("stat the tools tree")?;
        let b = rustix::fs::fstat(target.root).ctx("stat the target's root")?;
        Ok((a.st_dev, a.st_ino) == (b.st_dev, b.st_ino))
    };
    let shown = src.to_string_lossy();
    let (layers, path) = match parse(src)? {
        Source::Dir(dir) => {
            let fd = rustix::fs::open(
                dir,
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| match e {
                rustix::io::Errno::NOENT => Error::new(format!("tools dir {shown} does not exist")),
                rustix::io::Errno::NOTDIR => {
                    Error::new(format!("tools dir {shown} is not a directory"))
                }
                e => Error::sys(format_args!("open tools dir {shown}"), e),
            })?;
            if same_as_target(&fd)? {
                return Err(Error::new(format!(
                    "tools dir {shown} is the target's own root: use cntr exec"
                )));
            }
            (vec![fd], None)
        }
        Source::Container(name) => {
            let r = crate::engine::resolve(&Query { target: name, ..*q }).map_err(|e| {
                Error::with_code(e.code(), format!("--tools {shown}: {}", e.message()))
            })?;
            let what = r.found.describe();
            let root = rustix::fs::openat(
                &r.process.dir,
                "root",
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| Error::sys(format_args!("open the root of {what}"), e))?;
            if r.process.pid == target.pid || same_as_target(&root)? {
                return Err(Error::new(format!(
                    "the tools container {what} is the target itself: use cntr exec"
                )));
            }
            let environ = r.process.read("environ", crate::env::ENVIRON_LIMIT)?;
            let env = crate::env::parse(&environ, environ.len() < crate::env::ENVIRON_LIMIT);
            let path = crate::env::get(&env, b"PATH").map(<[u8]>::to_vec);
            (vec![clone_root(&r.process, &root, &what)?], path)
        }
        Source::Image(reference) => {
            let img = find_image(reference, q)?;
            (img.layers, img.path)
        }
    };
    Ok(Tools {
        tree: overlay(&layers, &shown)?,
        path: path
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| crate::env::DEFAULT_PATH.to_vec()),
    })
}

/// The image in docker's or podman's store, of those `-t` names (both by
/// default); in both is an error, as a target two engines know is (an
/// image copied from one to the other has the same ID in both).
fn find_image(reference: &str, q: &Query<'_>) -> Result<Image> {
    use crate::engine::{docker, podman};
    let types = match q.types {
        Some(t) => crate::engine::parse_types(t)?,
        None => crate::engine::defaults(),
    };
    let asked = |e: &crate::engine::Engine| types.contains(&e);
    if !asked(&docker::ENGINE) && !asked(&podman::ENGINE) {
        return Err(Error::usage(
            "--tools image: reads docker's and podman's stores, and -t names neither",
        ));
    }
    let d = if asked(&docker::ENGINE) {
        docker::image(reference)?
    } else {
        None
    };
    let p = if asked(&podman::ENGINE) {
        podman::image(reference, q.owner)?
    } else {
        None
    };
    match (d, p) {
        (Some(i), None) | (None, Some(i)) => Ok(i),
        (None, None) => Err(Error::new(format!("no image '{reference}' found"))),
        (Some(_), Some(_)) => Err(Error::new(format!(
            "image '{reference}' is in both docker's and podman's stores: pick one with -t"
        ))),
    }
}

/// A detached copy of the toolbox's root mount (not of what is mounted
/// below it: its `/proc`, `/dev` and volumes stay its own). overlayfs
/// takes a layer only from the caller's mount namespace or a detached
/// tree, and `open_tree(OPEN_TREE_CLONE)` copies only from the caller's,
/// so the copy is made from inside the toolbox's mount namespace; cntr's
/// working directory is kept across the trip.
fn clone_root(p: &crate::proc::Process, root: &OwnedFd, what: &str) -> Result<OwnedFd> {
    let own = rustix::fs::open(
        "/proc/thread-self/ns/mnt",
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ctx("open /proc/thread-self/ns/mnt")?;
    let cwd = rustix::fs::open(
        ".",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ctx("open the working directory")?;
    let tree = crate::mount::clone_in(p.pidfd.as_fd(), &own, what, || {
        rustix::mount::open_tree(
            root.as_fd(),
            "",
            rustix::mount::OpenTreeFlags::OPEN_TREE_CLONE
                | rustix::mount::OpenTreeFlags::OPEN_TREE_CLOEXEC
                | rustix::mount::OpenTreeFlags::AT_EMPTY_PATH,
        )
        .map_err(|e| Error::sys(format_args!("copy the root of {what}"), e))
    });
    rustix::process::fchdir(&cwd).ctx("return to the working directory")?;
    tree
}

/// overlayfs takes at most this many lower layers.
const MAX_LAYERS: usize = 500;

/// The overlay of `layers` (top first) under a fresh tmpfs, detached and
/// `nosuid,nodev`.
fn overlay(layers: &[OwnedFd], shown: &str) -> Result<OwnedFd> {
    if layers.len() > MAX_LAYERS {
        return Err(Error::new(format!(
            "tools {shown} has {} layers; overlayfs takes at most {MAX_LAYERS}",
            layers.len()
        )));
    }
    let scratch = crate::mount::tmpfs("0755", None, MountAttrFlags::MOUNT_ATTR_NOSUID)?;
    let dir = |name: &str| -> Result<OwnedFd> {
        rustix::fs::mkdirat(&scratch, name, Mode::from_raw_mode(0o755))
            .ctx(format_args!("create {name} on the tmpfs"))?;
        rustix::fs::openat(
            &scratch,
            name,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ctx(format_args!("open {name} on the tmpfs"))
    };
    let (upper, work) = (dir("upper")?, dir("work")?);
    let ovl = open_fs("overlay")?;
    let set = |key: &str, fd: BorrowedFd<'_>| {
        rustix::mount::fsconfig_set_fd(ovl.as_fd(), key, fd).map_err(|e| {
            Error::sys(
                format_args!("assemble the tools tree of {shown} ({key})"),
                e,
            )
        })
    };
    for l in layers {
        set("lowerdir+", l.as_fd())?;
    }
    set("upperdir", upper.as_fd())?;
    set("workdir", work.as_fd())?;
    make_fs_with(
        &ovl,
        "overlay",
        MountAttrFlags::MOUNT_ATTR_NOSUID | MountAttrFlags::MOUNT_ATTR_NODEV,
    )
    .map_err(|e| Error::new(format!("tools {shown}: {}", e.message())))
}

/// Builds SRC's tree for the handoff's target (resolving a toolbox with
/// `q`'s types and owner) and puts it in the handoff, with its `PATH` in
/// a sealed memfd.
pub fn hand(h: &mut crate::handoff::Handoff, src: &OsStr, q: &Query<'_>) -> Result<()> {
    if h.tools.is_some() {
        return Err(Error::usage(
            "--tools is given twice: the handoff has a tools tree",
        ));
    }
    let t = open(
        src,
        q,
        &Target {
            pid: h.target.pid,
            root: h.root.as_fd(),
        },
    )?;
    h.tools_env = Some(crate::handoff::sealed_memfd("cntr-toolsenv", &t.path)?);
    h.tools = Some(t.tree);
    Ok(())
}

/// The `PATH` of the handoff's `toolsenv` memfd.
pub fn path_from_memfd(fd: &OwnedFd) -> Result<Vec<u8>> {
    let b = crate::handoff::read_sealed(fd, 64 << 10, "toolsenv")?;
    if b.is_empty() || b.contains(&0) {
        return Err(Error::new("the toolsenv fd holds no PATH"));
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        fn p(s: &str) -> Result<Source<'_>> {
            parse(OsStr::new(s))
        }
        assert_eq!(
            p("/opt/tools").unwrap(),
            Source::Dir(OsStr::new("/opt/tools"))
        );
        assert_eq!(p("rel").unwrap(), Source::Dir(OsStr::new("rel")));
        assert_eq!(
            p("container:box").unwrap(),
            Source::Container(OsStr::new("box"))
        );
        assert_eq!(p("image:busybox:1").unwrap(), Source::Image("busybox:1"));
        for bad in [
            "",
            "container:",
            "image:",
            "image:-x",
            "image:a b",
            "image:../x",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }
}
