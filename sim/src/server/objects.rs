//! Reading and writing objects: who may (per-resource and per-namespace
//! Forbidden), in which form (JSON, protobuf, metadata-only, the server's
//! Table), one object or a list or a watch, and the subresources (exec,
//! portforward, log, scale).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::encoding::{
    Form, accepts_json, full_object, metadata_only, prefers_protobuf, protobuf_object,
    protobuf_response,
};
use super::extract::Params;
use super::paths::{Target, parse_path};
use super::status::{body_response, failure, not_encodable, not_found, quote};
use super::{SIM_USER, Server};

/// No acceptable form: the message of the 406.
#[derive(Debug)]
struct NotAcceptable(String);

/// The resource a path names, served now; else the API server's 404.
pub(super) struct Addressed(Target);

impl FromRequestParts<Arc<Server>> for Addressed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        server: &Arc<Server>,
    ) -> Result<Self, Self::Rejection> {
        parse_path(parts.uri.path())
            .filter(|t| server.installed(t.resource))
            .map(Addressed)
            .ok_or_else(not_found)
    }
}

impl Server {
    /// 403 when RBAC (as the sim plays it) forbids reading the target.
    fn read_forbidden(&self, target: &Target, watch: bool) -> Option<Response> {
        let plural = target.resource.plural;
        let named = |list: &[String]| list.iter().any(|f| f == plural);
        let namespace_denied = named(&self.namespace_only)
            && target
                .namespace
                .as_ref()
                .is_none_or(|ns| !self.allowed_namespaces.contains(ns));
        if !(namespace_denied || named(&self.forbidden) || (watch && named(&self.watch_forbidden)))
        {
            return None;
        }
        let scope = match &target.namespace {
            Some(ns) => format!("in the namespace {}", quote(ns)),
            None => "at the cluster scope".to_string(),
        };
        let verb = if watch { "watch" } else { "list" };
        let message = format!(
            "{plural} is forbidden: User {} cannot {verb} resource {} in API group {} {scope}",
            quote(SIM_USER),
            quote(plural),
            quote(target.resource.group)
        );
        let details = format!("{{\"kind\":{}}}", quote(plural));
        Some(failure(403, "Forbidden", &message, Some(&details), None))
    }

    /// The form of the answer the request's Accept asks for, or why the
    /// real server would answer 406.
    fn negotiate(&self, target: &Target, headers: &HeaderMap) -> Result<Form, NotAcceptable> {
        let plural = target.resource.plural;
        let table = crate::table::wanted(headers);
        let protobuf = prefers_protobuf(headers);
        if table && !crate::table::SERVED.contains(&plural) {
            return Err(NotAcceptable(format!(
                "timoneiro-sim prints Tables of {} only",
                crate::table::SERVED.join(", ")
            )));
        }
        if table && protobuf && !accepts_json(headers) {
            // The real server has no protobuf Table.
            return Err(NotAcceptable(
                "only the following media types are accepted: application/json, application/yaml"
                    .into(),
            ));
        }
        let no_protobuf = target.resource.crd || self.no_protobuf.iter().any(|r| r == plural);
        if protobuf && !accepts_json(headers) && no_protobuf {
            // Custom resources have no protobuf (errors/widgets-protobuf-only.pb).
            return Err(NotAcceptable(
                "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf".into(),
            ));
        }
        Ok(Form {
            metadata: metadata_only(headers),
            table,
            protobuf: protobuf && !no_protobuf,
        })
    }

    /// One object, or the API server's 404 naming it.
    fn get_one(&self, target: &Target, name: &str, form: Form) -> Response {
        let resource = target.resource;
        let key = (
            target.namespace.clone().unwrap_or_default(),
            name.to_string(),
        );
        let Some(obj) = self.store.get(resource, &key) else {
            let details = format!(
                "{{\"name\":{},\"kind\":{}}}",
                quote(name),
                quote(resource.plural)
            );
            return failure(
                404,
                "NotFound",
                &format!("{} {} not found", resource.plural, quote(name)),
                Some(&details),
                None,
            );
        };
        if form.protobuf {
            return match protobuf_object(resource, &obj, form.metadata) {
                Ok(envelope) => protobuf_response(envelope),
                Err(error) => not_encodable(&format!("{} {}", resource.plural, name), &error),
            };
        }
        let mut body = full_object(resource, &obj, form.metadata);
        body.push(b'\n');
        body_response(StatusCode::OK, body, true)
    }

    /// A subresource of one object.
    fn subresource(
        self: &Arc<Self>,
        request: Request,
        target: &Target,
        name: &str,
        sub: &str,
        params: &HashMap<String, String>,
    ) -> Response {
        let namespace = target.namespace.as_deref().unwrap_or("");
        match (target.resource.plural, sub) {
            ("pods", "exec") => {
                let protocols: &[&'static str] = if self.exec_v4_only {
                    &[crate::wsstream::V4]
                } else {
                    &[crate::wsstream::V5, crate::wsstream::V4]
                };
                crate::streaming::exec(&self.store, request, namespace, name, protocols)
            }
            ("pods", "portforward") => {
                crate::streaming::portforward(&self.store, request, namespace, name)
            }
            ("pods", "log") => {
                crate::logs::serve(&self.store, &self.log_rate, namespace, name, params)
            }
            (_, "scale") => crate::write::get_scale(self, target.resource, namespace, name),
            _ => not_found(),
        }
    }
}

/// GET of anything under `/api/VERSION/` or `/apis/GROUP/VERSION/`.
pub(super) async fn read(
    State(server): State<Arc<Server>>,
    Addressed(target): Addressed,
    Params(params): Params,
    request: Request,
) -> Response {
    let watch = params.get("watch").is_some_and(|w| w == "true" || w == "1");
    if let Some(forbidden) = server.read_forbidden(&target, watch) {
        return forbidden;
    }
    for unsupported in ["labelSelector", "fieldSelector"] {
        if params.get(unsupported).is_some_and(|v| !v.is_empty()) {
            return failure(
                400,
                "BadRequest",
                &format!("timoneiro-sim does not implement {unsupported}"),
                None,
                None,
            );
        }
    }
    if let (Some(name), Some(sub)) = (&target.name, &target.subresource) {
        return server.subresource(request, &target, name, sub, &params);
    }
    let form = match server.negotiate(&target, request.headers()) {
        Ok(form) => form,
        Err(NotAcceptable(message)) => {
            return failure(406, "NotAcceptable", &message, None, None);
        }
    };
    if let Some(name) = &target.name {
        return server.get_one(&target, name, form);
    }
    // Tables travel as JSON only.
    let form = Form {
        protobuf: form.protobuf && !form.table,
        ..form
    };
    if watch {
        server.watch(target, &params, form)
    } else {
        server.list(target, &params, form)
    }
}

/// A write: create, replace, patch, delete, scale (`crate::write`).
pub(super) async fn write(
    State(server): State<Arc<Server>>,
    Addressed(target): Addressed,
    Params(params): Params,
    request: Request,
) -> Response {
    if server.forbidden.iter().any(|f| f == target.resource.plural) {
        let message = format!(
            "{} is forbidden: User {} cannot {} resource {} in API group {}",
            target.resource.plural,
            quote(SIM_USER),
            request.method().as_str().to_lowercase(),
            quote(target.resource.plural),
            quote(target.resource.group)
        );
        return failure(403, "Forbidden", &message, None, None);
    }
    let method = request.method().clone();
    let headers = request.headers().clone();
    let body = match axum::body::to_bytes(request.into_body(), 3 * 1024 * 1024).await {
        Ok(body) => body,
        Err(error) => return failure(400, "BadRequest", &format!("body: {error}"), None, None),
    };
    let place = crate::write::Place {
        resource: target.resource,
        namespace: target.namespace.as_deref(),
        name: target.name.as_deref(),
        subresource: target.subresource.as_deref(),
    };
    crate::write::handle(&server, &method, place, &params, &headers, &body)
}
