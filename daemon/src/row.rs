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

    /// The cell as a row keeps it.
    pub fn as_ref(&self) -> CellRef<'_> {
        CellRef {
            text: &self.text,
            since_ms: self.since_ms,
        }
    }
}

/// One cell of a row, read from its [`Cells`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CellRef<'a> {
    /// The fixed part of the cell.
    pub text: &'a str,
    /// Unix milliseconds of the moment the cell is relative to, or 0.
    pub since_ms: i64,
}

/// A row's cells packed in one allocation: a pod's eight cells take about
/// 100 bytes here where eight `Cell`s took 256 (`bench memory`).
///
/// Layout: the number of cells `n` and of moments `m` (u16 each), the end
/// of each cell's text (u32 × n), the moments (cell index u16 + Unix ms
/// i64, × m, in cell order), then the texts one after another. Integers
/// are little-endian.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Cells(Box<[u8]>);

const MOMENT_BYTES: usize = 2 + 8;

impl Cells {
    /// Pack `cells` (at most 65,535 of them, 4 GiB of text).
    pub fn new(cells: &[Cell]) -> Cells {
        let n = cells.len().min(u16::MAX as usize);
        let cells = &cells[..n];
        let moments = cells.iter().filter(|c| c.since_ms != 0).count();
        let text: usize = cells.iter().map(|c| c.text.len()).sum();
        let mut out = Vec::with_capacity(4 + 4 * n + MOMENT_BYTES * moments + text);
        out.extend_from_slice(&(n as u16).to_le_bytes());
        out.extend_from_slice(&(moments as u16).to_le_bytes());
        let mut end = 0u32;
        for cell in cells {
            end = end.saturating_add(cell.text.len() as u32);
            out.extend_from_slice(&end.to_le_bytes());
        }
        for (i, cell) in cells.iter().enumerate() {
            if cell.since_ms != 0 {
                out.extend_from_slice(&(i as u16).to_le_bytes());
                out.extend_from_slice(&cell.since_ms.to_le_bytes());
            }
        }
        for cell in cells {
            out.extend_from_slice(cell.text.as_bytes());
        }
        Cells(out.into_boxed_slice())
    }

    fn u16_at(&self, at: usize) -> usize {
        u16::from_le_bytes([self.0[at], self.0[at + 1]]) as usize
    }

    fn end(&self, i: usize) -> usize {
        let at = 4 + 4 * i;
        u32::from_le_bytes([self.0[at], self.0[at + 1], self.0[at + 2], self.0[at + 3]]) as usize
    }

    fn moments(&self) -> usize {
        if self.0.is_empty() { 0 } else { self.u16_at(2) }
    }

    fn texts_start(&self) -> usize {
        4 + 4 * self.len() + MOMENT_BYTES * self.moments()
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        if self.0.is_empty() { 0 } else { self.u16_at(0) }
    }

    /// Whether there are no cells.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Cell `i`.
    pub fn get(&self, i: usize) -> Option<CellRef<'_>> {
        let n = self.len();
        if i >= n {
            return None;
        }
        let texts = self.texts_start();
        let start = if i == 0 { 0 } else { self.end(i - 1) };
        let bytes = &self.0[texts + start..texts + self.end(i)];
        // Packed from `&str`s, cut at their boundaries.
        let text = std::str::from_utf8(bytes).unwrap_or_default();
        let mut since_ms = 0;
        let moments = 4 + 4 * n;
        for m in 0..self.moments() {
            let at = moments + MOMENT_BYTES * m;
            if self.u16_at(at) == i {
                let mut ms = [0u8; 8];
                ms.copy_from_slice(&self.0[at + 2..at + 10]);
                since_ms = i64::from_le_bytes(ms);
                break;
            }
        }
        Some(CellRef { text, since_ms })
    }

    /// The first cell.
    pub fn first(&self) -> Option<CellRef<'_>> {
        self.get(0)
    }

    /// Every cell, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = CellRef<'_>> + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or_default())
    }

    /// Bytes on the heap (for memory accounting).
    pub fn heap_bytes(&self) -> usize {
        self.0.len()
    }
}

impl From<Vec<Cell>> for Cells {
    fn from(cells: Vec<Cell>) -> Cells {
        Cells::new(&cells)
    }
}

impl std::fmt::Debug for Cells {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
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
    pub cells: Cells,
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
        cells: &'a Cells,
    ) -> impl Iterator<Item = &'a str> {
        [namespace, name]
            .into_iter()
            .chain(cells.iter().filter(|c| c.since_ms == 0).map(|c| c.text))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Packed cells read back as they were given: texts of every length
    /// (empty, inline-sized, long, not ASCII), moments on some cells
    /// (negative too), none, one, many.
    #[test]
    fn packed_cells_read_back_as_given() {
        let long = "x".repeat(70_000);
        let sets: Vec<Vec<Cell>> = vec![
            vec![],
            vec![Cell::text("")],
            vec![
                Cell::text("1/1"),
                Cell::text("Running"),
                Cell::text_since("5", 1_700_000_000_123),
                Cell::age(Some(1_600_000_000_000)),
                Cell::text("10.244.1.5"),
                Cell::text("ip-10-0-1-23.eu-west-1.compute.internal"),
                Cell::text("<none>"),
                Cell::text("café ☕"),
            ],
            vec![
                Cell::text(long.as_str()),
                Cell::text_since("", -5),
                Cell::age(None),
            ],
            (0..300)
                .map(|i| Cell::text_since(i.to_string(), i))
                .collect(),
        ];
        for cells in sets {
            let packed = Cells::new(&cells);
            assert_eq!(packed.len(), cells.len());
            assert_eq!(packed.is_empty(), cells.is_empty());
            let read: Vec<CellRef<'_>> = packed.iter().collect();
            let want: Vec<CellRef<'_>> = cells.iter().map(Cell::as_ref).collect();
            assert_eq!(read, want);
            assert_eq!(packed.get(cells.len()), None);
            assert_eq!(packed.first(), cells.first().map(Cell::as_ref));
        }
        assert_eq!(Cells::default().len(), 0);
        assert_eq!(Cells::default().get(0), None);
    }
}
