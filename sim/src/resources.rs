//! The resources the simulated API server serves.

/// One served resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    /// Plural name, the path segment ("pods").
    pub plural: &'static str,
    /// API group ("" for core).
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Kind of one object ("Pod").
    pub kind: &'static str,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// A custom resource: served only once its CRD is installed.
    pub crd: bool,
}

impl Resource {
    /// "v1" or "apps/v1".
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Find a served resource by group, version and plural.
    pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
        RESOURCES
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// Find by plural name alone.
    pub fn by_plural(plural: &str) -> Option<&'static Resource> {
        RESOURCES.iter().find(|r| r.plural == plural)
    }
}

const fn core(plural: &'static str, kind: &'static str, namespaced: bool) -> Resource {
    Resource {
        plural,
        group: "",
        version: "v1",
        kind,
        namespaced,
        crd: false,
    }
}

const fn grouped(group: &'static str, plural: &'static str, kind: &'static str) -> Resource {
    Resource {
        plural,
        group,
        version: "v1",
        kind,
        namespaced: true,
        crd: false,
    }
}

/// Everything served.
pub static RESOURCES: &[Resource] = &[
    core("pods", "Pod", true),
    core("services", "Service", true),
    core("namespaces", "Namespace", false),
    core("configmaps", "ConfigMap", true),
    core("secrets", "Secret", true),
    grouped("apps", "deployments", "Deployment"),
    grouped("apps", "statefulsets", "StatefulSet"),
    grouped("apps", "daemonsets", "DaemonSet"),
    grouped("apps", "replicasets", "ReplicaSet"),
    grouped("batch", "jobs", "Job"),
    grouped("batch", "cronjobs", "CronJob"),
    core("persistentvolumeclaims", "PersistentVolumeClaim", true),
    core("persistentvolumes", "PersistentVolume", false),
    grouped("networking.k8s.io", "ingresses", "Ingress"),
    core("nodes", "Node", false),
    core("events", "Event", true),
    core("serviceaccounts", "ServiceAccount", true),
    Resource {
        plural: "horizontalpodautoscalers",
        group: "autoscaling",
        version: "v2",
        kind: "HorizontalPodAutoscaler",
        namespaced: true,
        crd: false,
    },
    // A kind without a compiled projection in the daemon, which watches it
    // as the server's Table (`crate::table` prints it).
    Resource {
        plural: "priorityclasses",
        group: "scheduling.k8s.io",
        version: "v1",
        kind: "PriorityClass",
        namespaced: false,
        crd: false,
    },
    Resource {
        plural: "widgets",
        group: "example.com",
        version: "v1",
        kind: "Widget",
        namespaced: true,
        crd: true,
    },
    // The same CRD after a version upgrade (`POST /sim/crds?name=widgets&version=v2`):
    // v1 is no longer served.
    Resource {
        plural: "widgets",
        group: "example.com",
        version: "v2",
        kind: "Widget",
        namespaced: true,
        crd: true,
    },
];

/// The custom resources the sim can install, with their recorded CRD.
pub const CRDS: &[(&str, &str)] = &[(
    "widgets",
    include_str!("../../tests/fixtures/kube-apiserver-v1.36/crd/widgets.json"),
)];
