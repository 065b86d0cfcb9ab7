//! The phase profile (`CNTR_TRACE=1`, or a front end's `--trace`): one
//! line on stderr per step of the chain,
//!
//! ```text
//! cntr-nsenter: trace 1234 us: joined ipc,net,uts,pid,cgroup
//! ```
//!
//! counted on `CLOCK_MONOTONIC` from the start of the chain's first
//! process. The origin travels to later processes of the chain (the
//! read-only re-exec, a link run through `-k`) as the variable's value,
//! `@NANOSECONDS`, so every line of one run counts from the same instant.
//! Off, a mark costs one load of a static.

use std::sync::atomic::{AtomicU64, Ordering};

/// The variable that asks for the profile.
pub const VAR: &str = "CNTR_TRACE";

/// The origin in nanoseconds, or [`OFF`].
static ORIGIN: AtomicU64 = AtomicU64::new(OFF);
const OFF: u64 = u64::MAX;

fn now() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    (t.tv_sec as u64) * 1_000_000_000 + t.tv_nsec as u64
}

/// Reads [`VAR`] once, at the start of a process: unset or empty is off;
/// `@N` is an origin a previous process of the chain set; anything else
/// starts the clock now and passes the origin on.
pub fn init() {
    let Some(v) = std::env::var_os(VAR).filter(|v| !v.is_empty()) else {
        return;
    };
    let inherited = v
        .to_str()
        .and_then(|s| s.strip_prefix('@'))
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|&n| n != OFF);
    let origin = inherited.unwrap_or_else(now);
    ORIGIN.store(origin, Ordering::Relaxed);
    if inherited.is_none() {
        // Single-threaded: nothing reads the environment meanwhile.
        std::env::set_var(VAR, format!("@{origin}"));
    }
}

/// Turns the profile on from here (a front end's `--trace`).
pub fn start() {
    std::env::set_var(VAR, "1");
    init();
}

/// Whether the profile is on.
pub fn on() -> bool {
    ORIGIN.load(Ordering::Relaxed) != OFF
}

/// One line for `what`, if the profile is on.
pub fn mark(what: std::fmt::Arguments<'_>) {
    let origin = ORIGIN.load(Ordering::Relaxed);
    if origin == OFF {
        return;
    }
    let us = now().saturating_sub(origin) / 1000;
    let line = format!("{}: trace {us} us: {what}\n", crate::error::applet());
    let _ = crate::sys::write_all(
        // SAFETY: fd 2 is open (the runtime makes sure of it).
        unsafe { rustix::fd::BorrowedFd::borrow_raw(2) },
        line.as_bytes(),
    );
}

/// `trace!("format", args...)`: [`mark`] with `format_args!`, built only
/// when the profile is on.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)*) => {
        if $crate::trace::on() {
            $crate::trace::mark(format_args!($($arg)*));
        }
    };
}
