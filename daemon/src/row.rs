//! A `Row`: one object as the cache keeps it, projected into the cells
//! `kubectl get` prints. Rows are what queries filter, sort and send.

use std::sync::Arc;

use compact_str::CompactString;

/// Separates fields in a row's search text: ASCII, and in no Kubernetes
/// name or printed cell, so anchored terms can find field boundaries there.
pub const FIELD_SEPARATOR: char = '\u{1f}';

/// One cell. `since_ms != 0` marks a relative time that clients render at
/// print time: alone it is an age ("11m"), after text it is "text (age ago)".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cell {
    /// The fixed part of the cell (inline up to 24 bytes: most cells are
    /// short, so a row's cells are one allocation).
    pub text: CompactString,
    /// Unix milliseconds of the moment the cell is relative to, or 0.
    pub since_ms: i64,
}

impl Cell {
    /// A plain text cell.
    pub fn text(text: impl Into<CompactString>) -> Cell {
        Cell {
            text: text.into(),
            since_ms: 0,
        }
    }

    /// An age cell: the time since `since_ms`; `<unknown>` when there is none.
    pub fn age(since_ms: Option<i64>) -> Cell {
        match since_ms {
            Some(ms) if ms != 0 => Cell {
                text: CompactString::const_new(""),
                since_ms: ms,
            },
            _ => Cell::text("<unknown>"),
        }
    }

    /// A cell that is text followed by "(age ago)", as RESTARTS "5 (3m1s ago)".
    pub fn text_since(text: impl Into<CompactString>, since_ms: i64) -> Cell {
        Cell {
            text: text.into(),
            since_ms,
        }
    }
}

/// One cached object, projected.
#[derive(Debug, Clone)]
pub struct Row {
    /// Namespace, shared between rows of the same namespace ("" when cluster-scoped).
    pub namespace: Arc<str>,
    /// metadata.name.
    pub name: CompactString,
    /// metadata.uid: the key of the row in its store.
    pub uid: Box<str>,
    /// metadata.creationTimestamp in Unix milliseconds (0 if unknown).
    pub created_ms: i64,
    /// One cell per column after NAME (default and wide columns).
    pub cells: Box<[Cell]>,
    /// metadata.labels, sorted by key.
    pub labels: Box<[(CompactString, CompactString)]>,
    /// The whole object (managedFields left out) as the protobuf it came
    /// in or as JSON, compressed by the store's `ObjectCodec`, for `Get`.
    pub object: Box<[u8]>,
}

/// What a projection produces; `Row::new` derives the rest.
#[derive(Debug, Clone, Default)]
pub struct RowParts {
    /// metadata.namespace ("" when cluster-scoped).
    pub namespace: String,
    /// metadata.name.
    pub name: String,
    /// metadata.uid.
    pub uid: String,
    /// metadata.creationTimestamp, Unix milliseconds.
    pub created_ms: i64,
    /// Cells after NAME.
    pub cells: Vec<Cell>,
    /// metadata.labels.
    pub labels: Vec<(String, String)>,
    /// The whole object kept for `Get` by the store's `ObjectCodec`
    /// (empty when not kept).
    pub object: Vec<u8>,
}

impl Row {
    /// Build a row, sharing the namespace string through `intern`.
    pub fn new(parts: RowParts, intern: impl FnOnce(&str) -> Arc<str>) -> Row {
        let mut labels: Vec<(CompactString, CompactString)> = parts
            .labels
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        labels.sort_unstable();
        Row {
            namespace: intern(&parts.namespace),
            name: parts.name.into(),
            uid: parts.uid.into(),
            created_ms: parts.created_ms,
            cells: parts.cells.into(),
            labels: labels.into(),
            object: parts.object.into(),
        }
    }

    /// The text filters match: namespace, name and every text cell, joined
    /// by `FIELD_SEPARATOR` (the row table keeps it where scans read it).
    pub fn search_text(&self) -> String {
        let mut search = String::with_capacity(self.namespace.len() + self.name.len() + 48);
        for field in Self::text_fields(&self.namespace, &self.name, &self.cells) {
            if !search.is_empty() {
                search.push(FIELD_SEPARATOR);
            }
            search.push_str(field);
        }
        search
    }

    fn text_fields<'a>(
        namespace: &'a str,
        name: &'a str,
        cells: &'a [Cell],
    ) -> impl Iterator<Item = &'a str> {
        [namespace, name]
            .into_iter()
            .chain(cells.iter().filter(|c| c.since_ms == 0).map(|c| &*c.text))
            .filter(|text| !text.is_empty())
    }

    /// The value of a label, if set.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|i| &*self.labels[i].1)
    }
}
