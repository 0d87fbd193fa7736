//! A command in a container, on this process's terminal: the daemon's Exec
//! stream with our stdin, stdout and stderr on its ends.
//!
//! With a TTY the terminal is put in raw mode for the session (every key,
//! ctrl-c included, goes to the container, as with `kubectl exec -it`),
//! its size is sent at start and on every SIGWINCH, and it is restored when
//! the session ends, however it ends. Stdin is read by a thread that polls
//! and stops when the session ends, so it never keeps a key that was meant
//! for whatever runs next on the terminal (the TUI, after a shell).

use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use timoneiro_proto::v1;
use timoneiro_proto::v1::exec_input::Input;
use timoneiro_proto::v1::exec_output::Output;
use timoneiro_proto::v1::timoneiro_client::TimoneiroClient;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use tonic::transport::Channel;

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// The command's exit code.
    pub code: i32,
    /// The API server's words for a non-zero code.
    pub message: String,
}

/// The terminal in raw mode until dropped.
struct RawMode {
    saved: rustix::termios::Termios,
}

impl RawMode {
    fn enable() -> std::io::Result<RawMode> {
        let stdin = std::io::stdin();
        let saved = rustix::termios::tcgetattr(stdin.as_fd())?;
        let mut raw = saved.clone();
        raw.make_raw();
        rustix::termios::tcsetattr(stdin.as_fd(), rustix::termios::OptionalActions::Now, &raw)?;
        Ok(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = rustix::termios::tcsetattr(
            std::io::stdin().as_fd(),
            rustix::termios::OptionalActions::Now,
            &self.saved,
        );
    }
}

/// Whether stdin is a terminal (kubectl's test before it asks for a TTY).
pub fn stdin_is_terminal() -> bool {
    rustix::termios::isatty(std::io::stdin().as_fd())
}

/// The terminal's size, from stdout (or stdin).
pub fn terminal_size() -> Option<v1::TerminalSize> {
    let size = rustix::termios::tcgetwinsize(std::io::stdout().as_fd())
        .or_else(|_| rustix::termios::tcgetwinsize(std::io::stdin().as_fd()))
        .ok()?;
    (size.ws_col > 0 && size.ws_row > 0).then(|| v1::TerminalSize {
        width: u32::from(size.ws_col),
        height: u32::from(size.ws_row),
    })
}

/// Stdin, read by a thread until it ends or the session does.
struct StdinPump {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StdinPump {
    fn start(inputs: mpsc::Sender<v1::ExecInput>) -> StdinPump {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || pump_stdin(&stopped, &inputs));
        StdinPump {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for StdinPump {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// How long the stdin thread waits for input before it looks at its stop
/// flag again.
const POLL: Duration = Duration::from_millis(40);

fn pump_stdin(stop: &AtomicBool, inputs: &mpsc::Sender<v1::ExecInput>) {
    use rustix::event::{PollFd, PollFlags, Timespec};
    let stdin = std::io::stdin();
    let fd = stdin.as_fd();
    let timeout = Timespec {
        tv_sec: 0,
        tv_nsec: POLL.as_nanos() as i64,
    };
    let mut buffer = vec![0u8; 32 * 1024];
    while !stop.load(Ordering::Relaxed) {
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        match rustix::event::poll(&mut fds, Some(&timeout)) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => break,
        }
        let input = match rustix::io::read(fd, &mut buffer) {
            Ok(0) | Err(_) => Input::StdinClosed(true),
            Ok(n) => Input::Stdin(buffer[..n].to_vec()),
        };
        let ended = matches!(input, Input::StdinClosed(_));
        if inputs
            .blocking_send(v1::ExecInput { input: Some(input) })
            .is_err()
            || ended
        {
            return;
        }
    }
}

/// Run `start` through the daemon on this terminal; `started` hears which
/// container it runs in before any output. With `start.tty` (and a
/// terminal on stdin) the terminal is raw for the session.
pub async fn run(
    client: &mut TimoneiroClient<Channel>,
    mut start: v1::ExecStart,
    started: impl FnOnce(&v1::ExecStarted),
) -> Result<Exit, Status> {
    if start.tty {
        start.size = terminal_size();
    }
    let (tx, rx) = mpsc::channel(64);
    let (tty, stdin) = (start.tty, start.stdin);
    tx.send(v1::ExecInput {
        input: Some(Input::Start(start)),
    })
    .await
    .map_err(|_| Status::internal("the exec stream closed at once"))?;
    let mut outputs = client.exec(ReceiverStream::new(rx)).await?.into_inner();
    let mut started = Some(started);
    // Raw mode and stdin start once the daemon says the command runs, so
    // an error before that prints on a normal terminal.
    let mut session: Option<(Option<RawMode>, Option<StdinPump>)> = None;
    let mut resizes = if tty {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change()).ok()
    } else {
        None
    };
    let exit = loop {
        let output = tokio::select! {
            output = outputs.message() => output?,
            Some(()) = next_resize(&mut resizes) => {
                if let Some(size) = terminal_size() {
                    let _ = tx.send(v1::ExecInput { input: Some(Input::Resize(size)) }).await;
                }
                continue;
            }
        };
        let Some(v1::ExecOutput {
            output: Some(output),
        }) = output
        else {
            break None;
        };
        match output {
            Output::Started(info) => {
                if let Some(started) = started.take() {
                    started(&info);
                }
                let raw = if tty {
                    Some(RawMode::enable().map_err(|e| {
                        Status::failed_precondition(format!("cannot make the terminal raw: {e}"))
                    })?)
                } else {
                    None
                };
                session = Some((raw, stdin.then(|| StdinPump::start(tx.clone()))));
            }
            Output::Stdout(bytes) => write_all(&mut std::io::stdout().lock(), &bytes),
            Output::Stderr(bytes) => write_all(&mut std::io::stderr().lock(), &bytes),
            Output::Exit(exit) => {
                break Some(Exit {
                    code: exit.code,
                    message: exit.message,
                });
            }
        }
    };
    drop(session);
    drop(tx);
    exit.ok_or_else(|| Status::unavailable("the exec stream ended without the command's exit"))
}

async fn next_resize(signal: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match signal {
        Some(signal) => signal.recv().await,
        None => std::future::pending().await,
    }
}

fn write_all(out: &mut impl std::io::Write, bytes: &[u8]) {
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

/// k9s's shell line: bash where the image has it, else sh.
pub const SHELL: [&str; 3] = [
    "sh",
    "-c",
    "command -v bash >/dev/null && exec bash || exec sh",
];
