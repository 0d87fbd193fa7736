//! WATCH: ADDED/MODIFIED/DELETED from a resourceVersion or with the initial
//! events, BOOKMARKs, 410 Gone as an in-stream ERROR event (or over HTTP),
//! protobuf frames, and the faults that cut or freeze a watch.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use timoneiro_kpb as kpb;

use super::Server;
use super::encoding::{Form, bookmark, event_line, full_object, protobuf_frame, protobuf_object};
use super::paths::Target;
use super::status::{failure, headers, status_json, too_old};
use crate::faults::{Faults, Gone};
use crate::resources::Resource;
use crate::store::{Change, Store};

impl Server {
    pub(super) fn watch(
        &self,
        target: Target,
        params: &HashMap<String, String>,
        form: Form,
    ) -> Response {
        let Form {
            metadata,
            table,
            protobuf,
        } = form;
        let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(256);
        let store = self.store.clone();
        let live = store.subscribe();
        let from = params
            .get("resourceVersion")
            .and_then(|rv| rv.parse::<u64>().ok())
            .filter(|rv| *rv != 0);
        if from.is_some_and(|rv| rv < store.compacted()) && self.faults.watch_gone_over_http() {
            self.faults.record(Gone::WatchHttp.name());
            return failure(
                410,
                "Expired",
                &too_old(from.unwrap_or(0), store.compacted() + 1),
                None,
                None,
            );
        }
        let faults = self.faults.clone();
        let dropper = self.faults.watch_dropper();
        let initial_events = params.get("sendInitialEvents").is_some_and(|v| v == "true");
        let bookmarks = params
            .get("allowWatchBookmarks")
            .is_some_and(|v| v == "true");
        let timeout = self.watch_timeout(params);
        let interval = self.bookmark_interval;
        tokio::spawn(async move {
            let watch = Watch {
                resource: target.resource,
                namespace: target.namespace,
                metadata,
                protobuf,
                table: table.then(|| std::sync::atomic::AtomicBool::new(false)),
                tx,
                dropper,
                faults,
            };
            let _ = tokio::time::timeout(
                timeout,
                watch.run(store, live, from, initial_events, bookmarks, interval),
            )
            .await;
        });
        self.streamed(rx, protobuf)
    }

    /// How long a watch lasts: `timeoutSeconds` (30 minutes without), or
    /// not at all while watches are cut short (`/sim/faults/short-watches`).
    fn watch_timeout(&self, params: &HashMap<String, String>) -> Duration {
        if self.faults.watches_are_short() {
            return Duration::ZERO;
        }
        params
            .get("timeoutSeconds")
            .and_then(|t| t.parse::<u64>().ok())
            .map_or(Duration::from_secs(1800), Duration::from_secs)
    }

    /// The watch's chunked body, in the encoding asked for. While the sim
    /// is frozen the body says nothing, and does not end.
    fn streamed(
        &self,
        rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
        protobuf: bool,
    ) -> Response {
        let mut builder = headers(Response::builder().status(StatusCode::OK), true);
        if protobuf && let Some(headers) = builder.headers_mut() {
            headers.insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(kpb::WATCH_MEDIA_TYPE),
            );
        }
        let (held, tail) = (self.faults.clone(), self.faults.clone());
        let body = futures::StreamExt::then(ReceiverStream::new(rx), move |chunk| {
            let faults = held.clone();
            async move {
                faults.thaw().await;
                chunk
            }
        });
        let body = futures::StreamExt::chain(
            body,
            futures::StreamExt::filter_map(
                futures::stream::once(async move { tail.thaw().await }),
                |()| std::future::ready(None),
            ),
        );
        builder
            .body(Body::from_stream(body))
            .unwrap_or_else(|_| Response::new(Body::empty()))
    }
}

/// One open watch.
struct Watch {
    resource: &'static Resource,
    namespace: Option<String>,
    metadata: bool,
    /// Frames of `WatchEvent` messages rather than JSON lines.
    protobuf: bool,
    /// Events are Tables of one row (`crate::table`); set once the column
    /// definitions went out with the first.
    table: Option<std::sync::atomic::AtomicBool>,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    /// Fires when a test cuts every watch (`/sim/faults/drop-watches`).
    dropper: broadcast::Receiver<bool>,
    /// Counts the 410 events sent.
    faults: Arc<Faults>,
}

/// The watch ends: the client went away, or an object could not be sent.
struct Stopped;

impl Watch {
    async fn send(&self, bytes: Bytes) -> Result<(), Stopped> {
        let bytes = if self.protobuf {
            protobuf_frame(&bytes)
        } else {
            bytes
        };
        self.tx.send(Ok(bytes)).await.map_err(|_| Stopped)
    }

    /// One ERROR event carrying 410 Expired, as 1.36 answers a watch from a too-old resourceVersion.
    async fn gone(&self, from: u64, oldest: u64) -> Result<(), Stopped> {
        self.faults.record(Gone::WatchEvent.name());
        let status = status_json(410, "Expired", &too_old(from, oldest), None, None);
        self.send(event_line("ERROR", status.as_bytes())).await
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        match &self.table {
            Some(_) => event_line(
                "BOOKMARK",
                &crate::table::bookmark(self.resource.plural, rv, initial_end),
            ),
            None => bookmark(self.resource, rv, self.metadata, initial_end),
        }
    }

    fn wants(&self, change: &Change) -> bool {
        change.resource.plural == self.resource.plural
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| *ns == change.obj.key.0)
    }

    async fn send_change(&self, change: &Change) -> Result<(), Stopped> {
        if self.protobuf {
            let envelope = match protobuf_object(self.resource, &change.obj, self.metadata) {
                Ok(envelope) => envelope,
                Err(error) => {
                    // The real server ends a watch it cannot encode for with an ERROR event.
                    tracing::error!(%error, plural = self.resource.plural, "cannot encode as protobuf");
                    let message =
                        format!("timoneiro-sim cannot encode an object as protobuf: {error}");
                    let status = status_json(500, "InternalError", &message, None, None);
                    self.send(event_line("ERROR", status.as_bytes())).await?;
                    return Err(Stopped);
                }
            };
            let frame = kpb::WatchEvent {
                kind: change.kind.as_str(),
                object: &envelope,
            }
            .to_frame();
            return self
                .tx
                .send(Ok(Bytes::from(frame)))
                .await
                .map_err(|_| Stopped);
        }
        let object = match &self.table {
            Some(columns_sent) => {
                let first = !columns_sent.swap(true, std::sync::atomic::Ordering::Relaxed);
                crate::table::event(self.resource.plural, &change.obj, first)
            }
            None => full_object(self.resource, &change.obj, self.metadata),
        };
        self.send(event_line(change.kind.as_str(), &object)).await
    }

    async fn run(
        mut self,
        store: Arc<Store>,
        mut live: broadcast::Receiver<Arc<Change>>,
        from: Option<u64>,
        initial_events: bool,
        bookmarks: bool,
        interval: Duration,
    ) -> Result<(), Stopped> {
        let mut last = 0;
        if initial_events || from.is_none() {
            let (rv, items) = store.list(self.resource, self.namespace.as_deref());
            for obj in items {
                self.send_change(&Change {
                    resource: self.resource,
                    kind: crate::store::EventType::Added,
                    rv: obj.rv,
                    obj,
                })
                .await?;
            }
            if initial_events {
                self.send(self.bookmark(rv, true)).await?;
            }
            last = rv;
        } else if let Some(from) = from {
            match store.changes_since(self.resource, from) {
                Err(_) => return self.gone(from, store.compacted() + 1).await,
                Ok(changes) => {
                    last = from;
                    for change in changes.iter().filter(|c| self.wants(c)) {
                        self.send_change(change).await?;
                    }
                    last = changes.last().map_or(last, |c| c.rv.max(last));
                }
            }
        }
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        loop {
            tokio::select! {
                received = live.recv() => match received {
                    Ok(change) => {
                        if change.rv > last && self.wants(&change) {
                            self.send_change(&change).await?;
                        }
                        last = last.max(change.rv);
                    }
                    // Too slow to keep up: end the watch; the client resumes from its last resourceVersion.
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
                _ = ticker.tick(), if bookmarks => {
                    // Everything up to `rv` was broadcast before we read it, so after draining
                    // the queue the bookmark promises nothing we have not sent.
                    let rv = store.resource_version();
                    loop {
                        match live.try_recv() {
                            Ok(change) => {
                                if change.rv > last && self.wants(&change) {
                                    self.send_change(&change).await?;
                                }
                                last = last.max(change.rv);
                            }
                            Err(broadcast::error::TryRecvError::Empty) => break,
                            Err(_) => return Ok(()),
                        }
                    }
                    last = last.max(rv);
                    self.send(self.bookmark(last, false)).await?;
                    self.faults.bookmark_sent();
                }
                Ok(abort) = self.dropper.recv() => {
                    if abort {
                        // An error in the body makes the server abort the connection mid-stream.
                        let _ = self.tx.send(Err(std::io::Error::other("watch dropped by /sim/faults/drop-watches"))).await;
                    }
                    return Ok(());
                }
                _ = self.tx.closed() => return Err(Stopped),
            }
        }
    }
}
