//! `mount::parse_mountinfo` and `mount::unescape`. The container names
//! its mount points (and, in its own mount namespace, the sources and
//! file system types), so any byte but NUL can reach a field.
//!
//! Checks: at most one entry per line; the kernel's octal escaping
//! (space, tab, newline, backslash) is undone exactly; and the entries,
//! written back as the kernel writes them, parse to the same entries.
#![no_main]

use cntr::mount::{parse_mountinfo, unescape};
use libfuzzer_sys::fuzz_target;

/// Escapes as the kernel's `mangle()` does for mountinfo.
fn escape(b: &[u8]) -> Vec<u8> {
    let mut o = Vec::with_capacity(b.len());
    for &c in b {
        if matches!(c, b' ' | b'\t' | b'\n' | b'\\') {
            o.extend_from_slice(format!("\\{c:03o}").as_bytes());
        } else {
            o.push(c);
        }
    }
    o
}

fuzz_target!(|data: &[u8]| {
    assert_eq!(unescape(&escape(data)), data);

    let list = parse_mountinfo(data);
    assert!(list.len() <= data.split(|&c| c == b'\n').count());
    let mut text = Vec::new();
    for m in &list {
        assert!(!m.super_options.contains(&b' ') && !m.super_options.contains(&b'\n'));
        text.extend_from_slice(b"36 35 98:0 ");
        text.extend_from_slice(&escape(&m.root));
        text.push(b' ');
        text.extend_from_slice(&escape(&m.mount_point));
        text.extend_from_slice(b" rw,noatime shared:7 - ");
        text.extend_from_slice(&escape(&m.fstype));
        text.push(b' ');
        text.extend_from_slice(&escape(&m.source));
        text.push(b' ');
        text.extend_from_slice(&m.super_options);
        text.push(b'\n');
    }
    assert_eq!(
        parse_mountinfo(&text),
        list,
        "written back as {:?}",
        String::from_utf8_lossy(&text)
    );
});
