//! Actions: `delete`, `scale`, `rollout restart`, `cordon`, `uncordon` and
//! `create job --from=cronjob/…`. The daemon makes the request with the
//! context's credentials and answers with kubectl's line, printed here.

use timoneiro_proto::v1::{
    ActionResponse, CordonRequest, DeleteRequest, RestartRequest, ScaleRequest,
    TriggerCronJobRequest,
};

use crate::args::{CreateJob, Delete, Drain, Edit, Global, Node, Restart, Scale};
use crate::connection::connect;
use crate::output::Out;
use crate::{exit, fail, from_status};

/// Print what was done; the errors on stderr, as kubectl prints a server's.
fn report(answer: ActionResponse) -> anyhow::Result<()> {
    let mut out = Out::new();
    for line in &answer.results {
        out.line(line)?;
    }
    out.flush()?;
    for error in &answer.errors {
        eprintln!("{error}");
    }
    if answer.errors.is_empty() {
        Ok(())
    } else {
        Err(fail(
            exit::ERROR,
            format!(
                "{} of {} failed",
                answer.errors.len(),
                answer.errors.len() + answer.results.len()
            ),
        ))
    }
}

/// A node as NODE, node/NODE or nodes/NODE.
fn node_name(text: &str) -> String {
    text.strip_prefix("node/")
        .or_else(|| text.strip_prefix("nodes/"))
        .unwrap_or(text)
        .to_string()
}

/// KIND/NAME or KIND NAME.
fn kind_and_name(target: &str, name: Option<&str>) -> anyhow::Result<(String, String)> {
    match (target.split_once('/'), name) {
        (Some((kind, name)), None) if !kind.is_empty() && !name.is_empty() => {
            Ok((kind.to_string(), name.to_string()))
        }
        (None, Some(name)) => Ok((target.to_string(), name.to_string())),
        (Some(_), Some(_)) => Err(fail(
            exit::USAGE,
            format!(
                "give KIND/NAME or KIND NAME, not both ({target} {})",
                name.unwrap_or("")
            ),
        )),
        _ => Err(fail(
            exit::USAGE,
            format!("{target}: give KIND/NAME (e.g. deploy/web) or KIND NAME"),
        )),
    }
}

/// `timoneiro delete`.
pub async fn delete(global: &Global, args: Delete) -> anyhow::Result<()> {
    let (kind, mut names) = match args.kind.split_once('/') {
        Some((kind, name)) => (kind.to_string(), vec![name.to_string()]),
        None => (args.kind.clone(), Vec::new()),
    };
    names.extend(args.names.iter().cloned());
    if names.is_empty() {
        return Err(fail(
            exit::USAGE,
            format!(
                "delete: name the {kind} to delete (deleting every object of a kind is kubectl's job)"
            ),
        ));
    }
    if args.force && args.grace_period <= 0 {
        eprintln!(
            "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely."
        );
    }
    let mut connection = connect(global).await?;
    let answer = connection
        .client
        .delete(DeleteRequest {
            context: args.context.name.clone(),
            kind,
            namespace: args.namespace.clone().unwrap_or_default(),
            names,
            grace_period_seconds: args.grace_period,
            force: args.force,
        })
        .await
        .map_err(from_status)?
        .into_inner();
    report(answer)
}

/// `timoneiro scale`.
pub async fn scale(global: &Global, args: Scale) -> anyhow::Result<()> {
    let (kind, name) = kind_and_name(&args.object.target, args.object.object.as_deref())?;
    let mut connection = connect(global).await?;
    let answer = connection
        .client
        .scale(ScaleRequest {
            context: args.object.context.name.clone(),
            kind,
            namespace: args.object.namespace.clone().unwrap_or_default(),
            name,
            replicas: args.replicas,
        })
        .await
        .map_err(from_status)?
        .into_inner();
    report(answer)
}

/// `timoneiro rollout restart`.
pub async fn restart(global: &Global, args: Restart) -> anyhow::Result<()> {
    let (kind, name) = kind_and_name(&args.object.target, args.object.object.as_deref())?;
    let mut connection = connect(global).await?;
    let answer = connection
        .client
        .restart(RestartRequest {
            context: args.object.context.name.clone(),
            kind,
            namespace: args.object.namespace.clone().unwrap_or_default(),
            name,
        })
        .await
        .map_err(from_status)?
        .into_inner();
    report(answer)
}

/// `timoneiro cordon` / `uncordon`.
pub async fn cordon(global: &Global, args: Node, unschedulable: bool) -> anyhow::Result<()> {
    let node = node_name(&args.node);
    let mut connection = connect(global).await?;
    let answer = connection
        .client
        .cordon(CordonRequest {
            context: args.context.name.clone(),
            node,
            unschedulable,
        })
        .await
        .map_err(from_status)?
        .into_inner();
    report(answer)
}

/// `timoneiro drain`: kubectl's lines as the daemon sends them.
pub async fn drain(global: &Global, args: Drain) -> anyhow::Result<()> {
    let node = node_name(&args.node);
    let mut connection = connect(global).await?;
    let mut stream = connection
        .client
        .drain(timoneiro_proto::v1::DrainRequest {
            context: args.context.name.clone(),
            node,
            ignore_daemonsets: args.ignore_daemonsets,
            delete_emptydir_data: args.delete_emptydir_data,
            force: args.force,
            timeout_seconds: args.timeout.map_or(0, |t| t.as_secs().max(1)),
        })
        .await
        .map_err(from_status)?
        .into_inner();
    let mut out = Out::new();
    while let Some(progress) = stream.message().await.map_err(from_status)? {
        out.line(&progress.line)?;
        out.flush()?;
    }
    Ok(())
}

/// `timoneiro create job NAME --from=cronjob/NAME`.
pub async fn create_job(global: &Global, args: CreateJob) -> anyhow::Result<()> {
    let cronjob = match args.from.split_once('/') {
        Some(("cronjob" | "cronjobs" | "cj" | "cronjob.batch", name)) if !name.is_empty() => {
            name.to_string()
        }
        _ => {
            return Err(fail(
                exit::USAGE,
                format!("--from={}: only cronjob/NAME is supported", args.from),
            ));
        }
    };
    let mut connection = connect(global).await?;
    let answer = connection
        .client
        .trigger_cron_job(TriggerCronJobRequest {
            context: args.context.name.clone(),
            namespace: args.namespace.clone().unwrap_or_default(),
            cronjob,
            job_name: args.job.clone(),
        })
        .await
        .map_err(from_status)?
        .into_inner();
    report(answer)
}

/// `timoneiro edit`.
pub async fn edit(global: &Global, args: Edit) -> anyhow::Result<()> {
    let args = args.object;
    let (kind, name) = kind_and_name(&args.target, args.object.as_deref())?;
    let mut connection = connect(global).await?;
    // Refused before an editor opens, not after the user's work.
    let context = connection.info.contexts.iter().find(|c| {
        if args.context.name.is_empty() {
            c.is_default
        } else {
            c.name == args.context.name
        }
    });
    if let Some(context) = context.filter(|c| c.readonly) {
        return Err(fail(
            exit::KIND_ERROR,
            format!("context {:?} is read-only: edit refused", context.name),
        ));
    }
    let target = timoneiro_client::edit::Target {
        context: args.context.name.clone(),
        kind,
        namespace: args.namespace.clone().unwrap_or_default(),
        name,
    };
    let editor = timoneiro_client::edit::editor_command();
    match timoneiro_client::edit::edit(&mut connection.client, &target, &editor).await {
        Ok(line) => {
            let mut out = Out::new();
            out.line(&line)?;
            out.flush()
        }
        Err(timoneiro_client::edit::EditError::Daemon(status)) => Err(from_status(status)),
        Err(error) => Err(fail(exit::ERROR, error.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_kind_slash_name_or_kind_then_name() {
        assert_eq!(
            kind_and_name("deploy/web", None).ok(),
            Some(("deploy".into(), "web".into()))
        );
        assert_eq!(
            kind_and_name("sts", Some("db")).ok(),
            Some(("sts".into(), "db".into()))
        );
        assert!(kind_and_name("deploy", None).is_err());
        assert!(kind_and_name("deploy/web", Some("x")).is_err());
        assert!(kind_and_name("/web", None).is_err());
    }
}
