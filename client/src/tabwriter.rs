//! Column alignment the way Go's `text/tabwriter` does it, with kubectl's
//! settings: its describers' (`minwidth 0, padding 2`, [`align`]) and its
//! other printers' (`printers.GetNewTabWriter`: `minwidth 6, padding 3`,
//! used by `kubectl top`).
//!
//! Text is cut into lines at `\n` and into cells at `\t`. A cell that ends in
//! a tab belongs to a column; the last cell of a line does not. A column
//! block is a run of consecutive lines that all have a cell in that column;
//! every cell of the block is padded to the widest one plus the padding.
//! Blocks nest: within a block of column `c`, the lines are formatted again
//! for column `c + 1`. Widths count characters, not bytes.

/// Align `text` (cells separated by tabs) into columns as kubectl's
/// describers do.
pub fn align(text: &str) -> String {
    align_with(text, 0, 2)
}

/// Align as `kubectl top` (and cli-runtime's printers) do.
pub fn align_printer(text: &str) -> String {
    align_with(text, 6, 3)
}

/// Align `text` into columns at least `min_width` wide, `padding` apart.
pub fn align_with(text: &str, min_width: usize, padding: usize) -> String {
    let mut lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
    // The text after the last newline is an unfinished line: Go's writer
    // keeps it unprinted until a flush, which then prints it without a
    // newline. Keep it as the last line, written without a newline.
    let unfinished = lines.pop().unwrap_or_default();
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut widths = Vec::new();
    let settings = Settings { min_width, padding };
    format(&mut out, &lines, &mut widths, 0, lines.len(), settings);
    write_cells(&mut out, &unfinished, &[]);
    out
}

fn cell_width(cell: &str) -> usize {
    cell.chars().count()
}

#[derive(Clone, Copy)]
struct Settings {
    min_width: usize,
    padding: usize,
}

fn format(
    out: &mut String,
    lines: &[Vec<&str>],
    widths: &mut Vec<usize>,
    from: usize,
    to: usize,
    settings: Settings,
) {
    let column = widths.len();
    let mut start = from;
    let mut this = from;
    while this < to {
        if column + 1 >= lines[this].len() {
            this += 1;
            continue;
        }
        // A block of this column begins here: print what came before.
        write_lines(out, &lines[start..this], widths);
        start = this;
        let mut width = settings.min_width;
        while this < to && column + 1 < lines[this].len() {
            width = width.max(cell_width(lines[this][column]) + settings.padding);
            this += 1;
        }
        widths.push(width);
        format(out, lines, widths, start, this, settings);
        widths.pop();
        start = this;
        // Go's loop steps past the line that ended the block: it has no
        // cell in this column, so it cannot start another.
        this += 1;
    }
    write_lines(out, &lines[start..to.max(start)], widths);
}

fn write_lines(out: &mut String, lines: &[Vec<&str>], widths: &[usize]) {
    for line in lines {
        write_cells(out, line, widths);
        out.push('\n');
    }
}

fn write_cells(out: &mut String, cells: &[&str], widths: &[usize]) {
    for (j, cell) in cells.iter().enumerate() {
        out.push_str(cell);
        // Go pads every cell that has a column width; the last cell of a
        // line never has one, so it is never padded.
        if let Some(&width) = widths.get(j)
            && j + 1 < cells.len()
        {
            for _ in cell_width(cell)..width {
                out.push(' ');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::align;

    #[test]
    fn a_block_is_padded_to_its_widest_cell() {
        assert_eq!(
            align("Name:\tx\nNamespace:\ty\n"),
            "Name:       x\nNamespace:  y\n"
        );
    }

    #[test]
    fn a_line_without_tabs_ends_the_block() {
        let text = "A:\t1\nB:\nlong name:\t2\n";
        assert_eq!(align(text), "A:  1\nB:\nlong name:  2\n");
    }

    #[test]
    fn a_line_with_an_empty_first_cell_stays_in_the_block() {
        let text = "Labels:\ta=b\n\tc=d\nIP:\t1.2.3.4\n";
        assert_eq!(
            align(text),
            "Labels:  a=b\n         c=d\nIP:      1.2.3.4\n"
        );
    }

    #[test]
    fn nested_columns_align_within_their_block() {
        let text = "  Type\tReason\tAge\n  ----\t------\t---\n  Normal\tPulled\t5m\n";
        assert_eq!(
            align(text),
            "  Type    Reason  Age\n  ----    ------  ---\n  Normal  Pulled  5m\n"
        );
    }

    #[test]
    fn printer_columns_are_at_least_six_wide_and_three_apart() {
        assert_eq!(
            super::align_printer("NAME\tCPU(cores)\t\nweb\t5m\t\n"),
            "NAME   CPU(cores)   \nweb    5m           \n"
        );
    }

    #[test]
    fn widths_count_characters() {
        assert_eq!(align("é:\tx\nab:\ty\n"), "é:   x\nab:  y\n");
    }
}
