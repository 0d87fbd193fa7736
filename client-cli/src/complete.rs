//! Shell completion whose values come from the cache: kinds, namespaces,
//! contexts and object names are asked of the daemon, so they are instant
//! and current. Scripts for bash, zsh and fish come from `timoneiro
//! completion SHELL` (clap_complete's dynamic engine: each TAB runs
//! `COMPLETE=SHELL timoneiro -- …`); `timoneiro man` prints the man page.
//!
//! Completion never starts a daemon and gives up after a second: with no
//! daemon, kinds fall back to the built-in names and the rest completes
//! nothing.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::time::Duration;

use clap::CommandFactory;
use clap_complete::engine::CompletionCandidate;
use timoneiro_client::socket;
use timoneiro_proto::v1::{ApiResourcesRequest, InfoRequest, ListRequest};

use crate::args::Args;

/// The environment variable the completion scripts set.
pub const VAR: &str = "COMPLETE";

/// Answer a completion request and exit, if this run is one.
pub fn handle_request() {
    clap_complete::CompleteEnv::with_factory(Args::command)
        .var(VAR)
        .complete();
}

/// The registration script for `shell` (bash, zsh, fish, elvish, powershell).
pub fn script(shell: &str) -> anyhow::Result<String> {
    let shells = clap_complete::env::Shells::builtins();
    let Some(completer) = shells.completer(shell) else {
        anyhow::bail!(
            "no completion for {shell:?}; choose one of: {}",
            shells.names().collect::<Vec<_>>().join(", ")
        );
    };
    let exe = std::env::current_exe()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "timoneiro".into());
    let mut out = Vec::new();
    completer.write_registration(VAR, "timoneiro", "timoneiro", &exe, &mut out)?;
    Ok(String::from_utf8(out)?)
}

/// The man page (roff) of `timoneiro`.
pub fn man_page() -> anyhow::Result<String> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Args::command()).render(&mut out)?;
    Ok(String::from_utf8(out)?)
}

/// The value of `--flag VALUE` or `--flag=VALUE` (or `-f VALUE`) among the
/// words being completed.
fn flag_value(words: &[String], long: &str, short: Option<&str>) -> Option<String> {
    let mut iter = words.iter();
    while let Some(word) = iter.next() {
        if let Some(value) = word.strip_prefix(&format!("{long}=")) {
            return Some(value.to_string());
        }
        if word == long || short.is_some_and(|s| word == s) {
            return iter.next().cloned();
        }
    }
    None
}

/// The command line being completed (after the `--` the scripts pass).
fn words() -> Vec<String> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--") {
        Some(i) => args[i + 1..].to_vec(),
        None => args,
    }
}

/// Ask the daemon, at most for a second; None when it does not answer.
fn ask<T>(
    query: impl AsyncFnOnce(
        &mut timoneiro_proto::v1::timoneiro_client::TimoneiroClient<tonic::transport::Channel>,
        String,
    ) -> Option<T>,
) -> Option<T> {
    let words = words();
    let configured = timoneiro_client::config::load(None)
        .ok()
        .and_then(|c| c.config.socket);
    let path = socket::resolve_socket_path(
        flag_value(&words, "--socket", None)
            .map(PathBuf::from)
            .as_deref(),
        configured.as_deref(),
    );
    let context = flag_value(&words, "--context", None).unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(1), async {
            let mut client = socket::connect(&path).await.ok()?;
            query(&mut client, context).await
        })
        .await
        .ok()
        .flatten()
    })
}

fn matching(
    current: &OsStr,
    values: impl IntoIterator<Item = (String, Option<String>)>,
) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    let mut values: Vec<(String, Option<String>)> = values
        .into_iter()
        .filter(|(v, _)| v.starts_with(current.as_ref()))
        .collect();
    values.sort();
    values.dedup_by(|a, b| a.0 == b.0);
    values
        .into_iter()
        .map(|(value, help)| {
            let candidate = CompletionCandidate::new(value);
            match help {
                Some(help) => candidate.help(Some(help.into())),
                None => candidate,
            }
        })
        .collect()
}

/// Kinds: every plural and short name the daemon knows (built-in names when none answers).
pub fn kinds(current: &OsStr) -> Vec<CompletionCandidate> {
    let known = ask(async |client, context| {
        let answer = client
            .api_resources(ApiResourcesRequest {
                context,
                refresh: false,
            })
            .await
            .ok()?
            .into_inner();
        Some(
            answer
                .resources
                .into_iter()
                .filter_map(|r| r.kind)
                .flat_map(|k| {
                    let help = Some(k.kind.clone());
                    std::iter::once((k.plural.clone(), help.clone()))
                        .chain(k.short_names.into_iter().map(move |s| (s, help.clone())))
                })
                .collect::<Vec<_>>(),
        )
    });
    let known = known.unwrap_or_else(|| {
        timoneiro_client::BUILTIN_KINDS
            .into_iter()
            .map(|k| (k.to_string(), None))
            .collect()
    });
    matching(current, known)
}

/// Names of one kind's rows, in a namespace or all of them.
fn names_of(
    kind: &str,
    namespace: Option<String>,
    all: bool,
) -> Option<Vec<(String, Option<String>)>> {
    ask(async |client, context| {
        let answer = client
            .list(ListRequest {
                context,
                kind: kind.to_string(),
                namespace: namespace.unwrap_or_default(),
                all_namespaces: all,
                ..ListRequest::default()
            })
            .await
            .ok()?
            .into_inner();
        Some(
            answer
                .rows
                .into_iter()
                .map(|r| {
                    let help = (!r.namespace.is_empty()).then_some(r.namespace);
                    (r.name, help)
                })
                .collect(),
        )
    })
}

/// Namespaces the cache knows.
pub fn namespaces(current: &OsStr) -> Vec<CompletionCandidate> {
    matching(
        current,
        names_of("namespaces", None, true).unwrap_or_default(),
    )
}

/// Contexts the daemon serves.
pub fn contexts(current: &OsStr) -> Vec<CompletionCandidate> {
    let contexts = ask(async |client, _| {
        let info = client.info(InfoRequest {}).await.ok()?.into_inner();
        Some(
            info.contexts
                .into_iter()
                .map(|c| (c.name, Some(c.server)))
                .collect::<Vec<_>>(),
        )
    });
    matching(current, contexts.unwrap_or_default())
}

/// Object names of the kind typed before them (`get pods <TAB>`), in the
/// namespace of `-n` (or every namespace with `-A`; the context's otherwise).
pub fn object_names(current: &OsStr) -> Vec<CompletionCandidate> {
    let words = words();
    let Some(get) = words.iter().position(|w| w == "get") else {
        return Vec::new();
    };
    let mut rest = words[get + 1..].iter();
    let mut kind = None;
    while let Some(word) = rest.next() {
        if word.starts_with('-') {
            // Options that take a separate value.
            if matches!(
                word.as_str(),
                "-n" | "--namespace"
                    | "-o"
                    | "--output"
                    | "-l"
                    | "--selector"
                    | "-f"
                    | "--filter"
                    | "--sort-by"
                    | "-L"
                    | "--label-columns"
                    | "--limit"
                    | "--timeout"
                    | "--context"
                    | "--socket"
            ) {
                rest.next();
            }
            continue;
        }
        kind = Some(word.clone());
        break;
    }
    let Some(kind) = kind else {
        return Vec::new();
    };
    let namespace = flag_value(&words, "--namespace", Some("-n"));
    let all = words.iter().any(|w| w == "-A" || w == "--all-namespaces");
    matching(current, names_of(&kind, namespace, all).unwrap_or_default())
}
