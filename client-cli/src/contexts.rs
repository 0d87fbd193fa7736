//! `timoneiro contexts`: every context of the daemon's kubeconfig, with the
//! state and size of its cache.

use serde_json::json;

use crate::args::{Contexts, Global, StatusFormat};
use crate::connection::connect;
use crate::output::Out;

/// Bytes as kubectl-style binary units: 512B, 3.4Ki, 12.3Mi, 1.2Gi.
fn size(bytes: u64) -> String {
    let units = ["B", "Ki", "Mi", "Gi", "Ti"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}B")
    } else {
        format!("{value:.1}{}", units[unit])
    }
}

/// Run `contexts`.
pub async fn run(global: &Global, args: Contexts) -> anyhow::Result<()> {
    let connection = connect(global).await?;
    let mut out = Out::new();
    let contexts = &connection.info.contexts;
    if args.output == Some(StatusFormat::Json) {
        let value = json!({"contexts": contexts.iter().map(|c| json!({
            "name": c.name,
            "default": c.is_default,
            "cached": c.active,
            "server": c.server,
            "namespace": c.namespace,
            "startedKinds": c.started_kinds,
            "syncedKinds": c.synced_kinds,
            "objects": c.objects,
            "memoryBytes": c.memory_bytes,
            "idleSeconds": c.idle_seconds,
            "readonly": c.readonly,
        })).collect::<Vec<_>>()});
        out.line(&serde_json::to_string(&value)?)?;
        return out.flush();
    }
    let mut grid = vec![
        [
            "CURRENT", "NAME", "CACHE", "KINDS", "OBJECTS", "MEMORY", "IDLE", "SERVER",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for c in contexts {
        let (cache, kinds, objects, memory, idle) = if c.active {
            (
                "running".to_string(),
                format!("{}/{} synced", c.synced_kinds, c.started_kinds),
                c.objects.to_string(),
                size(c.memory_bytes),
                format!("{}s", c.idle_seconds),
            )
        } else {
            let dash = || "-".to_string();
            ("-".to_string(), dash(), dash(), dash(), dash())
        };
        grid.push(vec![
            if c.is_default {
                "*".into()
            } else {
                String::new()
            },
            c.name.clone(),
            cache,
            kinds,
            objects,
            memory,
            idle,
            c.server.clone(),
        ]);
    }
    for line in crate::table::layout(&grid) {
        out.line(line.trim_end())?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_kubectl_quantities() {
        assert_eq!(size(512), "512B");
        assert_eq!(size(3 * 1024 + 400), "3.4Ki");
        assert_eq!(size(12 * 1024 * 1024 + 300 * 1024), "12.3Mi");
    }
}
