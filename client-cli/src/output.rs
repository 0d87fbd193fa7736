//! Standard output that treats a closed pipe (`timoneiro get … | head`) as
//! a normal end, not an error.

use std::io::{self, BufWriter, Write};

/// Buffered stdout.
pub struct Out {
    inner: BufWriter<io::StdoutLock<'static>>,
}

/// The reader of stdout went away: stop printing and exit quietly.
#[derive(Debug)]
pub struct BrokenPipe;

impl std::fmt::Display for BrokenPipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("broken pipe")
    }
}

impl std::error::Error for BrokenPipe {}

impl Out {
    /// Lock stdout.
    pub fn new() -> Out {
        Out {
            inner: BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
        }
    }

    /// Write one line.
    pub fn line(&mut self, text: &str) -> anyhow::Result<()> {
        let result = self
            .inner
            .write_all(text.as_bytes())
            .and_then(|()| self.inner.write_all(b"\n"));
        Self::check(result)
    }

    /// Write text as it is (no newline added).
    pub fn write(&mut self, text: &str) -> anyhow::Result<()> {
        let result = self.inner.write_all(text.as_bytes());
        Self::check(result)
    }

    /// Flush what is buffered.
    pub fn flush(&mut self) -> anyhow::Result<()> {
        let result = self.inner.flush();
        Self::check(result)
    }

    fn check(result: io::Result<()>) -> anyhow::Result<()> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(anyhow::Error::new(BrokenPipe)),
            other => Ok(other?),
        }
    }
}

impl Default for Out {
    fn default() -> Self {
        Out::new()
    }
}
