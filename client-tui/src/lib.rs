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

/// What woke the event loop.
enum Input {
    /// The terminal: a key, a resize, its end or its error.
    Terminal(Option<std::io::Result<TermEvent>>),
    /// The connection to the daemon.
    Connection(Option<Event>),
    /// A port-forward's news.
    Forward(timoneiro_client::forward::Event),
    /// A second passed: ages tick on screen without any traffic.
    Tick,
    /// Time to draw the log lines that came meanwhile.
    Frame,
}

/// The TUI while it runs: its state, the terminal, and what it started.
struct Ui {
    app: App,
    settings: Settings,
    commands: mpsc::Sender<Command>,
    terminal: TerminalGuard,
    /// The terminal's events (none while a program has the terminal).
    keys: Option<EventStream>,
    /// Port-forwards listen as long as the TUI runs (`:pf` lists them).
    forward_tx: mpsc::UnboundedSender<timoneiro_client::forward::Event>,
    forwarding: Vec<timoneiro_client::forward::Forward>,
    /// When the current query was asked for, and whether its rows were
    /// drawn yet: the time to its first frame is what a keystroke in the
    /// filter costs, the time to its count the rest (logged for the
    /// benchmark).
    asked: Option<(u64, Instant, bool)>,
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
    let (forward_tx, mut forward_events) = mpsc::unbounded_channel();
    // ratatui::init enters raw mode and the alternate screen and installs a
    // panic hook that restores the terminal before the panic is printed.
    let terminal = TerminalGuard(ratatui::init());
    let height = terminal.0.size().map(|s| s.height).unwrap_or(24);
    app.set_page(ui::page_for(height));
    let mut ui = Ui {
        app,
        settings,
        commands,
        terminal,
        keys: Some(EventStream::new()),
        forward_tx,
        forwarding: Vec::new(),
        asked: None,
    };
    ui.send(Command::Watch(ui.app.generation, ui.app.request()))
        .await?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut first_rows = false;
    // Log lines may arrive thousands a second: they are drawn at most once
    // a frame, anything else at once.
    let mut last_draw = Instant::now() - FRAME;
    let mut log_lines_pending = false;
    loop {
        if !log_lines_pending || last_draw.elapsed() >= FRAME {
            ui.draw()?;
            last_draw = Instant::now();
            log_lines_pending = false;
        }
        if !first_rows && !ui.app.rows().is_empty() {
            first_rows = true;
            tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "first rows drawn"
            );
        }
        let input = tokio::select! {
            key = ui.next_key() => Input::Terminal(key),
            event = events.recv() => Input::Connection(event),
            Some(event) = forward_events.recv() => Input::Forward(event),
            _ = tick.tick() => Input::Tick,
            _ = tokio::time::sleep_until((last_draw + FRAME).into()), if log_lines_pending => Input::Frame,
        };
        let effect = match input {
            Input::Terminal(key) => on_terminal(&mut ui.app, key)?,
            Input::Connection(Some(event)) => {
                log_lines_pending |= matches!(event, Event::LogBatch(..));
                on_event(&mut ui.app, event)
            }
            Input::Connection(None) => anyhow::bail!("the connection task ended"),
            Input::Forward(event) => {
                ui.app.on_forward_event(event);
                Effect::None
            }
            Input::Tick => {
                ui.app.refresh_forwards();
                Effect::None
            }
            Input::Frame => Effect::None,
        };
        if let Some(request) = ui.app.metrics_request(Instant::now()) {
            ui.send(Command::Top(request)).await?;
        }
        if ui.carry_out(effect).await? {
            break;
        }
    }
    drop(ui);
    connection.abort();
    Ok(())
}

/// A terminal event: a key becomes an action on the app, a resize a new page size.
fn on_terminal(app: &mut App, event: Option<std::io::Result<TermEvent>>) -> anyhow::Result<Effect> {
    Ok(match event {
        Some(Ok(TermEvent::Key(key))) if key.kind == KeyEventKind::Press => {
            let started = Instant::now();
            let effect = input::action(app.input_mode(), key)
                .map_or(Effect::None, |action| app.apply(action));
            tracing::debug!(?key, micros = started.elapsed().as_micros() as u64, "key");
            effect
        }
        Some(Ok(TermEvent::Resize(_, height))) => app.set_page(ui::page_for(height)),
        Some(Ok(_)) => Effect::None,
        Some(Err(error)) => return Err(error.into()),
        None => Effect::Quit,
    })
}

/// What the connection tells the app.
fn on_event(app: &mut App, event: Event) -> Effect {
    match event {
        Event::Connected { context, readonly } => {
            app.connection = Connection::Connected;
            app.readonly_contexts = readonly;
            // The daemon's default, unless `:ctx` or --context chose one.
            if app.context.is_empty() {
                app.context_name = context;
            }
        }
        Event::Disconnected { message, attempt } => {
            app.connection = Connection::Reconnecting { message, attempt };
        }
        Event::List(generation, response) => app.on_list(generation, *response),
        Event::ListError(generation, message) => return app.on_list_error(generation, message),
        Event::Status(status) => app.statuses = status.kinds,
        Event::Object(request, purpose, result) => return app.on_object(purpose, &request, result),
        Event::Top(request, result) => app.on_top(&request, result),
        Event::LogBatch(generation, batch) => app.on_log_batch(generation, batch),
        Event::LogEnd(generation, error) => app.on_log_end(generation, error),
        Event::Progress(line) => app.on_progress(line),
        Event::Acted(result) => app.on_acted(result),
    }
    Effect::None
}

impl Ui {
    fn draw(&mut self) -> anyhow::Result<()> {
        let app = &self.app;
        self.terminal
            .0
            .draw(|frame| ui::draw(frame, app, now_unix_ms()))?;
        if let Some((generation, at, drawn)) = self.asked
            && self.app.answered == Some(generation)
            && let Some(list) = &self.app.list
        {
            // The daemon's part (its query, as it measured it) beside the
            // whole: the rest is the socket, decoding and drawing. The rows
            // may come before the count (ListResponse.counting).
            let micros = at.elapsed().as_micros() as u64;
            if !drawn {
                tracing::debug!(
                    generation,
                    micros,
                    query_micros = list.query_micros,
                    "query answered and drawn"
                );
            }
            if list.counting {
                self.asked = Some((generation, at, true));
            } else {
                tracing::debug!(generation, micros, "query counted and drawn");
                self.asked = None;
            }
        }
        Ok(())
    }

    async fn send(&self, command: Command) -> anyhow::Result<()> {
        Ok(self.commands.send(command).await?)
    }

    /// Carry out what an action or event asked for; true to quit.
    async fn carry_out(&mut self, effect: Effect) -> anyhow::Result<bool> {
        match effect {
            Effect::None => {}
            Effect::Quit => return Ok(true),
            Effect::Query => {
                self.asked = Some((self.app.generation, Instant::now(), false));
                self.send(Command::Watch(self.app.generation, self.app.request()))
                    .await?;
            }
            Effect::Get(request, purpose) => self.send(Command::Get(request, purpose)).await?,
            Effect::Logs(generation, request) => {
                self.send(Command::Logs(generation, request)).await?;
            }
            Effect::StopLogs => self.send(Command::StopLogs).await?,
            Effect::Act(act) => self.send(Command::Act(act)).await?,
            Effect::Exec(start) => {
                let pod = start.pod.clone();
                let socket = self.settings.socket.clone();
                let result = self.hand_over(shell(&socket, start)).await;
                self.app.message = Some(match result {
                    Ok(exit) if exit.code == 0 => (format!("shell in pods/{pod} ended"), false),
                    Ok(exit) => (
                        format!("shell in pods/{pod} ended: exit code {}", exit.code),
                        true,
                    ),
                    Err(message) => (message, true),
                });
            }
            Effect::Forward(request) => {
                let started =
                    forward(&self.settings.socket, request, self.forward_tx.clone()).await;
                match started {
                    Ok((listening, row)) => {
                        self.forwarding.push(listening);
                        self.app.on_forward_started(Ok(row));
                    }
                    Err(message) => self.app.on_forward_started(Err(message)),
                }
            }
            Effect::StopForward(local) => self.forwarding.retain(|f| f.local.port() != local),
            Effect::Edit(target) => {
                let socket = self.settings.socket.clone();
                let result = self.hand_over(edit(&socket, &target)).await;
                self.app.message = Some(match result {
                    Ok(line) => (line, false),
                    Err(message) => (message, true),
                });
            }
        }
        Ok(false)
    }

    /// Give the terminal to `program` (an editor, a shell) until it ends:
    /// no one else may read its keys meanwhile, so the key stream is
    /// dropped and a new one made. A new terminal has empty buffers: its
    /// first frame is whole.
    async fn hand_over<T>(&mut self, program: impl std::future::Future<Output = T>) -> T {
        self.keys = None;
        ratatui::restore();
        let result = program.await;
        self.terminal.0 = ratatui::init();
        self.keys = Some(EventStream::new());
        result
    }

    /// The next terminal event.
    async fn next_key(&mut self) -> Option<std::io::Result<TermEvent>> {
        match self.keys.as_mut() {
            Some(keys) => keys.next().await,
            None => std::future::pending().await,
        }
    }
}
