//! A minimal HTTP/1.0 client over a unix socket, for the engines whose
//! daemons answer there (the Docker Engine API, LXD's REST API): one
//! `GET`, the connection closed by the daemon, the answer bounded and
//! timed out. Callers build the path from names they have validated.

use rustix::fd::OwnedFd;
use std::time::Duration;

/// The most of an answer that is read.
const ANSWER_LIMIT: usize = 8 << 20;
/// How long the daemon may take to answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Sends `GET path` and returns the status code and body.
pub fn get(sock: &str, path: &str) -> std::result::Result<(u16, Vec<u8>), rustix::io::Errno> {
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
    let fd: OwnedFd = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )?;
    rustix::net::sockopt::set_socket_timeout(
        &fd,
        rustix::net::sockopt::Timeout::Recv,
        Some(TIMEOUT),
    )?;
    rustix::net::sockopt::set_socket_timeout(
        &fd,
        rustix::net::sockopt::Timeout::Send,
        Some(TIMEOUT),
    )?;
    rustix::net::connect(&fd, &SocketAddrUnix::new(sock)?)?;
    let req = format!("GET {path} HTTP/1.0\r\nHost: docker\r\nUser-Agent: cntr\r\n\r\n");
    let mut rest = req.as_bytes();
    while !rest.is_empty() {
        let n = rustix::io::write(&fd, rest)?;
        rest = &rest[n..];
    }
    // HTTP/1.0: the daemon closes the connection after the answer.
    let raw = crate::proc::read_fd(&fd, ANSWER_LIMIT + 1)?;
    if raw.len() > ANSWER_LIMIT {
        return Err(rustix::io::Errno::FBIG);
    }
    let head_end = memchr::memmem::find(&raw, b"\r\n\r\n").ok_or(rustix::io::Errno::PROTO)?;
    let status_line = raw[..head_end].split(|&c| c == b'\n').next().unwrap_or(b"");
    let code = std::str::from_utf8(status_line)
        .ok()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or(rustix::io::Errno::PROTO)?;
    if memchr::memmem::find(
        &raw[..head_end].to_ascii_lowercase(),
        b"transfer-encoding: chunked",
    )
    .is_some()
    {
        return Err(rustix::io::Errno::PROTO);
    }
    Ok((code, raw[head_end + 4..].to_vec()))
}
