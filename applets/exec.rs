//! `cntr exec`: runs the container's own command (default `/bin/sh`)
//! inside the container: its namespaces, root, cgroup, credentials and
//! environment. It runs the chain
//!
//! ```text
//! cntr-resolve [--seccomp] TARGET [cntr-pty] cntr-nsenter --all cntr-chroot-exec [-w DIR] cntr-inherit [-u USER] [-e KEY=VALUE]... CMD
//! ```

use crate::attach::{front, Mode};
use cntr::error::Result;
use cntr::handoff::Handoff;
use std::ffi::OsString;

const USAGE: &str = "\
Usage: cntr exec [OPTIONS] TARGET [-- CMD [ARGS...]]
Run the container's own CMD (default /bin/sh) inside the container, as docker exec would.

@OPTIONS@";

pub fn main(args: Vec<OsString>, h: Option<Handoff>) -> Result<u8> {
    front(args, h, Mode::Exec, USAGE)
}
