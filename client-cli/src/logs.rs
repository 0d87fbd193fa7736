//! `timoneiro logs`: container logs through the daemon. Lines of several
//! containers are prefixed `[pod/NAME/CONTAINER]` (kubectl's `--prefix`
//! form), each pod in its own colour on a terminal and plain in a pipe;
//! what happens to the set of streams (a pod joins or leaves, a container
//! cannot be read) goes to stderr.

use timoneiro_proto::v1::LogsRequest;

use crate::args::{Global, Logs};
use crate::connection::connect;
use crate::from_status;
use crate::output::Out;

/// SGR colours for prefixes, distinct on dark and light backgrounds.
const COLOURS: [&str; 6] = ["32", "33", "34", "35", "36", "91"];

/// A pod's colour: the same pod always gets the same one.
pub fn colour_of(pod: &str) -> &'static str {
    // FNV-1a: stable across runs and builds, unlike the std hasher.
    let hash = pod.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    COLOURS[(hash % COLOURS.len() as u64) as usize]
}

/// Run `logs`.
pub async fn run(global: &Global, args: Logs) -> anyhow::Result<()> {
    let selector = args.selector.clone().unwrap_or_default();
    let target = args.target.clone().unwrap_or_default();
    // kubectl shows the last 10 lines of each pod for a selector, all for a pod.
    let tail = args
        .tail
        .unwrap_or(if selector.is_empty() { -1 } else { 10 });
    let many = !selector.is_empty()
        || args.all_containers
        || target
            .split_once('/')
            .is_some_and(|(kind, _)| !matches!(kind, "pod" | "pods" | "po"));
    let prefix = args.prefix || many;
    let mut connection = connect(global).await?;
    let mut stream = connection
        .client
        .logs(LogsRequest {
            context: args.context.name.clone(),
            namespace: args.namespace.clone().unwrap_or_default(),
            target,
            label_selector: selector,
            container: args.container.clone().unwrap_or_default(),
            all_containers: args.all_containers,
            follow: args.follow,
            tail_lines: tail,
            since_seconds: args.since.map_or(0, |d| d.as_secs().max(1) as i64),
            since_time: args.since_time.clone().unwrap_or_default(),
            previous: args.previous,
            timestamps: args.timestamps,
        })
        .await
        .map_err(from_status)?
        .into_inner();
    let mut out = Out::new();
    while let Some(answer) = stream.message().await.map_err(from_status)? {
        for notice in &answer.notices {
            // Flush first so the notice lands between the right lines.
            out.flush()?;
            eprintln!("{notice}");
        }
        for line in &answer.lines {
            if prefix {
                let label = format!("[pod/{}/{}]", line.pod, line.container);
                out.styled(colour_of(&line.pod), &label)?;
                out.write(" ")?;
            }
            out.line(&line.text)?;
        }
        out.flush()?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pod_keeps_its_colour_and_pods_spread_over_the_palette() {
        assert_eq!(colour_of("web-1"), colour_of("web-1"));
        let used: std::collections::HashSet<&str> =
            (0..50).map(|i| colour_of(&format!("web-{i}"))).collect();
        assert!(used.len() >= 4, "{used:?}");
    }
}
