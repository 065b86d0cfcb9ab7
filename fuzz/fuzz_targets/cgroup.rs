//! `cgroup::parse`, the reader of `/proc/PID/cgroup`. The container names
//! its cgroups (with cgroup namespaces and delegation), so the paths can
//! hold colons and, through a crafted name, look like extra lines.
//!
//! Checks: an accepted file has absolute paths, controllers without a
//! colon, no line break anywhere, each hierarchy once; written back as
//! the kernel writes it, it parses to the same list.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(list) = cntr::cgroup::parse(data) else {
        return;
    };
    let mut text = Vec::new();
    for (i, m) in list.iter().enumerate() {
        assert!(m.path.starts_with(b"/"));
        assert!(!m.path.contains(&b'\n'));
        assert!(!m.controllers.contains(&b':') && !m.controllers.contains(&b'\n'));
        assert!(
            !list[..i]
                .iter()
                .any(|o| o.id == m.id && o.controllers == m.controllers),
            "hierarchy {} twice",
            m.id
        );
        text.extend_from_slice(format!("{}:", m.id).as_bytes());
        text.extend_from_slice(&m.controllers);
        text.push(b':');
        text.extend_from_slice(&m.path);
        text.push(b'\n');
    }
    assert_eq!(cntr::cgroup::parse(&text), Some(list));
});
