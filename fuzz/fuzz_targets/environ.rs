//! `env::parse`, the reader of `/proc/PID/environ`, and `env::build`,
//! which makes the command's environment from it. The first input byte
//! picks whether the read was complete, whether the caller has a `TERM`
//! and whether there is a terminal; the rest is the environ file.
//!
//! Checks: the entries are `KEY=VALUE` with a non-empty key, no NUL, one
//! per key, the first of each key as getenv(3) sees it (against a plain
//! model); in a host-rooted session only the allowlist of the container's
//! variables passes (`passes_to_host`: no value holds a `/`), and `PATH`,
//! `HOME`, `SHELL`, `TERM` and the locale are the caller's or absent.
#![no_main]

use cntr::env;
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;

/// What `parse` should return, written another way.
fn model(raw: &[u8], complete: bool) -> Vec<Vec<u8>> {
    let mut parts: Vec<&[u8]> = raw.split(|&c| c == 0).collect();
    let last = parts.pop().unwrap_or_default();
    if complete && !last.is_empty() {
        parts.push(last);
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for p in parts {
        let Some(eq) = p.iter().position(|&c| c == b'=') else {
            continue;
        };
        if eq > 0 && seen.insert(&p[..eq]) {
            out.push(p.to_vec());
        }
    }
    out
}

fn unique_keys(e: &[Vec<u8>]) {
    let mut seen = HashSet::new();
    for x in e {
        assert!(
            seen.insert(env::key(x)),
            "key twice: {:?}",
            String::from_utf8_lossy(x)
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, raw)) = data.split_first() else {
        return;
    };
    let complete = flags & 1 != 0;
    let parsed = env::parse(raw, complete);
    for e in &parsed {
        assert!(!e.contains(&0));
        let k = env::key(e);
        assert!(!k.is_empty() && k.len() < e.len(), "{e:?}");
    }
    unique_keys(&parsed);
    assert_eq!(parsed, model(raw, complete));
    let from_container: HashSet<&[u8]> = parsed.iter().map(Vec::as_slice).collect();

    let mut caller = vec![
        b"PATH=/host/bin:rel".to_vec(),
        b"HOME=/root".to_vec(),
        b"LANG=C.UTF-8".to_vec(),
    ];
    if flags & 2 != 0 {
        caller.push(b"TERM=xterm".to_vec());
    }
    let tty = flags & 4 != 0;
    let term = env::get(&caller, b"TERM").filter(|_| tty);

    // Host-rooted: of the container's, only the allowlist; the caller's
    // basics; nothing else.
    let host = env::build(parsed.clone(), true, &caller, tty);
    unique_keys(&host);
    assert_eq!(env::get(&host, b"PATH"), Some(&b"/host/bin"[..]));
    assert_eq!(env::get(&host, b"HOME"), Some(&b"/root"[..]));
    assert_eq!(env::get(&host, b"LANG"), Some(&b"C.UTF-8"[..]));
    assert_eq!(env::get(&host, b"SHELL"), None);
    assert_eq!(env::get(&host, b"TERM"), term);
    for e in &host {
        if !matches!(env::key(e), b"PATH" | b"HOME" | b"TERM" | b"LANG") {
            assert!(
                env::passes_to_host(e) && from_container.contains(e.as_slice()),
                "{:?} passed",
                String::from_utf8_lossy(e)
            );
            assert!(!e.contains(&b'/'), "a path passed: {:?}", String::from_utf8_lossy(e));
        }
    }

    // In the container's root: its own environment, with a PATH, and
    // the caller's TERM only with a terminal.
    let ct = env::build(parsed.clone(), false, &caller, tty);
    unique_keys(&ct);
    let path = env::get(&parsed, b"PATH").unwrap_or(env::DEFAULT_PATH);
    assert_eq!(env::get(&ct, b"PATH"), Some(path));
    if term.is_some() {
        assert_eq!(env::get(&ct, b"TERM"), term);
    } else {
        assert_eq!(env::get(&ct, b"TERM"), env::get(&parsed, b"TERM"));
    }
    for e in &ct {
        assert!(from_container.contains(e.as_slice()) || matches!(env::key(e), b"PATH" | b"TERM"));
    }
});
