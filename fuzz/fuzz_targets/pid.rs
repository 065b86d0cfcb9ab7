//! `proc::parse_pid`: a target named on the command line, and the fd
//! numbers of `CNTR_FDS`. What it accepts is a PID the kernel can hand out
//! (1 to 4194304) written exactly as cntr would write it back: no sign,
//! no leading zero, no space, no other base.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

fuzz_target!(|data: &[u8]| {
    if let Some(pid) = cntr::proc::parse_pid(OsStr::from_bytes(data)) {
        assert!((1..=4 * 1024 * 1024).contains(&pid), "accepted {pid}");
        assert_eq!(pid.to_string().as_bytes(), data, "not canonical");
    }
});
