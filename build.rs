//! Links the cntr binary against musl's libc when Debian's `musl-tools`
//! is installed (`apt-get install musl-tools`), instead of glibc.
//!
//! Why: a static binary on glibc cannot be smaller than ~670 KiB (an empty
//! C `main` is), and it drags in glibc's NSS and locale machinery that cntr
//! never uses; on musl it is a third of that. The Rust target stays
//! `x86_64-unknown-linux-gnu` (the musl target is not installable here);
//! the standard library for that target works on musl with two
//! adjustments, both in `applets/main.rs`: cntr takes its arguments from
//! its own `main(argc, argv)` (the glibc-only way std reads them, through
//! arguments to `.init_array` functions, is not musl's), and a stub for
//! glibc's `_dl_find_object`, which libgcc's unwinder asks for (cntr is
//! built with `panic = "abort"` and never unwinds).
//!
//! Only the binary is linked this way (`rustc-link-arg-bins`); tests and
//! examples keep glibc. Without musl-tools, or with `CNTR_GLIBC=1` in the
//! environment of the build, the binary is linked on glibc.

use std::path::Path;

const MUSL: &str = "/usr/lib/x86_64-linux-musl";

fn main() {
    println!("cargo::rustc-check-cfg=cfg(musl_libc)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed={MUSL}/libc.a");
    println!("cargo::rerun-if-env-changed=CNTR_GLIBC");
    if std::env::var_os("CNTR_GLIBC").is_some_and(|v| !v.is_empty())
        || std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() != Ok("x86_64")
        || std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux")
        || !Path::new(MUSL).join("libc.a").exists()
    {
        return;
    }
    let Some(gcc_dir) = std::process::Command::new("cc")
        .arg("-print-libgcc-file-name")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|p| Path::new(p.trim()).parent().map(Path::to_path_buf))
    else {
        return;
    };
    // A gcc specs file in the manner of musl-gcc's, which also handles
    // -static-pie (rustc asks for it: cntr keeps ASLR): musl's rcrt1.o
    // relocates the binary at start.
    let specs = format!(
        "*link_libgcc:\n-L{MUSL} -L{gcc}\n\n\
         *libgcc:\nlibgcc.a%s %:if-exists(libgcc_eh.a%s)\n\n\
         *startfile:\n%{{static-pie:{MUSL}/rcrt1.o;!shared:{MUSL}/crt1.o}} {MUSL}/crti.o %{{static-pie:crtbeginS.o%s;:crtbeginT.o%s}}\n\n\
         *endfile:\n%{{static-pie:crtendS.o%s;:crtend.o%s}} {MUSL}/crtn.o\n\n\
         *link:\n-nostdlib %{{static-pie:-static -pie --no-dynamic-linker -z text}} %{{static:-static}}\n",
        gcc = gcc_dir.display()
    );
    let out = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    let path = Path::new(&out).join("musl.specs");
    if std::fs::write(&path, specs).is_err() {
        return;
    }
    println!("cargo::rustc-link-arg-bins=-specs={}", path.display());
    // No unwind tables: cntr aborts on panic and never unwinds (a panic's
    // backtrace, if asked for, comes out empty). They are a tenth of the
    // binary.
    let script = Path::new(&out).join("no-unwind.ld");
    if std::fs::write(&script, "SECTIONS { /DISCARD/ : { *(.eh_frame) *(.eh_frame_hdr) *(.gcc_except_table) } } INSERT AFTER .text;\n").is_ok() {
        println!("cargo::rustc-link-arg-bins=-Wl,-T,{}", script.display());
    }
    println!("cargo::rustc-link-arg-bins=-Wl,--no-eh-frame-hdr");
    println!("cargo::rustc-cfg=musl_libc");
}
