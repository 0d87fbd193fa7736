//! LIST: consistent snapshots, limit/continue paging with remainingItemCount,
//! 410 for a compacted resourceVersion or an expired token.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::Response;

use super::Server;
use super::encoding::{Form, full_object, protobuf_list, protobuf_response};
use super::paths::{Target, decode_continue, encode_continue, start_key, start_position};
use super::status::{body_response, expired_continue, failure, list_too_old, not_encodable};
use crate::faults::Gone;
use crate::resources::Resource;
use crate::store::{Obj, Snapshot};

/// Why a list is refused.
#[derive(Debug)]
enum Refused {
    /// 410: the continue token's snapshot is gone (a fresh token resumes after `start`).
    ExpiredContinue(String),
    /// 410: the asked resourceVersion was compacted.
    TooOld,
    /// 400: not a continue token.
    InvalidContinue,
}

impl Refused {
    fn response(self) -> Response {
        match self {
            Refused::ExpiredContinue(start) => expired_continue(&start),
            Refused::TooOld => list_too_old(),
            Refused::InvalidContinue => failure(
                400,
                "BadRequest",
                "invalid continue token: continue key is not valid",
                None,
                None,
            ),
        }
    }
}

/// One page of a list: its items and its ListMeta JSON.
struct Page<'a> {
    items: &'a [Arc<Obj>],
    meta: String,
}

impl<'a> Page<'a> {
    /// The items after `start_after` (a continue token's start), at most
    /// `limit`, with a continue token and remainingItemCount when more follow.
    fn cut(
        snapshot: &'a Snapshot,
        start_after: Option<&str>,
        namespace: Option<&str>,
        limit: Option<usize>,
    ) -> Page<'a> {
        let all = &snapshot.items;
        let begin = start_after.map_or(0, |start| {
            let position = start_position(start, namespace);
            all.partition_point(|obj| obj.key <= position)
        });
        let end = limit.map_or(all.len(), |l| (begin + l).min(all.len()));
        let items = &all[begin..end];
        let remaining = all.len() - end;
        let mut meta = format!("{{\"resourceVersion\":\"{}\"", snapshot.rv);
        if remaining > 0
            && let Some(last) = items.last()
        {
            meta.push_str(&format!(
                ",\"continue\":\"{}\",\"remainingItemCount\":{remaining}",
                encode_continue(snapshot.rv as i64, &start_key(last, namespace.is_some()))
            ));
        }
        meta.push('}');
        Page { items, meta }
    }
}

impl Server {
    pub(super) fn list(
        &self,
        target: Target,
        params: &HashMap<String, String>,
        form: Form,
    ) -> Response {
        let resource = target.resource;
        let namespace = target.namespace.as_deref();
        let limit = params
            .get("limit")
            .and_then(|l| l.parse::<usize>().ok())
            .filter(|l| *l > 0);
        let (snapshot, start_after) = match self.snapshot(resource, namespace, params, limit) {
            Ok(found) => found,
            Err(refused) => return refused.response(),
        };
        let page = Page::cut(&snapshot, start_after.as_deref(), namespace, limit);
        if form.table {
            let include_object = params.get("includeObject").is_none_or(|v| v != "None");
            let body = crate::table::list(resource.plural, &page.meta, page.items, include_object);
            return body_response(StatusCode::OK, body, true);
        }
        let (kind, api_version) = if form.metadata {
            (
                "PartialObjectMetadataList".to_string(),
                "meta.k8s.io/v1".to_string(),
            )
        } else {
            (format!("{}List", resource.kind), resource.api_version())
        };
        if form.protobuf {
            let encoded = protobuf_list(
                resource,
                page.items,
                &page.meta,
                &api_version,
                &kind,
                form.metadata,
            );
            return match encoded {
                Ok(body) => protobuf_response(body),
                Err(error) => not_encodable(&format!("a page of {}", resource.plural), &error),
            };
        }
        let items = page.items;
        let mut body = Vec::with_capacity(items.len() * 1024 + 128);
        body.extend_from_slice(
            format!(
                "{{\"kind\":\"{kind}\",\"apiVersion\":\"{api_version}\",\"metadata\":{},\"items\":[",
                page.meta
            )
            .as_bytes(),
        );
        for (i, obj) in items.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            if form.metadata {
                body.extend_from_slice(&full_object(resource, obj, true));
            } else {
                body.extend_from_slice(&obj.item());
            }
        }
        body.extend_from_slice(b"]}\n");
        body_response(StatusCode::OK, body, true)
    }

    /// The snapshot a list reads and where in it the page starts: the
    /// continue token's (if its snapshot is still kept), else a fresh one
    /// (a kept one when paging, so later pages see the same objects).
    fn snapshot(
        &self,
        resource: &'static Resource,
        namespace: Option<&str>,
        params: &HashMap<String, String>,
        limit: Option<usize>,
    ) -> Result<(Arc<Snapshot>, Option<String>), Refused> {
        if let Some(token) = params.get("continue").filter(|t| !t.is_empty()) {
            let (rv, start) = decode_continue(token).ok_or(Refused::InvalidContinue)?;
            if self.faults.take(Gone::Continue) {
                return Err(Refused::ExpiredContinue(start));
            }
            let found = u64::try_from(rv)
                .ok()
                .and_then(|rv| self.store.find_snapshot(resource, namespace, rv));
            return match found {
                Some(snapshot) => Ok((snapshot, Some(start))),
                None => Err(Refused::ExpiredContinue(start)),
            };
        }
        if self.faults.take(Gone::List) {
            return Err(Refused::TooOld);
        }
        if let Some(rv) = params
            .get("resourceVersion")
            .and_then(|rv| rv.parse::<u64>().ok())
            && rv != 0
            && rv < self.store.compacted()
            && params
                .get("resourceVersionMatch")
                .is_some_and(|m| m == "Exact" || m == "NotOlderThan")
        {
            return Err(Refused::TooOld);
        }
        let snapshot = match limit {
            Some(_) => self.store.snapshot(resource, namespace),
            None => {
                let (rv, items) = self.store.list(resource, namespace);
                Arc::new(Snapshot::new(rv, items))
            }
        };
        Ok((snapshot, None))
    }
}
