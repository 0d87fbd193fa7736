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
pub mod forwards;
pub mod input;
pub mod logview;
pub mod ui;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use futures::StreamExt;
use timoneiro_client::render::now_unix_ms;
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
    target: &timoneiro_client::edit::Target,
) -> Result<String, String> {
    let (mut client, _) = timoneiro_client::connect::connect(socket, "timoneiro-tui")
        .await
        .map_err(|e| e.to_string())?;
    let editor = timoneiro_client::edit::editor_command();
    timoneiro_client::edit::edit(&mut client, target, &editor)
        .await
        .map_err(|e| e.to_string())
}

/// Give the terminal to `program` (an editor, a shell) until it ends: no
/// one else may read its keys meanwhile, so the key stream is dropped and a
/// new one returned. A new terminal has empty buffers: its first frame is
/// whole.
async fn hand_over<T>(
    terminal: &mut TerminalGuard,
    keys: EventStream,
    program: impl std::future::Future<Output = T>,
) -> (T, EventStream) {
    drop(keys);
    ratatui::restore();
    let result = program.await;
    terminal.0 = ratatui::init();
    (result, EventStream::new())
}

/// A shell (or any command) in a container on this terminal, through a
/// connection of its own; the terminal is the command's until it exits.
async fn shell(
    socket: &std::path::Path,
    start: timoneiro_proto::v1::ExecStart,
) -> Result<timoneiro_client::exec::Exit, String> {
    let (mut client, _) = timoneiro_client::connect::connect(socket, "timoneiro-tui")
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "timoneiro: shell in pods/{} ({}); exit or ctrl-d comes back",
        start.pod, start.namespace
    );
    timoneiro_client::exec::run(&mut client, start, |started| {
        if !started.notice.is_empty() {
            println!("{}", started.notice);
        }
    })
    .await
    .map_err(|status| status.message().to_string())
}

/// Start forwarding a pod's port: resolve a named port, then listen.
async fn forward(
    socket: &std::path::Path,
    request: forwards::Request,
    events: mpsc::UnboundedSender<timoneiro_client::forward::Event>,
) -> Result<(timoneiro_client::forward::Forward, forwards::Row), String> {
    let (mut client, _) = timoneiro_client::connect::connect(socket, "timoneiro-tui")
        .await
        .map_err(|e| e.to_string())?;
    let resolved = client
        .resolve_forward(timoneiro_proto::v1::ResolveForwardRequest {
            context: request.context.clone(),
            namespace: request.namespace.clone(),
            target: request.pod.clone(),
            ports: vec![request.remote.clone()],
        })
        .await
        .map_err(|status| status.message().to_string())?
        .into_inner();
    let remote = resolved
        .pod_ports
        .first()
        .and_then(|p| u16::try_from(*p).ok())
        .ok_or("the daemon named no port")?;
    let target = timoneiro_client::forward::Target {
        context: request.context,
        namespace: resolved.namespace,
        pod: resolved.pod,
        port: remote,
    };
    let listening = timoneiro_client::forward::listen(client, request.local, target, events)
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", request.local))?;
    let row = forwards::Row {
        namespace: listening.target.namespace.clone(),
        pod: listening.target.pod.clone(),
        local: listening.local.port(),
        remote,
        connections: 0,
        error: None,
        started_ms: now_unix_ms(),
    };
    Ok((listening, row))
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
    // Port-forwards listen as long as the TUI runs (`:pf` lists them).
    let (forward_tx, mut forward_events) = mpsc::unbounded_channel();
    let mut forwarding: Vec<timoneiro_client::forward::Forward> = Vec::new();
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
            Some(event) = forward_events.recv() => {
                app.on_forward_event(event);
                Effect::None
            }
            // Ages tick on screen without any traffic.
            _ = tick.tick() => {
                app.refresh_forwards();
                Effect::None
            }
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
            Effect::Exec(start) => {
                let pod = start.pod.clone();
                let (result, fresh) =
                    hand_over(&mut terminal, keys, shell(&settings.socket, start)).await;
                keys = fresh;
                app.message = Some(match result {
                    Ok(exit) if exit.code == 0 => (format!("shell in pods/{pod} ended"), false),
                    Ok(exit) => (
                        format!("shell in pods/{pod} ended: exit code {}", exit.code),
                        true,
                    ),
                    Err(message) => (message, true),
                });
            }
            Effect::Forward(request) => {
                match forward(&settings.socket, request, forward_tx.clone()).await {
                    Ok((listening, row)) => {
                        forwarding.push(listening);
                        app.on_forward_started(Ok(row));
                    }
                    Err(message) => app.on_forward_started(Err(message)),
                }
            }
            Effect::StopForward(local) => forwarding.retain(|f| f.local.port() != local),
            Effect::Edit(target) => {
                let (result, fresh) =
                    hand_over(&mut terminal, keys, edit(&settings.socket, &target)).await;
                keys = fresh;
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
