//! Timoneiro's benchmarks: each starts the sim, the daemon and the clients
//! as release processes and prints a table of the numbers the issues ask
//! for. Build first, then pick one (`bench --help` lists them, `bench
//! query --help` its options):
//!
//!   cargo build --release --workspace
//!   target/release/bench query --pods 100000
//!
//! Nothing here is a test: timings on shared machines are noisy, so they are
//! reported (with p50/p99), never asserted.

mod cli;
mod common;
mod load;
mod memory;
mod query;
mod restart;
mod scale;
mod soak;
mod sync;
mod tui;
mod wire;

use std::time::Duration;

use clap::{Parser, Subcommand};

/// The daemon's allocator, so what `bench wire` measures decoding in this
/// process is what decoding costs in the daemon.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Timoneiro's benchmarks (build first: cargo build --release --workspace).
#[derive(Debug, Parser)]
#[command(name = "bench")]
struct Args {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// The TUI: launch → first rows, filter keystroke → frame, a new pod → visible.
    Tui {
        /// Pods for the launch measurements.
        #[arg(long, default_value_t = 10_000)]
        pods: usize,
        /// Pods for the keystroke and new-pod measurements.
        #[arg(long, default_value_t = 100_000)]
        big: usize,
        /// Launches measured.
        #[arg(long, default_value_t = 10)]
        runs: usize,
    },
    /// Daemon-side List: windows, sorts and filters over a big cache.
    Query {
        /// Pods in the sim.
        #[arg(long, default_value_t = 100_000)]
        pods: usize,
        /// Queries measured per row.
        #[arg(long, default_value_t = 30)]
        runs: usize,
    },
    /// `timoneiro get pods -A` as a whole process.
    Cli {
        /// Pods in the sim.
        #[arg(long, default_value_t = 10_000)]
        pods: usize,
        /// Runs measured.
        #[arg(long, default_value_t = 30)]
        runs: usize,
    },
    /// The pods informer sync against the raw paged list it reads.
    Sync {
        /// Pods in the sim.
        #[arg(long, default_value_t = 100_000)]
        pods: usize,
        /// Syncs measured.
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Decoding a paged list, JSON against protobuf, bare and through the informer.
    Wire {
        /// Pods in the sim.
        #[arg(long, default_value_t = 10_000)]
        pods: usize,
        /// Runs measured.
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Daemon RSS per cached pod.
    Memory {
        /// Pods in the sim.
        #[arg(long, default_value_t = 100_000)]
        pods: usize,
    },
    /// Many CLI clients and watch streams at once, under churn.
    Load {
        /// Pods in the sim.
        #[arg(long, default_value_t = 10_000)]
        pods: usize,
        /// How long the load runs.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Latency samples taken.
        #[arg(long, default_value_t = 100)]
        samples: usize,
    },
    /// Daemon RSS over a long run under churn.
    Soak {
        /// Pods in the sim.
        #[arg(long, default_value_t = 10_000)]
        pods: usize,
        /// How long the soak runs.
        #[arg(long, default_value_t = 30)]
        minutes: u64,
        /// Seconds between RSS samples.
        #[arg(long, default_value_t = 60)]
        every: u64,
    },
    /// Warm restarts: a daemon restarted on its snapshot against a cold
    /// start (time to every pod printed, and to pods SYNCED).
    Restart {
        /// Pods in the sim.
        #[arg(long, default_value_t = 10_000)]
        pods: usize,
        /// Restarts measured (and as many cold starts).
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// A million pods: a packed sim, a daemon caching pods, the CLI and
    /// the TUI (sync, RSS, queries, lookups, `get pods -A`, keystrokes).
    Scale {
        /// Pods in the sim.
        #[arg(long, default_value_t = 1_000_000)]
        pods: usize,
        /// Namespaces they are spread over.
        #[arg(long, default_value_t = 500)]
        namespaces: usize,
        /// Queries measured per row.
        #[arg(long, default_value_t = 30)]
        runs: usize,
    },
    /// Run a program as this process's only child and report its wall time
    /// and peak RSS on stderr (what `bench cli` runs each CLI under).
    #[command(hide = true)]
    Peak {
        /// The program and its arguments.
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        program: Vec<String>,
    },
}

#[tokio::main]
async fn main() {
    let table = match Args::parse().bench {
        Bench::Peak { program } => std::process::exit(match common::peak(&program) {
            Ok(()) => 0,
            Err(()) => 1,
        }),
        Bench::Tui { pods, big, runs } => tui::run(pods, big, runs).await,
        Bench::Query { pods, runs } => query::run(pods, runs).await,
        Bench::Cli { pods, runs } => cli::run(pods, runs).await,
        Bench::Restart { pods, runs } => restart::run(pods, runs).await,
        Bench::Scale {
            pods,
            namespaces,
            runs,
        } => scale::run(pods, namespaces, runs).await,
        Bench::Sync { pods, runs } => sync::run(pods, runs).await,
        Bench::Wire { pods, runs } => wire::run(pods, runs).await,
        Bench::Memory { pods } => memory::run(pods).await,
        Bench::Load {
            pods,
            seconds,
            samples,
        } => load::run(pods, Duration::from_secs(seconds), samples).await,
        Bench::Soak {
            pods,
            minutes,
            every,
        } => soak::run(pods, minutes, Duration::from_secs(every)).await,
    };
    println!("| metric | measured | target | for reference |");
    println!("|---|---|---|---|");
    for [metric, value, target, reference] in table.0 {
        println!("| {metric} | {value} | {target} | {reference} |");
    }
}
