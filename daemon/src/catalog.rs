//! The kinds the daemon knows: the 18 built-in kinds with compiled
//! projections, and every other kind the API server serves, found by
//! discovery. Names resolve as kubectl resolves them.

use std::fmt;
use std::sync::{Arc, LazyLock};

use crate::descriptor::Descriptor;
use crate::project;

/// A built-in kind: its [`Descriptor`] in [`project::BUILTIN`], by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Builtin(u8);

/// How many kinds are built in.
pub const BUILTIN_COUNT: usize = project::BUILTIN.len();

impl Builtin {
    /// Every built-in kind, in tier order.
    pub const ALL: [Builtin; BUILTIN_COUNT] = {
        let mut all = [Builtin(0); BUILTIN_COUNT];
        let mut i = 0;
        while i < BUILTIN_COUNT {
            all[i] = Builtin(i as u8);
            i += 1;
        }
        all
    };
    /// Pods: tier 1, the kind clients wait for.
    pub const PODS: Builtin = Builtin::named("pods");
    /// Secrets: watched as the server's Table, metadata only.
    pub const SECRETS: Builtin = Builtin::named("secrets");
    /// Events: a bounded store.
    pub const EVENTS: Builtin = Builtin::named("events");

    /// The built-in kind with this plural name (at compile time: a name
    /// that is not built in does not compile).
    pub const fn named(plural: &str) -> Builtin {
        let mut i = 0;
        while i < BUILTIN_COUNT {
            if same(project::BUILTIN[i].plural.as_bytes(), plural.as_bytes()) {
                return Builtin(i as u8);
            }
            i += 1;
        }
        panic!("not a built-in kind")
    }

    /// This kind's descriptor.
    pub fn descriptor(self) -> &'static Descriptor {
        project::BUILTIN[usize::from(self.0)]
    }

    /// Its position in [`Builtin::ALL`] (and in a cluster's stores).
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The kind handle of this built-in kind.
    pub fn kind(self) -> Kind {
        static KINDS: LazyLock<Vec<Kind>> = LazyLock::new(|| {
            Builtin::ALL
                .into_iter()
                .map(|builtin| {
                    let d = builtin.descriptor();
                    Kind(Arc::new(KindSpec {
                        plural: d.plural.into(),
                        singular: d.singular.into(),
                        kind: d.kind.into(),
                        group: d.group.into(),
                        version: d.version.into(),
                        namespaced: d.namespaced,
                        short_names: d.short_names.iter().map(|n| n.to_string()).collect(),
                        tier: d.tier,
                        name_first: d.name_first,
                        columns: d
                            .columns
                            .iter()
                            .map(|c| ColumnSpec {
                                name: c.name.into(),
                                wide: c.wide,
                            })
                            .collect(),
                        source: Source::Builtin(builtin),
                    }))
                })
                .collect()
        });
        KINDS[self.index()].clone()
    }
}

/// Byte-wise equality, usable in a `const fn`.
const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A group and version as `apiVersion` writes them: "v1" or "apps/v1".
pub fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

/// Loading tier of kinds that start on demand (tier 4 and discovered kinds).
pub const ON_DEMAND_TIER: u32 = 4;

/// The tiers of built-in kinds that differ from the defaults: the config
/// file's `[tiers]` (kind name → 1–4) and `preload` (kinds started with tiers
/// 2–3 rather than on first use). Pods stay tier 1: clients wait for them.
pub fn tier_overrides(
    tiers: &std::collections::BTreeMap<String, u32>,
    preload: &[String],
) -> Result<std::collections::BTreeMap<Builtin, u32>, String> {
    let catalog = Catalog::builtin();
    let builtin = |name: &str, key: &str| {
        catalog
            .resolve(name)
            .ok()
            .and_then(|kind| kind.builtin())
            .ok_or_else(|| {
                format!("{key}: {name:?} is not a built-in kind (others load on first use)")
            })
    };
    let mut overrides = std::collections::BTreeMap::new();
    for (name, tier) in tiers {
        let kind = builtin(name, &format!("tiers.{name}"))?;
        if kind == Builtin::PODS && *tier != 1 {
            return Err(format!(
                "tiers.{name} = {tier}: pods are tier 1, the kind clients wait for"
            ));
        }
        overrides.insert(kind, *tier);
    }
    for name in preload {
        let kind = builtin(name, "daemon.preload")?;
        let tier = overrides
            .get(&kind)
            .copied()
            .unwrap_or(kind.kind().spec().tier);
        overrides.insert(kind, tier.min(3));
    }
    Ok(overrides)
}

/// Facts about a kind.
#[derive(Debug, Clone)]
pub struct KindSpec {
    /// Plural resource name ("pods").
    pub plural: String,
    /// Singular name ("pod").
    pub singular: String,
    /// The object's kind ("Pod").
    pub kind: String,
    /// API group ("" for core).
    pub group: String,
    /// API version ("v1").
    pub version: String,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// kubectl's short names.
    pub short_names: Vec<String>,
    /// Loading tier: 1 at start, 2 and 3 once tier 1 is synced, 4 on demand.
    pub tier: u32,
    /// Whether NAME is the first column (kubectl's events print it last, wide).
    pub name_first: bool,
    /// Columns after NAME, as `kubectl get` prints them.
    pub columns: Vec<ColumnSpec>,
    /// How objects become rows.
    pub source: Source,
}

impl KindSpec {
    /// "v1" or "apps/v1".
    pub fn api_version(&self) -> String {
        api_version(&self.group, &self.version)
    }

    /// kube's description of the kind, for its dynamic API.
    pub fn api_resource(&self) -> kube::api::ApiResource {
        kube::api::ApiResource {
            group: self.group.clone(),
            version: self.version.clone(),
            api_version: self.api_version(),
            kind: self.kind.clone(),
            plural: self.plural.clone(),
        }
    }

    /// The fully qualified name: "pods", "deployments.apps", "widgets.example.com".
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

/// How a kind's objects become rows.
#[derive(Debug, Clone)]
pub enum Source {
    /// A compiled projection.
    Builtin(Builtin),
    /// Any other kind, over the dynamic API: cells from printer columns
    /// (a CRD's `additionalPrinterColumns`; none means AGE only).
    Dynamic(Arc<[PrinterColumn]>),
    /// Any other kind, as the API server's Table (`crate::table`): the
    /// server's column names after Name, the cells it computes.
    Table(Arc<[String]>),
}

/// One `additionalPrinterColumns` entry of a CRD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterColumn {
    /// Header as kubectl prints it (upper case).
    pub name: String,
    /// The column's type: string, integer, number, boolean or date.
    pub type_: String,
    /// kubectl JSONPath, e.g. `.status.phase`.
    pub json_path: String,
    /// `priority > 0`: shown only with `-o wide`.
    pub wide: bool,
}

/// One column after NAME.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    /// Header, e.g. "READY".
    pub name: String,
    /// Shown only with `-o wide`.
    pub wide: bool,
}

/// A kind: cheap to clone, compared by group and plural.
#[derive(Debug, Clone)]
pub struct Kind(Arc<KindSpec>);

impl PartialEq for Kind {
    fn eq(&self, other: &Kind) -> bool {
        self.0.group == other.0.group && self.0.plural == other.0.plural
    }
}

impl Eq for Kind {}

impl Kind {
    /// Facts about this kind.
    pub fn spec(&self) -> &KindSpec {
        &self.0
    }

    /// The built-in kind, if this is one.
    pub fn builtin(&self) -> Option<Builtin> {
        match self.0.source {
            Source::Builtin(builtin) => Some(builtin),
            Source::Dynamic(_) | Source::Table(_) => None,
        }
    }

    /// The same kind loading in another tier (the config file's `[tiers]`).
    pub fn with_tier(&self, tier: u32) -> Kind {
        Kind(Arc::new(KindSpec {
            tier,
            ..(*self.0).clone()
        }))
    }

    /// A kind served over the dynamic API, with its printer columns; no
    /// columns means kubectl's fallback, AGE only.
    pub fn dynamic(found: Discovered, printer_columns: Vec<PrinterColumn>) -> Kind {
        let columns = if printer_columns.is_empty() {
            vec![ColumnSpec {
                name: "AGE".into(),
                wide: false,
            }]
        } else {
            printer_columns
                .iter()
                .map(|c| ColumnSpec {
                    name: c.name.clone(),
                    wide: c.wide,
                })
                .collect()
        };
        Kind::discovered_with(found, columns, Source::Dynamic(printer_columns.into()))
    }

    /// A discovered kind (loaded on demand) with these columns and source.
    fn discovered_with(found: Discovered, columns: Vec<ColumnSpec>, source: Source) -> Kind {
        Kind(Arc::new(KindSpec {
            plural: found.plural,
            singular: found.singular,
            kind: found.kind,
            group: found.group,
            version: found.version,
            namespaced: found.namespaced,
            short_names: found.short_names,
            tier: ON_DEMAND_TIER,
            name_first: true,
            columns,
            source,
        }))
    }

    /// A kind watched as the API server's Table, with the server's column
    /// definitions after Name: (name, shown only with `-o wide`).
    /// kubectl's headers are the names upper-cased.
    pub fn table(found: Discovered, server_columns: Vec<(String, bool)>) -> Kind {
        let columns = server_columns
            .iter()
            .map(|(name, wide)| ColumnSpec {
                name: name.to_uppercase(),
                wide: *wide,
            })
            .collect();
        let names: Vec<String> = server_columns.into_iter().map(|(name, _)| name).collect();
        Kind::discovered_with(found, columns, Source::Table(names.into()))
    }

    /// The discovery facts of this kind (to rebuild it with other columns).
    pub fn discovered(&self) -> Discovered {
        let s = self.spec();
        Discovered {
            plural: s.plural.clone(),
            singular: s.singular.clone(),
            kind: s.kind.clone(),
            group: s.group.clone(),
            version: s.version.clone(),
            namespaced: s.namespaced,
            short_names: s.short_names.clone(),
        }
    }

    /// Whether `name` (lower case, unqualified) names this kind.
    fn is_named(&self, name: &str) -> bool {
        let s = self.spec();
        s.plural == name
            || s.singular == name
            || s.kind.eq_ignore_ascii_case(name)
            || s.short_names.iter().any(|n| n == name)
    }

    /// Whether a group qualifier ("apps", "v1.apps", "core", "example.com") fits.
    fn in_group(&self, qualifier: &str) -> bool {
        let s = self.spec();
        qualifier == s.group
            || qualifier == format!("{}.{}", s.version, s.group)
            || (s.group.is_empty() && (qualifier == "core" || qualifier == s.version))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.plural)
    }
}

/// A resource found by discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// Plural resource name.
    pub plural: String,
    /// Singular name (derived from the kind when the server gives none).
    pub singular: String,
    /// Kind of one object.
    pub kind: String,
    /// API group.
    pub group: String,
    /// Preferred version.
    pub version: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Short names the server suggests.
    pub short_names: Vec<String>,
}

/// The kinds of one cluster: the built-in ones, then those discovery found.
#[derive(Debug, Clone)]
pub struct Catalog {
    kinds: Vec<Kind>,
}

impl Default for Catalog {
    fn default() -> Catalog {
        Catalog::builtin()
    }
}

impl Catalog {
    /// Only the built-in kinds (before discovery, or when it fails).
    pub fn builtin() -> Catalog {
        Catalog {
            kinds: Builtin::ALL.into_iter().map(Builtin::kind).collect(),
        }
    }

    /// The built-in kinds plus what discovery found. A discovered resource
    /// that is a built-in kind (same group and plural) adds nothing.
    pub fn with_discovered(found: impl IntoIterator<Item = Discovered>) -> Catalog {
        let mut catalog = Catalog::builtin();
        for found in found {
            let known = catalog
                .kinds
                .iter()
                .any(|k| k.spec().group == found.group && k.spec().plural == found.plural);
            if !known {
                catalog.kinds.push(Kind::dynamic(found, Vec::new()));
            }
        }
        catalog
    }

    /// Every kind: built-in ones in tier order, then discovered ones.
    pub fn kinds(&self) -> &[Kind] {
        &self.kinds
    }

    /// Resolve a name as kubectl does: plural, singular, short name or kind,
    /// case-insensitive, optionally qualified by group (`deployments.apps`,
    /// `deployment.v1.apps`, `widgets.example.com`). Built-in kinds win over
    /// discovered ones of the same name (kubectl's group priority); several
    /// discovered kinds of one name are ambiguous.
    pub fn resolve(&self, name: &str) -> Result<Kind, ResolveError> {
        if name.len() > MAX_NAME {
            return Err(ResolveError::TooLong { length: name.len() });
        }
        let lower = name.trim().to_ascii_lowercase();
        if lower.is_empty() {
            return Err(ResolveError::Unknown(self.unknown(name)));
        }
        let mut candidates: Vec<&Kind> = Vec::new();
        // Unqualified first; then every split of "base.qualifier".
        for kind in &self.kinds {
            if kind.is_named(&lower) {
                candidates.push(kind);
            }
        }
        if candidates.is_empty() {
            for (dot, _) in lower.match_indices('.') {
                let (base, qualifier) = (&lower[..dot], &lower[dot + 1..]);
                candidates.extend(
                    self.kinds
                        .iter()
                        .filter(|k| k.is_named(base) && k.in_group(qualifier)),
                );
                if !candidates.is_empty() {
                    break;
                }
            }
        }
        if let Some(builtin) = candidates.iter().find(|k| k.builtin().is_some()) {
            return Ok((*builtin).clone());
        }
        match candidates.as_slice() {
            [] => Err(ResolveError::Unknown(self.unknown(name))),
            [one] => Ok((*one).clone()),
            many => Err(ResolveError::Ambiguous {
                name: name.to_string(),
                candidates: many.iter().map(|k| k.spec().qualified()).collect(),
            }),
        }
    }

    fn unknown(&self, name: &str) -> UnknownKind {
        let lower = name.to_ascii_lowercase();
        let mut scored: Vec<(f64, String)> = Vec::new();
        for kind in &self.kinds {
            let spec = kind.spec();
            let names = [spec.plural.as_str(), spec.singular.as_str()]
                .into_iter()
                .chain(spec.short_names.iter().map(String::as_str));
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
                let display = if kind.builtin().is_some() {
                    spec.plural.clone()
                } else {
                    spec.qualified()
                };
                scored.push((best, display));
            }
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        UnknownKind {
            name: name.to_string(),
            suggestions: scored.into_iter().take(3).map(|s| s.1).collect(),
            known: self
                .kinds
                .iter()
                .filter(|k| k.builtin().is_some())
                .map(|k| k.spec().plural.clone())
                .collect(),
        }
    }
}

/// Why a name does not resolve to one kind.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ResolveError {
    /// Longer than any kind's name can be.
    #[error(
        "a kind name of {length} characters: no kind has one longer than 253 (a DNS subdomain)"
    )]
    TooLong {
        /// The length asked for.
        length: usize,
    },
    /// No kind has this name.
    #[error(transparent)]
    Unknown(UnknownKind),
    /// Several kinds of different groups have this name.
    #[error("{name:?} is ambiguous: it names {}; qualify it with the group", .candidates.join(", "))]
    Ambiguous {
        /// What the user asked for.
        name: String,
        /// The qualified names it could mean.
        candidates: Vec<String>,
    },
}

/// The longest kind name: a resource's plural qualified by its group, each
/// a DNS name (plural.group is itself at most a DNS subdomain's 253).
pub const MAX_NAME: usize = 253;

/// A name that matches no known kind, with the closest known names.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown kind {name:?}{}", self.hint())]
pub struct UnknownKind {
    /// What the user asked for.
    pub name: String,
    /// Known names closest to it, best first.
    pub suggestions: Vec<String>,
    known: Vec<String>,
}

impl UnknownKind {
    fn hint(&self) -> String {
        if self.suggestions.is_empty() {
            format!(
                "; known kinds: {} (`timoneiro api-resources` lists every kind the cluster serves)",
                self.known.join(", ")
            )
        } else {
            format!("; did you mean {}?", self.suggestions.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clients_list_of_builtin_kinds_is_the_catalogs() {
        let plurals: Vec<String> = Builtin::ALL
            .iter()
            .map(|b| b.kind().spec().plural.clone())
            .collect();
        assert_eq!(plurals, timoneiro_client::BUILTIN_KINDS);
    }

    #[test]
    fn config_tiers_and_preload_become_overrides() {
        let tiers: std::collections::BTreeMap<String, u32> =
            [("ev".to_string(), 2), ("configmaps".to_string(), 4)].into();
        let overrides = tier_overrides(&tiers, &["nodes".to_string()]).expect("valid");
        assert_eq!(overrides.get(&Builtin::named("events")), Some(&2));
        assert_eq!(overrides.get(&Builtin::named("configmaps")), Some(&4));
        assert_eq!(
            overrides.get(&Builtin::named("nodes")),
            Some(&3),
            "preloaded with tier 3"
        );
        let pods: std::collections::BTreeMap<String, u32> = [("pods".to_string(), 3)].into();
        assert!(
            tier_overrides(&pods, &[])
                .expect_err("pods")
                .contains("tier 1")
        );
        let unknown: std::collections::BTreeMap<String, u32> = [("gadgets".to_string(), 2)].into();
        assert!(
            tier_overrides(&unknown, &[])
                .expect_err("unknown")
                .contains("tiers.gadgets")
        );
        assert!(
            tier_overrides(&Default::default(), &["widgets".to_string()])
                .expect_err("not built in")
                .contains("daemon.preload")
        );
    }

    fn discovered(plural: &str, group: &str, short: &[&str]) -> Discovered {
        Discovered {
            plural: plural.into(),
            singular: plural.trim_end_matches('s').into(),
            kind: format!("{}Kind", plural.trim_end_matches('s')),
            group: group.into(),
            version: "v1".into(),
            namespaced: true,
            short_names: short.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn resolves_kubectl_names() {
        let catalog = Catalog::builtin();
        let cases = [
            ("po", Builtin::PODS),
            ("pod", Builtin::PODS),
            ("Pods", Builtin::PODS),
            ("Pod", Builtin::PODS),
            ("deploy", Builtin::named("deployments")),
            ("deployments.apps", Builtin::named("deployments")),
            ("deployment.v1.apps", Builtin::named("deployments")),
            ("svc", Builtin::named("services")),
            ("ns", Builtin::named("namespaces")),
            ("sts", Builtin::named("statefulsets")),
            ("ds", Builtin::named("daemonsets")),
            ("rs", Builtin::named("replicasets")),
            ("job", Builtin::named("jobs")),
            ("jobs.batch", Builtin::named("jobs")),
            ("cj", Builtin::named("cronjobs")),
            ("cm", Builtin::named("configmaps")),
            ("secret", Builtin::SECRETS),
            ("pods.core", Builtin::PODS),
            ("pvc", Builtin::named("persistentvolumeclaims")),
            ("pv", Builtin::named("persistentvolumes")),
            ("ing", Builtin::named("ingresses")),
            ("ingresses.networking.k8s.io", Builtin::named("ingresses")),
            ("no", Builtin::named("nodes")),
            ("node", Builtin::named("nodes")),
            ("ev", Builtin::named("events")),
            ("sa", Builtin::named("serviceaccounts")),
            ("hpa", Builtin::named("horizontalpodautoscalers")),
            (
                "horizontalpodautoscalers.autoscaling",
                Builtin::named("horizontalpodautoscalers"),
            ),
        ];
        for (name, want) in cases {
            assert_eq!(
                catalog.resolve(name).ok().and_then(|k| k.builtin()),
                Some(want),
                "{name}"
            );
        }
    }

    #[test]
    fn discovered_kinds_resolve_by_every_name_and_builtins_keep_priority() {
        let catalog = Catalog::with_discovered([
            discovered("widgets", "example.com", &["wdg"]),
            discovered("events", "events.k8s.io", &["ev"]),
            discovered("pods", "", &["po"]),
        ]);
        // The core pods of discovery are the built-in kind, not a second one.
        assert_eq!(catalog.kinds().len(), Builtin::ALL.len() + 2);
        for name in [
            "widgets",
            "widget",
            "wdg",
            "WidgetKind",
            "widgets.example.com",
            "widget.v1.example.com",
        ] {
            let kind = catalog
                .resolve(name)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(kind.spec().qualified(), "widgets.example.com", "{name}");
            assert!(kind.builtin().is_none());
        }
        assert_eq!(
            catalog.resolve("ev").ok().and_then(|k| k.builtin()),
            Some(Builtin::named("events"))
        );
        assert_eq!(
            catalog.resolve("events").ok().and_then(|k| k.builtin()),
            Some(Builtin::named("events"))
        );
        let other = catalog.resolve("events.events.k8s.io").expect("qualified");
        assert_eq!(other.spec().group, "events.k8s.io");
    }

    #[test]
    fn the_same_name_in_two_groups_is_ambiguous() {
        let catalog = Catalog::with_discovered([
            discovered("widgets", "example.com", &["wdg"]),
            discovered("widgets", "acme.io", &[]),
        ]);
        let err = catalog.resolve("widgets").unwrap_err();
        assert!(matches!(err, ResolveError::Ambiguous { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("widgets.example.com") && text.contains("widgets.acme.io"),
            "{text}"
        );
        // The short name only one of them has, and qualified names, are not.
        assert_eq!(
            catalog.resolve("wdg").expect("wdg").spec().group,
            "example.com"
        );
        assert_eq!(
            catalog.resolve("widgets.acme.io").expect("q").spec().group,
            "acme.io"
        );
    }

    #[test]
    fn unknown_kinds_suggest_close_names() {
        let catalog = Catalog::with_discovered([discovered("widgets", "example.com", &[])]);
        let ResolveError::Unknown(err) = catalog.resolve("deploymnets").unwrap_err() else {
            panic!("not unknown")
        };
        assert_eq!(
            err.suggestions.first().map(String::as_str),
            Some("deployments")
        );
        assert!(
            err.to_string().contains("did you mean deployments"),
            "{err}"
        );
        let ResolveError::Unknown(err) = catalog.resolve("pods.apps").unwrap_err() else {
            panic!("not unknown")
        };
        assert_eq!(err.suggestions.first().map(String::as_str), Some("pods"));
        let ResolveError::Unknown(err) = catalog.resolve("widgts").unwrap_err() else {
            panic!("not unknown")
        };
        assert_eq!(
            err.suggestions.first().map(String::as_str),
            Some("widgets.example.com")
        );
        let err = catalog.resolve("zzzzzz").unwrap_err();
        assert!(
            err.to_string().contains("known kinds: pods, deployments"),
            "{err}"
        );
        assert!(catalog.resolve("").is_err());
    }
}
