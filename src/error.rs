//! The one error type and the exit-status contract.
//!
//! 125: cntr itself failed (usage, no such container, a syscall failed);
//! 126: the command was found but could not be executed; 127: the command
//! was not found. Every other status is the command's own, or 128+N when it
//! was killed by signal N.

use std::cell::Cell;
use std::fmt;

/// cntr failed before the command ran.
pub const FAILED: u8 = 125;
/// The command exists but could not be executed.
pub const CANNOT_EXEC: u8 = 126;
/// The command was not found.
pub const NOT_FOUND: u8 = 127;

thread_local! {
    // The applet that is running now. Applets chain in one process, so the
    // prefix of a message must follow the chain, not argv[0].
    static APPLET: Cell<&'static str> = const { Cell::new("cntr") };
}

/// Records which applet is running, for the prefix of error messages.
pub fn set_applet(name: &'static str) {
    APPLET.with(|a| a.set(name));
}

/// The applet that is running now.
pub fn applet() -> &'static str {
    APPLET.with(|a| a.get())
}

/// One line for stderr and an exit status.
#[derive(Debug)]
pub struct Error {
    code: u8,
    msg: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// cntr could not do something: status 125.
    pub fn new(msg: impl Into<String>) -> Self {
        Error {
            code: FAILED,
            msg: msg.into(),
        }
    }

    /// A bad command line: status 125, and a pointer to `--help`.
    pub fn usage(msg: impl fmt::Display) -> Self {
        Error::new(format!("{msg} (see --help)"))
    }

    /// An error with an explicit status (126 and 127 for exec failures).
    pub fn with_code(code: u8, msg: impl Into<String>) -> Self {
        Error {
            code,
            msg: msg.into(),
        }
    }

    /// `unable to WHAT: <errno text>`, the form every syscall failure takes.
    pub fn sys(what: impl fmt::Display, err: rustix::io::Errno) -> Self {
        Error::new(format!("unable to {what}: {}", errno_text(err)))
    }

    pub fn code(&self) -> u8 {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.msg
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl From<lexopt::Error> for Error {
    fn from(e: lexopt::Error) -> Self {
        Error::usage(e)
    }
}

/// Adds the `unable to ...` context to a raw errno.
pub trait Context<T> {
    fn ctx(self, what: impl fmt::Display) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, rustix::io::Errno> {
    fn ctx(self, what: impl fmt::Display) -> Result<T> {
        self.map_err(|e| Error::sys(what, e))
    }
}

impl<T> Context<T> for std::io::Result<T> {
    fn ctx(self, what: impl fmt::Display) -> Result<T> {
        self.map_err(|e| match e.raw_os_error() {
            Some(n) => Error::sys(what, rustix::io::Errno::from_raw_os_error(n)),
            None => Error::new(format!("unable to {what}: {e}")),
        })
    }
}

/// The strerror text without the " (os error N)" suffix std adds.
pub fn errno_text(err: rustix::io::Errno) -> String {
    let s = std::io::Error::from_raw_os_error(err.raw_os_error()).to_string();
    match memchr::memmem::find(s.as_bytes(), b" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Prints `applet: message` on stderr. Errors writing stderr are ignored:
/// there is nowhere left to report them.
pub fn report(msg: impl fmt::Display) {
    // Messages quote what the user or a container gave: a control
    // character in it (a newline, a terminal escape) is shown escaped, so
    // the message stays one line and cannot drive the terminal.
    let mut line = format!("{}: ", applet());
    for c in msg.to_string().chars() {
        match c {
            '\n' => line.push_str("\\n"),
            '\t' => line.push_str("\\t"),
            '\r' => line.push_str("\\r"),
            c if c.is_control() => line.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => line.push(c),
        }
    }
    line.push('\n');
    let _ = crate::sys::write_all(rustix::stdio::stderr(), line.as_bytes());
}

/// Prints `line` and a newline on stdout (unbuffered: cntr prints little,
/// and nothing may linger in a buffer across exec).
pub fn say(line: &str) -> Result<()> {
    let mut b = line.as_bytes().to_vec();
    b.push(b'\n');
    crate::sys::write_all(rustix::stdio::stdout(), &b).ctx("write to stdout")
}

/// Prints `applet: warning: message` on stderr.
pub fn warn(msg: impl fmt::Display) {
    report(format_args!("warning: {msg}"));
}
