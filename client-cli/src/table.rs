//! kubectl's table layout: left-aligned columns padded to the widest cell
//! plus three spaces, the last column unpadded (Go's tabwriter as kubectl
//! configures it).

use timoneiro_proto::v1::{Cell, Column, Row};

pub use timoneiro_client::render::table_cell as cell;

/// Render rows into kubectl-style lines (no trailing newline per line).
pub fn render(columns: &[Column], rows: &[Row], now_unix_ms: i64, headers: bool) -> Vec<String> {
    let mut grid: Vec<Vec<String>> = Vec::with_capacity(rows.len() + 1);
    if headers {
        grid.push(columns.iter().map(|c| c.name.clone()).collect());
    }
    for row in rows {
        grid.push(row.cells.iter().map(|c| cell(c, now_unix_ms)).collect());
    }
    layout(&grid)
}

/// Lay out a grid of already-rendered cells.
pub fn layout(grid: &[Vec<String>]) -> Vec<String> {
    let columns = grid.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for line in grid {
        for (i, cell) in line.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    grid.iter().map(|line| pad_line(line, &widths)).collect()
}

/// A paged answer's header and the widths its lines pad to: the daemon's
/// widths of the whole answer's cells, widened to the headers when they
/// are printed.
pub fn paged_layout(
    columns: &[Column],
    widths: &[u32],
    headers: bool,
) -> (Vec<String>, Vec<usize>) {
    let header: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    let widths = widths
        .iter()
        .zip(&header)
        .map(|(w, h)| {
            let shown = if headers { h.chars().count() } else { 0 };
            (*w as usize).max(shown)
        })
        .collect();
    (header, widths)
}

/// One row's line: its cells at `now_unix_ms`, padded to `widths`.
pub fn row_line(row: &Row, now_unix_ms: i64, widths: &[usize]) -> String {
    let cells: Vec<String> = row.cells.iter().map(|c| cell(c, now_unix_ms)).collect();
    pad_line(&cells, widths)
}

/// One line of cells padded to `widths` (a cell wider than its column
/// widens it) plus three spaces, the last cell unpadded.
pub fn pad_line(cells: &[String], widths: &[usize]) -> String {
    let mut out = String::new();
    for (i, cell) in cells.iter().enumerate() {
        out.push_str(cell);
        if i + 1 < cells.len() {
            let chars = cell.chars().count();
            let width = widths.get(i).copied().unwrap_or(0).max(chars);
            out.extend(std::iter::repeat_n(' ', width - chars + 3));
        }
    }
    out
}

/// The table's columns and rows with kubectl's `--show-labels` (LABELS:
/// every label as `k=v`, the strings sorted, `<none>` when there are none) and `-L
/// KEY` (a column named after the key's last segment in upper case, empty
/// when the label is not set) added.
pub fn with_label_columns(
    columns: &[Column],
    rows: &[Row],
    label_columns: &[String],
    show_labels: bool,
) -> (Vec<Column>, Vec<Row>) {
    let mut columns = columns.to_vec();
    let mut rows = rows.to_vec();
    if label_columns.is_empty() && !show_labels {
        return (columns, rows);
    }
    for key in label_columns {
        let header = key.rsplit('/').next().unwrap_or(key).to_uppercase();
        columns.push(Column {
            name: header,
            wide: false,
        });
    }
    if show_labels {
        columns.push(Column {
            name: "LABELS".into(),
            wide: false,
        });
    }
    for row in &mut rows {
        for key in label_columns {
            let value = row.labels.get(key).cloned().unwrap_or_default();
            row.cells.push(Cell {
                text: value,
                since_unix_ms: 0,
            });
        }
        if show_labels {
            // kubectl sorts the `k=v` strings themselves ("app.kubernetes.io/name=…" before "app=…").
            let mut pairs: Vec<String> =
                row.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            pairs.sort_unstable();
            let text = if pairs.is_empty() {
                "<none>".to_string()
            } else {
                pairs.join(",")
            };
            row.cells.push(Cell {
                text,
                since_unix_ms: 0,
            });
        }
    }
    (columns, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_like_kubectl() {
        let grid = vec![
            vec!["NAME".to_string(), "READY".to_string(), "AGE".to_string()],
            vec!["web-1".to_string(), "1/1".to_string(), "11m".to_string()],
            vec!["a".to_string(), "10/10".to_string(), "3d".to_string()],
        ];
        assert_eq!(
            layout(&grid),
            [
                "NAME    READY   AGE",
                "web-1   1/1     11m",
                "a       10/10   3d"
            ]
        );
    }
}
