//! Mounts: the mountinfo grammar, and the mount-API steps that
//! `cntr-mount-tree` strings together.

use crate::error::{Context, Result};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::mount::{MountAttrFlags, MoveMountFlags, OpenTreeFlags};

/// One line of `/proc/PID/mountinfo`.
#[derive(Debug, PartialEq, Eq)]
pub struct MountInfo {
    /// The path inside the filesystem that is mounted (field 4).
    pub root: Vec<u8>,
    /// Where it is mounted (field 5).
    pub mount_point: Vec<u8>,
    pub fstype: Vec<u8>,
    pub source: Vec<u8>,
    pub super_options: Vec<u8>,
}

/// Parses mountinfo by its real grammar (proc(5)):
///
/// ```text
/// ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
/// ```
///
/// The optional fields are zero or more and end at a lone `-`: counting
/// the fields after them from the left would break on any host with
/// shared mounts. Paths are unescaped (`\040` and friends).
/// Malformed lines are skipped.
pub fn parse_mountinfo(b: &[u8]) -> Vec<MountInfo> {
    b.split(|&c| c == b'\n').filter_map(parse_line).collect()
}

fn parse_line(line: &[u8]) -> Option<MountInfo> {
    let mut f = line.split(|&c| c == b' ');
    let (_id, _parent, _dev) = (f.next()?, f.next()?, f.next()?);
    let root = unescape(f.next()?);
    let mount_point = unescape(f.next()?);
    let _opts = f.next()?;
    for opt in f.by_ref() {
        if opt == b"-" {
            let fstype = unescape(f.next()?);
            let source = unescape(f.next()?);
            let super_options = f.next()?.to_vec();
            return Some(MountInfo {
                root,
                mount_point,
                fstype,
                source,
                super_options,
            });
        }
    }
    None
}

/// Undoes the kernel's octal escapes of space, tab, newline and backslash.
pub fn unescape(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = b[i + 1..i + 4]
                .iter()
                .fold(0u32, |v, c| v * 8 + u32::from(c - b'0'));
            if v <= 255 {
                out.push(v as u8);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// A detached, private copy of the mount at `path` and every mount below
/// it, with the `MOUNT_ATTR_*` flags `set` added to each:
///
/// 1. `open_tree(dir, path, OPEN_TREE_CLONE | AT_RECURSIVE)`, see
///    open_tree(2) (`path` is not followed if it is a symlink);
/// 2. `mount_setattr(AT_RECURSIVE)` with `MS_PRIVATE` and `set`, see
///    mount_setattr(2). A clone stays in the peer group of each shared
///    mount it copies, so without this a mount the container makes later
///    under one of its shared mounts would appear in the session, and one
///    the session makes would appear in the container.
pub fn clone_tree(dir: BorrowedFd<'_>, path: &str, set: MountAttrFlags) -> Result<OwnedFd> {
    let mut flags = OpenTreeFlags::OPEN_TREE_CLONE
        | OpenTreeFlags::OPEN_TREE_CLOEXEC
        | OpenTreeFlags::AT_RECURSIVE
        | OpenTreeFlags::AT_SYMLINK_NOFOLLOW;
    if path.is_empty() {
        flags |= OpenTreeFlags::AT_EMPTY_PATH;
    }
    let shown = if path.is_empty() { "/" } else { path };
    let tree = rustix::mount::open_tree(dir, path, flags)
        .ctx(format_args!("clone the mount tree at {shown}"))?;
    crate::sys::mount_setattr_tree(&tree, set, MountAttrFlags::empty(), crate::sys::MS_PRIVATE)
        .ctx(format_args!(
            "make the clone of the mount tree at {shown} private"
        ))?;
    Ok(tree)
}

/// `move_mount(tree, "", to, "", F_EMPTY_PATH | T_EMPTY_PATH)`, see
/// move_mount(2): attaches a detached tree on the directory `to`.
pub fn attach(tree: &OwnedFd, to: BorrowedFd<'_>, what: &str) -> Result<()> {
    rustix::mount::move_mount(
        tree.as_fd(),
        "",
        to,
        "",
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
    )
    .ctx(format_args!("mount {what}"))
}

/// Runs `clone` (an `open_tree(OPEN_TREE_CLONE)`) in the mount namespace
/// of the process behind `pidfd`, then returns to the namespace `own`
/// names (a handle on the caller's, taken before): `open_tree` copies
/// only mounts of the caller's own namespace, and the copy, detached,
/// belongs to none and survives the trip. Coming back makes the root and
/// working directory those of `own`'s root.
pub fn clone_in(
    pidfd: BorrowedFd<'_>,
    own: &OwnedFd,
    what: &str,
    clone: impl FnOnce() -> Result<OwnedFd>,
) -> Result<OwnedFd> {
    rustix::thread::move_into_thread_name_spaces(pidfd, rustix::thread::ThreadNameSpaceType::MOUNT)
        .ctx(format_args!("enter the mount namespace of {what}"))?;
    let tree = clone();
    rustix::thread::move_into_link_name_space(
        own.as_fd(),
        Some(rustix::thread::LinkNameSpaceType::Mount),
    )
    .ctx("return to cntr's mount namespace")?;
    tree
}

/// A new tmpfs of mode `mode` (and at most `size`, a tmpfs size such as
/// `16m`), mounted nowhere, with the mount flags `attrs`.
pub fn tmpfs(mode: &str, size: Option<&str>, attrs: MountAttrFlags) -> Result<OwnedFd> {
    let fs = open_fs("tmpfs")?;
    rustix::mount::fsconfig_set_string(fs.as_fd(), "mode", mode).ctx("configure the tmpfs")?;
    if let Some(size) = size {
        rustix::mount::fsconfig_set_string(fs.as_fd(), "size", size).ctx("configure the tmpfs")?;
    }
    make_fs_with(&fs, "tmpfs", attrs)
}

/// `fsopen(fstype)`, see fsopen(2): a new filesystem context, for
/// `fsconfig(2)` options and then [`make_fs`].
pub fn open_fs(fstype: &str) -> Result<OwnedFd> {
    rustix::mount::fsopen(fstype, rustix::mount::FsOpenFlags::FSOPEN_CLOEXEC)
        .ctx(format_args!("create a {fstype}"))
}

/// The filesystem context `fs` made into a filesystem and mounted nowhere
/// (`FSCONFIG_CMD_CREATE`, then fsmount(2)): `nosuid,nodev,noexec`, as
/// every filesystem cntr makes is unless it says otherwise (nothing on it
/// runs, as anyone).
pub fn make_fs(fs: &OwnedFd, fstype: &str) -> Result<OwnedFd> {
    make_fs_with(
        fs,
        fstype,
        MountAttrFlags::MOUNT_ATTR_NOSUID
            | MountAttrFlags::MOUNT_ATTR_NODEV
            | MountAttrFlags::MOUNT_ATTR_NOEXEC,
    )
}

/// [`make_fs`] with the mount flags `attrs`.
pub fn make_fs_with(fs: &OwnedFd, fstype: &str, attrs: MountAttrFlags) -> Result<OwnedFd> {
    rustix::mount::fsconfig_create(fs.as_fd()).ctx(format_args!("create a {fstype}"))?;
    rustix::mount::fsmount(
        fs.as_fd(),
        rustix::mount::FsMountFlags::FSMOUNT_CLOEXEC,
        attrs,
    )
    .ctx(format_args!("mount a {fstype}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_fields_and_escapes() {
        let raw = b"36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue\n\
                    25 1 0:22 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n\
                    26 1 0:23 / /x rw - \n\
                    garbage\n";
        let m = parse_mountinfo(raw);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].root, b"/mnt1");
        assert_eq!(m[0].mount_point, b"/mnt two");
        assert_eq!(m[0].fstype, b"ext3");
        assert_eq!(m[0].super_options, b"rw,errors=continue");
        assert_eq!(m[1].fstype, b"cgroup");
        assert_eq!(m[1].super_options, b"rw,cpu");
    }

    #[test]
    fn unescape_edges() {
        assert_eq!(unescape(b"a\\134b"), b"a\\b");
        assert_eq!(unescape(b"a\\012"), b"a\n");
        assert_eq!(unescape(b"tail\\01"), b"tail\\01");
        assert_eq!(unescape(b"\\999"), b"\\999");
    }
}
