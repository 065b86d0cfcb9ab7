//! `engine::http::parse_answer`: what the docker or LXD daemon's socket
//! sends back (its bodies carry strings a container controls). An
//! accepted answer has a three-digit status and its body is exactly what
//! follows the first empty line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((code, body)) = cntr::engine::http::parse_answer(data) {
        assert!((0..=999).contains(&code), "status {code}");
        let head = memchr_find(data, b"\r\n\r\n").expect("accepted without a head");
        assert_eq!(&data[head + 4..], &body[..]);
        assert!(data.starts_with(b"HTTP/1."));
    }
});

fn memchr_find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
