//! Writes, as the API server takes them: create (POST), replace (PUT, 409
//! Conflict on a stale resourceVersion), merge and strategic-merge PATCH,
//! DELETE with a grace period and background garbage collection, and the
//! scale subresource of deployments, statefulsets and replicasets.
//!
//! A pod deleted with a grace period turns Terminating
//! (`metadata.deletionTimestamp`) and is gone once its containers stop: the
//! sim's kubelet stops them after `min(grace, Server::pod_stop)`, as a
//! process that exits on SIGTERM would. The controllers that make a write
//! visible as it is on a real cluster (a scaled deployment's pods, a
//! restarted rollout's new ReplicaSet, a job's pod) live in `controller`.
//!
//! Strategic-merge patches are applied as JSON merge patches: the sim's
//! clients patch maps and scalars only (annotations, `spec.unschedulable`,
//! `spec.replicas`), where the two agree.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::resources::Resource;
use crate::server::{Server, body_response, failure, json_response, quote};
use crate::store::{Key, StoreError};

/// The part of a write's path after the resource's collection.
#[derive(Debug)]
pub struct Place<'a> {
    pub resource: &'static Resource,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
    pub subresource: Option<&'a str>,
}

/// `pods "web"` / `deployments.apps "web"`, as Status messages name objects.
pub fn qualified(resource: &Resource, name: &str) -> String {
    if resource.group.is_empty() {
        format!("{} {}", resource.plural, quote(name))
    } else {
        format!("{}.{} {}", resource.plural, resource.group, quote(name))
    }
}

/// A Status's `details` for an object: name, group, kind (the plural).
fn details(resource: &Resource, name: &str) -> String {
    format!(
        "{{\"name\":{},\"group\":{},\"kind\":{}}}",
        quote(name),
        quote(resource.group),
        quote(resource.plural)
    )
}

fn not_found(resource: &Resource, name: &str) -> Response {
    let details = details(resource, name);
    failure(
        404,
        "NotFound",
        &format!("{} not found", qualified(resource, name)),
        Some(&details),
        None,
    )
}

fn conflict(resource: &Resource, name: &str) -> Response {
    let details = details(resource, name);
    failure(
        409,
        "Conflict",
        &format!(
            "Operation cannot be fulfilled on {}: the object has been modified; please apply your changes to the latest version and try again",
            qualified(resource, name)
        ),
        Some(&details),
        None,
    )
}

fn bad(message: &str) -> Response {
    failure(400, "BadRequest", message, None, None)
}

/// The object as the server returns it: with kind and apiVersion.
pub fn with_type(resource: &Resource, mut value: Value) -> Value {
    if let Some(map) = value.as_object_mut() {
        map.insert("kind".into(), Value::from(resource.kind));
        map.insert("apiVersion".into(), Value::from(resource.api_version()));
    }
    value
}

fn respond_object(status: StatusCode, resource: &Resource, value: Value) -> Response {
    let mut body = serde_json::to_vec(&with_type(resource, value)).unwrap_or_default();
    body.push(b'\n');
    body_response(status, body, true)
}

fn store_error(resource: &Resource, error: StoreError) -> Response {
    match error {
        StoreError::NotFound(_, (_, name)) => not_found(resource, &name),
        StoreError::Conflict(_, (_, name)) => conflict(resource, &name),
        StoreError::AlreadyExists(_, (_, name)) => {
            let details = details(resource, &name);
            failure(
                409,
                "AlreadyExists",
                &format!("{} already exists", qualified(resource, &name)),
                Some(&details),
                None,
            )
        }
        StoreError::NoName => failure(
            422,
            "Invalid",
            &format!(
                "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                resource.kind
            ),
            None,
            None,
        ),
    }
}

/// Handle a write (any method but GET) to `place`.
pub fn handle(
    server: &Arc<Server>,
    method: &Method,
    place: Place<'_>,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let parsed = if body.is_empty() {
        Ok(Value::Null)
    } else {
        serde_json::from_slice::<Value>(body)
    };
    let Ok(body) = parsed else {
        return bad(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf",
        );
    };
    let namespace = place.namespace.unwrap_or("");
    match (method.as_str(), place.name, place.subresource) {
        ("POST", None, None) => create(server, place.resource, namespace, body),
        ("POST", Some(name), Some("eviction")) if place.resource.plural == "pods" => {
            crate::controller::evict(server, namespace, name)
        }
        ("PUT", Some(name), None) => replace(server, place.resource, namespace, name, body),
        ("PATCH", Some(name), sub @ (None | Some("scale"))) => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !matches!(
                content_type.split(';').next().unwrap_or("").trim(),
                "application/merge-patch+json" | "application/strategic-merge-patch+json"
            ) {
                return failure(
                    415,
                    "UnsupportedMediaType",
                    &format!(
                        "the body of the request was in an unknown format - timoneiro-sim takes merge and strategic merge patches, not {content_type:?}"
                    ),
                    None,
                    None,
                );
            }
            if sub.is_some() {
                scale(server, place.resource, namespace, name, Some(&body))
            } else {
                patch(server, place.resource, namespace, name, &body)
            }
        }
        ("PUT", Some(name), Some("scale")) => {
            scale(server, place.resource, namespace, name, Some(&body))
        }
        ("DELETE", Some(name), None) => {
            let grace = params
                .get("gracePeriodSeconds")
                .and_then(|g| g.parse::<i64>().ok())
                .or_else(|| body["gracePeriodSeconds"].as_i64());
            delete(server, place.resource, namespace, name, grace)
        }
        _ => failure(
            405,
            "MethodNotAllowed",
            &format!("the server does not allow this method on the requested resource ({method})"),
            None,
            None,
        ),
    }
}

/// `GET …/{name}/scale`.
pub fn get_scale(
    server: &Arc<Server>,
    resource: &'static Resource,
    namespace: &str,
    name: &str,
) -> Response {
    scale(server, resource, namespace, name, None)
}

fn now_text() -> String {
    crate::seed::format_ts(jiff::Timestamp::now())
}

fn create(
    server: &Arc<Server>,
    resource: &'static Resource,
    namespace: &str,
    mut value: Value,
) -> Response {
    if !value.is_object() {
        return bad("the body must be an object");
    }
    let meta = &mut value["metadata"];
    if meta["name"].as_str().is_none_or(str::is_empty)
        && let Some(prefix) = meta["generateName"].as_str().map(str::to_string)
    {
        let suffix = server
            .generator
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .name_hash(5);
        meta["name"] = Value::String(format!("{prefix}{suffix}"));
    }
    if resource.namespaced {
        meta["namespace"] = Value::String(namespace.to_string());
    }
    let uid = server
        .generator
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .uid();
    meta["uid"] = Value::String(uid);
    meta["creationTimestamp"] = Value::String(now_text());
    meta["generation"] = json!(1);
    if let Some(map) = meta.as_object_mut() {
        map.remove("resourceVersion");
    }
    let value = crate::controller::admit(server, resource, value);
    match server.store.create(resource, value) {
        Ok(obj) => {
            crate::controller::created(server, resource, &obj.value());
            respond_object(StatusCode::CREATED, resource, obj.value())
        }
        Err(error) => store_error(resource, error),
    }
}

fn key(namespace: &str, name: &str) -> Key {
    (namespace.to_string(), name.to_string())
}

fn expected_version(value: &Value) -> Option<u64> {
    value["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|rv| rv.parse().ok())
}

/// Store `new` (an update of `old`), bumping the generation when the spec
/// changed, then let the controllers react.
pub fn update(
    server: &Arc<Server>,
    resource: &'static Resource,
    old: &Value,
    mut new: Value,
    expected: Option<u64>,
) -> Result<Value, StoreError> {
    for field in ["uid", "creationTimestamp", "namespace", "name"] {
        new["metadata"][field] = old["metadata"][field].clone();
    }
    if new["spec"] != old["spec"] {
        let generation = old["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
        new["metadata"]["generation"] = json!(generation);
    }
    let stored = server.store.update_from(resource, new, expected)?.value();
    crate::controller::updated(server, resource, old, &stored);
    Ok(stored)
}

fn replace(
    server: &Arc<Server>,
    resource: &'static Resource,
    namespace: &str,
    name: &str,
    value: Value,
) -> Response {
    if value["metadata"]["name"]
        .as_str()
        .is_some_and(|n| n != name)
    {
        return bad(&format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            value["metadata"]["name"].as_str().unwrap_or_default()
        ));
    }
    let Some(old) = server.store.get(resource, &key(namespace, name)) else {
        return not_found(resource, name);
    };
    let expected = expected_version(&value);
    match update(server, resource, &old.value(), value, expected) {
        Ok(stored) => respond_object(StatusCode::OK, resource, stored),
        Err(error) => store_error(resource, error),
    }
}

fn patch(
    server: &Arc<Server>,
    resource: &'static Resource,
    namespace: &str,
    name: &str,
    patch: &Value,
) -> Response {
    let Some(old) = server.store.get(resource, &key(namespace, name)) else {
        return not_found(resource, name);
    };
    let old = old.value();
    let mut new = old.clone();
    merge_patch(&mut new, patch);
    // A patch naming a resourceVersion is a precondition.
    let expected = expected_version(patch);
    match update(server, resource, &old, new, expected) {
        Ok(stored) => respond_object(StatusCode::OK, resource, stored),
        Err(error) => store_error(resource, error),
    }
}

/// The Scale of a workload, or the workload scaled to the `change`'s
/// `spec.replicas`.
fn scale(
    server: &Arc<Server>,
    resource: &'static Resource,
    namespace: &str,
    name: &str,
    change: Option<&Value>,
) -> Response {
    if !matches!(
        resource.plural,
        "deployments" | "statefulsets" | "replicasets"
    ) {
        return failure(
            404,
            "NotFound",
            "the server could not find the requested resource",
            None,
            None,
        );
    }
    let Some(obj) = server.store.get(resource, &key(namespace, name)) else {
        return not_found(resource, name);
    };
    let mut value = obj.value();
    if let Some(change) = change {
        let Some(replicas) = change["spec"]["replicas"].as_i64() else {
            return bad("spec.replicas is required");
        };
        if replicas < 0 {
            return failure(
                422,
                "Invalid",
                &format!(
                    "Scale.autoscaling {} is invalid: spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0",
                    quote(name)
                ),
                None,
                None,
            );
        }
        let old = value.clone();
        value["spec"]["replicas"] = json!(replicas);
        match update(server, resource, &old, value, expected_version(change)) {
            Ok(stored) => value = stored,
            Err(error) => return store_error(resource, error),
        }
    }
    let selector = crate::controller::selector_text(&value["spec"]["selector"]);
    json_response(&json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": value["metadata"]["uid"],
            "resourceVersion": value["metadata"]["resourceVersion"],
            "creationTimestamp": value["metadata"]["creationTimestamp"],
        },
        "spec": {"replicas": value["spec"]["replicas"]},
        "status": {"replicas": value["status"]["replicas"].as_i64().unwrap_or(0), "selector": selector},
    }))
}

/// Delete an object; pods with a grace period turn Terminating first.
/// Objects it owns are collected in the background, as
/// `propagationPolicy=Background` (kubectl's default) asks.
pub fn delete(
    server: &Arc<Server>,
    resource: &'static Resource,
    namespace: &str,
    name: &str,
    grace: Option<i64>,
) -> Response {
    let key = key(namespace, name);
    let Some(obj) = server.store.get(resource, &key) else {
        return not_found(resource, name);
    };
    let value = obj.value();
    if resource.plural == "pods" {
        let grace = grace
            .or_else(|| value["spec"]["terminationGracePeriodSeconds"].as_i64())
            .unwrap_or(30)
            .max(0);
        if grace > 0 {
            return match crate::controller::terminate(server, &value, grace) {
                Ok(stored) => {
                    crate::controller::pod_deleted(server, &value);
                    respond_object(StatusCode::OK, resource, stored)
                }
                Err(error) => store_error(resource, error),
            };
        }
    }
    match server.store.delete(resource, &key) {
        Ok(()) => {
            if resource.plural == "pods" {
                crate::controller::pod_gone(server, &value);
                return respond_object(StatusCode::OK, resource, value);
            }
            crate::controller::collect_dependents(server, &value);
            json_response(&json!({
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": {
                    "name": name,
                    "group": resource.group,
                    "kind": resource.plural,
                    "uid": value["metadata"]["uid"],
                },
            }))
        }
        Err(error) => store_error(resource, error),
    }
}

/// Apply a JSON merge patch (RFC 7386): objects merge key by key, `null`
/// removes a key, anything else replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(fields) = target {
        for (key, change) in changes {
            if change.is_null() {
                fields.remove(key);
            } else {
                merge_patch(fields.entry(key.clone()).or_insert(Value::Null), change);
            }
        }
    }
}
