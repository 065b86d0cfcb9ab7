//! `cntr list`: the running containers every engine knows, like
//! `docker ps`: engine, name, short ID, PID, image (where the engine says
//! it) and how long its process has run. A front end for
//! `cntr-resolve --list`; takes no handoff and hands nothing on.

use crate::link::help;
use cntr::error::{Error, Result};
use cntr::handoff::Handoff;
use std::ffi::OsString;

const USAGE: &str = "\
Usage: cntr list [-t TYPES] [--owner USER] [--json | -q]
List the running containers the engines know, as docker ps does.

  -t, --type TYPES  comma list of engines to ask: @TYPES@
      --owner USER  also list USER's rootless podman containers
      --json        one JSON object per container: pid, engine, id, name,
                    up_seconds, and what the engine tells (image, ...)
  -q, --quiet       names only, one per line
  -h, --help        show this help
";

pub fn main(args: Vec<OsString>, h: Option<Handoff>) -> Result<u8> {
    use lexopt::prelude::*;
    drop(h);
    let mut p = lexopt::Parser::from_args(args);
    let (mut types, mut owner, mut json, mut quiet) = (None, None, false, false);
    while let Some(arg) = p.next()? {
        match arg {
            Short('t') | Long("type") => types = Some(cntr::engine::parse_types(&p.value()?)?),
            Long("owner") => owner = Some(crate::link::owner(p.value()?)?),
            Long("json") => json = true,
            Short('q') | Long("quiet") => quiet = true,
            Short('h') | Long("help") => return help(USAGE),
            _ => return Err(arg.unexpected().into()),
        }
    }
    if json && quiet {
        return Err(Error::usage("--json and --quiet exclude each other"));
    }
    let types = types.unwrap_or_else(cntr::engine::defaults);
    let found = cntr::engine::list(&types, owner.as_deref())?;
    let mut rows = vec![[
        "ENGINE".to_string(),
        "NAME".into(),
        "ID".into(),
        "PID".into(),
        "IMAGE".into(),
        "UP".into(),
    ]];
    for f in &found {
        let age = cntr::proc::age(f.pid);
        if quiet {
            cntr::error::say(&f.name)?;
        } else if json {
            let up = age.map_or(String::new(), |a| format!(",\"up_seconds\":{a}"));
            cntr::error::say(&format!("{{{}{up}}}", f.json_fields()))?;
        } else {
            rows.push([
                f.engine.name.to_string(),
                f.name.clone(),
                f.id.chars().take(12).collect(),
                f.pid.to_string(),
                f.extra("image").unwrap_or("-").to_string(),
                age.map_or("-".into(), cntr::proc::age_words),
            ]);
        }
    }
    if quiet || json {
        return Ok(0);
    }
    let mut widths = [0usize; 6];
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    for r in &rows {
        let mut line = String::new();
        for (i, (c, w)) in r.iter().zip(widths).enumerate() {
            if i + 1 == r.len() {
                line.push_str(c);
            } else {
                line.push_str(&format!("{c:<w$}   "));
            }
        }
        cntr::error::say(&line)?;
    }
    Ok(0)
}
