//! Queries over one store: namespace scope, filter, label selector, sort,
//! then the requested window. Only the window is copied out.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use nucleo_matcher::{Config, Matcher};

use crate::catalog::{KindSpec, Source};
use crate::filter::{Filter, FilterError};
#[cfg(test)]
use crate::row::Cell;
use crate::row::{CellRef, Row};
use crate::row_table::{Entry, KEYED_COLUMNS, Order};
use crate::selector::{Selector, SelectorError};
use crate::status::SyncStatus;
use crate::store::Store;

/// Errors in a query's parameters.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The filter text does not parse.
    #[error(transparent)]
    Filter(#[from] FilterError),
    /// The label selector does not parse.
    #[error(transparent)]
    Selector(#[from] SelectorError),
    /// The sort column is not one of the kind's columns.
    #[error("cannot sort by {name:?}: {kind} has the columns {}", .columns.join(", "))]
    SortColumn {
        /// What was asked for.
        name: String,
        /// The kind.
        kind: String,
        /// The columns there are.
        columns: Vec<String>,
    },
}

/// What to sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Newest first, then namespace and name.
    Newest,
    /// Namespace, then name.
    Namespace,
    /// Name, then namespace.
    Name,
    /// A column after NAME, by index into the row's cells.
    Column(usize),
    /// A figure from outside the rows (CPU or memory use, `Query::usage`);
    /// rows without one sort as lowest.
    Usage,
}

/// Figures by namespace and name, for `SortKey::Usage`.
pub type UsageKeys = std::collections::HashMap<String, std::collections::HashMap<String, i64>>;

/// A parsed, validated query.
#[derive(Debug, Clone)]
pub struct Query {
    /// Only rows of this namespace; None for all.
    pub namespace: Option<String>,
    /// Filter terms.
    pub filter: Filter,
    /// Label selector.
    pub selector: Selector,
    /// Sort key.
    pub sort: SortKey,
    /// Reverse the sort.
    pub descending: bool,
    /// Rows to skip.
    pub offset: usize,
    /// Rows to return at most; None for all.
    pub limit: Option<usize>,
    /// Only objects with these names (exact); empty for any.
    pub names: std::collections::BTreeSet<String>,
    /// The figures `SortKey::Usage` sorts by.
    pub usage: Option<Arc<UsageKeys>>,
}

impl Query {
    /// Parse the text parts of a query for a kind.
    pub fn parse(
        spec: &KindSpec,
        namespace: Option<String>,
        filter: &str,
        selector: &str,
        sort_by: &str,
        offset: usize,
        limit: Option<usize>,
    ) -> Result<Query, QueryError> {
        let (descending, sort_name) = match sort_by.trim().strip_prefix('-') {
            Some(rest) => (true, rest.trim()),
            None => (false, sort_by.trim()),
        };
        // kubectl's creationTimestamp order is oldest first: the reverse of ours.
        let (descending, sort_name) =
            if sort_name.eq_ignore_ascii_case(".metadata.creationTimestamp") {
                (!descending, "")
            } else {
                (descending, sort_name)
            };
        let sort = match sort_name.to_ascii_uppercase().as_str() {
            "" => SortKey::Newest,
            "NAME" | ".METADATA.NAME" => SortKey::Name,
            "NAMESPACE" | ".METADATA.NAMESPACE" => SortKey::Namespace,
            // A built-in kind's AGE is its creation time (`project::age`),
            // the default order's inline key: the same order, without
            // reading the rows.
            "AGE" if matches!(spec.source, Source::Builtin(_)) => SortKey::Newest,
            upper => match spec.columns.iter().position(|c| c.name == upper) {
                Some(index) => SortKey::Column(index),
                None => {
                    let mut columns = vec!["NAME".to_string()];
                    if spec.namespaced {
                        columns.insert(0, "NAMESPACE".to_string());
                    }
                    columns.extend(spec.columns.iter().map(|c| c.name.clone()));
                    return Err(QueryError::SortColumn {
                        name: sort_name.to_string(),
                        kind: spec.plural.clone(),
                        columns,
                    });
                }
            },
        };
        Ok(Query {
            namespace,
            filter: Filter::parse(filter)?,
            selector: Selector::parse(selector)?,
            sort,
            descending,
            offset,
            limit,
            names: std::collections::BTreeSet::new(),
            usage: None,
        })
    }
}

/// A query's answer.
#[derive(Debug)]
pub struct QueryResult {
    /// The window of matching rows, sorted.
    pub rows: Vec<Arc<Row>>,
    /// Rows in the namespace scope.
    pub total: usize,
    /// Rows that passed filter and selector (when `counted`; else at
    /// least this many).
    pub matched: usize,
    /// Whether every row was looked at, so `matched` is the count: false
    /// for [`window_first`]'s answers, which stop at the window's end.
    pub counted: bool,
    /// The kind's status when the query ran.
    pub status: SyncStatus,
}

/// Run a query against a store.
pub fn run(store: &Store, query: &Query) -> QueryResult {
    run_unless(store, query, &AtomicBool::new(false))
        .expect("a query nobody cancels runs to its end")
}

/// [`run`], given up (None) soon after `cancelled` turns true: the client
/// that asked has gone.
pub fn run_unless(store: &Store, query: &Query, cancelled: &AtomicBool) -> Option<QueryResult> {
    let view = store.view();
    let answer = |rows, total, matched| QueryResult {
        rows,
        total,
        matched,
        counted: true,
        status: view.status().clone(),
    };
    // Namespaces are shared strings: compare pointers, not text. A namespace
    // no row is in matches nothing.
    let namespace = match &query.namespace {
        Some(name) => match view.namespace(name) {
            Some(shared) => Some(shared.clone()),
            None => return Some(answer(Vec::new(), 0, 0)),
        },
        None => None,
    };
    // A small window (the usual case: a screen of rows) keeps only its best
    // rows in a bounded heap, one comparison per row; otherwise every match
    // is collected and partitioned. Only for the orders whose key is inline
    // (creation time, the name's first bytes, the shared namespace, a kept
    // column key): other sorts read the Row to compare, and the heap
    // compares more often than a partition.
    let inline = match query.sort {
        SortKey::Newest | SortKey::Name | SortKey::Namespace => true,
        SortKey::Column(column) => column < KEYED_COLUMNS,
        SortKey::Usage => false,
    };
    let keep = query.small_window().filter(|_| inline);
    let column = match query.sort {
        SortKey::Column(column) => column,
        _ => usize::MAX,
    };
    // A window of the default order or of names with nothing to filter
    // walks the rows in that order: as many rows as the window, not all.
    if let (Some(keep), Some(order)) = (keep, query.walked_order())
        && query.takes_all()
    {
        let total = scope_total(&view, namespace.as_ref());
        let walked = ordered_window(&view, order, namespace.as_ref(), query, keep, usize::MAX)
            .expect("a walk without a budget ends");
        return Some(answer(walked.rows, total, total));
    }
    // The same for a column's window: its order is the whole sort, so the
    // window is the first rows walked.
    if let (Some(keep), SortKey::Column(column)) = (keep, query.sort)
        && query.takes_all()
        && let Some(walk) = view.rows_by_column(column, query.descending)
    {
        let total = scope_total(&view, namespace.as_ref());
        let rows = walk
            .filter(|row| {
                namespace
                    .as_ref()
                    .is_none_or(|ns| Arc::ptr_eq(&row.namespace, ns))
            })
            .take(keep)
            .skip(query.offset)
            .cloned()
            .collect();
        return Some(answer(rows, total, total));
    }
    // And for a sort by namespace across namespaces (within one, its rows
    // are scanned as before).
    if let (Some(keep), SortKey::Namespace, None) = (keep, query.sort, &namespace)
        && query.takes_all()
    {
        let total = view.len();
        let rows = view
            .rows_by_namespace(query.descending)
            .take(keep)
            .skip(query.offset)
            .cloned()
            .collect();
        return Some(answer(rows, total, total));
    }
    // Big tables scan in parts, one thread each, on as many cores as there are.
    let parts = if view.len() >= PARALLEL_ROWS {
        crate::parallel::cores().min(MAX_PARTS)
    } else {
        1
    };
    let mut scans = if parts == 1 {
        vec![scan(
            view.entries_keyed(column),
            query,
            namespace.as_ref(),
            keep,
            cancelled,
        )]
    } else {
        let per_part = view.len().div_ceil(parts);
        let (view, namespace) = (&view, namespace.as_ref());
        let positions = (0..parts).map(|part| part * per_part..(part + 1) * per_part);
        crate::parallel::map_parts(positions, |positions| {
            vec![scan(
                view.entries_keyed_in(column, positions),
                query,
                namespace,
                keep,
                cancelled,
            )]
        })
    };
    if cancelled.load(AtomicOrdering::Relaxed) {
        return None;
    }
    let mut whole = scans.swap_remove(0);
    for part in scans {
        whole.total += part.total;
        whole.count += part.count;
        whole.matched.extend(part.matched);
        for ranked in part.heap {
            whole.keep(ranked, keep.unwrap_or(0));
        }
    }
    let Scan {
        heap,
        matched,
        total,
        count,
    } = whole;
    let rows = if keep.is_some() {
        heap.into_sorted_vec()
            .into_iter()
            .skip(query.offset)
            .map(|ranked| ranked.entry.row.clone())
            .collect()
    } else if query.sort == SortKey::Usage {
        by_usage(matched, query, count)
    } else {
        sorted_window(matched, query, count)
    };
    Some(answer(rows, total, count))
}

/// Rows a [`window_first`] walk looks at, at most, before it leaves the
/// query to a scan: each is a slot read out of order (a cache miss), so
/// this is a few milliseconds.
pub const WINDOW_FIRST_BUDGET: usize = 20_000;

/// Tables from this many rows answer a filter's window first by default:
/// those are the tables scanned in parts (smaller ones take a few ms).
pub const WINDOW_FIRST_ROWS: usize = PARALLEL_ROWS;

/// The window of a filtered query over a big table, found by walking the
/// table in the query's order until the window is full, without counting
/// every match: the rows of a filter typed key by key are drawn at once,
/// and [`run`] counts after. None when the query's order cannot be walked
/// (a column, usage), the table has fewer than `min_rows` rows, there is
/// nothing to filter (`run` walks then), or the matches are too sparse to
/// fill the window within `budget` rows. A walk that reaches the end has
/// seen every row: its answer is counted.
pub fn window_first(
    store: &Store,
    query: &Query,
    min_rows: usize,
    budget: usize,
) -> Option<QueryResult> {
    let (order, keep) = (query.walked_order()?, query.small_window()?);
    if query.takes_all() {
        return None;
    }
    let view = store.view();
    if view.len() < min_rows {
        return None;
    }
    let namespace = match &query.namespace {
        Some(name) => Some(view.namespace(name)?.clone()),
        None => None,
    };
    let total = scope_total(&view, namespace.as_ref());
    let walked = ordered_window(&view, order, namespace.as_ref(), query, keep, budget)?;
    Some(QueryResult {
        rows: walked.rows,
        total,
        matched: walked.matched,
        counted: walked.complete,
        status: view.status().clone(),
    })
}

/// Rows in the namespace scope (`namespace`, or all), without a scan.
fn scope_total(view: &crate::store::StoreView<'_>, namespace: Option<&Arc<str>>) -> usize {
    namespace.map_or_else(|| view.len(), |ns| view.count_in(ns))
}

/// Tables of at least this many rows scan in parts on threads of their own.
const PARALLEL_ROWS: usize = 50_000;
/// Parts of a scan at most.
const MAX_PARTS: usize = 8;

/// Rows a scan reads between looks at whether it was cancelled.
const CANCEL_EVERY: usize = 4096;

/// What a scan of (part of) a table found.
struct Scan<'a> {
    /// The best `keep` matches, when the query keeps a small window.
    heap: BinaryHeap<Ranked<'a>>,
    /// Every match, otherwise.
    matched: Vec<Entry<'a>>,
    /// Rows in the namespace scope.
    total: usize,
    /// Rows that passed.
    count: usize,
}

impl<'a> Scan<'a> {
    /// Keep `ranked` if it is among the best `keep`.
    fn keep(&mut self, ranked: Ranked<'a>, keep: usize) {
        if self.heap.len() < keep {
            self.heap.push(ranked);
        } else if let Some(mut worst) = self.heap.peek_mut()
            && ranked < *worst
        {
            *worst = ranked;
        }
    }
}

/// Scan `entries` for the rows in `namespace` that `query` admits: the
/// best `keep` of them in a bounded heap, or all when there is no `keep`.
fn scan<'a>(
    entries: impl Iterator<Item = Entry<'a>>,
    query: &Query,
    namespace: Option<&Arc<str>>,
    keep: Option<usize>,
    cancelled: &AtomicBool,
) -> Scan<'a> {
    let mut found = Scan {
        heap: BinaryHeap::with_capacity(keep.unwrap_or(0) + 1),
        matched: Vec::new(),
        total: 0,
        count: 0,
    };
    let mut matcher = Matcher::new(Config::DEFAULT);
    for (seen, entry) in entries.enumerate() {
        if seen % CANCEL_EVERY == 0 && cancelled.load(AtomicOrdering::Relaxed) {
            break;
        }
        if let Some(ns) = namespace
            && !Arc::ptr_eq(entry.namespace, ns)
        {
            continue;
        }
        found.total += 1;
        if !query.admits(&entry, &mut matcher) {
            continue;
        }
        found.count += 1;
        match keep {
            Some(0) => {}
            Some(keep) => {
                let ranked = Ranked {
                    entry,
                    sort: query.sort,
                    descending: query.descending,
                };
                found.keep(ranked, keep);
            }
            None => found.matched.push(entry),
        }
    }
    found
}

/// What [`ordered_window`] found.
struct Walked {
    /// The window.
    rows: Vec<Arc<Row>>,
    /// Matches taken: all of them when `complete`, else at least the window.
    matched: usize,
    /// Whether the walk reached the end (every row seen).
    complete: bool,
}

/// The first `keep` rows the query admits in its order (of `namespace`, or
/// all), walked in `order`, the order of a key the full order begins with:
/// rows whose key equals the last one taken are taken too, then all are
/// put in the full order (the rest of the name, namespace and name break
/// ties) and the window cut. None if `budget` rows were walked first.
fn ordered_window(
    view: &crate::store::StoreView<'_>,
    order: Order,
    namespace: Option<&Arc<str>>,
    query: &Query,
    keep: usize,
    budget: usize,
) -> Option<Walked> {
    if keep == 0 {
        return Some(Walked {
            rows: Vec::new(),
            matched: 0,
            complete: false,
        });
    }
    let mut taken: Vec<Ranked<'_>> = Vec::with_capacity(keep + 1);
    let mut matcher = Matcher::new(Config::DEFAULT);
    let mut complete = true;
    for (walked, entry) in view.entries_ordered(order, query.descending).enumerate() {
        if walked == budget {
            return None;
        }
        if let Some(ns) = namespace
            && !Arc::ptr_eq(entry.namespace, ns)
        {
            continue;
        }
        if !query.admits(&entry, &mut matcher) {
            continue;
        }
        if taken.len() >= keep
            && taken
                .last()
                .is_some_and(|last| order.entry_key(&last.entry) != order.entry_key(&entry))
        {
            complete = false;
            break;
        }
        taken.push(Ranked {
            entry,
            sort: query.sort,
            descending: query.descending,
        });
    }
    let matched = taken.len();
    taken.sort_unstable();
    let rows = taken
        .into_iter()
        .take(keep)
        .skip(query.offset)
        .map(|ranked| ranked.entry.row.clone())
        .collect();
    Some(Walked {
        rows,
        matched,
        complete,
    })
}

impl Query {
    /// Whether every row in the namespace scope passes (no names, label
    /// selector or filter).
    fn takes_all(&self) -> bool {
        self.filter.is_empty() && self.selector.is_empty() && self.names.is_empty()
    }

    /// The order a table keeps (`RowTable::entries_ordered`) that this
    /// query's sort begins with, if any.
    fn walked_order(&self) -> Option<Order> {
        match self.sort {
            SortKey::Newest => Some(Order::Newest),
            SortKey::Name => Some(Order::Name),
            _ => None,
        }
    }

    /// The window's end (offset + limit) when it is small enough to keep
    /// in a bounded heap or take from a walk.
    fn small_window(&self) -> Option<usize> {
        self.limit
            .map(|limit| self.offset.saturating_add(limit))
            .filter(|end| *end <= HEAP_WINDOW)
    }

    /// Whether a row in the namespace scope passes the names, the label
    /// selector and the filter.
    fn admits(&self, entry: &Entry<'_>, matcher: &mut Matcher) -> bool {
        (self.names.is_empty() || self.names.contains(&*entry.row.name))
            && (self.selector.is_empty() || self.selector.matches(|k| entry.row.label(k)))
            && (self.filter.is_empty() || self.filter.matches(entry, matcher))
    }
}

/// The window of `matched` (`count` rows) in the query's order: only the
/// window is put in order, after a partition around its end.
fn sorted_window(mut matched: Vec<Entry<'_>>, query: &Query, count: usize) -> Vec<Arc<Row>> {
    let compare = |a: &Entry<'_>, b: &Entry<'_>| {
        let ordering = compare_entries(a, b, query.sort);
        if query.descending {
            ordering.reverse()
        } else {
            ordering
        }
    };
    let end = query
        .limit
        .map_or(count, |limit| query.offset.saturating_add(limit).min(count));
    if end < count && end > 0 {
        matched.select_nth_unstable_by(end - 1, compare);
        matched.truncate(end);
    }
    matched.sort_unstable_by(compare);
    matched
        .into_iter()
        .skip(query.offset)
        .take(end.saturating_sub(query.offset))
        .map(|entry| entry.row.clone())
        .collect()
}

/// The window of `matched` in the order of a figure from outside the rows:
/// each row's figure is looked up once, then the rows are ordered by it.
fn by_usage(matched: Vec<Entry<'_>>, query: &Query, count: usize) -> Vec<Arc<Row>> {
    let empty = UsageKeys::new();
    let usage = query.usage.as_deref().unwrap_or(&empty);
    let mut keyed: Vec<(i64, Entry<'_>)> = matched
        .into_iter()
        .map(|entry| {
            let key = usage
                .get(&*entry.row.namespace)
                .and_then(|names| names.get(entry.row.name.as_str()))
                .copied()
                .unwrap_or(-1);
            (key, entry)
        })
        .collect();
    let compare = |a: &(i64, Entry<'_>), b: &(i64, Entry<'_>)| {
        let ordering = a.0.cmp(&b.0);
        let ordering = if query.descending {
            ordering.reverse()
        } else {
            ordering
        };
        ordering.then_with(|| by_identity(a.1.row, b.1.row))
    };
    let end = query
        .limit
        .map_or(count, |limit| query.offset.saturating_add(limit).min(count));
    if end < count && end > 0 {
        keyed.select_nth_unstable_by(end - 1, compare);
        keyed.truncate(end);
    }
    keyed.sort_unstable_by(compare);
    keyed
        .into_iter()
        .skip(query.offset)
        .take(end.saturating_sub(query.offset))
        .map(|(_, entry)| entry.row.clone())
        .collect()
}

/// Windows up to this many rows (offset + limit) are selected with a heap.
const HEAP_WINDOW: usize = 10_000;

/// An entry ordered by a query's sort, for the window heap (greatest = worst kept).
struct Ranked<'a> {
    entry: Entry<'a>,
    sort: SortKey,
    descending: bool,
}

impl Ord for Ranked<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let ordering = compare_entries(&self.entry, &other.entry, self.sort);
        if self.descending {
            ordering.reverse()
        } else {
            ordering
        }
    }
}

impl PartialOrd for Ranked<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked<'_> {}

fn compare_entries(a: &Entry<'_>, b: &Entry<'_>, key: SortKey) -> Ordering {
    match key {
        // The default order reads only the inline creation time (rows are touched on ties).
        SortKey::Newest => b
            .created_ms
            .cmp(&a.created_ms)
            .then_with(|| by_identity(a.row, b.row)),
        // The name sort reads the inline key; rows only when it ties.
        SortKey::Name => a
            .name_key
            .cmp(&b.name_key)
            .then_with(|| compare_rows(a.row, b.row, key)),
        // Namespaces are shared strings (few, and hot in the cache), then
        // the inline name key; rows only when both tie.
        SortKey::Namespace => a
            .namespace
            .cmp(b.namespace)
            .then_with(|| a.name_key.cmp(&b.name_key))
            .then_with(|| by_identity(a.row, b.row)),
        // A column's kept key (0 for all when the column keeps none); equal
        // exact keys are equal cells: on to namespace and name, inline.
        SortKey::Column(_) => a.column_key.cmp(&b.column_key).then_with(|| {
            if a.column_exact && b.column_exact {
                a.namespace
                    .cmp(b.namespace)
                    .then_with(|| a.name_key.cmp(&b.name_key))
                    .then_with(|| by_identity(a.row, b.row))
            } else {
                compare_rows(a.row, b.row, key)
            }
        }),
        other => compare_rows(a.row, b.row, other),
    }
}

/// How a sort by cell `column` orders two rows whose cell keys are equal:
/// by namespace, name and uid when both keys are the whole cell (their
/// cells are equal), else by the cells first.
pub fn column_ties(a: &Row, b: &Row, both_exact: bool, column: usize) -> Ordering {
    if both_exact {
        by_identity(a, b)
    } else {
        compare_rows(a, b, SortKey::Column(column))
    }
}

fn by_identity(a: &Row, b: &Row) -> Ordering {
    a.namespace
        .cmp(&b.namespace)
        .then_with(|| a.name.cmp(&b.name))
        .then_with(|| a.uid.cmp(&b.uid))
}

fn compare_rows(a: &Row, b: &Row, key: SortKey) -> Ordering {
    match key {
        SortKey::Newest => b
            .created_ms
            .cmp(&a.created_ms)
            .then_with(|| by_identity(a, b)),
        SortKey::Namespace | SortKey::Usage => by_identity(a, b),
        SortKey::Name => a.name.cmp(&b.name).then_with(|| by_identity(a, b)),
        SortKey::Column(index) => compare_cells(a.cells().get(index), b.cells().get(index))
            .then_with(|| by_identity(a, b)),
    }
}

/// Ages sort youngest first (like the default order); text sorts naturally,
/// so "9" < "10" and "1/2" < "10/12".
fn compare_cells(a: Option<CellRef<'_>>, b: Option<CellRef<'_>>) -> Ordering {
    let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
    if a.text.is_empty() && b.text.is_empty() {
        return b.since_ms.cmp(&a.since_ms);
    }
    natural_cmp(a.text, b.text).then_with(|| b.since_ms.cmp(&a.since_ms))
}

/// A cell's sort key: eight bytes, big-endian, that order as
/// [`compare_cells`] orders cells wherever they differ: `key(a) < key(b)`
/// implies `a` sorts before `b`; equal keys say nothing (compare the cells).
///
/// An empty text (or a missing cell) is a zero byte then its moment, newest
/// first. Any other text is [`natural_cmp`]'s order as bytes: other bytes
/// as they are; a run of digits as its value, in a byte that is itself a
/// digit (below every byte after `9`, above every byte before `0`, as a
/// digit compares with them) saying how many bytes the value takes, then
/// those bytes (`10.244.1.5` takes 8 bytes: `1 10 . 1 244 . 1 1`); zeros
/// fill the rest.
pub fn cell_key(cell: Option<CellRef<'_>>) -> u64 {
    exact_cell_key(cell).0
}

/// [`cell_key`], and whether the key is the whole cell: two cells whose
/// keys are equal and exact compare equal (so a sort goes on to the rows'
/// names without reading the cells). Exact: an empty text with its moment
/// in range, or a text without NUL bytes and without a moment that fits
/// the eight bytes whole.
pub fn exact_cell_key(cell: Option<CellRef<'_>>) -> (u64, bool) {
    let (key, exact) = cell_key_bytes::<8>(cell);
    (u64::from_be_bytes(key), exact)
}

/// [`exact_cell_key`] in sixteen bytes: the whole cell more often (a node
/// name such as `sim-node-988`, an IP such as `10.244.12.5`), so an order
/// kept by it reads the cells less.
pub fn wide_cell_key(cell: Option<CellRef<'_>>) -> (u128, bool) {
    let (key, exact) = cell_key_bytes::<16>(cell);
    (u128::from_be_bytes(key), exact)
}

/// A cell's key in `N` bytes (at least 8), as [`cell_key`] says.
fn cell_key_bytes<const N: usize>(cell: Option<CellRef<'_>>) -> ([u8; N], bool) {
    /// Moments fit 7 bytes until the year 4253.
    const MOMENT: i64 = (1 << 56) - 1;
    let mut key = [0u8; N];
    let Some(cell) = cell.filter(|c| !c.text.is_empty()) else {
        let since = cell.map_or(0, |c| c.since_ms);
        let exact = (0..=MOMENT).contains(&since);
        // A zero byte, then the moment, newest first, in 7 bytes.
        let moment = ((MOMENT - since.clamp(0, MOMENT)) as u64).to_be_bytes();
        key[..8].copy_from_slice(&moment);
        return (key, exact);
    };
    let text = cell.text.as_bytes();
    if text[0] == 0 {
        // Before every other text, after every empty one.
        key[0] = 1;
        return (key, false);
    }
    let mut n = 0;
    let mut i = 0;
    while i < text.len() && n < key.len() {
        if !text[i].is_ascii_digit() {
            key[n] = text[i];
            n += 1;
            i += 1;
            continue;
        }
        let run = text[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        let digits = trim_zeros(&text[i..i + run]);
        i += run;
        if digits.len() > 19 {
            // Past what 8 bytes hold: above every smaller number; stop.
            key[n] = b'9';
            return (key, false);
        }
        let value = digits
            .iter()
            .fold(0u64, |value, digit| value * 10 + u64::from(digit - b'0'));
        let width = (value.checked_ilog2().map_or(0, |bits| bits / 8 + 1)) as usize;
        key[n] = b'0' + width as u8;
        n += 1;
        for byte in &value.to_be_bytes()[8 - width..] {
            if n == key.len() {
                // Cut inside a number: not the whole cell.
                return (key, false);
            }
            key[n] = *byte;
            n += 1;
        }
    }
    let whole = i == text.len() && !text.contains(&0) && cell.since_ms == 0;
    (key, whole)
}

/// Compare strings treating runs of digits as numbers.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let a_len = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let b_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (a_num, b_num) = (trim_zeros(&a[..a_len]), trim_zeros(&b[..b_len]));
                let ordering = a_num.len().cmp(&b_num.len()).then_with(|| a_num.cmp(b_num));
                if ordering != Ordering::Equal {
                    return ordering;
                }
                a = &a[a_len..];
                b = &b[b_len..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let start = digits
        .iter()
        .position(|d| *d != b'0')
        .unwrap_or(digits.len());
    &digits[start..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Builtin;
    use crate::row::RowParts;
    use tokio::sync::watch;

    fn store_with(rows: &[(&str, &str, i64, &str, u32)]) -> Store {
        let store = Store::new(Builtin::PODS.kind(), Arc::new(watch::channel(0).0));
        for (i, (ns, name, created, status, restarts)) in rows.iter().enumerate() {
            store.apply(RowParts {
                namespace: ns.to_string(),
                name: name.to_string(),
                uid: format!("uid-{i}"),
                created_ms: *created,
                cells: vec![
                    Cell::text("1/1"),
                    Cell::text(*status),
                    Cell::text(restarts.to_string()),
                    Cell::age(Some(*created)),
                ],
                labels: vec![(
                    "app".into(),
                    name.split('-').next().unwrap_or_default().into(),
                )],
                object: Vec::new(),
            });
        }
        store
    }

    fn store_with_owned(rows: &[(String, String, i64, String, u32)]) -> Store {
        let borrowed: Vec<(&str, &str, i64, &str, u32)> = rows
            .iter()
            .map(|(a, b, c, d, e)| (a.as_str(), b.as_str(), *c, d.as_str(), *e))
            .collect();
        store_with(&borrowed)
    }

    fn names(result: &QueryResult) -> Vec<String> {
        result
            .rows
            .iter()
            .map(|r| format!("{}/{}", r.namespace, r.name))
            .collect()
    }

    fn query(sort: &str, filter: &str, selector: &str, namespace: Option<&str>) -> Query {
        Query::parse(
            Builtin::PODS.kind().spec(),
            namespace.map(str::to_string),
            filter,
            selector,
            sort,
            0,
            None,
        )
        .expect("valid")
    }

    const ROWS: &[(&str, &str, i64, &str, u32)] = &[
        ("shop", "web-1", 3000, "Running", 0),
        ("shop", "web-2", 1000, "CrashLoopBackOff", 12),
        ("kube-system", "dns-1", 2000, "Running", 9),
        ("shop", "api-1", 3000, "Pending", 2),
    ];

    /// A small window sorted by name (the bounded heap on the inline name
    /// key) is the same slice of the whole sort by name, both ways, names
    /// sharing their first eight bytes included.
    #[test]
    fn a_name_sorted_window_is_a_slice_of_the_whole_sort() {
        let rows: Vec<(String, String)> = (0..60)
            .map(|i| {
                let ns = if i % 3 == 0 { "kube-system" } else { "shop" };
                (
                    ns.to_string(),
                    format!("web-5d8f7c9b6-{:05}", (i * 7919) % 100),
                )
            })
            .chain([
                ("shop".to_string(), "api".to_string()),
                ("shop".to_string(), "a".to_string()),
            ])
            .collect();
        let table: Vec<(&str, &str, i64, &str, u32)> = rows
            .iter()
            .map(|(ns, name)| (ns.as_str(), name.as_str(), 1000, "Running", 0))
            .collect();
        let store = store_with(&table);
        for sort in ["name", "-name"] {
            let whole = names(&run(&store, &query(sort, "", "", None)));
            let mut sorted: Vec<(String, String)> = rows.clone();
            sorted.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            if sort == "-name" {
                sorted.reverse();
            }
            let expected: Vec<String> = sorted.iter().map(|(ns, n)| format!("{ns}/{n}")).collect();
            assert_eq!(
                whole, expected,
                "{sort}: the whole sort, by name then namespace"
            );
            let mut window = query(sort, "", "", None);
            window.offset = 7;
            window.limit = Some(10);
            assert_eq!(
                names(&run(&store, &window)),
                whole[7..17],
                "{sort}: a window"
            );
        }
    }

    #[test]
    fn default_sort_is_newest_first_then_namespace_and_name() {
        let store = store_with(ROWS);
        let result = run(&store, &query("", "", "", None));
        assert_eq!(
            names(&result),
            [
                "shop/api-1",
                "shop/web-1",
                "kube-system/dns-1",
                "shop/web-2"
            ]
        );
        assert_eq!((result.total, result.matched), (4, 4));
    }

    #[test]
    fn sorts_by_figures_from_outside_the_rows_with_the_unknown_last() {
        let store = store_with(ROWS);
        let mut q = query("", "", "", None);
        q.sort = SortKey::Usage;
        q.descending = true;
        let mut usage = UsageKeys::new();
        usage
            .entry("shop".into())
            .or_default()
            .insert("web-2".into(), 500);
        usage
            .entry("shop".into())
            .or_default()
            .insert("web-1".into(), 20);
        usage
            .entry("kube-system".into())
            .or_default()
            .insert("dns-1".into(), 90);
        q.usage = Some(Arc::new(usage));
        assert_eq!(
            names(&run(&store, &q)),
            [
                "shop/web-2",
                "kube-system/dns-1",
                "shop/web-1",
                "shop/api-1"
            ]
        );
        q.limit = Some(2);
        assert_eq!(names(&run(&store, &q)), ["shop/web-2", "kube-system/dns-1"]);
        q.descending = false;
        q.limit = None;
        assert_eq!(
            names(&run(&store, &q)),
            [
                "shop/api-1",
                "shop/web-1",
                "kube-system/dns-1",
                "shop/web-2"
            ]
        );
    }

    #[test]
    fn sorts_by_columns_naturally_and_reversed() {
        let store = store_with(ROWS);
        let by_restarts = run(&store, &query("restarts", "", "", None));
        assert_eq!(
            names(&by_restarts),
            [
                "shop/web-1",
                "shop/api-1",
                "kube-system/dns-1",
                "shop/web-2"
            ]
        );
        let reversed = run(&store, &query("-RESTARTS", "", "", None));
        assert_eq!(
            names(&reversed),
            [
                "shop/web-2",
                "kube-system/dns-1",
                "shop/api-1",
                "shop/web-1"
            ]
        );
        // kubectl's .metadata.creationTimestamp: oldest first, the default order reversed.
        let newest = names(&run(&store, &query("", "", "", None)));
        let oldest = names(&run(
            &store,
            &query(".metadata.creationTimestamp", "", "", None),
        ));
        assert_eq!(oldest, newest.iter().rev().cloned().collect::<Vec<_>>());
        assert_eq!(
            names(&run(
                &store,
                &query("-.metadata.creationTimestamp", "", "", None)
            )),
            newest
        );
        let by_name = run(&store, &query("name", "", "", None));
        assert_eq!(
            names(&by_name),
            [
                "shop/api-1",
                "kube-system/dns-1",
                "shop/web-1",
                "shop/web-2"
            ]
        );
        let by_namespace = run(&store, &query("namespace", "", "", None));
        assert_eq!(
            names(&by_namespace),
            [
                "kube-system/dns-1",
                "shop/api-1",
                "shop/web-1",
                "shop/web-2"
            ]
        );
        let by_age = run(&store, &query("age", "", "", None));
        assert_eq!(names(&by_age)[3], "shop/web-2", "oldest last");
    }

    /// AGE of a built-in kind sorts as the default order does (its cells
    /// are the creation time); `-age` is its reverse, windows included.
    #[test]
    fn age_sorts_as_the_creation_time() {
        let store = store_with(ROWS);
        let newest = names(&run(&store, &query("", "", "", None)));
        assert_eq!(names(&run(&store, &query("age", "", "", None))), newest);
        let mut oldest = names(&run(&store, &query("-age", "", "", None)));
        oldest.reverse();
        assert_eq!(oldest, newest);
        let mut window = query("age", "", "", None);
        window.offset = 1;
        window.limit = Some(2);
        assert_eq!(names(&run(&store, &window)), newest[1..3]);
    }

    #[test]
    fn filter_selector_and_namespace_combine() {
        let store = store_with(ROWS);
        let result = run(&store, &query("name", "run !kube-system", "", None));
        assert_eq!(names(&result), ["shop/web-1"]);
        let result = run(&store, &query("name", "", "app in (web,api)", Some("shop")));
        assert_eq!(names(&result), ["shop/api-1", "shop/web-1", "shop/web-2"]);
        assert_eq!((result.total, result.matched), (3, 3));
        let result = run(&store, &query("name", "crash", "app=web", Some("shop")));
        assert_eq!(names(&result), ["shop/web-2"]);
        assert_eq!((result.total, result.matched), (3, 1));
    }

    #[test]
    fn windows_match_the_full_sort() {
        // The partial sort of a window must give exactly the slice of a full sort.
        let rows: Vec<(String, String, i64, String, u32)> = (0..300u32)
            .map(|i| {
                let ns = format!("ns-{}", i % 7);
                (
                    ns,
                    format!("pod-{}", (i * 7919) % 1000),
                    i64::from(i % 13),
                    format!("S{}", i % 5),
                    (i * 31) % 17,
                )
            })
            .collect();
        let store = store_with_owned(&rows);
        let check = |store: &Store| {
            for namespace in [None, Some("ns-3"), Some("nowhere")] {
                for sort in [
                    "",
                    "-age",
                    "name",
                    "-restarts",
                    "status",
                    "age",
                    "namespace",
                ] {
                    let all = run(store, &query(sort, "", "", namespace));
                    let full = names(&all);
                    for (offset, limit) in [
                        (0, 10),
                        (5, 50),
                        (290, 20),
                        (0, 300),
                        (299, 1),
                        (400, 5),
                        (3, 0),
                    ] {
                        let mut q = query(sort, "", "", namespace);
                        q.offset = offset;
                        q.limit = Some(limit);
                        let answer = run(store, &q);
                        let want: Vec<String> =
                            full.iter().skip(offset).take(limit).cloned().collect();
                        let at =
                            format!("{namespace:?} sort {sort:?} offset {offset} limit {limit}");
                        assert_eq!(names(&answer), want, "{at}");
                        assert_eq!(
                            (answer.total, answer.matched),
                            (all.total, all.matched),
                            "{at}"
                        );
                    }
                }
            }
        };
        check(&store);
        // The default order's walk follows changes: rows deleted (the last
        // row moving into each hole) and rows made again with other times.
        for i in (0..300).step_by(4) {
            store.delete(&format!("uid-{i}"));
        }
        for i in (1..300).step_by(6) {
            let (ns, name, _, status, restarts) = &rows[i];
            store.apply(RowParts {
                namespace: ns.clone(),
                name: name.clone(),
                uid: format!("uid-{i}"),
                created_ms: 5 + (i as i64 % 3),
                cells: vec![
                    Cell::text("1/1"),
                    Cell::text(status.as_str()),
                    Cell::text(restarts.to_string()),
                ],
                ..RowParts::default()
            });
        }
        check(&store);
    }

    /// A table big enough to scan in parts answers as its rows say: the
    /// rows a selector picks, counted, in name order, newest first, all of
    /// them or a window, in every namespace or one (expected values from
    /// the rows as made here, not from a query).
    /// … and so does a window walked before the count (`window_first`),
    /// which gives up past its budget and counts when it sees every row;
    /// a scan whose client went away gives up.
    #[test]
    fn a_table_scanned_in_parts_answers_as_its_rows_say() {
        let n = PARALLEL_ROWS + 10_000;
        let rows: Vec<(String, String, i64, String, u32)> = (0..n)
            .map(|i| {
                (
                    format!("ns-{}", i % 9),
                    format!("{}-{i:06}", ["web", "api", "db"][i % 3]),
                    (i % 1000) as i64,
                    "Running".to_string(),
                    0,
                )
            })
            .collect();
        let store = store_with_owned(&rows);
        for namespace in [None, Some("ns-4")] {
            let picked: Vec<&(String, String, i64, String, u32)> = rows
                .iter()
                .filter(|r| r.1.starts_with("api-") && namespace.is_none_or(|ns| r.0 == ns))
                .collect();
            let scope = rows
                .iter()
                .filter(|r| namespace.is_none_or(|ns| r.0 == ns))
                .count();
            let mut by_name: Vec<String> =
                picked.iter().map(|r| format!("{}/{}", r.0, r.1)).collect();
            by_name.sort_by(|a, b| a.split('/').nth(1).cmp(&b.split('/').nth(1)));
            let mut newest = picked.clone();
            newest.sort_by(|a, b| {
                b.2.cmp(&a.2)
                    .then_with(|| a.0.cmp(&b.0))
                    .then_with(|| a.1.cmp(&b.1))
            });
            let newest: Vec<String> = newest.iter().map(|r| format!("{}/{}", r.0, r.1)).collect();
            for (sort, want) in [("name", &by_name), ("", &newest)] {
                let all = run(&store, &query(sort, "", "app=api", namespace));
                assert_eq!((all.total, all.matched), (scope, picked.len()));
                assert_eq!(&names(&all), want, "{namespace:?} {sort:?}");
                let mut window = query(sort, "", "app=api", namespace);
                window.offset = 3;
                window.limit = Some(20);
                let answer = run(&store, &window);
                assert_eq!(names(&answer), want[3..23], "{namespace:?} {sort:?} window");
                assert_eq!((answer.total, answer.matched), (scope, picked.len()));
                assert!(answer.counted);
                // The same window walked before counting: the same rows,
                // a lower bound for the count.
                let first = window_first(&store, &window, WINDOW_FIRST_ROWS, WINDOW_FIRST_BUDGET)
                    .expect("a third of the rows match: the walk fills the window");
                assert_eq!(names(&first), want[3..23], "{namespace:?} {sort:?} first");
                assert!(!first.counted);
                assert_eq!(first.total, scope);
                assert!((23..=picked.len()).contains(&first.matched));
                // Ten rows walked hold about three matches: left to a scan.
                assert!(window_first(&store, &window, 0, 10).is_none());
                // A window past the last match (one namespace's: windows
                // past HEAP_WINDOW are not walked): the walk sees every
                // row, so it counts.
                if namespace.is_some() {
                    let mut past = window.clone();
                    past.offset = picked.len() - 2;
                    let whole = window_first(&store, &past, 0, usize::MAX).expect("no budget");
                    assert!(whole.counted);
                    assert_eq!(names(&whole), want[picked.len() - 2..]);
                    assert_eq!((whole.total, whole.matched), (scope, picked.len()));
                }
                // A scan whose client has gone gives up, before its rows.
                assert!(run_unless(&store, &window, &AtomicBool::new(true)).is_none());
                let view = store.view();
                let gone = scan(view.entries(), &window, None, None, &AtomicBool::new(true));
                assert_eq!((gone.total, gone.count), (0, 0));
            }
        }
        // A table under the size asked for, nothing to filter, or an order
        // that is not walked: no window first.
        let mut window = query("", "", "app=api", None);
        window.limit = Some(20);
        assert!(window_first(&store, &window, n, WINDOW_FIRST_BUDGET).is_some());
        assert!(window_first(&store, &window, n + 1, WINDOW_FIRST_BUDGET).is_none());
        let mut plain = query("", "", "", None);
        plain.limit = Some(20);
        assert!(window_first(&store, &plain, 0, WINDOW_FIRST_BUDGET).is_none());
        let mut by_status = query("status", "", "app=api", None);
        by_status.limit = Some(20);
        assert!(window_first(&store, &by_status, 0, WINDOW_FIRST_BUDGET).is_none());
    }

    #[test]
    fn anchored_terms_match_fields_of_stored_rows() {
        let store = store_with(ROWS);
        let names = |filter: &str| names(&run(&store, &query("name", filter, "", None)));
        assert_eq!(
            names("^web"),
            ["shop/web-1", "shop/web-2"],
            "name starts with web"
        );
        assert_eq!(
            names("^kube"),
            ["kube-system/dns-1"],
            "namespace starts with kube"
        );
        assert_eq!(
            names("^Running$"),
            ["kube-system/dns-1", "shop/web-1"],
            "a whole cell"
        );
        assert_eq!(names("-1$ !^shop"), ["kube-system/dns-1"]);
        assert!(names("^hop").is_empty(), "inside a field is not its start");
        assert_eq!(names("^1/1$").len(), 4, "every row's READY cell");
        assert_eq!(names("'Running"), ["kube-system/dns-1", "shop/web-1"]);
    }

    #[test]
    fn unknown_sort_columns_list_the_columns() {
        let err =
            Query::parse(Builtin::PODS.kind().spec(), None, "", "", "colour", 0, None).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("NAMESPACE, NAME, READY, STATUS"), "{text}");
    }

    /// Wherever two cells' keys differ, they order the cells as the cells'
    /// own comparison does: natural text order (digit runs as numbers,
    /// leading zeros ignored, digits between the bytes below `0` and above
    /// `9`), empty texts first and by their moment, newest first.
    #[test]
    fn column_keys_order_as_cells_do() {
        let parts = [
            "",
            "0",
            "00",
            "1",
            "007",
            "7",
            "9",
            "10",
            "100",
            "a",
            "b",
            "/",
            ":",
            " ",
            "(",
            "Running",
            "Init:0/1",
            "Init:10/12",
            "1/2",
            "10/12",
            "CrashLoopBackOff",
            "CrashLoopBack",
            "\0",
            "\u{1}",
            "é",
            "5 ",
            "x9y",
            "x10y",
        ];
        let mut texts: Vec<String> = Vec::new();
        for a in parts {
            for b in ["", "0", "12", "z", "/3", "Off"] {
                texts.push(format!("{a}{b}"));
            }
        }
        texts.push("1".repeat(300));
        for number in [
            "255",
            "256",
            "65535",
            "65536",
            "9999999999999999999",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999",
            "100000000000000000000",
        ] {
            texts.push(number.to_string());
            texts.push(format!("{number}.1"));
        }
        texts.push(format!("{}2", "1".repeat(300)));
        let mut cells: Vec<CellRef> = Vec::new();
        for text in &texts {
            for since in [0, 1, 1_700_000_000_000, -5] {
                cells.push(CellRef {
                    text: text.as_str(),
                    since_ms: since,
                });
            }
        }
        // Both widths, the kept column keys (8 bytes, `cell_key`) and the
        // orders' (16): a key that differs orders as the cells do, equal
        // exact keys are equal cells.
        let widths = |cell: CellRef<'_>| {
            let (narrow, narrow_exact) = exact_cell_key(Some(cell));
            let (wide, wide_exact) = wide_cell_key(Some(cell));
            // The wide key begins with the narrow one.
            assert_eq!((wide >> 64) as u64, narrow, "{:?}", cell.text);
            assert!(!narrow_exact || wide_exact, "{:?}", cell.text);
            [(wide, wide_exact), (u128::from(narrow), narrow_exact)]
        };
        for &a in &cells {
            for &b in &cells {
                for ((ka, exact_a), (kb, exact_b)) in widths(a).into_iter().zip(widths(b)) {
                    if ka != kb {
                        assert_eq!(
                            compare_cells(Some(a), Some(b)),
                            ka.cmp(&kb),
                            "{:?}@{} vs {:?}@{}",
                            a.text,
                            a.since_ms,
                            b.text,
                            b.since_ms
                        );
                    } else if exact_a && exact_b {
                        assert_eq!(
                            compare_cells(Some(a), Some(b)),
                            Ordering::Equal,
                            "exact keys: {:?}@{} vs {:?}@{}",
                            a.text,
                            a.since_ms,
                            b.text,
                            b.since_ms
                        );
                    }
                }
            }
            assert_eq!(cell_key(None), cell_key(Some(CellRef::default())));
        }
        // Keys decide most pairs: the rows are read only on ties.
        let decided = cells
            .iter()
            .flat_map(|a| cells.iter().map(move |b| (a, b)))
            .filter(|(a, b)| cell_key(Some(**a)) != cell_key(Some(**b)))
            .count();
        assert!(decided * 10 > cells.len() * cells.len() * 8, "{decided}");
    }

    /// A sort by a column or by namespace, whole or windowed, is the order
    /// of the rows' cells and names (read from the rows, as without keys);
    /// and stays so after rows change, appear and go away once the
    /// column's keys and order are made (a window walks the order).
    #[test]
    fn column_sorts_follow_the_cells_through_changes() {
        let statuses = [
            "Running",
            "Pending",
            "Init:0/1",
            "Init:10/12",
            "Init:9/12",
            "CrashLoopBackOff",
            "CrashLoopBack",
            // Its key is the whole cell, and the first eight bytes of the two above.
            "CrashLoo",
            "Error",
            "",
        ];
        let rows: Vec<(String, String, i64, String, u32)> = (0..200u32)
            .map(|i| {
                (
                    // Namespaces cut across statuses (each holds five of the ten).
                    format!("ns-{}", i % 4),
                    format!("pod-{i}"),
                    i64::from(i % 11),
                    statuses[(i as usize * 7) % statuses.len()].to_string(),
                    (i * 37) % 23,
                )
            })
            .collect();
        let store = store_with_owned(&rows);
        let check = |store: &Store, moment: &str| {
            for (sort, key) in [
                ("status", SortKey::Column(1)),
                ("restarts", SortKey::Column(2)),
                ("ready", SortKey::Column(0)),
                ("namespace", SortKey::Namespace),
            ] {
                for descending in [false, true] {
                    let mut expected: Vec<Arc<Row>> = store.view().rows().cloned().collect();
                    expected.sort_by(|a, b| {
                        let ordering = compare_rows(a, b, key);
                        if descending {
                            ordering.reverse()
                        } else {
                            ordering
                        }
                    });
                    let expected: Vec<String> = expected
                        .iter()
                        .map(|r| format!("{}/{}", r.namespace, r.name))
                        .collect();
                    let sort = if descending {
                        format!("-{sort}")
                    } else {
                        sort.to_string()
                    };
                    let whole = names(&run(store, &query(&sort, "", "", None)));
                    assert_eq!(whole, expected, "{moment}: {sort}, whole");
                    let mut window = query(&sort, "", "", None);
                    window.offset = 13;
                    window.limit = Some(20);
                    assert_eq!(
                        names(&run(store, &window)),
                        expected[13..33],
                        "{moment}: {sort}, a window"
                    );
                }
            }
        };
        check(&store, "first sort");
        // Changes after the keys are made: new statuses, new rows, deletions
        // (a deletion moves the last row into the hole).
        for i in (0..200).step_by(3) {
            store.apply(RowParts {
                namespace: format!("ns-{}", i % 3),
                name: format!("pod-{i}"),
                uid: format!("uid-{i}"),
                created_ms: 5,
                cells: vec![
                    Cell::text(format!("{}/3", i % 4)),
                    Cell::text(statuses[(i * 5) % statuses.len()]),
                    Cell::text((i % 7).to_string()),
                    Cell::age(Some(5)),
                ],
                labels: Vec::new(),
                object: Vec::new(),
            });
        }
        for i in (0..200).step_by(7) {
            store.delete(&format!("uid-{i}"));
        }
        for i in 200..230 {
            store.apply(RowParts {
                namespace: "ns-new".into(),
                name: format!("pod-{i}"),
                uid: format!("uid-{i}"),
                created_ms: 9,
                cells: vec![
                    Cell::text("0/1"),
                    Cell::text("ContainerCreating"),
                    Cell::text("0"),
                    Cell::age(Some(9)),
                ],
                labels: Vec::new(),
                object: Vec::new(),
            });
        }
        check(&store, "after changes");
    }

    #[test]
    fn natural_order() {
        assert_eq!(natural_cmp("9", "10"), Ordering::Less);
        assert_eq!(natural_cmp("pod-10", "pod-9"), Ordering::Greater);
        assert_eq!(natural_cmp("1/2", "10/12"), Ordering::Less);
        assert_eq!(natural_cmp("007", "7"), Ordering::Equal);
        assert_eq!(natural_cmp("a", "b"), Ordering::Less);
    }
}
