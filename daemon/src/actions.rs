//! Object actions: delete, scale, rollout restart, cordon and uncordon, and
//! a job from a cronjob. Each is one request to the API server with the
//! context's own client, the same request kubectl makes, and answers with
//! the line kubectl prints. Nothing is written to the caches: the change
//! comes back through their watches like any other.
//!
//! Every action is written to the daemon's log (target `timoneirod::audit`)
//! with its context, verb, kind, namespace, name and result, and refused
//! before anything is sent when the context is read-only.

use std::collections::HashSet;

use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tonic::Status;

use crate::catalog::KindSpec;
use crate::cluster::Cluster;

/// Which contexts refuse actions.
#[derive(Debug, Clone, Default)]
pub struct ReadOnly {
    /// Every context (`timoneirod --readonly`).
    pub all: bool,
    /// These contexts (`readonly = true` in the config file).
    pub contexts: HashSet<String>,
}

impl ReadOnly {
    /// Whether `context` refuses actions.
    pub fn covers(&self, context: &str) -> bool {
        self.all || self.contexts.contains(context)
    }

    /// Refuse `verb` on `context` when it is read-only.
    pub fn check(&self, context: &str, verb: &str) -> Result<(), Status> {
        if self.covers(context) {
            let why = if self.all {
                "the daemon runs with --readonly"
            } else {
                "the config file sets readonly = true for it"
            };
            return Err(Status::permission_denied(format!(
                "context {context:?} is read-only ({why}): {verb} refused"
            )));
        }
        Ok(())
    }
}

/// One action, as the audit log records it.
#[derive(Debug)]
pub struct Audit<'a> {
    pub context: &'a str,
    pub verb: &'a str,
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

impl Audit<'_> {
    /// Write the action and its result to the daemon's log.
    pub fn record<T>(&self, result: &Result<T, Status>) {
        match result {
            Ok(_) => tracing::info!(
                target: "timoneirod::audit",
                context = self.context, verb = self.verb, kind = self.kind,
                namespace = self.namespace, name = self.name, result = "ok",
                "action"
            ),
            Err(status) => tracing::warn!(
                target: "timoneirod::audit",
                context = self.context, verb = self.verb, kind = self.kind,
                namespace = self.namespace, name = self.name,
                result = %status.message(),
                "action failed"
            ),
        }
    }
}

fn api(cluster: &Cluster, spec: &KindSpec, namespace: &str) -> Api<DynamicObject> {
    let resource = spec.api_resource();
    if spec.namespaced {
        Api::namespaced_with(cluster.client().clone(), namespace, &resource)
    } else {
        Api::all_with(cluster.client().clone(), &resource)
    }
}

/// kubectl's name of a kind in its messages: `pod`, `deployment.apps`.
pub fn kind_string(spec: &KindSpec) -> String {
    let kind = spec.kind.to_lowercase();
    if spec.group.is_empty() {
        kind
    } else {
        format!("{kind}.{}", spec.group)
    }
}

/// An API server error as a gRPC status, with the server's message.
pub fn api_error(error: kube::Error) -> Status {
    match error {
        kube::Error::Api(status) => {
            // kubectl's words for a server's refusal.
            let message = format!("Error from server ({}): {}", status.reason, status.message);
            match status.code {
                404 => Status::not_found(message),
                409 => Status::aborted(message),
                403 | 401 => Status::permission_denied(message),
                400 | 422 => Status::invalid_argument(message),
                429 => Status::resource_exhausted(message),
                _ => Status::unavailable(message),
            }
        }
        other => Status::unavailable(other.to_string()),
    }
}

/// The grace period kubectl sends for `--grace-period` and `--force`:
/// `--force` alone means 0; 0 without `--force` means 1 (kubectl's
/// "immediate" deletion still waits a second for the kubelet).
pub fn effective_grace(grace: i64, force: bool) -> Option<i64> {
    match (grace, force) {
        (g, true) if g < 0 => Some(0),
        (0, false) => Some(1),
        (g, _) if g < 0 => None,
        (g, _) => Some(g),
    }
}

/// `kubectl delete KIND NAME`: one result line, as kubectl prints it.
pub async fn delete(
    cluster: &Cluster,
    spec: &KindSpec,
    namespace: &str,
    name: &str,
    grace: Option<i64>,
) -> Result<String, Status> {
    let params = DeleteParams {
        grace_period_seconds: grace.map(|g| g as u32),
        propagation_policy: Some(kube::api::PropagationPolicy::Background),
        ..DeleteParams::default()
    };
    api(cluster, spec, namespace)
        .delete(name, &params)
        .await
        .map_err(api_error)?;
    let operation = if grace == Some(0) {
        "force deleted"
    } else {
        "deleted"
    };
    let place = if spec.namespaced {
        format!(" from {namespace} namespace")
    } else {
        String::new()
    };
    Ok(format!(
        "{} \"{name}\" {operation}{place}",
        kind_string(spec)
    ))
}

/// Refuse a kind outside the apps `kinds` an action (`verb`, `done` its
/// past participle) applies to.
fn apps_kind(spec: &KindSpec, verb: &str, done: &str, kinds: &[&str]) -> Result<(), Status> {
    if spec.group == "apps" && kinds.contains(&spec.plural.as_str()) {
        Ok(())
    } else {
        Err(Status::invalid_argument(format!(
            "{verb}: {} cannot be {done}; only {} can",
            spec.plural,
            kinds.join(", ")
        )))
    }
}

/// `kubectl scale KIND/NAME --replicas N`, through the scale subresource.
pub async fn scale(
    cluster: &Cluster,
    spec: &KindSpec,
    namespace: &str,
    name: &str,
    replicas: u32,
) -> Result<String, Status> {
    apps_kind(
        spec,
        "scale",
        "scaled",
        &["deployments", "statefulsets", "replicasets"],
    )?;
    let patch = json!({"spec": {"replicas": replicas}});
    api(cluster, spec, namespace)
        .patch_scale(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(api_error)?;
    Ok(format!("{}/{name} scaled", kind_string(spec)))
}

/// `kubectl rollout restart KIND/NAME`: the pod template gets
/// `kubectl.kubernetes.io/restartedAt`, and its controller rolls out anew.
pub async fn restart(
    cluster: &Cluster,
    spec: &KindSpec,
    namespace: &str,
    name: &str,
) -> Result<String, Status> {
    apps_kind(
        spec,
        "rollout restart",
        "restarted",
        &["deployments", "statefulsets", "daemonsets"],
    )?;
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let patch = json!({"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": now
    }}}}});
    api(cluster, spec, namespace)
        .patch(name, &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .map_err(api_error)?;
    Ok(format!("{}/{name} restarted", kind_string(spec)))
}

/// `kubectl cordon|uncordon NODE`.
pub async fn cordon(
    cluster: &Cluster,
    spec: &KindSpec,
    node: &str,
    unschedulable: bool,
) -> Result<String, Status> {
    let api = api(cluster, spec, "");
    let current = api.get(node).await.map_err(api_error)?;
    let now = current.data["spec"]["unschedulable"] == Value::Bool(true);
    let word = if unschedulable {
        "cordoned"
    } else {
        "uncordoned"
    };
    if now == unschedulable {
        return Ok(format!("node/{node} already {word}"));
    }
    // kubectl removes the field to uncordon (a strategic merge patch).
    let value = if unschedulable {
        json!(true)
    } else {
        Value::Null
    };
    let patch = json!({"spec": {"unschedulable": value}});
    api.patch(node, &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .map_err(api_error)?;
    Ok(format!("node/{node} {word}"))
}

/// The Job `kubectl create job NAME --from=cronjob/CRONJOB` creates from a
/// cronjob: its job template, the `cronjob.kubernetes.io/instantiate:
/// manual` annotation and an owner reference to the cronjob.
pub fn job_from_cronjob(cronjob: &Value, job_name: &str) -> Value {
    let template = &cronjob["spec"]["jobTemplate"];
    let mut annotations = template["metadata"]["annotations"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    annotations.insert(
        "cronjob.kubernetes.io/instantiate".into(),
        Value::from("manual"),
    );
    let mut metadata = json!({
        "name": job_name,
        "annotations": annotations,
        "ownerReferences": [{
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "name": cronjob["metadata"]["name"],
            "uid": cronjob["metadata"]["uid"],
            "controller": true,
        }],
    });
    if let Some(labels) = template["metadata"]["labels"].as_object() {
        metadata["labels"] = Value::Object(labels.clone());
    }
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": template["spec"],
    })
}

/// `kubectl create job NAME --from=cronjob/CRONJOB`.
pub async fn trigger(
    cluster: &Cluster,
    cronjobs: &KindSpec,
    jobs: &KindSpec,
    namespace: &str,
    cronjob: &str,
    job_name: &str,
) -> Result<String, Status> {
    let source = api(cluster, cronjobs, namespace)
        .get(cronjob)
        .await
        .map_err(api_error)?;
    let source = serde_json::to_value(&source).map_err(|e| Status::internal(e.to_string()))?;
    let job: DynamicObject = serde_json::from_value(job_from_cronjob(&source, job_name))
        .map_err(|e| Status::internal(format!("cannot make the job: {e}")))?;
    api(cluster, jobs, namespace)
        .create(&PostParams::default(), &job)
        .await
        .map_err(api_error)?;
    Ok(format!("job.batch/{job_name} created"))
}

/// Secrets are never read or written whole by the daemon.
pub fn refuse_secrets(spec: &KindSpec, verb: &str) -> Result<(), Status> {
    if spec.group.is_empty() && spec.plural == "secrets" {
        return Err(Status::failed_precondition(format!(
            "secrets cannot be {verb} through timoneiro: their values never pass through the daemon; use kubectl edit secret"
        )));
    }
    Ok(())
}

/// An object as the API server has it now (what an edit starts from),
/// managedFields left out as `kubectl edit` leaves them out.
pub async fn fetch(
    cluster: &Cluster,
    spec: &KindSpec,
    namespace: &str,
    name: &str,
) -> Result<Value, Status> {
    refuse_secrets(spec, "edited")?;
    let object = api(cluster, spec, namespace)
        .get(name)
        .await
        .map_err(api_error)?;
    let mut value = serde_json::to_value(&object).map_err(|e| Status::internal(e.to_string()))?;
    if let Some(metadata) = value["metadata"].as_object_mut() {
        metadata.remove("managedFields");
    }
    Ok(value)
}

/// `kubectl edit`'s PUT of the edited object; its resourceVersion is the
/// precondition (409 Conflict when the object changed meanwhile).
pub async fn replace(
    cluster: &Cluster,
    spec: &KindSpec,
    namespace: &str,
    name: &str,
    json: &str,
) -> Result<String, Status> {
    refuse_secrets(spec, "edited")?;
    let object: DynamicObject = serde_json::from_str(json)
        .map_err(|e| Status::invalid_argument(format!("the edited object is not valid: {e}")))?;
    if object.metadata.name.as_deref().is_some_and(|n| n != name) {
        return Err(Status::invalid_argument(format!(
            "the edited object is named {:?}; the name cannot be changed",
            object.metadata.name.as_deref().unwrap_or_default()
        )));
    }
    api(cluster, spec, namespace)
        .replace(name, &PostParams::default(), &object)
        .await
        .map_err(api_error)?;
    Ok(format!("{}/{name} edited", kind_string(spec)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_periods_follow_kubectl() {
        // kubectl delete: --force alone is 0, 0 alone becomes 1, the
        // default (-1) sends none.
        assert_eq!(effective_grace(-1, false), None);
        assert_eq!(effective_grace(-1, true), Some(0));
        assert_eq!(effective_grace(0, false), Some(1));
        assert_eq!(effective_grace(0, true), Some(0));
        assert_eq!(effective_grace(30, false), Some(30));
    }

    #[test]
    fn a_triggered_job_carries_the_template_and_points_to_its_cronjob() {
        let text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/kube-apiserver-v1.36/list/cronjobs.json"
        ));
        let list: Value = serde_json::from_str(text).expect("JSON");
        let cronjob = &list["items"][0];
        let job = job_from_cronjob(cronjob, "manual-1");
        assert_eq!(job["spec"], cronjob["spec"]["jobTemplate"]["spec"]);
        assert_eq!(
            job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"],
            "manual"
        );
        assert_eq!(
            job["metadata"]["ownerReferences"][0]["uid"],
            cronjob["metadata"]["uid"]
        );
        assert_eq!(job["metadata"]["ownerReferences"][0]["kind"], "CronJob");
    }
}
