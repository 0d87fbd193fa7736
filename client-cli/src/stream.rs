//! `timoneiro exec` and `timoneiro port-forward`: the daemon's
//! bidirectional streams on this terminal and on local ports.

use timoneiro_client::{exec, forward};
use timoneiro_proto::v1::{ExecStart, ResolveForwardRequest};
use tokio::sync::mpsc;

use crate::args::{Exec, Global, PortForward};
use crate::connection::connect;
use crate::{Failure, exit, fail, from_status};

/// Whether `target` names a pod (`NAME`, `pod/NAME`), and its name.
fn pod_name(target: &str) -> Option<&str> {
    match target.split_once('/') {
        None => Some(target),
        Some(("pod" | "pods" | "po", name)) => Some(name),
        Some(_) => None,
    }
}

/// Run `exec`.
pub async fn exec(global: &Global, args: Exec) -> anyhow::Result<()> {
    let mut connection = connect(global).await?;
    let namespace = args.namespace.clone().unwrap_or_default();
    let (namespace, pod) = match pod_name(&args.pod) {
        Some(pod) => (namespace, pod.to_string()),
        None => {
            let resolved = connection
                .client
                .resolve_forward(ResolveForwardRequest {
                    context: args.context.name.clone(),
                    namespace,
                    target: args.pod.clone(),
                    ports: Vec::new(),
                })
                .await
                .map_err(from_status)?
                .into_inner();
            (resolved.namespace, resolved.pod)
        }
    };
    // kubectl's rules: a TTY needs stdin, and a terminal on it.
    let mut tty = args.tty && args.stdin;
    if tty && !exec::stdin_is_terminal() {
        if !args.quiet {
            eprintln!("Unable to use a TTY - input is not a terminal or the right kind of file");
        }
        tty = false;
    }
    let start = ExecStart {
        context: args.context.name.clone(),
        namespace,
        pod,
        container: args.container.clone().unwrap_or_default(),
        command: args.command.clone(),
        stdin: args.stdin,
        tty,
        size: None,
    };
    let quiet = args.quiet;
    let ended = exec::run(&mut connection.client, start, |started| {
        if !quiet && !started.notice.is_empty() {
            eprintln!("{}", started.notice);
        }
    })
    .await
    .map_err(from_status)?;
    if ended.code == 0 {
        return Ok(());
    }
    // kubectl's words, and the command's code as ours.
    eprintln!("command terminated with exit code {}", ended.code);
    Err(Failure {
        code: (ended.code & 0xff) as u8,
        message: String::new(),
    }
    .into())
}

/// Run `port-forward` until interrupted.
pub async fn port_forward(global: &Global, args: PortForward) -> anyhow::Result<()> {
    let connection = connect(global).await?;
    let mut client = connection.client;
    let resolved = client
        .resolve_forward(ResolveForwardRequest {
            context: args.context.name.clone(),
            namespace: args.namespace.clone().unwrap_or_default(),
            target: args.target.clone(),
            ports: args
                .ports
                .iter()
                .map(|(_, remote)| remote.clone())
                .collect(),
        })
        .await
        .map_err(from_status)?
        .into_inner();
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let mut forwards = Vec::new();
    for ((local, _), remote) in args.ports.iter().zip(&resolved.pod_ports) {
        let target = forward::Target {
            context: args.context.name.clone(),
            namespace: resolved.namespace.clone(),
            pod: resolved.pod.clone(),
            port: u16::try_from(*remote).unwrap_or(0),
        };
        let listening = forward::listen(client.clone(), *local, target, events_tx.clone())
            .await
            .map_err(|e| {
                fail(
                    exit::ERROR,
                    format!("unable to listen on 127.0.0.1:{local}: {e}"),
                )
            })?;
        println!("Forwarding from {} -> {remote}", listening.local);
        forwards.push(listening);
    }
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            Some(event) = events.recv() => match event {
                forward::Event::Handling { local } => println!("Handling connection for {local}"),
                forward::Event::Failed { local, remote, message } => {
                    eprintln!("error: an error occurred forwarding {local} -> {remote}: {message}");
                }
            },
        }
    }
}
