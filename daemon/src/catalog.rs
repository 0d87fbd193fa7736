//! The kinds the daemon knows: names as kubectl resolves them, scope, tier
//! and the columns `kubectl get` prints for each.

use std::fmt;

/// A Kubernetes resource kind the daemon can cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Pods,
    Deployments,
    Services,
    Namespaces,
    StatefulSets,
    DaemonSets,
    ReplicaSets,
    Jobs,
    CronJobs,
    ConfigMaps,
    Secrets,
}

/// Static facts about a kind.
#[derive(Debug)]
pub struct KindSpec {
    /// Plural resource name ("pods").
    pub plural: &'static str,
    /// Singular name ("pod").
    pub singular: &'static str,
    /// The object's kind ("Pod").
    pub kind: &'static str,
    /// API group ("" for core).
    pub group: &'static str,
    /// API version ("v1").
    pub version: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// kubectl's short names.
    pub short_names: &'static [&'static str],
    /// Loading tier: 1 at start, 2 and 3 once tier 1 is synced.
    pub tier: u32,
    /// Columns after NAME, as `kubectl get` prints them.
    pub columns: &'static [ColumnSpec],
}

/// One column after NAME.
#[derive(Debug)]
pub struct ColumnSpec {
    /// Header, e.g. "READY".
    pub name: &'static str,
    /// Shown only with `-o wide`.
    pub wide: bool,
}

const fn col(name: &'static str) -> ColumnSpec {
    ColumnSpec { name, wide: false }
}

const fn wide(name: &'static str) -> ColumnSpec {
    ColumnSpec { name, wide: true }
}

impl Kind {
    /// Every kind, in tier order.
    pub const ALL: [Kind; 11] = [
        Kind::Pods,
        Kind::Deployments,
        Kind::Services,
        Kind::Namespaces,
        Kind::StatefulSets,
        Kind::DaemonSets,
        Kind::ReplicaSets,
        Kind::Jobs,
        Kind::CronJobs,
        Kind::ConfigMaps,
        Kind::Secrets,
    ];

    /// Static facts about this kind.
    pub fn spec(self) -> &'static KindSpec {
        match self {
            Kind::Pods => &PODS,
            Kind::Deployments => &DEPLOYMENTS,
            Kind::Services => &SERVICES,
            Kind::Namespaces => &NAMESPACES,
            Kind::StatefulSets => &STATEFULSETS,
            Kind::DaemonSets => &DAEMONSETS,
            Kind::ReplicaSets => &REPLICASETS,
            Kind::Jobs => &JOBS,
            Kind::CronJobs => &CRONJOBS,
            Kind::ConfigMaps => &CONFIGMAPS,
            Kind::Secrets => &SECRETS,
        }
    }

    /// Resolve a name as kubectl does: plural, singular, short name or kind,
    /// case-insensitive, optionally qualified by group (`deployments.apps`).
    pub fn resolve(name: &str) -> Result<Kind, UnknownKind> {
        let lower = name.trim().to_ascii_lowercase();
        let (base, group) = match lower.split_once('.') {
            Some((base, group)) => (base, Some(group)),
            None => (lower.as_str(), None),
        };
        let found = Kind::ALL.into_iter().find(|kind| {
            let spec = kind.spec();
            let name_matches = spec.plural == base
                || spec.singular == base
                || spec.kind.eq_ignore_ascii_case(base)
                || spec.short_names.contains(&base);
            let group_matches = match group {
                None => true,
                Some(group) => {
                    group == spec.group
                        || (spec.group.is_empty() && group == "core")
                        || group == format!("{}.{}", spec.version, spec.group)
                        || (spec.group.is_empty() && group == spec.version)
                }
            };
            name_matches && group_matches
        });
        found.ok_or_else(|| UnknownKind::new(name))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.spec().plural)
    }
}

/// A name that matches no known kind, with the closest known names.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown kind {name:?}{}", suggestion_text(.suggestions))]
pub struct UnknownKind {
    /// What the user asked for.
    pub name: String,
    /// Known names closest to it, best first.
    pub suggestions: Vec<&'static str>,
}

fn suggestion_text(suggestions: &[&str]) -> String {
    if suggestions.is_empty() {
        let known: Vec<&str> = Kind::ALL.iter().map(|k| k.spec().plural).collect();
        format!("; known kinds: {}", known.join(", "))
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

impl UnknownKind {
    fn new(name: &str) -> UnknownKind {
        let lower = name.to_ascii_lowercase();
        let mut scored: Vec<(f64, &'static str)> = Vec::new();
        for kind in Kind::ALL {
            let spec = kind.spec();
            let names = [spec.plural, spec.singular]
                .into_iter()
                .chain(spec.short_names.iter().copied());
            let best = names
                .map(|candidate| {
                    let similarity = strsim::jaro_winkler(&lower, candidate);
                    let prefix_bonus =
                        if candidate.starts_with(&lower) || lower.starts_with(candidate) {
                            0.1
                        } else {
                            0.0
                        };
                    similarity + prefix_bonus
                })
                .fold(0.0_f64, f64::max);
            if best >= 0.75 {
                scored.push((best, spec.plural));
            }
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        UnknownKind {
            name: name.to_string(),
            suggestions: scored.into_iter().take(3).map(|s| s.1).collect(),
        }
    }
}

static PODS: KindSpec = KindSpec {
    plural: "pods",
    singular: "pod",
    kind: "Pod",
    group: "",
    version: "v1",
    namespaced: true,
    short_names: &["po"],
    tier: 1,
    columns: &[
        col("READY"),
        col("STATUS"),
        col("RESTARTS"),
        col("AGE"),
        wide("IP"),
        wide("NODE"),
        wide("NOMINATED NODE"),
        wide("READINESS GATES"),
    ],
};

static DEPLOYMENTS: KindSpec = KindSpec {
    plural: "deployments",
    singular: "deployment",
    kind: "Deployment",
    group: "apps",
    version: "v1",
    namespaced: true,
    short_names: &["deploy"],
    tier: 2,
    columns: &[
        col("READY"),
        col("UP-TO-DATE"),
        col("AVAILABLE"),
        col("AGE"),
        wide("CONTAINERS"),
        wide("IMAGES"),
        wide("SELECTOR"),
    ],
};

static SERVICES: KindSpec = KindSpec {
    plural: "services",
    singular: "service",
    kind: "Service",
    group: "",
    version: "v1",
    namespaced: true,
    short_names: &["svc"],
    tier: 2,
    columns: &[
        col("TYPE"),
        col("CLUSTER-IP"),
        col("EXTERNAL-IP"),
        col("PORT(S)"),
        col("AGE"),
        wide("SELECTOR"),
    ],
};

static NAMESPACES: KindSpec = KindSpec {
    plural: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    group: "",
    version: "v1",
    namespaced: false,
    short_names: &["ns"],
    tier: 2,
    columns: &[col("STATUS"), col("AGE")],
};

static STATEFULSETS: KindSpec = KindSpec {
    plural: "statefulsets",
    singular: "statefulset",
    kind: "StatefulSet",
    group: "apps",
    version: "v1",
    namespaced: true,
    short_names: &["sts"],
    tier: 2,
    columns: &[col("READY"), col("AGE"), wide("CONTAINERS"), wide("IMAGES")],
};

static DAEMONSETS: KindSpec = KindSpec {
    plural: "daemonsets",
    singular: "daemonset",
    kind: "DaemonSet",
    group: "apps",
    version: "v1",
    namespaced: true,
    short_names: &["ds"],
    tier: 2,
    columns: &[
        col("DESIRED"),
        col("CURRENT"),
        col("READY"),
        col("UP-TO-DATE"),
        col("AVAILABLE"),
        col("NODE SELECTOR"),
        col("AGE"),
        wide("CONTAINERS"),
        wide("IMAGES"),
        wide("SELECTOR"),
    ],
};

static REPLICASETS: KindSpec = KindSpec {
    plural: "replicasets",
    singular: "replicaset",
    kind: "ReplicaSet",
    group: "apps",
    version: "v1",
    namespaced: true,
    short_names: &["rs"],
    tier: 3,
    columns: &[
        col("DESIRED"),
        col("CURRENT"),
        col("READY"),
        col("AGE"),
        wide("CONTAINERS"),
        wide("IMAGES"),
        wide("SELECTOR"),
    ],
};

static JOBS: KindSpec = KindSpec {
    plural: "jobs",
    singular: "job",
    kind: "Job",
    group: "batch",
    version: "v1",
    namespaced: true,
    short_names: &[],
    tier: 3,
    columns: &[
        col("STATUS"),
        col("COMPLETIONS"),
        col("DURATION"),
        col("AGE"),
        wide("CONTAINERS"),
        wide("IMAGES"),
        wide("SELECTOR"),
    ],
};

static CRONJOBS: KindSpec = KindSpec {
    plural: "cronjobs",
    singular: "cronjob",
    kind: "CronJob",
    group: "batch",
    version: "v1",
    namespaced: true,
    short_names: &["cj"],
    tier: 3,
    columns: &[
        col("SCHEDULE"),
        col("TIMEZONE"),
        col("SUSPEND"),
        col("ACTIVE"),
        col("LAST SCHEDULE"),
        col("AGE"),
        wide("CONTAINERS"),
        wide("IMAGES"),
        wide("SELECTOR"),
    ],
};

static CONFIGMAPS: KindSpec = KindSpec {
    plural: "configmaps",
    singular: "configmap",
    kind: "ConfigMap",
    group: "",
    version: "v1",
    namespaced: true,
    short_names: &["cm"],
    tier: 3,
    columns: &[col("DATA"), col("AGE")],
};

/// Secrets are watched as metadata only, so TYPE and DATA (which kubectl
/// reads from the object's body) are not known to the daemon: the columns
/// are what metadata allows.
static SECRETS: KindSpec = KindSpec {
    plural: "secrets",
    singular: "secret",
    kind: "Secret",
    group: "",
    version: "v1",
    namespaced: true,
    short_names: &[],
    tier: 3,
    columns: &[col("AGE")],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_kubectl_names() {
        let cases = [
            ("po", Kind::Pods),
            ("pod", Kind::Pods),
            ("Pods", Kind::Pods),
            ("Pod", Kind::Pods),
            ("deploy", Kind::Deployments),
            ("deployments.apps", Kind::Deployments),
            ("deployment.v1.apps", Kind::Deployments),
            ("svc", Kind::Services),
            ("ns", Kind::Namespaces),
            ("sts", Kind::StatefulSets),
            ("ds", Kind::DaemonSets),
            ("rs", Kind::ReplicaSets),
            ("job", Kind::Jobs),
            ("jobs.batch", Kind::Jobs),
            ("cj", Kind::CronJobs),
            ("cm", Kind::ConfigMaps),
            ("secret", Kind::Secrets),
            ("pods.core", Kind::Pods),
        ];
        for (name, want) in cases {
            assert_eq!(Kind::resolve(name).ok(), Some(want), "{name}");
        }
    }

    #[test]
    fn unknown_kinds_suggest_close_names() {
        let err = Kind::resolve("deploymnets").unwrap_err();
        assert_eq!(err.suggestions.first(), Some(&"deployments"));
        assert!(
            err.to_string().contains("did you mean deployments"),
            "{err}"
        );
        let err = Kind::resolve("pods.apps").unwrap_err();
        assert_eq!(err.suggestions.first(), Some(&"pods"));
        let err = Kind::resolve("zzzzzz").unwrap_err();
        assert!(err.suggestions.is_empty());
        assert!(
            err.to_string().contains("known kinds: pods, deployments"),
            "{err}"
        );
    }
}
