//! Pods decoded straight from protobuf into k8s-openapi's types.
//!
//! The serde bridge (`kpb::decode_object`) reads any kind, but it pays
//! for serde's generality on every field: the field's name handed to a
//! visitor that matches it as a string, an `Option` per field of the
//! struct built and then moved in, a visitor per nested message. Pods are
//! most of what a cluster holds and what the daemon decodes on every
//! sync, so their messages get tables here: protobuf field number →
//! struct field, merged in place. Values of types without a table (rare
//! ones: affinity, security contexts, most volume sources…) still go
//! through the serde bridge, one value at a time.
//!
//! Tables are checked against the schema (each number names the field the
//! table says) and against k8s-openapi (no field of a struct with a table
//! is left out), and decoding every recorded pod gives what the serde
//! bridge gives, whole and pruned (tests below).

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::sync::OnceLock;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use timoneiro_kpb::direct::{
    FieldInfo, Fields, IntOrStr, Raw, ValueType, bytes, error, int_or_string, quantity, read_field,
    read_varint, string, timestamp, varint,
};
use timoneiro_kpb::{Error, Pruning};

/// The fields a decode leaves out, if it is pruned.
type Cx = Option<&'static Pruning>;

/// `K` decoded from a top-level message by its table, if `K` has one
/// (pods); None otherwise, for the caller to use the serde bridge.
pub fn decode_object<K: 'static>(
    message: &[u8],
    api_version: &str,
    kind: &str,
    pruning: Option<&'static Pruning>,
) -> Option<Result<Box<K>, Error>> {
    if TypeId::of::<K>() != TypeId::of::<core::Pod>() {
        return None;
    }
    let pod: Box<dyn Any> = match top_level::<core::Pod>(message, api_version, kind, pruning) {
        Ok(pod) => pod,
        Err(e) => return Some(Err(e)),
    };
    pod.downcast::<K>().ok().map(Ok)
}

/// A top-level object: what its envelope says it is must be `T`, as the
/// JSON form's `apiVersion` and `kind` must (k8s-openapi checks those).
fn top_level<T: Message + k8s_openapi::Resource>(
    message: &[u8],
    api_version: &str,
    kind: &str,
    pruning: Cx,
) -> Result<Box<T>, Error> {
    if api_version != T::API_VERSION || kind != T::KIND {
        return Err(error(format!(
            "a {api_version}/{kind} where a {}/{} was expected",
            T::API_VERSION,
            T::KIND
        )));
    }
    let mut object = Box::<T>::default();
    object.merge_fields(message, pruning)?;
    Ok(object)
}

/// One value of a field, from its wire form.
trait Element: Sized {
    /// Whether a run of these may come packed in one length-delimited field.
    const PACKED: bool = false;
    fn decode(raw: Raw<'_>, ty: ValueType, cx: Cx) -> Result<Self, Error>;

    /// Set `slot` to the value (a message is merged in place).
    #[inline]
    fn decode_over(slot: &mut Self, raw: Raw<'_>, ty: ValueType, cx: Cx) -> Result<(), Error> {
        *slot = Self::decode(raw, ty, cx)?;
        Ok(())
    }

    /// Set `slot` to the value (a message is decoded in place: k8s-openapi's
    /// structs are kilobytes, a `Volume` 3 KiB, not to be built on the
    /// stack and then moved).
    #[inline]
    fn decode_into(
        slot: &mut Option<Self>,
        raw: Raw<'_>,
        ty: ValueType,
        cx: Cx,
    ) -> Result<(), Error> {
        *slot = Some(Self::decode(raw, ty, cx)?);
        Ok(())
    }

    /// Add the value to `list` (a message is decoded in place).
    #[inline]
    fn push_into(list: &mut Vec<Self>, raw: Raw<'_>, ty: ValueType, cx: Cx) -> Result<(), Error> {
        list.push(Self::decode(raw, ty, cx)?);
        Ok(())
    }
}

/// A struct field taking a protobuf field's values as they come: the last
/// value of a singular field wins, lists and maps collect.
trait Merge {
    fn merge_wire(&mut self, raw: Raw<'_>, ty: ValueType, cx: Cx) -> Result<(), Error>;
}

impl<T: Element> Merge for T {
    #[inline]
    fn merge_wire(&mut self, raw: Raw<'_>, ty: ValueType, cx: Cx) -> Result<(), Error> {
        T::decode_over(self, raw, ty, cx)
    }
}

impl<T: Element> Merge for Option<T> {
    #[inline]
    fn merge_wire(&mut self, raw: Raw<'_>, ty: ValueType, cx: Cx) -> Result<(), Error> {
        T::decode_into(self, raw, ty, cx)
    }
}

impl<T: Element> Merge for Vec<T> {
    fn merge_wire(&mut self, raw: Raw<'_>, ty: ValueType, cx: Cx) -> Result<(), Error> {
        match raw {
            Raw::Bytes(packed) if T::PACKED => {
                let mut pos = 0;
                while pos < packed.len() {
                    let value = read_varint(packed, &mut pos)?;
                    self.push(T::decode(Raw::Varint(value), ty, cx)?);
                }
            }
            raw => T::push_into(self, raw, ty, cx)?,
        }
        Ok(())
    }
}

impl<T: Element> Merge for Option<Vec<T>> {
    #[inline]
    fn merge_wire(&mut self, raw: Raw<'_>, ty: ValueType, cx: Cx) -> Result<(), Error> {
        self.get_or_insert_default().merge_wire(raw, ty, cx)
    }
}

/// A map entry is a message `{1: key, 2: value}`; either may be missing.
impl<V: Element> Merge for BTreeMap<String, V> {
    fn merge_wire(&mut self, raw: Raw<'_>, ty: ValueType, cx: Cx) -> Result<(), Error> {
        let entry = bytes(raw)?;
        let (mut key, mut value) = (Raw::Bytes(&[]), None);
        let mut pos = 0;
        while pos < entry.len() {
            match read_field(entry, &mut pos)? {
                (1, raw) => key = raw,
                (2, raw) => value = Some(raw),
                _ => {}
            }
        }
        // A missing value is the zero of its type on the wire.
        let zero = if V::PACKED {
            Raw::Varint(0)
        } else {
            Raw::Bytes(&[])
        };
        let value = V::decode(value.unwrap_or(zero), ty, cx)?;
        self.insert(string(key)?.to_owned(), value);
        Ok(())
    }
}

impl<V: Element> Merge for Option<BTreeMap<String, V>> {
    #[inline]
    fn merge_wire(&mut self, raw: Raw<'_>, ty: ValueType, cx: Cx) -> Result<(), Error> {
        self.get_or_insert_default().merge_wire(raw, ty, cx)
    }
}

impl Element for String {
    #[inline]
    fn decode(raw: Raw<'_>, _: ValueType, _: Cx) -> Result<String, Error> {
        string(raw).map(str::to_owned)
    }
}

impl Element for bool {
    const PACKED: bool = true;
    #[inline]
    fn decode(raw: Raw<'_>, _: ValueType, _: Cx) -> Result<bool, Error> {
        varint(raw).map(|v| v != 0)
    }
}

impl Element for i32 {
    const PACKED: bool = true;
    #[inline]
    fn decode(raw: Raw<'_>, _: ValueType, _: Cx) -> Result<i32, Error> {
        varint(raw).map(|v| v as i32)
    }
}

impl Element for i64 {
    const PACKED: bool = true;
    #[inline]
    fn decode(raw: Raw<'_>, _: ValueType, _: Cx) -> Result<i64, Error> {
        varint(raw).map(|v| v as i64)
    }
}

/// `resource.Quantity {1: string}`.
impl Element for Quantity {
    fn decode(raw: Raw<'_>, _: ValueType, _: Cx) -> Result<Quantity, Error> {
        quantity(bytes(raw)?).map(|text| Quantity(text.to_owned()))
    }
}

impl Element for IntOrString {
    fn decode(raw: Raw<'_>, _: ValueType, _: Cx) -> Result<IntOrString, Error> {
        Ok(match int_or_string(bytes(raw)?)? {
            IntOrStr::Int(int) => IntOrString::Int(int),
            IntOrStr::Str(text) => IntOrString::String(text.to_owned()),
        })
    }
}

/// `{seconds, nanos}` in whole seconds, as the JSON form (RFC 3339
/// without a fraction) has it. (No pod field is a `MicroTime`.)
impl Element for Time {
    fn decode(raw: Raw<'_>, _: ValueType, _: Cx) -> Result<Time, Error> {
        let (seconds, _) = timestamp(bytes(raw)?)?;
        jiff::Timestamp::new(seconds, 0)
            .map(Time)
            .map_err(|e| error(format!("time out of range: {e}")))
    }
}

/// Every field of a message the decode keeps (not left out by the
/// schema, JSON's omissions or the pruning), in wire order.
#[inline]
fn each_field(
    message: &[u8],
    fields: Fields,
    cx: Cx,
    mut merge: impl FnMut(u32, Raw<'_>, FieldInfo) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut pos = 0;
    while pos < message.len() {
        let (tag, raw) = read_field(message, &mut pos)?;
        let Some(field) = fields.get(tag) else {
            continue; // a field newer than the schema
        };
        if field.left_out(raw, cx) {
            continue;
        }
        merge(tag, raw, field)?;
    }
    Ok(())
}

/// A message with a table.
trait Message: Default {
    fn merge_fields(&mut self, message: &[u8], cx: Cx) -> Result<(), Error>;
}

/// A message Go embeds (JSON has its fields in the parent): its field
/// number, its name, and its table into the parent's struct.
#[cfg(test)]
type Inline = (u32, &'static str, &'static [(u32, &'static str)]);

fn schema(name: &str) -> Fields {
    Fields::named(name).unwrap_or_else(|| panic!("{name} is not in the schema (see the tests)"))
}

/// Tables: `Type = "protobuf.Name" { number => field, … }`, then
/// optionally `inline { number = "embedded.Name" { number => field, … } }`,
/// and `;`.
macro_rules! tables {
    ($(
        $ty:ty = $name:literal { $($tag:literal => $field:ident),* $(,)? }
        $(inline { $($itag:literal = $iname:literal { $($t2:literal => $f2:ident),* $(,)? })* })?;
    )*) => {
        $(
            impl Element for $ty {
                fn decode(raw: Raw<'_>, _: ValueType, cx: Cx) -> Result<Self, Error> {
                    let mut value = <$ty>::default();
                    value.merge_fields(bytes(raw)?, cx)?;
                    Ok(value)
                }

                fn decode_over(
                    slot: &mut Self,
                    raw: Raw<'_>,
                    _: ValueType,
                    cx: Cx,
                ) -> Result<(), Error> {
                    slot.merge_fields(bytes(raw)?, cx)
                }

                fn decode_into(
                    slot: &mut Option<Self>,
                    raw: Raw<'_>,
                    _: ValueType,
                    cx: Cx,
                ) -> Result<(), Error> {
                    // Protobuf merges a message that comes twice; Go
                    // writes each once.
                    slot.get_or_insert_default().merge_fields(bytes(raw)?, cx)
                }

                fn push_into(
                    list: &mut Vec<Self>,
                    raw: Raw<'_>,
                    _: ValueType,
                    cx: Cx,
                ) -> Result<(), Error> {
                    // Lists of messages are short, and their elements
                    // big: room for four at once, not 1, 2, then 4 copied.
                    if list.capacity() == 0 {
                        list.reserve(4);
                    }
                    list.resize_with(list.len() + 1, <$ty>::default);
                    match list.last_mut() {
                        Some(value) => value.merge_fields(bytes(raw)?, cx),
                        None => Ok(()),
                    }
                }
            }

            impl Message for $ty {
                fn merge_fields(&mut self, message: &[u8], cx: Cx) -> Result<(), Error> {
                    static FIELDS: OnceLock<Fields> = OnceLock::new();
                    let fields = *FIELDS.get_or_init(|| schema($name));
                    each_field(message, fields, cx, |tag, raw, field| match tag {
                        $($tag => self.$field.merge_wire(raw, field.value_type(), cx),)*
                        $($($itag => {
                            static INNER: OnceLock<Fields> = OnceLock::new();
                            let inner = *INNER.get_or_init(|| schema($iname));
                            each_field(bytes(raw)?, inner, cx, |tag, raw, field| match tag {
                                $($t2 => self.$f2.merge_wire(raw, field.value_type(), cx),)*
                                _ => Ok(()),
                            })
                        })*)?
                        _ => Ok(()),
                    })
                }
            }
        )*

        /// Every table, for the tests: (message, field number → struct
        /// field, embedded messages, k8s-openapi's JSON names of the fields).
        #[cfg(test)]
        const TABLES: &[(&str, &[(u32, &str)], &[Inline], fn() -> &'static [&'static str])] = &[
            $((
                $name,
                &[$(($tag, stringify!($field))),*],
                &[$($(($itag, $iname, &[$(($t2, stringify!($f2))),*])),*)?],
                tests::json_fields::<$ty>,
            )),*
        ];
    };
}

/// Types without a table: each value goes through the serde bridge.
macro_rules! through_serde {
    ($($ty:ty),* $(,)?) => {
        $(
            impl Element for $ty {
                fn decode(raw: Raw<'_>, ty: ValueType, cx: Cx) -> Result<Self, Error> {
                    ty.decode_serde(raw, cx)
                }
            }
        )*
    };
}

tables! {
    core::Pod = "k8s.io.api.core.v1.Pod" { 1 => metadata, 2 => spec, 3 => status };

    ObjectMeta = "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta" {
        1 => name, 2 => generate_name, 3 => namespace, 4 => self_link, 5 => uid,
        6 => resource_version, 7 => generation, 8 => creation_timestamp,
        9 => deletion_timestamp, 10 => deletion_grace_period_seconds, 11 => labels,
        12 => annotations, 13 => owner_references, 14 => finalizers, 17 => managed_fields,
    };

    OwnerReference = "k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference" {
        1 => kind, 3 => name, 4 => uid, 5 => api_version, 6 => controller,
        7 => block_owner_deletion,
    };

    core::PodSpec = "k8s.io.api.core.v1.PodSpec" {
        1 => volumes, 2 => containers, 3 => restart_policy, 4 => termination_grace_period_seconds,
        5 => active_deadline_seconds, 6 => dns_policy, 7 => node_selector,
        8 => service_account_name, 9 => service_account, 10 => node_name, 11 => host_network,
        12 => host_pid, 13 => host_ipc, 14 => security_context, 15 => image_pull_secrets,
        16 => hostname, 17 => subdomain, 18 => affinity, 19 => scheduler_name,
        20 => init_containers, 21 => automount_service_account_token, 22 => tolerations,
        23 => host_aliases, 24 => priority_class_name, 25 => priority, 26 => dns_config,
        27 => share_process_namespace, 28 => readiness_gates, 29 => runtime_class_name,
        30 => enable_service_links, 31 => preemption_policy, 32 => overhead,
        33 => topology_spread_constraints, 34 => ephemeral_containers,
        35 => set_hostname_as_fqdn, 36 => os, 37 => host_users, 38 => scheduling_gates,
        39 => resource_claims, 40 => resources, 41 => hostname_override,
    };

    core::Container = "k8s.io.api.core.v1.Container" {
        1 => name, 2 => image, 3 => command, 4 => args, 5 => working_dir, 6 => ports, 7 => env,
        8 => resources, 9 => volume_mounts, 10 => liveness_probe, 11 => readiness_probe,
        12 => lifecycle, 13 => termination_message_path, 14 => image_pull_policy,
        15 => security_context, 16 => stdin, 17 => stdin_once, 18 => tty, 19 => env_from,
        20 => termination_message_policy, 21 => volume_devices, 22 => startup_probe,
        23 => resize_policy, 24 => restart_policy, 25 => restart_policy_rules,
    };

    core::ContainerPort = "k8s.io.api.core.v1.ContainerPort" {
        1 => name, 2 => host_port, 3 => container_port, 4 => protocol, 5 => host_ip,
    };

    core::EnvVar = "k8s.io.api.core.v1.EnvVar" { 1 => name, 2 => value, 3 => value_from };

    core::EnvVarSource = "k8s.io.api.core.v1.EnvVarSource" {
        1 => field_ref, 2 => resource_field_ref, 3 => config_map_key_ref, 4 => secret_key_ref,
        5 => file_key_ref,
    };

    core::ObjectFieldSelector = "k8s.io.api.core.v1.ObjectFieldSelector" {
        1 => api_version, 2 => field_path,
    };

    core::SecretKeySelector = "k8s.io.api.core.v1.SecretKeySelector" { 2 => key, 3 => optional }
    inline { 1 = "k8s.io.api.core.v1.LocalObjectReference" { 1 => name } };

    core::ConfigMapKeySelector = "k8s.io.api.core.v1.ConfigMapKeySelector" {
        2 => key, 3 => optional,
    }
    inline { 1 = "k8s.io.api.core.v1.LocalObjectReference" { 1 => name } };

    core::EnvFromSource = "k8s.io.api.core.v1.EnvFromSource" {
        1 => prefix, 2 => config_map_ref, 3 => secret_ref,
    };

    core::ConfigMapEnvSource = "k8s.io.api.core.v1.ConfigMapEnvSource" { 2 => optional }
    inline { 1 = "k8s.io.api.core.v1.LocalObjectReference" { 1 => name } };

    core::SecretEnvSource = "k8s.io.api.core.v1.SecretEnvSource" { 2 => optional }
    inline { 1 = "k8s.io.api.core.v1.LocalObjectReference" { 1 => name } };

    core::LocalObjectReference = "k8s.io.api.core.v1.LocalObjectReference" { 1 => name };

    core::VolumeMount = "k8s.io.api.core.v1.VolumeMount" {
        1 => name, 2 => read_only, 3 => mount_path, 4 => sub_path, 5 => mount_propagation,
        6 => sub_path_expr, 7 => recursive_read_only,
    };

    core::ResourceRequirements = "k8s.io.api.core.v1.ResourceRequirements" {
        1 => limits, 2 => requests, 3 => claims,
    };

    core::Probe = "k8s.io.api.core.v1.Probe" {
        2 => initial_delay_seconds, 3 => timeout_seconds, 4 => period_seconds,
        5 => success_threshold, 6 => failure_threshold, 7 => termination_grace_period_seconds,
    }
    inline {
        1 = "k8s.io.api.core.v1.ProbeHandler" { 1 => exec, 2 => http_get, 3 => tcp_socket, 4 => grpc }
    };

    core::ExecAction = "k8s.io.api.core.v1.ExecAction" { 1 => command };

    core::HTTPGetAction = "k8s.io.api.core.v1.HttpGetAction" {
        1 => path, 2 => port, 3 => host, 4 => scheme, 5 => http_headers,
    };

    core::HTTPHeader = "k8s.io.api.core.v1.HttpHeader" { 1 => name, 2 => value };

    core::TCPSocketAction = "k8s.io.api.core.v1.TcpSocketAction" { 1 => port, 2 => host };

    core::Toleration = "k8s.io.api.core.v1.Toleration" {
        1 => key, 2 => operator, 3 => value, 4 => effect, 5 => toleration_seconds,
    };

    core::PodReadinessGate = "k8s.io.api.core.v1.PodReadinessGate" { 1 => condition_type };

    core::Volume = "k8s.io.api.core.v1.Volume" { 1 => name }
    inline {
        2 = "k8s.io.api.core.v1.VolumeSource" {
            1 => host_path, 2 => empty_dir, 3 => gce_persistent_disk, 4 => aws_elastic_block_store,
            5 => git_repo, 6 => secret, 7 => nfs, 8 => iscsi, 9 => glusterfs,
            10 => persistent_volume_claim, 11 => rbd, 12 => flex_volume, 13 => cinder,
            14 => cephfs, 15 => flocker, 16 => downward_api, 17 => fc, 18 => azure_file,
            19 => config_map, 20 => vsphere_volume, 21 => quobyte, 22 => azure_disk,
            23 => photon_persistent_disk, 24 => portworx_volume, 25 => scale_io, 26 => projected,
            27 => storageos, 28 => csi, 29 => ephemeral, 30 => image,
        }
    };

    core::ProjectedVolumeSource = "k8s.io.api.core.v1.ProjectedVolumeSource" {
        1 => sources, 2 => default_mode,
    };

    core::VolumeProjection = "k8s.io.api.core.v1.VolumeProjection" {
        1 => secret, 2 => downward_api, 3 => config_map, 4 => service_account_token,
        5 => cluster_trust_bundle, 6 => pod_certificate,
    };

    core::ServiceAccountTokenProjection = "k8s.io.api.core.v1.ServiceAccountTokenProjection" {
        1 => audience, 2 => expiration_seconds, 3 => path,
    };

    core::ConfigMapProjection = "k8s.io.api.core.v1.ConfigMapProjection" {
        2 => items, 4 => optional,
    }
    inline { 1 = "k8s.io.api.core.v1.LocalObjectReference" { 1 => name } };

    core::SecretProjection = "k8s.io.api.core.v1.SecretProjection" { 2 => items, 4 => optional }
    inline { 1 = "k8s.io.api.core.v1.LocalObjectReference" { 1 => name } };

    core::DownwardAPIProjection = "k8s.io.api.core.v1.DownwardAPIProjection" { 1 => items };

    core::DownwardAPIVolumeFile = "k8s.io.api.core.v1.DownwardAPIVolumeFile" {
        1 => path, 2 => field_ref, 3 => resource_field_ref, 4 => mode,
    };

    core::KeyToPath = "k8s.io.api.core.v1.KeyToPath" { 1 => key, 2 => path, 3 => mode };

    core::ConfigMapVolumeSource = "k8s.io.api.core.v1.ConfigMapVolumeSource" {
        2 => items, 3 => default_mode, 4 => optional,
    }
    inline { 1 = "k8s.io.api.core.v1.LocalObjectReference" { 1 => name } };

    core::SecretVolumeSource = "k8s.io.api.core.v1.SecretVolumeSource" {
        1 => secret_name, 2 => items, 3 => default_mode, 4 => optional,
    };

    core::EmptyDirVolumeSource = "k8s.io.api.core.v1.EmptyDirVolumeSource" {
        1 => medium, 2 => size_limit,
    };

    core::HostPathVolumeSource = "k8s.io.api.core.v1.HostPathVolumeSource" { 1 => path, 2 => type_ };

    core::PersistentVolumeClaimVolumeSource =
        "k8s.io.api.core.v1.PersistentVolumeClaimVolumeSource" { 1 => claim_name, 2 => read_only };

    core::PodStatus = "k8s.io.api.core.v1.PodStatus" {
        1 => phase, 2 => conditions, 3 => message, 4 => reason, 5 => host_ip, 6 => pod_ip,
        7 => start_time, 8 => container_statuses, 9 => qos_class, 10 => init_container_statuses,
        11 => nominated_node_name, 12 => pod_ips, 13 => ephemeral_container_statuses,
        14 => resize, 15 => resource_claim_statuses, 16 => host_ips, 17 => observed_generation,
        18 => extended_resource_claim_status, 19 => allocated_resources, 20 => resources,
    };

    core::PodCondition = "k8s.io.api.core.v1.PodCondition" {
        1 => type_, 2 => status, 3 => last_probe_time, 4 => last_transition_time, 5 => reason,
        6 => message, 7 => observed_generation,
    };

    core::PodIP = "k8s.io.api.core.v1.PodIp" { 1 => ip };

    core::HostIP = "k8s.io.api.core.v1.HostIp" { 1 => ip };

    core::ContainerStatus = "k8s.io.api.core.v1.ContainerStatus" {
        1 => name, 2 => state, 3 => last_state, 4 => ready, 5 => restart_count, 6 => image,
        7 => image_id, 8 => container_id, 9 => started, 10 => allocated_resources,
        11 => resources, 12 => volume_mounts, 13 => user, 14 => allocated_resources_status,
        15 => stop_signal,
    };

    core::ContainerState = "k8s.io.api.core.v1.ContainerState" {
        1 => waiting, 2 => running, 3 => terminated,
    };

    core::ContainerStateWaiting = "k8s.io.api.core.v1.ContainerStateWaiting" {
        1 => reason, 2 => message,
    };

    core::ContainerStateRunning = "k8s.io.api.core.v1.ContainerStateRunning" { 1 => started_at };

    core::ContainerStateTerminated = "k8s.io.api.core.v1.ContainerStateTerminated" {
        1 => exit_code, 2 => signal, 3 => reason, 4 => message, 5 => started_at,
        6 => finished_at, 7 => container_id,
    };

    core::VolumeMountStatus = "k8s.io.api.core.v1.VolumeMountStatus" {
        1 => name, 2 => mount_path, 3 => read_only, 4 => recursive_read_only,
    };
}

through_serde! {
    k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry,
    core::Affinity, core::PodDNSConfig, core::EphemeralContainer, core::HostAlias, core::PodOS,
    core::PodResourceClaim, core::PodSchedulingGate, core::PodSecurityContext,
    core::TopologySpreadConstraint, core::Lifecycle, core::SecurityContext, core::VolumeDevice,
    core::ContainerResizePolicy, core::ContainerRestartRule, core::ResourceFieldSelector,
    core::FileKeySelector, core::PodResourceClaimStatus, core::PodExtendedResourceClaimStatus,
    core::ContainerUser, core::ResourceStatus, core::ResourceClaim, core::GRPCAction,
    core::GCEPersistentDiskVolumeSource, core::AWSElasticBlockStoreVolumeSource,
    core::GitRepoVolumeSource, core::NFSVolumeSource, core::ISCSIVolumeSource,
    core::GlusterfsVolumeSource, core::RBDVolumeSource, core::FlexVolumeSource,
    core::CinderVolumeSource, core::CephFSVolumeSource, core::FlockerVolumeSource,
    core::DownwardAPIVolumeSource, core::FCVolumeSource, core::AzureFileVolumeSource,
    core::VsphereVirtualDiskVolumeSource, core::QuobyteVolumeSource, core::AzureDiskVolumeSource,
    core::PhotonPersistentDiskVolumeSource, core::PortworxVolumeSource,
    core::ScaleIOVolumeSource, core::StorageOSVolumeSource, core::CSIVolumeSource,
    core::EphemeralVolumeSource, core::ImageVolumeSource, core::ClusterTrustBundleProjection,
    core::PodCertificateProjection,
}

#[cfg(test)]
mod tests {
    use super::*;
    use timoneiro_kpb as kpb;

    /// k8s-openapi's JSON field names of `T`: what its `Deserialize` hands
    /// `deserialize_struct`.
    pub(super) fn json_fields<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
        use serde::de::{self, Visitor};
        struct Capture<'a>(&'a mut &'static [&'static str]);
        impl<'de> de::Deserializer<'de> for Capture<'_> {
            type Error = de::value::Error;
            fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
                Err(de::Error::custom("not a struct"))
            }
            fn deserialize_struct<V: Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, Self::Error> {
                *self.0 = fields;
                Err(de::Error::custom("captured"))
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
                bytes byte_buf option unit unit_struct newtype_struct seq tuple
                tuple_struct map enum identifier ignored_any
            }
        }
        let mut fields: &'static [&'static str] = &[];
        let _ = T::deserialize(Capture(&mut fields));
        fields
    }

    /// `podIPs`, `pod_ips`, `type_` → `podips`, `type`.
    fn normalize(name: &str) -> String {
        name.chars()
            .filter(|c| *c != '_')
            .map(|c| c.to_ascii_lowercase())
            .collect()
    }

    /// The schema's fields of `message` by number: (normalized name, the
    /// message the field holds).
    fn schema_fields(message: &str) -> BTreeMap<u32, (String, Option<&'static str>)> {
        Fields::named(message)
            .unwrap_or_else(|| panic!("{message} is not in the schema"))
            .list()
            .map(|(tag, name, holds)| (tag, (normalize(name), holds)))
            .collect()
    }

    #[test]
    fn every_table_names_fields_by_their_schema_numbers() {
        let check = |message: &str, table: &[(u32, &str)]| {
            let fields = schema_fields(message);
            for (tag, field) in table {
                let (name, _) = fields
                    .get(tag)
                    .unwrap_or_else(|| panic!("{message} has no field {tag} ({field})"));
                assert_eq!(name, &normalize(field), "{message} field {tag}");
            }
        };
        for (message, table, inline, _) in TABLES {
            check(message, table);
            for (tag, embedded, table) in *inline {
                let fields = schema_fields(message);
                assert_eq!(fields[tag].1, Some(*embedded), "{message} field {tag}");
                check(embedded, table);
            }
        }
    }

    #[test]
    fn no_table_leaves_out_a_field_k8s_openapi_and_the_schema_both_have() {
        for (message, table, inline, json_fields) in TABLES {
            let mut on_wire: Vec<String> = schema_fields(message)
                .into_iter()
                .filter(|(tag, _)| !inline.iter().any(|(t, _, _)| t == tag))
                .map(|(_, (name, _))| name)
                .collect();
            for (_, embedded, _) in *inline {
                on_wire.extend(schema_fields(embedded).into_values().map(|(name, _)| name));
            }
            let tabled: Vec<String> = table
                .iter()
                .chain(inline.iter().flat_map(|(_, _, table)| table.iter()))
                .map(|(_, field)| normalize(field))
                .collect();
            let json = json_fields();
            assert!(!json.is_empty(), "{message}: k8s-openapi's fields");
            for name in json.iter().map(|name| normalize(name)) {
                assert!(
                    !on_wire.contains(&name) || tabled.contains(&name),
                    "{message}: {name} is on the wire and in k8s-openapi but not in the table"
                );
            }
        }
    }

    fn pod_type() -> kpb::MessageType {
        kpb::MessageType::named("k8s.io.api.core.v1.Pod").expect("Pod")
    }

    /// The direct decode of a pod message equals the serde bridge's,
    /// whole and pruned as the informer prunes.
    fn assert_decodes_like_the_bridge(message: &[u8], what: &str) {
        let bridge: core::Pod =
            kpb::decode_object(pod_type(), message, "v1", "Pod").expect("bridge decodes");
        let direct = top_level::<core::Pod>(message, "v1", "Pod", None).expect("direct decodes");
        assert_eq!(*direct, bridge, "{what}: whole");
        let pruning = crate::wire::pruning::<core::Pod>();
        let bridge: core::Pod =
            kpb::decode_object_pruned(pod_type(), message, "v1", "Pod", pruning)
                .expect("bridge decodes pruned");
        let direct = top_level::<core::Pod>(message, "v1", "Pod", Some(pruning))
            .expect("direct decodes pruned");
        assert_eq!(*direct, bridge, "{what}: pruned");
    }

    fn fixture(path: &str) -> Vec<u8> {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/kube-apiserver-v1.36/"
        );
        std::fs::read(format!("{dir}{path}")).expect("fixture")
    }

    #[test]
    fn recorded_pods_decode_like_the_serde_bridge() {
        let list = fixture("list/pods.pb");
        let envelope = kpb::Envelope::parse(&list).expect("envelope");
        let items = kpb::List::parse(envelope.raw).expect("list").items;
        assert!(items.len() >= 50, "the recorded list");
        for (n, item) in items.iter().enumerate() {
            assert_decodes_like_the_bridge(item, &format!("list item {n}"));
        }
        let mut frames = kpb::FrameReader::default();
        frames.push(&fixture("watch/pods.pb.stream"));
        let mut events = 0;
        while let Some(frame) = frames.next_frame().expect("frame") {
            let event = kpb::WatchEvent::parse(&frame).expect("event");
            let object = kpb::Envelope::parse(event.object).expect("envelope");
            if object.kind == "Pod" {
                assert_decodes_like_the_bridge(object.raw, &format!("watch event {events}"));
                events += 1;
            }
        }
        assert!(events > 0, "the recorded watch has pods");
    }

    /// Protobuf merges an embedded message sent twice. Recorded pods with
    /// their metadata and spec each cut in two occurrences (the second at
    /// the end of the pod) decode, direct and bridge, whole and pruned, to
    /// what the pods as recorded decode to.
    #[test]
    fn a_message_sent_in_two_parts_decodes_merged() {
        let list = fixture("list/pods.pb");
        let envelope = kpb::Envelope::parse(&list).expect("envelope");
        for (n, item) in kpb::List::parse(envelope.raw)
            .expect("list")
            .items
            .iter()
            .enumerate()
        {
            let mut head = Vec::new();
            let mut tail = Vec::new();
            for field in kpb::wire_fields(item).expect("pod fields") {
                match (field.number, field.payload) {
                    (1 | 2, Some(message)) => {
                        let inner = kpb::wire_fields(message).expect("fields");
                        let half = inner.len() / 2;
                        let part = |fields: &[kpb::WireField<'_>]| {
                            let bytes: Vec<u8> =
                                fields.iter().flat_map(|f| f.wire).copied().collect();
                            kpb::length_delimited(field.number, &bytes)
                        };
                        head.extend(part(&inner[..half]));
                        tail.extend(part(&inner[half..]));
                    }
                    _ => head.extend_from_slice(field.wire),
                }
            }
            head.extend(tail);
            let expected: core::Pod =
                kpb::decode_object(pod_type(), item, "v1", "Pod").expect("decodes");
            let direct = top_level::<core::Pod>(&head, "v1", "Pod", None).expect("direct");
            assert_eq!(*direct, expected, "pod {n}: direct");
            let bridge: core::Pod =
                kpb::decode_object(pod_type(), &head, "v1", "Pod").expect("bridge");
            assert_eq!(bridge, expected, "pod {n}: bridge");
            assert_decodes_like_the_bridge(&head, &format!("pod {n}, split"));
        }
    }

    #[test]
    fn pods_with_every_field_set_decode_like_the_serde_bridge() {
        for seed in 0..40 {
            let message =
                kpb::direct::arbitrary("k8s.io.api.core.v1.Pod", seed, 7).expect("a pod message");
            assert_decodes_like_the_bridge(&message, &format!("seed {seed}"));
        }
    }

    #[test]
    fn a_pod_in_an_envelope_of_another_kind_is_an_error() {
        let message = kpb::direct::arbitrary("k8s.io.api.core.v1.Pod", 1, 3).expect("message");
        assert!(decode_object::<core::Pod>(&message, "v1", "Pod", None).is_some_and(|d| d.is_ok()));
        let wrong = decode_object::<core::Pod>(&message, "apps/v1", "Pod", None);
        assert!(wrong.is_some_and(|d| d.is_err()));
        assert!(decode_object::<core::ConfigMap>(&message, "v1", "ConfigMap", None).is_none());
    }
}
