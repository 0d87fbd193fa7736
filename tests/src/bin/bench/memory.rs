//! Daemon RSS per cached pod.

use timoneiro_tests::harness::{Daemon, Sim};

use super::common::*;

/// RSS growth per cached pod (the memory target): a daemon caching
/// pods only (every other kind on demand, so nothing else is cached)
/// against a sim of `pods` pods, minus the same daemon against a sim of
/// none, both once their RSS has settled after the sync.
pub(crate) fn run(pods: usize) -> Table {
    let mut table = Table(Vec::new());
    let work = tempfile::tempdir().expect("tempdir");
    let config = work.path().join("config.toml");
    let mut text = String::from("[tiers]\n");
    for builtin in timoneirod::catalog::Builtin::ALL {
        let kind = builtin.kind();
        if builtin != timoneirod::catalog::Builtin::PODS {
            text.push_str(&format!("{} = 4\n", kind.spec().plural));
        }
    }
    std::fs::write(&config, text).expect("config");
    let mut rss = Vec::new();
    for n in [0, pods] {
        eprintln!("starting a sim with {n} pods and a daemon caching pods only…");
        let sim = Sim::start(&["--pods", &n.to_string(), "--namespaces", "50"]);
        let daemon = Daemon::start_configured(&sim.kubeconfig, &config);
        pod_sync_seconds(&daemon);
        let kib = settled_rss_kib(&daemon);
        eprintln!("{n} pods: daemon RSS {:.1} MiB", kib as f64 / 1024.0);
        rss.push(kib);
    }
    let growth = rss[1].saturating_sub(rss[0]);
    table.row(
        &format!(
            "daemon RSS growth per cached pod at {pods} pods (pods only; settled RSS {:.0} MiB with them, {:.0} MiB without)",
            rss[1] as f64 / 1024.0,
            rss[0] as f64 / 1024.0
        ),
        format!("{:.2} KiB", growth as f64 / pods as f64),
        "≤ 1.5 KiB",
        "client-go informers: ≈36 KiB per pod",
    );
    table
}
