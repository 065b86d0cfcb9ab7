//! The container's users and groups: `-u USER[:GROUP]` resolved against
//! its `/etc/passwd` and `/etc/group`, parsed as bytes (no NSS: nothing
//! of the container is loaded into a host process), with the rules of
//! `docker exec -u` (runc's `GetExecUser`):
//!
//! - USER is a name, which must be in `/etc/passwd`, or a number, taken
//!   as it is when no entry has it (its group is then 0, its home `/`);
//! - GROUP, when given, is a name, which must be in `/etc/group`, or a
//!   number; it replaces the user's primary group, and then there are no
//!   supplementary groups;
//! - without GROUP, the supplementary groups are those of `/etc/group`
//!   that list the user's name;
//! - the primary group is always among the supplementary groups, as
//!   `docker exec -u` gives them (measured with docker 28).

use crate::error::{Error, Result};

/// Who `-u` names, as the container's files say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    /// The home directory of the passwd entry, if there is one.
    pub home: Option<Vec<u8>>,
}

/// The fields of the lines of a passwd or group file: `:`-separated,
/// lines that are empty or start with `#` skipped.
fn entries(file: &[u8]) -> impl Iterator<Item = Vec<&[u8]>> {
    file.split(|&c| c == b'\n')
        .filter(|l| !l.is_empty() && l[0] != b'#')
        .map(|l| l.split(|&c| c == b':').collect())
}

/// A decimal id, 0 to 2^32 - 2 (the last is the kernel's "no id").
fn id(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 10 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b)
        .ok()?
        .parse::<u32>()
        .ok()
        .filter(|&n| n != u32::MAX)
}

/// Resolves `spec` (`USER` or `USER:GROUP`) against the container's
/// `passwd` and `group` files (`None`: the file does not exist).
pub fn resolve(spec: &[u8], passwd: Option<&[u8]>, group: Option<&[u8]>) -> Result<User> {
    let shown = String::from_utf8_lossy(spec);
    let (user, grp) = match memchr::memchr(b':', spec) {
        Some(i) => (&spec[..i], Some(&spec[i + 1..])),
        None => (spec, None),
    };
    if user.is_empty() || grp.is_some_and(<[u8]>::is_empty) {
        return Err(Error::usage(format!(
            "--user {shown}: USER[:GROUP] expected"
        )));
    }
    let numeric = id(user);
    let entry = entries(passwd.unwrap_or_default())
        .find(|f| f.len() >= 7 && (f[0] == user || (numeric.is_some() && id(f[2]) == numeric)));
    let (name, mut u) = match (entry, numeric) {
        (Some(f), _) => (
            Some(f[0].to_vec()),
            User {
                uid: id(f[2]).ok_or_else(|| bad_entry("passwd", f[0]))?,
                gid: id(f[3]).ok_or_else(|| bad_entry("passwd", f[0]))?,
                groups: Vec::new(),
                home: Some(f[5].to_vec()),
            },
        ),
        (None, Some(uid)) => (
            None,
            User {
                uid,
                gid: 0,
                groups: Vec::new(),
                home: None,
            },
        ),
        (None, None) => {
            return Err(Error::usage(format!(
                "--user: no user '{}' in the container's /etc/passwd (the owner of rootless podman containers is --owner)",
                String::from_utf8_lossy(user)
            )))
        }
    };
    let groups: Vec<Vec<&[u8]>> = entries(group.unwrap_or_default())
        .filter(|f| f.len() >= 4)
        .collect();
    match grp {
        Some(g) => {
            u.gid = match id(g) {
                Some(gid) => gid,
                None => {
                    let f = groups.iter().find(|f| f[0] == g).ok_or_else(|| {
                        Error::usage(format!(
                            "--user: no group '{}' in the container's /etc/group",
                            String::from_utf8_lossy(g)
                        ))
                    })?;
                    id(f[2]).ok_or_else(|| bad_entry("group", f[0]))?
                }
            };
        }
        None => {
            if let Some(name) = &name {
                for f in &groups {
                    if f[3].split(|&c| c == b',').any(|m| m == name.as_slice()) {
                        let gid = id(f[2]).ok_or_else(|| bad_entry("group", f[0]))?;
                        if !u.groups.contains(&gid) {
                            u.groups.push(gid);
                        }
                    }
                }
            }
        }
    }
    // The primary group is a supplementary one too, as docker exec gives
    // it (containerd adds it to the additional gids).
    if !u.groups.contains(&u.gid) {
        u.groups.insert(0, u.gid);
    }
    Ok(u)
}

fn bad_entry(file: &str, name: &[u8]) -> Error {
    Error::new(format!(
        "the container's /etc/{file} has a malformed entry for '{}'",
        String::from_utf8_lossy(name)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/sh\n\
        # a comment\n\
        app:x:1000:1000:app:/home/app:/bin/sh\n\
        nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
        broken:x:abc:1:::\n";
    const GROUP: &[u8] =
        b"root:x:0:\napp:x:1000:\nstaff2:x:2000:app,other\nwheel:x:10:root\nnogroup:x:65534:\n";

    fn r(spec: &str) -> Result<User> {
        resolve(spec.as_bytes(), Some(PASSWD), Some(GROUP))
    }

    #[test]
    fn names_numbers_and_groups() {
        let app = r("app").unwrap();
        assert_eq!(
            (app.uid, app.gid, app.groups.clone()),
            (1000, 1000, vec![1000, 2000])
        );
        assert_eq!(app.home.as_deref(), Some(&b"/home/app"[..]));
        assert_eq!(r("1000").unwrap(), app);
        let root = r("root").unwrap();
        assert_eq!((root.uid, root.gid, root.groups), (0, 0, vec![0, 10]));
        let n = r("nobody").unwrap();
        assert_eq!((n.uid, n.gid), (65534, 65534));
        let x = r("4321").unwrap();
        assert_eq!((x.uid, x.gid, x.groups, x.home), (4321, 0, vec![0], None));
        let g = r("app:staff2").unwrap();
        assert_eq!((g.uid, g.gid, g.groups), (1000, 2000, vec![2000]));
        assert_eq!(r("app:77").unwrap().gid, 77);
        assert_eq!(r("4321:nogroup").unwrap().gid, 65534);
    }

    #[test]
    fn refusals() {
        for bad in ["alice", "app:nogroup2", "", ":", "app:", ":app", "broken"] {
            assert!(r(bad).is_err(), "{bad}");
        }
        assert!(r("alice").unwrap_err().message().contains("--owner"));
        assert!(resolve(b"app", None, None).is_err());
        assert_eq!(resolve(b"12", None, None).unwrap().uid, 12);
        assert!(r("4294967295").is_err());
    }
}
