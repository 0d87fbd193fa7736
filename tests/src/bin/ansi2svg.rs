//! `ansi2svg`: a terminal screen with colours (what `tmux capture-pane -e -p`
//! prints: text with SGR escape sequences) as an SVG image, for the README's
//! screenshots (`scripts/screenshot.sh`).
//!
//! Usage: `ansi2svg COLUMNS ROWS < screen.ansi > screen.svg`

use std::fmt::Write as _;
use std::io::Read as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Style {
    fg: Option<(u8, u8, u8)>,
    bg: Option<(u8, u8, u8)>,
    bold: bool,
    reverse: bool,
}

const FOREGROUND: (u8, u8, u8) = (0xd8, 0xde, 0xe9);
const BACKGROUND: (u8, u8, u8) = (0x1e, 0x22, 0x2a);

/// xterm's 16 colours.
const PALETTE: [(u8, u8, u8); 16] = [
    (0x2e, 0x34, 0x40),
    (0xe0, 0x6c, 0x75),
    (0x98, 0xc3, 0x79),
    (0xe5, 0xc0, 0x7b),
    (0x61, 0xaf, 0xef),
    (0xc6, 0x78, 0xdd),
    (0x56, 0xb6, 0xc2),
    (0xd8, 0xde, 0xe9),
    (0x5c, 0x63, 0x70),
    (0xef, 0x7b, 0x85),
    (0xa8, 0xd3, 0x89),
    (0xf5, 0xd0, 0x8b),
    (0x71, 0xbf, 0xff),
    (0xd6, 0x88, 0xed),
    (0x66, 0xc6, 0xd2),
    (0xff, 0xff, 0xff),
];

fn xterm256(n: u8) -> (u8, u8, u8) {
    match n {
        0..=15 => PALETTE[n as usize],
        16..=231 => {
            let n = n - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            (level(n / 36), level((n / 6) % 6), level(n % 6))
        }
        _ => {
            let v = 8 + (n - 232) * 10;
            (v, v, v)
        }
    }
}

/// Apply one SGR sequence's parameters.
fn apply(style: &mut Style, params: &[u16]) {
    let mut i = 0;
    if params.is_empty() {
        *style = Style::default();
    }
    while i < params.len() {
        let p = params[i];
        match p {
            0 => *style = Style::default(),
            1 => style.bold = true,
            22 => style.bold = false,
            7 => style.reverse = true,
            27 => style.reverse = false,
            30..=37 => style.fg = Some(PALETTE[(p - 30) as usize]),
            90..=97 => style.fg = Some(PALETTE[(p - 90 + 8) as usize]),
            39 => style.fg = None,
            40..=47 => style.bg = Some(PALETTE[(p - 40) as usize]),
            100..=107 => style.bg = Some(PALETTE[(p - 100 + 8) as usize]),
            49 => style.bg = None,
            38 | 48 => {
                let color = match params.get(i + 1) {
                    Some(5) => {
                        let c = params.get(i + 2).map(|n| xterm256(*n as u8));
                        i += 2;
                        c
                    }
                    Some(2) => {
                        let c = match (params.get(i + 2), params.get(i + 3), params.get(i + 4)) {
                            (Some(r), Some(g), Some(b)) => Some((*r as u8, *g as u8, *b as u8)),
                            _ => None,
                        };
                        i += 4;
                        c
                    }
                    _ => None,
                };
                if p == 38 {
                    style.fg = color;
                } else {
                    style.bg = color;
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// The screen as rows of (character, style) cells.
fn parse(text: &str, columns: usize, rows: usize) -> Vec<Vec<(char, Style)>> {
    let mut screen = vec![vec![(' ', Style::default()); columns]; rows];
    let mut style = Style::default();
    let (mut x, mut y) = (0usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => {
                if chars.peek() == Some(&'[') {
                    chars.next();
                    let mut body = String::new();
                    for c in chars.by_ref() {
                        if c.is_ascii_alphabetic() {
                            if c == 'm' {
                                let params: Vec<u16> =
                                    body.split(';').filter_map(|p| p.parse().ok()).collect();
                                apply(&mut style, &params);
                            }
                            break;
                        }
                        body.push(c);
                    }
                }
            }
            '\n' => {
                y += 1;
                x = 0;
            }
            '\r' => x = 0,
            c => {
                if y < rows && x < columns {
                    screen[y][x] = (c, style);
                }
                x += 1;
            }
        }
    }
    screen
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn escape(c: char) -> String {
    match c {
        '&' => "&amp;".into(),
        '<' => "&lt;".into(),
        '>' => "&gt;".into(),
        c => c.to_string(),
    }
}

fn svg(screen: &[Vec<(char, Style)>], columns: usize) -> String {
    const CELL_W: f32 = 8.4;
    const CELL_H: f32 = 18.0;
    let width = columns as f32 * CELL_W + 16.0;
    let height = screen.len() as f32 * CELL_H + 16.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="'DejaVu Sans Mono','Menlo','Consolas',monospace" font-size="14">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="100%" height="100%" rx="6" fill="{}"/>"#,
        hex(BACKGROUND)
    );
    for (y, row) in screen.iter().enumerate() {
        let top = 8.0 + y as f32 * CELL_H;
        // Backgrounds, one rectangle per run.
        let mut x = 0;
        while x < row.len() {
            let style = row[x].1;
            let bg = if style.reverse {
                Some(style.fg.unwrap_or(FOREGROUND))
            } else {
                style.bg
            };
            let start = x;
            while x < row.len() && row[x].1 == style {
                x += 1;
            }
            if let Some(bg) = bg {
                let _ = writeln!(
                    out,
                    r#"<rect x="{:.1}" y="{top:.1}" width="{:.1}" height="{CELL_H}" fill="{}"/>"#,
                    8.0 + start as f32 * CELL_W,
                    (x - start) as f32 * CELL_W,
                    hex(bg)
                );
            }
        }
        // Text, one span per run of one style.
        let _ = write!(
            out,
            r#"<text x="8" y="{:.1}" xml:space="preserve">"#,
            top + CELL_H - 5.0
        );
        let mut x = 0;
        while x < row.len() {
            let style = row[x].1;
            let start = x;
            let mut text = String::new();
            while x < row.len() && row[x].1 == style {
                text.push_str(&escape(row[x].0));
                x += 1;
            }
            let fg = if style.reverse {
                style.bg.unwrap_or(BACKGROUND)
            } else {
                style.fg.unwrap_or(FOREGROUND)
            };
            let weight = if style.bold {
                r#" font-weight="bold""#
            } else {
                ""
            };
            let _ = write!(
                out,
                r#"<tspan x="{:.1}" fill="{}"{weight}>{text}</tspan>"#,
                8.0 + start as f32 * CELL_W,
                hex(fg)
            );
        }
        let _ = writeln!(out, "</text>");
    }
    out.push_str("</svg>\n");
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(columns), Some(rows)) = (
        args.next().and_then(|a| a.parse::<usize>().ok()),
        args.next().and_then(|a| a.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: ansi2svg COLUMNS ROWS < screen.ansi > screen.svg");
        std::process::exit(2);
    };
    let mut text = String::new();
    if let Err(error) = std::io::stdin().read_to_string(&mut text) {
        eprintln!("ansi2svg: cannot read the screen: {error}");
        std::process::exit(1);
    }
    print!("{}", svg(&parse(&text, columns, rows), columns));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_and_reverse_become_spans_and_rectangles() {
        let screen = parse("\x1b[1;36m tim\x1b[0m ok\n\x1b[7mrow\x1b[27m", 8, 2);
        assert_eq!(
            screen[0][1],
            (
                't',
                Style {
                    fg: Some(PALETTE[6]),
                    bold: true,
                    ..Style::default()
                }
            )
        );
        assert!(screen[1][0].1.reverse);
        let image = svg(&screen, 8);
        assert!(image.contains(r#"font-weight="bold""#));
        assert!(image.contains("<rect x=\"8.0\" y=\"26.0\""));
        assert!(image.contains(">row</tspan>"));
    }
}
