//! `cntr-mount-tree`: a private mount namespace in which the host's `/` is
//! unchanged, the container's whole root tree (every submount) sits at the
//! base dir, the container's identity files (`/etc/hostname`, `hosts`,
//! `resolv.conf`, `passwd`, `group`, `localtime`) are shown over the
//! host's, and `/proc` is the container's. Reads the handoff's pidfd and
//! root; adds nothing; the shell starts in the base dir.

use crate::link::{help, next, Link};
use cntr::error::{warn, Context, Error, Result};
use cntr::handoff::Handoff;
use cntr::mount::{attach, clone_tree};
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{Mode, OFlags, CWD};
use rustix::mount::{MountAttrFlags, MountPropagationFlags};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

const USAGE: &str = "\
Usage: cntr-mount-tree [--base DIR] [-w DIR] PROG [ARGS...]
Private mount namespace with the container's root tree at the base dir and its identity files over the host's.

  -b, --base DIR       where the container's tree goes (default: $CNTR_BASE_DIR,
                       else /var/lib/cntr); created if missing, must be a
                       directory owned by root and writable by root only
  -w, --workdir DIR    start PROG in the container's DIR (an absolute path in
                       the container, shown under the base dir); default: the
                       base dir
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
    let (mut base, mut workdir) = (None, None);
    let Some(link) = Link::parse(args, true, |opt, p| {
        if opt.is('b', "base") {
            base = Some(p.value()?);
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
    let h = link.handoff(h)?;
    // Read before anything is mounted: a file refused here is only a
    // warning, and leaves nothing to undo.
    let files = read_identity(&h);
    private_namespace()?;
    let base_fd = open_base(&base)?;
    show_identity(&files, &base_fd)?;
    let tree = clone_container_root(&h)?;
    // On top of what is at the base dir now (the tmpfs, if any): base_fd
    // names the directory beneath, and a mount there would slide under.
    let below = open_dir(&base)?;
    attach(&tree, below.as_fd(), "the container's root tree")?;
    drop((tree, below, base_fd));
    let top = open_dir(&base)?;
    show_proc(&top)?;
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
fn open_base(base: &OsString) -> Result<OwnedFd> {
    let shown = base.to_string_lossy();
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
/// does not exist is not created.
fn show_identity(files: &[(&'static str, Vec<u8>)], base: &OwnedFd) -> Result<()> {
    let host: Vec<&(&str, Vec<u8>)> = files
        .iter()
        .filter(|(name, _)| {
            rustix::fs::stat(format!("/etc/{name}")).is_ok_and(|st| {
                rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::RegularFile
            })
        })
        .collect();
    if host.is_empty() {
        return Ok(());
    }
    let fs = cntr::mount::open_fs("tmpfs")?;
    rustix::mount::fsconfig_set_string(fs.as_fd(), "mode", "0755").ctx("configure the tmpfs")?;
    rustix::mount::fsconfig_set_string(fs.as_fd(), "size", "16m").ctx("configure the tmpfs")?;
    let mnt = cntr::mount::make_fs(&fs, "tmpfs")?;
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
        let copy = clone_tree(mnt.as_fd(), name, MountAttrFlags::empty())?;
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
    let own = rustix::fs::open(
        "/proc/thread-self/ns/mnt",
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ctx("open /proc/thread-self/ns/mnt")?;
    rustix::thread::move_into_thread_name_spaces(
        h.target.pidfd.as_fd(),
        rustix::thread::ThreadNameSpaceType::MOUNT,
    )
    .ctx(format_args!(
        "enter the mount namespace of {}",
        h.target.pid
    ))?;
    // The container's setuid binaries and device nodes must not count in
    // a session whose root is the host's.
    let tree = clone_tree(
        h.root.as_fd(),
        "",
        MountAttrFlags::MOUNT_ATTR_NOSUID | MountAttrFlags::MOUNT_ATTR_NODEV,
    );
    rustix::thread::move_into_link_name_space(
        own.as_fd(),
        Some(rustix::thread::LinkNameSpaceType::Mount),
    )
    .ctx("return to the private mount namespace")?;
    tree
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
