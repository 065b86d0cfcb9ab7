//! `proc::parse_stat`, the reader of `/proc/PID/stat`. The target chooses
//! its command name (`comm`: spaces, parentheses, newlines, anything but
//! NUL), so besides arbitrary input the target builds a real-looking stat
//! line around the fuzz input as the name and checks that the fields
//! after it still come out right: a name like `a) Z 1` must not forge the
//! state, the parent or the flags (kernel thread) that cntr checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cntr::proc::parse_stat(data);

    let mut line = b"4242 (".to_vec();
    line.extend_from_slice(data);
    line.extend_from_slice(b") S 7 4242 4242 0 -1 4194560 98 0 0 0 0 0 0 0 20 0 1 0 995871\n");
    let st = cntr::proc::parse_stat(&line).expect("a well-formed stat line was refused");
    assert_eq!(st.state, b'S');
    assert_eq!(st.ppid, 7);
    assert_eq!(st.flags, 4194560);
});
