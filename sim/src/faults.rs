//! Faults a test can inject through `/sim/faults/*`, each the way a real API
//! server or the network produces it:
//!
//! - `drop-watches`: every open watch is cut mid-stream (the connection is
//!   aborted, no terminating chunk), as when a load balancer or the network
//!   drops it.
//! - `end-watches`: every open watch ends cleanly, as when the API server's
//!   request timeout ends it; clients resume from their last resourceVersion.
//! - `outage?seconds=N`: every connection is cut and the port refuses
//!   connections for N seconds, then the sim listens on the same address again.
//! - `restart?seconds=N`: an outage after which the watch cache starts afresh
//!   at the current resourceVersion, as a restarted kube-apiserver's does, so
//!   resuming from any earlier resourceVersion is 410 Gone.
//! - `freeze?seconds=N`: the server goes silent without closing anything,
//!   as a half-open connection looks after a laptop sleep or a VPN or NAT
//!   drop: open watches send nothing (no event, no BOOKMARK, and they do not
//!   end at their `timeoutSeconds`) and new requests get no answer, for N
//!   seconds; then all goes on where it stopped.
//! - `short-watches?seconds=N`: for N seconds every watch ends cleanly the
//!   moment it starts, as behind a proxy with a tiny idle timeout.
//! - `gone?form=F`: 410 Gone in one of its forms.
//!   `watch-event`: history is compacted now, and every watch from an earlier
//!   resourceVersion gets HTTP 200, one ERROR event carrying a 410 Status, then
//!   the end (what 1.36 does; kube's watcher relists by itself).
//!   `watch-http`: history is compacted now, and every watch from an earlier
//!   resourceVersion is answered with HTTP 410 itself, as older servers and
//!   some proxies do; a client that retries the same resourceVersion never
//!   gets through, only a relist does.
//!   `list&count=N`: the next N lists get HTTP 410 "The resourceVersion for
//!   the provided list is too old.".
//!   `continue&count=N`: the next N continue requests get HTTP 410 Expired
//!   with a fresh continue token in the body.
//!
//! `GET /sim/info` reports how many of each fired, so a test can prove its
//! fault really happened.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch};

/// The forms of 410 Gone the sim can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Gone {
    /// HTTP 200, one ERROR event with a 410 Status, end of stream.
    WatchEvent,
    /// The watch request answered with HTTP 410.
    WatchHttp,
    /// A list answered with HTTP 410 (resourceVersion too old).
    List,
    /// A continue request answered with HTTP 410 Expired.
    Continue,
}

impl Gone {
    /// All forms, in the order `/sim/info` lists them.
    pub const ALL: [Gone; 4] = [
        Gone::WatchEvent,
        Gone::WatchHttp,
        Gone::List,
        Gone::Continue,
    ];

    /// The name used in `/sim/faults/gone?form=`.
    pub fn name(self) -> &'static str {
        match self {
            Gone::WatchEvent => "watch-event",
            Gone::WatchHttp => "watch-http",
            Gone::List => "list",
            Gone::Continue => "continue",
        }
    }

    /// The form named `name`.
    pub fn parse(name: &str) -> Option<Gone> {
        Gone::ALL.into_iter().find(|g| g.name() == name)
    }
}

/// The port goes away for a while.
#[derive(Debug, Clone, Copy)]
pub struct Outage {
    /// How long connections are refused.
    pub down: Duration,
    /// Whether the watch cache starts afresh when the sim is back.
    pub restart: bool,
}

/// Pending and fired faults, shared by the HTTP handlers and the listener.
#[derive(Debug)]
pub struct Faults {
    /// Too-old watches get HTTP 410 instead of an ERROR event.
    watch_gone_over_http: std::sync::atomic::AtomicBool,
    /// 410 answers still to give, per form.
    pending: Mutex<BTreeMap<Gone, u32>>,
    /// Faults that happened, by name.
    fired: Mutex<BTreeMap<&'static str, u64>>,
    /// Every open watch listens: `true` cuts them all mid-stream, `false` ends them cleanly.
    drop_watches: broadcast::Sender<bool>,
    /// Every open connection watches this; a change cuts them all.
    cut: watch::Sender<u64>,
    /// Outages for the listener to carry out.
    outages: mpsc::UnboundedSender<Outage>,
    outage_rx: Mutex<Option<mpsc::UnboundedReceiver<Outage>>>,
    /// BOOKMARK events sent on every watch (not a fault: how a test proves
    /// bookmarks flowed while the faults it counts did not happen).
    bookmarks: std::sync::atomic::AtomicU64,
    /// Silent until then (`freeze`).
    frozen_until: Mutex<Option<tokio::time::Instant>>,
    /// Watches end at once until then (`short-watches`).
    short_watches_until: Mutex<Option<tokio::time::Instant>>,
}

impl Default for Faults {
    fn default() -> Self {
        let (outages, outage_rx) = mpsc::unbounded_channel();
        Faults {
            watch_gone_over_http: Default::default(),
            pending: Mutex::default(),
            fired: Mutex::default(),
            drop_watches: broadcast::channel(4).0,
            cut: watch::channel(0).0,
            outages,
            outage_rx: Mutex::new(Some(outage_rx)),
            bookmarks: Default::default(),
            frozen_until: Mutex::default(),
            short_watches_until: Mutex::default(),
        }
    }
}

impl Faults {
    /// How a watch from a too-old resourceVersion is answered from now on:
    /// HTTP 410 (`true`) or HTTP 200 with an ERROR event (`false`, the default).
    pub fn set_watch_gone_over_http(&self, http: bool) {
        self.watch_gone_over_http
            .store(http, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether a too-old watch is answered with HTTP 410.
    pub fn watch_gone_over_http(&self) -> bool {
        self.watch_gone_over_http
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Answer the next `count` requests of `form` (`List` or `Continue`) with 410 Gone.
    pub fn arm(&self, form: Gone, count: u32) {
        *self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(form)
            .or_default() += count;
    }

    /// Whether this request of `form` is to be answered with 410 (counts it).
    pub fn take(&self, form: Gone) -> bool {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        match pending.get_mut(&form) {
            Some(n) if *n > 0 => {
                *n -= 1;
                drop(pending);
                self.record(form.name());
                true
            }
            _ => false,
        }
    }

    /// Count a fault that happened.
    pub fn record(&self, name: &'static str) {
        *self
            .fired
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(name)
            .or_default() += 1;
    }

    /// A BOOKMARK was sent.
    pub fn bookmark_sent(&self) {
        self.bookmarks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// BOOKMARK events sent so far.
    pub fn bookmarks_sent(&self) -> u64 {
        self.bookmarks.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many of each fault fired.
    pub fn fired(&self) -> BTreeMap<&'static str, u64> {
        self.fired.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Cut every open watch mid-stream (`abort`) or end it cleanly; returns how many there were.
    pub fn drop_watches(&self, abort: bool) -> usize {
        self.record(if abort { "drop-watches" } else { "end-watches" });
        self.drop_watches.send(abort).unwrap_or(0)
    }

    /// How many watches are open now (each listens for `drop_watches`).
    pub fn open_watches(&self) -> usize {
        self.drop_watches.receiver_count()
    }

    /// What an open watch listens on for `drop_watches`.
    pub fn watch_dropper(&self) -> broadcast::Receiver<bool> {
        self.drop_watches.subscribe()
    }

    /// What an open connection listens on to be cut.
    pub fn cutter(&self) -> watch::Receiver<u64> {
        self.cut.subscribe()
    }

    /// Cut every open connection.
    pub fn cut_connections(&self) {
        self.cut.send_modify(|generation| *generation += 1);
    }

    /// Say nothing on any connection for `silence` (see the module doc).
    pub fn freeze(&self, silence: Duration) {
        self.record("freeze");
        *self.frozen_until.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(tokio::time::Instant::now() + silence);
    }

    /// End every watch the moment it starts, for `period`.
    pub fn short_watches(&self, period: Duration) {
        self.record("short-watches");
        *self
            .short_watches_until
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(tokio::time::Instant::now() + period);
    }

    /// Whether a watch starting now ends at once.
    pub fn watches_are_short(&self) -> bool {
        self.short_watches_until
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|until| until > tokio::time::Instant::now())
    }

    /// Wait while the sim is frozen (at once when it is not).
    pub async fn thaw(&self) {
        loop {
            let until = *self.frozen_until.lock().unwrap_or_else(|p| p.into_inner());
            match until {
                Some(until) if until > tokio::time::Instant::now() => {
                    tokio::time::sleep_until(until).await;
                }
                _ => return,
            }
        }
    }

    /// Take the port away (carried out by the listener).
    pub fn outage(&self, outage: Outage) {
        self.record(if outage.restart { "restart" } else { "outage" });
        let _ = self.outages.send(outage);
    }

    /// The listener's end of `outage` (once).
    pub fn take_outages(&self) -> Option<mpsc::UnboundedReceiver<Outage>> {
        self.outage_rx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn armed_gone_answers_are_counted_down_and_recorded() {
        let faults = Faults::default();
        assert!(!faults.take(Gone::WatchHttp));
        faults.arm(Gone::Continue, 2);
        assert!(!faults.take(Gone::List));
        assert!(faults.take(Gone::Continue));
        assert!(faults.take(Gone::Continue));
        assert!(!faults.take(Gone::Continue));
        assert_eq!(faults.fired().get("continue"), Some(&2));
        for form in Gone::ALL {
            assert_eq!(Gone::parse(form.name()), Some(form));
        }
    }
}
