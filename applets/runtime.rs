//! What the process does before any applet runs: it becomes
//! non-dumpable, keeps a closed stdio from being reused, makes a panic one
//! line and 125, and leaves SIGPIPE to be an error; and the unwinder stubs
//! that keep unwinding machinery cntr never uses out of the binary.

use cntr::error::{self, Context, Result};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// The command line, copied; then wiped where it was.
///
/// Any process may read another's /proc/PID/cmdline, without a ptrace
/// check: once cntr has forked into the container's PID namespace, its
/// processes would read the rest of the chain there, values given with
/// -e among them. So only the applet's name is left to show.
///
/// # Safety
///
/// `argv` holds `argc` valid NUL-terminated strings, in writable memory
/// that nothing reads again, as libc passes them to `main`.
pub unsafe fn args(argc: i32, argv: *const *const std::ffi::c_char) -> Vec<OsString> {
    let n = argc.max(0) as usize;
    let mut args = Vec::with_capacity(n);
    for i in 0..n {
        // SAFETY: as the caller promises.
        let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
        args.push(OsStr::from_bytes(arg.to_bytes()).to_os_string());
    }
    for i in 1..n {
        // SAFETY: each string is writable memory of its length, copied
        // above.
        unsafe {
            let p = *argv.add(i) as *mut u8;
            let len = std::ffi::CStr::from_ptr(p.cast()).to_bytes().len();
            std::ptr::write_bytes(p, 0, len);
        }
    }
    args
}

/// Runs the command line `args` and exits with its status.
pub fn run(args: Vec<OsString>) -> ! {
    // A write to a pipe nobody reads fails with EPIPE, reported as any
    // error, instead of killing cntr (std's own main does the same; the
    // command gets SIGPIPE back at its default, see cntr::exec).
    let _ = cntr::sys::ignore_signal(cntr::sys::SIGPIPE);
    // A panic is cntr failing: one line and 125, as every other failure,
    // never abort(3), which in a child made by clone3 would signal the
    // thread its libc still takes for itself (see cntr::sys::fork_into).
    std::panic::set_hook(Box::new(|info| {
        error::report(format_args!("internal error: {info}"));
        cntr::sys::exit_now(i32::from(error::FAILED));
    }));
    // Non-dumpable before anything is opened: nothing in a container may
    // ptrace cntr or open its /proc/PID/fd while it holds host resources.
    // exec of the final command resets it.
    cntr::trace::init();
    let code = match rustix::process::set_dumpable_behavior(
        rustix::process::DumpableBehavior::NotDumpable,
    )
    .ctx("make the process non-dumpable")
    .and_then(|()| stdio_open())
    .and_then(|()| crate::top(args))
    {
        Ok(code) => code,
        Err(e) => {
            error::report(&e);
            e.code()
        }
    };
    cntr::trace!("exit {code}");
    std::process::exit(i32::from(code));
}

/// Makes sure fds 0, 1 and 2 are open, on /dev/null if need be, so that
/// nothing cntr opens can land on them and be mistaken for stdio.
fn stdio_open() -> Result<()> {
    for fd in 0..3 {
        // SAFETY: the fd is only probed.
        let b = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) };
        if rustix::io::fcntl_getfd(b) == Err(rustix::io::Errno::BADF) {
            let null = rustix::fs::open(
                "/dev/null",
                rustix::fs::OFlags::RDWR,
                rustix::fs::Mode::empty(),
            )
            .ctx("open /dev/null")?;
            // The lowest free number is `fd`: keep it open for good.
            std::mem::forget(null);
        }
    }
    Ok(())
}

/// The unwinder's entry points, which the standard library refers to (for
/// backtraces and for unwinding, which cntr never does: it aborts on
/// panic and carries no unwind tables, see build.rs). Defined here, they
/// keep libgcc's unwinder (about 15 KiB) out of the binary; a backtrace
/// asked for with `RUST_BACKTRACE` comes out empty, as it did anyway.
#[cfg(musl_libc)]
mod no_unwinder {
    /// `_URC_END_OF_STACK`: there is no frame to walk.
    const END_OF_STACK: i32 = 5;
    type Ctx = *mut u8;

    #[no_mangle]
    pub extern "C" fn _Unwind_Backtrace(_trace: *mut u8, _arg: *mut u8) -> i32 {
        END_OF_STACK
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_RaiseException(_e: *mut u8) -> i32 {
        END_OF_STACK
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_Resume(_e: *mut u8) -> ! {
        std::process::abort()
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_DeleteException(_e: *mut u8) {}
    #[no_mangle]
    pub extern "C" fn _Unwind_GetIP(_c: Ctx) -> usize {
        0
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_GetIPInfo(_c: Ctx, before: *mut i32) -> usize {
        if !before.is_null() {
            // SAFETY: the caller passes a valid int pointer or null.
            unsafe { *before = 0 };
        }
        0
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_GetCFA(_c: Ctx) -> usize {
        0
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_FindEnclosingFunction(_pc: *mut u8) -> *mut u8 {
        std::ptr::null_mut()
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_GetLanguageSpecificData(_c: Ctx) -> *mut u8 {
        std::ptr::null_mut()
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_GetRegionStart(_c: Ctx) -> usize {
        0
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_GetTextRelBase(_c: Ctx) -> usize {
        0
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_GetDataRelBase(_c: Ctx) -> usize {
        0
    }
    #[no_mangle]
    pub extern "C" fn _Unwind_SetGR(_c: Ctx, _i: i32, _v: usize) {}
    #[no_mangle]
    pub extern "C" fn _Unwind_SetIP(_c: Ctx, _v: usize) {}
}
