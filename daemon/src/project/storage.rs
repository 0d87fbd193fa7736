//! Storage: persistentvolumeclaims and persistentvolumes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{age, parts};
use crate::catalog::ON_DEMAND_TIER;
use crate::descriptor::{ClusterScoped, Descriptor, Namespaced, col, wide};
use crate::row::{Cell, RowParts};

/// kubectl's access mode abbreviations, in its fixed order, duplicates once.
fn access_modes(modes: Option<&Vec<String>>) -> String {
    let modes = modes.map(Vec::as_slice).unwrap_or_default();
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .into_iter()
    .filter(|(mode, _)| modes.iter().any(|m| m == mode))
    .map(|(_, short)| short)
    .collect::<Vec<_>>()
    .join(",")
}

fn storage(quantities: Option<&BTreeMap<String, Quantity>>) -> String {
    quantities
        .and_then(|q| q.get("storage"))
        .map(|q| q.0.clone())
        .unwrap_or_default()
}

/// The storage class: the beta annotation wins over the field, as in kubectl.
fn storage_class(meta: &ObjectMeta, field: Option<&String>) -> String {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class"))
        .or(field)
        .cloned()
        .unwrap_or_default()
}

fn set_or_unset(value: Option<&String>) -> String {
    value
        .filter(|v| !v.is_empty())
        .cloned()
        .unwrap_or_else(|| "<unset>".to_string())
}

fn phase(meta: &ObjectMeta, phase: Option<&String>) -> String {
    if meta.deletion_timestamp.is_some() {
        "Terminating".to_string()
    } else {
        phase.cloned().unwrap_or_default()
    }
}

/// STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE; wide VOLUMEMODE.
/// Capacity and access modes are the bound volume's (status), shown once bound.
pub fn persistentvolumeclaim(c: &PersistentVolumeClaim) -> RowParts {
    let spec = c.spec.as_ref();
    let status = c.status.as_ref();
    let volume = spec.and_then(|s| s.volume_name.clone()).unwrap_or_default();
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            storage(status.and_then(|s| s.capacity.as_ref())),
            access_modes(status.and_then(|s| s.access_modes.as_ref())),
        )
    };
    parts(
        &c.metadata,
        vec![
            Cell::text(phase(&c.metadata, status.and_then(|s| s.phase.as_ref()))),
            Cell::text(volume),
            Cell::text(capacity),
            Cell::text(modes),
            Cell::text(storage_class(
                &c.metadata,
                spec.and_then(|s| s.storage_class_name.as_ref()),
            )),
            Cell::text(set_or_unset(
                spec.and_then(|s| s.volume_attributes_class_name.as_ref()),
            )),
            age(&c.metadata),
            Cell::text(set_or_unset(spec.and_then(|s| s.volume_mode.as_ref()))),
        ],
    )
}

/// CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS
/// VOLUMEATTRIBUTESCLASS REASON AGE; wide VOLUMEMODE.
pub fn persistentvolume(v: &PersistentVolume) -> RowParts {
    let spec = v.spec.as_ref();
    let status = v.status.as_ref();
    let claim = spec
        .and_then(|s| s.claim_ref.as_ref())
        .map(|c| {
            format!(
                "{}/{}",
                c.namespace.as_deref().unwrap_or_default(),
                c.name.as_deref().unwrap_or_default()
            )
        })
        .unwrap_or_default();
    parts(
        &v.metadata,
        vec![
            Cell::text(storage(spec.and_then(|s| s.capacity.as_ref()))),
            Cell::text(access_modes(spec.and_then(|s| s.access_modes.as_ref()))),
            Cell::text(
                spec.and_then(|s| s.persistent_volume_reclaim_policy.clone())
                    .unwrap_or_default(),
            ),
            Cell::text(phase(&v.metadata, status.and_then(|s| s.phase.as_ref()))),
            Cell::text(claim),
            Cell::text(storage_class(
                &v.metadata,
                spec.and_then(|s| s.storage_class_name.as_ref()),
            )),
            Cell::text(set_or_unset(
                spec.and_then(|s| s.volume_attributes_class_name.as_ref()),
            )),
            Cell::text(status.and_then(|s| s.reason.clone()).unwrap_or_default()),
            age(&v.metadata),
            Cell::text(set_or_unset(spec.and_then(|s| s.volume_mode.as_ref()))),
        ],
    )
}

pub static PERSISTENTVOLUMECLAIMS: Descriptor = Descriptor {
    plural: "persistentvolumeclaims",
    singular: "persistentvolumeclaim",
    kind: "PersistentVolumeClaim",
    group: "",
    version: "v1",
    namespaced: true,
    short_names: &["pvc"],
    tier: ON_DEMAND_TIER,
    name_first: true,
    columns: &[
        col("STATUS"),
        col("VOLUME"),
        col("CAPACITY"),
        col("ACCESS MODES"),
        col("STORAGECLASS"),
        col("VOLUMEATTRIBUTESCLASS"),
        col("AGE"),
        wide("VOLUMEMODE"),
    ],
    row_limit: None,
    cache: &Namespaced::<PersistentVolumeClaim>::new(persistentvolumeclaim),
};

pub static PERSISTENTVOLUMES: Descriptor = Descriptor {
    plural: "persistentvolumes",
    singular: "persistentvolume",
    kind: "PersistentVolume",
    group: "",
    version: "v1",
    namespaced: false,
    short_names: &["pv"],
    tier: ON_DEMAND_TIER,
    name_first: true,
    columns: &[
        col("CAPACITY"),
        col("ACCESS MODES"),
        col("RECLAIM POLICY"),
        col("STATUS"),
        col("CLAIM"),
        col("STORAGECLASS"),
        col("VOLUMEATTRIBUTESCLASS"),
        col("REASON"),
        col("AGE"),
        wide("VOLUMEMODE"),
    ],
    row_limit: None,
    cache: &ClusterScoped::<PersistentVolume>::new(persistentvolume),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_modes_follow_kubectls_order_once_each() {
        let modes = vec![
            "ReadWriteMany".to_string(),
            "ReadWriteOnce".to_string(),
            "ReadWriteMany".to_string(),
        ];
        assert_eq!(access_modes(Some(&modes)), "RWO,RWX");
        assert_eq!(access_modes(None), "");
    }
}
