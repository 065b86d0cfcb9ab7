//! What the engine resolvers read on top of the JSON reader: docker's
//! inspect answers (`docker::found`, and `docker::image_layers` for an
//! image), the CRI annotations of an OCI spec
//! (`kubernetes::annotations`), systemd-machined's machine files
//! (`nspawn::field`), and the check that a container ID or name read from
//! a state directory is safe to put in a path (`containerd::plausible`).
//! The same input is fed to each.
//!
//! Checks: no panic; docker's fields are the answer's own; an image's
//! layers are absolute paths of the answer, none empty; a machine
//! file's value is one line's; a plausible ID is a plain file name that
//! is neither `.` nor `..` nor an option.
#![no_main]

use cntr::engine::json::Json;
use cntr::engine::{containerd, docker, kubernetes, nspawn};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(j) = Json::parse(data) {
        if let Some((f, running)) = docker::found(&j) {
            assert_eq!(Some(f.id.as_str()), j.get("Id").and_then(Json::str));
            let name = j.get("Name").and_then(Json::str).unwrap_or_default();
            assert_eq!(f.name, name.trim_start_matches('/'));
            assert!(!f.name.starts_with('/'));
            assert_eq!(
                Some(i64::from(f.pid)),
                j.at(&["State", "Pid"]).and_then(Json::int)
            );
            assert_eq!(
                Some(running),
                j.at(&["State", "Running"]).and_then(Json::bool)
            );
        }
    }
    if let Some(j) = Json::parse(data) {
        if let Ok((layers, _)) = docker::image_layers(&j, "fuzz") {
            assert!(!layers.is_empty());
            assert!(layers.iter().all(|l| l.starts_with('/') && !l.contains(':')));
        }
    }
    if kubernetes::annotations(data).is_some() {
        assert!(Json::parse(data).is_some());
    }

    let text = String::from_utf8_lossy(data);
    for key in ["LEADER", "SCOPE", "CLASS", "NAME"] {
        if let Some(v) = nspawn::field(&text, key) {
            assert!(!v.contains('\n'));
            assert!(text.contains(&format!("{key}={v}")));
        }
    }
    for line in text.lines() {
        if containerd::plausible(line) {
            assert!(!line.is_empty() && line.len() <= 76 && line.is_ascii());
            assert!(!line.contains(['/', '\0']) && !line.starts_with(['.', '-']));
        }
    }
});
