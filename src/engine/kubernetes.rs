//! Kubernetes, on a node: containers that kubelet runs through containerd
//! (namespace `k8s.io`), named `POD/CONTAINER` or `NAMESPACE/POD/CONTAINER`,
//! or by container ID. The names come from the annotations containerd's
//! CRI plugin writes into each container's OCI spec
//! (`io.kubernetes.cri.sandbox-namespace`, `sandbox-name`,
//! `container-name`; the pods' `pause` sandboxes are left out), read from
//! the task's bundle beside its `init.pid` (see `containerd`): neither the
//! daemon nor a CLI is asked, and no name is ever put on a command line.

use super::json::Json;
use super::{containerd, Engine, Find, Found};
use crate::error::Result;

/// The `kubernetes` resolver, a row of [`super::ENGINES`].
pub const ENGINE: Engine = Engine {
    name: "kubernetes",
    by_default: true,
    find: Find::Now(|q| q.name().map_or(Ok(Vec::new()), find)),
    list: |_| Ok(list()),
};

/// The most of a bundle's config.json that is read.
const SPEC_LIMIT: usize = 4 << 20;

/// A container of a pod, from its bundle's annotations.
pub struct PodContainer {
    namespace: String,
    pod: String,
    container: String,
    image: Option<String>,
}

/// The pod container an OCI spec (a bundle's `config.json`) names in its
/// CRI annotations; `None` for a pod's sandbox or a spec without them.
/// Public for the fuzz target (`fuzz/fuzz_targets/engine_files.rs`).
pub fn annotations(spec: &[u8]) -> Option<PodContainer> {
    let j = Json::parse(spec)?;
    let a = j.get("annotations")?;
    let get = |k: &str| a.get(k).and_then(Json::str).map(str::to_string);
    if get("io.kubernetes.cri.container-type").as_deref() == Some("sandbox") {
        return None;
    }
    Some(PodContainer {
        namespace: get("io.kubernetes.cri.sandbox-namespace")?,
        pod: get("io.kubernetes.cri.sandbox-name")?,
        container: get("io.kubernetes.cri.container-name")?,
        image: get("io.kubernetes.cri.image-name"),
    })
}

/// Splits `POD/CONTAINER` or `NAMESPACE/POD/CONTAINER`.
fn parse_name(target: &str) -> Option<(Option<&str>, &str, &str)> {
    let parts: Vec<&str> = target.split('/').collect();
    match parts[..] {
        [pod, c] if !pod.is_empty() && !c.is_empty() => Some((None, pod, c)),
        [ns, pod, c] if !ns.is_empty() && !pod.is_empty() && !c.is_empty() => {
            Some((Some(ns), pod, c))
        }
        _ => None,
    }
}

fn found(f: Found, pc: &PodContainer) -> Found {
    Found {
        engine: &ENGINE,
        name: format!("{}/{}/{}", pc.namespace, pc.pod, pc.container),
        extra: [
            ("namespace", Some(&pc.namespace)),
            ("pod", Some(&pc.pod)),
            ("container", Some(&pc.container)),
            ("image", pc.image.as_ref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?.clone())))
        .collect(),
        ..f
    }
}

/// The running pod containers of this node whose container ID `keep`
/// keeps, with their names. Only the `k8s.io` namespace is read, and only
/// the tasks kept: a node's hundreds of tasks cost nothing to a target
/// that names none of them.
fn containers(keep: impl Fn(&str) -> bool) -> Vec<(Found, PodContainer)> {
    let ns = containerd::K8S_NAMESPACE;
    let dir = format!("{}/{ns}", containerd::tasks_dir());
    crate::proc::names(&dir)
        .into_iter()
        .filter(|id| keep(id))
        .filter_map(|id| {
            let spec = crate::proc::read(
                rustix::fs::CWD,
                &format!("{dir}/{id}/config.json"),
                SPEC_LIMIT,
            )
            .ok()?;
            let pc = annotations(&spec)?;
            Some((containerd::task(ns, &id)?, pc))
        })
        .collect()
}

/// The pod containers `target` names.
pub fn find(target: &str) -> Result<Vec<Found>> {
    let name = parse_name(target);
    let mut out = Vec::new();
    // By ID: only the tasks whose ID it can be are read.
    let by_id = |id: &str| id == target || (target.len() >= 4 && id.starts_with(target));
    for (f, pc) in containers(|id| name.is_some() || by_id(id)) {
        let hit = match name {
            Some((ns, pod, c)) => {
                ns.is_none_or(|ns| ns == pc.namespace) && pod == pc.pod && c == pc.container
            }
            None => by_id(&f.id),
        };
        if hit {
            out.push(found(f, &pc));
        }
    }
    Ok(out)
}

/// Every running pod container.
pub fn list() -> Vec<Found> {
    containers(|_| true)
        .into_iter()
        .map(|(f, pc)| found(f, &pc))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(parse_name("web-0/app"), Some((None, "web-0", "app")));
        assert_eq!(
            parse_name("shop/web-0/app"),
            Some((Some("shop"), "web-0", "app"))
        );
        for bad in ["web", "/app", "a//b", "a/b/c/d", "web/"] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn spec_annotations() {
        let pc = annotations(br#"{"ociVersion":"1.0","annotations":{"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.sandbox-namespace":"shop","io.kubernetes.cri.sandbox-name":"web-0","io.kubernetes.cri.container-name":"app"}}"#).unwrap();
        assert_eq!(
            (
                pc.namespace.as_str(),
                pc.pod.as_str(),
                pc.container.as_str()
            ),
            ("shop", "web-0", "app")
        );
        assert!(annotations(br#"{"annotations":{"io.kubernetes.cri.container-type":"sandbox","io.kubernetes.cri.sandbox-namespace":"a","io.kubernetes.cri.sandbox-name":"b","io.kubernetes.cri.container-name":"c"}}"#).is_none());
        assert!(annotations(br#"{"annotations":{}}"#).is_none());
    }
}
