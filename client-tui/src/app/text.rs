//! The TUI's text views: an object as `kubectl describe` prints it, as
//! YAML, a pod's containers, a workload's pods' logs picker; scrolling and
//! search within them.

use timoneiro_proto::v1::GetRequest;

use std::collections::BTreeMap;

use super::{App, Effect, Purpose, Scope};
use crate::input::{Action, Mode};

/// A scrollable text view (describe or YAML) with search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextView {
    /// Title, e.g. "YAML pods/web-1".
    pub title: String,
    /// The text, line by line.
    pub lines: Vec<String>,
    /// First visible line.
    pub scroll: usize,
    /// The search term, if any.
    pub search: String,
    /// The selected line (the containers view's container, `:pf`'s forward).
    pub highlight: Option<usize>,
}

impl App {
    /// An object arrived for a `Get` effect.
    pub fn on_object(
        &mut self,
        purpose: Purpose,
        request: &GetRequest,
        result: Result<String, String>,
    ) -> Effect {
        let text = match result {
            Ok(text) => text,
            Err(message) => {
                self.message = Some((message, true));
                return Effect::None;
            }
        };
        let title = format!("{}/{}", request.kind, request.name);
        match purpose {
            Purpose::Yaml => {
                self.show_text(
                    format!("YAML {title}"),
                    text.lines().map(str::to_string).collect(),
                );
                Effect::None
            }
            Purpose::Describe => {
                // The daemon's text is kubectl's describe, events included.
                self.show_text(
                    format!("Describe {title}"),
                    text.lines().map(str::to_string).collect(),
                );
                Effect::None
            }
            Purpose::Logs { previous } => {
                let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                self.logs_of_pod(request, &value, previous)
            }
            Purpose::Containers => {
                let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                self.show_text(format!("Containers {title}"), containers(&value));
                // `l`, `p`, `s` and `shift-f` here act on the selected container.
                self.containers_of = Some(request.clone());
                self.containers = crate::forwards::containers_of(&value);
                if let Some(text) = self.text.as_mut() {
                    text.highlight = (!self.containers.is_empty()).then_some(1);
                }
                Effect::None
            }
            Purpose::Forward => {
                let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                let port = crate::forwards::containers_of(&value)
                    .iter()
                    .find_map(|c| c.ports.first().copied());
                let draft = crate::forwards::Draft {
                    context: request.context.clone(),
                    namespace: request.namespace.clone(),
                    pod: request.name.clone(),
                };
                self.ask_forward(draft, port)
            }
            Purpose::Owner => {
                let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                let owner = value["metadata"]["ownerReferences"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|r| r["controller"] == true);
                let Some(owner) = owner else {
                    self.message = Some((format!("{title} has no owner"), true));
                    return Effect::None;
                };
                let kind = owner["kind"].as_str().unwrap_or("").to_string();
                let name = owner["name"].as_str().unwrap_or("").to_string();
                let current = self.save();
                self.remembered
                    .insert(self.current_kind_plural(), current.clone());
                self.back.push(current);
                self.kind = kind;
                if !request.namespace.is_empty() {
                    self.namespace = Scope::Named(request.namespace.clone());
                }
                self.filter = format!("^{name}$");
                self.selector.clear();
                self.sort.clear();
                self.descending = false;
                self.jumped = true;
                self.list = None;
                self.reset_window();
                self.requery()
            }
            Purpose::DrillDown => {
                let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                let Some(selector) = match_labels(&value) else {
                    self.message = Some((format!("{title} has no label selector to follow"), true));
                    return Effect::None;
                };
                self.back.push(self.save());
                self.kind = "pods".into();
                self.namespace = Scope::Named(request.namespace.clone());
                self.selector = selector;
                self.filter.clear();
                self.reset_window();
                self.requery()
            }
        }
    }

    pub(crate) fn show_text(&mut self, title: String, lines: Vec<String>) {
        self.containers_of = None;
        self.containers.clear();
        self.forwards_view = false;
        self.text = Some(TextView {
            title,
            lines,
            scroll: 0,
            search: String::new(),
            highlight: None,
        });
        self.mode = Mode::Text;
    }

    pub(super) fn apply_text(&mut self, action: Action) -> Effect {
        let page = self.page as i64;
        let Some(text) = self.text.as_mut() else {
            self.mode = Mode::Table;
            return Effect::None;
        };
        let last = text.lines.len().saturating_sub(1) as i64;
        let scroll = |text: &mut TextView, delta: i64| {
            text.scroll = (text.scroll as i64 + delta).clamp(0, last) as usize
        };
        let selectable = self.containers_of.is_some() || self.forwards_view;
        match action {
            Action::Back => {
                self.text = None;
                self.containers_of = None;
                self.forwards_view = false;
                self.mode = Mode::Table;
            }
            // A list (containers, forwards): the selection moves.
            Action::Move(delta) if selectable => {
                let rows = text.lines.len().saturating_sub(1);
                if let Some(line) = text.highlight.as_mut() {
                    *line = (*line as i64 + delta).clamp(1, rows.max(1) as i64) as usize;
                }
            }
            Action::Delete if self.forwards_view => return self.stop_selected_forward(),
            Action::Delete => scroll(text, page),
            Action::Move(delta) => scroll(text, delta),
            Action::Page(pages) => scroll(text, pages * page),
            Action::Top => text.scroll = 0,
            // The last page, not the last line alone at the top.
            Action::Bottom => text.scroll = (last - (page - 1).max(0)).max(0) as usize,
            Action::StartFilter => {
                self.mode = Mode::TextSearch;
                self.input.clear();
            }
            Action::NextMatch => Self::next_match(text),
            Action::Help => self.help = true,
            Action::Logs { previous } => {
                if let Some(pod) = self.containers_of.clone() {
                    return Effect::Get(pod, Purpose::Logs { previous });
                }
            }
            // The containers view: a shell in, or a port of, that container.
            Action::Scale | Action::Forward => {
                let (Some(pod), Some(container)) = (
                    self.containers_of.clone(),
                    self.selected_container().cloned(),
                ) else {
                    return Effect::None;
                };
                if action == Action::Scale {
                    return self.shell(pod.namespace, pod.name, container.name);
                }
                let draft = crate::forwards::Draft {
                    context: pod.context,
                    namespace: pod.namespace,
                    pod: pod.name,
                };
                return self.ask_forward(draft, container.ports.first().copied());
            }
            _ => {}
        }
        Effect::None
    }

    fn next_match(text: &mut TextView) {
        if text.search.is_empty() {
            return;
        }
        let needle = text.search.to_lowercase();
        let count = text.lines.len();
        for step in 1..=count {
            let index = (text.scroll + step) % count;
            if text.lines[index].to_lowercase().contains(&needle) {
                text.scroll = index;
                return;
            }
        }
    }

    pub(super) fn apply_text_search(&mut self, action: Action) -> Effect {
        match action {
            Action::Type(c) => self.input.push(c),
            Action::Backspace => {
                self.input.pop();
            }
            Action::Back => {
                self.mode = Mode::Text;
                self.input.clear();
            }
            Action::Enter => {
                self.mode = Mode::Text;
                if let Some(text) = self.text.as_mut() {
                    text.search = std::mem::take(&mut self.input);
                    // Search from the line before the view so a match on the first line counts.
                    text.scroll = text
                        .scroll
                        .checked_sub(1)
                        .unwrap_or(text.lines.len().saturating_sub(1));
                    Self::next_match(text);
                }
            }
            _ => {}
        }
        Effect::None
    }
}

/// A pod's containers as a table: NAME IMAGE READY STATE RESTARTS PORTS
/// PROBES (init containers first, marked).
fn containers(pod: &serde_json::Value) -> Vec<String> {
    let mut text = String::from("NAME\tIMAGE\tREADY\tSTATE\tRESTARTS\tPORTS\tPROBES\n");
    for (section, statuses, init) in [
        ("initContainers", "initContainerStatuses", true),
        ("containers", "containerStatuses", false),
    ] {
        for c in pod["spec"][section].as_array().into_iter().flatten() {
            let name = c["name"].as_str().unwrap_or("");
            let status = pod["status"][statuses]
                .as_array()
                .into_iter()
                .flatten()
                .find(|s| s["name"] == name);
            let state = status.map_or("-".to_string(), |s| {
                let state = &s["state"];
                let reason = |k: &str| state[k]["reason"].as_str().map(|r| format!("{k}:{r}"));
                if state.get("running").is_some() {
                    "running".to_string()
                } else {
                    reason("waiting")
                        .or_else(|| reason("terminated"))
                        .unwrap_or_else(|| "waiting".to_string())
                }
            });
            let ports = c["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    let number = p["containerPort"].as_i64().unwrap_or(0);
                    match p["name"].as_str() {
                        Some(n) => format!("{n}:{number}"),
                        None => number.to_string(),
                    }
                })
                .collect::<Vec<_>>()
                .join(",");
            let probes = [
                ("livenessProbe", "liveness"),
                ("readinessProbe", "readiness"),
                ("startupProbe", "startup"),
            ]
            .iter()
            .filter(|(key, _)| c.get(*key).is_some())
            .map(|(_, word)| *word)
            .collect::<Vec<_>>()
            .join(",");
            let display = if init {
                format!("{name} (init)")
            } else {
                name.to_string()
            };
            text.push_str(&format!(
                "{display}\t{}\t{}\t{state}\t{}\t{}\t{}\n",
                c["image"].as_str().unwrap_or(""),
                status.map_or("-", |s| if s["ready"] == true { "true" } else { "false" }),
                status.and_then(|s| s["restartCount"].as_i64()).unwrap_or(0),
                if ports.is_empty() { "-" } else { &ports },
                if probes.is_empty() { "-" } else { &probes },
            ));
        }
    }
    timoneiro_client::tabwriter::align_with(&text, 0, 3)
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect()
}

/// `spec.selector.matchLabels` as a selector string.
fn match_labels(value: &serde_json::Value) -> Option<String> {
    let labels = value["spec"]["selector"]["matchLabels"].as_object()?;
    if labels.is_empty() {
        return None;
    }
    let pairs: BTreeMap<&String, &str> = labels
        .iter()
        .map(|(k, v)| (k, v.as_str().unwrap_or_default()))
        .collect();
    Some(
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    )
}
