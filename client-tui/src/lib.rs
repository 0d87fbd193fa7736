//! `timoneiro-tui`: a live terminal navigator on the daemon's cache, in the
//! spirit of k9s. Any number of them share one warm daemon.
//!
//! `input` maps keys to actions, `app` holds the state and decides what each
//! action means, `ui` draws it, `conn` keeps the daemon connection alive, and
//! `run` (here) routes between them. The terminal is restored on exit and on
//! panic (ratatui's `init`/`restore`); logs go to a file, never the screen.

pub mod act;
pub mod app;
pub mod conn;
pub mod input;
pub mod logview;
pub mod ui;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use futures::StreamExt;
use timoneiro_proto::render::now_unix_ms;
use tokio::sync::mpsc;

use crate::app::{App, Connection, Effect, Scope};
use crate::conn::{Command, Event};

/// The shortest time between two frames while log lines stream in.
const FRAME: Duration = Duration::from_millis(40);

/// What to open.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The daemon's socket.
    pub socket: PathBuf,
    /// Context ("" = the daemon's default).
    pub context: String,
    /// Kind to show first.
    pub kind: String,
    /// Namespace scope to start in.
    pub namespace: Scope,
    /// Lines the log view keeps.
    pub log_lines: usize,
}

/// Restores the terminal when dropped, also when unwinding.
struct TerminalGuard(ratatui::DefaultTerminal);

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Edit `target` in the user's editor through a connection of its own.
async fn edit(
    socket: &std::path::Path,
    target: &timoneiro_proto::edit::Target,
) -> Result<String, String> {
    let mut client = timoneiro_proto::socket::connect(socket)
        .await
        .map_err(|e| e.to_string())?;
    let editor = timoneiro_proto::edit::editor_command();
    timoneiro_proto::edit::edit(&mut client, target, &editor)
        .await
        .map_err(|e| e.to_string())
}

/// Run the TUI until the user quits.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut app = App::new(
        settings.context.clone(),
        settings.kind.clone(),
        settings.namespace.clone(),
    );
    app.log_capacity = settings.log_lines.max(1);
    let (commands, command_rx) = mpsc::channel(32);
    let (event_tx, mut events) = mpsc::channel(256);
    let connection = tokio::spawn(conn::run(
        settings.socket.clone(),
        settings.context.clone(),
        command_rx,
        event_tx,
    ));

    // ratatui::init enters raw mode and the alternate screen and installs a
    // panic hook that restores the terminal before the panic is printed.
    let mut terminal = TerminalGuard(ratatui::init());
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let height = terminal.0.size().map(|s| s.height).unwrap_or(24);
    app.set_page(ui::page_for(height));
    commands
        .send(Command::Watch(app.generation, app.request()))
        .await?;
    let mut first_rows = false;
    // When the current query was asked for: the time to its first frame is
    // what a keystroke in the filter costs (logged for the benchmark).
    let mut asked: Option<(u64, Instant)> = None;
    // Log lines may arrive thousands a second: they are drawn at most once
    // a frame, anything else at once.
    let mut last_draw = Instant::now() - FRAME;
    let mut log_lines_pending = false;
    loop {
        if !log_lines_pending || last_draw.elapsed() >= FRAME {
            terminal
                .0
                .draw(|frame| ui::draw(frame, &app, now_unix_ms()))?;
            last_draw = Instant::now();
            log_lines_pending = false;
        }
        if !first_rows && !app.rows().is_empty() {
            first_rows = true;
            tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "first rows drawn"
            );
        }
        if let Some((generation, at)) = asked
            && app.answered == Some(generation)
        {
            tracing::debug!(
                generation,
                micros = at.elapsed().as_micros() as u64,
                "query answered and drawn"
            );
            asked = None;
        }
        let effect = tokio::select! {
            key = keys.next() => match key {
                Some(Ok(TermEvent::Key(key))) if key.kind == KeyEventKind::Press => {
                    let started = Instant::now();
                    let effect = input::action(app.input_mode(), key).map_or(Effect::None, |action| app.apply(action));
                    tracing::debug!(?key, micros = started.elapsed().as_micros() as u64, "key");
                    effect
                }
                Some(Ok(TermEvent::Resize(_, height))) => app.set_page(ui::page_for(height)),
                Some(Ok(_)) => Effect::None,
                Some(Err(error)) => return Err(error.into()),
                None => Effect::Quit,
            },
            event = events.recv() => match event {
                Some(Event::Connected { context, readonly }) => {
                    app.connection = Connection::Connected;
                    app.readonly_contexts = readonly;
                    // The daemon's default, unless `:ctx` or --context chose one.
                    if app.context.is_empty() {
                        app.context_name = context;
                    }
                    Effect::None
                }
                Some(Event::Disconnected { message, attempt }) => {
                    app.connection = Connection::Reconnecting { message, attempt };
                    Effect::None
                }
                Some(Event::List(generation, response)) => {
                    app.on_list(generation, *response);
                    Effect::None
                }
                Some(Event::ListError(generation, message)) => app.on_list_error(generation, message),
                Some(Event::Status(status)) => {
                    app.statuses = status.kinds;
                    Effect::None
                }
                Some(Event::Object(request, purpose, result)) => app.on_object(purpose, &request, result),
                Some(Event::Top(request, result)) => {
                    app.on_top(&request, result);
                    Effect::None
                }
                Some(Event::LogBatch(generation, batch)) => {
                    app.on_log_batch(generation, batch);
                    log_lines_pending = true;
                    Effect::None
                }
                Some(Event::LogEnd(generation, error)) => {
                    app.on_log_end(generation, error);
                    Effect::None
                }
                Some(Event::Progress(line)) => {
                    app.on_progress(line);
                    Effect::None
                }
                Some(Event::Acted(result)) => {
                    app.on_acted(result);
                    Effect::None
                }
                None => anyhow::bail!("the connection task ended"),
            },
            // Ages tick on screen without any traffic.
            _ = tick.tick() => Effect::None,
            _ = tokio::time::sleep_until((last_draw + FRAME).into()), if log_lines_pending => Effect::None,
        };
        if let Some(request) = app.metrics_request(Instant::now()) {
            commands.send(Command::Top(request)).await?;
        }
        match effect {
            Effect::None => {}
            Effect::Quit => break,
            Effect::Query => {
                asked = Some((app.generation, Instant::now()));
                commands
                    .send(Command::Watch(app.generation, app.request()))
                    .await?
            }
            Effect::Get(request, purpose) => commands.send(Command::Get(request, purpose)).await?,
            Effect::Logs(generation, request) => {
                commands.send(Command::Logs(generation, request)).await?
            }
            Effect::StopLogs => commands.send(Command::StopLogs).await?,
            Effect::Act(act) => commands.send(Command::Act(act)).await?,
            Effect::Edit(target) => {
                // The editor gets the terminal: no one else may read its keys.
                drop(keys);
                ratatui::restore();
                let result = edit(&settings.socket, &target).await;
                // A new terminal has empty buffers: its first frame is whole.
                terminal.0 = ratatui::init();
                keys = EventStream::new();
                app.message = Some(match result {
                    Ok(line) => (line, false),
                    Err(message) => (message, true),
                });
            }
        }
    }
    drop(terminal);
    connection.abort();
    Ok(())
}
