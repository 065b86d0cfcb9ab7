//! The options of `cntr` itself, given instead of an applet: `--help`,
//! `--version`, and `--install DIR`, which makes a `cntr-X` symlink to
//! this binary for every applet, so that a debug image can ship the one
//! binary and nothing else.

use cntr::error::{Context, Error, Result};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

const USAGE: &str = "\
Usage: cntr APPLET [ARGS...] | cntr --install DIR | cntr --version
Debug running containers with the host's tools.

Applets (also runnable as cntr-APPLET):
";

/// Runs `word` if it is one of cntr's own options, with the words `rest`
/// after it; `None` when it is not one (it names an applet, then).
pub fn option(word: &OsStr, rest: &[OsString]) -> Result<Option<u8>> {
    let at_most = |n: usize| match rest.get(n) {
        Some(a) => Err(Error::usage(format!(
            "unexpected argument '{}'",
            a.to_string_lossy()
        ))),
        None => Ok(()),
    };
    match word.as_bytes() {
        b"-h" | b"--help" => {
            at_most(0)?;
            let mut text = USAGE.to_string();
            for a in crate::APPLETS {
                let name = a.name.strip_prefix("cntr-").unwrap_or(a.name);
                text.push_str(&format!("  {name:<12} {}\n", a.summary));
            }
            crate::link::help(&text).map(Some)
        }
        b"-V" | b"--version" => {
            at_most(0)?;
            cntr::error::say(concat!("cntr ", env!("CARGO_PKG_VERSION")))?;
            Ok(Some(0))
        }
        b"--install" => {
            at_most(1)?;
            let dir = rest
                .first()
                .ok_or_else(|| Error::usage("--install needs a directory"))?;
            install(dir).map(Some)
        }
        _ => Ok(None),
    }
}

/// `cntr --install DIR`: a `cntr-X` symlink to this binary for every
/// applet. An existing symlink is replaced; any other file is left alone
/// and reported. Everything is checked before anything is made, and links
/// made before a failure are removed again.
fn install(dir: &OsStr) -> Result<u8> {
    use rustix::fs::{AtFlags, FileType, CWD};
    if dir.is_empty() {
        return Err(Error::usage("--install needs a directory"));
    }
    let exe = rustix::fs::readlink("/proc/self/exe", Vec::new()).ctx("read /proc/self/exe")?;
    let mut links = Vec::new();
    for a in crate::APPLETS {
        let mut link = dir.as_bytes().to_vec();
        link.push(b'/');
        link.extend_from_slice(a.name.as_bytes());
        let shown = String::from_utf8_lossy(&link).into_owned();
        let replace = match rustix::fs::statat(CWD, link.as_slice(), AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Symlink => true,
            Ok(_) => return Err(Error::new(format!("{shown} exists and is not a symlink"))),
            Err(rustix::io::Errno::NOENT) => false,
            Err(e) => return Err(Error::sys(format_args!("create {shown}"), e)),
        };
        links.push((link, shown, replace));
    }
    let mut made: Vec<&[u8]> = Vec::new();
    let result = make_links(&links, &exe, &mut made);
    if result.is_err() {
        for link in made {
            let _ = rustix::fs::unlink(link);
        }
    }
    result.map(|()| 0)
}

/// Makes each link of `links` (path, shown name, whether it replaces a
/// link), noting in `made` those it created anew.
fn make_links<'a>(
    links: &'a [(Vec<u8>, String, bool)],
    exe: &std::ffi::CStr,
    made: &mut Vec<&'a [u8]>,
) -> Result<()> {
    for (link, shown, replace) in links {
        if *replace {
            // A new link renamed over the old one: the name never goes
            // missing, even when this fails halfway.
            let mut tmp = link.clone();
            tmp.extend_from_slice(b".new");
            let _ = rustix::fs::unlink(tmp.as_slice());
            rustix::fs::symlink(exe, tmp.as_slice()).ctx(format_args!("create {shown}"))?;
            if let Err(e) = rustix::fs::rename(tmp.as_slice(), link.as_slice()) {
                let _ = rustix::fs::unlink(tmp.as_slice());
                return Err(Error::sys(format_args!("replace {shown}"), e));
            }
        } else {
            rustix::fs::symlink(exe, link.as_slice()).ctx(format_args!("create {shown}"))?;
            made.push(link);
        }
    }
    Ok(())
}
