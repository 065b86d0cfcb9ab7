//! `proc::Status::parse`, the reader of `/proc/PID/status` (credentials,
//! capabilities, seccomp, no_new_privs, the PID in each namespace: what
//! cntr takes on from the target). No panic; and what it accepts, written
//! back as the kernel writes it, parses to the same value.
#![no_main]

use cntr::proc::Status;
use libfuzzer_sys::fuzz_target;
use std::fmt::Write;

fn write(s: &Status) -> Vec<u8> {
    let mut o = String::new();
    let list = |v: &[u32]| v.iter().map(|n| format!("{n}\t")).collect::<String>();
    let _ = writeln!(o, "Name:\tsh");
    let _ = writeln!(o, "Uid:\t{}", list(&s.uid).trim_end());
    let _ = writeln!(o, "Gid:\t{}", list(&s.gid).trim_end());
    let groups: String = s.groups.iter().map(|g| format!("{g} ")).collect();
    let _ = writeln!(o, "Groups:\t{groups}");
    let _ = writeln!(o, "NSpid:\t{}", list(&s.nspid).trim_end());
    let _ = writeln!(o, "CapInh:\t{:016x}", s.cap_inh);
    let _ = writeln!(o, "CapPrm:\t{:016x}", s.cap_prm);
    let _ = writeln!(o, "CapEff:\t{:016x}", s.cap_eff);
    let _ = writeln!(o, "CapBnd:\t{:016x}", s.cap_bnd);
    let _ = writeln!(o, "CapAmb:\t{:016x}", s.cap_amb);
    let _ = writeln!(o, "NoNewPrivs:\t{}", u8::from(s.no_new_privs));
    let _ = writeln!(o, "Seccomp:\t{}", s.seccomp);
    let _ = writeln!(o, "Threads:\t{}", s.threads);
    let mut o = o.into_bytes();
    // The state letter is one byte, whatever it is.
    if s.state != 0 {
        o.extend_from_slice(b"State:\t");
        o.push(s.state);
        o.extend_from_slice(b" (x)\n");
    }
    o
}

fuzz_target!(|data: &[u8]| {
    let Some(s) = Status::parse(data) else {
        return;
    };
    let text = write(&s);
    assert_eq!(
        Status::parse(&text).as_ref(),
        Some(&s),
        "written back as {:?}",
        String::from_utf8_lossy(&text)
    );
});
