//! `cntr exec`: runs the container's own command (default `/bin/sh`)
//! inside the container: its namespaces, root, cgroup, credentials and
//! environment. It runs the chain
//!
//! ```text
//! cntr-resolve TARGET [cntr-pty] cntr-nsenter --all cntr-chroot-exec cntr-inherit CMD
//! ```

use crate::attach::{front, Mode};
use cntr::error::Result;
use cntr::handoff::Handoff;
use std::ffi::OsString;

const USAGE: &str = "\
Usage: cntr exec [-t TYPES] [-u USER] [--apparmor auto|off] [-n|--dry-run] TARGET [-- CMD [ARGS...]]
Run the container's own CMD (default /bin/sh) inside the container, as docker exec would.

  -u, --user USER      also find USER's rootless podman containers (name or uid)
  -t, --type TYPES     comma list of resolvers to try: process_id, podman, docker,
                       nspawn, lxc, lxd, containerd, kubernetes, runc, command
      --apparmor MODE  auto: take on the target's AppArmor/SELinux label; off: do not
  -n, --dry-run        print the applet chain instead of running it
  -h, --help           show this help
";

pub fn main(args: Vec<OsString>, h: Option<Handoff>) -> Result<u8> {
    front(args, h, Mode::Exec, USAGE)
}
