//! `cntr-mount-tree`: a private mount namespace in which the host's `/` is
//! unchanged, the container's whole root tree (every submount) sits at the
//! base dir, the container's identity files (`/etc/hostname`, `hosts`,
//! `resolv.conf`, `passwd`, `group`, `localtime`) are shown over the
//! host's, and `/proc` is the container's. Reads the handoff's pidfd and
//! root; adds nothing; the shell starts in the base dir.
//!
//! With a tools tree (`--tools SRC`, or the handoff's `tools`), that tree
//! is `/` in place of the host's, whose mounts are detached from the
//! namespace: the same mounts go on top of it, and `/dev`, `/sys` and
//! `/tmp` as a session needs them (see `crate::tools`).

use crate::link::{help, next, Link};
use cntr::error::{warn, Context, Error, Result};
use cntr::handoff::Handoff;
use cntr::mount::{attach, clone_tree};
use cntr::tools::Source;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{Mode, OFlags, CWD};
use rustix::mount::{MountAttrFlags, MountPropagationFlags};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

const USAGE: &str = "\
Usage: cntr-mount-tree [--base DIR] [-w DIR] [--tools SRC] PROG [ARGS...]
Private mount namespace with the container's root tree at the base dir and its identity files over the host's.

  -b, --base DIR       where the container's tree goes (default: $CNTR_BASE_DIR,
                       else /var/lib/cntr); created if missing, must be a
                       directory owned by root and writable by root only
  -w, --workdir DIR    start PROG in the container's DIR (an absolute path in
                       the container, shown under the base dir); default: the
                       base dir
      --tools SRC      make the tools tree SRC the root instead of the host's /:
                       a directory, container:NAME (found as --type says) or
                       image:REF (docker overlay2 or podman overlay), writable
                       through a tmpfs that goes with the session;
                       container:NAME only with --target (else give --tools to
                       cntr-resolve). A handed tools tree is used without it.
  -t, --target TARGET  resolve TARGET (name, id or PID) instead of using the handoff
      --type TYPES     resolvers to try for --target (see cntr-resolve)
      --owner USER     whose rootless podman containers --target also finds
  -k, --keep-fds       hand the fds on even when PROG is not a cntr applet
  -h, --help           show this help
";

/// The container files shown over the host's, and the most of each that
/// is read. Anything larger is left out: a huge or sparse file must not
/// make attach slow or fat.
const IDENTITY: [&str; 6] = [
    "hostname",
    "hosts",
    "resolv.conf",
    "passwd",
    "group",
    "localtime",
];
const IDENTITY_LIMIT: usize = 1 << 20;

pub fn main(args: Vec<OsString>, h: Option<Handoff>) -> Result<u8> {
    let (mut base, mut workdir, mut tools_src) = (None, None, None);
    let Some(link) = Link::parse(args, true, |opt, p| {
        if opt.is('b', "base") {
            base = Some(p.value()?);
        } else if opt.is('\0', "tools") {
            tools_src = Some(p.value()?);
        } else if opt.is('w', "workdir") {
            workdir = Some(crate::link::workdir(p.value()?)?);
        } else {
            return Ok(false);
        }
        Ok(true)
    })?
    else {
        return help(USAGE);
    };
    let base = base
        .or_else(|| std::env::var_os("CNTR_BASE_DIR"))
        .unwrap_or_else(|| OsString::from("/var/lib/cntr"));
    if !base.as_bytes().starts_with(b"/") {
        return Err(Error::usage(format!(
            "base dir {} is not an absolute path",
            base.to_string_lossy()
        )));
    }
    let handed = link.target.is_none();
    let mut h = link.handoff(h)?;
    if let Some(src) = &tools_src {
        // A handed target may mean cntr-nsenter ran: a resolver asked from
        // the container's network namespace (an abstract socket, a daemon
        // over TCP) would be answered by the container, and its PIDs are
        // not the host's. Directories and images need no resolver.
        if handed && matches!(cntr::tools::parse(src)?, Source::Container(_)) {
            return Err(Error::usage(
                "--tools container:NAME is resolved by cntr-resolve --tools, or by \
                 cntr-mount-tree -t TARGET, in the host's namespaces",
            ));
        }
        let q = cntr::engine::Query {
            types: link.types.as_deref(),
            owner: link.owner.as_deref(),
            target: std::ffi::OsStr::new(""),
        };
        cntr::tools::hand(&mut h, src, &q)?;
    }
    let tools = match (h.tools.take(), h.tools_env.take()) {
        (Some(tree), Some(env)) => Some((tree, cntr::tools::path_from_memfd(&env)?)),
        _ => None,
    };
    // Read before anything is mounted: a file refused here is only a
    // warning, and leaves nothing to undo.
    let files = read_identity(&h);
    cntr::trace!("identity files read");
    private_namespace()?;
    cntr::trace!("mount namespace made");
    if let Some((tree, _)) = &tools {
        enter_tools(tree)?;
        cntr::trace!("tools tree entered");
    }
    let base_fd = open_base(&base, tools.is_some())?;
    show_identity(&files, &base_fd, tools.is_some())?;
    cntr::trace!("identity files shown");
    let tree = clone_container_root(&h)?;
    cntr::trace!("container tree cloned");
    // On top of what is at the base dir now (the tmpfs, if any): base_fd
    // names the directory beneath, and a mount there would slide under.
    let below = open_dir(&base)?;
    attach(&tree, below.as_fd(), "the container's root tree")?;
    drop((tree, below, base_fd));
    let top = open_dir(&base)?;
    cntr::trace!("container tree attached");
    show_proc(&top)?;
    cntr::trace!("/proc shown");
    if let Some((_, path)) = &tools {
        show_dev(&top)?;
        show_sys(&top)?;
        show_tmp()?;
        tools_env(path);
        cntr::trace!("/dev, /sys, /tmp shown");
    }
    match &workdir {
        // Inside the container's tree, its symlinks confined to it.
        Some(dir) => {
            let shown = dir.to_string_lossy();
            let fd = rustix::fs::openat2(
                &top,
                dir.as_os_str(),
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
                rustix::fs::ResolveFlags::IN_ROOT,
            )
            .ctx(format_args!("change to the container's {shown}"))?;
            rustix::process::fchdir(&fd).ctx(format_args!("change to the container's {shown}"))?;
        }
        None => rustix::process::fchdir(&top).ctx("change to the base dir")?,
    }
    drop(top);
    cntr::sys::pause("mounted");
    next(link.rest, Some(h), link.keep)
}

/// A new mount namespace whose mounts receive and send no propagation, so
/// that nothing mounted here reaches the host, and nothing the host
/// unmounts or mounts meanwhile changes the session.
fn private_namespace() -> Result<()> {
    // SAFETY: cntr is single-threaded; no other thread shares our fs
    // context.
    unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNS) }
        .ctx("create a mount namespace")?;
    rustix::mount::mount_change(
        "/",
        MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
    )
    .ctx("make the mounts private")
}

fn open_dir(path: &OsString) -> Result<OwnedFd> {
    rustix::fs::open(
        path.as_os_str(),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ctx(format_args!("open {}", path.to_string_lossy()))
}

/// Opens the base dir, creating it if missing. It must be a real directory
/// (not a symlink) owned by root and writable by nobody else: cntr mounts
/// onto it as root, and a directory another user controls could be
/// swapped for something else between check and mount.
fn open_base(base: &OsString, tools: bool) -> Result<OwnedFd> {
    let shown = base.to_string_lossy();
    if tools {
        // The tools tree may lack the directories above it: they are made
        // in its tmpfs layer, and go with the session.
        make_parents(base.as_bytes())?;
    }
    match rustix::fs::mkdir(base.as_os_str(), Mode::from_raw_mode(0o755)) {
        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
        Err(e) => return Err(Error::sys(format_args!("create base dir {shown}"), e)),
    }
    let fd = rustix::fs::open(
        base.as_os_str(),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| match e {
        rustix::io::Errno::NOTDIR | rustix::io::Errno::LOOP => Error::new(format!(
            "base dir {shown} is not a directory (or is a symlink)"
        )),
        e => Error::sys(format_args!("open base dir {shown}"), e),
    })?;
    let st = rustix::fs::fstat(&fd).ctx(format_args!("stat base dir {shown}"))?;
    if st.st_uid != 0 {
        return Err(Error::new(format!(
            "base dir {shown} is owned by uid {}, not root",
            st.st_uid
        )));
    }
    if st.st_mode & 0o022 != 0 {
        return Err(Error::new(format!(
            "base dir {shown} is writable by others than root"
        )));
    }
    Ok(fd)
}

/// Reads the container's identity files through its root fd, as checked
/// regular files of at most [`IDENTITY_LIMIT`] bytes (see
/// [`cntr::root::open_file`]: a FIFO or a device there is never opened).
/// A missing file leaves the host's; any other refusal too, with a warning.
fn read_identity(h: &Handoff) -> Vec<(&'static str, Vec<u8>)> {
    use cntr::root::Refusal;
    let mut out = Vec::new();
    for name in IDENTITY {
        let why = match cntr::root::read_file(
            h.root.as_fd(),
            h.hostproc.as_fd(),
            &format!("etc/{name}"),
            IDENTITY_LIMIT,
        ) {
            Ok(data) => {
                out.push((name, data));
                continue;
            }
            Err(Refusal::Missing) => continue,
            Err(Refusal::NotRegular) => "the container's is not a regular file".to_string(),
            Err(Refusal::TooLarge) => {
                format!("the container's is larger than {IDENTITY_LIMIT} bytes")
            }
            Err(Refusal::Failed(e)) => cntr::error::errno_text(e),
        };
        warn(format_args!("keeping the host's /etc/{name}: {why}"));
    }
    out
}

/// Shows the container's identity files over the host's: they are written
/// to a tmpfs mounted at the base dir (the container's tree is mounted
/// over it later) and each is bound over the host's file. A host file that
/// does not exist is not created; in a tools tree, which is the session's
/// own, it is (and anything but a regular file or a directory there is
/// replaced by one).
fn show_identity(files: &[(&'static str, Vec<u8>)], base: &OwnedFd, tools: bool) -> Result<()> {
    let regular = |path: &str| {
        rustix::fs::stat(path).is_ok_and(|st| {
            rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::RegularFile
        })
    };
    if tools && !files.is_empty() {
        make_parents(b"/etc/x")?;
        for (name, _) in files {
            let path = format!("/etc/{name}");
            let is_dir = rustix::fs::lstat(path.as_str()).is_ok_and(|st| {
                rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory
            });
            if !regular(&path) && !is_dir {
                match rustix::fs::unlink(path.as_str()) {
                    Ok(()) | Err(rustix::io::Errno::NOENT) => {}
                    Err(e) => return Err(Error::sys(format_args!("replace {path}"), e)),
                }
                rustix::fs::open(
                    path.as_str(),
                    OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o644),
                )
                .ctx(format_args!("create {path}"))?;
            }
        }
    }
    let host: Vec<&(&str, Vec<u8>)> = files
        .iter()
        .filter(|(name, _)| regular(&format!("/etc/{name}")))
        .collect();
    if host.is_empty() {
        return Ok(());
    }
    let mnt = cntr::mount::tmpfs(
        "0755",
        Some("16m"),
        MountAttrFlags::MOUNT_ATTR_NOSUID
            | MountAttrFlags::MOUNT_ATTR_NODEV
            | MountAttrFlags::MOUNT_ATTR_NOEXEC,
    )?;
    attach(&mnt, base.as_fd(), "a tmpfs at the base dir")?;
    for (name, data) in &host {
        let fd = rustix::fs::openat(
            &mnt,
            *name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .ctx(format_args!("create {name} on the tmpfs"))?;
        cntr::sys::write_all(fd.as_fd(), data).ctx(format_args!("write {name}"))?;
        drop(fd);
        // A bind of the file alone: the tmpfs is cntr's, made in this
        // private namespace, so in no peer group a clone would join
        // (clone_tree's mount_setattr, 10 us per file here, has nothing to
        // change).
        let copy = rustix::mount::open_tree(
            &mnt,
            *name,
            rustix::mount::OpenTreeFlags::OPEN_TREE_CLONE
                | rustix::mount::OpenTreeFlags::OPEN_TREE_CLOEXEC
                | rustix::mount::OpenTreeFlags::AT_SYMLINK_NOFOLLOW,
        )
        .ctx(format_args!("bind {name} of the tmpfs"))?;
        rustix::mount::move_mount(
            copy.as_fd(),
            "",
            CWD,
            format!("/etc/{name}"),
            rustix::mount::MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH
                | rustix::mount::MoveMountFlags::MOVE_MOUNT_T_SYMLINKS,
        )
        .ctx(format_args!("show the container's /etc/{name}"))?;
    }
    // The tmpfs stays at the base dir, under the container's tree (an
    // unmount here would wait for an RCU grace period, on every attach);
    // a failure above leaves it to the namespace's end, like every mount
    // of this namespace.
    Ok(())
}

/// A detached copy of the container's whole root tree.
///
/// `open_tree(OPEN_TREE_CLONE)` only copies mounts of the caller's own
/// mount namespace, so:
/// 1. keep a handle on our (private) namespace;
/// 2. enter the container's mount namespace through its pidfd;
/// 3. clone the tree at the target's root (the clone is detached, it
///    belongs to no namespace and survives the switch back);
/// 4. return to our namespace (root and cwd become its root again, the
///    host's `/`).
fn clone_container_root(h: &Handoff) -> Result<OwnedFd> {
    // Through the host's procfs: a tools tree's /proc is empty until the
    // container's is mounted there.
    let own = rustix::fs::openat(
        &h.hostproc,
        "thread-self/ns/mnt",
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ctx("open /proc/thread-self/ns/mnt")?;
    // The container's setuid binaries and device nodes must not count in
    // a session whose root is the host's.
    cntr::mount::clone_in(
        h.target.pidfd.as_fd(),
        &own,
        &h.target.pid.to_string(),
        || {
            clone_tree(
                h.root.as_fd(),
                "",
                MountAttrFlags::MOUNT_ATTR_NOSUID | MountAttrFlags::MOUNT_ATTR_NODEV,
            )
        },
    )
}

/// Shows the container's own procfs at `/proc`, so that `ps`, `/proc/1`
/// and `/proc/self` are the container's. It is the container's `/proc`
/// mount (with the masks its engine put there) when that is a procfs;
/// otherwise a new procfs of the PID namespace cntr now stands in.
fn show_proc(top: &OwnedFd) -> Result<()> {
    let theirs = clone_tree(top.as_fd(), "proc", MountAttrFlags::empty())
        .ok()
        .filter(|t| rustix::fs::fstatfs(t).is_ok_and(|s| s.f_type == cntr::proc::PROC_SUPER_MAGIC));
    let tree = match theirs {
        Some(t) => t,
        None => {
            let fs = cntr::mount::open_fs("proc")?;
            cntr::mount::make_fs(&fs, "proc")?
        }
    };
    let proc = rustix::fs::open(
        "/proc",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ctx("open /proc")?;
    attach(&tree, proc.as_fd(), "the container's /proc")
}

/// Makes every directory above the last component of absolute `path`
/// that is missing (mode 0755), as `mkdir -p` would: in a tools tree,
/// where everything lands on the session's own tmpfs.
fn make_parents(path: &[u8]) -> Result<()> {
    let mut at = 0;
    while let Some(i) = path[at + 1..].iter().position(|&c| c == b'/') {
        at += 1 + i;
        let dir = std::ffi::OsStr::from_bytes(&path[..at]);
        match rustix::fs::mkdir(dir, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => {
                return Err(Error::sys(
                    format_args!("create {} in the tools tree", dir.to_string_lossy()),
                    e,
                ))
            }
        }
    }
    Ok(())
}

/// Makes the tools tree `/`: it is mounted over the host's `/` and
/// entered, and `pivot_root(".", ".")` puts the host's root on top of it,
/// where it is detached with everything mounted below it. The host's
/// files are then in no mount of the namespace: not the session's to
/// reach, by `..`, a second chroot or `/proc/PID/root` of a process left
/// in the old root.
fn enter_tools(tree: &OwnedFd) -> Result<()> {
    rustix::mount::move_mount(
        tree.as_fd(),
        "",
        CWD,
        "/",
        rustix::mount::MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
    )
    .ctx("mount the tools tree")?;
    rustix::process::fchdir(tree).ctx("enter the tools tree")?;
    rustix::process::pivot_root(".", ".").ctx("make the tools tree the root")?;
    rustix::mount::unmount(".", rustix::mount::UnmountFlags::DETACH)
        .ctx("detach the host's root")?;
    rustix::process::chdir("/").ctx("change to /")
}

/// The character devices a session's `/dev` holds, as every engine gives
/// its containers (and the device cgroup the session joins allows): an
/// allowlist, made here, never copied from the container's or the host's
/// `/dev`.
const DEVICES: [(&str, u32, u32); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];
const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;
const TMPFS_MAGIC: i64 = 0x0102_1994;
const MQUEUE_MAGIC: i64 = 0x1980_0202;
const SYSFS_MAGIC: i64 = 0x6265_6572;

/// The container's mount at `path` below its tree `top`, if it is a
/// filesystem of type `magic`.
fn theirs(top: &OwnedFd, path: &str, magic: i64) -> Option<OwnedFd> {
    clone_tree(top.as_fd(), path, MountAttrFlags::empty())
        .ok()
        .filter(|t| rustix::fs::fstatfs(t).is_ok_and(|s| s.f_type == magic))
}

/// Mounts `tree` at absolute `path` of the tools tree, making the
/// directory if missing.
fn mount_at(tree: &OwnedFd, path: &str, what: &str) -> Result<()> {
    make_parents(format!("{path}/x").as_bytes())?;
    let dir = rustix::fs::open(
        path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ctx(format_args!("open {path}"))?;
    attach(tree, dir.as_fd(), what)
}

/// The session's `/dev` in a tools tree: a tmpfs with the devices of
/// [`DEVICES`] and the usual links, the container's devpts at `/dev/pts`
/// (a new instance if it has none), its `/dev/shm` (else a fresh one) and
/// its `/dev/mqueue`, if any.
fn show_dev(top: &OwnedFd) -> Result<()> {
    let dev = cntr::mount::tmpfs(
        "0755",
        None,
        MountAttrFlags::MOUNT_ATTR_NOSUID | MountAttrFlags::MOUNT_ATTR_NOEXEC,
    )?;
    for (name, major, minor) in DEVICES {
        rustix::fs::mknodat(
            &dev,
            name,
            rustix::fs::FileType::CharacterDevice,
            Mode::from_raw_mode(0o666),
            rustix::fs::makedev(major, minor),
        )
        .ctx(format_args!("create /dev/{name}"))?;
        // The umask must not take from the mode.
        rustix::fs::chmodat(
            &dev,
            name,
            Mode::from_raw_mode(0o666),
            rustix::fs::AtFlags::empty(),
        )
        .ctx(format_args!("set the mode of /dev/{name}"))?;
    }
    for (name, to) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ] {
        rustix::fs::symlinkat(to, &dev, name).ctx(format_args!("create /dev/{name}"))?;
    }
    for name in ["pts", "shm", "mqueue"] {
        rustix::fs::mkdirat(&dev, name, Mode::from_raw_mode(0o755))
            .ctx(format_args!("create /dev/{name}"))?;
    }
    mount_at(&dev, "/dev", "/dev")?;
    let pts = match theirs(top, "dev/pts", DEVPTS_SUPER_MAGIC) {
        Some(t) => {
            // The container's tree came nodev; its terminals must open.
            cntr::sys::mount_setattr_tree(
                &t,
                MountAttrFlags::empty(),
                MountAttrFlags::MOUNT_ATTR_NODEV,
                0,
            )
            .ctx("allow the container's terminals to open")?;
            t
        }
        None => {
            let fs = cntr::mount::open_fs("devpts")?;
            rustix::mount::fsconfig_set_string(fs.as_fd(), "ptmxmode", "0666")
                .ctx("configure the devpts")?;
            rustix::mount::fsconfig_set_string(fs.as_fd(), "mode", "0620")
                .ctx("configure the devpts")?;
            cntr::mount::make_fs_with(
                &fs,
                "devpts",
                MountAttrFlags::MOUNT_ATTR_NOSUID | MountAttrFlags::MOUNT_ATTR_NOEXEC,
            )?
        }
    };
    mount_at(&pts, "/dev/pts", "/dev/pts")?;
    let shm = match theirs(top, "dev/shm", TMPFS_MAGIC) {
        Some(t) => t,
        None => cntr::mount::tmpfs(
            "1777",
            None,
            MountAttrFlags::MOUNT_ATTR_NOSUID | MountAttrFlags::MOUNT_ATTR_NODEV,
        )?,
    };
    mount_at(&shm, "/dev/shm", "/dev/shm")?;
    if let Some(mq) = theirs(top, "dev/mqueue", MQUEUE_MAGIC) {
        mount_at(&mq, "/dev/mqueue", "/dev/mqueue")?;
    }
    Ok(())
}

/// The container's `/sys` (with what its engine mounted and masked
/// there) if it is a sysfs; else `/sys` stays the tools tree's: a fresh
/// sysfs would show the host's devices to a container that was shown
/// none.
fn show_sys(top: &OwnedFd) -> Result<()> {
    match theirs(top, "sys", SYSFS_MAGIC) {
        Some(t) => mount_at(&t, "/sys", "the container's /sys"),
        None => Ok(()),
    }
}

/// A fresh `/tmp`: the tools tree's own is the image's or the
/// toolbox's.
fn show_tmp() -> Result<()> {
    let t = cntr::mount::tmpfs(
        "1777",
        None,
        MountAttrFlags::MOUNT_ATTR_NOSUID | MountAttrFlags::MOUNT_ATTR_NODEV,
    )?;
    mount_at(&t, "/tmp", "/tmp")
}

/// The environment the chain goes on with in a tools tree: its `PATH`
/// (which cntr-inherit passes as it passes the caller's), and a `SHELL`
/// that exists there.
fn tools_env(path: &[u8]) {
    std::env::set_var("PATH", std::ffi::OsStr::from_bytes(path));
    let shell_ok = std::env::var_os("SHELL").is_some_and(|s| {
        s.as_bytes().starts_with(b"/")
            && rustix::fs::access(s.as_os_str(), rustix::fs::Access::EXEC_OK).is_ok()
    });
    if !shell_ok {
        std::env::set_var("SHELL", "/bin/sh");
    }
}
