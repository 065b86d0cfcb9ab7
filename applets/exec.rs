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

  -u, --user USER[:GROUP]  run as USER of the container (name or uid) instead
                           of the target's credentials
  -w, --workdir DIR        start in DIR; default: the target's working directory
  -e, --env KEY[=VALUE]    set KEY for CMD (without =VALUE: the caller's value)
      --env-file FILE      read KEY=VALUE lines from FILE, as docker does
  -t, --type TYPES         comma list of resolvers to try: process_id, podman,
                           docker, nspawn, lxc, lxd, containerd, kubernetes,
                           runc, command
      --owner USER         also find USER's rootless podman containers
      --seccomp on|off     apply the target's seccomp filter to CMD (default: on)
      --apparmor auto|off  take on the target's AppArmor/SELinux label, or not
  -n, --dry-run            print the applet chain instead of running it
  -h, --help               show this help
";

pub fn main(args: Vec<OsString>, h: Option<Handoff>) -> Result<u8> {
    front(args, h, Mode::Exec, USAGE)
}
