//! Environments: the target's, read from `/proc/PID/environ`, and the one
//! the command gets.
//!
//! The command gets the container's environment, never the caller's (the
//! caller's `TERM` aside, and in a host-rooted attach session the caller's
//! `PATH`, `HOME` and `SHELL`, because the tools that run there are the host's). In
//! a host-rooted session, variables that make host programs load or run
//! something named by their value are dropped: the container sets them, the
//! host's shell and libraries would obey them.

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

/// Variables whose value makes a host program load, source or run
/// something: never passed into a host-rooted session.
const DANGEROUS: &[&[u8]] = &[
    b"BASH_ENV",
    b"ENV",
    b"PROMPT_COMMAND",
    b"PS0",
    b"PS1",
    b"PS2",
    b"PS3",
    b"PS4",
    b"SHELLOPTS",
    b"BASHOPTS",
    b"GLOBIGNORE",
    b"CDPATH",
    b"IFS",
    b"INPUTRC",
    b"HISTFILE",
    b"MAIL",
    b"MAILPATH",
    b"GCONV_PATH",
    b"GETCONF_DIR",
    b"HOSTALIASES",
    b"LOCALDOMAIN",
    b"LOCPATH",
    b"NLSPATH",
    b"RESOLV_HOST_CONF",
    b"RES_OPTIONS",
    b"TMPDIR",
    b"TZDIR",
    b"GLIBC_TUNABLES",
    b"TERMINFO",
    b"TERMINFO_DIRS",
    b"TERMCAP",
    b"PERL5LIB",
    b"PERLLIB",
    b"PERL5OPT",
    b"PERL5DB",
    b"RUBYOPT",
    b"RUBYLIB",
    b"NODE_OPTIONS",
    b"NODE_PATH",
    b"LESSOPEN",
    b"LESSCLOSE",
    b"LESSKEY",
    b"PAGER",
    b"MANPAGER",
    b"EDITOR",
    b"VISUAL",
    b"ZDOTDIR",
    b"SSL_CERT_FILE",
    b"SSL_CERT_DIR",
    b"OPENSSL_CONF",
    b"VIMINIT",
    b"EXINIT",
    b"MYVIMRC",
    b"GDBHISTFILE",
    b"SHELL",
    b"PATH",
    b"HOME",
    b"TERM",
    b"XDG_CONFIG_HOME",
    b"XDG_DATA_HOME",
    b"XDG_CONFIG_DIRS",
    b"XDG_DATA_DIRS",
    b"XDG_RUNTIME_DIR",
    b"PKG_CONFIG_PATH",
    b"MAGIC",
    b"PYTHONPATH",
    b"PYTHONHOME",
    b"PYTHONSTARTUP",
    b"PYTHONUSERBASE",
    b"PYTHONEXECUTABLE",
    b"JAVA_TOOL_OPTIONS",
    b"_JAVA_OPTIONS",
    b"JDK_JAVA_OPTIONS",
    b"TZ",
];

/// Prefixes of such variables (`LD_PRELOAD`, `BASH_FUNC_f%%`, `MALLOC_*`).
const DANGEROUS_PREFIX: &[&[u8]] = &[
    b"LD_",
    b"BASH_FUNC_",
    b"MALLOC_",
    b"GIT_",
    b"PYTHON",
    b"KRB5",
    b"LESS",
];

/// Whether `name` may pass into a host-rooted session.
pub fn safe_on_host(name: &[u8]) -> bool {
    !DANGEROUS.contains(&name) && !DANGEROUS_PREFIX.iter().any(|p| name.starts_with(p))
}

/// Builds the command's environment from the container's.
///
/// `host_rooted`: the command runs with the host's `/` (attach). `caller`
/// is cntr's own environment, of which only `TERM` (and for a host-rooted
/// session `PATH`, `HOME` and `SHELL`) is taken.
pub fn build(container: Vec<Vec<u8>>, host_rooted: bool, caller: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut env = container;
    if host_rooted {
        env.retain(|e| safe_on_host(key(e)));
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
        for name in [&b"HOME"[..], b"SHELL"] {
            if let Some(val) = get(caller, name).map(<[u8]>::to_vec) {
                set(&mut env, name, &val);
            }
        }
    } else if get(&env, b"PATH").is_none() {
        set(&mut env, b"PATH", DEFAULT_PATH);
    }
    match get(caller, b"TERM").map(<[u8]>::to_vec) {
        Some(term) => set(&mut env, b"TERM", &term),
        None if host_rooted => env.retain(|e| key(e) != b"TERM"),
        None => {}
    }
    env
}

/// cntr's own environment without what cntr passes to itself across an
/// exec (`CNTR_FDS`, `CNTR_SEALED`): what a foreign program may get.
pub fn caller_public() -> Vec<Vec<u8>> {
    let mut env = caller();
    env.retain(|e| {
        let k = key(e);
        k != crate::handoff::VAR.as_bytes() && k != crate::sealed::VAR.as_bytes()
    });
    env
}

/// cntr's own environment as `KEY=VALUE` entries.
pub fn caller() -> Vec<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    std::env::vars_os()
        .map(|(k, v)| {
            let mut e = k.as_bytes().to_vec();
            e.push(b'=');
            e.extend_from_slice(v.as_bytes());
            e
        })
        .collect()
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
    fn host_rooted_drops_loaders() {
        let ct = v(&[
            "FOO=bar",
            "LD_PRELOAD=/x.so",
            "BASH_ENV=/x",
            "ENV=/x",
            "PROMPT_COMMAND=x",
            "BASH_FUNC_ls%%=() { x; }",
            "GCONV_PATH=/x",
            "PATH=/var/lib/cntr/bin",
            "SHELL=/var/lib/cntr/bin/sh",
            "HOME=/var/lib/cntr/x",
            "TERM=evil",
        ]);
        let caller = v(&[
            "PATH=/usr/bin:/bin",
            "HOME=/root",
            "TERM=xterm",
            "SECRET=1",
            "SHELL=/bin/bash",
        ]);
        let env = build(ct.clone(), true, &caller);
        assert_eq!(
            env,
            v(&[
                "FOO=bar",
                "PATH=/usr/bin:/bin",
                "HOME=/root",
                "SHELL=/bin/bash",
                "TERM=xterm"
            ])
        );
        let env = build(ct, false, &caller);
        assert!(env.contains(&b"LD_PRELOAD=/x.so".to_vec()));
        assert!(env.contains(&b"PATH=/var/lib/cntr/bin".to_vec()));
        assert!(env.contains(&b"TERM=xterm".to_vec()));
        assert!(!env.iter().any(|e| e.starts_with(b"SECRET")));
        let env = build(v(&["A=1"]), false, &[]);
        assert_eq!(get(&env, b"PATH"), Some(DEFAULT_PATH));
    }
}
