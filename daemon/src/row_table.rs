//! The rows of one kind laid out for scanning. Queries touch every row, so
//! what they read sits together: a dense vector of slots holding the
//! creation time and namespace inline, and every row's search text in one
//! shared arena, read in order. The full `Row` (cells, labels, object) is
//! only reached for the rows a query returns, for label selectors and for
//! anchored filter terms.
//!
//! Deleting moves the last slot into the hole; replaced texts stay in the
//! arena as garbage until it outweighs the live text, then the arena is
//! rewritten in slot order.

use std::collections::BTreeSet;
use std::hash::BuildHasher;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use hashbrown::{DefaultHashBuilder, HashMap, HashTable};

use nucleo_matcher::{Utf32Str, Utf32String};

use crate::filter::Haystack;
use crate::query::{column_ties, exact_cell_key, wide_cell_key};
use crate::row::{FIELD_SEPARATOR, Row, Uid};

/// Where a row's search text is.
#[derive(Debug)]
enum Text {
    /// ASCII (the usual case): a range of the arena.
    Arena { start: u32, len: u32 },
    /// Anything else, as nucleo's code points.
    Wide(Utf32String),
}

#[derive(Debug)]
struct Slot {
    created_ms: i64,
    /// The name's first bytes ([`name_key`]): the name sort, inline.
    name_key: u64,
    namespace: Arc<str>,
    text: Text,
    row: Arc<Row>,
}

/// Columns whose sort keys a table can keep: a kind's first ones (a sort
/// by a later column reads the rows).
pub const KEYED_COLUMNS: usize = 16;

/// Where `column_orders` keeps the order of a sort by namespace (then
/// name, then uid): an order like a column's whose key every row shares.
const BY_NAMESPACE: usize = KEYED_COLUMNS;

/// One column's sort keys, in slot order, and whether each is the whole
/// cell ([`crate::query::exact_cell_key`]).
#[derive(Debug, Default)]
struct ColumnKeys {
    keys: Vec<u64>,
    exact: Vec<bool>,
}

impl ColumnKeys {
    fn set(&mut self, i: usize, cell: Option<crate::row::CellRef<'_>>) {
        let (key, exact) = exact_cell_key(cell);
        if i < self.keys.len() {
            self.keys[i] = key;
            self.exact[i] = exact;
        } else {
            self.keys.push(key);
            self.exact.push(exact);
        }
    }
}

/// The rows of one kind, by uid, ready to scan.
#[derive(Debug, Default)]
pub struct RowTable {
    slots: Vec<Slot>,
    /// Per column, each slot's sort key ([`crate::query::cell_key`]), in
    /// slot order: made by the first sort by that column, then kept up to
    /// date by every change. Columns nobody sorts by cost nothing.
    column_keys: [OnceLock<ColumnKeys>; KEYED_COLUMNS],
    /// Positions in `slots` by the row's uid (the uid itself is the row's:
    /// an entry is 4 bytes, not a second copy of the uid).
    by_uid: HashTable<u32>,
    /// Positions in `slots` by the row's namespace and name: `Get`,
    /// `describe` and every action find their object here, not by a scan.
    by_name: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// Slots in an [`Order`]'s order (its key, then position): a window of
    /// that order walks it instead of scanning every row. Made by the first
    /// walk, then kept up to date by every change; orders nobody walks
    /// cost nothing.
    orders: [OnceLock<BTreeSet<(u64, u32)>>; Order::ALL.len()],
    /// Per column, the rows in that column's sort order (the whole order a
    /// query sorts by: no ties left to read rows for), for windows sorted
    /// by a column; after them ([`BY_NAMESPACE`]) the rows by namespace and
    /// name. Made by the first walk, then kept up to date; orders nobody
    /// walks cost nothing.
    column_orders: [OnceLock<BTreeSet<ByColumn>>; KEYED_COLUMNS + 1],
    /// Rows per namespace (hashed as the tables above are: this is on
    /// every insert and remove).
    counts: HashMap<Arc<str>, usize>,
    arena: Vec<u8>,
    /// Arena bytes no slot refers to any more.
    garbage: usize,
}

/// An order a table can keep its rows in, for windows that walk it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Newest first: the creation time, from the latest.
    Newest = 0,
    /// By name: the name's first eight bytes ([`name_key`]).
    Name = 1,
}

impl Order {
    /// Every order.
    pub const ALL: [Order; 2] = [Order::Newest, Order::Name];

    /// A slot's key in this order.
    fn key(self, slot: &Slot) -> u64 {
        self.key_of(slot.created_ms, slot.name_key)
    }

    /// A row's key in this order, as [`Entry`] has it: rows walked in
    /// this order come in the order of this key.
    pub fn entry_key(self, entry: &Entry<'_>) -> u64 {
        self.key_of(entry.created_ms, entry.name_key)
    }

    fn key_of(self, created_ms: i64, name_key: u64) -> u64 {
        match self {
            // i64 to u64 keeping the order (flip the sign bit), then
            // reversed: the latest first.
            Order::Newest => !((created_ms as u64) ^ (1 << 63)),
            Order::Name => name_key,
        }
    }
}

/// A row in the order of one of its cells, as a query sorts by a column:
/// the cell's key in sixteen bytes ([`crate::query::wide_cell_key`]: long
/// shared prefixes such as node names still fit, so the cells are seldom
/// read), then the cells when the keys do not settle it, then namespace,
/// name and uid. Two rows are equal only if they are the same object.
#[derive(Debug, Clone)]
struct ByColumn {
    key: u128,
    exact: bool,
    column: u8,
    row: Arc<Row>,
}

impl ByColumn {
    fn new(row: &Arc<Row>, column: usize) -> ByColumn {
        let (key, exact) = if column == BY_NAMESPACE {
            (0, true)
        } else {
            wide_cell_key(row.cells().get(column))
        };
        ByColumn {
            key,
            exact,
            column: column as u8,
            row: row.clone(),
        }
    }
}

impl Ord for ByColumn {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key).then_with(|| {
            column_ties(
                &self.row,
                &other.row,
                self.exact && other.exact,
                usize::from(self.column),
            )
        })
    }
}

impl PartialOrd for ByColumn {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ByColumn {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for ByColumn {}

/// One row as a query sees it.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// The row.
    pub row: &'a Arc<Row>,
    /// metadata.creationTimestamp, Unix ms (inline: the default sort key).
    pub created_ms: i64,
    /// The name's first eight bytes, big-endian ([`name_key`]): names in
    /// order compare in order here, so a name sort reads the row only on ties.
    pub name_key: u64,
    /// The namespace, shared (compare with `Arc::ptr_eq`).
    pub namespace: &'a Arc<str>,
    /// The sort key of the column asked for ([`RowTable::entries_keyed`]),
    /// else 0.
    pub column_key: u64,
    /// Whether `column_key` is the whole cell (equal exact keys are equal
    /// cells).
    pub column_exact: bool,
    text: Utf32Str<'a>,
}

impl Haystack for Entry<'_> {
    fn joined(&self) -> Utf32Str<'_> {
        self.text
    }

    fn any_field(&self, f: &mut dyn FnMut(Utf32Str<'_>) -> bool) -> bool {
        // Fields are the separator-delimited parts of the text: no row is touched.
        match self.text {
            Utf32Str::Ascii(bytes) => bytes
                .split(|b| *b == FIELD_SEPARATOR as u8)
                .any(|field| f(Utf32Str::Ascii(field))),
            Utf32Str::Unicode(chars) => chars
                .split(|c| *c == FIELD_SEPARATOR)
                .any(|field| f(Utf32Str::Unicode(field))),
        }
    }
}

/// A name's first eight bytes as a big-endian number (shorter names padded
/// with zeros): `name_key(a) < name_key(b)` implies `a < b`, and equal keys
/// say nothing (compare the names).
pub fn name_key(name: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let len = name.len().min(8);
    bytes[..len].copy_from_slice(&name.as_bytes()[..len]);
    u64::from_be_bytes(bytes)
}

impl RowTable {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn entry<'a>(&'a self, slot: &'a Slot, (column_key, column_exact): (u64, bool)) -> Entry<'a> {
        let text = match &slot.text {
            Text::Arena { start, len } => {
                Utf32Str::Ascii(&self.arena[*start as usize..(*start + *len) as usize])
            }
            Text::Wide(text) => text.slice(..),
        };
        Entry {
            row: &slot.row,
            created_ms: slot.created_ms,
            name_key: slot.name_key,
            namespace: &slot.namespace,
            column_key,
            column_exact,
            text,
        }
    }

    /// Every row, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        self.entries_keyed(usize::MAX)
    }

    /// Every row with its sort key for the cell `column` (when the column
    /// is one of the first [`KEYED_COLUMNS`]), in no particular order. The
    /// first call for a column reads every row to make its keys.
    pub fn entries_keyed(&self, column: usize) -> impl Iterator<Item = Entry<'_>> {
        self.entries_keyed_in(column, 0..self.slots.len())
    }

    /// [`RowTable::entries_keyed`] for the rows at `positions` (of
    /// `0..len()`): parts of one table scan on threads of their own.
    pub fn entries_keyed_in(
        &self,
        column: usize,
        positions: Range<usize>,
    ) -> impl Iterator<Item = Entry<'_>> {
        let keys = self.column_keys.get(column).map(|keys| {
            keys.get_or_init(|| {
                let mut keys = ColumnKeys::default();
                for (i, slot) in self.slots.iter().enumerate() {
                    keys.set(i, slot.row.cells().get(column));
                }
                keys
            })
        });
        let positions = positions.start.min(self.slots.len())..positions.end.min(self.slots.len());
        self.slots[positions.clone()]
            .iter()
            .zip(positions)
            .map(move |(slot, i)| {
                let key = keys.map_or((0, false), |keys| (keys.keys[i], keys.exact[i]));
                self.entry(slot, key)
            })
    }

    /// Every row in `order`'s order, or the reverse (rows whose keys are
    /// equal in no particular order: compare them). The first walk of an
    /// order reads every row to make it.
    pub fn entries_ordered(
        &self,
        order: Order,
        reverse: bool,
    ) -> Box<dyn Iterator<Item = Entry<'_>> + '_> {
        let set = self.orders[order as usize].get_or_init(|| {
            self.slots
                .iter()
                .enumerate()
                .map(|(i, slot)| (order.key(slot), i as u32))
                .collect()
        });
        let entry = move |&(_, i): &(u64, u32)| self.entry(&self.slots[i as usize], (0, false));
        if reverse {
            Box::new(set.iter().rev().map(entry))
        } else {
            Box::new(set.iter().map(entry))
        }
    }

    /// Every row in the order a query sorts by cell `column` (one of the
    /// first [`KEYED_COLUMNS`], else `None`), or the reverse. The first walk
    /// of a column reads every row to make its order.
    pub fn rows_by_column(
        &self,
        column: usize,
        reverse: bool,
    ) -> Option<Box<dyn Iterator<Item = &Arc<Row>> + '_>> {
        (column < KEYED_COLUMNS).then(|| self.walk_column_order(column, reverse))
    }

    /// Every row in the order a query sorts by namespace (then name and
    /// uid), or the reverse; the first walk reads every row to make it.
    pub fn rows_by_namespace(&self, reverse: bool) -> Box<dyn Iterator<Item = &Arc<Row>> + '_> {
        self.walk_column_order(BY_NAMESPACE, reverse)
    }

    fn walk_column_order(
        &self,
        column: usize,
        reverse: bool,
    ) -> Box<dyn Iterator<Item = &Arc<Row>> + '_> {
        fn row(by: &ByColumn) -> &Arc<Row> {
            &by.row
        }
        let set = self.column_orders[column].get_or_init(|| self.column_order(column));
        if reverse {
            Box::new(set.iter().rev().map(row))
        } else {
            Box::new(set.iter().map(row))
        }
    }

    /// The rows in cell `column`'s order, for [`RowTable::rows_by_column`]
    /// (or by namespace, for [`BY_NAMESPACE`]).
    /// Most rows of a big table tie on their cell (875,000 "Running" pods
    /// of a million), and ties of whole cells go by namespace and name,
    /// read from the rows: the rows are first put in order by what the
    /// slots hold inline (the namespace's rank, the name's first bytes),
    /// so the B-tree's own sort (by `ByColumn`'s order, which decides)
    /// finds them already in order and compares each row with its
    /// neighbour only.
    fn column_order(&self, column: usize) -> BTreeSet<ByColumn> {
        let mut namespaces: Vec<&str> = self.counts.keys().map(|ns| &**ns).collect();
        namespaces.sort_unstable();
        let rank: HashMap<&str, u32> = namespaces
            .iter()
            .enumerate()
            .map(|(i, ns)| (*ns, i as u32))
            .collect();
        let mut keyed: Vec<(u32, u64, ByColumn)> = self
            .slots
            .iter()
            .map(|slot| {
                let rank = rank.get(&*slot.namespace).copied().unwrap_or(u32::MAX);
                (rank, slot.name_key, ByColumn::new(&slot.row, column))
            })
            .collect();
        keyed.sort_unstable_by(|(rank_a, name_a, a), (rank_b, name_b, b)| {
            a.key.cmp(&b.key).then_with(|| {
                if a.exact && b.exact {
                    rank_a
                        .cmp(rank_b)
                        .then(name_a.cmp(name_b))
                        .then_with(|| a.cmp(b))
                } else {
                    a.cmp(b)
                }
            })
        });
        keyed.into_iter().map(|(_, _, by)| by).collect()
    }

    /// Take `old` (if any) out of the walked column `orders` and put `new`
    /// (if any) in. A replaced row whose place in an order is the same
    /// (the usual status change leaves most columns as they were) only
    /// takes its old row's entry.
    fn reorder_columns(
        orders: &mut [OnceLock<BTreeSet<ByColumn>>],
        old: Option<&Arc<Row>>,
        new: Option<&Arc<Row>>,
    ) {
        for (column, set) in orders.iter_mut().enumerate() {
            let Some(set) = set.get_mut() else { continue };
            let old = old.map(|old| ByColumn::new(old, column));
            let new = new.map(|new| ByColumn::new(new, column));
            match (old, new) {
                (Some(old), Some(new)) if old == new => {
                    set.replace(new);
                }
                (old, new) => {
                    if let Some(old) = old {
                        set.remove(&old);
                    }
                    if let Some(new) = new {
                        set.insert(new);
                    }
                }
            }
        }
    }

    /// Rows in the namespace `namespace`.
    pub fn count_in(&self, namespace: &str) -> usize {
        self.counts.get(namespace).copied().unwrap_or(0)
    }

    /// Bring the kept column keys of slot `i` up to date (after an insert,
    /// a replace or a move into `i`).
    fn update_keys(&mut self, i: usize) {
        let row = &self.slots[i].row;
        for (column, keys) in self.column_keys.iter_mut().enumerate() {
            if let Some(keys) = keys.get_mut() {
                keys.set(i, row.cells().get(column));
            }
        }
    }

    fn uid_hash(&self, uid: &Uid) -> u64 {
        uid_hash(&self.hasher, uid)
    }

    fn name_hash(&self, namespace: &str, name: &str) -> u64 {
        name_hash(&self.hasher, namespace, name)
    }

    /// The position of the row with this uid.
    fn position(&self, uid: &Uid) -> Option<usize> {
        self.by_uid
            .find(self.uid_hash(uid), |&i| {
                self.slots[i as usize].row.uid == *uid
            })
            .map(|&i| i as usize)
    }

    /// The row with this uid.
    pub fn get(&self, uid: &Uid) -> Option<&Arc<Row>> {
        self.position(uid).map(|i| &self.slots[i].row)
    }

    /// The row of the object `namespace/name` ("" for cluster-scoped).
    pub fn find(&self, namespace: &str, name: &str) -> Option<&Arc<Row>> {
        let hash = self.name_hash(namespace, name);
        self.by_name
            .find(hash, |&i| {
                let row = &self.slots[i as usize].row;
                &*row.namespace == namespace && row.name == name
            })
            .map(|&i| &self.slots[i as usize].row)
    }

    /// Index slot `i` by its row's uid and name, creation time and
    /// namespace.
    fn index(&mut self, i: usize) {
        let slot = &self.slots[i];
        for order in Order::ALL {
            if let Some(set) = self.orders[order as usize].get_mut() {
                set.insert((order.key(slot), i as u32));
            }
        }
        match self.counts.get_mut(&*slot.namespace) {
            Some(count) => *count += 1,
            None => {
                self.counts.insert(slot.namespace.clone(), 1);
            }
        }
        let row = &self.slots[i].row;
        let (uid, name) = (
            self.uid_hash(&row.uid),
            self.name_hash(&row.namespace, &row.name),
        );
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.by_uid
            .insert_unique(uid, i as u32, uid_hasher(slots, hasher));
        self.by_name
            .insert_unique(name, i as u32, name_hasher(slots, hasher));
    }

    /// Room for `rows` more rows in the slots and the indexes by uid and
    /// by name, grown once instead of doubling (and rehashing) as they come.
    pub fn reserve(&mut self, rows: usize) {
        self.slots.reserve(rows);
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.by_uid.reserve(rows, uid_hasher(slots, hasher));
        self.by_name.reserve(rows, name_hasher(slots, hasher));
    }

    /// Forget slot `i`'s index entries (its row as it is now), or point
    /// them at slot `to` instead.
    fn unindex(&mut self, i: usize, to: Option<usize>) {
        let slot = &self.slots[i];
        for order in Order::ALL {
            if let Some(set) = self.orders[order as usize].get_mut() {
                let key = order.key(slot);
                set.remove(&(key, i as u32));
                if let Some(to) = to {
                    set.insert((key, to as u32));
                }
            }
        }
        if to.is_none()
            && let Some(count) = self.counts.get_mut(&*slot.namespace)
        {
            *count -= 1;
            if *count == 0 {
                self.counts.remove(&*slot.namespace);
            }
        }
        let row = &self.slots[i].row;
        let (uid, name) = (
            self.uid_hash(&row.uid),
            self.name_hash(&row.namespace, &row.name),
        );
        for (table, hash) in [(&mut self.by_uid, uid), (&mut self.by_name, name)] {
            if let Ok(entry) = table.find_entry(hash, |&j| j as usize == i) {
                match to {
                    Some(to) => *entry.into_mut() = to as u32,
                    None => {
                        entry.remove();
                    }
                }
            }
        }
    }

    fn store_text(&mut self, text: &str) -> Text {
        if text.is_ascii() && self.arena.len() + text.len() <= u32::MAX as usize {
            let start = self.arena.len() as u32;
            self.arena.extend_from_slice(text.as_bytes());
            Text::Arena {
                start,
                len: text.len() as u32,
            }
        } else {
            Text::Wide(Utf32String::from(text))
        }
    }

    fn release(&mut self, text: &Text) {
        if let Text::Arena { len, .. } = text {
            self.garbage += *len as usize;
        }
    }

    /// Add a row, or replace the row with the same uid.
    pub fn insert(&mut self, row: Arc<Row>) {
        let text = self.store_text(&row.search_text());
        let slot = Slot {
            created_ms: row.created_ms,
            name_key: name_key(&row.name),
            namespace: row.namespace.clone(),
            text,
            row,
        };
        let i = match self.position(&slot.row.uid) {
            Some(i) => {
                // Most replacements are status changes: the same uid keeps
                // its namespace, name and creation time, and with them its
                // index entries. An index must not trust that, so a row
                // that moved is indexed again.
                let old = &self.slots[i];
                let moved = old.created_ms != slot.created_ms
                    || old.row.name != slot.row.name
                    || *old.namespace != *slot.namespace;
                if moved {
                    self.unindex(i, None);
                }
                let old = std::mem::replace(&mut self.slots[i], slot);
                self.release(&old.text);
                if moved {
                    self.index(i);
                }
                Self::reorder_columns(
                    &mut self.column_orders,
                    Some(&old.row),
                    Some(&self.slots[i].row),
                );
                i
            }
            None => {
                self.slots.push(slot);
                let i = self.slots.len() - 1;
                self.index(i);
                Self::reorder_columns(&mut self.column_orders, None, Some(&self.slots[i].row));
                i
            }
        };
        self.update_keys(i);
        self.compact_if_wasteful();
    }

    /// Give `row` (this very row, not a newer one with its uid) another
    /// kept object, the same object compressed otherwise; false when the
    /// table holds another row for its uid now. Nothing a query sees
    /// changes: cells, keys and indexes stay.
    pub fn replace_object(&mut self, row: Arc<Row>, object: Box<[u8]>) -> bool {
        let Some(i) = self.position(&row.uid) else {
            return false;
        };
        if !Arc::ptr_eq(&self.slots[i].row, &row) {
            return false;
        }
        drop(row);
        if let Some(only) = Arc::get_mut(&mut self.slots[i].row) {
            only.object = object;
            return true;
        }
        // A query, a stream or a column order holds the row too.
        let new = Arc::new(Row {
            object,
            ..(*self.slots[i].row).clone()
        });
        let old = std::mem::replace(&mut self.slots[i].row, new);
        Self::reorder_columns(
            &mut self.column_orders,
            Some(&old),
            Some(&self.slots[i].row),
        );
        true
    }

    /// Remove the row with this uid; false if there was none.
    pub fn remove(&mut self, uid: &Uid) -> bool {
        let Some(i) = self.position(uid) else {
            return false;
        };
        self.unindex(i, None);
        let last = self.slots.len() - 1;
        if last != i {
            self.unindex(last, Some(i));
        }
        let slot = self.slots.swap_remove(i);
        self.release(&slot.text);
        Self::reorder_columns(&mut self.column_orders, Some(&slot.row), None);
        for keys in self.column_keys.iter_mut().filter_map(OnceLock::get_mut) {
            keys.keys.swap_remove(i);
            keys.exact.swap_remove(i);
        }
        self.compact_if_wasteful();
        true
    }

    /// Rewrite the arena without garbage once garbage outweighs live text.
    fn compact_if_wasteful(&mut self) {
        let live = self.arena.len() - self.garbage;
        if self.garbage < 64 * 1024 || self.garbage < live {
            return;
        }
        let mut arena = Vec::with_capacity(live);
        for slot in &mut self.slots {
            if let Text::Arena { start, len } = &mut slot.text {
                let begin = arena.len() as u32;
                arena.extend_from_slice(&self.arena[*start as usize..(*start + *len) as usize]);
                *start = begin;
            }
        }
        self.arena = arena;
        self.garbage = 0;
    }

    /// Bytes of one slot and of one row's entries in the indexes (by uid
    /// and by name: a position and a control byte each; in one walked
    /// order: its key and position, without the B-tree's nodes), for
    /// memory accounting.
    pub const fn slot_bytes() -> (usize, usize) {
        (
            std::mem::size_of::<Slot>(),
            2 * (std::mem::size_of::<u32>() + 1) + std::mem::size_of::<(u64, u32)>(),
        )
    }

    /// Arena bytes (live and garbage), for tests and memory accounting.
    pub fn arena_len(&self) -> usize {
        self.arena.len()
    }
}

/// The hash `by_uid` finds a uid under.
fn uid_hash(hasher: &DefaultHashBuilder, uid: &Uid) -> u64 {
    hasher.hash_one(uid)
}

/// The hash `by_name` finds a namespace and name under.
fn name_hash(hasher: &DefaultHashBuilder, namespace: &str, name: &str) -> u64 {
    hasher.hash_one((namespace, name))
}

/// The hash of a slot's entry in `by_uid`, for the table to rehash with.
fn uid_hasher<'a>(slots: &'a [Slot], hasher: &'a DefaultHashBuilder) -> impl Fn(&u32) -> u64 + 'a {
    move |&j| uid_hash(hasher, &slots[j as usize].row.uid)
}

/// The hash of a slot's entry in `by_name`, for the table to rehash with.
fn name_hasher<'a>(slots: &'a [Slot], hasher: &'a DefaultHashBuilder) -> impl Fn(&u32) -> u64 + 'a {
    move |&j| {
        let row = &slots[j as usize].row;
        name_hash(hasher, &row.namespace, &row.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::{Cell, RowParts};

    fn row(uid: &str, name: &str, status: &str) -> Arc<Row> {
        let parts = RowParts {
            namespace: "shop".into(),
            name: name.into(),
            uid: uid.into(),
            created_ms: 7,
            cells: vec![Cell::text(status)],
            ..RowParts::default()
        };
        Arc::new(Row::new(parts, |ns| Arc::from(ns)))
    }

    /// The rows in the order of column 0 (made on the first walk).
    fn walked(table: &RowTable) -> Vec<Arc<Row>> {
        table
            .rows_by_column(0, false)
            .expect("a kept column")
            .cloned()
            .collect()
    }

    /// A walked column order holds the rows as they are now: a replaced row
    /// whose cell is unchanged (same place in the order) is the new row
    /// there, not the one it replaced.
    #[test]
    fn column_orders_hold_the_current_rows() {
        let mut table = RowTable::default();
        table.insert(row("a", "web-1", "Running"));
        table.insert(row("b", "web-2", "Pending"));
        assert_eq!(walked(&table).len(), 2);
        let same_place = row("a", "web-1", "Running");
        table.insert(same_place.clone());
        let moved = row("b", "web-2", "Error");
        table.insert(moved.clone());
        let now = walked(&table);
        let uids: Vec<String> = now.iter().map(|r| r.uid.to_string()).collect();
        assert_eq!(uids, ["b", "a"], "Error sorts before Running");
        assert!(Arc::ptr_eq(&now[0], &moved));
        assert!(Arc::ptr_eq(&now[1], &same_place));
    }

    /// The namespace order sits after the columns' orders: a column past
    /// the kept ones is no order at all, not that one.
    #[test]
    fn the_namespace_order_is_no_columns_order() {
        let mut table = RowTable::default();
        table.insert(row("a", "web-1", "Running"));
        assert!(table.rows_by_column(KEYED_COLUMNS, false).is_none());
        assert_eq!(table.rows_by_namespace(false).count(), 1);
    }

    /// A row given another kept object is that row still, everywhere the
    /// table holds it (a walked column order too); a row replaced since is
    /// left alone.
    #[test]
    fn a_row_takes_another_object_only_if_it_is_still_the_row() {
        let mut table = RowTable::default();
        let first = row("a", "web-1", "Running");
        table.insert(first.clone());
        table.insert(row("b", "web-2", "Pending"));
        // Unshared: changed in place.
        let only = table.get(&Uid::new("b")).expect("b").clone();
        assert!(table.replace_object(only, Box::new([1, 2])));
        assert_eq!(&*table.get(&Uid::new("b")).expect("b").object, &[1, 2]);
        // Shared with a column order (and this test): a new row in both.
        assert_eq!(walked(&table).len(), 2);
        assert!(table.replace_object(first.clone(), Box::new([3])));
        let now = table.get(&Uid::new("a")).expect("a").clone();
        assert_eq!(&*now.object, &[3]);
        assert!(now.name == first.name && now.uid == first.uid && now.fields == first.fields);
        let by_column = walked(&table);
        assert!(
            by_column.iter().any(|r| Arc::ptr_eq(r, &now)),
            "the order holds the new row"
        );
        assert!(!by_column.iter().any(|r| Arc::ptr_eq(r, &first)));
        drop(by_column);
        assert_eq!(Arc::strong_count(&first), 1, "nothing holds the old object");
        assert_eq!(texts(&table), ["shop web-1 Running", "shop web-2 Pending"]);
        // A row replaced since keeps its own object.
        let newer = row("a", "web-1", "Error");
        table.insert(newer.clone());
        assert!(!table.replace_object(now, Box::new([4])));
        assert!(Arc::ptr_eq(table.get(&Uid::new("a")).expect("a"), &newer));
        assert!(!table.replace_object(row("z", "gone", "x"), Box::new([5])));
    }

    fn texts(table: &RowTable) -> Vec<String> {
        let mut texts: Vec<String> = table
            .entries()
            .map(|e| e.joined().to_string().replace(FIELD_SEPARATOR, " "))
            .collect();
        texts.sort();
        texts
    }

    #[test]
    fn insert_replace_remove_keep_the_index_right() {
        let mut table = RowTable::default();
        table.insert(row("1", "a", "Running"));
        table.insert(row("2", "b", "Pending"));
        table.insert(row("3", "c", "Running"));
        table.insert(row("2", "b", "Running"));
        assert_eq!(
            texts(&table),
            ["shop a Running", "shop b Running", "shop c Running"]
        );
        assert!(
            table.remove(&Uid::new("1")),
            "the last slot moves into the hole"
        );
        assert!(!table.remove(&Uid::new("1")));
        assert_eq!(table.get(&Uid::new("3")).map(|r| &*r.name), Some("c"));
        assert_eq!(table.get(&Uid::new("2")).map(|r| &*r.name), Some("b"));
        assert_eq!(table.len(), 2);
        let wide = row("4", "café", "Running");
        table.insert(wide);
        assert_eq!(
            texts(&table),
            ["shop b Running", "shop c Running", "shop café Running"]
        );
    }

    /// Lookups by uid and by namespace/name agree with a scan of the rows
    /// through inserts, replaces, removes (the last slot moving into each
    /// hole) and a row whose replacement moved it to another name.
    #[test]
    fn lookups_by_uid_and_name_agree_with_a_scan() {
        let mut table = RowTable::default();
        // Half the uids are UUIDs (kept as 16 bytes), half other text.
        let uid_text = |uid: usize| match uid % 2 {
            0 => format!("{uid:08x}-0000-4000-8000-000000000000"),
            _ => uid.to_string(),
        };
        let named = |uid: usize, namespace: &str, name: &str| {
            let parts = RowParts {
                namespace: namespace.into(),
                name: name.into(),
                uid: uid_text(uid),
                ..RowParts::default()
            };
            Arc::new(Row::new(parts, |ns| Arc::from(ns)))
        };
        let mut state = 7u64;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        for _ in 0..5_000 {
            let uid = next(300) as usize;
            let namespace = ["", "shop", "web"][next(3) as usize];
            match next(7) {
                0 | 1 => {
                    table.remove(&Uid::new(&uid_text(uid)));
                }
                // Growing the indexes ahead rehashes what they hold.
                2 => table.reserve(next(500) as usize),
                _ => table.insert(named(uid, namespace, &format!("pod-{}", next(400)))),
            }
        }
        assert!(table.len() > 100, "{} rows", table.len());
        let scan: Vec<(String, String, String)> = table
            .entries()
            .map(|e| {
                (
                    e.row.uid.to_string(),
                    e.row.namespace.to_string(),
                    e.row.name.to_string(),
                )
            })
            .collect();
        for (uid, namespace, name) in &scan {
            assert_eq!(
                table.get(&Uid::new(uid)).map(|r| r.uid.to_string()),
                Some(uid.clone())
            );
            let found = table.find(namespace, name).expect("found by name");
            assert_eq!(
                (&*found.namespace, found.name.as_str()),
                (namespace.as_str(), name.as_str())
            );
        }
        for uid in 0..300 {
            let present = scan.iter().any(|(u, _, _)| *u == uid_text(uid));
            assert_eq!(
                table.get(&Uid::new(&uid_text(uid))).is_some(),
                present,
                "uid {uid}"
            );
        }
        for namespace in ["", "shop", "web", "other"] {
            for n in 0..400 {
                let name = format!("pod-{n}");
                let present = scan
                    .iter()
                    .any(|(_, ns, nm)| ns == namespace && *nm == name);
                assert_eq!(
                    table.find(namespace, &name).is_some(),
                    present,
                    "{namespace}/{name}"
                );
            }
        }
    }

    #[test]
    fn garbage_is_compacted_and_texts_survive() {
        let mut table = RowTable::default();
        for round in 0..2_000 {
            for uid in 0..20 {
                table.insert(row(
                    &uid.to_string(),
                    &format!("pod-{uid}"),
                    &format!("Restarted{round}"),
                ));
            }
        }
        let want: Vec<String> = (0..20)
            .map(|uid| format!("shop pod-{uid} Restarted1999"))
            .collect();
        let mut want = want;
        want.sort();
        assert_eq!(texts(&table), want);
        assert!(
            table.arena_len() < 200 * 1024,
            "arena stays bounded: {} bytes",
            table.arena_len()
        );
    }

    #[test]
    fn name_keys_order_as_names_do() {
        let mut names = [
            "web-5d8f7c9b6-abcde",
            "web-5d8f7c9b6-abcdd",
            "api",
            "api-0",
            "",
            "a",
            "zzzzzzzzz",
            "web-5d8f7",
            "Web",
        ];
        names.sort_unstable();
        for pair in names.windows(2) {
            assert!(
                name_key(pair[0]) <= name_key(pair[1]),
                "{:?} sorts before {:?}",
                pair[0],
                pair[1]
            );
        }
        assert!(name_key("api") < name_key("api-0"));
        assert_eq!(name_key("web-5d8f7c9b6-a"), name_key("web-5d8f7c9b6-b"));
    }
}
