//! Drawing: a header (context, kind and count, what is still loading, the
//! connection), the table or a text view, and a footer (window, filter,
//! sort, the line being typed, messages). Reads the `App`, never changes it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, TableState};
use timoneiro_client::render::cell_text;
use timoneiro_proto::v1::SyncState;

use crate::app::{App, Connection, Scope, thousands};
use crate::input::Mode;

/// Lines above the table: the header and the table's column line.
pub const HEADER_LINES: u16 = 2;
/// Lines below the table.
pub const FOOTER_LINES: u16 = 1;

/// Rows of the table that fit in a terminal of `height` lines.
pub fn page_for(height: u16) -> u32 {
    u32::from(
        height
            .saturating_sub(HEADER_LINES + FOOTER_LINES + 1)
            .max(1),
    )
}

fn style(app: &App, color: Color) -> Style {
    if app.color {
        Style::default().fg(color)
    } else {
        Style::default()
    }
}

fn title_case(plural: &str) -> String {
    let mut chars = plural.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Draw the whole screen.
pub fn draw(frame: &mut Frame, app: &App, now_unix_ms: i64) {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(HEADER_LINES - 1),
        Constraint::Min(1),
        Constraint::Length(FOOTER_LINES),
    ])
    .areas(frame.area());
    draw_header(frame, app, header);
    if app.logs.is_some() && matches!(app.mode, Mode::Logs | Mode::LogSearch) {
        draw_logs(frame, app, body);
    } else if app.text.is_some() {
        draw_text(frame, app, body);
    } else {
        draw_table(frame, app, body, now_unix_ms);
    }
    draw_footer(frame, app, footer);
    if app.help {
        draw_help(frame, app, body);
    }
}

fn draw_header(frame: &mut Frame, app: &App, area: Rect) {
    let plural = app
        .list
        .as_ref()
        .and_then(|l| l.kind.as_ref())
        .map(|k| k.plural.clone())
        .unwrap_or_else(|| app.kind.clone());
    let count = app
        .count_text()
        .map(|c| format!(" ({c})"))
        .unwrap_or_default();
    let namespace = match &app.namespace {
        Scope::All => "all".to_string(),
        Scope::Named(ns) => ns.clone(),
        Scope::Context => app
            .list
            .as_ref()
            .map(|l| l.namespace.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "-".into()),
    };
    let context = if app.context_name.is_empty() {
        "…".to_string()
    } else {
        app.context_name.clone()
    };
    let mut spans = vec![
        Span::styled(
            " timoneiro ",
            style(app, Color::Cyan).add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(" ctx: {context}  ns: {namespace}  ")),
        Span::styled(
            format!("{}{count}", title_case(&plural)),
            Style::default().add_modifier(Modifier::BOLD),
        ),
    ];
    if !app.selector.is_empty() {
        spans.push(Span::raw(format!("  -l {}", app.selector)));
    }
    match &app.connection {
        Connection::Connecting => spans.push(Span::styled(
            "  connecting to timoneirod…",
            style(app, Color::Yellow),
        )),
        Connection::Reconnecting { message, attempt } => spans.push(Span::styled(
            format!("  reconnecting (attempt {attempt}): {message}"),
            style(app, Color::Red).add_modifier(Modifier::BOLD),
        )),
        Connection::Connected => {
            if let Some(status) = app.list.as_ref().and_then(|l| l.status.as_ref()) {
                match SyncState::try_from(status.state).unwrap_or(SyncState::Unspecified) {
                    SyncState::Stale => spans.push(Span::styled(
                        format!("  STALE: {}", status.message),
                        style(app, Color::Yellow).add_modifier(Modifier::BOLD),
                    )),
                    SyncState::Error => spans.push(Span::styled(
                        format!("  ERROR: {}", status.message),
                        style(app, Color::Red).add_modifier(Modifier::BOLD),
                    )),
                    _ => {}
                }
            }
            let loading = app.loading();
            if !loading.is_empty() {
                spans.push(Span::styled(
                    format!("  Loading: {}", loading.join(", ")),
                    style(app, Color::Yellow),
                ));
            }
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The colour of a STATUS cell, the way people read them.
fn status_color(text: &str) -> Option<Color> {
    const BAD: [&str; 9] = [
        "Error",
        "BackOff",
        "Failed",
        "Unknown",
        "Evicted",
        "OOMKilled",
        "ErrImage",
        "NotReady",
        "Lost",
    ];
    if BAD.iter().any(|b| text.contains(b)) {
        Some(Color::Red)
    } else if matches!(
        text,
        "Running" | "Active" | "Bound" | "Complete" | "Completed" | "Available"
    ) {
        Some(Color::Green)
    } else if text.starts_with("Init:")
        || matches!(
            text,
            "Pending" | "ContainerCreating" | "Terminating" | "PodInitializing" | "SchedulingGated"
        )
    {
        Some(Color::Yellow)
    } else {
        None
    }
}

fn draw_table(frame: &mut Frame, app: &App, area: Rect, now: i64) {
    let Some(list) = &app.list else {
        draw_no_list(frame, app, area);
        return;
    };
    let plural = list.kind.as_ref().map_or("", |k| k.plural.as_str());
    // CPU and memory columns after the cached ones, for pods and nodes.
    let metric_names = metric_columns(plural);
    let first_metric = list.columns.len();
    let mut columns = list.columns.clone();
    columns.extend(metric_names.iter().map(|name| timoneiro_proto::v1::Column {
        name: (*name).to_string(),
        wide: false,
    }));
    let texts: Vec<Vec<String>> = list
        .rows
        .iter()
        .map(|r| {
            let mut cells: Vec<String> = r.cells.iter().map(|c| cell_text(c, now)).collect();
            cells.extend(metric_cells(app, plural, r));
            cells
        })
        .collect();
    let mut all_widths: Vec<u16> = columns
        .iter()
        .map(|c| c.name.chars().count() as u16)
        .collect();
    for row in &texts {
        for (i, text) in row.iter().enumerate() {
            if let Some(w) = all_widths.get_mut(i) {
                *w = (*w).max(text.chars().count() as u16);
            }
        }
    }
    let shown = visible_columns(
        &columns,
        first_metric,
        plural,
        app.wide,
        &all_widths,
        area.width,
    );
    let status_column = shown.iter().position(|&i| columns[i].name == "STATUS");
    let widths: Vec<u16> = shown.iter().map(|&i| all_widths[i]).collect();
    let header = Row::new(shown.iter().map(|&i| Cell::from(columns[i].name.clone())))
        .style(Style::default().add_modifier(Modifier::BOLD));
    let rows = texts.into_iter().map(|cells| {
        Row::new(shown.iter().enumerate().map(|(at, &i)| {
            let text = cells.get(i).cloned().unwrap_or_default();
            let color = if Some(at) == status_column && app.color {
                status_color(&text)
            } else {
                None
            };
            let cell = Cell::from(text);
            match color {
                Some(color) => cell.style(Style::default().fg(color)),
                None => cell,
            }
        }))
    });
    let constraints: Vec<Constraint> = widths.iter().map(|w| Constraint::Length(*w)).collect();
    let highlight = if app.color {
        Style::default().bg(Color::Blue).fg(Color::White)
    } else {
        Style::default().add_modifier(Modifier::REVERSED)
    };
    let table = Table::new(rows, constraints)
        .header(header)
        .column_spacing(COLUMN_SPACING)
        .row_highlight_style(highlight)
        // A marker, so the selection shows without colour too (NO_COLOR, screen readers, tmux captures).
        .highlight_symbol("▶ ")
        .highlight_spacing(ratatui::widgets::HighlightSpacing::Always);
    let mut state = TableState::default();
    if !list.rows.is_empty() {
        state.select(app.cursor.checked_sub(app.offset).map(|i| i as usize));
    }
    frame.render_stateful_widget(table, area, &mut state);
    if list.rows.is_empty() {
        draw_empty(frame, app, list, area);
    }
}

/// No answer yet: loading, connecting, or why the daemon is not reachable.
fn draw_no_list(frame: &mut Frame, app: &App, area: Rect) {
    let text = match &app.connection {
        Connection::Connected => "loading…".to_string(),
        Connection::Connecting => "connecting to timoneirod…".to_string(),
        Connection::Reconnecting { message, .. } => {
            format!(
                "timoneirod is not reachable: {message}\n\nStart it with `timoneirod` (or point --socket at a running one); this view comes back by itself."
            )
        }
    };
    frame.render_widget(
        Paragraph::new(text).style(style(app, Color::DarkGray)),
        area,
    );
}

/// Under the header of an answer without rows: why there are none.
fn draw_empty(frame: &mut Frame, app: &App, list: &timoneiro_proto::v1::ListResponse, area: Rect) {
    let empty = match (list.total, app.filter.is_empty() && app.selector.is_empty()) {
        (0, _) => "No resources found".to_string(),
        (_, false) => format!(
            "No rows match (of {}). Esc clears the filter.",
            thousands(list.total)
        ),
        _ => "No rows in this window".to_string(),
    };
    let message_area = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    frame.render_widget(
        Paragraph::new(empty).style(style(app, Color::DarkGray)),
        message_area,
    );
}

/// Space between columns, and before the first one for the selection marker.
const COLUMN_SPACING: u16 = 3;
const MARKER: u16 = 2;

/// The CPU and memory columns of a kind (k9s's set).
fn metric_columns(plural: &str) -> &'static [&'static str] {
    match plural {
        "pods" => &["CPU", "MEM", "%CPU/R", "%MEM/R", "%CPU/L", "%MEM/L"],
        "nodes" => &["CPU", "MEM", "%CPU", "%MEM"],
        _ => &[],
    }
}

/// The metric cells of a row: `…` until the first answer, `n/a` when the
/// cluster has no metrics (or none for this row, or no request or limit to
/// compare with).
fn metric_cells(app: &App, plural: &str, row: &timoneiro_proto::v1::Row) -> Vec<String> {
    use timoneiro_client::render::{cpu_text, memory_text, millicores, percent_of};
    let count = metric_columns(plural).len();
    if count == 0 {
        return Vec::new();
    }
    let fill = |text: &str| vec![text.to_string(); count];
    match &app.metrics_available {
        None => return fill("…"),
        Some(Err(_)) => return fill("n/a"),
        Some(Ok(())) => {}
    }
    let key = (row.namespace.clone(), row.name.clone());
    let Some(used) = app.metrics.get(&key) else {
        return fill("n/a");
    };
    let share = |used: i64, of: i64| percent_of(used, of).unwrap_or_else(|| "n/a".into());
    let cpu = millicores(used.cpu_nanos);
    let mut cells = vec![cpu_text(used.cpu_nanos), memory_text(used.memory_bytes)];
    if plural == "pods" {
        cells.push(share(cpu, millicores(used.cpu_request_nanos)));
        cells.push(share(used.memory_bytes, used.memory_request_bytes));
        cells.push(share(cpu, millicores(used.cpu_limit_nanos)));
        cells.push(share(used.memory_bytes, used.memory_limit_bytes));
    } else {
        cells.push(share(cpu, millicores(used.cpu_allocatable_nanos)));
        cells.push(share(used.memory_bytes, used.memory_allocatable_bytes));
    }
    cells
}

/// Default columns a kind shows without `ctrl-w`, before AGE (k9s shows a
/// pod's IP and NODE).
fn promoted(plural: &str) -> &'static [&'static str] {
    match plural {
        "pods" => &["IP", "NODE"],
        _ => &[],
    }
}

/// The columns to show, as indices in display order: kubectl's default
/// ones (with the kind's promoted wide ones before AGE), or every column
/// with `wide`. When they do not fit in `width`, the least important go
/// first: the metric percentages and (without `wide`) the wide columns,
/// then CPU, MEM and the promoted ones, then the rest from the right,
/// STATUS and NAMESPACE last; NAME always stays.
pub fn visible_columns(
    columns: &[timoneiro_proto::v1::Column],
    first_metric: usize,
    plural: &str,
    wide: bool,
    widths: &[u16],
    width: u16,
) -> Vec<usize> {
    let promoted = promoted(plural);
    let cached = first_metric.min(columns.len());
    let metrics = cached..columns.len();
    let is_promoted = |i: usize| i < cached && promoted.contains(&columns[i].name.as_str());
    let age = (0..cached).find(|&i| columns[i].name == "AGE" && !columns[i].wide);
    let mut order: Vec<usize> = if wide {
        // kubectl's wide order, the metrics before AGE.
        let mut order: Vec<usize> = (0..cached)
            .filter(|&i| Some(i) != age && !columns[i].wide)
            .collect();
        order.extend(metrics.clone());
        order.extend(age);
        order.extend((0..cached).filter(|&i| columns[i].wide));
        order
    } else {
        // k9s's: the metrics after the default columns, then the promoted
        // wide ones, AGE last.
        let mut order: Vec<usize> = (0..cached)
            .filter(|&i| !columns[i].wide && Some(i) != age)
            .collect();
        order.extend(metrics.clone());
        order.extend(
            promoted
                .iter()
                .filter_map(|name| (0..cached).find(|&i| columns[i].name == *name)),
        );
        order.extend(age);
        order
    };
    let needed = |order: &[usize]| -> u32 {
        let cells: u32 = order
            .iter()
            .map(|&i| u32::from(widths.get(i).copied().unwrap_or(0)))
            .sum();
        cells + u32::from(COLUMN_SPACING) * order.len().saturating_sub(1) as u32 + u32::from(MARKER)
    };
    let rank = |i: usize| match columns[i].name.as_str() {
        _ if metrics.contains(&i) && columns[i].name.starts_with('%') => 0,
        _ if metrics.contains(&i) => 1,
        "NAME" => u8::MAX,
        "NAMESPACE" => 4,
        "STATUS" => 3,
        _ if is_promoted(i) => 1,
        // Asked for with ctrl-w: the wide columns stay before the metrics.
        _ if columns[i].wide && !wide => 0,
        _ => 2,
    };
    while needed(&order) > u32::from(width) {
        let Some(at) = (0..order.len())
            .filter(|&at| rank(order[at]) != u8::MAX)
            .min_by_key(|&at| (rank(order[at]), std::cmp::Reverse(at)))
        else {
            break;
        };
        order.remove(at);
    }
    order
}

/// Lines of a text or log view, those containing `search` (any case) in bold yellow.
fn highlighted<'a>(
    app: &App,
    lines: impl Iterator<Item = &'a String>,
    search: &str,
) -> Vec<Line<'a>> {
    let needle = search.to_lowercase();
    lines
        .map(|line| {
            if !needle.is_empty() && line.to_lowercase().contains(&needle) {
                Line::styled(
                    line.as_str(),
                    style(app, Color::Yellow).add_modifier(Modifier::BOLD),
                )
            } else {
                Line::raw(line.as_str())
            }
        })
        .collect()
}

fn draw_text(frame: &mut Frame, app: &App, area: Rect) {
    let Some(text) = &app.text else { return };
    let height = area.height.saturating_sub(2) as usize;
    let mut lines = highlighted(
        app,
        text.lines.iter().skip(text.scroll).take(height),
        &text.search,
    );
    if let Some(line) = text
        .highlight
        .and_then(|h| h.checked_sub(text.scroll))
        .and_then(|h| lines.get_mut(h))
    {
        *line = line
            .clone()
            .style(Style::default().add_modifier(Modifier::REVERSED));
    }
    let title = format!(
        " {} — line {}/{} ",
        text.title,
        text.scroll + 1,
        text.lines.len()
    );
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        area,
    );
}

fn draw_logs(frame: &mut Frame, app: &App, area: Rect) {
    let Some(logs) = &app.logs else { return };
    let height = area.height.saturating_sub(2) as usize;
    let width = area.width.saturating_sub(2).max(1) as usize;
    let mut first = logs.first_shown(height);
    if logs.wrap && logs.follow {
        // The newest lines that fit once wrapped.
        let mut rows = 0;
        first = logs.lines.len();
        while first > 0 {
            let wrapped = logs.lines[first - 1].chars().count().div_ceil(width).max(1);
            if rows + wrapped > height {
                break;
            }
            rows += wrapped;
            first -= 1;
        }
    }
    let lines = highlighted(
        app,
        logs.lines.iter().skip(first).take(height),
        &logs.search,
    );
    let on = |flag: bool| if flag { "on" } else { "off" };
    let mut title = format!(
        " Logs {} — {} · follow {} · wrap {} · time {} · {} lines",
        logs.title,
        logs.reading(),
        on(logs.follow),
        on(logs.wrap),
        on(logs.timestamps),
        thousands(logs.lines.len() as u64)
    );
    if logs.dropped > 0 {
        title.push_str(&format!(" ({} older dropped)", thousands(logs.dropped)));
    }
    if logs.ended {
        title.push_str(" · ended");
    }
    title.push(' ');
    let mut paragraph =
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title));
    if logs.wrap {
        paragraph = paragraph.wrap(ratatui::widgets::Wrap { trim: false });
    }
    frame.render_widget(paragraph, area);
}

fn draw_footer(frame: &mut Frame, app: &App, area: Rect) {
    let line = match app.mode {
        Mode::Logs => match app.logs.as_ref().and_then(|l| l.notice.as_ref()) {
            Some((notice, error)) => Line::styled(
                format!(" {notice}"),
                style(app, if *error { Color::Red } else { Color::DarkGray }),
            ),
            None => Line::raw(
                " s follow · w wrap · t time · c container · a all · p previous · / search n N · Esc back",
            ),
        },
        Mode::LogSearch | Mode::TextSearch => typing(app, "search: ", None),
        Mode::Confirm => Line::from(vec![
            Span::styled(
                format!(
                    " {} ",
                    app.pending
                        .as_ref()
                        .map_or("", |(question, _)| question.as_str())
                ),
                style(app, Color::Yellow).add_modifier(Modifier::BOLD),
            ),
            Span::raw("y yes · any other key: no"),
        ]),
        Mode::Prompt => prompt(app),
        Mode::Filter => {
            let hint = match &app.message {
                Some((message, true)) => {
                    Span::styled(format!("   {message}"), style(app, Color::Red))
                }
                _ => Span::styled(
                    "   fuzzy terms, !exclude, ^start end$, -l label=selector · Enter keep · Esc clear",
                    style(app, Color::DarkGray),
                ),
            };
            typing(app, "/", Some(hint))
        }
        Mode::Command => {
            let candidates = app.candidates();
            let hint = if candidates.is_empty() || app.input.is_empty() {
                "   kind (pods, deploy, svc…) · ns [NAME] · ctx [NAME] · pf · q · Tab completes"
                    .to_string()
            } else {
                let shown: Vec<String> = candidates.iter().take(8).cloned().collect();
                format!("   {}", shown.join(" "))
            };
            typing(
                app,
                ":",
                Some(Span::styled(hint, style(app, Color::DarkGray))),
            )
        }
        Mode::Text if app.containers_of.is_some() => Line::raw(
            " j/k select · l logs · p previous logs · s shell · F port-forward · Esc back · ? help",
        ),
        Mode::Text if app.forwards_view => match &app.message {
            Some(message) => said(app, message),
            None => Line::raw(" j/k select · ctrl-d stop the forward · Esc back"),
        },
        Mode::Text => Line::raw(" j/k scroll · / search · n next · Esc back · ? help"),
        Mode::Table | Mode::Help => match &app.message {
            Some(message) => said(app, message),
            None => table_status(app),
        },
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// What is being typed after `prefix`, with the cursor, and a hint after it.
fn typing<'a>(app: &App, prefix: &'a str, hint: Option<Span<'a>>) -> Line<'a> {
    let mut spans = vec![
        Span::styled(prefix, style(app, Color::Cyan)),
        Span::raw(format!("{}█", app.input)),
    ];
    spans.extend(hint);
    Line::from(spans)
}

/// A message of the app's: red when it is an error, green otherwise.
fn said<'a>(app: &App, (message, error): &(String, bool)) -> Line<'a> {
    Line::styled(
        format!(" {message}"),
        style(app, if *error { Color::Red } else { Color::Green }),
    )
}

/// The prompt of a port-forward (`[LOCAL:]REMOTE`) or a scale (replicas).
fn prompt(app: &App) -> Line<'_> {
    let bold = style(app, Color::Yellow).add_modifier(Modifier::BOLD);
    let (question, hint) = match (&app.forwarding, &app.scaling) {
        (Some(forward), _) => (
            format!(" Forward pods/{} [LOCAL:]REMOTE: ", forward.pod),
            match &app.message {
                Some((message, true)) => format!("   {message}"),
                _ => "   Enter forwards (127.0.0.1) · Esc cancels".to_string(),
            },
        ),
        (None, scaling) => (
            format!(
                " Replicas for {}/{}: ",
                scaling.as_ref().map_or("", |s| s.kind.as_str()),
                scaling.as_ref().map_or("", |s| s.name.as_str())
            ),
            "   Enter scales · Esc cancels".to_string(),
        ),
    };
    Line::from(vec![
        Span::styled(question, bold),
        Span::raw(format!("{}█", app.input)),
        Span::styled(hint, style(app, Color::DarkGray)),
    ])
}

/// The table's status line: the window shown, the filter, the sort.
fn table_status(app: &App) -> Line<'_> {
    let mut parts = Vec::new();
    if let Some(list) = &app.list {
        let shown = list.rows.len() as u64;
        let first = if shown == 0 {
            0
        } else {
            u64::from(app.offset) + 1
        };
        parts.push(format!(
            "showing {}–{} of {}",
            thousands(first),
            thousands(u64::from(app.offset) + shown),
            app.matched_text(list)
        ));
        if list.matched != list.total {
            parts.push(format!("{} in all", thousands(list.total)));
        }
    }
    if !app.filter.is_empty() {
        parts.push(format!("filter: {}", app.filter));
    }
    let sort = if app.sort.is_empty() {
        "newest"
    } else {
        app.sort.as_str()
    };
    let arrow = if app.descending { " ↓" } else { "" };
    parts.push(format!("sort: {sort}{arrow}"));
    parts.push("? help".into());
    Line::raw(format!(" {}", parts.join(" · ")))
}

/// Every key, as the help overlay lists it.
pub const HELP: &[(&str, &str)] = &[
    ("j k ↓ ↑", "move"),
    ("PgDn PgUp ^f ^b", "page (^d ^u in a text view)"),
    ("g G", "first / last row"),
    (
        "/",
        "filter as you type: fuzzy, !exclude, ^start, end$, 'exact, -l selector",
    ),
    (
        ":",
        "command: a kind (pods, deploy, …; Tab completes), ns [NAME], ctx [NAME], pf, q",
    ),
    ("0", "all namespaces"),
    (
        "Enter",
        "workload → its pods; pod → its containers; namespace → its pods; else describe",
    ),
    ("d", "describe the selected object"),
    ("J", "jump to the owner (Esc comes back to the same place)"),
    ("^w", "all -o wide columns on / off"),
    ("y", "YAML of the selected object (/ search, n next)"),
    (
        "N A S R",
        "sort by name / age / status / restarts (again: reverse)",
    ),
    (
        "C M",
        "sort by CPU / memory use, highest first (pods, nodes)",
    ),
    ("Esc", "clear the filter, or go back"),
    ("?", "this help"),
    ("q ^c", "quit"),
];

/// The log view's keys, as the help lists them.
pub const LOG_HELP: &[(&str, &str)] = &[
    ("j k PgDn PgUp", "scroll (stops following)"),
    ("g G", "first line / the end (follows again)"),
    ("s f", "follow on / off"),
    ("w", "wrap long lines on / off"),
    ("t", "timestamps on / off"),
    ("c", "next container (then all)"),
    ("a", "all containers on / off"),
    ("p", "the previous instance on / off"),
    ("/ n N", "search, next, previous match"),
    ("Esc", "back to the table"),
    ("q ^c", "quit"),
];

/// The keys valid where the user is: the log view's, or the table's with
/// the actions of the kind shown (those that change the cluster left out on
/// a read-only context).
pub fn help_lines(app: &App) -> Vec<(&'static str, &'static str)> {
    if app.logs.is_some() && matches!(app.mode, Mode::Logs | Mode::LogSearch) {
        return LOG_HELP.to_vec();
    }
    let plural = app.current_kind_plural();
    let readonly = app.is_readonly();
    let mut lines = HELP.to_vec();
    let at = lines.len().saturating_sub(3);
    let actions: Vec<_> = crate::act::keys_for(&plural)
        .into_iter()
        .filter(|(keys, _)| !readonly || !crate::act::mutates(keys))
        .collect();
    lines.splice(at..at, actions);
    if readonly {
        lines.insert(at, ("", "read-only context: no deletes, scaling, restarts"));
    }
    lines
}

fn draw_help(frame: &mut Frame, app: &App, area: Rect) {
    let help = help_lines(app);
    // Too many keys for one column on this screen: two, side by side.
    let columns: u16 = if help.len() as u16 + 2 > area.height && area.width >= 120 {
        2
    } else {
        1
    };
    let width = area.width.min(100 * columns);
    let per_column = help.len().div_ceil(usize::from(columns));
    let height = (per_column as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" keys (any key closes) ");
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    let areas = Layout::horizontal(vec![
        Constraint::Ratio(1, u32::from(columns));
        usize::from(columns)
    ])
    .split(inner);
    for (chunk, area) in help.chunks(per_column.max(1)).zip(areas.iter()) {
        let lines: Vec<Line> = chunk
            .iter()
            .map(|(keys, what)| {
                Line::from(vec![
                    Span::styled(format!(" {keys:<18}"), style(app, Color::Cyan)),
                    Span::raw(*what),
                ])
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), *area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{App, Scope};
    use crate::input::Action;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use timoneiro_proto::v1::{self, Column, KindInfo, KindStatus, ListResponse};

    const NOW: i64 = 1_800_000_000_000;

    /// Render the app and return the screen as text.
    fn screen(app: &App, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        terminal.draw(|frame| draw(frame, app, NOW)).expect("draw");
        let buffer = terminal.backend().buffer().clone();
        (0..height)
            .map(|y| {
                (0..width)
                    .map(|x| buffer[(x, y)].symbol().to_string())
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Compare with `tests/snapshots/NAME.snap` (review changes with
    /// `cargo insta review`; CI never accepts them).
    fn snapshot(name: &str, actual: &str) {
        insta::with_settings!({
            prepend_module_to_snapshot => false,
            snapshot_path => "../tests/snapshots",
        }, {
            insta::assert_snapshot!(name, actual);
        });
    }

    fn cell(text: &str) -> v1::Cell {
        v1::Cell {
            text: text.into(),
            since_unix_ms: 0,
        }
    }

    fn age(ms: i64) -> v1::Cell {
        v1::Cell {
            text: String::new(),
            since_unix_ms: NOW - ms,
        }
    }

    fn pods(
        rows: &[(&str, &str, &str, &str, &str, i64)],
        total: u64,
        state: SyncState,
        message: &str,
    ) -> ListResponse {
        ListResponse {
            kind: Some(KindInfo {
                plural: "pods".into(),
                ..KindInfo::default()
            }),
            // The daemon's pod columns with -o wide (the TUI always asks for them).
            columns: [
                ("NAMESPACE", false),
                ("NAME", false),
                ("READY", false),
                ("STATUS", false),
                ("RESTARTS", false),
                ("AGE", false),
                ("IP", true),
                ("NODE", true),
                ("NOMINATED NODE", true),
                ("READINESS GATES", true),
            ]
            .iter()
            .map(|(c, wide)| Column {
                name: (*c).into(),
                wide: *wide,
            })
            .collect(),
            rows: rows
                .iter()
                .map(|(ns, name, ready, status, restarts, age_ms)| v1::Row {
                    namespace: (*ns).into(),
                    name: (*name).into(),
                    uid: format!("uid-{name}"),
                    cells: vec![
                        cell(ns),
                        cell(name),
                        cell(ready),
                        cell(status),
                        cell(restarts),
                        age(*age_ms),
                        cell("10.244.1.17"),
                        cell("lab-node-03"),
                        cell("<none>"),
                        cell("<none>"),
                    ],
                    ..v1::Row::default()
                })
                .collect(),
            total,
            matched: rows.len() as u64,
            status: Some(KindStatus {
                kind: "pods".into(),
                state: state as i32,
                message: message.into(),
                ..KindStatus::default()
            }),
            ..ListResponse::default()
        }
    }

    fn connected_app() -> App {
        let mut app = App::new(String::new(), "pods".into(), Scope::All);
        app.color = false;
        app.connection = Connection::Connected;
        app.context_name = "prod-eu".into();
        app.page = 5;
        app
    }

    const ROWS: &[(&str, &str, &str, &str, &str, i64)] = &[
        (
            "shop",
            "web-57bd7f8bd7-hjnwk",
            "1/1",
            "Running",
            "0",
            45_000,
        ),
        (
            "shop",
            "api-674ff657b9-85s2f",
            "1/2",
            "Running",
            "0",
            11 * 60_000,
        ),
        (
            "kube-system",
            "coredns-5d78c9869d-x2x9k",
            "0/1",
            "CrashLoopBackOff",
            "5 (3m1s ago)",
            3 * 86_400_000 + 4 * 3_600_000,
        ),
    ];

    #[test]
    fn pods_view_with_loading_header() {
        let mut app = connected_app();
        app.statuses = vec![
            KindStatus {
                kind: "pods".into(),
                state: SyncState::Synced as i32,
                ..KindStatus::default()
            },
            KindStatus {
                kind: "deployments".into(),
                state: SyncState::Loading as i32,
                ..KindStatus::default()
            },
            KindStatus {
                kind: "services".into(),
                state: SyncState::Loading as i32,
                ..KindStatus::default()
            },
        ];
        app.on_list(0, pods(ROWS, 10_000, SyncState::Synced, ""));
        app.apply(Action::Move(1));
        snapshot("pods-loading-header", &screen(&app, 100, 9));
    }

    #[test]
    fn filter_being_typed_and_no_match() {
        let mut app = connected_app();
        app.on_list(0, pods(&[], 10_000, SyncState::Synced, ""));
        app.apply(Action::StartFilter);
        for c in "zzz !kube".chars() {
            app.apply(Action::Type(c));
        }
        let generation = app.generation;
        app.on_list(generation, pods(&[], 10_000, SyncState::Synced, ""));
        snapshot("filter-no-match", &screen(&app, 100, 6));
    }

    #[test]
    fn stale_and_error_states() {
        let mut app = connected_app();
        app.on_list(
            0,
            pods(&ROWS[..1], 1, SyncState::Stale, "watch stream ended"),
        );
        snapshot("stale", &screen(&app, 100, 5));
        let mut app = connected_app();
        app.on_list(
            0,
            pods(
                &[],
                0,
                SyncState::Error,
                "pods is forbidden: User \"dev\" cannot list resource \"pods\"",
            ),
        );
        snapshot("error-empty", &screen(&app, 100, 5));
    }

    #[test]
    fn daemon_not_running_yet() {
        let mut app = App::new(String::new(), "pods".into(), Scope::Context);
        app.color = false;
        app.connection = Connection::Reconnecting {
            message: "timoneirod is not running (no daemon at /run/t.sock)".into(),
            attempt: 3,
        };
        snapshot("reconnecting", &screen(&app, 100, 7));
    }

    #[test]
    fn help_overlay() {
        let mut app = connected_app();
        app.on_list(0, pods(ROWS, 3, SyncState::Synced, ""));
        app.apply(Action::Help);
        snapshot("help", &screen(&app, 100, 22));
        // A wide terminal too short for one column shows every key, in two.
        let wide = screen(&app, 200, 22);
        for (_, what) in help_lines(&app) {
            assert!(wide.contains(what), "{what:?} is not on screen:\n{wide}");
        }
        snapshot("help-wide", &wide);
    }

    #[test]
    fn page_size_follows_the_terminal() {
        assert_eq!(page_for(40), 36);
        assert_eq!(page_for(3), 1);
    }

    fn names(list: &ListResponse, shown: &[usize]) -> Vec<String> {
        shown
            .iter()
            .map(|&i| list.columns[i].name.clone())
            .collect()
    }

    #[test]
    fn pods_show_ip_and_node_before_age_and_ctrl_w_shows_every_wide_column() {
        let list = pods(ROWS, 3, SyncState::Synced, "");
        let widths = vec![12; list.columns.len()];
        let default = visible_columns(
            &list.columns,
            list.columns.len(),
            "pods",
            false,
            &widths,
            200,
        );
        assert_eq!(
            names(&list, &default),
            [
                "NAMESPACE",
                "NAME",
                "READY",
                "STATUS",
                "RESTARTS",
                "IP",
                "NODE",
                "AGE"
            ]
        );
        let wide = visible_columns(
            &list.columns,
            list.columns.len(),
            "pods",
            true,
            &widths,
            250,
        );
        assert_eq!(
            names(&list, &wide),
            [
                "NAMESPACE",
                "NAME",
                "READY",
                "STATUS",
                "RESTARTS",
                "AGE",
                "IP",
                "NODE",
                "NOMINATED NODE",
                "READINESS GATES"
            ]
        );
        // Other kinds keep kubectl's default columns.
        let other = visible_columns(
            &list.columns,
            list.columns.len(),
            "deployments",
            false,
            &widths,
            200,
        );
        assert!(!names(&list, &other).contains(&"IP".to_string()));
    }

    #[test]
    fn a_narrow_terminal_hides_the_least_important_columns_and_never_name() {
        let list = pods(ROWS, 3, SyncState::Synced, "");
        let widths = vec![10; list.columns.len()];
        // 8 columns of 10 with spacing 3 and the marker need 103.
        let fits = visible_columns(
            &list.columns,
            list.columns.len(),
            "pods",
            false,
            &widths,
            103,
        );
        assert_eq!(fits.len(), 8);
        let narrower = visible_columns(
            &list.columns,
            list.columns.len(),
            "pods",
            false,
            &widths,
            80,
        );
        assert_eq!(
            names(&list, &narrower),
            ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        );
        let tiny = visible_columns(
            &list.columns,
            list.columns.len(),
            "pods",
            false,
            &widths,
            20,
        );
        assert_eq!(names(&list, &tiny), ["NAME"]);
    }

    #[test]
    fn the_header_counts_what_is_shown_of_the_whole() {
        let mut app = connected_app();
        app.statuses = vec![KindStatus {
            kind: "pods".into(),
            state: SyncState::Synced as i32,
            objects: 10_000,
            ..KindStatus::default()
        }];
        app.list = Some(pods(ROWS, 9_000, SyncState::Synced, ""));
        assert_eq!(app.count_text().as_deref(), Some("9,000"));
        app.filter = "web".into();
        assert_eq!(app.count_text().as_deref(), Some("3/9,000"));
        app.filter.clear();
        let mut scoped = pods(&ROWS[..2], 302, SyncState::Synced, "");
        scoped.namespace = "shop".into();
        app.list = Some(scoped);
        app.selector = "app=catalog".into();
        assert_eq!(app.count_text().as_deref(), Some("2/10,000"));
        // Rows that came before their count: the count is not shown as
        // the lower bound it is, but as coming.
        let mut first = pods(ROWS, 9_000, SyncState::Synced, "");
        first.counting = true;
        app.list = Some(first.clone());
        app.selector.clear();
        app.filter = "web".into();
        app.namespace = Scope::All;
        assert_eq!(app.count_text().as_deref(), Some("…/9,000"));
        // Another window of a view counted before (scrolling): its last
        // count meanwhile; a view not counted yet: "…".
        app.generation = 7;
        let mut counted = pods(ROWS, 9_000, SyncState::Synced, "");
        counted.matched = 3;
        app.on_list(7, counted);
        assert_eq!(app.count_text().as_deref(), Some("3/9,000"));
        app.on_list(7, first.clone());
        assert_eq!(app.count_text().as_deref(), Some("3/9,000"));
        app.filter = "web 1/1".into();
        app.on_list(7, first);
        assert_eq!(app.count_text().as_deref(), Some("…/9,000"));
    }

    #[test]
    fn metric_cells_follow_kubectl_tops_rounding() {
        let mut app = connected_app();
        let list = pods(&ROWS[..1], 1, SyncState::Synced, "");
        let row = list.rows[0].clone();
        app.list = Some(list);
        assert_eq!(metric_cells(&app, "pods", &row), vec!["…"; 6]);
        app.metrics_available = Some(Ok(()));
        app.metrics.insert(
            (row.namespace.clone(), row.name.clone()),
            v1::Usage {
                // 15.2 millicores: kubectl rounds up to 16m; 50.9 MiB: 50Mi.
                cpu_nanos: 15_200_000,
                memory_bytes: 53_371_699,
                cpu_request_nanos: 100_000_000,
                memory_request_bytes: 128 * 1024 * 1024,
                ..v1::Usage::default()
            },
        );
        assert_eq!(
            metric_cells(&app, "pods", &row),
            ["16m", "50Mi", "16%", "39%", "n/a", "n/a"]
        );
        app.metrics_available = Some(Err("no metrics-server".into()));
        assert_eq!(metric_cells(&app, "pods", &row), vec!["n/a"; 6]);
    }
}
