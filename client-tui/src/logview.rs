//! The log view (`l` on a pod or a workload, `p` for a pod's previous
//! instance): lines kept in a bounded ring so memory stays bounded however
//! long it follows, follow (stick to the end) on or off, wrap, search with
//! n/N, timestamps, and a choice of container: the pod's default, one of its
//! containers in turn (`c`), or all of them (`a`).
//!
//! Changing what is read (timestamps, container, previous) asks the daemon
//! for a new stream; the view only keeps what the current one sent.

use std::collections::VecDeque;

use timoneiro_proto::v1::{LogsRequest, LogsResponse};

/// Lines the view keeps by default (`--log-lines`).
pub const DEFAULT_CAPACITY: usize = 100_000;
/// Lines of each container asked for when the view opens.
pub const TAIL: i64 = 1000;

/// Which containers are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// The pod's default container (the daemon picks it).
    Default,
    /// This container (index into `LogView::containers`).
    One(usize),
    /// Every container.
    All,
}

/// What a key does in the log view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKey {
    Follow,
    Wrap,
    Timestamps,
    Previous,
    AllContainers,
    NextContainer,
    PreviousMatch,
}

/// The log view's state.
#[derive(Debug, Clone)]
pub struct LogView {
    /// What the view shows, e.g. "pods/web-1".
    pub title: String,
    /// The request without the choices below (target, namespace, context).
    pub base: LogsRequest,
    /// The pod's containers (init first), for `c`; empty for a workload.
    pub containers: Vec<String>,
    pub choice: Choice,
    /// Lines, oldest first; at most `capacity`.
    pub lines: VecDeque<String>,
    pub capacity: usize,
    /// Lines that fell off the front of the ring.
    pub dropped: u64,
    /// Stick to the newest line.
    pub follow: bool,
    pub wrap: bool,
    pub timestamps: bool,
    pub previous: bool,
    /// First line shown when not following.
    pub scroll: usize,
    /// Search term (`/`), case-insensitive.
    pub search: String,
    /// The stream's generation: batches of older streams are ignored.
    pub generation: u64,
    /// Lines name their pod and container (several are read).
    pub prefix: bool,
    /// The last thing the daemon said about the streams (or why it ended).
    pub notice: Option<(String, bool)>,
    /// The stream ended (a named pod's containers all stopped, or failed).
    pub ended: bool,
}

impl LogView {
    /// A view of `base`'s logs, following.
    pub fn new(
        title: String,
        base: LogsRequest,
        containers: Vec<String>,
        capacity: usize,
    ) -> LogView {
        let prefix = !base.label_selector.is_empty()
            || base
                .target
                .split_once('/')
                .is_some_and(|(kind, _)| !matches!(kind, "pod" | "pods" | "po"));
        LogView {
            title,
            base,
            containers,
            choice: Choice::Default,
            lines: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
            follow: true,
            wrap: false,
            timestamps: false,
            previous: false,
            scroll: 0,
            search: String::new(),
            generation: 0,
            prefix,
            notice: None,
            ended: false,
        }
    }

    /// The request for the current choices: follow (unless reading a
    /// previous instance, which has ended), the last `TAIL` lines.
    pub fn request(&self) -> LogsRequest {
        let mut request = self.base.clone();
        request.follow = !self.previous;
        request.tail_lines = TAIL;
        request.timestamps = self.timestamps;
        request.previous = self.previous;
        match &self.choice {
            Choice::Default => {}
            Choice::One(index) => {
                request.container = self.containers.get(*index).cloned().unwrap_or_default();
            }
            Choice::All => request.all_containers = true,
        }
        request
    }

    /// Whether lines carry their pod and container.
    fn prefixed(&self) -> bool {
        self.prefix || self.choice == Choice::All
    }

    /// Take a batch of the stream of `generation`.
    pub fn take(&mut self, generation: u64, batch: LogsResponse) {
        if generation != self.generation {
            return;
        }
        if let Some(notice) = batch.notices.last() {
            self.notice = Some((notice.clone(), false));
        }
        let prefixed = self.prefixed();
        for line in batch.lines {
            let text = if prefixed {
                format!("[{}/{}] {}", line.pod, line.container, line.text)
            } else {
                line.text
            };
            if self.lines.len() == self.capacity {
                self.lines.pop_front();
                self.dropped += 1;
                // What the reader looks at stays where it is.
                self.scroll = self.scroll.saturating_sub(1);
            }
            self.lines.push_back(text);
        }
    }

    /// The stream of `generation` ended, with why if it failed.
    pub fn end(&mut self, generation: u64, error: Option<String>) {
        if generation != self.generation {
            return;
        }
        self.ended = true;
        self.notice = Some(match error {
            Some(message) => (message, true),
            None => ("the log ended (the container stopped)".into(), false),
        });
    }

    /// Start over for a new stream: returns its generation.
    pub fn restart(&mut self, generation: u64) -> u64 {
        self.generation = generation;
        self.lines.clear();
        self.dropped = 0;
        self.scroll = 0;
        self.ended = false;
        self.notice = None;
        self.follow = true;
        generation
    }

    /// The first line to show in `height` rows.
    pub fn first_shown(&self, height: usize) -> usize {
        if self.follow {
            self.lines.len().saturating_sub(height)
        } else {
            self.scroll.min(self.lines.len().saturating_sub(1))
        }
    }

    /// Scroll by `delta` lines; scrolling stops following.
    pub fn scroll_by(&mut self, delta: i64, height: usize) {
        let from = self.first_shown(height) as i64;
        let last = self.lines.len().saturating_sub(height) as i64;
        let to = (from + delta).clamp(0, last.max(0));
        self.follow = to >= last && delta > 0;
        self.scroll = to as usize;
    }

    /// To the first line (stops following) or back to following the end.
    pub fn top(&mut self) {
        self.follow = false;
        self.scroll = 0;
    }

    pub fn bottom(&mut self) {
        self.follow = true;
    }

    /// Move to the next (or previous) line matching the search.
    pub fn find(&mut self, forward: bool, height: usize) {
        if self.search.is_empty() || self.lines.is_empty() {
            return;
        }
        let needle = self.search.to_lowercase();
        let count = self.lines.len();
        let from = self.first_shown(height);
        for step in 1..=count {
            let index = if forward {
                (from + step) % count
            } else {
                (from + count - step % count) % count
            };
            if self.lines[index].to_lowercase().contains(&needle) {
                self.follow = false;
                self.scroll = index;
                return;
            }
        }
        self.notice = Some((format!("no line contains {:?}", self.search), true));
    }

    /// A key of the view. True when what is read changed (a new stream is needed).
    pub fn key(&mut self, key: LogKey, height: usize) -> bool {
        match key {
            LogKey::Follow => {
                self.follow = !self.follow;
                if !self.follow {
                    self.scroll = self.lines.len().saturating_sub(height);
                }
                false
            }
            LogKey::Wrap => {
                self.wrap = !self.wrap;
                false
            }
            LogKey::PreviousMatch => {
                self.find(false, height);
                false
            }
            LogKey::Timestamps => {
                self.timestamps = !self.timestamps;
                true
            }
            LogKey::Previous => {
                self.previous = !self.previous;
                true
            }
            LogKey::AllContainers => {
                self.choice = if self.choice == Choice::All {
                    Choice::Default
                } else {
                    Choice::All
                };
                true
            }
            LogKey::NextContainer => {
                if self.containers.len() < 2 {
                    self.notice = Some(("the pod has one container".into(), false));
                    return false;
                }
                self.choice = match self.choice {
                    Choice::One(i) if i + 1 < self.containers.len() => Choice::One(i + 1),
                    Choice::One(_) => Choice::All,
                    _ => Choice::One(0),
                };
                true
            }
        }
    }

    /// What is read, for the title: "app", "all containers", "default container".
    pub fn reading(&self) -> String {
        let what = match &self.choice {
            Choice::Default => "default container".to_string(),
            Choice::One(i) => format!(
                "container {} ({}/{})",
                self.containers.get(*i).map_or("?", String::as_str),
                i + 1,
                self.containers.len()
            ),
            Choice::All => "all containers".to_string(),
        };
        if self.previous {
            format!("{what}, previous instance")
        } else {
            what
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use timoneiro_proto::v1::LogLine;

    fn batch(texts: &[&str]) -> LogsResponse {
        LogsResponse {
            lines: texts
                .iter()
                .map(|t| LogLine {
                    namespace: "ns".into(),
                    pod: "web-1".into(),
                    container: "app".into(),
                    text: (*t).into(),
                })
                .collect(),
            notices: Vec::new(),
        }
    }

    fn view(capacity: usize) -> LogView {
        let base = LogsRequest {
            target: "web-1".into(),
            ..LogsRequest::default()
        };
        LogView::new(
            "pods/web-1".into(),
            base,
            vec!["app".into(), "envoy".into()],
            capacity,
        )
    }

    #[test]
    fn the_ring_keeps_the_newest_lines_and_counts_the_rest() {
        let mut logs = view(3);
        logs.take(0, batch(&["1", "2", "3", "4", "5"]));
        assert_eq!(logs.lines, ["3", "4", "5"]);
        assert_eq!(logs.dropped, 2);
        // A batch of an older stream is not shown.
        logs.take(7, batch(&["x"]));
        assert_eq!(logs.lines.len(), 3);
    }

    #[test]
    fn scrolling_up_stops_following_and_the_end_resumes_it() {
        let mut logs = view(100);
        let texts: Vec<String> = (0..50).map(|i| format!("line {i}")).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        logs.take(0, batch(&refs));
        assert_eq!(logs.first_shown(10), 40);
        logs.scroll_by(-5, 10);
        assert!(!logs.follow);
        assert_eq!(logs.first_shown(10), 35);
        logs.take(0, batch(&["new"]));
        assert_eq!(logs.first_shown(10), 35, "new lines do not move a reader");
        logs.bottom();
        assert_eq!(logs.first_shown(10), 41);
    }

    #[test]
    fn search_finds_forward_and_back() {
        let mut logs = view(100);
        logs.take(0, batch(&["a", "ERROR one", "b", "c", "ERROR two", "d"]));
        logs.search = "error".into();
        logs.top();
        logs.find(true, 2);
        assert_eq!(logs.scroll, 1);
        logs.find(true, 2);
        assert_eq!(logs.scroll, 4);
        logs.find(false, 2);
        assert_eq!(logs.scroll, 1);
    }

    #[test]
    fn choices_change_the_request() {
        let mut logs = view(100);
        assert!(logs.request().follow);
        assert_eq!(logs.request().tail_lines, TAIL);
        assert!(logs.key(LogKey::NextContainer, 10));
        assert_eq!(logs.request().container, "app");
        assert!(logs.key(LogKey::NextContainer, 10));
        assert_eq!(logs.request().container, "envoy");
        assert!(logs.key(LogKey::NextContainer, 10));
        assert!(logs.request().all_containers);
        assert!(logs.key(LogKey::Timestamps, 10));
        assert!(logs.request().timestamps);
        assert!(logs.key(LogKey::Previous, 10));
        assert!(logs.request().previous && !logs.request().follow);
        assert!(!logs.key(LogKey::Wrap, 10));
        assert!(logs.wrap);
        // Every container: lines name theirs.
        logs.take(0, batch(&["hello"]));
        assert_eq!(
            logs.lines.back().map(String::as_str),
            Some("[web-1/app] hello")
        );
    }
}
