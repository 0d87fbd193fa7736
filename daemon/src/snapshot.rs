//! Warm restarts: each context's synced kinds are written to a snapshot
//! file on shutdown and every [`INTERVAL`]; a daemon that starts serves the
//! snapshot at once, STALE. Each kind's informer then resumes its watch
//! from the snapshot's resourceVersion (`wire::Start::Resume`, protobuf
//! kinds watched cluster-wide): no LIST when the API server still has that
//! version; a 410 Gone, and every other kind, lists as on a first start,
//! the list replacing the snapshot's rows in one step when it is complete.
//!
//! A snapshot holds, for each kind of tiers 1–3 that was SYNCED when it was
//! written, its rows (cells, labels) and kept objects exactly as the cache
//! holds them — so secrets stay in their metadata-only form — and the zstd
//! dictionary those objects were compressed with. It lives under
//! `$XDG_CACHE_HOME/timoneiro/` (else `~/.cache/timoneiro/`), a directory
//! only its user may enter, one file per context and API server.
//!
//! The file is one zstd frame with its content checksum. A file that does
//! not read to the end, fails its checksum, or was written by another
//! daemon build (version and executable) or for another context is ignored
//! with a log line, never trusted: projections change between builds, and
//! rows are kubectl's cells, not objects to decode again.

use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::catalog::Builtin;
use crate::cluster::Cluster;
use crate::row::{Cell, Row, RowParts};
use crate::store::SyncedRows;

/// How often a running context's snapshot is written again.
pub const INTERVAL: Duration = Duration::from_secs(300);

/// What a snapshot file starts with (inside its zstd frame).
const MAGIC: &[u8] = b"timoneiro snapshot\n";
/// The layout below; another one is foreign.
const FORMAT: u32 = 2;
/// The most one string or byte field may claim (a kept object is at most
/// what the API server allows an object, about 1.5 MiB; this is far above).
const MOST_BYTES: u64 = 256 * 1024 * 1024;

/// Why a snapshot was not used or not written.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The file could not be read or written.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// Written by another daemon version, format, context or server.
    #[error("written by {0}")]
    Foreign(String),
    /// Damaged or cut short.
    #[error("damaged: {0}")]
    Corrupt(String),
}

/// This daemon's build: its version and its executable's size and time.
/// Rows are kubectl's cells as this build projects them; a rebuilt daemon
/// (a projection changed, the version not yet) must not serve another
/// build's rows, which a resumed watch would never replace.
fn build() -> String {
    let binary = std::env::current_exe().and_then(std::fs::metadata);
    match binary {
        Ok(binary) => {
            let modified = binary
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .unwrap_or_default();
            format!(
                "{} (build {} bytes, {}.{:09})",
                timoneiro_proto::VERSION,
                binary.len(),
                modified.as_secs(),
                modified.subsec_nanos()
            )
        }
        Err(_) => timoneiro_proto::VERSION.to_string(),
    }
}

/// Where snapshots go: `$XDG_CACHE_HOME/timoneiro`, else
/// `$HOME/.cache/timoneiro`; None without either.
pub fn default_dir() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".cache"))
        })?;
    Some(cache.join("timoneiro"))
}

/// The snapshot file of a context on a server: its name readable, made
/// safe for a file name, and a hash of both so that no two collide.
pub fn path(dir: &Path, context: &str, server: &str) -> PathBuf {
    let readable: String = context
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // FNV-1a: stable across builds and toolchains, unlike std's hasher.
    let hash = [context.as_bytes(), &[0], server.as_bytes()]
        .concat()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
        });
    dir.join(format!("{readable}-{hash:016x}.snapshot"))
}

/// One kind in a snapshot.
#[derive(Debug)]
pub struct KindRows {
    /// Plural and group: which built-in kind.
    pub plural: String,
    pub group: String,
    /// The resourceVersion the rows are at, if known: the watch resumes
    /// from it.
    pub version: Option<String>,
    /// The dictionary the kept objects were compressed with, if any.
    pub dictionary: Option<Vec<u8>>,
    pub rows: Vec<RowParts>,
}

/// A snapshot as read.
#[derive(Debug)]
pub struct Snapshot {
    /// When it was written, Unix ms.
    pub written_unix_ms: i64,
    pub kinds: Vec<KindRows>,
}

/// What writing a snapshot did.
#[derive(Debug, Clone, Copy)]
pub struct Written {
    pub kinds: usize,
    pub rows: usize,
    pub bytes: u64,
    pub millis: u128,
}

/// Write the snapshot of `cluster`'s synced kinds of tiers 1–3 into `dir`
/// (blocking: call off the async threads). Written to a temporary file
/// first, then renamed over the last one, so a crash never leaves half a
/// snapshot.
pub fn write(dir: &Path, cluster: &Cluster) -> Result<Written, SnapshotError> {
    let started = Instant::now();
    let kinds: Vec<(Builtin, Option<Vec<u8>>, SyncedRows)> = cluster
        .stores()
        .iter()
        .filter_map(|store| {
            let builtin = store.kind().builtin()?;
            if store.kind().spec().tier > 3 {
                return None;
            }
            let rows = store.synced_rows()?;
            let dictionary = store.codec().dictionary().map(<[u8]>::to_vec);
            Some((builtin, dictionary, rows))
        })
        .collect();
    private_dir(dir)?;
    let path = path(dir, &cluster.context.name, &cluster.context.server);
    let temporary = path.with_extension(format!("snapshot.{}.tmp", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)?;
    let now_unix_ms = timoneiro_client::render::now_unix_ms();
    let body = |out: &mut Out<&mut dyn Write>| -> io::Result<()> {
        out.0.write_all(MAGIC)?;
        out.u32(FORMAT)?;
        out.str(&build())?;
        out.str(&cluster.context.name)?;
        out.str(&cluster.context.server)?;
        out.i64(now_unix_ms)?;
        out.u32(kinds.len() as u32)?;
        for (builtin, dictionary, SyncedRows { rows, version }) in &kinds {
            let spec = builtin.kind();
            out.str(&spec.spec().plural)?;
            out.str(&spec.spec().group)?;
            out.str(version.as_deref().unwrap_or_default())?;
            out.bytes(dictionary.as_deref().unwrap_or_default())?;
            out.u64(rows.len() as u64)?;
            for row in rows {
                out.row(row)?;
            }
        }
        Ok(())
    };
    let written = (|| -> io::Result<u64> {
        // Its size first (a pass that only counts), for the frame's
        // header: the reader then decompresses into one buffer of that
        // size instead of one that doubles (and is copied) as it fills.
        let mut size = Count(0);
        body(&mut Out(&mut size))?;
        let mut encoder = zstd::Encoder::new(BufWriter::new(file), 1)?;
        encoder.include_checksum(true)?;
        encoder.set_pledged_src_size(Some(size.0))?;
        body(&mut Out(&mut encoder))?;
        let file = encoder.finish()?.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(file.metadata()?.len())
    })();
    let bytes = match written {
        Ok(bytes) => bytes,
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            return Err(error.into());
        }
    };
    std::fs::rename(&temporary, &path)?;
    Ok(Written {
        kinds: kinds.len(),
        rows: kinds.iter().map(|(_, _, synced)| synced.rows.len()).sum(),
        bytes,
        millis: started.elapsed().as_millis(),
    })
}

/// The snapshot directory, created only its user may enter (0700).
fn private_dir(dir: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Read the snapshot of `context` on `server` from `dir` (blocking).
pub fn read(dir: &Path, context: &str, server: &str) -> Result<Snapshot, SnapshotError> {
    let compressed = std::fs::read(path(dir, context, server))?;
    // Whole, then parsed from memory: millions of small reads through the
    // decoder cost more than the file takes to decompress. zstd checks
    // the content checksum at the frame's end.
    let bytes = decompress(&compressed).map_err(|e| SnapshotError::Corrupt(e.to_string()))?;
    let mut input = In(bytes.as_slice());
    let mut magic = vec![0; MAGIC.len()];
    input.exact(&mut magic)?;
    if magic != MAGIC {
        return Err(SnapshotError::Foreign(
            "something else than timoneirod".into(),
        ));
    }
    let format = input.u32()?;
    if format != FORMAT {
        return Err(SnapshotError::Foreign(format!("snapshot format {format}")));
    }
    let version = input.str()?;
    if version != build() {
        return Err(SnapshotError::Foreign(format!("timoneirod {version}")));
    }
    let (written_for, written_on) = (input.str()?, input.str()?);
    if written_for != context || written_on != server {
        return Err(SnapshotError::Foreign(format!(
            "the context {written_for:?} on {written_on}"
        )));
    }
    let written_unix_ms = input.i64()?;
    let mut kinds = Vec::new();
    for _ in 0..input.u32()? {
        let plural = input.str()?;
        let group = input.str()?;
        let version = Some(input.str()?).filter(|v| !v.is_empty());
        let dictionary = Some(input.bytes()?).filter(|d| !d.is_empty());
        let mut rows = Vec::new();
        for _ in 0..input.u64()? {
            rows.push(input.row()?);
        }
        kinds.push(KindRows {
            plural,
            group,
            version,
            dictionary,
            rows,
        });
    }
    if !input.0.is_empty() {
        return Err(SnapshotError::Corrupt("bytes after its end".into()));
    }
    Ok(Snapshot {
        written_unix_ms,
        kinds,
    })
}

/// The most a snapshot's header may say it holds per byte of the file for
/// the reader to allocate that much at once (kept objects are compressed
/// already: a snapshot is a few times its file, not hundreds). A header
/// past it, damaged or not, is decompressed as it streams instead.
const MOST_RATIO: u64 = 64;

/// A snapshot file's content: at once into a buffer of the size its
/// header says (as written), or streamed when it says none.
fn decompress(compressed: &[u8]) -> io::Result<Vec<u8>> {
    let said = zstd::zstd_safe::get_frame_content_size(compressed)
        .ok()
        .flatten();
    match said {
        Some(size) if size <= (compressed.len() as u64).saturating_mul(MOST_RATIO) => {
            let mut bytes = Vec::with_capacity(size as usize);
            zstd::bulk::Decompressor::new()?.decompress_to_buffer(compressed, &mut bytes)?;
            Ok(bytes)
        }
        _ => zstd::stream::decode_all(compressed),
    }
}

/// A writer that only counts what it is given.
struct Count(u64);

impl Write for Count {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0 += bytes.len() as u64;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Serve `cluster`'s snapshot from `dir`, if it has a usable one: each
/// kind's rows, STALE, in stores that hold nothing yet. Logs what it did
/// or why not (blocking: call before the cluster starts, off the async
/// threads).
pub fn restore(dir: &Path, cluster: &Cluster) {
    let started = Instant::now();
    let (context, server) = (&cluster.context.name, &cluster.context.server);
    let snapshot = match read(dir, context, server) {
        Ok(snapshot) => snapshot,
        Err(SnapshotError::Io(error)) if error.kind() == io::ErrorKind::NotFound => {
            tracing::debug!(context, "no snapshot yet");
            return;
        }
        Err(error) => {
            tracing::warn!(context, file = %path(dir, context, server).display(), %error, "snapshot ignored");
            return;
        }
    };
    let age = Duration::from_millis(
        u64::try_from(timoneiro_client::render::now_unix_ms() - snapshot.written_unix_ms)
            .unwrap_or(0),
    );
    let note = format!(
        "rows from the snapshot of {} ago",
        timoneiro_client::render::human_duration(age.as_millis() as i64)
    );
    let read_millis = started.elapsed().as_millis() as u64;
    // Each kind fills its own store: all of them at once.
    let restored: Vec<usize> = std::thread::scope(|scope| {
        let filling: Vec<_> = snapshot
            .kinds
            .into_iter()
            .map(|kind| {
                let note = note.clone();
                scope.spawn(move || restore_kind(cluster, kind, note))
            })
            .collect();
        filling
            .into_iter()
            .filter_map(|thread| thread.join().ok().flatten())
            .collect()
    });
    let (kinds, rows) = (restored.len(), restored.iter().sum::<usize>());
    tracing::info!(
        context,
        kinds,
        rows,
        age_seconds = age.as_secs(),
        read_millis,
        millis = started.elapsed().as_millis() as u64,
        "snapshot restored"
    );
}

/// Fill one kind's store from its part of a snapshot: the rows it took,
/// or None (not a built-in kind here, or its store holds something).
fn restore_kind(cluster: &Cluster, kind: KindRows, note: String) -> Option<usize> {
    let builtin = Builtin::ALL.into_iter().find(|b| {
        let spec = b.descriptor();
        spec.plural == kind.plural && spec.group == kind.group
    })?;
    let store = cluster.store(&builtin.kind())?;
    if let Some(dictionary) = kind.dictionary
        && !store.codec().restore_dictionary(dictionary)
    {
        // Its objects would need the dictionary the codec does not have.
        return None;
    }
    let count = kind.rows.len();
    store
        .restore(kind.rows, kind.version, note)
        .then_some(count)
}

/// The snapshot's writer: little-endian numbers, length-prefixed bytes.
struct Out<W: Write>(W);

impl<W: Write> Out<W> {
    fn u32(&mut self, value: u32) -> io::Result<()> {
        self.0.write_all(&value.to_le_bytes())
    }

    fn u64(&mut self, value: u64) -> io::Result<()> {
        self.0.write_all(&value.to_le_bytes())
    }

    fn i64(&mut self, value: i64) -> io::Result<()> {
        self.0.write_all(&value.to_le_bytes())
    }

    fn bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.u64(bytes.len() as u64)?;
        self.0.write_all(bytes)
    }

    fn str(&mut self, text: &str) -> io::Result<()> {
        self.bytes(text.as_bytes())
    }

    fn row(&mut self, row: &Row) -> io::Result<()> {
        self.str(&row.namespace)?;
        self.str(&row.name)?;
        self.str(&row.uid.to_string())?;
        self.i64(row.created_ms)?;
        self.u32(row.cells().len() as u32)?;
        for cell in row.cells().iter() {
            self.str(cell.text)?;
            self.i64(cell.since_ms)?;
        }
        self.u32(row.labels().len() as u32)?;
        for (key, value) in row.labels().iter() {
            self.str(key)?;
            self.str(value)?;
        }
        self.bytes(&row.object)
    }
}

/// The snapshot's reader: what [`Out`] wrote, from memory, every length
/// checked against what is left (a length that lies is "cut short", never
/// an allocation), each field copied once at its size.
struct In<'a>(&'a [u8]);

impl<'a> In<'a> {
    /// The next `len` bytes.
    fn take(&mut self, len: usize) -> Result<&'a [u8], SnapshotError> {
        if len > self.0.len() {
            return Err(SnapshotError::Corrupt("cut short".into()));
        }
        let (taken, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(taken)
    }

    fn exact(&mut self, buffer: &mut [u8]) -> Result<(), SnapshotError> {
        buffer.copy_from_slice(self.take(buffer.len())?);
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let mut bytes = [0; N];
        self.exact(&mut bytes)?;
        Ok(bytes)
    }

    fn u32(&mut self) -> Result<u32, SnapshotError> {
        self.array().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, SnapshotError> {
        self.array().map(u64::from_le_bytes)
    }

    fn i64(&mut self) -> Result<i64, SnapshotError> {
        self.array().map(i64::from_le_bytes)
    }

    /// A length-prefixed field.
    fn field(&mut self) -> Result<&'a [u8], SnapshotError> {
        let len = self.u64()?;
        if len > MOST_BYTES {
            return Err(SnapshotError::Corrupt(format!("a field of {len} bytes")));
        }
        self.take(usize::try_from(len).map_err(|_| SnapshotError::Corrupt("cut short".into()))?)
    }

    fn bytes(&mut self) -> Result<Vec<u8>, SnapshotError> {
        self.field().map(<[u8]>::to_vec)
    }

    fn str(&mut self) -> Result<String, SnapshotError> {
        std::str::from_utf8(self.field()?)
            .map(str::to_owned)
            .map_err(|_| SnapshotError::Corrupt("not UTF-8".into()))
    }

    fn row(&mut self) -> Result<RowParts, SnapshotError> {
        let namespace = self.str()?;
        let name = self.str()?;
        let uid = self.str()?;
        let created_ms = self.i64()?;
        let mut cells = Vec::new();
        for _ in 0..self.u32()? {
            let text = self.str()?;
            cells.push(Cell::text_since(text, self.i64()?));
        }
        let mut labels = Vec::new();
        for _ in 0..self.u32()? {
            labels.push((self.str()?, self.str()?));
        }
        Ok(RowParts {
            namespace,
            name,
            uid,
            created_ms,
            cells,
            labels,
            object: self.bytes()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file read back is what was written: with its size in the header
    /// (as written now: read into one buffer of that size), without (as
    /// before), and with a header claiming more than any snapshot holds
    /// (streamed, never allocated ahead). Cut short, it is an error.
    #[test]
    fn files_read_back_whole_with_their_size_or_without() {
        let mut state = 1u64;
        let content: Vec<u8> = (0..200_000)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                (state >> 56) as u8 % 16
            })
            .collect();
        let compress = |pledged: Option<u64>| {
            let mut encoder = zstd::Encoder::new(Vec::new(), 1).expect("encoder");
            encoder.include_checksum(true).expect("checksum");
            encoder.set_pledged_src_size(pledged).expect("size");
            encoder.write_all(&content).expect("write");
            encoder.finish().expect("finish")
        };
        let sized = compress(Some(content.len() as u64));
        assert_eq!(
            zstd::zstd_safe::get_frame_content_size(&sized)
                .ok()
                .flatten(),
            Some(content.len() as u64)
        );
        assert_eq!(decompress(&sized).expect("sized"), content);
        assert_eq!(decompress(&compress(None)).expect("unsized"), content);
        assert!(decompress(&sized[..sized.len() - 10]).is_err());

        let mut tiny = zstd::Encoder::new(Vec::new(), 1).expect("encoder");
        let zeros = vec![0u8; 1 << 20];
        tiny.set_pledged_src_size(Some(zeros.len() as u64))
            .expect("size");
        tiny.write_all(&zeros).expect("write");
        let tiny = tiny.finish().expect("finish");
        assert!(
            (zeros.len() / tiny.len()) as u64 > MOST_RATIO,
            "{} bytes",
            tiny.len()
        );
        assert_eq!(decompress(&tiny).expect("streamed"), zeros);
    }

    /// A row read back is the row written; a field whose length says more
    /// than is left, or more than any field may hold, is "corrupt", and
    /// nothing is allocated for it.
    #[test]
    fn rows_read_back_as_written_and_lying_lengths_are_corrupt() {
        let parts = RowParts {
            namespace: "web".into(),
            name: "api-7d4b9-x2x".into(),
            uid: "5f2b6c1e-8d3a-4b7e-9c0d-1a2b3c4d5e6f".into(),
            created_ms: 1_765_000_000_000,
            cells: vec![Cell::text("1/1"), Cell::text_since("Running", 42)],
            labels: vec![("app".into(), "api".into()), ("tier".into(), "".into())],
            object: vec![2, 0, 1, 255],
        };
        let row = Row::new(parts.clone(), |ns: &str| ns.into());
        let mut written = Vec::new();
        Out(&mut written).row(&row).expect("write");
        let mut input = In(&written);
        let read = input.row().expect("read");
        assert!(input.0.is_empty());
        assert_eq!(
            (&read.namespace, &read.name, &read.uid, read.created_ms),
            (&parts.namespace, &parts.name, &parts.uid, parts.created_ms)
        );
        assert_eq!(read.cells, parts.cells);
        assert_eq!(read.labels, parts.labels);
        assert_eq!(read.object, parts.object);

        for cut in 0..written.len() {
            assert!(
                matches!(In(&written[..cut]).row(), Err(SnapshotError::Corrupt(_))),
                "cut at {cut}"
            );
        }
        let mut lying = (MOST_BYTES + 1).to_le_bytes().to_vec();
        lying.extend_from_slice(b"abc");
        assert!(matches!(In(&lying).bytes(), Err(SnapshotError::Corrupt(_))));
        let mut lying = 1000u64.to_le_bytes().to_vec();
        lying.extend_from_slice(b"abc");
        assert!(matches!(In(&lying).str(), Err(SnapshotError::Corrupt(_))));
    }

    /// Context names are anything a kubeconfig holds (EKS ARNs, slashes,
    /// dots): the file name is safe, stays in the directory, and differs
    /// by context and by server.
    #[test]
    fn each_context_and_server_has_its_own_file_in_the_directory() {
        let dir = Path::new("/cache/timoneiro");
        let arn = "arn:aws:eks:eu-west-1:123:cluster/../../prod";
        let file = path(dir, arn, "https://a.example");
        assert_eq!(file.parent(), Some(dir));
        let name = file.file_name().and_then(|n| n.to_str()).expect("a name");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "{name}"
        );
        assert!(name.starts_with("arn_aws_eks_eu-west-1_123_cluster_.._.._prod-"));
        assert_ne!(file, path(dir, arn, "https://b.example"));
        assert_ne!(path(dir, "a/b", "s"), path(dir, "a_b", "s"));
    }
}
