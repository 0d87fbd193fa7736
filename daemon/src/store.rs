//! The cache of one kind: rows by uid, the sync status, and a change counter
//! that queries and streams can wait on.
//!
//! During a relist (`begin_relist` … `finish_relist`) the old rows keep
//! serving; the new set replaces them in one step when the list is complete.
//! A namespace-scoped cache (RBAC allows no cluster-wide list) relists each
//! namespace on its own (`begin_relist_in` … `finish_relist_in`), replacing
//! only that namespace's rows.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::sync::watch;

use crate::catalog::Kind;
use crate::codec::ObjectCodec;
use crate::row::{Row, RowParts, Uid};
use crate::row_table::{Entry, RowTable};
use crate::status::{SyncState, SyncStatus};

/// One kind's cache.
#[derive(Debug)]
pub struct Store {
    kind: Kind,
    limit: Option<RowLimit>,
    codec: ObjectCodec,
    inner: RwLock<Inner>,
    /// Bumped on every change of rows or status.
    changes: watch::Sender<u64>,
    /// Bumped on every change of status state (not of counts), shared by all kinds of a cluster.
    status_changes: Arc<watch::Sender<u64>>,
    /// Queries and streams using the store now, and when the last one ended.
    usage: std::sync::Mutex<(usize, std::time::Instant)>,
    /// Watch events that came while a query held the rows, in order.
    pending: std::sync::Mutex<Vec<Pending>>,
}

/// An informer's event not applied yet.
#[derive(Debug)]
enum Pending {
    Apply(RowParts),
    Delete(Uid),
    /// One object of a (re)list.
    RelistApply(RowParts),
    /// One object of a namespace's (re)list.
    RelistApplyIn(Box<str>, RowParts),
    /// The resourceVersion the rows are now at (after the events before it).
    Version(Box<str>),
}

/// Events queued at most before a write waits for the queries to end.
const MAX_PENDING: usize = 4096;

/// A query or stream using a store; dropped, it marks the store's last use.
#[derive(Debug)]
pub struct StoreUse(Arc<Store>);

impl Drop for StoreUse {
    fn drop(&mut self) {
        let mut usage = self.0.usage.lock().unwrap_or_else(|p| p.into_inner());
        usage.0 = usage.0.saturating_sub(1);
        usage.1 = std::time::Instant::now();
    }
}

#[derive(Debug, Default)]
struct Inner {
    rows: RowTable,
    /// Rows of a relist in progress.
    relist: Option<RowTable>,
    /// Rows of namespace relists in progress, by namespace.
    partial: HashMap<Box<str>, RowTable>,
    namespaces: HashMap<Box<str>, Arc<str>>,
    status: SyncStatus,
    /// Namespaces of the scope where listing is forbidden (skipped).
    forbidden: Vec<String>,
    /// The resourceVersion the rows are at, when known (protobuf lists and
    /// watches): never ahead of the rows, so a watch resumed from it misses
    /// nothing. Written to snapshots.
    version: Option<Box<str>>,
    /// A snapshot's resourceVersion, until the informer resumes from it.
    resume: Option<Box<str>>,
    /// Where restored rows came from ("rows from the snapshot of 3m ago"),
    /// said with every failure until the kind first syncs.
    restored: Option<Box<str>>,
}

impl Inner {
    fn intern(&mut self, namespace: &str) -> Arc<str> {
        if let Some(shared) = self.namespaces.get(namespace) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(namespace);
        self.namespaces.insert(namespace.into(), shared.clone());
        shared
    }

    fn row(&mut self, parts: RowParts) -> Arc<Row> {
        let namespace = self.intern(&parts.namespace);
        Arc::new(Row::new(parts, |_| namespace))
    }
}

/// A synced kind's rows and the resourceVersion they are at, if known.
#[derive(Debug)]
pub struct SyncedRows {
    pub rows: Vec<Arc<Row>>,
    pub version: Option<Box<str>>,
}

/// A bound on a store's rows: past `max`, the least recent rows go.
#[derive(Debug, Clone, Copy)]
pub struct RowLimit {
    /// Rows kept at most (evictions run in batches of an eighth above it).
    pub max: usize,
    /// How recent a row is; the smallest go first.
    pub recency: fn(&Row) -> i64,
}

impl RowLimit {
    /// Events: the newest 20,000 by LAST SEEN (their first cell), which the
    /// API server itself forgets after an hour.
    pub const EVENTS: RowLimit = RowLimit {
        max: 20_000,
        recency: |row| match row.cells().first() {
            Some(cell) if cell.since_ms != 0 => cell.since_ms,
            _ => row.created_ms,
        },
    };

    /// Drop the least recent rows once the table is an eighth over the limit.
    fn enforce(&self, rows: &mut RowTable) {
        if rows.len() <= self.max + self.max / 8 {
            return;
        }
        let mut by_recency: Vec<(i64, Uid)> = rows
            .entries()
            .map(|e| ((self.recency)(e.row), e.row.uid.clone()))
            .collect();
        let excess = by_recency.len() - self.max;
        by_recency.select_nth_unstable_by_key(excess - 1, |(recency, _)| *recency);
        for (_, uid) in &by_recency[..excess] {
            rows.remove(uid);
        }
    }
}

/// A read view of a store, held for the length of one query.
pub struct StoreView<'a> {
    /// Always Some until dropped (released before pending events apply).
    guard: Option<RwLockReadGuard<'a, Inner>>,
    store: &'a Store,
}

impl Drop for StoreView<'_> {
    fn drop(&mut self) {
        self.guard = None;
        // Watch events that came during the query apply now.
        self.store.flush();
    }
}

impl StoreView<'_> {
    fn inner(&self) -> &Inner {
        self.guard
            .as_ref()
            .expect("a view holds its guard until dropped")
    }

    /// Every row, in no particular order.
    pub fn rows(&self) -> impl Iterator<Item = &Arc<Row>> {
        self.inner().rows.entries().map(|entry| entry.row)
    }

    /// Every row as queries scan it, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        self.inner().rows.entries()
    }

    /// Every row with its sort key for the cell `column`
    /// ([`RowTable::entries_keyed`]).
    pub fn entries_keyed(&self, column: usize) -> impl Iterator<Item = Entry<'_>> {
        self.inner().rows.entries_keyed(column)
    }

    /// [`RowTable::entries_keyed_in`]: the rows at `positions` of `0..len()`.
    pub fn entries_keyed_in(
        &self,
        column: usize,
        positions: std::ops::Range<usize>,
    ) -> impl Iterator<Item = Entry<'_>> {
        self.inner().rows.entries_keyed_in(column, positions)
    }

    /// Every row in `order`'s order, or the reverse ([`RowTable::entries_ordered`]).
    pub fn entries_ordered(
        &self,
        order: crate::row_table::Order,
        reverse: bool,
    ) -> impl Iterator<Item = Entry<'_>> {
        self.inner().rows.entries_ordered(order, reverse)
    }

    /// Every row in the order of a sort by cell `column`, or the reverse
    /// ([`RowTable::rows_by_column`]).
    pub fn rows_by_column(
        &self,
        column: usize,
        reverse: bool,
    ) -> Option<impl Iterator<Item = &Arc<Row>>> {
        self.inner().rows.rows_by_column(column, reverse)
    }

    /// Every row in the order of a sort by namespace, or the reverse
    /// ([`RowTable::rows_by_namespace`]).
    pub fn rows_by_namespace(&self, reverse: bool) -> impl Iterator<Item = &Arc<Row>> {
        self.inner().rows.rows_by_namespace(reverse)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.inner().rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.inner().rows.is_empty()
    }

    /// Rows in the namespace `namespace`.
    pub fn count_in(&self, namespace: &str) -> usize {
        self.inner().rows.count_in(namespace)
    }

    /// The shared string of a namespace some row is in (rows compare by pointer).
    pub fn namespace(&self, name: &str) -> Option<&Arc<str>> {
        self.inner().namespaces.get(name)
    }

    /// The row of the object `namespace/name`.
    pub fn find(&self, namespace: &str, name: &str) -> Option<&Arc<Row>> {
        self.inner().rows.find(namespace, name)
    }

    /// The sync status.
    pub fn status(&self) -> &SyncStatus {
        &self.inner().status
    }
}

impl Store {
    /// An empty, PENDING store.
    pub fn new(kind: Kind, status_changes: Arc<watch::Sender<u64>>) -> Store {
        Store::with_limit(kind, None, status_changes)
    }

    /// An empty, PENDING store that keeps at most `limit` rows.
    pub fn with_limit(
        kind: Kind,
        limit: Option<RowLimit>,
        status_changes: Arc<watch::Sender<u64>>,
    ) -> Store {
        Store {
            kind,
            limit,
            codec: ObjectCodec::new(),
            inner: RwLock::new(Inner::default()),
            changes: watch::channel(0).0,
            status_changes,
            usage: std::sync::Mutex::new((0, std::time::Instant::now())),
            pending: std::sync::Mutex::default(),
        }
    }

    /// Mark the store in use until the returned guard is dropped.
    pub fn begin_use(self: &Arc<Self>) -> StoreUse {
        self.usage.lock().unwrap_or_else(|p| p.into_inner()).0 += 1;
        StoreUse(self.clone())
    }

    /// How long nothing has used the store; None while something does.
    pub fn unused_for(&self) -> Option<std::time::Duration> {
        let usage = self.usage.lock().unwrap_or_else(|p| p.into_inner());
        (usage.0 == 0).then(|| usage.1.elapsed())
    }

    /// How this store keeps objects for `Get`.
    pub fn codec(&self) -> &ObjectCodec {
        &self.codec
    }

    /// The kind this store caches.
    pub fn kind(&self) -> &Kind {
        &self.kind
    }

    /// The rows to change, with every watch event still pending applied
    /// first (in order), whoever writes next.
    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        // A panic while holding the lock cannot leave rows half-written in a
        // way that matters more than losing the cache, so poison is ignored.
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.apply_pending(&mut inner, &mut pending);
        inner
    }

    /// An informer's event (a watch event, an object of a list): applied now
    /// if no query holds the rows, else queued
    /// for when it is done (`StoreView`'s drop) or the next write. The
    /// informer never waits for a scan; a query never sees half an event.
    fn change(&self, event: Pending) {
        self.change_all(std::iter::once(event));
    }

    /// [`Store::change`] for events in order, under one lock, with one
    /// wake-up.
    fn change_all(&self, events: impl IntoIterator<Item = Pending>) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.extend(events);
        let inner = if pending.len() >= MAX_PENDING {
            // A long stream of overlapping queries: wait for a gap.
            Some(
                self.inner
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            )
        } else {
            match self.inner.try_write() {
                Ok(inner) => Some(inner),
                Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            }
        };
        if let Some(mut inner) = inner {
            // A resourceVersion alone (a BOOKMARK's) changes no row: the
            // streams watching the kind have nothing to ask again.
            let rows_changed = pending.iter().any(|e| !matches!(e, Pending::Version(_)));
            self.apply_pending(&mut inner, &mut pending);
            drop(inner);
            drop(pending);
            if rows_changed {
                self.changed(false);
            }
        }
    }

    /// Apply what is pending, if anything (after a query ended).
    fn flush(&self) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if pending.is_empty() {
            return;
        }
        if let Ok(mut inner) = self.inner.try_write() {
            self.apply_pending(&mut inner, &mut pending);
            drop(inner);
            drop(pending);
            self.changed(false);
        }
    }

    fn apply_pending(&self, inner: &mut Inner, pending: &mut Vec<Pending>) {
        if pending.is_empty() {
            return;
        }
        for event in pending.drain(..) {
            self.apply_event(inner, event);
        }
    }

    fn apply_event(&self, inner: &mut Inner, event: Pending) {
        let loading = matches!(inner.status.state, SyncState::Loading | SyncState::Pending);
        match event {
            // The state is not touched: only a finished relist (of every
            // namespace of the scope) makes a kind SYNCED.
            Pending::Apply(parts) => {
                let row = inner.row(parts);
                inner.rows.insert(row);
                if let Some(limit) = &self.limit {
                    limit.enforce(&mut inner.rows);
                }
                inner.status.objects = inner.rows.len() as u64;
            }
            Pending::Delete(uid) => {
                inner.rows.remove(&uid);
                inner.status.objects = inner.rows.len() as u64;
            }
            Pending::RelistApply(parts) => {
                let row = inner.row(parts);
                let relist = inner.relist.get_or_insert_with(RowTable::default);
                relist.insert(row);
                if let Some(limit) = &self.limit {
                    limit.enforce(relist);
                }
                let received = relist.len() as u64;
                if loading {
                    inner.status.objects = received;
                }
            }
            Pending::Version(version) => inner.version = Some(version),
            Pending::RelistApplyIn(namespace, parts) => {
                let row = inner.row(parts);
                let table = inner.partial.entry(namespace).or_default();
                table.insert(row);
                if let Some(limit) = &self.limit {
                    limit.enforce(table);
                }
                if loading {
                    inner.status.objects = (inner.rows.len()
                        + inner.partial.values().map(RowTable::len).sum::<usize>())
                        as u64;
                }
            }
        }
    }

    /// Read the store for one query.
    pub fn view(&self) -> StoreView<'_> {
        StoreView {
            guard: Some(
                self.inner
                    .read()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            ),
            store: self,
        }
    }

    /// A receiver that sees every change to rows or status.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Compress again, with the kind's dictionary, the kept objects of the
    /// rows that were kept before it was trained ([`ObjectCodec::recompress`]);
    /// how many were. The work is done outside the lock, on the caller's
    /// thread (call it off the runtime); each chunk goes in under one short
    /// write lock, and a row that changed meanwhile keeps its newer object.
    /// Rows of a relist in progress are not visited (a relist after training
    /// compresses with the dictionary). Nothing a query sees changes, so no
    /// stream wakes up.
    pub fn recompress_kept(&self) -> usize {
        const CHUNK: usize = 1024;
        let plain: Vec<Arc<Row>> = self
            .view()
            .rows()
            .filter(|row| self.codec.recompressible(&row.object))
            .cloned()
            .collect();
        let mut replaced = 0;
        let mut plain = plain.into_iter().peekable();
        while plain.peek().is_some() {
            let chunk: Vec<(Arc<Row>, Box<[u8]>)> = plain
                .by_ref()
                .take(CHUNK)
                .filter_map(|row| {
                    let object = self.codec.recompress(&row.object)?;
                    Some((row, object))
                })
                .collect();
            let mut inner = self.write();
            for (row, object) in chunk {
                replaced += usize::from(inner.rows.replace_object(row, object));
            }
        }
        replaced
    }

    /// Approximate bytes of the rows and kept objects (heap parts and the
    /// row structs; not allocator overhead or the search index).
    pub fn approximate_bytes(&self) -> u64 {
        let view = self.view();
        view.rows()
            .map(|row| {
                let heap = |s: &str| if s.len() > 24 { s.len() } else { 0 };
                std::mem::size_of::<Row>()
                    + heap(&row.name)
                    + row.uid.heap_bytes()
                    + row.object.len()
                    + row.fields.heap_bytes()
            })
            .sum::<usize>() as u64
    }

    /// The current status.
    pub fn status(&self) -> SyncStatus {
        self.view().status().clone()
    }

    fn changed(&self, state_changed: bool) {
        self.changes.send_modify(|n| *n += 1);
        if state_changed {
            self.status_changes.send_modify(|n| *n += 1);
        }
    }

    fn set_state(&self, inner: &mut Inner, state: SyncState, message: impl Into<String>) -> bool {
        let message = message.into();
        let changed = inner.status.state != state || inner.status.message != message;
        inner.status.set(state, message);
        changed
    }

    /// The rows are at this resourceVersion now (after the events and the
    /// list given before it: it is applied in their order).
    pub fn record_version(&self, version: &str) {
        self.change(Pending::Version(version.into()));
    }

    /// What a snapshot keeps of the kind: every row and the resourceVersion
    /// they are at (if known), when the kind is SYNCED (rows that are
    /// loading, stale or failed are not written).
    pub fn synced_rows(&self) -> Option<SyncedRows> {
        let view = self.view();
        (view.status().state == SyncState::Synced).then(|| SyncedRows {
            rows: view.rows().cloned().collect(),
            version: view.inner().version.clone(),
        })
    }

    /// The snapshot's resourceVersion to resume the watch from, once: the
    /// informer's first stream takes it.
    pub fn take_resume(&self) -> Option<Box<str>> {
        self.write().resume.take()
    }

    /// Serve rows from a snapshot, STALE, said with `note` (where they came
    /// from), until the informer's first list replaces them or its watch
    /// resumes from `version`; while the API server cannot be reached they
    /// stay served, STALE. Only a kind that holds nothing yet (PENDING, no
    /// rows) takes them; false otherwise.
    pub fn restore(&self, rows: Vec<RowParts>, version: Option<String>, note: String) -> bool {
        let mut inner = self.write();
        if inner.status.state != SyncState::Pending || !inner.rows.is_empty() {
            return false;
        }
        inner.version = version.as_deref().map(Into::into);
        inner.resume = version.map(Into::into);
        inner.rows.reserve(rows.len());
        for parts in rows {
            let row = inner.row(parts);
            inner.rows.insert(row);
        }
        inner.status.objects = inner.rows.len() as u64;
        self.set_state(&mut inner, SyncState::Stale, format!("{note}; resuming"));
        inner.restored = Some(note.into());
        drop(inner);
        self.changed(true);
        true
    }

    /// The informer started: PENDING becomes LOADING.
    pub fn start(&self) {
        let mut inner = self.write();
        if inner.status.started.is_none() {
            inner.status.started = Some(std::time::Instant::now());
        }
        let changed = inner.status.state == SyncState::Pending
            && self.set_state(&mut inner, SyncState::Loading, "");
        drop(inner);
        self.changed(changed);
    }

    /// A (re)list begins: rows are collected aside until `finish_relist`.
    pub fn begin_relist(&self) {
        let mut inner = self.write();
        inner.relist = Some(RowTable::default());
        drop(inner);
        self.changed(false);
    }

    /// Objects of the relist, in order.
    pub fn relist_apply(&self, objects: Vec<RowParts>) {
        self.change_all(objects.into_iter().map(Pending::RelistApply));
    }

    /// The relist is complete: its rows replace the old ones; the kind is SYNCED.
    pub fn finish_relist(&self) {
        let mut inner = self.write();
        if let Some(rows) = inner.relist.take() {
            inner.rows = rows;
        }
        self.synced(inner);
    }

    /// Cache only `namespaces` (RBAC allows no cluster-wide list), with
    /// `forbidden` ones of the scope skipped. Rows, and relists in
    /// progress, outside the new scope are dropped: they would never be
    /// updated again.
    pub fn set_scope(&self, namespaces: Vec<String>, forbidden: Vec<String>) {
        let mut inner = self.write();
        if !namespaces.is_empty() {
            let outside: Vec<Uid> = inner
                .rows
                .entries()
                .filter(|e| !namespaces.iter().any(|ns| **ns == *e.row.namespace))
                .map(|e| e.row.uid.clone())
                .collect();
            for uid in outside {
                inner.rows.remove(&uid);
            }
            inner
                .partial
                .retain(|ns, _| namespaces.iter().any(|n| **n == **ns));
            inner.status.objects = inner.rows.len() as u64;
        }
        inner.status.scope = namespaces;
        inner.forbidden = forbidden;
        drop(inner);
        self.changed(true);
    }

    /// A LIST after the first begins, because of `reason`: counted in the
    /// kind's status, so relists that should not happen are seen.
    pub fn record_relist(&self, reason: &str) {
        let mut inner = self.write();
        inner.status.relists += 1;
        inner.status.last_relist_reason = reason.to_string();
        drop(inner);
        self.changed(true);
    }

    /// How the kind travels from the API server, shown in its status.
    pub fn set_encoding(&self, encoding: String) {
        let mut inner = self.write();
        let changed = inner.status.encoding != encoding;
        inner.status.encoding = encoding;
        drop(inner);
        self.changed(changed);
    }

    /// A namespace's (re)list begins; its rows are collected aside.
    pub fn begin_relist_in(&self, namespace: &str) {
        let mut inner = self.write();
        inner.partial.insert(namespace.into(), RowTable::default());
        drop(inner);
        self.changed(false);
    }

    /// Objects of a namespace's relist, in order.
    pub fn relist_apply_in(&self, namespace: &str, objects: Vec<RowParts>) {
        self.change_all(
            objects
                .into_iter()
                .map(|parts| Pending::RelistApplyIn(namespace.into(), parts)),
        );
    }

    /// A namespace's relist is complete: its rows replace that namespace's
    /// rows. The kind is SYNCED when `all_listed`: every namespace of the
    /// scope has been listed since the informer (re)started.
    pub fn finish_relist_in(&self, namespace: &str, all_listed: bool) {
        let mut inner = self.write();
        let Some(table) = inner.partial.remove(namespace) else {
            return;
        };
        let gone: Vec<Uid> = inner
            .rows
            .entries()
            .filter(|e| &*e.row.namespace == namespace)
            .map(|e| e.row.uid.clone())
            .collect();
        for uid in gone {
            inner.rows.remove(&uid);
        }
        let fresh: Vec<Arc<Row>> = table.entries().map(|e| e.row.clone()).collect();
        for row in fresh {
            inner.rows.insert(row);
        }
        if all_listed {
            self.synced(inner);
        } else {
            drop(inner);
            self.changed(false);
        }
    }

    /// Rows are whole: the kind is SYNCED.
    fn synced(&self, mut inner: RwLockWriteGuard<'_, Inner>) {
        inner.status.objects = inner.rows.len() as u64;
        if inner.status.sync_millis.is_none()
            && let Some(started) = inner.status.started
        {
            inner.status.sync_millis =
                Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
        }
        // Namespaces that no row uses any more are forgotten.
        let Inner {
            rows, namespaces, ..
        } = &mut *inner;
        namespaces.retain(|_, shared| Arc::strong_count(shared) > 1 || rows.is_empty());
        let note = match inner.forbidden.as_slice() {
            [] => String::new(),
            [one] => format!("listing is forbidden in the namespace {one}: skipped"),
            many => format!(
                "listing is forbidden in the namespaces {}: skipped",
                many.join(", ")
            ),
        };
        let changed = self.set_state(&mut inner, SyncState::Synced, &note);
        drop(inner);
        self.changed(changed);
    }

    /// An object was added or modified (applied when no query holds the
    /// rows: see `change`).
    pub fn apply(&self, parts: RowParts) {
        self.change(Pending::Apply(parts));
    }

    /// An object was deleted (as `apply`).
    pub fn delete(&self, uid: &str) {
        self.change(Pending::Delete(Uid::new(uid)));
    }

    /// The informer hit an error. Before the first sync the kind is ERROR,
    /// unless it holds a snapshot's rows; afterwards (or with those) it is
    /// STALE and keeps serving its last rows. A refusal (forbidden, a bug)
    /// is ERROR either way.
    pub fn fail(&self, message: String, refused: bool) {
        let mut inner = self.write();
        inner.relist = None;
        inner.partial.clear();
        let (state, message) = if refused {
            (SyncState::Error, message)
        } else if inner.status.sync_millis.is_some() {
            (SyncState::Stale, message)
        } else if let Some(note) = &inner.restored {
            (SyncState::Stale, format!("{note}; {message}"))
        } else {
            (SyncState::Error, message)
        };
        let changed = self.set_state(&mut inner, state, message);
        drop(inner);
        self.changed(changed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Builtin;
    use crate::row::Cell;

    fn parts(uid: &str, name: &str, namespace: &str) -> RowParts {
        RowParts {
            namespace: namespace.into(),
            name: name.into(),
            uid: uid.into(),
            created_ms: 1,
            cells: vec![Cell::text("x")],
            labels: vec![],
            object: Vec::new(),
        }
    }

    fn names(store: &Store) -> Vec<String> {
        let mut names: Vec<String> = store.view().rows().map(|r| r.name.to_string()).collect();
        names.sort();
        names
    }

    /// Objects kept before the kind's dictionary was trained are
    /// compressed again with it: each reads back as it was given, smaller,
    /// and a second pass has nothing left to do.
    #[test]
    fn objects_kept_before_training_take_the_dictionary() {
        let store = Store::new(Builtin::PODS.kind(), Arc::new(watch::channel(0).0));
        let object = |i: usize| {
            format!(
                r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"settings-{i}","namespace":"shop","uid":"{i}","labels":{{"app":"shop","tier":"backend"}}}},"data":{{"region":"eu-west-{}","replicas":"{}","feature.flags":"search,cart,checkout"}}}}"#,
                i % 3,
                i % 7
            )
            .into_bytes()
        };
        let objects = crate::codec::TRAINING_SAMPLES + 100;
        store.start();
        store.begin_relist();
        store.relist_apply(
            (0..objects)
                .map(|i| RowParts {
                    object: store.codec().compress(crate::codec::Kept::Json(&object(i))),
                    ..parts(&i.to_string(), &format!("settings-{i}"), "shop")
                })
                .collect(),
        );
        store.finish_relist();
        let kept = |store: &Store| -> usize { store.view().rows().map(|r| r.object.len()).sum() };
        let before = kept(&store);
        assert!(store.codec().wait_trained(), "training finished");
        let plain = store
            .view()
            .rows()
            .filter(|r| store.codec().recompressible(&r.object))
            .count();
        assert!(
            plain >= crate::codec::TRAINING_SAMPLES,
            "{plain} kept before training"
        );
        assert_eq!(store.recompress_kept(), plain);
        let view = store.view();
        for row in view.rows() {
            let i: usize = row
                .name
                .trim_start_matches("settings-")
                .parse()
                .expect("a number");
            assert_eq!(
                store.codec().decompress(&row.object).expect("decompresses"),
                object(i)
            );
            assert!(!store.codec().recompressible(&row.object));
        }
        drop(view);
        assert!(kept(&store) * 2 < before, "{} vs {before}", kept(&store));
        assert_eq!(store.recompress_kept(), 0);
    }

    #[test]
    fn a_namespace_relist_replaces_only_that_namespace() {
        let store = Store::new(Builtin::PODS.kind(), Arc::new(watch::channel(0).0));
        store.set_scope(vec!["a".into(), "b".into()], Vec::new());
        store.start();
        store.begin_relist_in("a");
        store.begin_relist_in("b");
        store.relist_apply_in("a", vec![parts("1", "a1", "a")]);
        store.finish_relist_in("a", false);
        assert_eq!(
            store.status().state,
            SyncState::Loading,
            "b is not listed yet"
        );
        store.relist_apply_in("b", vec![parts("2", "b1", "b")]);
        store.relist_apply_in("b", vec![parts("3", "b2", "b")]);
        store.finish_relist_in("b", true);
        assert_eq!(store.status().state, SyncState::Synced);
        assert_eq!(store.status().scope, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(names(&store), ["a1", "b1", "b2"]);

        // b relists alone: a's rows stay, b's old rows serve until b is done.
        store.begin_relist_in("b");
        store.relist_apply_in("b", vec![parts("4", "b3", "b")]);
        assert_eq!(names(&store), ["a1", "b1", "b2"]);
        store.finish_relist_in("b", true);
        assert_eq!(names(&store), ["a1", "b3"]);
        assert_eq!(store.status().objects, 2);
    }

    /// A watch event of one namespace does not make the kind SYNCED while
    /// another is still listing; a narrower scope drops the rows outside
    /// it; a skipped namespace is named once the rest is synced.
    #[test]
    fn only_a_whole_relist_syncs_and_the_scope_bounds_the_rows() {
        let store = Store::new(Builtin::PODS.kind(), Arc::new(watch::channel(0).0));
        store.start();
        store.begin_relist();
        for (uid, ns) in [("1", "a"), ("2", "b"), ("3", "c")] {
            store.relist_apply(vec![parts(uid, &format!("{ns}1"), ns)]);
        }
        store.finish_relist();
        assert_eq!(names(&store), ["a1", "b1", "c1"]);
        // RBAC changed: only a and b now, c forbidden.
        store.fail("forbidden".into(), false);
        store.set_scope(vec!["a".into(), "b".into()], vec!["c".into()]);
        assert_eq!(names(&store), ["a1", "b1"], "c's rows would never update");
        assert_eq!(store.status().objects, 2);
        store.begin_relist_in("a");
        store.begin_relist_in("b");
        store.finish_relist_in("a", false);
        store.apply(parts("4", "a2", "a"));
        assert_eq!(
            store.status().state,
            SyncState::Stale,
            "a's watch event while b still lists"
        );
        store.finish_relist_in("b", true);
        let status = store.status();
        assert_eq!(status.state, SyncState::Synced);
        assert_eq!(
            status.message,
            "listing is forbidden in the namespace c: skipped"
        );
    }

    /// A BOOKMARK's resourceVersion is kept for the snapshot, and wakes no
    /// stream: no row changed, so no client has anything to ask again.
    #[test]
    fn a_version_alone_wakes_nobody() {
        let store = Store::new(Builtin::PODS.kind(), Arc::new(watch::channel(0).0));
        store.start();
        store.begin_relist();
        store.relist_apply(vec![parts("1", "a", "ns")]);
        store.finish_relist();
        store.record_version("7");
        let mut changes = store.subscribe();
        changes.borrow_and_update();

        store.record_version("9");
        assert!(!changes.has_changed().unwrap_or(true), "a version alone");
        let synced = store.synced_rows().expect("synced");
        assert_eq!(synced.version.as_deref(), Some("9"));

        store.apply(parts("2", "b", "ns"));
        assert!(changes.has_changed().unwrap_or(false), "a row changed");
    }

    /// A query holds the rows for its whole scan (up to ~0.4 s for the
    /// widest filter at 100,000 pods); the informer's watch events must not
    /// wait behind it. They are taken at once, queued, and applied in order
    /// when the query is done; the query sees one consistent state.
    #[test]
    fn a_watch_event_never_waits_for_a_query() {
        let store = Arc::new(Store::new(
            Builtin::PODS.kind(),
            Arc::new(watch::channel(0).0),
        ));
        store.start();
        store.begin_relist();
        store.relist_apply(vec![parts("1", "a", "ns")]);
        store.finish_relist();
        let mut changes = store.subscribe();
        changes.borrow_and_update();

        let query = store.view();
        let (taken, events_taken) = std::sync::mpsc::channel();
        let informer = {
            let store = store.clone();
            std::thread::spawn(move || {
                store.apply(parts("2", "b", "ns"));
                store.apply(parts("3", "c", "ns"));
                store.delete("1");
                let _ = taken.send(());
            })
        };
        // A guard against a hang, not a timing: the events are taken while
        // the query still holds the rows.
        events_taken
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the informer waited for the query");
        assert_eq!(query.rows().count(), 1, "the query's state does not move");
        assert!(!changes.has_changed().unwrap_or(true), "nothing to see yet");
        drop(query);
        assert_eq!(names(&store), ["b", "c"]);
        assert_eq!(store.status().objects, 2);
        assert!(changes.has_changed().unwrap_or(false), "watchers are told");
        informer.join().expect("informer thread");
    }

    /// The objects of a (re)list do not wait for a query either.
    #[test]
    fn a_list_page_never_waits_for_a_query() {
        let store = Arc::new(Store::new(
            Builtin::PODS.kind(),
            Arc::new(watch::channel(0).0),
        ));
        store.start();
        store.begin_relist();
        let query = store.view();
        let (taken, objects_taken) = std::sync::mpsc::channel();
        let informer = {
            let store = store.clone();
            std::thread::spawn(move || {
                for (uid, name) in [("1", "a"), ("2", "b")] {
                    store.relist_apply(vec![parts(uid, name, "ns")]);
                }
                let _ = taken.send(());
            })
        };
        objects_taken
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the informer waited for the query");
        assert_eq!(query.status().objects, 0);
        drop(query);
        assert_eq!(store.status().objects, 2, "objects so far while loading");
        store.finish_relist();
        assert_eq!(names(&store), ["a", "b"]);
        informer.join().expect("informer thread");
    }

    #[test]
    fn relist_replaces_rows_only_when_done() {
        let store = Store::new(Builtin::PODS.kind(), Arc::new(watch::channel(0).0));
        assert_eq!(store.status().state, SyncState::Pending);
        store.start();
        assert_eq!(store.status().state, SyncState::Loading);
        store.begin_relist();
        store.relist_apply(vec![parts("1", "a", "ns")]);
        store.relist_apply(vec![parts("2", "b", "ns")]);
        assert!(
            names(&store).is_empty(),
            "nothing served before the first list completes"
        );
        assert_eq!(store.status().objects, 2, "objects so far while loading");
        store.finish_relist();
        assert_eq!(names(&store), ["a", "b"]);
        let status = store.status();
        assert_eq!(status.state, SyncState::Synced);
        assert!(status.sync_millis.is_some());

        // A later relist keeps serving the old rows until it is complete.
        store.fail("watch broke".into(), false);
        assert_eq!(store.status().state, SyncState::Stale);
        store.begin_relist();
        store.relist_apply(vec![parts("3", "c", "ns")]);
        assert_eq!(names(&store), ["a", "b"]);
        store.finish_relist();
        assert_eq!(names(&store), ["c"]);
        assert_eq!(store.status().state, SyncState::Synced);
        assert_eq!(store.status().objects, 1);
    }

    #[test]
    fn apply_and_delete_by_uid() {
        let store = Store::new(Builtin::PODS.kind(), Arc::new(watch::channel(0).0));
        store.begin_relist();
        store.finish_relist();
        store.apply(parts("1", "a", "ns"));
        store.apply(parts("1", "a-renamed", "ns"));
        store.apply(parts("2", "b", "other"));
        assert_eq!(names(&store), ["a-renamed", "b"]);
        store.delete("1");
        store.delete("unknown");
        assert_eq!(names(&store), ["b"]);
        assert_eq!(store.status().objects, 1);
    }

    #[test]
    fn namespaces_are_shared_between_rows() {
        let store = Store::new(Builtin::PODS.kind(), Arc::new(watch::channel(0).0));
        store.apply(parts("1", "a", "shop"));
        store.apply(parts("2", "b", "shop"));
        let view = store.view();
        let rows: Vec<&Arc<Row>> = view.rows().collect();
        assert!(Arc::ptr_eq(&rows[0].namespace, &rows[1].namespace));
    }

    #[test]
    fn errors_before_sync_are_errors_and_refusals_stay_errors() {
        let store = Store::new(Builtin::SECRETS.kind(), Arc::new(watch::channel(0).0));
        store.start();
        store.fail("connection refused".into(), false);
        assert_eq!(store.status().state, SyncState::Error);
        store.begin_relist();
        store.finish_relist();
        store.fail("secrets is forbidden".into(), true);
        assert_eq!(store.status().state, SyncState::Error);
        assert_eq!(store.status().message, "secrets is forbidden");
    }

    /// DESIGN.md: STALE is "watch broken, retrying, last good data served".
    /// A snapshot's rows are such data: an API server out of reach at
    /// start (a laptop offline) leaves them served, not an ERROR.
    #[test]
    fn a_restored_kind_stays_stale_while_the_server_is_out_of_reach() {
        let store = Store::new(Builtin::PODS.kind(), Arc::new(watch::channel(0).0));
        let restored = store.restore(
            vec![parts("1", "a", "ns"), parts("2", "b", "ns")],
            Some("41".into()),
            "rows from the snapshot of 3m ago".into(),
        );
        assert!(restored);
        assert_eq!(
            store.status().message,
            "rows from the snapshot of 3m ago; resuming"
        );
        store.start();
        store.fail("tcp connect error: Connection refused".into(), false);
        let status = store.status();
        assert_eq!(status.state, SyncState::Stale);
        assert_eq!(
            status.message,
            "rows from the snapshot of 3m ago; tcp connect error: Connection refused"
        );
        assert_eq!(names(&store), ["a", "b"]);

        // Refused (forbidden, or the informer's bug) is an ERROR all the same.
        store.fail("pods is forbidden".into(), true);
        assert_eq!(store.status().state, SyncState::Error);

        // Once listed, a failure says only itself.
        store.begin_relist();
        store.relist_apply(vec![parts("3", "c", "ns")]);
        store.finish_relist();
        store.fail("watch broke".into(), false);
        assert_eq!(store.status().state, SyncState::Stale);
        assert_eq!(store.status().message, "watch broke");
    }

    #[test]
    fn a_limited_store_keeps_the_most_recent_rows() {
        let limit = RowLimit {
            max: 8,
            recency: |row| row.created_ms,
        };
        let store = Store::with_limit(
            Builtin::EVENTS.kind(),
            Some(limit),
            Arc::new(watch::channel(0).0),
        );
        store.begin_relist();
        for i in 0..20 {
            let mut p = parts(&i.to_string(), &format!("e{i:02}"), "ns");
            p.created_ms = i;
            store.relist_apply(vec![p]);
        }
        store.finish_relist();
        for i in 20..30 {
            let mut p = parts(&i.to_string(), &format!("e{i:02}"), "ns");
            p.created_ms = i;
            store.apply(p);
        }
        let kept = names(&store);
        assert!(kept.len() >= 8 && kept.len() <= 9, "{kept:?}");
        let oldest_kept = kept.first().cloned().unwrap_or_default();
        assert!(oldest_kept.as_str() >= "e21", "{kept:?}");
        assert_eq!(kept.last().map(String::as_str), Some("e29"));
    }
}
