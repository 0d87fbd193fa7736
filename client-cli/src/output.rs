//! Standard output that treats a closed pipe (`timoneiro get … | head`) as
//! a normal end, not an error, and that never lets text from the cluster
//! drive the terminal.
//!
//! Event messages, CRD columns and annotations are written by anyone with
//! access to a namespace; a control sequence in them would reach the
//! terminal of whoever lists them (retitle the window, rewrite the screen,
//! answerback tricks). kubectl's table printer escapes ESC and CR in every
//! cell ([`kubectl_cell`], kubernetes#101695); on a terminal, everything
//! printed here also has every other C0 and C1 control made visible
//! ([`for_terminal`]).

use std::borrow::Cow;
use std::io::{self, BufWriter, IsTerminal, Write};

/// Buffered stdout.
pub struct Out {
    inner: BufWriter<io::StdoutLock<'static>>,
    /// Whether stdout is a terminal (controls are made visible).
    terminal: bool,
}

pub use timoneiro_client::render::kubectl_cell;

/// Text for a terminal: ESC and CR as kubectl writes them, every other C0
/// control but tab and newline in caret notation (`^G`), DEL as `^?`, and
/// C1 controls (U+0080–U+009F, which some terminals obey like ESC) as
/// `\u009b`.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    let visible = |c: char| c == '\t' || c == '\n' || !c.is_control();
    if text.chars().all(visible) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if visible(c) => out.push(c),
            '\r' => out.push_str("\\r"),
            '\x7f' => out.push_str("^?"),
            c if (c as u32) < 0x20 => {
                out.push('^');
                out.push(char::from(b'@' + c as u8));
            }
            c => out.push_str(&format!("\\u{:04x}", c as u32)),
        }
    }
    Cow::Owned(out)
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
        let stdout = io::stdout();
        Out {
            terminal: stdout.is_terminal(),
            inner: BufWriter::with_capacity(64 * 1024, stdout.lock()),
        }
    }

    /// Write one line.
    pub fn line(&mut self, text: &str) -> anyhow::Result<()> {
        let text = self.shown(text);
        let result = self
            .inner
            .write_all(text.as_bytes())
            .and_then(|()| self.inner.write_all(b"\n"));
        Self::check(result)
    }

    /// Write text as it is (no newline added).
    pub fn write(&mut self, text: &str) -> anyhow::Result<()> {
        let text = self.shown(text);
        let result = self.inner.write_all(text.as_bytes());
        Self::check(result)
    }

    /// Whether stdout is a terminal.
    pub fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// Write `text` in the SGR colour `sgr` (e.g. "36") on a terminal, plain
    /// elsewhere. The text itself is shown as `write` shows it.
    pub fn styled(&mut self, sgr: &str, text: &str) -> anyhow::Result<()> {
        if !self.terminal {
            return self.write(text);
        }
        let text = self.shown(text);
        let result = write!(self.inner, "\x1b[{sgr}m{text}\x1b[0m");
        Self::check(result)
    }

    /// Flush what is buffered.
    pub fn flush(&mut self) -> anyhow::Result<()> {
        let result = self.inner.flush();
        Self::check(result)
    }

    /// `text` as it may reach stdout.
    fn shown<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.terminal {
            for_terminal(text)
        } else {
            Cow::Borrowed(text)
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_sees_every_control_made_visible() {
        // OSC 0 (set the window title), ended by BEL.
        assert_eq!(for_terminal("\x1b]0;pwned\x07"), "^[]0;pwned^G");
        // C1 CSI (0x9b) is ESC [ to many terminals.
        assert_eq!(for_terminal("a\u{9b}2Jb"), "a\\u009b2Jb");
        assert_eq!(for_terminal("nul\0del\x7f"), "nul^@del^?");
        assert_eq!(for_terminal("cr\r"), "cr\\r");
        // Tabs and newlines stay: they are how multi-line output is written.
        assert_eq!(for_terminal("a\tb\nc"), "a\tb\nc");
        assert_eq!(for_terminal("ünïcödé ✓"), "ünïcödé ✓");
    }
}
