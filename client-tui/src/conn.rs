//! The connection to the daemon as a small state machine: connect (and
//! check the protocol), keep a `WatchList` stream for the current query and
//! a `WatchStatus` stream for the header, and when anything breaks, report
//! it and reconnect with capped backoff. It never gives up and never fails:
//! the UI learns what happens through `Event`s.

use std::path::PathBuf;
use std::time::Duration;

use futures::StreamExt;
use timoneiro_proto::v1::{
    ActionResponse, DescribeRequest, GetRequest, ListRequest, ListResponse, LogsRequest,
    LogsResponse, StatusRequest, StatusResponse, TopRequest, TopResponse,
};
use tokio::sync::mpsc;
use tonic::Code;

use crate::act::Act;
use crate::app::Purpose;

/// What the UI asks of the connection.
#[derive(Debug)]
pub enum Command {
    /// Watch this query (generation, request), replacing the previous one.
    Watch(u64, ListRequest),
    /// Fetch an object.
    Get(GetRequest, Purpose),
    /// Fetch CPU and memory use.
    Top(TopRequest),
    /// Stream logs (generation, request), replacing the stream open.
    Logs(u64, LogsRequest),
    /// Close the log stream.
    StopLogs,
    /// Change the cluster.
    Act(Act),
}

/// What the connection tells the UI.
#[derive(Debug)]
pub enum Event {
    /// Connected to a daemon serving this context.
    Connected {
        /// The daemon's default context.
        context: String,
        /// Contexts the daemon refuses actions on.
        readonly: Vec<String>,
    },
    /// Lost or could not reach the daemon; retrying.
    Disconnected {
        /// Why.
        message: String,
        /// Attempts since the last success.
        attempt: u32,
    },
    /// An answer to a query.
    List(u64, Box<ListResponse>),
    /// The daemon refused a query (e.g. unknown kind).
    ListError(u64, String),
    /// Status of every kind.
    Status(StatusResponse),
    /// An object fetched for a purpose (or why it could not be).
    Object(GetRequest, Purpose, Result<String, String>),
    /// CPU and memory use (or why they could not be read).
    Top(TopRequest, Result<TopResponse, String>),
    /// Log lines of stream `generation`.
    LogBatch(u64, LogsResponse),
    /// Stream `generation` ended (with why, if it failed).
    LogEnd(u64, Option<String>),
    /// A line of a long action's progress (a drain's).
    Progress(String),
    /// The daemon's answer to an action.
    Acted(Result<ActionResponse, String>),
}

type Client = timoneiro_proto::v1::timoneiro_client::TimoneiroClient<tonic::transport::Channel>;

/// Read log stream `generation` into events until it ends.
async fn follow_logs(
    mut client: Client,
    generation: u64,
    request: LogsRequest,
    events: mpsc::Sender<Event>,
) {
    let ended = match client.logs(request).await {
        Ok(stream) => {
            let mut stream = stream.into_inner();
            loop {
                match stream.message().await {
                    Ok(Some(batch)) => {
                        if events
                            .send(Event::LogBatch(generation, batch))
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                    Ok(None) => break None,
                    Err(status) => break Some(status.message().to_string()),
                }
            }
        }
        Err(status) => Some(status.message().to_string()),
    };
    let _ = events.send(Event::LogEnd(generation, ended)).await;
}

/// A drain: each line as progress, the last one as the answer.
async fn drain(
    mut client: Client,
    request: timoneiro_proto::v1::DrainRequest,
    events: &mpsc::Sender<Event>,
) -> Result<ActionResponse, String> {
    let mut stream = client
        .drain(request)
        .await
        .map_err(|status| status.message().to_string())?
        .into_inner();
    let mut last = String::new();
    while let Some(progress) = stream
        .message()
        .await
        .map_err(|status| status.message().to_string())?
    {
        let _ = events.send(Event::Progress(progress.line.clone())).await;
        last = progress.line;
    }
    Ok(ActionResponse {
        results: vec![last],
        errors: Vec::new(),
    })
}

/// Send an action; its answer as an event.
async fn act(mut client: Client, act: Act, events: mpsc::Sender<Event>) {
    let answer = match act {
        Act::Delete(request) => client.delete(request).await,
        Act::Scale(request) => client.scale(request).await,
        Act::Restart(request) => client.restart(request).await,
        Act::Cordon(request) => client.cordon(request).await,
        Act::Drain(request) => {
            let _ = events
                .send(Event::Acted(drain(client, request, &events).await))
                .await;
            return;
        }
        Act::Trigger(request) => client.trigger_cron_job(request).await,
    };
    let result = answer
        .map(tonic::Response::into_inner)
        .map_err(|status| status.message().to_string());
    let _ = events.send(Event::Acted(result)).await;
}

/// The daemon's `kubectl describe` text of the object `request` names,
/// with what it could not include (events still loading) at the end.
async fn describe(
    client: &mut timoneiro_proto::v1::timoneiro_client::TimoneiroClient<tonic::transport::Channel>,
    request: &GetRequest,
) -> Result<String, String> {
    let answer = client
        .describe(DescribeRequest {
            context: request.context.clone(),
            kind: request.kind.clone(),
            namespace: request.namespace.clone(),
            name: request.name.clone(),
        })
        .await
        .map_err(|e| e.message().to_string())?
        .into_inner();
    let mut text = answer.text;
    for note in answer.notes {
        text.push_str(&format!("\nNote: {note}\n"));
    }
    Ok(text)
}

const FIRST_RETRY: Duration = Duration::from_millis(100);
const MAX_RETRY: Duration = Duration::from_secs(2);

/// Whether a stream error means the daemon went away (rather than refusing a request).
fn is_disconnect(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable | Code::Unknown | Code::Cancelled | Code::Internal
    )
}

/// Where the connection is.
enum State {
    /// Connect now.
    Connect,
    /// Connecting failed: wait (taking commands), then connect.
    Backoff,
    /// Connected: serve the UI's commands and the daemon's streams.
    Serve(Box<Session>),
    /// The UI is gone.
    Done,
}

/// One connection's client and open streams.
struct Session {
    client: Client,
    statuses: tonic::Streaming<StatusResponse>,
    /// The current query's stream (its generation), if any.
    list: Option<(u64, tonic::Streaming<ListResponse>)>,
    /// The log stream open, if any (it ends with the connection).
    logs: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(task) = self.logs.take() {
            task.abort();
        }
    }
}

/// What serving one event leads to.
enum Step {
    /// Keep serving.
    Serve,
    /// The daemon went away (why).
    Lost(String),
    /// The UI is gone.
    Quit,
}

/// The connection's state between sessions.
struct Connection {
    path: PathBuf,
    /// The context of the status stream: the newest query's (`:ctx`).
    context: String,
    /// The query to resume on a new connection.
    watch: Option<(u64, ListRequest)>,
    attempt: u32,
    delay: Duration,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
}

/// Run until the UI drops its command sender.
pub async fn run(
    path: PathBuf,
    context: String,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
) {
    let mut connection = Connection {
        path,
        context,
        watch: None,
        attempt: 0,
        delay: FIRST_RETRY,
        commands,
        events,
    };
    let mut state = State::Connect;
    loop {
        state = match state {
            State::Connect => connection.connect().await,
            State::Backoff => connection.backoff().await,
            State::Serve(session) => connection.serve(*session).await,
            State::Done => return,
        };
    }
}

impl Connection {
    /// Connect, check the protocol, open the status stream and resume the
    /// query.
    async fn connect(&mut self) -> State {
        if let Some((_, request)) = &self.watch {
            self.context = request.context.clone();
        }
        let connected = async {
            let (mut client, info) =
                timoneiro_client::connect::connect(&self.path, "timoneiro-tui")
                    .await
                    .map_err(|e| e.to_string())?;
            let statuses = client
                .watch_status(StatusRequest {
                    context: self.context.clone(),
                })
                .await
                .map_err(|e| e.message().to_string())?
                .into_inner();
            Ok::<_, String>((client, statuses, info))
        }
        .await;
        let (client, statuses, info) = match connected {
            Ok(ok) => ok,
            Err(message) => {
                return match self.report_lost(message).await {
                    true => State::Backoff,
                    false => State::Done,
                };
            }
        };
        self.attempt = 0;
        self.delay = FIRST_RETRY;
        let named = |keep: fn(&timoneiro_proto::v1::ContextInfo) -> bool| {
            let chosen = info.contexts.iter().filter(move |c| keep(c));
            chosen.map(|c| c.name.clone())
        };
        let context = named(|c| c.is_default).next().unwrap_or_default();
        let readonly = named(|c| c.readonly).collect();
        tracing::info!(%context, "connected to timoneirod");
        let told = self
            .events
            .send(Event::Connected { context, readonly })
            .await;
        if told.is_err() {
            return State::Done;
        }
        let mut session = Session {
            client,
            statuses,
            list: None,
            logs: None,
        };
        if let Some((generation, request)) = self.watch.clone() {
            match session.client.watch_list(request).await {
                Ok(stream) => session.list = Some((generation, stream.into_inner())),
                Err(status) => {
                    let message = status.message().to_string();
                    let _ = self
                        .events
                        .send(Event::ListError(generation, message))
                        .await;
                }
            }
        }
        State::Serve(Box::new(session))
    }

    /// Wait before the next attempt, doubling the wait each time. Commands
    /// keep coming meanwhile: the newest query is the one resumed, the
    /// others are answered "not connected".
    async fn backoff(&mut self) -> State {
        let sleep = tokio::time::sleep(self.delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                command = self.commands.recv() => match command {
                    None => return State::Done,
                    Some(command) => self.refuse(command).await,
                },
            }
        }
        self.delay = (self.delay * 2).min(MAX_RETRY);
        State::Connect
    }

    /// A command while not connected.
    async fn refuse(&mut self, command: Command) {
        const NOT_CONNECTED: &str = "not connected to timoneirod";
        let event = match command {
            Command::Watch(generation, request) => {
                self.watch = Some((generation, request));
                return;
            }
            Command::Top(_) | Command::StopLogs => return,
            Command::Get(request, purpose) => {
                Event::Object(request, purpose, Err(NOT_CONNECTED.into()))
            }
            Command::Logs(generation, _) => Event::LogEnd(generation, Some(NOT_CONNECTED.into())),
            Command::Act(_) => Event::Acted(Err(format!("{NOT_CONNECTED}: nothing was done"))),
        };
        let _ = self.events.send(event).await;
    }

    /// Serve until the daemon goes away (then connect again at once) or
    /// the UI does.
    async fn serve(&mut self, mut session: Session) -> State {
        loop {
            let next_list = async {
                match session.list.as_mut() {
                    Some((generation, stream)) => (*generation, stream.next().await),
                    None => std::future::pending().await,
                }
            };
            let step = tokio::select! {
                command = self.commands.recv() => match command {
                    None => Step::Quit,
                    Some(command) => self.command(&mut session, command).await,
                },
                (generation, item) = next_list => self.list_item(&mut session, generation, item).await,
                status = session.statuses.next() => match status {
                    Some(Ok(status)) => self.tell(Event::Status(status)).await,
                    Some(Err(status)) => Step::Lost(status.message().to_string()),
                    None => Step::Lost("the daemon closed the status stream".into()),
                },
            };
            match step {
                Step::Serve => {}
                Step::Quit => return State::Done,
                Step::Lost(message) => {
                    tracing::warn!(%message, "lost the daemon; reconnecting");
                    return match self.report_lost(message).await {
                        true => State::Connect,
                        false => State::Done,
                    };
                }
            }
        }
    }

    /// Pass an event to the UI; Quit when it is gone.
    async fn tell(&self, event: Event) -> Step {
        match self.events.send(event).await {
            Ok(()) => Step::Serve,
            Err(_) => Step::Quit,
        }
    }

    /// The next answer of the query's stream.
    async fn list_item(
        &self,
        session: &mut Session,
        generation: u64,
        item: Option<Result<ListResponse, tonic::Status>>,
    ) -> Step {
        match item {
            Some(Ok(response)) => self.tell(Event::List(generation, Box::new(response))).await,
            Some(Err(status)) => {
                if !is_disconnect(&status) {
                    session.list = None;
                }
                self.refused(generation, status).await
            }
            None => Step::Lost("the daemon closed the stream".into()),
        }
    }

    /// One command of the UI, while connected.
    async fn command(&mut self, session: &mut Session, command: Command) -> Step {
        match command {
            Command::Watch(generation, request) => {
                return self.watch(session, generation, request).await;
            }
            Command::Get(request, purpose) => {
                let mut client = session.client.clone();
                let events = self.events.clone();
                tokio::spawn(async move {
                    let result = if purpose == Purpose::Describe {
                        describe(&mut client, &request).await
                    } else {
                        client
                            .get(request.clone())
                            .await
                            .map(|r| r.into_inner().text)
                            .map_err(|e| e.message().to_string())
                    };
                    let _ = events.send(Event::Object(request, purpose, result)).await;
                });
            }
            Command::Top(request) => {
                let mut client = session.client.clone();
                let events = self.events.clone();
                tokio::spawn(async move {
                    let result = client
                        .top(request.clone())
                        .await
                        .map(tonic::Response::into_inner)
                        .map_err(|e| e.message().to_string());
                    let _ = events.send(Event::Top(request, result)).await;
                });
            }
            Command::Logs(generation, request) => {
                if let Some(task) = session.logs.take() {
                    task.abort();
                }
                let follow = follow_logs(
                    session.client.clone(),
                    generation,
                    request,
                    self.events.clone(),
                );
                session.logs = Some(tokio::spawn(follow));
            }
            Command::StopLogs => {
                if let Some(task) = session.logs.take() {
                    task.abort();
                }
            }
            Command::Act(request) => {
                tokio::spawn(act(session.client.clone(), request, self.events.clone()));
            }
        }
        Step::Serve
    }

    /// Replace the query's stream (and the status stream, when the query
    /// is of another context).
    async fn watch(
        &mut self,
        session: &mut Session,
        generation: u64,
        request: ListRequest,
    ) -> Step {
        self.watch = Some((generation, request.clone()));
        session.list = None;
        if request.context != self.context {
            self.context = request.context.clone();
            let asked = StatusRequest {
                context: self.context.clone(),
            };
            match session.client.watch_status(asked).await {
                Ok(stream) => session.statuses = stream.into_inner(),
                Err(status) => return self.refused(generation, status).await,
            }
        }
        match session.client.watch_list(request).await {
            Ok(stream) => {
                session.list = Some((generation, stream.into_inner()));
                Step::Serve
            }
            Err(status) => self.refused(generation, status).await,
        }
    }

    /// A stream the daemon would not open: lost if the daemon went away,
    /// else the query's error.
    async fn refused(&self, generation: u64, status: tonic::Status) -> Step {
        if is_disconnect(&status) {
            return Step::Lost(status.message().to_string());
        }
        let message = status.message().to_string();
        let _ = self
            .events
            .send(Event::ListError(generation, message))
            .await;
        Step::Serve
    }

    /// Count one more failed attempt and tell the UI; false when the UI is gone.
    async fn report_lost(&mut self, message: String) -> bool {
        self.attempt += 1;
        self.events
            .send(Event::Disconnected {
                message,
                attempt: self.attempt,
            })
            .await
            .is_ok()
    }
}
