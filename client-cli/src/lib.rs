//! `timoneiro`: the one-shot command line client. It asks the daemon, never
//! the API server, and prints like `kubectl get`.
//!
//! One module per subcommand (`get`, `describe`, `status`, `api_resources`, `version`); `connection`
//! reaches the daemon and checks its protocol; `table` is kubectl's layout.

pub mod act;
pub mod api_resources;
pub mod args;
pub mod complete;
pub mod connection;
pub mod contexts;
pub mod describe;
pub mod get;
pub mod logs;
pub mod objects;
pub mod output;
pub mod settings;
pub mod status;
pub mod stream;
pub mod table;
pub mod top;
pub mod version;

use std::process::ExitCode;

/// Exit codes, documented in `--help`.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// The daemon refused the request (unknown kind, bad filter, selector or sort) or another error.
    pub const ERROR: u8 = 1;
    /// Bad command line (clap).
    pub const USAGE: u8 = 2;
    /// The daemon is not running, not reachable, or speaks another protocol.
    pub const DAEMON: u8 = 3;
    /// Timed out waiting for the kind to sync.
    pub const TIMEOUT: u8 = 4;
    /// The API server refused the kind (e.g. Forbidden): its status is ERROR.
    pub const KIND_ERROR: u8 = 5;
}

/// An error carrying the exit code it should produce.
#[derive(Debug)]
pub struct Failure {
    /// Exit code.
    pub code: u8,
    /// One-line message.
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Shorthand to fail with a code.
pub fn fail(code: u8, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Failure {
        code,
        message: message.into(),
    })
}

/// Map a gRPC status from the daemon to a failure.
pub fn from_status(status: tonic::Status) -> anyhow::Error {
    use tonic::Code;
    let code = match status.code() {
        Code::Unavailable | Code::Unimplemented => exit::DAEMON,
        Code::DeadlineExceeded => exit::TIMEOUT,
        Code::PermissionDenied => exit::KIND_ERROR,
        _ => exit::ERROR,
    };
    let message = if status.code() == Code::Unavailable {
        format!("lost the connection to timoneirod: {}", status.message())
    } else {
        status.message().to_string()
    };
    fail(code, message)
}

/// Print generated text to stdout as it is.
fn print_text(text: &str) -> anyhow::Result<()> {
    let mut out = output::Out::new();
    out.write(text)?;
    out.flush()
}

/// Run the parsed command and turn the outcome into an exit code, printing
/// errors as one line on stderr.
pub async fn run(args: args::Args) -> ExitCode {
    let result = match args.command {
        args::Command::Get(get) => get::run(&args.global, *get).await,
        args::Command::Describe(describe) => describe::run(&args.global, describe).await,
        args::Command::Top(top) => top::run(&args.global, top).await,
        args::Command::Logs(logs) => logs::run(&args.global, logs).await,
        args::Command::Exec(exec) => stream::exec(&args.global, exec).await,
        args::Command::PortForward(forward) => stream::port_forward(&args.global, forward).await,
        args::Command::Delete(delete) => act::delete(&args.global, delete).await,
        args::Command::Scale(scale) => act::scale(&args.global, scale).await,
        args::Command::Rollout(args::Rollout::Restart(restart)) => {
            act::restart(&args.global, restart).await
        }
        args::Command::Cordon(node) => act::cordon(&args.global, node, true).await,
        args::Command::Uncordon(node) => act::cordon(&args.global, node, false).await,
        args::Command::Drain(drain) => act::drain(&args.global, drain).await,
        args::Command::Create(args::Create::Job(job)) => act::create_job(&args.global, job).await,
        args::Command::Edit(edit) => act::edit(&args.global, edit).await,
        args::Command::Status(status) => status::run(&args.global, status).await,
        args::Command::ApiResources(resources) => api_resources::run(&args.global, resources).await,
        args::Command::Contexts(contexts) => contexts::run(&args.global, contexts).await,
        args::Command::Config(settings) => settings::run(&args.global, settings),
        args::Command::Version => version::run(&args.global).await,
        args::Command::Completion { shell } => complete::script(&shell)
            .map_err(|e| fail(exit::USAGE, e.to_string()))
            .and_then(|script| print_text(&script)),
        args::Command::Man => complete::man_page().and_then(|page| print_text(&page)),
    };
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(error) => {
            if error.downcast_ref::<output::BrokenPipe>().is_some() {
                return ExitCode::from(exit::OK);
            }
            let failure = error.downcast_ref::<Failure>();
            let code = failure.map_or(exit::ERROR, |f| f.code);
            // A failure without words has said what it had to (exec's exit).
            if failure.is_none_or(|f| !f.message.is_empty()) {
                eprintln!("error: {error:#}");
            }
            ExitCode::from(code)
        }
    }
}
