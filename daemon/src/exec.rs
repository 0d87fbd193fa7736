//! A command in a container (`kubectl exec`), for a client's bidirectional
//! stream: the pod and its default container come from the cache, the
//! session is the API server's exec WebSocket through kube (which offers
//! `v5.channel.k8s.io`, then v4), and the command's exit code comes back
//! from the kubelet's `Status` on the error channel.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams, AttachedProcess, TerminalSize};
use timoneiro_proto::v1;
use timoneiro_proto::v1::exec_input::Input;
use timoneiro_proto::v1::exec_output::Output;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tonic::{Status, Streaming};

use crate::cluster::Cluster;
use crate::logs::{Pods, current_pods, default_container};

/// Output bytes one message carries at most.
const CHUNK: usize = 32 * 1024;

type Out = mpsc::Sender<Result<v1::ExecOutput, Status>>;

/// The pod `name` in the cache (waiting a few seconds for the pods cache).
pub async fn cached_pod(cluster: &Cluster, namespace: &str, name: &str) -> Result<Pod, Status> {
    let (kind, _, _in_use, _) = crate::logs::loaded_pods(cluster, crate::logs::LOAD_WAIT).await?;
    let pods = current_pods(cluster, &kind, namespace, &Pods::Named(name.to_string())).await?;
    pods.into_iter()
        .next()
        .ok_or_else(|| Status::not_found(format!("pods {name:?} not found")))
}

/// What kubectl checks before it execs: a finished pod cannot run anything.
fn check_running(pod: &Pod) -> Result<(), Status> {
    let phase = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("");
    if phase == "Succeeded" || phase == "Failed" {
        return Err(Status::failed_precondition(format!(
            "cannot exec into a container in a completed pod; current phase is {phase}"
        )));
    }
    Ok(())
}

/// Run one exec session: `start` was the stream's first message, `inputs`
/// the rest of it. Returns what went into the audit log.
pub async fn run(
    cluster: &Cluster,
    start: v1::ExecStart,
    mut inputs: Streaming<v1::ExecInput>,
    out: Out,
) -> Result<i32, Status> {
    if start.command.is_empty() {
        return Err(Status::invalid_argument(
            "exec: give the command to run, after --",
        ));
    }
    let namespace = if start.namespace.is_empty() {
        cluster.context.namespace.clone()
    } else {
        start.namespace.clone()
    };
    let pod = cached_pod(cluster, &namespace, &start.pod).await?;
    check_running(&pod)?;
    let (container, notice) = if start.container.is_empty() {
        default_container(&pod)
    } else {
        (Some(start.container.clone()), None)
    };
    let container = container.ok_or_else(|| {
        Status::failed_precondition(format!("pod {} has no containers", start.pod))
    })?;
    let params = AttachParams {
        container: Some(container.clone()),
        stdin: start.stdin,
        stdout: true,
        stderr: !start.tty,
        tty: start.tty,
        max_stdin_buf_size: Some(CHUNK),
        max_stdout_buf_size: Some(CHUNK),
        max_stderr_buf_size: Some(CHUNK),
    };
    let api: Api<Pod> = Api::namespaced(cluster.client().clone(), &namespace);
    let mut process = api
        .exec(&start.pod, start.command.clone(), &params)
        .await
        .map_err(crate::actions::api_error)?;
    let started = v1::ExecStarted {
        namespace: namespace.clone(),
        pod: start.pod.clone(),
        container,
        notice: notice.unwrap_or_default(),
    };
    if out
        .send(Ok(output(Output::Started(started))))
        .await
        .is_err()
    {
        process.abort();
        return Ok(-1);
    }
    // kube hands out the resize sender once.
    let mut resize = process.terminal_size();
    if let (Some(sender), Some(size)) = (resize.as_mut(), start.size) {
        let _ = futures::SinkExt::send(sender, terminal_size(size)).await;
    }
    pump(&mut process, resize, &mut inputs, &out).await
}

fn output(output: Output) -> v1::ExecOutput {
    v1::ExecOutput {
        output: Some(output),
    }
}

fn terminal_size(size: v1::TerminalSize) -> TerminalSize {
    let clamp = |n: u32| u16::try_from(n).unwrap_or(u16::MAX);
    TerminalSize {
        width: clamp(size.width),
        height: clamp(size.height),
    }
}

/// Copy one output stream of the process to the client until it ends.
async fn copy_out(mut reader: impl AsyncRead + Unpin, out: Out, wrap: fn(Vec<u8>) -> Output) {
    let mut buffer = vec![0; CHUNK];
    loop {
        match reader.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if out
                    .send(Ok(output(wrap(buffer[..n].to_vec()))))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

/// Move bytes both ways until the command ends, then report its exit.
async fn pump(
    process: &mut AttachedProcess,
    mut resize: Option<futures::channel::mpsc::Sender<TerminalSize>>,
    inputs: &mut Streaming<v1::ExecInput>,
    out: &Out,
) -> Result<i32, Status> {
    let stdout = process
        .stdout()
        .map(|r| tokio::spawn(copy_out(r, out.clone(), Output::Stdout)));
    let stderr = process
        .stderr()
        .map(|r| tokio::spawn(copy_out(r, out.clone(), Output::Stderr)));
    let status = process.take_status();
    let mut stdin = process.stdin();
    let outputs = async {
        for task in [stdout, stderr].into_iter().flatten() {
            let _ = task.await;
        }
    };
    tokio::pin!(outputs);
    loop {
        tokio::select! {
            () = &mut outputs => break,
            message = inputs.message() => match message {
                Ok(Some(v1::ExecInput { input: Some(input) })) => match input {
                    Input::Stdin(bytes) => {
                        if let Some(writer) = stdin.as_mut()
                            && writer.write_all(&bytes).await.is_err()
                        {
                            stdin = None;
                        }
                    }
                    Input::StdinClosed(_) => {
                        if let Some(mut writer) = stdin.take() {
                            let _ = writer.shutdown().await;
                        }
                    }
                    Input::Resize(size) => {
                        if let Some(sender) = resize.as_mut() {
                            let _ = futures::SinkExt::send(sender, terminal_size(size)).await;
                        }
                    }
                    Input::Start(_) => {
                        return Err(Status::invalid_argument("exec: one ExecStart per stream"));
                    }
                },
                Ok(Some(_)) => {}
                // The client went away: so does the command's session.
                Ok(None) | Err(_) => {
                    process.abort();
                    return Ok(-1);
                }
            },
        }
    }
    let status = match status {
        Some(status) => status.await,
        None => None,
    };
    let (code, message) = exit_code(status)?;
    let _ = out
        .send(Ok(output(Output::Exit(v1::ExecExit { code, message }))))
        .await;
    Ok(code)
}

/// The command's exit code from the kubelet's status, as kubectl reads it
/// (client-go's remotecommand error decoder): Success is 0, NonZeroExitCode
/// carries the code in its ExitCode cause; any other failure is an error.
fn exit_code(
    status: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Status>,
) -> Result<(i32, String), Status> {
    let Some(status) = status else {
        return Err(Status::unavailable(
            "the exec session ended without the command's exit status",
        ));
    };
    if status.status.as_deref() == Some("Success") {
        return Ok((0, String::new()));
    }
    let message = status.message.clone().unwrap_or_default();
    if status.reason.as_deref() == Some("NonZeroExitCode") {
        let code = status
            .details
            .as_ref()
            .and_then(|d| d.causes.as_ref())
            .into_iter()
            .flatten()
            .find(|c| c.reason.as_deref() == Some("ExitCode"))
            .and_then(|c| c.message.as_deref())
            .and_then(|m| m.parse::<i32>().ok());
        return match code {
            Some(code) => Ok((code, message)),
            None => Err(Status::unknown(format!(
                "the command failed with an unrecognised exit status: {message}"
            ))),
        };
    }
    Err(Status::unknown(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The statuses the kubelet writes (kubelet/cri/streaming/remotecommand
    /// `ServeExec`; its JSON with Go's field names).
    fn status(json: &str) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Status {
        serde_json::from_str(json).expect("a Status")
    }

    #[test]
    fn exit_codes_as_client_go_reads_them() {
        assert_eq!(
            exit_code(Some(status(r#"{"metadata":{},"status":"Success"}"#))).unwrap(),
            (0, String::new())
        );
        let failed = r#"{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}"#;
        assert_eq!(exit_code(Some(status(failed))).unwrap().0, 3);
        let internal = r#"{"metadata":{},"status":"Failure","message":"Internal error occurred: error executing command in container: exec: \"bash\": executable file not found in $PATH: unknown","reason":"InternalError","details":{"causes":[{"message":"x"}]},"code":500}"#;
        let error = exit_code(Some(status(internal))).unwrap_err();
        assert!(
            error.message().starts_with("Internal error occurred:"),
            "{error:?}"
        );
        assert!(exit_code(None).is_err());
    }
}
