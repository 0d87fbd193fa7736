//! `timoneiro get`: one query, printed as kubectl would. When the kind is
//! still loading, wait for it (spinner on a terminal) up to `--timeout`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use timoneiro_client::render::{cell_text, now_unix_ms};
use timoneiro_proto::v1::{KindStatus, ListRequest, ListResponse, Row, StatusRequest, SyncState};

use crate::args::{Get, GetFormat, Global};
use crate::connection::{Connection, connect};
use crate::objects;
use crate::output::Out;
use crate::status::{state, state_name};
use crate::{exit, fail, from_status};

/// Run `get`.
pub async fn run(global: &Global, args: Get) -> anyhow::Result<()> {
    let mut connection = connect(global).await?;
    // A JSONPath the daemon has no column for sorts here, on the objects.
    let by_path = objects::sort_path(&args.sort_by);
    let request = ListRequest {
        context: args.context.name.clone(),
        kind: args.kind.clone(),
        namespace: args.namespace.clone().unwrap_or_default(),
        all_namespaces: args.all_namespaces,
        filter: args.filter.clone(),
        label_selector: args.selector.clone(),
        sort_by: if by_path.is_some() {
            "NAME".into()
        } else {
            args.sort_by.clone()
        },
        offset: 0,
        limit: if by_path.is_some() { 0 } else { args.limit },
        wide: args.output == Some(GetFormat::Wide),
        objects: by_path.is_some() || args.output.as_ref().is_some_and(GetFormat::needs_objects),
        names: args.names.clone(),
        // A watch prints rows as they change: only counted answers.
        window_first: false,
    };
    let (first, rest) = list_when_synced(&mut connection, &request, &args).await?;
    let streamed = by_path.is_none()
        && !args.watch
        && !args.watch_only
        && args.names.is_empty()
        && args.label_columns.is_empty()
        && !args.show_labels;
    if streamed && let Some(shape) = Shape::of(args.output.as_ref()) {
        return print_pages(first, rest, &args, shape).await;
    }
    let mut response = collect(first, rest).await?;
    if let Some((path, descending)) = by_path {
        objects::sort_rows(&mut response.rows, &path, descending)
            .map_err(|e| fail(exit::ERROR, format!("--sort-by: {e}")))?;
        if args.limit > 0 {
            response.rows.truncate(args.limit as usize);
        }
    }
    if args.watch || args.watch_only {
        return watch(&mut connection, request, &args, response).await;
    }
    print(&response, &args)?;
    // Names asked for and not found: kubectl's NotFound, after what was found.
    let missing: Vec<String> = args
        .names
        .iter()
        .filter(|name| !response.rows.iter().any(|row| &row.name == *name))
        .map(|name| {
            let plural = response.kind.as_ref().map_or("", |k| k.plural.as_str());
            format!("{plural} {name:?} not found")
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(fail(exit::ERROR, missing.join("; ")))
    }
}

/// What a row shows, to tell a change from an answer that repeats it: the
/// object when objects travel, else the cells that are not ages.
fn shown(row: &Row) -> Vec<u8> {
    if !row.object.is_empty() {
        return row.object.clone();
    }
    let mut key = Vec::new();
    for cell in &row.cells {
        key.extend_from_slice(cell.text.as_bytes());
        key.extend_from_slice(&cell.since_unix_ms.to_le_bytes());
        key.push(0);
    }
    key
}

/// `get -w`: the table (unless --watch-only), then a line for each object
/// that changes, appears or goes away (its last state), as `kubectl get -w`
/// prints, until the daemon goes away or the reader does.
async fn watch(
    connection: &mut Connection,
    request: ListRequest,
    args: &Get,
    first: ListResponse,
) -> anyhow::Result<()> {
    let mut out = Out::new();
    let now = now_unix_ms();
    // Column widths of the first table, so later lines line up under it.
    let (columns, rows) = crate::table::with_label_columns(
        &first.columns,
        &first.rows,
        &args.label_columns,
        args.show_labels,
    );
    let mut widths: Vec<usize> = columns.iter().map(|c| c.name.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.cells.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(crate::table::cell(cell, now).chars().count());
            }
        }
    }
    if !args.watch_only {
        print(&first, args)?;
    }
    let mut seen: std::collections::HashMap<String, (Vec<u8>, Row)> = first
        .rows
        .iter()
        .map(|row| (row.uid.clone(), (shown(row), row.clone())))
        .collect();
    let mut stream = connection
        .client
        .watch_list(request)
        .await
        .map_err(from_status)?
        .into_inner();
    while let Some(answer) = stream.next().await {
        let answer = answer.map_err(from_status)?;
        let mut changed: Vec<Row> = Vec::new();
        let mut now_seen = std::collections::HashMap::with_capacity(answer.rows.len());
        for row in &answer.rows {
            let key = shown(row);
            if seen.get(&row.uid).is_none_or(|(old, _)| *old != key) {
                changed.push(row.clone());
            }
            now_seen.insert(row.uid.clone(), (key, row.clone()));
        }
        for (uid, (_, row)) in &seen {
            if !now_seen.contains_key(uid) {
                changed.push(row.clone());
            }
        }
        seen = now_seen;
        if changed.is_empty() {
            continue;
        }
        let changes = ListResponse {
            rows: changed,
            ..answer
        };
        print_changes(&mut out, &changes, args, &widths)?;
    }
    Err(fail(exit::DAEMON, "the daemon ended the watch"))
}

/// Changed rows in the watch's format: table lines padded to the first
/// table's widths, names, or objects.
fn print_changes(
    out: &mut Out,
    changes: &ListResponse,
    args: &Get,
    widths: &[usize],
) -> anyhow::Result<()> {
    match &args.output {
        None | Some(GetFormat::Wide) => {
            let now = now_unix_ms();
            let (_, rows) = crate::table::with_label_columns(
                &changes.columns,
                &changes.rows,
                &args.label_columns,
                args.show_labels,
            );
            for row in rows {
                out.line(&crate::table::row_line(&row, now, widths))?;
            }
        }
        _ => {
            // Names and objects: each change printed on its own, as a one-row answer.
            let one = Get {
                names: Vec::new(),
                no_headers: true,
                ..args.clone()
            };
            print(changes, &one)?;
        }
    }
    out.flush()
}

/// The rest of a ListPages answer, after its first message.
type Pages = tonic::Streaming<ListResponse>;

/// List in pages; while the kind is PENDING or LOADING, wait for its
/// status to change. The first page (with the answer's counts, status and
/// widths) and the pages to come.
async fn list_when_synced(
    connection: &mut Connection,
    request: &ListRequest,
    args: &Get,
) -> anyhow::Result<(ListResponse, Pages)> {
    let deadline = deadline_after(args.timeout);
    let mut spinner = Spinner::new();
    let mut statuses = None;
    loop {
        let mut pages = connection
            .client
            .list_pages(request.clone())
            .await
            .map_err(from_status)?
            .into_inner();
        let response = pages
            .message()
            .await
            .map_err(from_status)?
            .ok_or_else(|| fail(exit::DAEMON, "the daemon sent an empty answer"))?;
        let status = response.status.clone().unwrap_or_default();
        match state(&status) {
            SyncState::Synced => {
                spinner.clear();
                warn_if_scoped(&status, request);
                return Ok((response, pages));
            }
            SyncState::Stale => {
                spinner.clear();
                eprintln!(
                    "warning: {} is STALE ({}); showing the last data the daemon had",
                    status.kind, status.message
                );
                warn_if_scoped(&status, request);
                return Ok((response, pages));
            }
            SyncState::Error => {
                spinner.clear();
                return Err(fail(
                    exit::KIND_ERROR,
                    format!("{} cannot be loaded: {}", status.kind, status.message),
                ));
            }
            _ => {}
        }
        // Not synced yet: wait for a status change, up to the deadline.
        if statuses.is_none() {
            let stream = connection
                .client
                .watch_status(StatusRequest {
                    context: request.context.clone(),
                })
                .await
                .map_err(from_status)?
                .into_inner();
            statuses = Some(stream);
        }
        let Some(stream) = statuses.as_mut() else {
            continue;
        };
        let mut objects = status.objects;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                spinner.clear();
                return Err(fail(
                    exit::TIMEOUT,
                    format!(
                        "timed out after {:?} waiting for {} to sync ({} objects loaded so far); retry with a longer --timeout",
                        args.timeout, status.kind, objects
                    ),
                ));
            }
            spinner.draw(&status.kind, objects);
            let next =
                tokio::time::timeout(remaining.min(Duration::from_millis(100)), stream.next())
                    .await;
            match next {
                Err(_) => continue,
                Ok(None) => return Err(fail(exit::DAEMON, "the daemon closed the status stream")),
                Ok(Some(Err(e))) => return Err(from_status(e)),
                Ok(Some(Ok(update))) => {
                    let Some(kind) = update
                        .kinds
                        .iter()
                        .find(|k| k.kind == status.kind && k.group == status.group)
                    else {
                        continue;
                    };
                    objects = kind.objects;
                    if !matches!(state(kind), SyncState::Pending | SyncState::Loading) {
                        break;
                    }
                }
            }
        }
    }
}

/// A one-line progress indicator on stderr, only when stderr is a terminal.
struct Spinner {
    enabled: bool,
    frame: usize,
    drawn: bool,
}

impl Spinner {
    fn new() -> Spinner {
        Spinner {
            enabled: std::io::stderr().is_terminal(),
            frame: 0,
            drawn: false,
        }
    }

    fn draw(&mut self, kind: &str, objects: u64) {
        if !self.enabled {
            return;
        }
        const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
        self.frame = (self.frame + 1) % FRAMES.len();
        eprint!(
            "\r\x1b[2K{} loading {kind}: {objects} objects so far",
            FRAMES[self.frame]
        );
        self.drawn = true;
    }

    fn clear(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[2K");
            self.drawn = false;
        }
    }
}

/// The whole answer: the first page with the rows of the others.
async fn collect(mut first: ListResponse, mut pages: Pages) -> anyhow::Result<ListResponse> {
    while let Some(page) = pages.message().await.map_err(from_status)? {
        first.rows.extend(page.rows);
    }
    Ok(first)
}

/// Each page's rows in turn, the first page's first.
async fn each_page(
    first: Vec<Row>,
    mut pages: Pages,
    mut each: impl FnMut(&[Row]) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut rows = first;
    loop {
        each(&rows)?;
        match pages.message().await.map_err(from_status)? {
            Some(page) => rows = page.rows,
            None => return Ok(()),
        }
    }
}

/// Outputs printed page by page as the answer arrives.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// kubectl's table (with -o wide or not), padded to the answer's widths.
    Table,
    /// `-o name`.
    Name,
    /// `-o json` / `-o yaml`: a List written item by item.
    List(objects::ListFormat),
}

impl Shape {
    fn of(output: Option<&GetFormat>) -> Option<Shape> {
        match output {
            None | Some(GetFormat::Wide) => Some(Shape::Table),
            Some(GetFormat::Name) => Some(Shape::Name),
            Some(GetFormat::Json) => Some(Shape::List(objects::ListFormat::Json)),
            Some(GetFormat::Yaml) => Some(Shape::List(objects::ListFormat::Yaml)),
            _ => None,
        }
    }
}

/// Print an answer page by page as it arrives: the same text as [`print`]
/// of the whole answer, without holding it.
async fn print_pages(
    mut first: ListResponse,
    pages: Pages,
    args: &Get,
    shape: Shape,
) -> anyhow::Result<()> {
    let mut out = Out::new();
    let rows = std::mem::take(&mut first.rows);
    match shape {
        Shape::Table if rows.is_empty() => eprintln!("{}", no_resources(&first)),
        Shape::Table if first.widths.len() != first.columns.len() => {
            // A table without its widths (not from ListPages): lay it out whole.
            first.rows = rows;
            return print(&collect(first, pages).await?, args);
        }
        Shape::Table => {
            let (header, widths) =
                crate::table::paged_layout(&first.columns, &first.widths, !args.no_headers);
            if !args.no_headers {
                out.line(&crate::table::pad_line(&header, &widths))?;
            }
            let now = first.now_unix_ms;
            each_page(rows, pages, |rows| {
                for row in rows {
                    out.line(&crate::table::row_line(row, now, &widths))?;
                }
                Ok(())
            })
            .await?;
        }
        Shape::Name => {
            let prefix = name_prefix(&first);
            each_page(rows, pages, |rows| {
                for row in rows {
                    out.line(&format!("{prefix}/{}", row.name))?;
                }
                Ok(())
            })
            .await?;
        }
        Shape::List(format) => {
            let (mut writer, head) = objects::ListWriter::begin(format);
            out.write(&head)?;
            each_page(rows, pages, |rows| {
                for item in objects::items(first.kind.as_ref(), rows)? {
                    out.write(&writer.item(&item)?)?;
                }
                Ok(())
            })
            .await?;
            out.line(&writer.end())?;
        }
    }
    out.flush()
}

/// What `-o name` prints before each name: `pod`, `deployment.apps`.
fn name_prefix(response: &ListResponse) -> String {
    let kind = response.kind.clone().unwrap_or_default();
    if kind.group.is_empty() {
        kind.singular.clone()
    } else {
        format!("{}.{}", kind.singular, kind.group)
    }
}

fn print(response: &ListResponse, args: &Get) -> anyhow::Result<()> {
    let now = now_unix_ms();
    let mut out = Out::new();
    let one_by_name = args.names.len() == 1;
    match &args.output {
        None | Some(GetFormat::Wide) => {
            if response.rows.is_empty() {
                if args.names.is_empty() {
                    eprintln!("{}", no_resources(response));
                }
            } else {
                let (columns, rows) = crate::table::with_label_columns(
                    &response.columns,
                    &response.rows,
                    &args.label_columns,
                    args.show_labels,
                );
                for line in crate::table::render(&columns, &rows, now, !args.no_headers) {
                    out.line(&line)?;
                }
            }
        }
        Some(GetFormat::Name) => {
            let prefix = name_prefix(response);
            for row in &response.rows {
                out.line(&format!("{prefix}/{}", row.name))?;
            }
        }
        Some(GetFormat::Rows) => {
            let text = serde_json::to_string_pretty(&to_json(response, now))?;
            out.line(&text)?;
        }
        Some(GetFormat::Json) => {
            let document = objects::document(objects::objects(response)?, one_by_name);
            out.line(&objects::to_json(&document)?)?;
        }
        Some(GetFormat::Yaml) => {
            let document = objects::document(objects::objects(response)?, one_by_name);
            out.line(&objects::to_yaml(&document)?)?;
        }
        Some(GetFormat::JsonPath(template)) => {
            let document = objects::document(objects::objects(response)?, one_by_name);
            let text = objects::jsonpath(template, &document)
                .map_err(|e| fail(exit::ERROR, format!("-o jsonpath: {e}")))?;
            out.write(&text)?;
        }
        Some(GetFormat::CustomColumns(columns)) => {
            let grid =
                objects::custom_columns(columns, &objects::objects(response)?, !args.no_headers)
                    .map_err(|e| fail(exit::ERROR, format!("-o custom-columns: {e}")))?;
            for line in crate::table::layout(&grid) {
                out.line(&line)?;
            }
        }
    }
    out.flush()
}

fn no_resources(response: &ListResponse) -> String {
    if response.namespace.is_empty() {
        "No resources found".to_string()
    } else {
        format!("No resources found in {} namespace.", response.namespace)
    }
}

/// The documented JSON shape of `get -o json`.
pub fn to_json(response: &ListResponse, now_unix_ms: i64) -> Value {
    let status = response.status.clone().unwrap_or_default();
    let state_name = state_name(&status);
    json!({
        "kind": response.kind.as_ref().map(|k| k.plural.clone()).unwrap_or_default(),
        "namespace": response.namespace,
        "columns": response.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
        "rows": response.rows.iter().map(|row| json!({
            "namespace": row.namespace,
            "name": row.name,
            "uid": row.uid,
            "creationTimestamp": timestamp(row.created_unix_ms),
            "labels": row.labels.iter().collect::<std::collections::BTreeMap<_, _>>(),
            "cells": row.cells.iter().map(|c| cell_text(c, now_unix_ms)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "total": response.total,
        "matched": response.matched,
        "status": {"state": state_name, "objects": status.objects, "message": status.message},
    })
}

fn timestamp(unix_ms: i64) -> Value {
    match jiff::Timestamp::from_millisecond(unix_ms) {
        Ok(ts) if unix_ms != 0 => Value::String(ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
        _ => Value::Null,
    }
}

/// Say so when RBAC limits the cache to some namespaces and the request
/// reaches beyond them: the answer is not the whole cluster.
fn warn_if_scoped(status: &KindStatus, request: &ListRequest) {
    let scope = &status.scope_namespaces;
    if scope.is_empty() || (!request.all_namespaces && scope.contains(&request.namespace)) {
        return;
    }
    eprintln!(
        "warning: listing {} cluster-wide is forbidden; showing namespaces {} only",
        status.kind,
        scope.join(", ")
    );
}

/// Now plus `timeout`; a timeout past what the clock can hold
/// (`--timeout 10000000000000000000s`) waits as good as forever instead of
/// overflowing.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_timeout_is_a_far_deadline_not_a_panic() {
        let huge = timoneiro_client::parse_duration("10000000000000000000s").expect("parses");
        assert!(deadline_after(huge) > Instant::now() + Duration::from_secs(86_400));
        let short = deadline_after(Duration::from_secs(30));
        assert!(short <= Instant::now() + Duration::from_secs(30));
    }
}
