//! What handlers take from a request, with the API server's answers when a
//! request does not fit.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::response::Response;
use serde_json::Value;

use super::Server;
use super::status::failure;

/// The query parameters; a query that does not parse is no parameters, as
/// the API server ignores what it does not understand.
#[derive(Debug, Default)]
pub(super) struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Params(
            Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
                .map(|q| q.0)
                .unwrap_or_default(),
        ))
    }
}

/// A control hook's optional JSON body (none when empty); anything else is
/// 400 BadRequest.
#[derive(Debug)]
pub(super) struct JsonBody(pub Option<Value>);

impl FromRequest<Arc<Server>> for JsonBody {
    type Rejection = Response;

    async fn from_request(request: Request, _: &Arc<Server>) -> Result<Self, Self::Rejection> {
        let bad = |error: &dyn std::fmt::Display| {
            failure(400, "BadRequest", &format!("body: {error}"), None, None)
        };
        let body = axum::body::to_bytes(request.into_body(), 1024 * 1024)
            .await
            .map_err(|e| bad(&e))?;
        if body.is_empty() {
            return Ok(JsonBody(None));
        }
        serde_json::from_slice(&body)
            .map(|value| JsonBody(Some(value)))
            .map_err(|e| bad(&e))
    }
}
