//! Environments: the target's, read from `/proc/PID/environ`, and the one
//! the command gets.
//!
//! A command rooted in the container (exec) gets the container's
//! environment as it is. A host-rooted session (attach) runs the host's
//! programs, which obey their environment: it gets the caller's basics and
//! only what is inert by definition of the container's (see [`build`]).
//! The container's full environment stays one command away
//! (`cat /proc/1/environ` in the session, or `cntr exec`).

/// At most this much of `/proc/PID/environ` is read.
pub const ENVIRON_LIMIT: usize = 1 << 20;

/// The `PATH` used when the container has none.
pub const DEFAULT_PATH: &[u8] = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Splits `environ` into `KEY=VALUE` entries. Entries without `=` or with
/// an empty key are dropped; a repeated key keeps its first value, as
/// getenv(3) would see it. A cut-off last entry (the read limit) is dropped.
pub fn parse(raw: &[u8], complete: bool) -> Vec<Vec<u8>> {
    let mut parts: Vec<&[u8]> = raw.split(|&c| c == 0).collect();
    // The file ends with a NUL, so the last part is empty; if it is not,
    // the read was cut short (or the process rewrote its environment).
    if let Some(last) = parts.pop() {
        if !last.is_empty() && complete {
            parts.push(last);
        }
    }
    parts.retain(|p| memchr::memchr(b'=', p).is_some_and(|eq| eq > 0));
    // The first of each key, found by sorting (stably) rather than by
    // comparing every entry with every earlier one: the container writes
    // this file, and a megabyte of short keys must not cost seconds.
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&i| key(parts[i]));
    let mut first = vec![false; parts.len()];
    for (n, &i) in order.iter().enumerate() {
        first[i] = n == 0 || key(parts[order[n - 1]]) != key(parts[i]);
    }
    parts
        .into_iter()
        .zip(first)
        .filter(|&(_, f)| f)
        .map(|(p, _)| p.to_vec())
        .collect()
}

/// The key of a `KEY=VALUE` entry.
pub fn key(entry: &[u8]) -> &[u8] {
    &entry[..memchr::memchr(b'=', entry).unwrap_or(entry.len())]
}

/// The value of `name` in `env`.
pub fn get<'a>(env: &'a [Vec<u8>], name: &[u8]) -> Option<&'a [u8]> {
    env.iter()
        .find(|e| key(e) == name)
        .map(|e| &e[name.len() + 1..])
}

/// Sets `name` to `value`, replacing an earlier value.
pub fn set(env: &mut Vec<Vec<u8>>, name: &[u8], value: &[u8]) {
    env.retain(|e| key(e) != name);
    let mut e = name.to_vec();
    e.push(b'=');
    e.extend_from_slice(value);
    env.push(e);
}

/// The locale variables (locale(7)). Their values name a locale; one
/// that holds a `/` is a path, which glibc loads locale data from.
const LOCALE: &[&[u8]] = &[
    b"LANG",
    b"LANGUAGE",
    b"LC_ALL",
    b"LC_ADDRESS",
    b"LC_COLLATE",
    b"LC_CTYPE",
    b"LC_IDENTIFICATION",
    b"LC_MEASUREMENT",
    b"LC_MESSAGES",
    b"LC_MONETARY",
    b"LC_NAME",
    b"LC_NUMERIC",
    b"LC_PAPER",
    b"LC_TELEPHONE",
    b"LC_TIME",
];

/// The caller's variables a host-rooted session gets besides its locale
/// (`PATH` apart: only its absolute entries).
const CALLER_BASICS: &[&[u8]] = &[b"HOME", b"SHELL", b"USER", b"LOGNAME"];

/// Whether a variable of the container passes into a host-rooted session.
/// An allowlist of what is inert by definition: `HOSTNAME` as a host name
/// and locale names that are not paths, in a plain character set and at
/// most 255 bytes (no terminal control, no path, no expansion). Everything
/// else of the container's environment stays out: host programs obey
/// variables in numbers no list of dangerous names can keep up with
/// (`VIMRUNTIME`, `SYSTEMD_PAGER`, `MAKEFILES`, `WGETRC`, `LUA_INIT`,
/// `PHPRC`, `KUBECONFIG`, ...).
pub fn passes_to_host(entry: &[u8]) -> bool {
    let (k, v) = (key(entry), &entry[key(entry).len() + 1..]);
    let plain = |extra: &[u8]| {
        v.len() <= 255
            && v.iter()
                .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
    };
    if k == b"HOSTNAME" {
        return !v.is_empty() && plain(b".-");
    }
    LOCALE.contains(&k) && plain(b"._@:-")
}

/// Builds the command's environment from the container's.
///
/// `host_rooted`: the command runs with the host's `/` (attach); it gets
/// what [`passes_to_host`] lets through of the container's environment,
/// and the caller's basics: locale, `HOME`, `SHELL`, `USER`, `LOGNAME` and
/// the absolute entries of `PATH` (the tools that run there are the
/// host's). Otherwise (exec) it gets the container's environment as it
/// is, with a default `PATH` if it has none. Either way the caller's
/// `TERM` comes along when there is a terminal (`tty`), and nothing else
/// of the caller's.
pub fn build(
    container: Vec<Vec<u8>>,
    host_rooted: bool,
    caller: &[Vec<u8>],
    tty: bool,
) -> Vec<Vec<u8>> {
    let mut env = container;
    if host_rooted {
        env.retain(|e| passes_to_host(e));
        for e in caller {
            if LOCALE.contains(&key(e)) {
                set(&mut env, key(e), &e[key(e).len() + 1..]);
            }
        }
        // The session's working directory is the container's tree: a
        // relative (or empty) entry of the caller's PATH would find the
        // container's programs there, run as the host-rooted session.
        let path: Vec<&[u8]> = get(caller, b"PATH")
            .unwrap_or(DEFAULT_PATH)
            .split(|&c| c == b':')
            .filter(|d| d.starts_with(b"/"))
            .collect();
        let path = if path.is_empty() {
            DEFAULT_PATH.to_vec()
        } else {
            path.join(&b':')
        };
        set(&mut env, b"PATH", &path);
        for &name in CALLER_BASICS {
            if let Some(val) = get(caller, name).map(<[u8]>::to_vec) {
                set(&mut env, name, &val);
            }
        }
    } else if get(&env, b"PATH").is_none() {
        set(&mut env, b"PATH", DEFAULT_PATH);
    }
    if tty {
        if let Some(term) = get(caller, b"TERM").map(<[u8]>::to_vec) {
            set(&mut env, b"TERM", &term);
        }
    }
    env
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_megabyte_of_unique_keys() {
        let mut raw = Vec::new();
        let mut n = 0;
        while raw.len() < super::ENVIRON_LIMIT - 16 {
            raw.extend_from_slice(format!("{n}=\0").as_bytes());
            n += 1;
        }
        raw.extend_from_slice(b"0=again\0");
        let env = super::parse(&raw, true);
        assert_eq!(env.len(), n);
        assert_eq!(env[0], b"0=");
        assert_eq!(env[n - 1], format!("{}=", n - 1).as_bytes());
    }

    use super::*;

    fn v(s: &[&str]) -> Vec<Vec<u8>> {
        s.iter().map(|x| x.as_bytes().to_vec()).collect()
    }

    #[test]
    fn parse_environ() {
        assert_eq!(parse(b"A=1\0B=\0=x\0noeq\0A=2\0", true), v(&["A=1", "B="]));
        assert_eq!(parse(b"A=1\0B=cut", false), v(&["A=1"]));
        assert_eq!(parse(b"A=1\0B=last", true), v(&["A=1", "B=last"]));
        assert!(parse(b"", true).is_empty());
    }

    #[test]
    fn host_rooted_takes_an_allowlist() {
        let ct = v(&[
            "FOO=bar",
            "LD_PRELOAD=/x.so",
            "BASH_ENV=/x",
            "VIMRUNTIME=/x",
            "SYSTEMD_PAGER=sh -c x",
            "KUBECONFIG=/x",
            "HOSTNAME=web-1.example",
            "LANG=C.UTF-8",
            "LC_TIME=/var/lib/cntr/evil",
            "LANGUAGE=de_DE:en",
            "PATH=/var/lib/cntr/bin",
            "SHELL=/var/lib/cntr/bin/sh",
            "HOME=/var/lib/cntr/x",
            "TERM=evil",
        ]);
        let caller = v(&[
            "PATH=/usr/bin:.:/bin:",
            "HOME=/root",
            "TERM=xterm",
            "SECRET=1",
            "SHELL=/bin/bash",
            "USER=root",
            "LC_TIME=en_GB.UTF-8",
        ]);
        let env = build(ct.clone(), true, &caller, true);
        assert_eq!(
            env,
            v(&[
                "HOSTNAME=web-1.example",
                "LANG=C.UTF-8",
                "LANGUAGE=de_DE:en",
                "LC_TIME=en_GB.UTF-8",
                "PATH=/usr/bin:/bin",
                "HOME=/root",
                "SHELL=/bin/bash",
                "USER=root",
                "TERM=xterm",
            ])
        );
        let env = build(ct.clone(), true, &caller, false);
        assert_eq!(get(&env, b"TERM"), None);
        assert_eq!(
            build(v(&["HOSTNAME=a\x1b]0;x", "LANG=../x"]), true, &[], false),
            v(&[&format!("PATH={}", String::from_utf8_lossy(DEFAULT_PATH))])
        );
        let env = build(ct.clone(), false, &caller, true);
        assert!(env.contains(&b"LD_PRELOAD=/x.so".to_vec()));
        assert!(env.contains(&b"PATH=/var/lib/cntr/bin".to_vec()));
        assert!(env.contains(&b"TERM=xterm".to_vec()));
        assert!(!env.iter().any(|e| e.starts_with(b"SECRET")));
        let env = build(ct, false, &caller, false);
        assert!(env.contains(&b"TERM=evil".to_vec()), "the container's own");
        let env = build(v(&["A=1"]), false, &[], false);
        assert_eq!(get(&env, b"PATH"), Some(DEFAULT_PATH));
    }
}
