//! `timoneiro describe`: objects as `kubectl describe` prints them. The
//! daemon writes the text; this prints it, objects separated by a blank
//! line as kubectl separates them, and names what could not be described.

use timoneiro_proto::v1::{DescribeRequest, ListRequest};

use crate::args::{Describe, Global};
use crate::connection::connect;
use crate::output::Out;
use crate::{exit, fail, from_status};

/// Run `describe`.
pub async fn run(global: &Global, args: Describe) -> anyhow::Result<()> {
    let mut connection = connect(global).await?;
    let (kind, mut names) = match args.kind.split_once('/') {
        Some((kind, name)) => (kind.to_string(), vec![name.to_string()]),
        None => (args.kind.clone(), Vec::new()),
    };
    names.extend(args.names.iter().cloned());
    let namespace = args.namespace.clone().unwrap_or_default();
    if names.is_empty() {
        // kubectl describes every object of the kind in the namespace.
        let list = connection
            .client
            .list(ListRequest {
                context: args.context.name.clone(),
                kind: kind.clone(),
                namespace: namespace.clone(),
                sort_by: "NAME".into(),
                ..ListRequest::default()
            })
            .await
            .map_err(from_status)?
            .into_inner();
        names = list.rows.into_iter().map(|row| row.name).collect();
        if names.is_empty() {
            eprintln!("No resources found.");
            return Ok(());
        }
    }
    let mut out = Out::new();
    let mut failed = Vec::new();
    let mut first = true;
    for name in &names {
        let answer = connection
            .client
            .describe(DescribeRequest {
                context: args.context.name.clone(),
                kind: kind.clone(),
                namespace: namespace.clone(),
                name: name.clone(),
            })
            .await;
        match answer {
            Ok(answer) => {
                let answer = answer.into_inner();
                if !first {
                    out.write("\n\n")?;
                }
                first = false;
                out.write(&answer.text)?;
                out.flush()?;
                for note in &answer.notes {
                    eprintln!("note: {note}");
                }
            }
            Err(status) if status.code() == tonic::Code::NotFound => {
                eprintln!("Error from server (NotFound): {}", status.message());
                failed.push(name.clone());
            }
            Err(status) => return Err(from_status(status)),
        }
    }
    out.flush()?;
    if failed.is_empty() {
        Ok(())
    } else {
        Err(fail(
            exit::ERROR,
            format!("not found: {}", failed.join(", ")),
        ))
    }
}
