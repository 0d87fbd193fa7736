//! CPU and memory use from metrics.k8s.io (metrics-server), fetched once
//! for every client. Nothing is polled in the background: a client that
//! shows pods or nodes asks (`Top`) every 15 seconds, and the daemon reads
//! the API server when its last reading is older than that, so the API
//! server sees one request per 15 seconds however many clients look, and
//! none when nobody does. A cluster without metrics-server answers 404;
//! that is remembered for a minute.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::Client;
use serde_json::Value;

/// How old a reading may be before a request reads again (metrics-server's
/// own resolution is 15 s).
pub const FRESH: Duration = Duration::from_secs(15);
/// How long "this cluster serves no metrics" is believed.
pub const ABSENT_FOR: Duration = Duration::from_secs(60);

/// One container's use: CPU in nanocores, memory in bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Use {
    pub cpu_nanos: i64,
    pub memory_bytes: i64,
}

/// A pod's use, and its containers'.
#[derive(Debug, Clone, Default)]
pub struct PodUse {
    pub total: Use,
    pub containers: Vec<(String, Use)>,
}

/// One reading of the whole cluster.
#[derive(Debug, Default)]
pub struct Reading {
    /// Pods by (namespace, name).
    pub pods: HashMap<(String, String), PodUse>,
    /// Nodes by name.
    pub nodes: HashMap<String, Use>,
    /// When it was read, Unix milliseconds.
    pub fetched_unix_ms: i64,
}

#[derive(Debug, Clone)]
struct Last {
    at: Instant,
    reading: Result<Arc<Reading>, String>,
}

/// The metrics of one cluster.
pub struct Metrics {
    client: Client,
    last: tokio::sync::Mutex<Option<Last>>,
    /// API server reads so far (for tests and figures).
    reads: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("reads", &self.reads())
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// Metrics read through `client`.
    pub fn new(client: Client) -> Metrics {
        Metrics {
            client,
            last: tokio::sync::Mutex::new(None),
            reads: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// How many times the API server was read.
    pub fn reads(&self) -> u64 {
        self.reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The latest reading, read again first when it is older than `FRESH`
    /// (or the cluster was found without metrics more than `ABSENT_FOR`
    /// ago). Concurrent callers share one read.
    pub async fn reading(&self) -> Result<Arc<Reading>, String> {
        let mut last = self.last.lock().await;
        if let Some(l) = last.as_ref() {
            let keep = match &l.reading {
                Ok(_) => FRESH,
                Err(_) => ABSENT_FOR,
            };
            if l.at.elapsed() < keep {
                return l.reading.clone();
            }
        }
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let reading = self.read().await.map(Arc::new);
        *last = Some(Last {
            at: Instant::now(),
            reading: reading.clone(),
        });
        reading
    }

    async fn read(&self) -> Result<Reading, String> {
        let pods = self.get("/apis/metrics.k8s.io/v1beta1/pods").await?;
        let nodes = self.get("/apis/metrics.k8s.io/v1beta1/nodes").await?;
        // A whole cluster's PodMetrics is megabytes of JSON: decode it on a
        // blocking thread, never on the runtime's workers (watches run there).
        tokio::task::spawn_blocking(move || {
            let pods: Value =
                serde_json::from_str(&pods).map_err(|e| format!("metrics.k8s.io: {e}"))?;
            let nodes: Value =
                serde_json::from_str(&nodes).map_err(|e| format!("metrics.k8s.io: {e}"))?;
            Ok(parse(&pods, &nodes))
        })
        .await
        .map_err(|e| format!("metrics.k8s.io: {e}"))?
    }

    async fn get(&self, path: &str) -> Result<String, String> {
        let request = http::Request::get(path)
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| e.to_string())?;
        match self.client.request_text(request).await {
            Ok(text) => Ok(text),
            Err(kube::Error::Api(status)) if status.code == 404 => {
                Err("metrics.k8s.io is not served (is metrics-server installed?)".to_string())
            }
            Err(kube::Error::Api(status)) => Err(format!("metrics.k8s.io: {}", status.message)),
            Err(error) => Err(format!("metrics.k8s.io: {error}")),
        }
    }
}

/// Read PodMetricsList and NodeMetricsList documents.
pub fn parse(pods: &Value, nodes: &Value) -> Reading {
    let mut reading = Reading {
        fetched_unix_ms: jiff::Timestamp::now().as_millisecond(),
        ..Reading::default()
    };
    let usage = |u: &Value| Use {
        cpu_nanos: u["cpu"].as_str().and_then(quantity_nanos).unwrap_or(0) as i64,
        memory_bytes: u["memory"]
            .as_str()
            .and_then(quantity_nanos)
            .map_or(0, |n| ceil_div(n, 1_000_000_000) as i64),
    };
    for item in pods["items"].as_array().into_iter().flatten() {
        let namespace = item["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let name = item["metadata"]["name"].as_str().unwrap_or("").to_string();
        let mut pod = PodUse::default();
        for c in item["containers"].as_array().into_iter().flatten() {
            let used = usage(&c["usage"]);
            pod.total.cpu_nanos += used.cpu_nanos;
            pod.total.memory_bytes += used.memory_bytes;
            pod.containers
                .push((c["name"].as_str().unwrap_or("").to_string(), used));
        }
        reading.pods.insert((namespace, name), pod);
    }
    for item in nodes["items"].as_array().into_iter().flatten() {
        let name = item["metadata"]["name"].as_str().unwrap_or("").to_string();
        reading.nodes.insert(name, usage(&item["usage"]));
    }
    reading
}

fn ceil_div(n: i128, d: i128) -> i128 {
    (n + d - 1).div_euclid(d)
}

/// A Kubernetes quantity (`250m`, `1.5`, `128Mi`, `1234567n`, `2e3`) in
/// billionths of its unit, or None when it is not one.
pub fn quantity_nanos(text: &str) -> Option<i128> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let (multiplier, divisor): (i128, i128) = match suffix {
        "" => (1_000_000_000, 1),
        "n" => (1, 1),
        "u" => (1_000, 1),
        "m" => (1_000_000, 1),
        "k" => (1_000_000_000_000, 1),
        "M" => (1_000_000_000_000_000, 1),
        "G" => (1_000_000_000_000_000_000, 1),
        "T" => (1_000_000_000_000_000_000_000, 1),
        "Ki" => (1_000_000_000 << 10, 1),
        "Mi" => (1_000_000_000 << 20, 1),
        "Gi" => (1_000_000_000 << 30, 1),
        "Ti" => (1_000_000_000 << 40, 1),
        "Pi" => (1_000_000_000 << 50, 1),
        s if s.starts_with(['e', 'E']) => {
            let exponent: u32 = s[1..].parse().ok()?;
            (1_000_000_000 * 10i128.checked_pow(exponent)?, 1)
        }
        _ => return None,
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let negative = whole.starts_with('-');
    let whole: i128 = whole.trim_start_matches(['+', '-']).parse().unwrap_or(0);
    let mut value = whole.checked_mul(multiplier)?;
    if !fraction.is_empty() {
        let digits = fraction.len() as u32;
        let fraction: i128 = fraction.parse().ok()?;
        value += fraction.checked_mul(multiplier)? / 10i128.checked_pow(digits)?;
    }
    let value = value / divisor;
    Some(if negative { -value } else { value })
}

/// The sums of a pod's container requests and limits: (cpu request nanos,
/// memory request bytes, cpu limit nanos, memory limit bytes).
pub fn pod_resources(pod: &Value) -> (i64, i64, i64, i64) {
    let mut sums = (0i128, 0i128, 0i128, 0i128);
    for c in pod["spec"]["containers"].as_array().into_iter().flatten() {
        let q = |section: &str, name: &str| {
            c["resources"][section][name]
                .as_str()
                .and_then(quantity_nanos)
                .unwrap_or(0)
        };
        sums.0 += q("requests", "cpu");
        sums.1 += q("requests", "memory");
        sums.2 += q("limits", "cpu");
        sums.3 += q("limits", "memory");
    }
    let bytes = |n: i128| ceil_div(n, 1_000_000_000) as i64;
    (sums.0 as i64, bytes(sums.1), sums.2 as i64, bytes(sums.3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_as_kubernetes_writes_them() {
        assert_eq!(quantity_nanos("250m"), Some(250_000_000));
        assert_eq!(quantity_nanos("1"), Some(1_000_000_000));
        assert_eq!(quantity_nanos("1.5"), Some(1_500_000_000));
        assert_eq!(quantity_nanos("1234567n"), Some(1_234_567));
        assert_eq!(
            quantity_nanos("128Mi"),
            Some(128 * 1_048_576 * 1_000_000_000)
        );
        assert_eq!(quantity_nanos("2e3"), Some(2_000 * 1_000_000_000));
        assert_eq!(quantity_nanos("12x"), None);
    }
}
