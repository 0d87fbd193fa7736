//! How clients turn cells into text: relative times are rendered at print
//! time, the way kubectl's `HumanDuration` does, so a cache never freezes an
//! age.

use std::borrow::Cow;

use timoneiro_proto::v1::Cell;

/// Render a duration the way kubectl does (`k8s.io/apimachinery`'s
/// `HumanDuration`): `45s`, `5m10s`, `11m`, `3h`, `5h30m`, `2d4h`, `400d`, `3y20d`.
pub fn human_duration(millis: i64) -> String {
    let seconds = millis.div_euclid(1000);
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{days}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// Render one cell at `now_unix_ms` (see the `Cell` message for the rules).
pub fn cell_text(cell: &Cell, now_unix_ms: i64) -> String {
    rendered(&cell.text, cell.since_unix_ms, now_unix_ms).into_owned()
}

/// A cell's text and moment rendered at `now_unix_ms`: the text itself
/// when it has no moment, else its age.
fn rendered(text: &str, since_unix_ms: i64, now_unix_ms: i64) -> Cow<'_, str> {
    if since_unix_ms == 0 {
        return Cow::Borrowed(text);
    }
    let age = human_duration(now_unix_ms - since_unix_ms);
    if text.is_empty() {
        Cow::Owned(age)
    } else {
        Cow::Owned(format!("{text} ({age} ago)"))
    }
}

/// A table cell as kubectl's printers write it, on a terminal or not
/// (cli-runtime `printers.EscapeTerminal`, kubernetes#101695): ESC as `^[`,
/// CR as `\r`.
pub fn kubectl_cell(text: &str) -> Cow<'_, str> {
    if !text.contains(['\x1b', '\r']) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.replace('\x1b', "^[").replace('\r', "\\r"))
}

/// One cell of a kubectl table, from its text and moment: rendered at
/// `now_unix_ms`, then escaped as kubectl's table printer escapes it.
pub fn table_text(text: &str, since_unix_ms: i64, now_unix_ms: i64) -> Cow<'_, str> {
    let rendered = rendered(text, since_unix_ms, now_unix_ms);
    if rendered.contains(['\x1b', '\r']) {
        Cow::Owned(kubectl_cell(&rendered).into_owned())
    } else {
        rendered
    }
}

/// One cell of a kubectl table: what the CLI prints, and what the daemon
/// measures for a paged answer's column widths ([`table_text`]).
pub fn table_cell(cell: &Cell, now_unix_ms: i64) -> String {
    table_text(&cell.text, cell.since_unix_ms, now_unix_ms).into_owned()
}

/// The current time in Unix milliseconds.
pub fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// CPU as `kubectl top` prints it: millicores, rounded up (`15m`).
pub fn cpu_text(nanos: i64) -> String {
    format!("{}m", millicores(nanos))
}

/// Nanocores in millicores, rounded up, as Kubernetes' `MilliValue` does.
pub fn millicores(nanos: i64) -> i64 {
    (nanos + 999_999).div_euclid(1_000_000)
}

/// Memory as `kubectl top` prints it: whole MiB (`45Mi`).
pub fn memory_text(bytes: i64) -> String {
    format!("{}Mi", bytes / (1024 * 1024))
}

/// `used` as a share of `of`, truncated, as `kubectl top` prints it (`37%`);
/// `None` when there is nothing to divide by.
pub fn percent_of(used: i64, of: i64) -> Option<String> {
    (of > 0).then(|| format!("{}%", (used as f64 / of as f64 * 100.0) as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_escape_esc_and_cr_as_kubectl_does() {
        // The cases of cli-runtime's tableprinter test for #101695.
        assert_eq!(kubectl_cell("\x1b[1;31mred\x1b[0m"), "^[[1;31mred^[[0m");
        assert_eq!(kubectl_cell("over\rwrite"), "over\\rwrite");
        assert_eq!(kubectl_cell("plain\ttab"), "plain\ttab");
        assert!(matches!(kubectl_cell("plain"), Cow::Borrowed(_)));
    }

    const S: i64 = 1000;
    const M: i64 = 60 * S;
    const H: i64 = 60 * M;
    const D: i64 = 24 * H;

    #[test]
    fn durations_follow_kubectl() {
        let cases = [
            (-5 * S, "<invalid>"),
            (-500, "0s"),
            (0, "0s"),
            (45 * S, "45s"),
            (119 * S, "119s"),
            (2 * M, "2m"),
            (5 * M + 10 * S, "5m10s"),
            (3 * M + S, "3m1s"),
            (11 * M + 59 * S, "11m"),
            (179 * M, "179m"),
            (3 * H, "3h"),
            (5 * H + 30 * M, "5h30m"),
            (8 * H + 30 * M, "8h"),
            (47 * H, "47h"),
            (2 * D + 4 * H, "2d4h"),
            (3 * D, "3d"),
            (8 * D + 5 * H, "8d"),
            (400 * D, "400d"),
            (365 * 2 * D + 20 * D, "2y20d"),
            (365 * 3 * D, "3y"),
            (365 * 9 * D, "9y"),
        ];
        for (millis, want) in cases {
            assert_eq!(human_duration(millis), want, "{millis} ms");
        }
    }

    #[test]
    fn cells_render_relative_times_at_print_time() {
        let now = 1_000_000 * S;
        let plain = Cell {
            text: "Running".into(),
            since_unix_ms: 0,
        };
        assert_eq!(cell_text(&plain, now), "Running");
        let age = Cell {
            text: String::new(),
            since_unix_ms: now - 11 * M,
        };
        assert_eq!(cell_text(&age, now), "11m");
        let restarts = Cell {
            text: "5".into(),
            since_unix_ms: now - (3 * M + S),
        };
        assert_eq!(cell_text(&restarts, now), "5 (3m1s ago)");
    }
}
