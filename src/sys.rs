//! Raw system calls that rustix does not wrap (or wraps only in its unstable
//! runtime module); each wrapper names its syscall and man page. `unsafe`
//! lives here, and where nothing else will do: taking over inherited fds
//! (`handoff`), reading into a buffer's spare room (`proc::read_fd`),
//! `ptrace` and `seccomp` with their buffers (`seccomp`), the C entry and
//! its argv (`applets/runtime.rs`).

use rustix::fd::{FromRawFd, OwnedFd, RawFd};
use rustix::io::Errno;
use std::ffi::CStr;

fn check(ret: usize) -> Result<usize, Errno> {
    let r = ret as isize;
    if (-4095..0).contains(&r) {
        Err(Errno::from_raw_os_error(-r as i32))
    } else {
        Ok(ret)
    }
}

/// Signal numbers as a 64-bit kernel `sigset_t`.
pub type SigSet = u64;

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGQUIT: i32 = 3;
pub const SIGKILL: i32 = 9;
pub const SIGUSR1: i32 = 10;
pub const SIGUSR2: i32 = 12;
pub const SIGPIPE: i32 = 13;
pub const SIGALRM: i32 = 14;
pub const SIGTERM: i32 = 15;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;
pub const SIGWINCH: i32 = 28;

/// The bit for signal `sig` in a [`SigSet`].
pub const fn sig_bit(sig: i32) -> SigSet {
    1 << (sig - 1)
}

/// The result of [`fork`].
pub enum Fork {
    Child,
    Parent(i32),
}

extern "C" {
    /// The libc's fork(3).
    #[link_name = "fork"]
    fn libc_fork() -> i32;
}

/// The libc's `fork()`, see fork(2). cntr is single-threaded, so the child
/// may go on running Rust code.
///
/// Not a raw `clone`: the libc caches the thread ID, and only its own fork
/// sets the child's. musl's abort(3), where a panic ends, sends SIGABRT
/// with `tkill` to that cached ID (src/signal/raise.c and
/// src/exit/abort.c of musl 1.2.3, the libc.a cntr links), so a child with
/// its parent's ID would kill the parent when it aborts. (rustix's
/// `kernel_fork` is the raw syscall, with the same flaw; std has no fork.)
pub fn fork() -> Result<Fork, Errno> {
    // SAFETY: fork takes no argument; the process has one thread, so no
    // lock can be held by another in the child.
    let r = unsafe { libc_fork() };
    if r < 0 {
        let e = std::io::Error::last_os_error().raw_os_error();
        return Err(e.map_or(Errno::IO, Errno::from_raw_os_error));
    }
    Ok(if r == 0 { Fork::Child } else { Fork::Parent(r) })
}

/// `execve(path, argv, envp)`, see execve(2). Returns only on failure.
pub fn execve(path: &CStr, argv: &[*const u8], envp: &[*const u8]) -> Errno {
    debug_assert!(argv.last().is_some_and(|p| p.is_null()));
    debug_assert!(envp.last().is_some_and(|p| p.is_null()));
    // SAFETY: both arrays are NULL-terminated arrays of NUL-terminated
    // strings that outlive the call.
    let r = unsafe {
        sc::syscall!(
            EXECVE,
            path.as_ptr() as usize,
            argv.as_ptr() as usize,
            envp.as_ptr() as usize
        )
    };
    check(r).err().unwrap_or(Errno::INVAL)
}

/// `execveat(fd, "", argv, envp, AT_EMPTY_PATH)`: runs the file open at
/// `fd`. Returns only on failure.
pub fn execveat_fd(fd: RawFd, argv: &[*const u8], envp: &[*const u8]) -> Errno {
    debug_assert!(argv.last().is_some_and(|p| p.is_null()));
    debug_assert!(envp.last().is_some_and(|p| p.is_null()));
    const AT_EMPTY_PATH: usize = 0x1000;
    // SAFETY: as for execve; the path is an empty NUL-terminated string.
    let r = unsafe {
        sc::syscall!(
            EXECVEAT,
            fd as usize,
            c"".as_ptr() as usize,
            argv.as_ptr() as usize,
            envp.as_ptr() as usize,
            AT_EMPTY_PATH
        )
    };
    check(r).err().unwrap_or(Errno::INVAL)
}

const SIG_BLOCK: usize = 0;
const SIG_SETMASK: usize = 2;

/// `rt_sigprocmask(SIG_BLOCK)`, see sigprocmask(2); returns the old mask.
pub fn block_signals(set: SigSet) -> Result<SigSet, Errno> {
    sigprocmask(SIG_BLOCK, set)
}

/// `rt_sigprocmask(SIG_SETMASK)`, see sigprocmask(2); returns the old mask.
pub fn set_signal_mask(set: SigSet) -> Result<SigSet, Errno> {
    sigprocmask(SIG_SETMASK, set)
}

fn sigprocmask(how: usize, set: SigSet) -> Result<SigSet, Errno> {
    let mut old: SigSet = 0;
    // SAFETY: both pointers point to 8-byte sigsets, the size we pass.
    check(unsafe {
        sc::syscall!(
            RT_SIGPROCMASK,
            how,
            &set as *const SigSet as usize,
            &mut old as *mut SigSet as usize,
            8
        )
    })?;
    Ok(old)
}

/// `rt_sigaction(sig, SIG_DFL)`, see sigaction(2). The Rust runtime ignores
/// SIGPIPE, and an ignored disposition survives execve: the command must
/// not inherit it.
pub fn default_signal(sig: i32) -> Result<(), Errno> {
    set_handler(sig, 0)
}

/// `rt_sigaction(sig, SIG_IGN)`, see sigaction(2).
pub fn ignore_signal(sig: i32) -> Result<(), Errno> {
    set_handler(sig, 1)
}

fn set_handler(sig: i32, handler: u64) -> Result<(), Errno> {
    // struct kernel_sigaction: handler, flags, restorer, mask.
    let act: [u64; 4] = [handler, 0, 0, 0];
    // SAFETY: act is a valid kernel_sigaction with SIG_DFL or SIG_IGN; no
    // old action.
    check(unsafe { sc::syscall!(RT_SIGACTION, sig as usize, act.as_ptr() as usize, 0, 8) })?;
    Ok(())
}

/// `signalfd4(-1, set, SFD_CLOEXEC)`, see signalfd(2).
pub fn signalfd(set: SigSet) -> Result<OwnedFd, Errno> {
    const SFD_CLOEXEC: usize = 0o2000000;
    // SAFETY: the mask pointer is valid for 8 bytes; the result is a new fd.
    let fd = check(unsafe {
        sc::syscall!(
            SIGNALFD4,
            -1isize as usize,
            &set as *const SigSet as usize,
            8,
            SFD_CLOEXEC
        )
    })?;
    // SAFETY: the kernel returned a new descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Reads one `signalfd_siginfo` and returns its signal number.
pub fn read_signal(fd: &OwnedFd) -> Result<i32, Errno> {
    let mut buf = [0u8; 128];
    let n = rustix::io::read(fd, &mut buf)?;
    if n < 4 {
        return Err(Errno::IO);
    }
    Ok(i32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]))
}

/// `close_range(first, ~0, CLOSE_RANGE_CLOEXEC)`, see close_range(2): marks
/// every fd from `first` on close-on-exec, so that nothing the caller
/// leaked to cntr reaches the command.
pub fn cloexec_from(first: u32) -> Result<(), Errno> {
    const CLOSE_RANGE_CLOEXEC: usize = 1 << 2;
    // SAFETY: close_range takes plain integers.
    check(unsafe {
        sc::syscall!(
            CLOSE_RANGE,
            first as usize,
            u32::MAX as usize,
            CLOSE_RANGE_CLOEXEC
        )
    })?;
    Ok(())
}

/// `close_range(2)` over every fd from 3 on but those in `keep`: for the
/// processes cntr leaves waiting beside a session (the parent that relays
/// signals, the terminal relay), which must hold nothing the caller leaked
/// to cntr. The caller must own no other fd it will use again.
pub fn close_all_but(keep: &[RawFd]) -> Result<(), Errno> {
    let mut keep: Vec<u32> = keep
        .iter()
        .filter(|&&fd| fd > 2)
        .map(|&fd| fd as u32)
        .collect();
    keep.sort_unstable();
    let mut first = 3u32;
    for k in keep.into_iter().chain(std::iter::once(u32::MAX)) {
        if k > first {
            let last = if k == u32::MAX { u32::MAX } else { k - 1 };
            // SAFETY: close_range takes plain integers; the fds it closes
            // are owned by nothing the caller uses again.
            check(unsafe { sc::syscall!(CLOSE_RANGE, first as usize, last as usize, 0) })?;
        }
        first = k.saturating_add(1);
    }
    Ok(())
}

/// A `propagation` for [`mount_setattr_tree`]: out of every peer group,
/// receiving and sending no mount events.
pub const MS_PRIVATE: u64 = 1 << 18;

/// `mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, attr)`, see
/// mount_setattr(2): sets flags (`set`, `MOUNT_ATTR_*`), clears flags
/// (`clear`) and, unless `propagation` is 0, sets the propagation type
/// (`MS_PRIVATE`) on a whole (possibly detached) tree, in one call.
pub fn mount_setattr_tree(
    fd: &OwnedFd,
    set: rustix::mount::MountAttrFlags,
    clear: rustix::mount::MountAttrFlags,
    propagation: u64,
) -> Result<(), Errno> {
    use rustix::fd::AsRawFd;
    const AT_EMPTY_PATH: usize = 0x1000;
    const AT_RECURSIVE: usize = 0x8000;
    // struct mount_attr { attr_set, attr_clr, propagation, userns_fd }
    let attr: [u64; 4] = [
        u64::from(set.bits()),
        u64::from(clear.bits()),
        propagation,
        0,
    ];
    // SAFETY: the path is an empty C string and attr is 32 valid bytes.
    check(unsafe {
        sc::syscall!(
            MOUNT_SETATTR,
            fd.as_raw_fd() as usize,
            c"".as_ptr() as usize,
            AT_EMPTY_PATH | AT_RECURSIVE,
            attr.as_ptr() as usize,
            32
        )
    })?;
    Ok(())
}

/// `pidfd_send_signal(fd, sig, NULL, 0)`, see pidfd_send_signal(2). Signal
/// 0 only checks that the process has not been reaped yet.
pub fn pidfd_signal(fd: rustix::fd::BorrowedFd<'_>, sig: i32) -> Result<(), Errno> {
    use rustix::fd::AsRawFd;
    // SAFETY: plain integers and a NULL siginfo.
    check(unsafe {
        sc::syscall!(
            PIDFD_SEND_SIGNAL,
            fd.as_raw_fd() as usize,
            sig as usize,
            0,
            0
        )
    })?;
    Ok(())
}

/// `ioctl(fd, NS_GET_OWNER_UID, &uid)`, see ioctl_ns(2): the uid (in
/// cntr's user namespace) that owns the user namespace `fd` refers to.
pub fn ns_owner_uid(fd: rustix::fd::BorrowedFd<'_>) -> Result<u32, Errno> {
    use rustix::fd::AsRawFd;
    const NS_GET_OWNER_UID: usize = 0xb704;
    let mut uid: u32 = 0;
    // SAFETY: the request writes one uid_t (u32) to the pointer given.
    check(unsafe {
        sc::syscall!(
            IOCTL,
            fd.as_raw_fd() as usize,
            NS_GET_OWNER_UID,
            &mut uid as *mut u32 as usize
        )
    })?;
    Ok(uid)
}

/// `exit_group(code)`, see exit_group(2): leaves at once, running no
/// destructor and flushing no buffer (for a forked helper whose buffers
/// are copies of its parent's).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: exit_group does not return.
    unsafe {
        sc::syscall!(EXIT_GROUP, code as usize);
    }
    #[allow(clippy::empty_loop)]
    loop {}
}

/// `clone3` with `CLONE_INTO_CGROUP`, see clone(2): like [`fork`], but the
/// child starts in the cgroup v2 directory `cgroup`, without the global
/// lock a later move through `cgroup.procs` takes.
///
/// No libc wraps clone3, so the child's libc keeps its parent's thread ID
/// (see [`fork`]), and musl's abort(3) in the child would `tkill` that ID:
/// first in raise(SIGABRT), then, having set SIGABRT to SIG_DFL, once
/// more, and then it executes `hlt` (SIGSEGV). In the parent's PID
/// namespace the ID is the parent's. So the parent ignores SIGABRT from
/// before the clone3 on, for good: it must do nothing afterwards but wait
/// for the child. Its own abort still ends it, since both musl's and
/// glibc's (stdlib/abort.c) set SIGABRT back to SIG_DFL and raise it
/// again after a first raise that did nothing. The child sets SIGABRT back
/// to SIG_DFL at once. An abort in the child thus ends the child alone:
/// with SIGABRT on glibc (whose raise asks the kernel for the thread ID,
/// nptl/pthread_kill.c since 2.34), with SIGSEGV on musl. (In a new PID
/// namespace the stale ID names some process of that namespace, or none:
/// it could get a SIGABRT meant for the child.)
pub fn fork_into(cgroup: rustix::fd::BorrowedFd<'_>) -> Result<Fork, Errno> {
    use rustix::fd::AsRawFd;
    const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    const SIGABRT: i32 = 6;
    // struct clone_args (CLONE_ARGS_SIZE_VER2): flags, pidfd, child_tid,
    // parent_tid, exit_signal, stack, stack_size, tls, set_tid,
    // set_tid_size, cgroup.
    let mut args = [0u64; 11];
    args[0] = CLONE_INTO_CGROUP;
    args[4] = SIGCHLD as u64;
    args[10] = cgroup.as_raw_fd() as u64;
    ignore_signal(SIGABRT)?;
    // SAFETY: args is a valid clone_args of the size passed; no new stack,
    // so the child returns here like a forked child (single-threaded).
    let r = match check(unsafe { sc::syscall!(CLONE3, args.as_mut_ptr() as usize, 88) }) {
        Ok(r) => r,
        Err(e) => {
            let _ = default_signal(SIGABRT);
            return Err(e);
        }
    };
    Ok(if r == 0 {
        // Cannot fail: a valid signal and action.
        let _ = default_signal(SIGABRT);
        Fork::Child
    } else {
        Fork::Parent(r as i32)
    })
}

/// Writes all of `b` to `fd`, retrying on short writes and EINTR.
pub fn write_all(fd: rustix::fd::BorrowedFd<'_>, mut b: &[u8]) -> Result<(), Errno> {
    while !b.is_empty() {
        match rustix::io::write(fd, b) {
            Ok(n) => b = &b[n..],
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A pause point, compiled in only with the `test-pause` feature (for the
/// tests, never in a release): when `CNTR_TEST_PAUSE` names `point`, the
/// process stops itself there with SIGSTOP, so that a test can change the
/// world (kill the container, hand its PID to another process) in a
/// window that is otherwise microseconds wide, then let it go on with
/// SIGCONT. When `CNTR_TEST_ABORT` names `point`, the process calls
/// abort(3) there instead, where a panic ends (the profile is
/// `panic = "abort"`): the tests check that an abort in a forked child
/// ends that child alone.
#[cfg(feature = "test-pause")]
pub fn pause(point: &str) {
    #[cfg(not(debug_assertions))]
    compile_error!("the test-pause feature is for test builds only, never a release");
    if std::env::var_os("CNTR_TEST_PAUSE").is_some_and(|v| v == point) {
        let _ =
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::STOP);
    }
    if std::env::var_os("CNTR_TEST_ABORT").is_some_and(|v| v == point) {
        std::process::abort();
    }
}

/// Without the `test-pause` feature a pause point is nothing.
#[cfg(not(feature = "test-pause"))]
#[inline(always)]
pub fn pause(_point: &str) {}

/// `NS_GET_USERNS`, see ioctl_ns(2): the user namespace that owns a
/// namespace.
pub const NS_GET_USERNS: usize = 0xb701;
/// `NS_GET_PARENT`, see ioctl_ns(2): the parent of a user or PID
/// namespace.
pub const NS_GET_PARENT: usize = 0xb702;

/// `ioctl(fd, request)` for the namespace ioctls that return a new fd
/// (`NS_GET_USERNS`, `NS_GET_PARENT`), see ioctl_ns(2).
pub fn ns_ioctl(fd: rustix::fd::BorrowedFd<'_>, request: usize) -> Result<OwnedFd, Errno> {
    use rustix::fd::AsRawFd;
    // SAFETY: these requests take no argument and return a new fd.
    let r = check(unsafe { sc::syscall!(IOCTL, fd.as_raw_fd() as usize, request, 0) })?;
    // SAFETY: the kernel returned a new descriptor we own; it is opened
    // close-on-exec (nsfs sets O_CLOEXEC on these).
    Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) })
}
