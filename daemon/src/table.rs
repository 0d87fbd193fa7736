//! Kinds watched as the API server's own Table (`Accept:
//! application/json;as=Table;g=meta.k8s.io;v=v1`, `includeObject=Metadata`):
//! the server computes kubectl's cells, and each row carries its object's
//! metadata and nothing else. Secrets travel this way: kubectl's TYPE and
//! DATA (a count of keys) without a single value reaching the daemon.
//!
//! The protocol, as recorded from kube-apiserver 1.36
//! (`watch-all-kinds/secrets-table.json.stream`, `table/*.json`): a list is
//! one Table (`columnDefinitions`, `rows[].cells`, `rows[].object`, paged
//! with `limit`/`continue`); a watch is JSON lines whose object is a Table
//! of one row, `columnDefinitions` in the first event only; a BOOKMARK is a
//! Table whose one row's object carries the resourceVersion; protobuf is
//! refused for Tables, so this is JSON only. Same events as kube's
//! watcher, so the informer treats it like the other sources.

use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Client;
use kube::core::Status;
use kube::runtime::watcher::{Error, Event};

use http_body_util::BodyExt;

use crate::wire::{WireError, body_of};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::mpsc;

/// The media type of a Table answer.
pub const ACCEPT: &str = "application/json;as=Table;g=meta.k8s.io;v=v1";

/// What every row of a kind's Table shares: the kind's identity (for the
/// object `Get` answers) and the server's column names.
#[derive(Debug, PartialEq, Eq)]
pub struct Columns {
    pub api_version: String,
    pub kind: String,
    pub names: Vec<String>,
}

/// One row of a server-side Table: its cells and its object's metadata.
#[derive(Debug, Clone)]
pub struct TableRow {
    pub columns: Arc<Columns>,
    pub cells: Vec<Value>,
    pub metadata: ObjectMeta,
}

impl TableRow {
    /// The cell of the column named `name` (as the server names it: `Type`).
    pub fn cell(&self, name: &str) -> Option<&Value> {
        let index = self.columns.names.iter().position(|n| n == name)?;
        self.cells.get(index)
    }

    /// A cell as kubectl prints it: strings as they are, numbers and
    /// booleans in JSON, null empty.
    pub fn text(&self, name: &str) -> String {
        match self.cell(name) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
        }
    }
}

/// The object `Get` answers for a row: what the daemon knows of it, with
/// the kind's own `kind` and `apiVersion`. A secret also has its `type`
/// (the Type cell); its data never reached the daemon.
impl serde::Serialize for TableRow {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let secret_type = (self.columns.kind == "Secret")
            .then(|| self.text("Type"))
            .filter(|t| !t.is_empty());
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("apiVersion", &self.columns.api_version)?;
        map.serialize_entry("kind", &self.columns.kind)?;
        map.serialize_entry("metadata", &self.metadata)?;
        if let Some(secret_type) = secret_type {
            map.serialize_entry("type", &secret_type)?;
        }
        map.end()
    }
}

/// Rows are only ever decoded from Tables (`watcher`); this exists for the
/// informer's bound.
impl<'de> Deserialize<'de> for TableRow {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(serde::de::Error::custom(
            "a Table row is read from a Table, not deserialized alone",
        ))
    }
}

/// The resource is the kind the Table is of (`Api::all_with` its
/// `ApiResource`), so a row's `Api` lists and watches that kind.
impl kube::Resource for TableRow {
    type DynamicType = kube::api::ApiResource;
    type Scope = kube::core::DynamicResourceScope;

    fn kind(dt: &kube::api::ApiResource) -> std::borrow::Cow<'_, str> {
        dt.kind.as_str().into()
    }
    fn group(dt: &kube::api::ApiResource) -> std::borrow::Cow<'_, str> {
        dt.group.as_str().into()
    }
    fn version(dt: &kube::api::ApiResource) -> std::borrow::Cow<'_, str> {
        dt.version.as_str().into()
    }
    fn api_version(dt: &kube::api::ApiResource) -> std::borrow::Cow<'_, str> {
        dt.api_version.as_str().into()
    }
    fn plural(dt: &kube::api::ApiResource) -> std::borrow::Cow<'_, str> {
        dt.plural.as_str().into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// Never protobuf: the API server refuses protobuf for Tables.
impl crate::wire::FromProtobuf for TableRow {
    fn from_protobuf(
        _: timoneiro_kpb::MessageType,
        _: &[u8],
        _: &str,
        _: &str,
    ) -> Result<Self, timoneiro_kpb::Error> {
        Err(serde::de::Error::custom("Tables do not travel as protobuf"))
    }

    fn take_protobuf(&mut self) -> Option<Vec<u8>> {
        None
    }

    fn protobuf_json(_: &[u8]) -> Result<Vec<u8>, String> {
        Err("Tables do not travel as protobuf".into())
    }

    fn from_table_row(row: TableRow) -> Option<Self> {
        Some(row)
    }
}

/// A Table as the server sends it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Table {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default)]
    column_definitions: Option<Vec<ColumnDefinition>>,
    #[serde(default)]
    rows: Vec<Row>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ListMeta {
    resource_version: Option<String>,
    #[serde(rename = "continue")]
    continue_: Option<String>,
}

#[derive(Deserialize)]
struct ColumnDefinition {
    name: String,
}

#[derive(Deserialize)]
struct Row {
    cells: Vec<Value>,
    object: Option<RowObject>,
}

#[derive(Deserialize)]
struct RowObject {
    kind: Option<String>,
    metadata: Option<ObjectMeta>,
}

/// What `includeObject=Metadata` promises each row carries.
const METADATA_ONLY: &str = "PartialObjectMetadata";

/// The rows of a Table, with the columns it names, or else those of an
/// earlier Table of the same kind (`columns`, updated).
fn rows_of(
    table: Table,
    columns: &mut Option<Arc<Columns>>,
    api_version: &str,
    kind: &str,
) -> Result<Vec<TableRow>, String> {
    // Metadata only was asked for (secrets: never their values). Anything
    // else (a server or proxy that ignored the request) is refused whole,
    // not copied.
    if let Some(other) = table
        .rows
        .iter()
        .filter_map(|row| row.object.as_ref()?.kind.as_deref())
        .find(|k| *k != METADATA_ONLY)
    {
        return Err(format!(
            "the API server sent {other} objects in a Table where only their metadata ({METADATA_ONLY}) was asked for; refusing them"
        ));
    }
    if let Some(definitions) = table.column_definitions {
        let named = Columns {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            names: definitions.into_iter().map(|c| c.name).collect(),
        };
        if columns.as_deref() != Some(&named) {
            *columns = Some(Arc::new(named));
        }
    }
    let columns = columns
        .get_or_insert_with(|| {
            Arc::new(Columns {
                api_version: api_version.to_string(),
                kind: kind.to_string(),
                names: Vec::new(),
            })
        })
        .clone();
    Ok(table
        .rows
        .into_iter()
        .map(|row| TableRow {
            columns: columns.clone(),
            cells: row.cells,
            metadata: row.object.and_then(|o| o.metadata).unwrap_or_default(),
        })
        .collect())
}

/// A Table's columns after Name: (name, `priority > 0`, i.e. `-o wide` only).
pub fn column_definitions(table: &Value) -> Option<Vec<(String, bool)>> {
    let definitions = table.get("columnDefinitions")?.as_array()?;
    Some(
        definitions
            .iter()
            .filter_map(|c| {
                let name = c.get("name")?.as_str()?;
                let wide = c.get("priority").and_then(Value::as_i64).unwrap_or(0) > 0;
                (name != "Name").then(|| (name.to_string(), wide))
            })
            .collect(),
    )
}

/// The rows of a Table list body (`table/*.json`), of a kind with this
/// `apiVersion` and `kind`: what the informer gets from a list.
pub fn list_rows(body: &[u8], api_version: &str, kind: &str) -> Result<Vec<TableRow>, String> {
    let table: Table = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    rows_of(table, &mut None, api_version, kind)
}

/// The rows of a Table watch stream's events (`{"type", "object"}` lines),
/// each with its event type, as the informer gets them.
pub fn watch_rows(
    lines: &str,
    api_version: &str,
    kind: &str,
) -> Result<Vec<(String, TableRow)>, String> {
    let mut columns = None;
    let mut rows = Vec::new();
    for line in lines.lines().filter(|l| !l.trim().is_empty()) {
        let event: WatchLine = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let table: Table = serde_json::from_value(event.object).map_err(|e| e.to_string())?;
        for row in rows_of(table, &mut columns, api_version, kind)? {
            rows.push((event.type_.clone(), row));
        }
    }
    Ok(rows)
}

/// A watch event line.
#[derive(Deserialize)]
struct WatchLine {
    #[serde(rename = "type")]
    type_: String,
    object: Value,
}

fn failed(message: impl Into<String>) -> kube::Error {
    WireError::Table(message.into()).into()
}

/// Page size of lists, as kube's watcher.
const PAGE: u32 = 500;

/// List and watch the collection at `path` as Tables, with the kind's
/// `api_version` and `kind` for the objects `Get` answers.
pub fn watcher<K: crate::wire::FromProtobuf + Send + 'static>(
    path: String,
    client: Client,
    api_version: String,
    kind: String,
    watch_timeout_seconds: u32,
) -> BoxStream<'static, Result<Event<K>, Error>> {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        let tx_closed = tx.clone();
        let mut source = Source {
            client,
            path,
            api_version,
            kind,
            watch_timeout_seconds,
            columns: None,
            tx,
        };
        let tx = tx_closed;
        tokio::select! {
            result = source.run() => {
                if let Err(error) = result {
                    let _ = tx.send(Err(error)).await;
                }
            }
            _ = tx.closed() => {}
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
        .map(|event| {
            event.and_then(|event| {
                let row = |row| {
                    K::from_table_row(row).ok_or_else(|| {
                        Error::WatchFailed(failed("a Table row where another type was expected"))
                    })
                };
                Ok(match event {
                    Event::Init => Event::Init,
                    Event::InitApply(r) => Event::InitApply(row(r)?),
                    Event::InitDone => Event::InitDone,
                    Event::Apply(r) => Event::Apply(row(r)?),
                    Event::Delete(r) => Event::Delete(row(r)?),
                })
            })
        })
        .boxed()
}

struct Source {
    client: Client,
    path: String,
    api_version: String,
    kind: String,
    /// `timeoutSeconds` of each watch (`Wire::watch_timeout_seconds`).
    watch_timeout_seconds: u32,
    /// The server's columns, from the list (and a watch's first event).
    columns: Option<Arc<Columns>>,
    tx: mpsc::Sender<Result<Event<TableRow>, Error>>,
}

/// The receiver is gone.
struct Gone;

impl Source {
    async fn emit(&self, event: Event<TableRow>) -> Result<(), Gone> {
        self.tx.send(Ok(event)).await.map_err(|_| Gone)
    }

    async fn run(&mut self) -> Result<(), Error> {
        let Ok(mut resource_version) = self.list().await? else {
            return Ok(());
        };
        loop {
            let started = std::time::Instant::now();
            match self.watch(&resource_version).await? {
                Some(last) => resource_version = last,
                None => return Ok(()),
            }
            crate::wire::pace_watch(started).await;
        }
    }

    async fn get(&self, query: &str) -> Result<http::Response<kube::client::Body>, kube::Error> {
        let request = http::Request::get(format!("{}?{query}", self.path))
            .header(http::header::ACCEPT, ACCEPT)
            .body(kube::client::Body::empty())
            .map_err(WireError::from)?;
        let response = self.client.send(request).await?;
        if response.status().is_success() {
            return Ok(response);
        }
        let code = response.status().as_u16();
        let body = body_of(response).await?;
        let mut status = serde_json::from_slice::<Status>(&body).unwrap_or_else(|_| {
            Status::failure(
                String::from_utf8_lossy(&body).trim(),
                "Failed to parse error data",
            )
        });
        if status.code == 0 {
            status.code = code;
        }
        Err(kube::Error::Api(Box::new(status)))
    }

    /// Rows of a Table, with the columns it names (or the ones known).
    fn rows(&mut self, table: Table) -> Result<Vec<TableRow>, String> {
        rows_of(table, &mut self.columns, &self.api_version, &self.kind)
    }

    /// The whole list, page by page: Init, InitApply…, InitDone; the list's
    /// resourceVersion, or `Err(Gone)` when the receiver went away.
    async fn list(&mut self) -> Result<Result<String, Gone>, Error> {
        if self.emit(Event::Init).await.is_err() {
            return Ok(Err(Gone));
        }
        let mut continue_token: Option<String> = None;
        loop {
            let mut query = format!("limit={PAGE}&includeObject=Metadata");
            if let Some(token) = &continue_token {
                query.push_str("&continue=");
                query.push_str(&crate::wire::encode_query(token));
            }
            let response = self.get(&query).await.map_err(Error::InitialListFailed)?;
            let body = body_of(response).await.map_err(Error::InitialListFailed)?;
            let table: Table = serde_json::from_slice(&body).map_err(|e| {
                Error::InitialListFailed(failed(format!("a Table list that is not one: {e}")))
            })?;
            let meta = ListMeta {
                resource_version: table.metadata.resource_version.clone(),
                continue_: table.metadata.continue_.clone(),
            };
            let rows = self
                .rows(table)
                .map_err(|e| Error::InitialListFailed(failed(e)))?;
            for row in rows {
                if self.emit(Event::InitApply(row)).await.is_err() {
                    return Ok(Err(Gone));
                }
            }
            continue_token = meta.continue_.filter(|c| !c.is_empty());
            if continue_token.is_none() {
                let resource_version = meta.resource_version.ok_or(Error::NoResourceVersion)?;
                if self.emit(Event::InitDone).await.is_err() {
                    return Ok(Err(Gone));
                }
                return Ok(Ok(resource_version));
            }
        }
    }

    /// One watch request until the server ends it: the last resourceVersion
    /// seen, or None when the receiver went away.
    async fn watch(&mut self, from: &str) -> Result<Option<String>, Error> {
        let query = format!(
            "watch=true&resourceVersion={}&allowWatchBookmarks=true&includeObject=Metadata&timeoutSeconds={}",
            crate::wire::encode_query(from),
            self.watch_timeout_seconds
        );
        let response = self.get(&query).await.map_err(Error::WatchStartFailed)?;
        let mut body = response.into_body().into_data_stream();
        let mut buffer: Vec<u8> = Vec::new();
        let mut last = from.to_string();
        while let Some(chunk) = body.next().await {
            // A stream cut mid-way is its end: resume from the last
            // resourceVersion; a silent one is dead (`wire::watch_body_error`).
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(error) => match crate::wire::watch_body_error(&error) {
                    Some(error) => return Err(error),
                    None => break,
                },
            };
            buffer.extend_from_slice(&chunk);
            while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buffer.drain(..=end).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                if self.event(&line, &mut last).await?.is_err() {
                    return Ok(None);
                }
            }
        }
        Ok(Some(last))
    }

    async fn event(&mut self, line: &[u8], last: &mut String) -> Result<Result<(), Gone>, Error> {
        let bad = |e: String| Error::WatchFailed(failed(e));
        let event: WatchLine =
            serde_json::from_slice(line).map_err(|e| bad(format!("a watch event: {e}")))?;
        if event.type_ == "ERROR" {
            let status: Status = serde_json::from_value(event.object)
                .map_err(|e| bad(format!("a watch ERROR: {e}")))?;
            return Err(Error::WatchError(Box::new(status)));
        }
        let table: Table = serde_json::from_value(event.object)
            .map_err(|e| bad(format!("a Table watch event: {e}")))?;
        let rows = self.rows(table).map_err(bad)?;
        for row in rows {
            if let Some(rv) = &row.metadata.resource_version {
                last.clone_from(rv);
            }
            let sent = match event.type_.as_str() {
                "ADDED" | "MODIFIED" => self.emit(Event::Apply(row)).await,
                "DELETED" => self.emit(Event::Delete(row)).await,
                "BOOKMARK" => Ok(()),
                other => return Err(bad(format!("unknown watch event type {other:?}"))),
            };
            if sent.is_err() {
                return Ok(Err(Gone));
            }
        }
        Ok(Ok(()))
    }
}
