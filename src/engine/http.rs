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
    receive(&send(sock, path)?)
}

/// Sends `GET path` and returns the connection, whose answer
/// [`receive`] reads: the daemon works on it meanwhile.
pub fn send(sock: &str, path: &str) -> std::result::Result<OwnedFd, rustix::io::Errno> {
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
    Ok(fd)
}

/// The status code and body of the answer on a connection [`send`]
/// made.
pub fn receive(fd: &OwnedFd) -> std::result::Result<(u16, Vec<u8>), rustix::io::Errno> {
    // HTTP/1.0: the daemon closes the connection after the answer.
    let raw = crate::proc::read_fd(fd, ANSWER_LIMIT + 1)?;
    parse_answer(&raw)
}

/// The status code and body of a whole HTTP/1.x answer: a status line
/// `HTTP/1.x NNN ...`, headers, an empty line, the body to the end. A
/// chunked body (which an HTTP/1.0 request should never get) and anything
/// else malformed is EPROTO; an answer over the limit is EFBIG. Public
/// for the fuzz target (`fuzz/fuzz_targets/http.rs`).
pub fn parse_answer(raw: &[u8]) -> std::result::Result<(u16, Vec<u8>), rustix::io::Errno> {
    if raw.len() > ANSWER_LIMIT {
        return Err(rustix::io::Errno::FBIG);
    }
    let head_end = memchr::memmem::find(raw, b"\r\n\r\n").ok_or(rustix::io::Errno::PROTO)?;
    let head = &raw[..head_end];
    let status_line = head.split(|&c| c == b'\n').next().unwrap_or(b"");
    let mut words = status_line.split(|&c| c == b' ');
    let (version, code) = (words.next().unwrap_or(b""), words.next().unwrap_or(b""));
    let code = code.strip_suffix(b"\r").unwrap_or(code);
    if !version.starts_with(b"HTTP/1.") || code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
        return Err(rustix::io::Errno::PROTO);
    }
    let code = code.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    if memchr::memmem::find(&head.to_ascii_lowercase(), b"transfer-encoding: chunked").is_some() {
        return Err(rustix::io::Errno::PROTO);
    }
    Ok((code, raw[head_end + 4..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::parse_answer;
    use rustix::io::Errno;

    #[test]
    fn answers() {
        assert_eq!(
            parse_answer(b"HTTP/1.0 200 OK\r\nContent-Type: x\r\n\r\n{}"),
            Ok((200, b"{}".to_vec()))
        );
        assert_eq!(parse_answer(b"HTTP/1.1 404\r\n\r\n"), Ok((404, Vec::new())));
        for bad in [
            &b"HTTP/1.0 200 OK\r\n"[..],
            b"HTTP/1.0 +20 OK\r\n\r\n",
            b"HTTP/1.0 2000 OK\r\n\r\n",
            b"SSH-2.0 200\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n",
        ] {
            assert_eq!(parse_answer(bad), Err(Errno::PROTO), "{bad:?}");
        }
    }
}
