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

/// Strings packed in one allocation after a header their owner lays out:
/// the number of strings `n` and the header's length (u16 each), the
/// header, the end of each string (u32 × n), then the strings one after
/// another. Integers are little-endian. A row's cells and labels are each
/// one of these: one allocation where a `CompactString` per text took 24
/// bytes and a pointer each (`bench memory`).
#[derive(Clone, PartialEq, Eq, Default)]
struct Packed(Box<[u8]>);

impl Packed {
    /// Pack `strings` (at most 65,535, 4 GiB in all) after `header`
    /// (at most 65,535 bytes).
    fn new<'a>(header: &[u8], strings: impl Iterator<Item = &'a str> + Clone) -> Packed {
        let n = strings.clone().count().min(u16::MAX as usize);
        let header = &header[..header.len().min(u16::MAX as usize)];
        let text: usize = strings.clone().take(n).map(str::len).sum();
        let mut out = Vec::with_capacity(4 + header.len() + 4 * n + text);
        out.extend_from_slice(&(n as u16).to_le_bytes());
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header);
        let mut end = 0u32;
        for string in strings.clone().take(n) {
            end = end.saturating_add(string.len() as u32);
            out.extend_from_slice(&end.to_le_bytes());
        }
        for string in strings.take(n) {
            out.extend_from_slice(string.as_bytes());
        }
        Packed(out.into_boxed_slice())
    }

    fn u16_at(&self, at: usize) -> usize {
        u16::from_le_bytes([self.0[at], self.0[at + 1]]) as usize
    }

    fn len(&self) -> usize {
        if self.0.is_empty() { 0 } else { self.u16_at(0) }
    }

    fn header(&self) -> &[u8] {
        if self.0.is_empty() {
            return &[];
        }
        &self.0[4..4 + self.u16_at(2)]
    }

    fn end(&self, ends: usize, i: usize) -> usize {
        let at = ends + 4 * i;
        u32::from_le_bytes([self.0[at], self.0[at + 1], self.0[at + 2], self.0[at + 3]]) as usize
    }

    /// String `i`.
    fn get(&self, i: usize) -> Option<&str> {
        let n = self.len();
        if i >= n {
            return None;
        }
        let ends = 4 + self.u16_at(2);
        let texts = ends + 4 * n;
        let start = if i == 0 { 0 } else { self.end(ends, i - 1) };
        let bytes = &self.0[texts + start..texts + self.end(ends, i)];
        // Packed from `&str`s, cut at their boundaries.
        Some(std::str::from_utf8(bytes).unwrap_or_default())
    }
}

/// A row's cells and labels, packed in one allocation ([`Packed`]): the
/// cells' texts, then each label's key and value (sorted by key). The
/// header holds the number of cells (u16), then the moments: each cell's
/// index (u16) and Unix ms (i64), for the cells that have one. A pod's
/// cells and labels take about 150 bytes here where `Cell`s and label
/// pairs of `CompactString`s took 350.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Fields(Packed);

const MOMENT_BYTES: usize = 2 + 8;

impl Fields {
    /// Pack `cells` and `labels` (at most 65,535 strings in all, 6,553
    /// cells with moments).
    pub fn new(cells: &[Cell], mut labels: Vec<(String, String)>) -> Fields {
        let cells = &cells[..cells.len().min(u16::MAX as usize)];
        labels.sort_unstable();
        labels.truncate((u16::MAX as usize - cells.len()) / 2);
        let mut header = Vec::with_capacity(2 + MOMENT_BYTES * 2);
        header.extend_from_slice(&(cells.len() as u16).to_le_bytes());
        for (i, cell) in cells.iter().enumerate() {
            if cell.since_ms != 0 {
                header.extend_from_slice(&(i as u16).to_le_bytes());
                header.extend_from_slice(&cell.since_ms.to_le_bytes());
            }
        }
        let strings = cells
            .iter()
            .map(|c| c.text.as_str())
            .chain(labels.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]));
        Fields(Packed::new(&header, strings))
    }

    /// The cells.
    pub fn cells(&self) -> Cells<'_> {
        let header = self.0.header();
        let n = header
            .get(..2)
            .map_or(0, |n| u16::from_le_bytes([n[0], n[1]]) as usize);
        Cells {
            packed: &self.0,
            moments: header.get(2..).unwrap_or_default(),
            n,
        }
    }

    /// The labels.
    pub fn labels(&self) -> Labels<'_> {
        let cells = self.cells().len();
        Labels {
            packed: &self.0,
            start: cells,
            len: self.0.len().saturating_sub(cells) / 2,
        }
    }

    /// Bytes on the heap (for memory accounting).
    pub fn heap_bytes(&self) -> usize {
        self.0.0.len()
    }
}

impl std::fmt::Debug for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fields")
            .field("cells", &self.cells())
            .field("labels", &self.labels())
            .finish()
    }
}

/// A row's cells ([`Row::cells`]).
#[derive(Clone, Copy)]
pub struct Cells<'a> {
    packed: &'a Packed,
    moments: &'a [u8],
    n: usize,
}

impl<'a> Cells<'a> {
    /// Number of cells.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there are no cells.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Cell `i`.
    pub fn get(&self, i: usize) -> Option<CellRef<'a>> {
        if i >= self.n {
            return None;
        }
        let text = self.packed.get(i)?;
        let since_ms = self
            .moments
            .chunks_exact(MOMENT_BYTES)
            .find(|m| u16::from_le_bytes([m[0], m[1]]) as usize == i)
            .map_or(0, |m| {
                let mut ms = [0u8; 8];
                ms.copy_from_slice(&m[2..]);
                i64::from_le_bytes(ms)
            });
        Some(CellRef { text, since_ms })
    }

    /// The first cell.
    pub fn first(&self) -> Option<CellRef<'a>> {
        self.get(0)
    }

    /// Every cell, in order.
    pub fn iter(self) -> impl ExactSizeIterator<Item = CellRef<'a>> {
        (0..self.n).map(move |i| self.get(i).unwrap_or_default())
    }
}

impl std::fmt::Debug for Cells<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A row's labels, by key ([`Row::labels`]).
#[derive(Clone, Copy)]
pub struct Labels<'a> {
    packed: &'a Packed,
    start: usize,
    len: usize,
}

impl<'a> Labels<'a> {
    /// Number of labels.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn pair(&self, i: usize) -> (&'a str, &'a str) {
        let at = self.start + 2 * i;
        (
            self.packed.get(at).unwrap_or_default(),
            self.packed.get(at + 1).unwrap_or_default(),
        )
    }

    /// Every label, by key.
    pub fn iter(self) -> impl ExactSizeIterator<Item = (&'a str, &'a str)> {
        (0..self.len).map(move |i| self.pair(i))
    }

    /// The value of the label `key`, if set.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        let (mut low, mut high) = (0, self.len);
        while low < high {
            let middle = (low + high) / 2;
            let (k, v) = self.pair(middle);
            match k.cmp(key) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return Some(v),
            }
        }
        None
    }
}

impl std::fmt::Debug for Labels<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// A row's metadata.uid: 16 bytes when it is a UUID as the API server
/// writes them (lowercase, hyphenated: 36 bytes of text), the text
/// otherwise. Shown, it is the text it was made from.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Uid {
    /// A lowercase hyphenated UUID.
    Uuid([u8; 16]),
    /// Anything else, as it came.
    Text(Box<str>),
}

impl Uid {
    /// The uid `text`.
    pub fn new(text: &str) -> Uid {
        Uid::uuid(text).map_or_else(|| Uid::Text(text.into()), Uid::Uuid)
    }

    /// The bytes of a lowercase hyphenated UUID (8-4-4-4-12 hex digits).
    fn uuid(text: &str) -> Option<[u8; 16]> {
        let text = text.as_bytes();
        if text.len() != 36 {
            return None;
        }
        let mut bytes = [0u8; 16];
        let mut digits = text
            .iter()
            .enumerate()
            .filter(|(i, _)| !matches!(i, 8 | 13 | 18 | 23));
        if [8, 13, 18, 23].iter().any(|&i| text[i] != b'-') {
            return None;
        }
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        for byte in &mut bytes {
            let (_, &high) = digits.next()?;
            let (_, &low) = digits.next()?;
            *byte = nibble(high)? << 4 | nibble(low)?;
        }
        Some(bytes)
    }

    /// Bytes on the heap (for memory accounting).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Uid::Uuid(_) => 0,
            Uid::Text(text) => text.len(),
        }
    }
}

impl std::fmt::Display for Uid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Uid::Text(text) => f.write_str(text),
            Uid::Uuid(bytes) => {
                for (i, byte) in bytes.iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        f.write_str("-")?;
                    }
                    write!(f, "{byte:02x}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::fmt::Debug for Uid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.to_string())
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
    pub uid: Uid,
    /// metadata.creationTimestamp in Unix milliseconds (0 if unknown).
    pub created_ms: i64,
    /// One cell per column after NAME (default and wide columns) and
    /// metadata.labels, sorted by key ([`Row::cells`], [`Row::labels`]).
    pub fields: Fields,
    /// The whole object (managedFields left out) as the protobuf it came
    /// in or as JSON, compressed by the store's `ObjectCodec`, for `Get`.
    pub object: Box<[u8]>,
}

// A row and its `Arc` counts (16 bytes) fit jemalloc's 128-byte size
// class: a cached pod pays for every byte past it up to the next class (160).
const _: () = assert!(std::mem::size_of::<Row>() + 16 <= 128);

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
        Row {
            namespace: intern(&parts.namespace),
            name: parts.name.into(),
            uid: Uid::new(&parts.uid),
            created_ms: parts.created_ms,
            fields: Fields::new(&parts.cells, parts.labels),
            object: parts.object.into(),
        }
    }

    /// The text filters match: namespace, name and every text cell, joined
    /// by `FIELD_SEPARATOR` (the row table keeps it where scans read it).
    pub fn search_text(&self) -> String {
        let mut search = String::with_capacity(self.namespace.len() + self.name.len() + 48);
        for field in Self::text_fields(&self.namespace, &self.name, self.cells()) {
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
        cells: Cells<'a>,
    ) -> impl Iterator<Item = &'a str> {
        [namespace, name]
            .into_iter()
            .chain(cells.iter().filter(|c| c.since_ms == 0).map(|c| c.text))
            .filter(|text| !text.is_empty())
    }

    /// The value of a label, if set.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels().get(key)
    }

    /// One cell per column after NAME (default and wide columns).
    pub fn cells(&self) -> Cells<'_> {
        self.fields.cells()
    }

    /// metadata.labels, by key.
    pub fn labels(&self) -> Labels<'_> {
        self.fields.labels()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packed cells read back as they were given: texts of every length
    /// (empty, inline-sized, long, not ASCII), moments on some cells
    /// (negative too), none, one, many.
    #[test]
    fn packed_cells_and_labels_read_back_as_given() {
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
        let labels: Vec<(String, String)> = vec![
            ("tier".into(), "web".into()),
            ("app.kubernetes.io/name".into(), "shop".into()),
            ("pod-template-hash".into(), "5d8f7c9b6".into()),
            ("empty".into(), String::new()),
            ("ünïcode".into(), "✓".into()),
        ];
        let sorted = [
            ("app.kubernetes.io/name", "shop"),
            ("empty", ""),
            ("pod-template-hash", "5d8f7c9b6"),
            ("tier", "web"),
            ("ünïcode", "✓"),
        ];
        for cells in sets {
            for labels in [Vec::new(), labels.clone()] {
                let fields = Fields::new(&cells, labels.clone());
                let packed = fields.cells();
                assert_eq!(packed.len(), cells.len());
                assert_eq!(packed.is_empty(), cells.is_empty());
                let read: Vec<CellRef<'_>> = packed.iter().collect();
                let want: Vec<CellRef<'_>> = cells.iter().map(Cell::as_ref).collect();
                assert_eq!(read, want);
                assert_eq!(packed.get(cells.len()), None);
                assert_eq!(packed.first(), cells.first().map(Cell::as_ref));
                let read = fields.labels();
                assert_eq!(read.len(), labels.len());
                assert_eq!(read.is_empty(), labels.is_empty());
                assert_eq!(read.iter().collect::<Vec<_>>(), sorted[..labels.len()]);
                for (key, value) in read.iter() {
                    assert_eq!(read.get(key), Some(value));
                }
                for missing in ["", "a", "tie", "tierx", "zzz", "0", "1"] {
                    assert_eq!(read.get(missing), None, "{missing}");
                }
            }
        }
        let empty = Fields::default();
        assert_eq!((empty.cells().len(), empty.labels().len()), (0, 0));
        assert_eq!(empty.cells().get(0), None);
        assert_eq!(empty.labels().get("app"), None);
    }

    /// A uid reads back as the text it came as: API-server UUIDs as 16
    /// bytes, anything else (upper case, braces, short, not hex) as text.
    #[test]
    fn uids_show_as_they_came() {
        for (text, packed) in [
            ("c1556514-02ce-4f99-9af6-0813905a3696", true),
            ("00000000-0000-0000-0000-000000000000", true),
            ("ffffffff-ffff-ffff-ffff-ffffffffffff", true),
            ("C1556514-02CE-4F99-9AF6-0813905A3696", false),
            ("c1556514-02ce-4f99-9af6-0813905a369", false),
            ("c1556514-02ce-4f99-9af6-0813905a3696a", false),
            ("c1556514x02ce-4f99-9af6-0813905a3696", false),
            ("g1556514-02ce-4f99-9af6-0813905a3696", false),
            ("c155651-402ce-4f99-9af6-0813905a3696", false),
            ("", false),
            ("7", false),
        ] {
            let uid = Uid::new(text);
            assert_eq!(uid.to_string(), text);
            assert_eq!(matches!(uid, Uid::Uuid(_)), packed, "{text}");
        }
        // UUIDs order as their texts do.
        let mut texts = [
            "c1556514-02ce-4f99-9af6-0813905a3696",
            "0a556514-02ce-4f99-9af6-0813905a3696",
            "c1556514-02ce-4f99-9af6-0813905a3695",
            "c1556514-f2ce-4f99-9af6-0813905a3696",
        ];
        let mut uids: Vec<Uid> = texts.iter().map(|t| Uid::new(t)).collect();
        texts.sort_unstable();
        uids.sort_unstable();
        let shown: Vec<String> = uids.iter().map(Uid::to_string).collect();
        assert_eq!(shown, texts);
    }
}
