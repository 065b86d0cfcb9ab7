//! Running an engine's command-line tool, for the engines whose state
//! cannot be read from files: by absolute path, found in `PATH` before
//! any namespace is entered; with `/dev/null` as stdin, a fixed minimal
//! environment (nothing of the caller's); user-supplied words only as
//! separate arguments, never through a shell; output bounded; killed when
//! it takes too long.

use crate::error::{Context, Error, Result};
use crate::sys;
use rustix::event::{poll, PollFd, PollFlags};
use rustix::fd::{AsFd, OwnedFd};
use std::ffi::OsString;
use std::time::{Duration, Instant};

/// The most of a tool's output that is kept.
const OUTPUT_LIMIT: usize = 1 << 20;

/// What a tool printed, and how it ended.
pub struct Output {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// The absolute path of `name` in cntr's `PATH` (relative entries are
/// ignored), if it is there.
pub fn which(name: &str) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    let path = path.to_string_lossy().into_owned();
    path.split(':')
        .filter(|d| d.starts_with('/'))
        .map(|d| format!("{d}/{name}"))
        .find(|p| {
            rustix::fs::access(p.as_str(), rustix::fs::Access::EXEC_OK).is_ok()
                && rustix::fs::stat(p.as_str()).is_ok_and(|s| {
                    rustix::fs::FileType::from_raw_mode(s.st_mode)
                        == rustix::fs::FileType::RegularFile
                })
        })
}

/// Runs `tool args`, killing it after `timeout`.
pub fn run(tool: &str, args: &[&str], timeout: Duration) -> Result<Output> {
    run_env(tool, args, &[], timeout)
}

/// Like [`run`], with `extra` (`KEY=VALUE`) added to the minimal
/// environment: what a tool needs to find its own configuration.
pub fn run_env(tool: &str, args: &[&str], extra: &[Vec<u8>], timeout: Duration) -> Result<Output> {
    let pipe = || rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).ctx("create a pipe");
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let child = match sys::fork().ctx("fork")? {
        sys::Fork::Child => {
            let ok = rustix::stdio::dup2_stdout(&out_w).is_ok()
                && rustix::stdio::dup2_stderr(&err_w).is_ok()
                && rustix::fs::open(
                    "/dev/null",
                    rustix::fs::OFlags::RDONLY,
                    rustix::fs::Mode::empty(),
                )
                .and_then(|null| rustix::stdio::dup2_stdin(&null))
                .is_ok();
            if ok {
                let argv: Vec<OsString> = std::iter::once(tool)
                    .chain(args.iter().copied())
                    .map(OsString::from)
                    .collect();
                let mut env = vec![
                    b"PATH=/usr/sbin:/usr/bin:/sbin:/bin".to_vec(),
                    b"LC_ALL=C".to_vec(),
                ];
                env.extend_from_slice(extra);
                let _ = crate::exec::exec(&argv, &env, b"");
            }
            sys::exit_now(127);
        }
        sys::Fork::Parent(pid) => pid,
    };
    drop((out_w, err_w));
    let pid = rustix::process::Pid::from_raw(child).ok_or_else(|| Error::new("bad child pid"))?;
    let deadline = Instant::now() + timeout;
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut open: Vec<(OwnedFd, bool)> = vec![(out_r, true), (err_r, false)];
    let mut buf = [0u8; 16 * 1024];
    while !open.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            let _ = rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty());
            return Err(Error::new(format!(
                "{tool} did not answer within {} s",
                timeout.as_secs()
            )));
        }
        let ts = rustix::event::Timespec {
            tv_sec: left.as_secs() as i64,
            tv_nsec: left.subsec_nanos() as i64,
        };
        let mut fds: Vec<PollFd<'_>> = open
            .iter()
            .map(|(fd, _)| PollFd::new(fd, PollFlags::IN))
            .collect();
        match poll(&mut fds, Some(&ts)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(Error::sys("poll", e)),
        }
        let ready: Vec<bool> = fds.iter().map(|f| !f.revents().is_empty()).collect();
        drop(fds);
        let mut closed = Vec::new();
        for (i, (fd, is_out)) in open.iter().enumerate() {
            if !ready[i] {
                continue;
            }
            match rustix::io::read(fd.as_fd(), &mut buf) {
                Ok(0) | Err(_) => closed.push(i),
                Ok(n) => {
                    let dst = if *is_out { &mut stdout } else { &mut stderr };
                    if dst.len() + n > OUTPUT_LIMIT {
                        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                        let _ = rustix::process::waitpid(
                            Some(pid),
                            rustix::process::WaitOptions::empty(),
                        );
                        return Err(Error::new(format!(
                            "{tool} printed more than {OUTPUT_LIMIT} bytes"
                        )));
                    }
                    dst.extend_from_slice(&buf[..n]);
                }
            }
        }
        for i in closed.into_iter().rev() {
            open.remove(i);
        }
    }
    let status = rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty())
        .ctx(format_args!("wait for {tool}"))?;
    Ok(Output {
        code: status.and_then(|(_, s)| s.exit_status()),
        stdout,
        stderr,
    })
}
