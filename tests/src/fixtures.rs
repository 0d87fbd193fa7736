//! The recorded kube-apiserver 1.36 fixtures and the daemon's projection of them.

use std::path::PathBuf;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Secret, Service};
use kube::core::{ObjectList, PartialObjectMeta};
use serde::de::DeserializeOwned;
use timoneirod::catalog::Kind;
use timoneirod::project;
use timoneirod::row::RowParts;
use timoneirod::store::Store;

/// The fixture folder.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/kube-apiserver-v1.36")
}

/// A fixture file's text.
pub fn read(relative: &str) -> String {
    let path = dir().join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// When a fixture was captured (the `started` time in manifest.jsonl), Unix ms.
pub fn captured_at(relative: &str) -> i64 {
    for line in read("manifest.jsonl").lines() {
        let entry: serde_json::Value = serde_json::from_str(line).expect("manifest line is JSON");
        if entry["file"] == relative {
            let started = entry["started"].as_str().expect("started");
            let ts: jiff::Timestamp = started.parse().expect("started is a timestamp");
            return ts.as_millisecond();
        }
    }
    panic!("{relative} is not in manifest.jsonl")
}

fn decode<K: DeserializeOwned + Clone>(
    relative: &str,
    project: fn(&K) -> RowParts,
) -> Vec<RowParts> {
    let list: ObjectList<K> = serde_json::from_str(&read(relative))
        .unwrap_or_else(|e| panic!("{relative} does not decode as the daemon decodes it: {e}"));
    list.items.iter().map(project).collect()
}

/// The file the daemon's view of a kind is recorded in (secrets: metadata only).
pub fn list_file(kind: Kind) -> String {
    match kind {
        Kind::Secrets => "list/secrets.metadata.json".to_string(),
        other => format!("list/{}.json", other.spec().plural),
    }
}

/// Project a recorded list the way the daemon's informer does.
pub fn project_list(kind: Kind) -> Vec<RowParts> {
    let file = list_file(kind);
    match kind {
        Kind::Pods => decode::<Pod>(&file, project::pod),
        Kind::Deployments => decode::<Deployment>(&file, project::deployment),
        Kind::Services => decode::<Service>(&file, project::service),
        Kind::Namespaces => decode::<Namespace>(&file, project::namespace),
        Kind::StatefulSets => decode::<StatefulSet>(&file, project::statefulset),
        Kind::DaemonSets => decode::<DaemonSet>(&file, project::daemonset),
        Kind::ReplicaSets => decode::<ReplicaSet>(&file, project::replicaset),
        Kind::Jobs => decode::<Job>(&file, project::job),
        Kind::CronJobs => decode::<CronJob>(&file, project::cronjob),
        Kind::ConfigMaps => decode::<ConfigMap>(&file, project::configmap),
        Kind::Secrets => decode::<PartialObjectMeta<Secret>>(&file, project::secret_metadata),
    }
}

/// A store holding a recorded list, synced.
pub fn store(kind: Kind) -> Store {
    let store = Store::new(kind, Arc::new(tokio::sync::watch::channel(0).0));
    store.begin_relist();
    for parts in project_list(kind) {
        store.relist_apply(parts);
    }
    store.finish_relist();
    store
}
