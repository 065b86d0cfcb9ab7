//! Seccomp: copying the target's filters, so that `cntr exec`'s command
//! runs under the same system call policy as the container's own
//! processes (as `docker exec`, `podman exec` and `lxc-attach` do).
//!
//! The kernel hands a process's filters only to a tracer that holds
//! CAP_SYS_ADMIN over the host's user namespace and has the process
//! stopped (`PTRACE_SECCOMP_GET_FILTER`, ptrace(2)); so they are read on
//! the host's side, before any namespace is joined, and travel to the
//! last link in a sealed memfd (the handoff's `seccomp` fd), where they
//! are installed before the credentials change, as runc does: without
//! no_new_privs, installing a filter needs CAP_SYS_ADMIN.

use crate::error::{Context, Error, Result};
use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::io::Errno;
use std::time::{Duration, Instant};

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// The target's filters, oldest first (the order to install them in).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters(pub Vec<Vec<Insn>>);

/// The most instructions a filter may have (`BPF_MAXINSNS`).
const MAX_INSNS: usize = 4096;
/// The most filters a process can stack is bounded by their total size
/// (`MAX_INSNS_PER_PATH`, 32768 instructions).
const MAX_TOTAL: usize = 32768;

const PTRACE_DETACH: usize = 17;
const PTRACE_SEIZE: usize = 0x4206;
const PTRACE_INTERRUPT: usize = 0x4207;
const PTRACE_SECCOMP_GET_FILTER: usize = 0x420c;
const WALL: usize = 0x4000_0000;

fn check(ret: usize) -> std::result::Result<usize, Errno> {
    let r = ret as isize;
    if (-4095..0).contains(&r) {
        Err(Errno::from_raw_os_error(-r as i32))
    } else {
        Ok(ret)
    }
}

/// `ptrace(request, pid, addr, data)`, see ptrace(2).
fn ptrace(request: usize, pid: i32, addr: usize, data: usize) -> std::result::Result<usize, Errno> {
    // SAFETY: the requests used here take integers, or (GET_FILTER) a
    // buffer the caller sized from the kernel's own count.
    check(unsafe { sc::syscall!(PTRACE, request, pid as usize, addr, data) })
}

/// Detaches from a seized process whatever happens to the reader.
struct Seized(i32);

impl Drop for Seized {
    fn drop(&mut self) {
        let _ = ptrace(PTRACE_DETACH, self.0, 0, 0);
    }
}

/// Reads the filters of thread `tid` (a number in cntr's own PID
/// namespace) of the process behind `pidfd`, and how long it was stopped:
///
/// 1. `PTRACE_SEIZE`, which does not stop it yet; then check through the
///    pidfd that it was not reaped before (the number would be another's);
/// 2. `PTRACE_INTERRUPT`, and wait for that stop (`__WALL`: a tracer may
///    wait for a process that is not its child);
/// 3. `PTRACE_SECCOMP_GET_FILTER` for each index from 0 (the newest)
///    until `ENOENT`, first for the count, then for the instructions;
/// 4. `PTRACE_DETACH`, which lets it run on: a system call it was in is
///    restarted.
pub fn read(pidfd: BorrowedFd<'_>, tid: i32) -> Result<(Filters, Duration)> {
    ptrace(PTRACE_SEIZE, tid, 0, 0).ctx(format_args!("trace process {tid}"))?;
    let seized = Seized(tid);
    crate::sys::pidfd_signal(pidfd, 0).map_err(|_| Error::new(format!("process {tid} exited")))?;
    let start = Instant::now();
    ptrace(PTRACE_INTERRUPT, tid, 0, 0).ctx(format_args!("stop process {tid}"))?;
    let mut status = 0i32;
    loop {
        // SAFETY: status is a valid int; no rusage.
        let r = check(unsafe {
            sc::syscall!(
                WAIT4,
                tid as usize,
                &mut status as *mut i32 as usize,
                WALL,
                0
            )
        });
        match r {
            Ok(_) => break,
            Err(Errno::INTR) => continue,
            Err(e) => {
                return Err(Error::sys(
                    format_args!("wait for process {tid} to stop"),
                    e,
                ))
            }
        }
    }
    let mut filters = Vec::new();
    let mut total = 0;
    for index in 0.. {
        let n = match ptrace(PTRACE_SECCOMP_GET_FILTER, tid, index, 0) {
            Ok(n) => n,
            Err(Errno::NOENT) => break,
            // No filter at all.
            Err(Errno::INVAL) if index == 0 => break,
            Err(e) => return Err(Error::sys("read the target's seccomp filter", e)),
        };
        total += n;
        if n == 0 || n > MAX_INSNS || total > MAX_TOTAL {
            return Err(Error::new(format!(
                "the target's seccomp filter {index} has {n} instructions"
            )));
        }
        let mut prog = vec![
            Insn {
                code: 0,
                jt: 0,
                jf: 0,
                k: 0
            };
            n
        ];
        let got = ptrace(
            PTRACE_SECCOMP_GET_FILTER,
            tid,
            index,
            prog.as_mut_ptr() as usize,
        )
        .ctx("read the target's seccomp filter")?;
        if got != n {
            return Err(Error::new("the target's seccomp filter changed while read"));
        }
        filters.push(prog);
    }
    drop(seized);
    let stopped = start.elapsed();
    filters.reverse();
    Ok((Filters(filters), stopped))
}

const BPF_RET: u16 = 0x06;
const BPF_A: u16 = 0x10;
const SECCOMP_RET_ACTION_FULL: u32 = 0xffff_0000;
const SECCOMP_RET_USER_NOTIF: u32 = 0x7fc0_0000;

impl Filters {
    /// Refuses filters that may answer with `SECCOMP_RET_USER_NOTIF`: such
    /// a system call waits for the engine's listener, which never hears of
    /// cntr's process, so it would fail or hang. A return of the
    /// accumulator could be anything, so it counts too.
    pub fn check_no_notify(&self) -> Result<()> {
        for insn in self.0.iter().flatten() {
            if insn.code & 0x07 != BPF_RET {
                continue;
            }
            if insn.code & 0x18 == BPF_A
                || insn.k & SECCOMP_RET_ACTION_FULL == SECCOMP_RET_USER_NOTIF
            {
                return Err(Error::new(
                    "the target's seccomp filter hands system calls to a listener (user notification), which cannot serve this command; use --seccomp=off",
                ));
            }
        }
        Ok(())
    }

    /// Installs the filters on the calling thread, oldest first
    /// (`seccomp(SECCOMP_SET_MODE_FILTER)`, seccomp(2)). Without
    /// no_new_privs this needs CAP_SYS_ADMIN in the current user
    /// namespace: call it before the credentials change.
    pub fn install(&self) -> Result<()> {
        const SECCOMP_SET_MODE_FILTER: usize = 1;
        for prog in &self.0 {
            // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
            #[repr(C)]
            struct Fprog {
                len: u16,
                filter: *const Insn,
            }
            let fprog = Fprog {
                len: prog.len() as u16,
                filter: prog.as_ptr(),
            };
            // SAFETY: fprog points to prog, which outlives the call.
            check(unsafe {
                sc::syscall!(
                    SECCOMP,
                    SECCOMP_SET_MODE_FILTER,
                    0,
                    &fprog as *const Fprog as usize
                )
            })
            .ctx("install the target's seccomp filter")?;
        }
        Ok(())
    }

    /// The filters as bytes: for each, its length (u32, native endian),
    /// then its instructions.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for prog in &self.0 {
            out.extend_from_slice(&(prog.len() as u32).to_ne_bytes());
            for i in prog {
                out.extend_from_slice(&i.code.to_ne_bytes());
                out.extend_from_slice(&[i.jt, i.jf]);
                out.extend_from_slice(&i.k.to_ne_bytes());
            }
        }
        out
    }

    /// Parses [`Filters::to_bytes`]; `None` for anything else.
    pub fn from_bytes(mut b: &[u8]) -> Option<Filters> {
        let mut out = Vec::new();
        let mut total = 0;
        while !b.is_empty() {
            let n = u32::from_ne_bytes(b.get(..4)?.try_into().ok()?) as usize;
            b = &b[4..];
            total += n;
            if n == 0 || n > MAX_INSNS || total > MAX_TOTAL {
                return None;
            }
            let raw = b.get(..n * 8)?;
            b = &b[n * 8..];
            out.push(
                raw.chunks_exact(8)
                    .map(|c| Insn {
                        code: u16::from_ne_bytes([c[0], c[1]]),
                        jt: c[2],
                        jf: c[3],
                        k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
                    })
                    .collect(),
            );
        }
        Some(Filters(out))
    }

    /// The filters in a sealed memfd, for the handoff: nobody can change
    /// them on their way to the last link.
    pub fn to_memfd(&self) -> Result<OwnedFd> {
        crate::handoff::sealed_memfd("cntr-seccomp", &self.to_bytes())
    }

    /// Reads the filters back from a sealed memfd of [`Filters::to_memfd`].
    pub fn from_memfd(fd: &OwnedFd) -> Result<Filters> {
        let b = crate::handoff::read_sealed(fd, MAX_TOTAL * 8 + 4 * (MAX_TOTAL + 1), "seccomp")?;
        Filters::from_bytes(&b).ok_or_else(|| Error::new("the seccomp fd holds no filters"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insn(code: u16, k: u32) -> Insn {
        Insn {
            code,
            jt: 1,
            jf: 2,
            k,
        }
    }

    #[test]
    fn bytes_round_trip() {
        let f = Filters(vec![
            vec![insn(0x20, 4), insn(0x06, 0x7fff_0000)],
            vec![insn(0x06, 0x0005_0001)],
        ]);
        assert_eq!(Filters::from_bytes(&f.to_bytes()), Some(f));
        assert_eq!(Filters::from_bytes(&[]), Some(Filters(vec![])));
        assert_eq!(Filters::from_bytes(&[1, 0, 0, 0, 1]), None);
        assert_eq!(Filters::from_bytes(&[0, 0, 0, 0]), None);
    }

    #[test]
    fn user_notification_is_refused() {
        let allow = Filters(vec![vec![insn(0x06, 0x7fff_0000)]]);
        assert!(allow.check_no_notify().is_ok());
        let notify = Filters(vec![vec![insn(0x06, 0x7fc0_0000)]]);
        assert!(notify.check_no_notify().is_err());
        let ret_a = Filters(vec![vec![insn(0x16, 0)]]);
        assert!(ret_a.check_no_notify().is_err());
    }
}
