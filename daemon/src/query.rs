//! Queries over one store: namespace scope, filter, label selector, sort,
//! then the requested window. Only the window is copied out.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use nucleo_matcher::{Config, Matcher};

use crate::catalog::{KindSpec, Source};
use crate::filter::{Filter, FilterError};
use crate::row::{Cell, Row};
use crate::row_table::Entry;
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
    /// Rows that passed filter and selector.
    pub matched: usize,
    /// The kind's status when the query ran.
    pub status: SyncStatus,
}

/// Run a query against a store.
pub fn run(store: &Store, query: &Query) -> QueryResult {
    let view = store.view();
    let answer = |rows, total, matched| QueryResult {
        rows,
        total,
        matched,
        status: view.status().clone(),
    };
    // Namespaces are shared strings: compare pointers, not text. A namespace
    // no row is in matches nothing.
    let namespace = match &query.namespace {
        Some(name) => match view.namespace(name) {
            Some(shared) => Some(shared.clone()),
            None => return answer(Vec::new(), 0, 0),
        },
        None => None,
    };
    // A small window (the usual case: a screen of rows) in the default order
    // or by name keeps only its best rows in a bounded heap, one comparison
    // per row; otherwise every match is collected and partitioned.
    // Only for the orders whose key is inline (creation time, the name's
    // first bytes): other sorts read the Row to compare, and the heap
    // compares more often than a partition.
    let keep = query
        .limit
        .map(|limit| query.offset.saturating_add(limit))
        .filter(|k| *k <= HEAP_WINDOW && matches!(query.sort, SortKey::Newest | SortKey::Name));
    let mut heap: BinaryHeap<Ranked<'_>> = BinaryHeap::with_capacity(keep.unwrap_or(0) + 1);
    let mut matcher = Matcher::new(Config::DEFAULT);
    let (mut total, mut count) = (0, 0);
    let mut matched: Vec<Entry<'_>> = Vec::new();
    for entry in view.entries() {
        if let Some(ns) = &namespace
            && !Arc::ptr_eq(entry.namespace, ns)
        {
            continue;
        }
        total += 1;
        if !query.admits(&entry, &mut matcher) {
            continue;
        }
        count += 1;
        match keep {
            Some(0) => {}
            Some(keep) => {
                let ranked = Ranked {
                    entry,
                    sort: query.sort,
                    descending: query.descending,
                };
                if heap.len() < keep {
                    heap.push(ranked);
                } else if let Some(mut worst) = heap.peek_mut()
                    && ranked < *worst
                {
                    *worst = ranked;
                }
            }
            None => matched.push(entry),
        }
    }
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
    answer(rows, total, count)
}

impl Query {
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
        other => compare_rows(a.row, b.row, other),
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
        SortKey::Column(index) => {
            compare_cells(a.cells.get(index), b.cells.get(index)).then_with(|| by_identity(a, b))
        }
    }
}

/// Ages sort youngest first (like the default order); text sorts naturally,
/// so "9" < "10" and "1/2" < "10/12".
fn compare_cells(a: Option<&Cell>, b: Option<&Cell>) -> Ordering {
    let empty = Cell::default();
    let (a, b) = (a.unwrap_or(&empty), b.unwrap_or(&empty));
    if a.text.is_empty() && b.text.is_empty() {
        return b.since_ms.cmp(&a.since_ms);
    }
    natural_cmp(&a.text, &b.text).then_with(|| b.since_ms.cmp(&a.since_ms))
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
        let borrowed: Vec<(&str, &str, i64, &str, u32)> = rows
            .iter()
            .map(|(a, b, c, d, e)| (a.as_str(), b.as_str(), *c, d.as_str(), *e))
            .collect();
        let store = store_with(&borrowed);
        for sort in ["", "name", "-restarts", "status", "age", "namespace"] {
            let full = names(&run(&store, &query(sort, "", "", None)));
            for (offset, limit) in [(0, 10), (5, 50), (290, 20), (0, 300), (299, 1), (400, 5)] {
                let mut q = query(sort, "", "", None);
                q.offset = offset;
                q.limit = Some(limit);
                let window = names(&run(&store, &q));
                let want: Vec<String> = full.iter().skip(offset).take(limit).cloned().collect();
                assert_eq!(window, want, "sort {sort:?} offset {offset} limit {limit}");
            }
        }
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

    #[test]
    fn natural_order() {
        assert_eq!(natural_cmp("9", "10"), Ordering::Less);
        assert_eq!(natural_cmp("pod-10", "pod-9"), Ordering::Greater);
        assert_eq!(natural_cmp("1/2", "10/12"), Ordering::Less);
        assert_eq!(natural_cmp("007", "7"), Ordering::Equal);
        assert_eq!(natural_cmp("a", "b"), Ordering::Less);
    }
}
