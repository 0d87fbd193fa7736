//! timoneiro: the one-shot CLI of the timoneirod cache.

use std::process::ExitCode;

use clap::Parser;

/// jemalloc: printing a big list is allocation-bound (`perf` on
/// `get pods -A` with 10,000 rows: malloc and free on top).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    // A TAB from the completion scripts: answer and exit.
    timoneiro_cli::complete::handle_request();
    let args = timoneiro_cli::args::Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(timoneiro_cli::exit::ERROR);
        }
    };
    runtime.block_on(timoneiro_cli::run(args))
}
