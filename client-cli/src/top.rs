//! `timoneiro top`: pods' and nodes' CPU and memory as `kubectl top` prints
//! them (kubectl's `metricsutil.TopCmdPrinter`): CPU in millicores rounded
//! up, memory in MiB, a node's share of its allocatable, every cell
//! tab-terminated and aligned by kubectl's printer tab writer.

use timoneiro_client::tabwriter::align_printer;
use timoneiro_proto::v1::{TopRequest, Usage};

use crate::args::{Global, Top};
use crate::connection::connect;
use crate::output::Out;
use crate::{exit, fail, from_status};

use timoneiro_client::render::{cpu_text as cpu, memory_text as memory, millicores};

/// A share of `available` as kubectl prints it (truncated percent; 0% of nothing).
fn percent(used: i64, available: i64) -> String {
    timoneiro_client::render::percent_of(used, available).unwrap_or_else(|| "0%".into())
}

/// Run `top`.
pub async fn run(global: &Global, args: Top) -> anyhow::Result<()> {
    let mut connection = connect(global).await?;
    let pods = matches!(args.kind.as_str(), "pods" | "pod" | "po");
    let answer = connection
        .client
        .top(TopRequest {
            context: args.context.name.clone(),
            kind: if pods { "pods" } else { "nodes" }.into(),
            namespace: args.namespace.clone().unwrap_or_default(),
            all_namespaces: args.all_namespaces,
            names: args.names.clone(),
        })
        .await
        .map_err(from_status)?
        .into_inner();
    if !answer.available {
        return Err(fail(
            exit::ERROR,
            format!("Metrics API not available: {}", answer.message),
        ));
    }
    let mut items = answer.items;
    match args.sort_by.as_deref() {
        Some("cpu") => items.sort_by_key(|u| std::cmp::Reverse(u.cpu_nanos)),
        Some("memory") => items.sort_by_key(|u| std::cmp::Reverse(u.memory_bytes)),
        _ => {}
    }
    if items.is_empty() {
        eprintln!("No resources found.");
        return Ok(());
    }
    let text = if pods {
        pod_lines(
            &items,
            args.all_namespaces,
            args.containers,
            args.no_headers,
        )
    } else {
        node_lines(&items, args.no_headers)
    };
    let mut out = Out::new();
    out.write(&align_printer(&text))?;
    out.flush()
}

fn cell(text: &mut String, value: &str) {
    text.push_str(value);
    text.push('\t');
}

/// kubectl's pod table, every cell tab-terminated.
pub fn pod_lines(
    items: &[Usage],
    with_namespace: bool,
    containers: bool,
    no_headers: bool,
) -> String {
    let mut text = String::new();
    if !no_headers {
        if with_namespace {
            cell(&mut text, "NAMESPACE");
        }
        if containers {
            cell(&mut text, "POD");
        }
        for name in ["NAME", "CPU(cores)", "MEMORY(bytes)"] {
            cell(&mut text, name);
        }
        text.push('\n');
    }
    for item in items {
        if containers {
            let mut sorted: Vec<_> = item.containers.iter().collect();
            sorted.sort_by(|a, b| a.name.cmp(&b.name));
            for c in sorted {
                if with_namespace {
                    cell(&mut text, &item.namespace);
                }
                cell(&mut text, &item.name);
                cell(&mut text, &c.name);
                cell(&mut text, &cpu(c.cpu_nanos));
                cell(&mut text, &memory(c.memory_bytes));
                text.push('\n');
            }
            continue;
        }
        if with_namespace {
            cell(&mut text, &item.namespace);
        }
        cell(&mut text, &item.name);
        cell(&mut text, &cpu(item.cpu_nanos));
        cell(&mut text, &memory(item.memory_bytes));
        text.push('\n');
    }
    text
}

/// kubectl's node table, every cell tab-terminated.
pub fn node_lines(items: &[Usage], no_headers: bool) -> String {
    let mut text = String::new();
    if !no_headers {
        for name in ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"] {
            cell(&mut text, name);
        }
        text.push('\n');
    }
    for item in items {
        cell(&mut text, &item.name);
        cell(&mut text, &cpu(item.cpu_nanos));
        // kubectl divides millicores (rounded up) by millicores.
        cell(
            &mut text,
            &percent(
                millicores(item.cpu_nanos),
                millicores(item.cpu_allocatable_nanos),
            ),
        );
        cell(&mut text, &memory(item.memory_bytes));
        cell(
            &mut text,
            &percent(item.memory_bytes, item.memory_allocatable_bytes),
        );
        text.push('\n');
    }
    text
}
