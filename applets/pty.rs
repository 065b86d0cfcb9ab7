//! `cntr-pty`: when any of stdin, stdout and stderr is a terminal, runs
//! the rest of the chain on a fresh pseudo-terminal, put in place of each
//! of them that is a terminal, and relays between it and the user's
//! terminal in raw mode, passing on window size changes and restoring the
//! user's terminal on every way out. The user's terminal fd never enters
//! the container, so TIOCSTI/TIOCLINUX injection there reaches only the
//! pseudo-terminal. Without terminals it does nothing and goes on.
//! Passes the handoff on in the child; the relay keeps none of it.

use crate::link::{help, next, stdio_ttys, Link};
use cntr::error::{Context, Error, Result};
use cntr::handoff::Handoff;
use cntr::sys::{self, sig_bit, SigSet};
use rustix::event::{poll, PollFd, PollFlags};
use rustix::fd::OwnedFd;
use rustix::termios::{OptionalActions, Termios};
use std::ffi::OsString;
use std::io::Write;

const USAGE: &str = "\
Usage: cntr-pty [--ptmx host|container] PROG [ARGS...]
Run PROG on a new pseudo-terminal and relay it to this terminal (when stdin, stdout or stderr is one).

      --ptmx WHERE     host: a pseudo-terminal of the host's /dev/ptmx (default);
                       container: of the container's own devpts, so that
                       programs inside see their terminal (else the host's)
  -t, --target TARGET  resolve TARGET (name, id or PID) instead of using the handoff
      --type TYPES     resolvers to try for --target (see cntr-resolve)
      --owner USER     whose rootless podman containers --target also finds
  -k, --keep-fds       hand the fds on even when PROG is not a cntr applet
  -h, --help           show this help
The host's is the only safe choice for a session rooted in the host (attach):
the container's root can open the peers of its own devpts.
";

/// Signals the relay handles: window changes, the child's end, and the
/// ones it passes on.
const SIGNALS: [i32; 9] = [
    sys::SIGWINCH,
    sys::SIGCHLD,
    sys::SIGCONT,
    sys::SIGHUP,
    sys::SIGINT,
    sys::SIGQUIT,
    sys::SIGTERM,
    sys::SIGUSR1,
    sys::SIGUSR2,
];

pub fn main(args: Vec<OsString>, h: Option<Handoff>) -> Result<u8> {
    let mut container = false;
    let Some(link) = Link::parse(args, true, |opt, p| {
        if !opt.is('\0', "ptmx") {
            return Ok(false);
        }
        container = match p.value()?.to_str() {
            Some("host") => false,
            Some("container") => true,
            _ => return Err(Error::usage("--ptmx takes host or container")),
        };
        Ok(true)
    })?
    else {
        return help(USAGE);
    };
    let (keep, rest) = (link.keep, link.rest.clone());
    // A target of its own only when asked for; a handed one goes on.
    let h = if link.target.is_some() {
        Some(link.handoff(h)?)
    } else {
        h
    };
    // Every one of 0, 1, 2 that is the user's terminal is replaced, not
    // only when all are: a terminal left on one of them would reach the
    // command, and through /proc/PID/fd a process of the container.
    let ttys = stdio_ttys();
    let Some(term) = ttys.iter().position(|&t| t) else {
        return next(rest, h, keep);
    };
    // SAFETY: as above.
    let term = unsafe { rustix::fd::BorrowedFd::borrow_raw(term as i32) };
    // Both ends: neither becomes a controlling terminal by being opened,
    // and neither outlives an exec.
    let pty_flags = rustix::pty::OpenptFlags::RDWR
        | rustix::pty::OpenptFlags::NOCTTY
        | rustix::pty::OpenptFlags::CLOEXEC;
    let theirs = match (&h, container) {
        (Some(h), true) => container_ptmx(h),
        _ => None,
    };
    let master = match theirs {
        Some(m) => m,
        None => rustix::pty::openpt(pty_flags).ctx("open a pseudo-terminal")?,
    };
    rustix::pty::grantpt(&master).ctx("grant the pseudo-terminal")?;
    rustix::pty::unlockpt(&master).ctx("unlock the pseudo-terminal")?;
    // TIOCGPTPEER opens the other end without a path lookup in /dev/pts.
    let peer = rustix::pty::ioctl_tiocgptpeer(&master, pty_flags)
        .ctx("open the pseudo-terminal's peer")?;
    if let Ok(ws) = rustix::termios::tcgetwinsize(term) {
        let _ = rustix::termios::tcsetwinsize(&master, ws);
    }
    let saved = rustix::termios::tcgetattr(term).ctx("read the terminal settings")?;
    // The peer starts with the user's settings (echo, line editing), as
    // a login would.
    let _ = rustix::termios::tcsetattr(&peer, OptionalActions::Now, &saved);
    let set: SigSet = SIGNALS.iter().fold(0, |s, &n| s | sig_bit(n));
    let old = sys::block_signals(set).ctx("block signals")?;
    match sys::fork().ctx("fork")? {
        sys::Fork::Child => {
            drop(master);
            rustix::process::setsid().ctx("start a session")?;
            rustix::process::ioctl_tiocsctty(&peer)
                .ctx("take the pseudo-terminal as controlling terminal")?;
            if ttys[0] {
                rustix::stdio::dup2_stdin(&peer).ctx("set stdin")?;
            }
            if ttys[1] {
                rustix::stdio::dup2_stdout(&peer).ctx("set stdout")?;
            }
            if ttys[2] {
                rustix::stdio::dup2_stderr(&peer).ctx("set stderr")?;
            }
            drop(peer);
            sys::set_signal_mask(old).ctx("restore the signal mask")?;
            next(rest, h, keep)
        }
        sys::Fork::Parent(child) => {
            drop(h);
            drop(peer);
            // The relay keeps the master and stdio, nothing the caller
            // leaked to cntr.
            sys::close_all_but(&[rustix::fd::AsRawFd::as_raw_fd(&master)]).ctx("close fds")?;
            // Raw mode only where the user types: an output-only terminal
            // keeps its settings.
            let raw = if ttys[0] {
                Some(Raw::enter(saved)?)
            } else {
                None
            };
            // The command's output goes to stdout if that is the terminal,
            // else to stderr if that is, else nowhere (only stdin is a
            // terminal: what the pseudo-terminal echoes has no reader).
            let out = [1, 2].into_iter().find(|&fd| ttys[fd as usize]);
            let code = relay(&master, child, set, raw.as_ref(), ttys[0], out, term);
            drop(raw);
            code
        }
    }
}

const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;

/// The container's `/dev/pts/ptmx`, if it is really a devpts ptmx: the
/// container controls that path, so it is looked up confined to its root
/// without following any symlink, as `O_PATH` first (opening a FIFO or a
/// device for real could block or act), checked to be the ptmx character
/// device (5:2) on a devpts, and only then opened through its fd.
fn container_ptmx(h: &Handoff) -> Option<OwnedFd> {
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    let path = rustix::fs::openat2(
        &h.root,
        "dev/pts/ptmx",
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
    )
    .ok()?;
    let st = rustix::fs::fstat(&path).ok()?;
    let is_ptmx = rustix::fs::FileType::from_raw_mode(st.st_mode)
        == rustix::fs::FileType::CharacterDevice
        && rustix::fs::major(st.st_rdev) == 5
        && rustix::fs::minor(st.st_rdev) == 2;
    let on_devpts = rustix::fs::fstatfs(&path).is_ok_and(|s| s.f_type == DEVPTS_SUPER_MAGIC);
    if !(is_ptmx && on_devpts) {
        return None;
    }
    rustix::fs::open(
        format!(
            "/proc/thread-self/fd/{}",
            rustix::fd::AsRawFd::as_raw_fd(&path)
        ),
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()
}

/// The user's terminal in raw mode; its settings come back on drop, on
/// every way out of the relay.
struct Raw {
    saved: Termios,
}

impl Raw {
    fn enter(saved: Termios) -> Result<Raw> {
        let r = Raw { saved };
        r.apply()?;
        Ok(r)
    }

    fn apply(&self) -> Result<()> {
        let mut raw = self.saved.clone();
        raw.make_raw();
        rustix::termios::tcsetattr(rustix::stdio::stdin(), OptionalActions::Now, &raw)
            .ctx("set the terminal to raw mode")
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        let _ =
            rustix::termios::tcsetattr(rustix::stdio::stdin(), OptionalActions::Now, &self.saved);
    }
}

fn relay(
    master: &OwnedFd,
    child: i32,
    set: SigSet,
    raw: Option<&Raw>,
    input: bool,
    out: Option<i32>,
    term: rustix::fd::BorrowedFd<'_>,
) -> Result<u8> {
    use rustix::process::{Pid, WaitOptions};
    let sfd = sys::signalfd(set).ctx("create a signalfd")?;
    rustix::fs::fcntl_setfl(master, rustix::fs::OFlags::NONBLOCK)
        .ctx("make the pseudo-terminal non-blocking")?;
    let pid = Pid::from_raw(child).ok_or_else(|| Error::new("bad child pid"))?;
    let stdin = rustix::stdio::stdin();
    // SAFETY: stdout and stderr stay open for the life of the process.
    let out = out.map(|fd| unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) });
    let mut out = Out(out);
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let (mut stdin_open, mut master_open) = (input, true);
    loop {
        let mut fds = Vec::with_capacity(3);
        fds.push(PollFd::new(&sfd, PollFlags::IN));
        let want_in = stdin_open && pending.len() < 64 * 1024;
        fds.push(PollFd::new(
            &stdin,
            if want_in {
                PollFlags::IN
            } else {
                PollFlags::empty()
            },
        ));
        let mflags = match (master_open, pending.is_empty()) {
            (false, _) => PollFlags::empty(),
            (true, true) => PollFlags::IN,
            (true, false) => PollFlags::IN | PollFlags::OUT,
        };
        fds.push(PollFd::new(master, mflags));
        match poll(&mut fds, None) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(Error::sys("poll", e)),
        }
        let (sig_ready, in_ready, m_ready) = (fds[0].revents(), fds[1].revents(), fds[2].revents());
        if !sig_ready.is_empty() {
            let sig = sys::read_signal(&sfd).ctx("read a signal")?;
            match sig {
                sys::SIGWINCH => {
                    if let Ok(ws) = rustix::termios::tcgetwinsize(term) {
                        let _ = rustix::termios::tcsetwinsize(master, ws);
                    }
                }
                // Back from a stop: the shell may have reset the terminal.
                sys::SIGCONT => {
                    if let Some(raw) = raw {
                        raw.apply()?
                    }
                }
                sys::SIGCHLD => {
                    if let Some((_, st)) = rustix::process::waitpid(Some(pid), WaitOptions::NOHANG)
                        .ctx("wait for the child")?
                    {
                        drain(master, &mut out, &mut buf);
                        let code = st.exit_status().map(|c| c as u8).or_else(|| {
                            st.terminating_signal().map(|s| 128u8.wrapping_add(s as u8))
                        });
                        if let Some(code) = code {
                            return Ok(code);
                        }
                    }
                }
                sig => {
                    if let Some(s) = rustix::process::Signal::from_named_raw(sig) {
                        let _ = rustix::process::kill_process(pid, s);
                    }
                }
            }
        }
        if in_ready.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR) {
            match rustix::io::read(stdin, &mut buf) {
                Ok(0) | Err(rustix::io::Errno::IO) => stdin_open = false,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
                Err(rustix::io::Errno::INTR) | Err(rustix::io::Errno::AGAIN) => {}
                Err(_) => stdin_open = false,
            }
        }
        if m_ready.contains(PollFlags::OUT) && !pending.is_empty() {
            match rustix::io::write(master, &pending) {
                Ok(n) => {
                    pending.drain(..n);
                }
                Err(rustix::io::Errno::AGAIN) | Err(rustix::io::Errno::INTR) => {}
                Err(_) => pending.clear(),
            }
        }
        if m_ready.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR) {
            match rustix::io::read(master, &mut buf) {
                Ok(0) => master_open = false,
                Ok(n) => {
                    let _ = out.write_all(&buf[..n]).and_then(|()| out.flush());
                }
                Err(rustix::io::Errno::AGAIN) | Err(rustix::io::Errno::INTR) => {}
                // EIO: every holder of the peer has closed it.
                Err(_) => master_open = false,
            }
        }
    }
}

/// Where the command's output goes: a terminal fd, or nowhere.
struct Out<'a>(Option<rustix::fd::BorrowedFd<'a>>);

impl Write for Out<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        match self.0 {
            Some(fd) => rustix::io::write(fd, b).map_err(std::io::Error::from),
            None => Ok(b.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Copies what is left on the pseudo-terminal once the child has exited.
fn drain(master: &OwnedFd, out: &mut impl Write, buf: &mut [u8]) {
    while let Ok(n) = rustix::io::read(master, &mut *buf) {
        if n == 0 || out.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = out.flush();
}
