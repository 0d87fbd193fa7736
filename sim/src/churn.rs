//! Churn: a steady stream of pod creations, restarts (updates) and
//! deletions, at a rate that can be changed (or paused) while running.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::resources::Resource;
use crate::seed::{Generator, format_ts};
use crate::store::{Key, Store};

/// The churn rate, and a lock held during each operation: whoever changes
/// the rate and then takes the lock knows no operation of the old rate is
/// still in flight (a paused sim really is still).
#[derive(Debug, Default)]
pub struct Control {
    /// Operations per second; 0 pauses.
    pub rate: AtomicU32,
    operation: Mutex<()>,
}

impl Control {
    /// A control starting at `rate`.
    pub fn new(rate: u32) -> Control {
        Control {
            rate: AtomicU32::new(rate),
            operation: Mutex::new(()),
        }
    }

    /// Change the rate; returns once no operation of the old rate is running.
    pub fn set_rate(&self, rate: u32) {
        self.rate.store(rate, Ordering::SeqCst);
        drop(self.operation.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

/// Create, update and delete pods at the control's rate, keeping the pod
/// count near where it started.
pub async fn run(
    store: Arc<Store>,
    mut generator: Generator,
    control: Arc<Control>,
    namespaces: Vec<String>,
) {
    let Some(pods) = Resource::by_plural("pods") else {
        return;
    };
    let mut keys: Vec<Key> = store.keys(pods);
    let target = keys.len().max(10);
    loop {
        let per_second = control.rate.load(Ordering::SeqCst);
        if per_second == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        tokio::time::sleep(Duration::from_secs_f64(1.0 / f64::from(per_second))).await;
        let _operation = control.operation.lock().unwrap_or_else(|p| p.into_inner());
        if control.rate.load(Ordering::SeqCst) == 0 {
            continue;
        }
        let roll = generator.pick(100);
        let create =
            keys.len() < target * 95 / 100 || (keys.len() <= target * 105 / 100 && roll < 30);
        let delete = !create && (keys.len() > target * 105 / 100 || roll >= 70);
        if create || keys.is_empty() {
            let namespace = namespaces[generator.pick(namespaces.len())].clone();
            let pod = generator.fresh_pod(&namespace);
            if let Ok(obj) = store.create(pods, pod) {
                keys.push(obj.key.clone());
            }
        } else if delete {
            let index = generator.pick(keys.len());
            let key = keys.swap_remove(index);
            let _ = store.delete(pods, &key);
        } else {
            let key = keys[generator.pick(keys.len())].clone();
            if let Some(obj) = store.get(pods, &key) {
                let mut value = obj.value();
                restart_first_container(&mut value, &format_ts(generator.now()));
                let _ = store.update(pods, value);
            }
        }
    }
}

/// Count one more restart of the pod's first container, which just ended.
fn restart_first_container(pod: &mut Value, now: &str) {
    let Some(status) = pod["status"]["containerStatuses"].get_mut(0) else {
        pod["metadata"]["labels"]["timoneiro.dev/touched"] = Value::String(now.replace(':', "-"));
        return;
    };
    let restarts = status["restartCount"].as_i64().unwrap_or(0) + 1;
    status["restartCount"] = json!(restarts);
    status["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": now, "finishedAt": now}});
}
