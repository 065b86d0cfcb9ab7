//! Docker: the Engine API on its unix socket (`$DOCKER_HOST` when it is a
//! `unix://` address, else `/var/run/docker.sock`). One HTTP/1.0 request
//! costs well under a millisecond where a `docker` CLI start costs twenty.
//! The daemon itself resolves a name, a full ID or a unique ID prefix.
//! Only when there is no such socket is the `docker` CLI asked.

use super::http::{get, receive, send};
use super::json::Json;
use super::{Engine, Find, Found, Image, Later};
use crate::error::{Error, Result};

/// The `docker` resolver, a row of [`super::ENGINES`].
pub const ENGINE: Engine = Engine {
    name: "docker",
    by_default: true,
    find: Find::Later {
        ask: |q| q.name().map_or(Later::Answered(Ok(Vec::new())), start),
        read,
    },
    list: |_| list(),
};

/// The socket path, if the configuration names a unix socket.
fn socket() -> Option<String> {
    match std::env::var_os("DOCKER_HOST") {
        Some(h) if !h.is_empty() => h.to_str()?.strip_prefix("unix://").map(str::to_string),
        _ => Some("/var/run/docker.sock".to_string()),
    }
}

/// Whether `s` can name a docker container at all: a name
/// (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`) or an ID prefix. Anything else is not
/// sent to the daemon.
fn plausible(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 255
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(c))
}

/// A container from an inspect answer, and whether it runs. Public for
/// the fuzz target (`fuzz/fuzz_targets/engine_files.rs`).
pub fn found(j: &Json) -> Option<(Found, bool)> {
    let id = j.get("Id")?.str()?.to_string();
    let name = j.get("Name")?.str()?.trim_start_matches('/').to_string();
    let running = j.at(&["State", "Running"])?.bool()?;
    let pid = j.at(&["State", "Pid"])?.int()?;
    let pid = i32::try_from(pid).ok()?;
    let image = j.at(&["Config", "Image"]).and_then(Json::str);
    Some((
        Found {
            engine: &ENGINE,
            id,
            name,
            pid,
            extra: image
                .map(|i| vec![("image".to_string(), i.to_string())])
                .unwrap_or_default(),
            check: super::Check::CgroupId,
        },
        running,
    ))
}

/// Finds the container `target` names, for [`list`]. `Ok(None)`: docker
/// knows no such container, or docker is not there at all.
fn find(target: &str) -> Result<Option<Found>> {
    let list = match start(target) {
        Later::Answered(a) => a?,
        Later::Asked(fd) => read(fd)?,
    };
    Ok(list.into_iter().next())
}

/// Asks the daemon about `target` and returns at once with the connection
/// (the daemon takes a few hundred microseconds, which the other
/// resolvers use); [`read`] takes the answer.
fn start(target: &str) -> Later {
    let Some(sock) = socket() else {
        return Later::Answered(Err(Error::new("docker: DOCKER_HOST is not a unix socket")));
    };
    if !plausible(target) {
        return Later::Answered(Ok(Vec::new()));
    }
    match send(&sock, &format!("/containers/{target}/json")) {
        Ok(fd) => Later::Asked(fd),
        // No socket there: the CLI knows where the daemon is.
        Err(rustix::io::Errno::NOENT) => {
            Later::Answered(by_cli(target).map(|f| f.into_iter().collect()))
        }
        Err(e) => Later::Answered(answer(&sock, Err(e)).map(|_| Vec::new())),
    }
}

/// The container in the daemon's answer on `fd`, if it is running.
fn read(fd: rustix::fd::OwnedFd) -> Result<Vec<Found>> {
    let sock = socket().unwrap_or_default();
    let Some(j) = answer(&sock, receive(&fd))? else {
        return Ok(Vec::new());
    };
    let (f, running) = found(&j).ok_or_else(|| Error::new("docker: unreadable answer"))?;
    if !running || f.pid <= 0 {
        return Err(Error::new(format!(
            "docker container {} is not running",
            f.name
        )));
    }
    Ok(vec![f])
}

/// `GET path` of the Engine API at `sock`, parsed. `Ok(None)`: no such
/// object (404), or no daemon listening.
fn ask(sock: &str, path: &str) -> Result<Option<Json>> {
    answer(sock, get(sock, path))
}

/// A parsed answer of the Engine API at `sock`. `Ok(None)`: no such
/// object (404), or no daemon listening.
fn answer(
    sock: &str,
    got: std::result::Result<(u16, Vec<u8>), rustix::io::Errno>,
) -> Result<Option<Json>> {
    let (code, body) = match got {
        Ok(r) => r,
        // A socket nobody listens on: the daemon is down.
        Err(rustix::io::Errno::CONNREFUSED) | Err(rustix::io::Errno::NOENT) => return Ok(None),
        Err(e) => return Err(Error::sys(format_args!("ask docker at {sock}"), e)),
    };
    match code {
        200 => {}
        404 => return Ok(None),
        _ => {
            let msg = Json::parse(&body)
                .and_then(|j| j.get("message").and_then(Json::str).map(str::to_string));
            return Err(Error::new(format!(
                "docker: {}",
                msg.unwrap_or_else(|| format!("HTTP status {code}"))
            )));
        }
    }
    Json::parse(&body)
        .map(Some)
        .ok_or_else(|| Error::new("docker: unreadable answer"))
}

/// The image `reference` (a name, `name:tag`, `name@digest`, an ID or a
/// unique ID prefix, as docker resolves them) in docker's store, from
/// the daemon's inspect answer: its layers, when its driver is
/// `overlay2`. `Ok(None)`: no such image, or no daemon to ask.
pub fn image(reference: &str) -> Result<Option<Image>> {
    let Some(sock) = socket() else {
        return Ok(None);
    };
    // No socket there, or nobody listening: `ask` says no such image.
    if !super::plausible_image(reference) {
        return Ok(None);
    }
    let Some(j) = ask(&sock, &format!("/images/{reference}/json"))? else {
        return Ok(None);
    };
    let (dirs, path) = image_layers(&j, reference)?;
    let layers = dirs
        .iter()
        .map(|d| super::open_layer(ENGINE.name, reference, d))
        .collect::<Result<_>>()?;
    Ok(Some(Image {
        engine: ENGINE.name,
        layers,
        path,
    }))
}

/// The layer directories (top first) and `PATH` of an image inspect
/// answer. Public for the fuzz target
/// (`fuzz/fuzz_targets/engine_files.rs`).
pub fn image_layers(j: &Json, reference: &str) -> Result<(Vec<String>, Option<Vec<u8>>)> {
    let driver = j.at(&["GraphDriver", "Name"]).and_then(Json::str);
    if driver != Some("overlay2") {
        return Err(Error::new(format!(
            "docker image {reference} is kept by the {} storage driver; \
             images are read from docker's overlay2 and podman's overlay",
            driver.unwrap_or("(unnamed)")
        )));
    }
    let data = |k: &str| j.at(&["GraphDriver", "Data", k]).and_then(Json::str);
    // UpperDir is the image's top layer; LowerDir the rest, top first
    // (none for an image of one layer).
    let mut layers: Vec<String> = data("UpperDir").map(str::to_string).into_iter().collect();
    layers.extend(
        data("LowerDir")
            .unwrap_or("")
            .split(':')
            .filter(|l| !l.is_empty())
            .map(str::to_string),
    );
    // The lower layers are joined with ':', so no path can hold one.
    if layers.is_empty()
        || layers
            .iter()
            .any(|l| !l.starts_with('/') || l.contains(':'))
    {
        return Err(Error::new(format!(
            "docker image {reference}: unreadable layer list"
        )));
    }
    Ok((layers, super::image_path(j.at(&["Config", "Env"]))))
}

/// Without the socket, the `docker` CLI, if there is one and it is set to
/// a context: that may name a daemon elsewhere on this host (a rootless
/// dockerd's socket, say).
/// It gets only what it needs to find its configuration: `HOME`,
/// `DOCKER_CONFIG` and `DOCKER_CONTEXT`.
fn by_cli(target: &str) -> Result<Option<Found>> {
    // The CLI costs tens of milliseconds, and without a context of its own
    // it would ask the very socket that is not there.
    if !cli_has_context() {
        return Ok(None);
    }
    let Some(tool) = super::cli::which("docker") else {
        return Ok(None);
    };
    let extra: Vec<Vec<u8>> = ["HOME", "DOCKER_CONFIG", "DOCKER_CONTEXT"]
        .iter()
        .filter_map(|k| {
            std::env::var_os(k).map(|v| [k.as_bytes(), b"=", v.as_encoded_bytes()].concat())
        })
        .collect();
    let format = "{{.Id}} {{.Name}} {{.State.Running}} {{.State.Pid}}";
    let out = super::cli::run_env(
        &tool,
        &[
            "inspect",
            "--type",
            "container",
            "--format",
            format,
            "--",
            target,
        ],
        &extra,
        std::time::Duration::from_secs(5),
    )?;
    if out.code != Some(0) {
        // No such container, or no daemon to ask.
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let f: Vec<&str> = text.split_whitespace().collect();
    let [id, name, running, pid] = f[..] else {
        return Err(Error::new(format!(
            "docker: unexpected answer {:?}",
            text.trim()
        )));
    };
    let pid: i32 = pid
        .parse()
        .map_err(|_| Error::new(format!("docker: unexpected PID {pid:?}")))?;
    let name = name.trim_start_matches('/').to_string();
    if running != "true" || pid <= 0 {
        return Err(Error::new(format!(
            "docker container {name} is not running"
        )));
    }
    Ok(Some(Found {
        engine: &ENGINE,
        id: id.to_string(),
        name,
        pid,
        extra: Vec::new(),
        check: super::Check::CgroupId,
    }))
}

/// Whether the docker CLI is set to a context other than the default one:
/// `DOCKER_CONTEXT`, or `currentContext` in its config.json
/// (`$DOCKER_CONFIG`, else `$HOME/.docker`).
fn cli_has_context() -> bool {
    if std::env::var_os("DOCKER_CONTEXT").is_some_and(|c| !c.is_empty() && c != "default") {
        return true;
    }
    let dir = match (std::env::var_os("DOCKER_CONFIG"), std::env::var_os("HOME")) {
        (Some(d), _) => d.to_string_lossy().into_owned(),
        (None, Some(h)) => format!("{}/.docker", h.to_string_lossy()),
        (None, None) => return false,
    };
    crate::proc::read(rustix::fs::CWD, &format!("{dir}/config.json"), 1 << 20)
        .ok()
        .and_then(|b| Json::parse(&b))
        .and_then(|j| {
            j.get("currentContext")
                .and_then(Json::str)
                .map(|c| !c.is_empty() && c != "default")
        })
        .unwrap_or(false)
}

/// Every running container.
pub fn list() -> Result<Vec<Found>> {
    let Some(sock) = socket() else {
        return Ok(Vec::new());
    };
    let (code, body) = match get(&sock, "/containers/json") {
        Ok(r) => r,
        // No socket there, or nobody listening: no daemon, no containers.
        Err(rustix::io::Errno::CONNREFUSED | rustix::io::Errno::NOENT) => return Ok(Vec::new()),
        Err(e) => return Err(Error::sys(format_args!("ask docker at {sock}"), e)),
    };
    if code != 200 {
        return Err(Error::new(format!("docker: HTTP status {code}")));
    }
    let j = Json::parse(&body).ok_or_else(|| Error::new("docker: unreadable answer"))?;
    let mut out = Vec::new();
    for c in j.arr() {
        let Some(id) = c.get("Id").and_then(Json::str) else {
            continue;
        };
        // The list has no PIDs: ask for each (by full ID, which is plain).
        if let Ok(Some(f)) = find(id) {
            out.push(f);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(plausible("web"));
        assert!(plausible("34b48a"));
        assert!(plausible("my_app.1-2"));
        for bad in ["", "-x", "../x", "a/b", "a b", "a?b", "a%2f", ".x", "_x"] {
            assert!(!plausible(bad), "{bad}");
        }
    }

    #[test]
    fn inspect_answer() {
        let j = Json::parse(br#"{"Id":"abc","Name":"/web","State":{"Running":false,"Pid":0}}"#)
            .unwrap();
        let (f, running) = found(&j).unwrap();
        assert_eq!(
            (f.id.as_str(), f.name.as_str(), f.pid, running),
            ("abc", "web", 0, false)
        );
        assert!(found(&Json::parse(br#"{"Id":"abc"}"#).unwrap()).is_none());
    }

    #[test]
    fn image_answers() {
        let layers = |text: &str| image_layers(&Json::parse(text.as_bytes()).unwrap(), "x");
        // The upper layer first, then the lower ones in their order.
        let (dirs, path) = layers(
            r#"{"GraphDriver":{"Name":"overlay2","Data":{"UpperDir":"/d/3/diff","LowerDir":"/d/2/diff:/d/1/diff"}},"Config":{"Env":["A=1","PATH=/opt/bin:/bin"]}}"#,
        )
        .unwrap();
        assert_eq!(dirs, ["/d/3/diff", "/d/2/diff", "/d/1/diff"]);
        assert_eq!(path.as_deref(), Some(&b"/opt/bin:/bin"[..]));
        // One layer, no PATH.
        let (dirs, path) =
            layers(r#"{"GraphDriver":{"Name":"overlay2","Data":{"UpperDir":"/d/1/diff"}}}"#)
                .unwrap();
        assert_eq!((dirs, path), (vec!["/d/1/diff".to_string()], None));
        for (bad, why) in [
            (
                r#"{"GraphDriver":{"Name":"overlayfs","Data":{}}}"#,
                "kept by the overlayfs storage driver",
            ),
            (r#"{"Config":{}}"#, "kept by the (unnamed) storage driver"),
            (
                r#"{"GraphDriver":{"Name":"overlay2","Data":{"UpperDir":"d/1"}}}"#,
                "unreadable layer list",
            ),
            (
                r#"{"GraphDriver":{"Name":"overlay2","Data":{"UpperDir":"/a:/b"}}}"#,
                "unreadable layer list",
            ),
            (
                r#"{"GraphDriver":{"Name":"overlay2","Data":{}}}"#,
                "unreadable layer list",
            ),
        ] {
            let e = layers(bad).unwrap_err();
            assert!(e.message().contains(why), "{bad}: {}", e.message());
        }
    }
}
