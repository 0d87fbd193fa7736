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

/// Run until the UI drops its command sender.
pub async fn run(
    path: PathBuf,
    mut context: String,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
) {
    let mut watch: Option<(u64, ListRequest)> = None;
    let mut attempt = 0u32;
    let mut delay = FIRST_RETRY;
    loop {
        // The status stream follows the context of the newest query (`:ctx`).
        if let Some((_, request)) = &watch {
            context = request.context.clone();
        }
        // Connect, then check the protocol.
        let connected = async {
            let (mut client, info) = timoneiro_client::connect::connect(&path, "timoneiro-tui")
                .await
                .map_err(|e| e.to_string())?;
            let statuses = client
                .watch_status(StatusRequest {
                    context: context.clone(),
                })
                .await
                .map_err(|e| e.message().to_string())?
                .into_inner();
            let name = info
                .contexts
                .iter()
                .find(|c| c.is_default)
                .map(|c| c.name.clone())
                .unwrap_or_default();
            let readonly: Vec<String> = info
                .contexts
                .iter()
                .filter(|c| c.readonly)
                .map(|c| c.name.clone())
                .collect();
            Ok::<_, String>((client, statuses, name, readonly))
        }
        .await;
        let (mut client, mut statuses, name, readonly) = match connected {
            Ok(ok) => ok,
            Err(message) => {
                if !report_lost(&events, message, &mut attempt).await {
                    return;
                }
                // Keep taking commands while waiting, so the newest query is the one resumed.
                let sleep = tokio::time::sleep(delay);
                tokio::pin!(sleep);
                loop {
                    tokio::select! {
                        _ = &mut sleep => break,
                        command = commands.recv() => match command {
                            None => return,
                            Some(Command::Watch(generation, request)) => watch = Some((generation, request)),
                            Some(Command::Get(request, purpose)) => {
                                let _ = events.send(Event::Object(request, purpose, Err("not connected to timoneirod".into()))).await;
                            }
                            Some(Command::Top(_)) | Some(Command::StopLogs) => {}
                            Some(Command::Logs(generation, _)) => {
                                let _ = events.send(Event::LogEnd(generation, Some("not connected to timoneirod".into()))).await;
                            }
                            Some(Command::Act(_)) => {
                                let _ = events.send(Event::Acted(Err("not connected to timoneirod: nothing was done".into()))).await;
                            }
                        },
                    }
                }
                delay = (delay * 2).min(MAX_RETRY);
                continue;
            }
        };
        attempt = 0;
        delay = FIRST_RETRY;
        tracing::info!(context = %name, "connected to timoneirod");
        if events
            .send(Event::Connected {
                context: name,
                readonly,
            })
            .await
            .is_err()
        {
            return;
        }
        let mut list = None;
        // The log stream open, if any (it ends with the connection).
        let mut logs: Option<tokio::task::JoinHandle<()>> = None;
        if let Some((generation, request)) = &watch {
            match client.watch_list(request.clone()).await {
                Ok(stream) => list = Some((*generation, stream.into_inner())),
                Err(status) => {
                    let _ = events
                        .send(Event::ListError(*generation, status.message().to_string()))
                        .await;
                }
            }
        }
        // Serve until the daemon goes away.
        let message = loop {
            let next_list = async {
                match list.as_mut() {
                    Some((generation, stream)) => (*generation, stream.next().await),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                command = commands.recv() => match command {
                    None => return,
                    Some(Command::Watch(generation, request)) => {
                        watch = Some((generation, request.clone()));
                        list = None;
                        if request.context != context {
                            context = request.context.clone();
                            match client.watch_status(StatusRequest { context: context.clone() }).await {
                                Ok(stream) => statuses = stream.into_inner(),
                                Err(status) if is_disconnect(&status) => break status.message().to_string(),
                                Err(status) => {
                                    let _ = events.send(Event::ListError(generation, status.message().to_string())).await;
                                    continue;
                                }
                            }
                        }
                        match client.watch_list(request).await {
                            Ok(stream) => list = Some((generation, stream.into_inner())),
                            Err(status) if is_disconnect(&status) => break status.message().to_string(),
                            Err(status) => {
                                let _ = events.send(Event::ListError(generation, status.message().to_string())).await;
                            }
                        }
                    }
                    Some(Command::Get(request, purpose)) => {
                        let mut client = client.clone();
                        let events = events.clone();
                        tokio::spawn(async move {
                            let result = if purpose == Purpose::Describe {
                                describe(&mut client, &request).await
                            } else {
                                client.get(request.clone()).await.map(|r| r.into_inner().text).map_err(|e| e.message().to_string())
                            };
                            let _ = events.send(Event::Object(request, purpose, result)).await;
                        });
                    }
                    Some(Command::Top(request)) => {
                        let mut client = client.clone();
                        let events = events.clone();
                        tokio::spawn(async move {
                            let result = client.top(request.clone()).await.map(|r| r.into_inner()).map_err(|e| e.message().to_string());
                            let _ = events.send(Event::Top(request, result)).await;
                        });
                    }
                    Some(Command::Logs(generation, request)) => {
                        if let Some(task) = logs.take() {
                            task.abort();
                        }
                        logs = Some(tokio::spawn(follow_logs(client.clone(), generation, request, events.clone())));
                    }
                    Some(Command::StopLogs) => {
                        if let Some(task) = logs.take() {
                            task.abort();
                        }
                    }
                    Some(Command::Act(request)) => {
                        tokio::spawn(act(client.clone(), request, events.clone()));
                    }
                },
                (generation, item) = next_list => match item {
                    Some(Ok(response)) => {
                        if events.send(Event::List(generation, Box::new(response))).await.is_err() {
                            return;
                        }
                    }
                    Some(Err(status)) if !is_disconnect(&status) => {
                        list = None;
                        let _ = events.send(Event::ListError(generation, status.message().to_string())).await;
                    }
                    Some(Err(status)) => break status.message().to_string(),
                    None => break "the daemon closed the stream".to_string(),
                },
                status = statuses.next() => match status {
                    Some(Ok(status)) => {
                        if events.send(Event::Status(status)).await.is_err() {
                            return;
                        }
                    }
                    Some(Err(status)) => break status.message().to_string(),
                    None => break "the daemon closed the status stream".to_string(),
                },
            }
        };
        tracing::warn!(%message, "lost the daemon; reconnecting");
        if !report_lost(&events, message, &mut attempt).await {
            return;
        }
    }
}

/// Count one more failed attempt and tell the UI; false when the UI is gone.
async fn report_lost(events: &mpsc::Sender<Event>, message: String, attempt: &mut u32) -> bool {
    *attempt += 1;
    events
        .send(Event::Disconnected {
            message,
            attempt: *attempt,
        })
        .await
        .is_ok()
}
