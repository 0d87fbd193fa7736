//! The TUI's state and what each action does to it. No terminal, no
//! network: actions return an `Effect` (query again, fetch an object, quit)
//! that the event loop carries out, so every behaviour here is testable.

use std::collections::HashMap;

use timoneiro_proto::v1::{
    GetRequest, KindStatus, ListRequest, ListResponse, ObjectFormat, Row, SyncState, TopRequest,
    TopResponse, Usage,
};

use crate::input::{Action, Mode};

mod text;

/// Where the connection to the daemon stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Trying for the first time.
    Connecting,
    /// Talking to the daemon.
    Connected,
    /// Lost or never reached; retrying.
    Reconnecting {
        /// Why the last attempt failed.
        message: String,
        /// Attempts so far.
        attempt: u32,
    },
}

/// What the event loop must do after an action or event.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Nothing.
    None,
    /// The query changed: (re)subscribe to `App::request()`.
    Query,
    /// Fetch an object.
    Get(GetRequest, Purpose),
    /// Stream logs (generation, request), replacing any stream open.
    Logs(u64, timoneiro_proto::v1::LogsRequest),
    /// Close the log stream.
    StopLogs,
    /// Change the cluster (asked and confirmed).
    Act(crate::act::Act),
    /// Suspend the screen and edit this object in $EDITOR.
    Edit(timoneiro_client::edit::Target),
    /// Suspend the screen and run this in a container on the terminal.
    Exec(timoneiro_proto::v1::ExecStart),
    /// Start forwarding a pod's port.
    Forward(crate::forwards::Request),
    /// Stop the forward listening on this local port.
    StopForward(u16),
    /// Leave.
    Quit,
}

/// Why an object is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Show it as `kubectl describe` prints it.
    Describe,
    /// Show its YAML.
    Yaml,
    /// Drill down to the pods its selector picks.
    DrillDown,
    /// Show a pod's containers.
    Containers,
    /// Jump to its owner (the controller in its ownerReferences).
    Owner,
    /// Ask which of a pod's ports to forward (its ports are needed).
    Forward,
    /// Open the log view of a pod (its containers are needed).
    Logs {
        /// The previous instance of its containers.
        previous: bool,
    },
}

pub use text::TextView;

/// A kind, namespace and selector to come back to with Esc.
#[derive(Debug, Clone, PartialEq, Eq)]
struct View {
    kind: String,
    namespace: Scope,
    selector: String,
    filter: String,
    sort: String,
    descending: bool,
    offset: u32,
    cursor: u32,
    selected_uid: Option<String>,
    /// The view was entered by jumping to an owner: Esc goes back at once.
    jumped: bool,
}

/// Which namespaces are listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The context's namespace (the daemon decides).
    Context,
    /// Every namespace.
    All,
    /// One namespace.
    Named(String),
}

/// Kinds whose Enter shows their pods.
pub(crate) const WORKLOADS: &[&str] = &[
    "deployments",
    "replicasets",
    "statefulsets",
    "daemonsets",
    "jobs",
];

/// The whole state of the TUI.
#[derive(Debug)]
pub struct App {
    /// Context asked for ("" = the daemon's default).
    pub context: String,
    /// Context the daemon reported.
    pub context_name: String,
    /// Kind as typed (resolved by the daemon).
    pub kind: String,
    /// Namespace scope.
    pub namespace: Scope,
    /// Filter terms.
    pub filter: String,
    /// Label selector.
    pub selector: String,
    /// Sort column ("" = newest first) and direction.
    pub sort: String,
    /// Reverse the sort.
    pub descending: bool,
    /// Current mode.
    pub mode: Mode,
    /// The line being edited (filter, command or search).
    pub input: String,
    /// The latest answer for the current query.
    pub list: Option<ListResponse>,
    /// Generation of the current query; answers of older ones are ignored.
    pub generation: u64,
    /// Generation of the answer on screen.
    pub answered: Option<u64>,
    /// The last counted answer's match count, and what it counted: shown
    /// while a new window of the same view is counted (scrolling).
    pub counted: Option<(CountOf, u64)>,
    /// First row of the window, in the filtered and sorted list.
    pub offset: u32,
    /// Selected row, in the filtered and sorted list.
    pub cursor: u32,
    /// uid of the selected row: the selection follows it across updates.
    pub selected_uid: Option<String>,
    /// Rows that fit on screen.
    pub page: u32,
    /// Status of every kind.
    pub statuses: Vec<KindStatus>,
    /// Connection state.
    pub connection: Connection,
    /// Describe or YAML view.
    pub text: Option<TextView>,
    /// Help overlay shown.
    pub help: bool,
    /// A one-line message for the footer (error when the flag is set).
    pub message: Option<(String, bool)>,
    /// Choosing a namespace from the namespace list (`:ns`).
    pub picking_namespace: bool,
    /// A kind typed after ':' not yet confirmed by the daemon: if it is
    /// refused, the view goes back to where it was.
    switching_kind: bool,
    back: Vec<View>,
    /// Colours allowed (NO_COLOR unset).
    pub color: bool,
    /// Show every `-o wide` column (`ctrl-w`).
    pub wide: bool,
    /// CPU and memory of the pods or nodes on screen, by (namespace, name).
    pub metrics: HashMap<(String, String), Usage>,
    /// Whether the cluster serves metrics (None until the first answer),
    /// and why not.
    pub metrics_available: Option<Result<(), String>>,
    /// The last metrics request: when, and for which rows.
    metrics_asked: Option<(std::time::Instant, TopRequest)>,
    /// The last view of each kind (by plural): `:kind` comes back to it.
    remembered: HashMap<String, View>,
    /// This view was entered by jumping to an owner (`J`).
    jumped: bool,
    /// The log view, while open.
    pub logs: Option<crate::logview::LogView>,
    /// Lines the log view keeps.
    pub log_capacity: usize,
    /// Generation of the newest log stream asked for.
    pub log_generation: u64,
    /// A question waiting for y/n, and what y does.
    pub pending: Option<(String, crate::act::Act)>,
    /// A workload waiting for the replicas to scale it to.
    pub scaling: Option<timoneiro_proto::v1::ScaleRequest>,
    /// Contexts the daemon refuses actions on.
    pub readonly_contexts: Vec<String>,
    /// The pod whose containers the text view shows.
    pub containers_of: Option<GetRequest>,
    /// Its containers, in the order the view lists them.
    pub containers: Vec<crate::forwards::ContainerPorts>,
    /// The pod `shift-f` asks a port for.
    pub forwarding: Option<crate::forwards::Draft>,
    /// The port-forwards running.
    pub forwards: Vec<crate::forwards::Row>,
    /// The text view is `:pf`'s list.
    pub forwards_view: bool,
}

/// How often the metrics of the rows on screen are asked for again
/// (metrics-server's resolution; the daemon reads it no more often).
pub const METRICS_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// Split filter input into fuzzy terms and a `-l` label selector.
/// The selector is None when the line has no `-l`: the current one stays.
pub fn split_filter(input: &str) -> (String, Option<String>) {
    match input.split_once("-l ") {
        Some((terms, selector)) => (terms.trim().to_string(), Some(selector.trim().to_string())),
        None => (input.trim().to_string(), None),
    }
}

/// "10000" → "10,000".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What a count counts: the context, kind, namespaces, filter and selector
/// of a view (not its sort or window).
type CountOf = (String, String, Scope, String, String);

impl App {
    /// A new app on `kind` in `namespace`.
    pub fn new(context: String, kind: String, namespace: Scope) -> App {
        App {
            context_name: context.clone(),
            context,
            kind,
            namespace,
            filter: String::new(),
            selector: String::new(),
            sort: String::new(),
            descending: false,
            mode: Mode::Table,
            input: String::new(),
            list: None,
            generation: 0,
            answered: None,
            counted: None,
            offset: 0,
            cursor: 0,
            selected_uid: None,
            page: 20,
            statuses: Vec::new(),
            connection: Connection::Connecting,
            text: None,
            help: false,
            message: None,
            picking_namespace: false,
            switching_kind: false,
            back: Vec::new(),
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            wide: false,
            metrics: HashMap::new(),
            metrics_available: None,
            metrics_asked: None,
            remembered: HashMap::new(),
            jumped: false,
            logs: None,
            log_capacity: crate::logview::DEFAULT_CAPACITY,
            log_generation: 0,
            pending: None,
            scaling: None,
            readonly_contexts: Vec::new(),
            containers_of: None,
            containers: Vec::new(),
            forwarding: None,
            forwards: Vec::new(),
            forwards_view: false,
        }
    }

    /// Whether the current kind shows CPU and memory columns.
    pub fn shows_metrics(&self) -> bool {
        let plural = self
            .list
            .as_ref()
            .and_then(|l| l.kind.as_ref())
            .map_or(self.kind.as_str(), |k| k.plural.as_str());
        matches!(plural, "pods" | "nodes")
    }

    /// The metrics request due now, if any: the rows on screen changed, or
    /// the last answer is older than `METRICS_EVERY`. Nothing is asked for
    /// while no pods or nodes are shown.
    pub fn metrics_request(&mut self, now: std::time::Instant) -> Option<TopRequest> {
        if !self.shows_metrics() || matches!(self.connection, Connection::Connecting) {
            return None;
        }
        let list = self.list.as_ref()?;
        let plural = list.kind.as_ref()?.plural.clone();
        let mut names: Vec<String> = list.rows.iter().map(|r| r.name.clone()).collect();
        names.sort();
        names.dedup();
        if names.is_empty() {
            return None;
        }
        let (namespace, all_namespaces) = match &self.namespace {
            Scope::All => (String::new(), true),
            Scope::Named(ns) => (ns.clone(), false),
            Scope::Context => (list.namespace.clone(), list.namespace.is_empty()),
        };
        let request = TopRequest {
            context: self.context.clone(),
            kind: plural,
            namespace,
            all_namespaces,
            names,
        };
        let due = match &self.metrics_asked {
            None => true,
            Some((at, asked)) => *asked != request || now.duration_since(*at) >= METRICS_EVERY,
        };
        if !due {
            return None;
        }
        self.metrics_asked = Some((now, request.clone()));
        Some(request)
    }

    /// Metrics arrived.
    pub fn on_top(&mut self, _request: &TopRequest, result: Result<TopResponse, String>) {
        match result {
            Ok(answer) if answer.available => {
                self.metrics_available = Some(Ok(()));
                self.metrics = answer
                    .items
                    .into_iter()
                    .map(|u| ((u.namespace.clone(), u.name.clone()), u))
                    .collect();
            }
            Ok(answer) => {
                self.metrics_available = Some(Err(answer.message));
                self.metrics.clear();
            }
            Err(message) => {
                self.metrics_available = Some(Err(message));
                self.metrics.clear();
            }
        }
    }

    /// How many objects of the current kind the cache holds, in every
    /// namespace (from the status stream), when known.
    pub fn kind_total(&self) -> Option<u64> {
        let plural = self.list.as_ref()?.kind.as_ref()?.plural.clone();
        self.statuses
            .iter()
            .find(|k| k.kind == plural)
            .map(|k| k.objects)
    }

    /// The header's count: `shown/total` when a filter, a selector or a
    /// namespace narrows the view, else the total.
    pub fn count_text(&self) -> Option<String> {
        let list = self.list.as_ref()?;
        let scoped = !list.namespace.is_empty();
        let narrowed = scoped || !self.filter.is_empty() || !self.selector.is_empty();
        if !narrowed {
            return Some(thousands(list.total));
        }
        let total = if scoped {
            self.kind_total().unwrap_or(list.total).max(list.total)
        } else {
            list.total
        };
        Some(format!("{}/{}", self.matched_text(list), thousands(total)))
    }

    /// The mode keys are read in.
    pub fn input_mode(&self) -> Mode {
        if self.help { Mode::Help } else { self.mode }
    }

    /// The List/WatchList request for the current view and window.
    pub fn request(&self) -> ListRequest {
        let (namespace, all) = match &self.namespace {
            Scope::Context => (String::new(), false),
            Scope::All => (String::new(), true),
            Scope::Named(ns) => (ns.clone(), false),
        };
        let sort_by = match (self.sort.is_empty(), self.descending) {
            (true, false) => String::new(),
            (true, true) => "-AGE".to_string(),
            (false, false) => self.sort.clone(),
            (false, true) => format!("-{}", self.sort),
        };
        ListRequest {
            context: self.context.clone(),
            kind: self.kind.clone(),
            namespace,
            all_namespaces: all,
            filter: self.filter.clone(),
            label_selector: self.selector.clone(),
            sort_by,
            offset: self.offset,
            limit: self.page.max(1),
            // Always the wide columns: the default view shows some of them
            // (a pod's IP and NODE) and ctrl-w the rest, without a new query.
            wide: true,
            // The rows of a filter typed over a big cache come before the
            // count (ListResponse.counting), the count right after.
            window_first: true,
            ..ListRequest::default()
        }
    }

    /// Start a new query generation (its answers replace the current ones).
    fn requery(&mut self) -> Effect {
        self.generation += 1;
        Effect::Query
    }

    /// The rows on screen.
    pub fn rows(&self) -> &[Row] {
        self.list.as_ref().map_or(&[], |l| l.rows.as_slice())
    }

    /// Rows matching the filter (all rows of the window's query).
    pub fn matched(&self) -> u32 {
        self.list
            .as_ref()
            .map_or(0, |l| u32::try_from(l.matched).unwrap_or(u32::MAX))
    }

    /// The selected row, if on screen.
    pub fn selected(&self) -> Option<&Row> {
        let index = self.cursor.checked_sub(self.offset)?;
        self.rows().get(index as usize)
    }

    /// The kinds started but not yet synced, for the header.
    pub fn loading(&self) -> Vec<&str> {
        self.statuses
            .iter()
            .filter(|k| k.state == SyncState::Loading as i32)
            .map(|k| k.kind.as_str())
            .collect()
    }

    /// Set the number of rows that fit; returns a query effect if the window must change.
    pub fn set_page(&mut self, page: u32) -> Effect {
        let page = page.max(1);
        if page == self.page {
            return Effect::None;
        }
        self.page = page;
        self.scroll_to_cursor();
        self.requery()
    }

    fn scroll_to_cursor(&mut self) {
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + self.page {
            self.offset = self.cursor + 1 - self.page;
        }
    }

    fn count_of(&self) -> CountOf {
        (
            self.context.clone(),
            self.kind.clone(),
            self.namespace.clone(),
            self.filter.clone(),
            self.selector.clone(),
        )
    }

    /// How many rows an answer matched, as shown. While the daemon is still
    /// counting (the rows came first): the last count of the same view
    /// (another window of it), else "…".
    pub fn matched_text(&self, list: &ListResponse) -> String {
        if !list.counting {
            return thousands(list.matched);
        }
        match &self.counted {
            Some(((context, kind, namespace, filter, selector), matched))
                if (context, kind, namespace, filter, selector)
                    == (
                        &self.context,
                        &self.kind,
                        &self.namespace,
                        &self.filter,
                        &self.selector,
                    ) =>
            {
                thousands(*matched)
            }
            _ => "…".to_string(),
        }
    }

    /// A new answer from the daemon.
    pub fn on_list(&mut self, generation: u64, response: ListResponse) {
        if generation != self.generation {
            return;
        }
        // Keep the selection on the same object if it is still in the window.
        if let Some(uid) = &self.selected_uid
            && let Some(index) = response.rows.iter().position(|r| &r.uid == uid)
        {
            self.cursor = self.offset + index as u32;
        }
        let matched = u32::try_from(response.matched).unwrap_or(u32::MAX);
        if matched == 0 {
            self.cursor = 0;
        } else if self.cursor >= matched {
            self.cursor = matched - 1;
        }
        if !response.counting {
            self.counted = Some((self.count_of(), response.matched));
        }
        self.list = Some(response);
        self.answered = Some(generation);
        self.switching_kind = false;
        if self.message.as_ref().is_some_and(|(_, error)| *error) && self.mode == Mode::Filter {
            // The filter being typed is valid again.
            self.message = None;
        }
        self.selected_uid = self.selected().map(|r| r.uid.clone());
    }

    /// The daemon refused the current query.
    pub fn on_list_error(&mut self, generation: u64, message: String) -> Effect {
        if generation != self.generation {
            return Effect::None;
        }
        self.message = Some((message, true));
        // An unknown kind typed after ':' goes back to the previous view; a
        // half-typed filter ("web !") just waits for the next key.
        if self.switching_kind
            && let Some(previous) = self.back.pop()
        {
            self.switching_kind = false;
            self.restore(previous);
            return self.requery();
        }
        Effect::None
    }

    fn save(&self) -> View {
        View {
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            selector: self.selector.clone(),
            filter: self.filter.clone(),
            sort: self.sort.clone(),
            descending: self.descending,
            offset: self.offset,
            cursor: self.cursor,
            selected_uid: self.selected_uid.clone(),
            jumped: self.jumped,
        }
    }

    /// Go back to a saved view: its filter, sort, scroll and selection
    /// (the selection follows its row if the rows moved meanwhile).
    fn restore(&mut self, view: View) {
        if view.kind != self.kind {
            self.list = None;
        }
        self.kind = view.kind;
        self.namespace = view.namespace;
        self.selector = view.selector;
        self.filter = view.filter;
        self.sort = view.sort;
        self.descending = view.descending;
        self.offset = view.offset;
        self.cursor = view.cursor;
        self.selected_uid = view.selected_uid;
        self.jumped = view.jumped;
    }

    /// The plural of a kind as typed, as the status stream names it.
    fn plural_of(&self, typed: &str) -> String {
        self.statuses
            .iter()
            .find(|k| {
                k.kind == typed || k.singular == typed || k.short_names.iter().any(|s| s == typed)
            })
            .map_or_else(|| typed.to_string(), |k| k.kind.clone())
    }

    /// Back to the first row. The old rows stay on screen until the new
    /// answer replaces them, so nothing flickers.
    fn reset_window(&mut self) {
        self.offset = 0;
        self.cursor = 0;
        self.selected_uid = None;
    }

    fn switch_kind(&mut self, kind: &str) -> Effect {
        let current = self.save();
        self.remembered
            .insert(self.current_kind_plural(), current.clone());
        self.back.push(current);
        self.picking_namespace = false;
        self.switching_kind = true;
        self.list = None;
        // Each kind keeps its filter, sort, scroll and selection from the
        // last visit (the namespace scope stays the current one).
        match self.remembered.get(&self.plural_of(kind)).cloned() {
            Some(view) => {
                let namespace = self.namespace.clone();
                self.restore(view);
                self.namespace = namespace;
                self.jumped = false;
            }
            None => {
                self.filter.clear();
                self.selector.clear();
                self.sort.clear();
                self.descending = false;
                self.jumped = false;
                self.reset_window();
            }
        }
        self.kind = kind.to_string();
        self.requery()
    }

    fn move_cursor(&mut self, delta: i64) -> Effect {
        let matched = i64::from(self.matched());
        if matched == 0 {
            return Effect::None;
        }
        let target = (i64::from(self.cursor) + delta).clamp(0, matched - 1) as u32;
        self.cursor = target;
        let before = self.offset;
        self.scroll_to_cursor();
        self.selected_uid = self.selected().map(|r| r.uid.clone());
        if self.offset != before {
            self.selected_uid = None;
            return self.requery();
        }
        Effect::None
    }

    /// The plural of the kind shown (the daemon's answer, else as typed).
    pub(crate) fn current_kind_plural(&self) -> String {
        self.list
            .as_ref()
            .and_then(|l| l.kind.as_ref())
            .map(|k| k.plural.clone())
            .unwrap_or_else(|| self.kind.clone())
    }

    fn get_selected(&mut self, format: ObjectFormat, purpose: Purpose) -> Effect {
        let Some(row) = self.selected() else {
            self.message = Some(("nothing selected".into(), true));
            return Effect::None;
        };
        Effect::Get(
            GetRequest {
                context: self.context.clone(),
                kind: self.current_kind_plural(),
                namespace: row.namespace.clone(),
                name: row.name.clone(),
                format: format as i32,
                ..GetRequest::default()
            },
            purpose,
        )
    }

    /// Names `:` completes: kinds (plural, singular, short) and commands.
    pub fn completions(&self) -> Vec<String> {
        let mut names: Vec<String> = vec!["ns".into(), "ctx".into(), "pf".into(), "quit".into()];
        for kind in &self.statuses {
            names.push(kind.kind.clone());
            names.push(kind.singular.clone());
            names.extend(kind.short_names.iter().cloned());
        }
        names.sort();
        names.dedup();
        names.retain(|n| !n.is_empty());
        names
    }

    /// Completions of what is typed after ':'.
    pub fn candidates(&self) -> Vec<String> {
        let typed = self.input.trim_start();
        if typed.contains(' ') {
            return Vec::new();
        }
        self.completions()
            .into_iter()
            .filter(|c| c.starts_with(typed))
            .collect()
    }

    fn complete(&mut self) {
        let candidates = self.candidates();
        let Some(first) = candidates.first() else {
            return;
        };
        let mut common = first.clone();
        for candidate in &candidates[1..] {
            while !candidate.starts_with(&common) {
                common.pop();
            }
        }
        if common.len() > self.input.trim_start().len() {
            self.input = common;
        }
    }

    fn run_command(&mut self, line: &str) -> Effect {
        let mut words = line.split_whitespace();
        let Some(command) = words.next() else {
            return Effect::None;
        };
        let argument = words.next();
        match (command, argument) {
            ("q" | "q!" | "quit", _) => Effect::Quit,
            ("ns" | "namespace" | "namespaces", Some(ns)) => {
                self.namespace = if ns == "all" || ns == "0" {
                    Scope::All
                } else {
                    Scope::Named(ns.to_string())
                };
                self.reset_window();
                self.requery()
            }
            ("ns" | "namespace" | "namespaces", None) => {
                let effect = self.switch_kind("namespaces");
                self.picking_namespace = true;
                effect
            }
            ("ctx" | "context", Some(name)) => {
                if name == self.context_name {
                    return Effect::None;
                }
                // The daemon starts the context's caches on first use.
                self.context = name.to_string();
                self.context_name = name.to_string();
                self.statuses.clear();
                self.message = Some((format!("context: {name}"), false));
                self.reset_window();
                self.requery()
            }
            ("ctx" | "context", None) => {
                self.message = Some((
                    format!("context: {} (:ctx NAME switches)", self.context_name),
                    false,
                ));
                Effect::None
            }
            ("pf" | "portforward" | "portforwards", _) => self.show_forwards(),
            (kind, _) => self.switch_kind(kind),
        }
    }

    /// Apply an action.
    pub fn apply(&mut self, action: Action) -> Effect {
        if action == Action::Quit {
            return Effect::Quit;
        }
        if self.help {
            self.help = false;
            return Effect::None;
        }
        match self.mode {
            Mode::Filter => self.apply_filter(action),
            Mode::Command => self.apply_command(action),
            Mode::TextSearch => self.apply_text_search(action),
            Mode::Text => self.apply_text(action),
            Mode::Logs => self.apply_logs(action),
            Mode::LogSearch => self.apply_log_search(action),
            Mode::Confirm => self.apply_confirm(action),
            Mode::Prompt => self.apply_prompt(action),
            Mode::Table | Mode::Help => self.apply_table(action),
        }
    }

    fn apply_filter(&mut self, action: Action) -> Effect {
        match action {
            Action::Type(c) => self.input.push(c),
            Action::Backspace => {
                self.input.pop();
            }
            Action::Enter => {
                self.mode = Mode::Table;
                return Effect::None;
            }
            Action::Back => {
                self.mode = Mode::Table;
                self.input.clear();
            }
            Action::Move(delta) => return self.move_cursor(delta),
            _ => return Effect::None,
        }
        let (filter, selector) = split_filter(&self.input);
        let selector = selector.unwrap_or_else(|| self.selector.clone());
        if filter == self.filter && selector == self.selector {
            return Effect::None;
        }
        self.filter = filter;
        self.selector = selector;
        self.offset = 0;
        self.cursor = 0;
        self.selected_uid = None;
        self.requery()
    }

    fn apply_command(&mut self, action: Action) -> Effect {
        match action {
            Action::Type(c) => self.input.push(c),
            Action::Backspace => {
                self.input.pop();
            }
            Action::Complete => self.complete(),
            Action::Back => {
                self.mode = Mode::Table;
                self.input.clear();
            }
            Action::Enter => {
                self.mode = Mode::Table;
                let line = std::mem::take(&mut self.input);
                return self.run_command(&line);
            }
            _ => {}
        }
        Effect::None
    }

    fn apply_table(&mut self, action: Action) -> Effect {
        self.message = None;
        match action {
            Action::Move(delta) => self.move_cursor(delta),
            Action::Page(pages) => self.move_cursor(pages * i64::from(self.page)),
            Action::Top => self.move_cursor(-i64::from(self.cursor)),
            Action::Bottom => self.move_cursor(i64::from(self.matched())),
            Action::StartFilter => {
                // The line edits the filter terms; the selector (typed with -l
                // or set by a drill-down) stays unless the line names another.
                self.mode = Mode::Filter;
                self.input = self.filter.clone();
                Effect::None
            }
            Action::StartCommand => {
                self.mode = Mode::Command;
                self.input.clear();
                Effect::None
            }
            Action::Help => {
                self.help = true;
                Effect::None
            }
            Action::Describe => self.get_selected(ObjectFormat::Json, Purpose::Describe),
            Action::JumpOwner => self.get_selected(ObjectFormat::Json, Purpose::Owner),
            Action::ToggleWide => {
                self.wide = !self.wide;
                Effect::None
            }
            Action::Yaml => self.get_selected(ObjectFormat::Yaml, Purpose::Yaml),
            Action::Back => {
                let jumped = std::mem::take(&mut self.jumped);
                if !jumped
                    && (!self.filter.is_empty()
                        || !self.selector.is_empty() && self.back.is_empty())
                {
                    self.filter.clear();
                    self.input.clear();
                    if self.back.is_empty() {
                        self.selector.clear();
                    }
                    self.reset_window();
                    return self.requery();
                }
                match self.back.pop() {
                    Some(previous) => {
                        self.picking_namespace = false;
                        self.restore(previous);
                        self.requery()
                    }
                    None => Effect::None,
                }
            }
            Action::AllNamespaces => {
                self.namespace = Scope::All;
                if self.picking_namespace
                    && let Some(previous) = self.back.pop()
                {
                    self.picking_namespace = false;
                    self.kind = previous.kind;
                    self.filter = previous.filter;
                    self.selector = previous.selector;
                }
                self.reset_window();
                self.requery()
            }
            Action::Enter => self.open_selected(),
            Action::SortStatus => self.sort_by_column(&["STATUS"], false),
            Action::SortReady => self.sort_by_column(&["RESTARTS", "READY"], true),
            Action::Logs { .. }
            | Action::Delete
            | Action::Kill
            | Action::Scale
            | Action::Restart
            | Action::Cordon(_)
            | Action::Trigger
            | Action::Edit => self.act(action),
            Action::Forward => self.forward_selected(),
            Action::SortUsage(memory) => {
                if !self.shows_metrics() {
                    self.message =
                        Some(("CPU and memory are shown for pods and nodes".into(), true));
                    return Effect::None;
                }
                // Highest first, as k9s sorts them.
                self.sort = if memory { "MEM" } else { "CPU" }.into();
                self.descending = true;
                self.reset_window();
                self.requery()
            }
            Action::SortName => self.sort_by_column(&["NAME"], false),
            Action::SortAge => {
                // Newest first; again: oldest first.
                self.descending = self.sort.is_empty() && !self.descending;
                self.sort.clear();
                self.reset_window();
                self.requery()
            }
            _ => Effect::None,
        }
    }

    /// Sort by the first of `columns` the kind has; the same key again
    /// reverses the order (k9s).
    fn sort_by_column(&mut self, columns: &[&str], descending: bool) -> Effect {
        let names: Vec<String> = self
            .list
            .as_ref()
            .map(|l| l.columns.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default();
        let Some(column) = columns
            .iter()
            .find(|c| **c == "NAME" || names.iter().any(|n| n == *c))
        else {
            self.message = Some((
                format!("this kind has no {} column", columns.join(" or ")),
                true,
            ));
            return Effect::None;
        };
        if self.sort == *column {
            self.descending = !self.descending;
        } else {
            self.sort = (*column).to_string();
            self.descending = descending;
        }
        self.reset_window();
        self.requery()
    }

    fn open_selected(&mut self) -> Effect {
        let Some(row) = self.selected().cloned() else {
            return Effect::None;
        };
        let plural = self.current_kind_plural();
        if plural == "namespaces" {
            let previous = if self.picking_namespace {
                self.back.pop()
            } else {
                None
            };
            self.back.push(self.save());
            self.picking_namespace = false;
            self.namespace = Scope::Named(row.name.clone());
            match previous {
                Some(previous) => {
                    self.kind = previous.kind;
                    self.filter = previous.filter;
                    self.selector = previous.selector;
                }
                None => {
                    self.kind = "pods".into();
                    self.filter.clear();
                    self.selector.clear();
                }
            }
            self.reset_window();
            return self.requery();
        }
        if WORKLOADS.contains(&plural.as_str()) {
            return self.get_selected(ObjectFormat::Json, Purpose::DrillDown);
        }
        if plural == "pods" {
            return self.get_selected(ObjectFormat::Json, Purpose::Containers);
        }
        self.get_selected(ObjectFormat::Json, Purpose::Describe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use timoneiro_proto::v1::{Cell, Column};

    fn row(name: &str) -> Row {
        Row {
            namespace: "shop".into(),
            name: name.into(),
            uid: format!("uid-{name}"),
            cells: vec![Cell {
                text: name.into(),
                since_unix_ms: 0,
            }],
            ..Row::default()
        }
    }

    fn answer(names: &[&str], matched: u64) -> ListResponse {
        ListResponse {
            columns: vec![
                Column {
                    name: "NAME".into(),
                    wide: false,
                },
                Column {
                    name: "STATUS".into(),
                    wide: false,
                },
            ],
            rows: names.iter().map(|n| row(n)).collect(),
            total: matched,
            matched,
            ..ListResponse::default()
        }
    }

    fn app() -> App {
        let mut app = App::new(String::new(), "pods".into(), Scope::All);
        app.page = 3;
        app
    }

    #[test]
    fn selection_follows_the_object_across_updates() {
        let mut app = app();
        app.on_list(0, answer(&["a", "b", "c"], 3));
        assert_eq!(app.apply(Action::Move(1)), Effect::None);
        assert_eq!(app.selected().map(|r| r.name.as_str()), Some("b"));
        // A new pod sorts first: "b" moves down, and stays selected.
        app.on_list(0, answer(&["new", "a", "b"], 4));
        assert_eq!(app.cursor, 2);
        assert_eq!(app.selected().map(|r| r.name.as_str()), Some("b"));
        // Answers of an older query are ignored.
        app.on_list(7, answer(&["x"], 1));
        assert_eq!(app.rows().len(), 3);
    }

    #[test]
    fn the_end_of_a_text_view_shows_its_last_page() {
        let mut app = app();
        app.page = 20;
        app.show_text("t".into(), (0..100).map(|i| i.to_string()).collect());
        app.apply(Action::Bottom);
        // Lines 80–99 fill the page: the last line at the bottom.
        assert_eq!(app.text.as_ref().map(|t| t.scroll), Some(80));
    }

    #[test]
    fn moving_past_the_window_queries_the_next_window() {
        let mut app = app();
        app.on_list(0, answer(&["a", "b", "c"], 10));
        app.apply(Action::Move(1));
        app.apply(Action::Move(1));
        assert_eq!(app.apply(Action::Move(1)), Effect::Query);
        assert_eq!((app.offset, app.cursor), (1, 3));
        assert_eq!(app.request().offset, 1);
        assert_eq!(app.request().limit, 3);
        assert_eq!(app.apply(Action::Bottom), Effect::Query);
        assert_eq!((app.offset, app.cursor), (7, 9));
        assert_eq!(app.apply(Action::Top), Effect::Query);
        assert_eq!((app.offset, app.cursor), (0, 0));
    }

    #[test]
    fn typing_a_filter_queries_on_every_key_and_esc_clears_it() {
        let mut app = app();
        assert_eq!(app.apply(Action::StartFilter), Effect::None);
        assert_eq!(app.mode, Mode::Filter);
        assert_eq!(app.apply(Action::Type('w')), Effect::Query);
        assert_eq!(app.apply(Action::Type('e')), Effect::Query);
        assert_eq!(app.request().filter, "we");
        assert_eq!(
            app.apply(Action::Type(' ')),
            Effect::None,
            "a trailing space changes nothing"
        );
        for c in "-l app=web".chars() {
            app.apply(Action::Type(c));
        }
        assert_eq!(
            (app.filter.as_str(), app.selector.as_str()),
            ("we", "app=web")
        );
        app.apply(Action::Enter);
        assert_eq!(app.mode, Mode::Table);
        assert_eq!(app.apply(Action::Back), Effect::Query);
        assert_eq!((app.filter.as_str(), app.selector.as_str()), ("", ""));
    }

    #[test]
    fn ctx_switches_the_context_of_every_query() {
        let mut app = app();
        app.context_name = "default-ctx".into();
        app.apply(Action::StartCommand);
        for c in "ctx staging".chars() {
            app.apply(Action::Type(c));
        }
        assert_eq!(app.apply(Action::Enter), Effect::Query);
        assert_eq!(app.context_name, "staging");
        assert_eq!(app.request().context, "staging");
        assert!(
            app.statuses.is_empty(),
            "the other context's statuses are dropped"
        );
    }

    #[test]
    fn commands_switch_kinds_and_namespaces_with_completion() {
        let mut app = app();
        app.statuses = vec![
            KindStatus {
                kind: "deployments".into(),
                singular: "deployment".into(),
                short_names: vec!["deploy".into()],
                ..KindStatus::default()
            },
            KindStatus {
                kind: "daemonsets".into(),
                singular: "daemonset".into(),
                short_names: vec!["ds".into()],
                ..KindStatus::default()
            },
        ];
        app.apply(Action::StartCommand);
        app.apply(Action::Type('d'));
        app.apply(Action::Type('e'));
        app.apply(Action::Complete);
        assert_eq!(
            app.input, "deploy",
            "longest common prefix of deploy, deployment, deployments"
        );
        assert_eq!(app.apply(Action::Enter), Effect::Query);
        assert_eq!(app.kind, "deploy");
        app.apply(Action::StartCommand);
        for c in "ns kube-system".chars() {
            app.apply(Action::Type(c));
        }
        assert_eq!(app.apply(Action::Enter), Effect::Query);
        assert_eq!(app.namespace, Scope::Named("kube-system".into()));
        assert_eq!(app.apply(Action::AllNamespaces), Effect::Query);
        assert_eq!(app.namespace, Scope::All);
        // An unknown kind reported by the daemon goes back to where we were.
        app.apply(Action::StartCommand);
        for c in "podz".chars() {
            app.apply(Action::Type(c));
        }
        app.apply(Action::Enter);
        let generation = app.generation;
        assert_eq!(
            app.on_list_error(generation, "unknown kind \"podz\"".into()),
            Effect::Query
        );
        assert_eq!(app.kind, "deploy");
        assert!(
            app.message
                .as_ref()
                .is_some_and(|(m, error)| m.contains("podz") && *error)
        );
        app.apply(Action::StartCommand);
        app.apply(Action::Type('q'));
        assert_eq!(app.apply(Action::Enter), Effect::Quit);
    }

    #[test]
    fn the_namespace_picker_sets_the_namespace_and_returns() {
        let mut app = app();
        app.apply(Action::StartCommand);
        app.apply(Action::Type('n'));
        app.apply(Action::Type('s'));
        app.apply(Action::Enter);
        assert!(app.picking_namespace);
        assert_eq!(app.kind, "namespaces");
        let mut namespaces = answer(&["default", "shop"], 2);
        namespaces.kind = Some(timoneiro_proto::v1::KindInfo {
            plural: "namespaces".into(),
            ..Default::default()
        });
        app.on_list(app.generation, namespaces);
        app.apply(Action::Move(1));
        assert_eq!(app.apply(Action::Enter), Effect::Query);
        assert_eq!(app.kind, "pods");
        assert_eq!(app.namespace, Scope::Named("shop".into()));
    }

    /// An app showing one deployment, "web" in "shop".
    fn deployments_view() -> App {
        let mut app = app();
        app.kind = "deploy".into();
        let mut deployments = answer(&["web"], 1);
        deployments.kind = Some(timoneiro_proto::v1::KindInfo {
            plural: "deployments".into(),
            ..Default::default()
        });
        app.on_list(0, deployments);
        app
    }

    #[test]
    fn workloads_drill_down_to_their_pods_and_esc_returns() {
        let mut app = deployments_view();
        let Effect::Get(request, Purpose::DrillDown) = app.apply(Action::Enter) else {
            panic!("expected a Get")
        };
        assert_eq!(
            (request.kind.as_str(), request.name.as_str()),
            ("deployments", "web")
        );
        let object = r#"{"spec":{"selector":{"matchLabels":{"app":"web","tier":"front"}}}}"#;
        assert_eq!(
            app.on_object(Purpose::DrillDown, &request, Ok(object.into())),
            Effect::Query
        );
        assert_eq!(
            (app.kind.as_str(), app.selector.as_str()),
            ("pods", "app=web,tier=front")
        );
        assert_eq!(app.namespace, Scope::Named("shop".into()));
        assert_eq!(app.apply(Action::Back), Effect::Query);
        assert_eq!((app.kind.as_str(), app.selector.as_str()), ("deploy", ""));
    }

    #[test]
    fn a_half_typed_filter_refused_by_the_daemon_keeps_the_view() {
        let mut app = deployments_view();
        let Effect::Get(request, _) = app.apply(Action::Enter) else {
            panic!("expected a Get")
        };
        let object = r#"{"spec":{"selector":{"matchLabels":{"app":"web"}}}}"#;
        app.on_object(Purpose::DrillDown, &request, Ok(object.into()));
        app.on_list(app.generation, answer(&["web-1"], 1));
        app.apply(Action::StartFilter);
        app.apply(Action::Type('!'));
        let generation = app.generation;
        assert_eq!(
            app.on_list_error(generation, "invalid filter at position 1".into()),
            Effect::None
        );
        assert_eq!(
            (app.kind.as_str(), app.selector.as_str()),
            ("pods", "app=web"),
            "still in the drill-down"
        );
        assert!(app.message.is_some());
        assert_eq!(app.request().filter, "!");
        app.apply(Action::Type('x'));
        app.on_list(app.generation, answer(&[], 0));
        assert!(app.message.is_none(), "a valid filter clears the error");
    }

    #[test]
    fn text_views_scroll_and_find() {
        let mut app = app();
        app.on_list(0, answer(&["a"], 1));
        let request = GetRequest {
            kind: "pods".into(),
            name: "a".into(),
            ..GetRequest::default()
        };
        let yaml =
            "kind: Pod\nmetadata:\n  name: a\nspec:\n  nodeName: n1\nstatus:\n  phase: Running\n";
        app.on_object(Purpose::Yaml, &request, Ok(yaml.into()));
        assert_eq!(app.mode, Mode::Text);
        app.apply(Action::StartFilter);
        assert_eq!(app.mode, Mode::TextSearch);
        for c in "phase".chars() {
            app.apply(Action::Type(c));
        }
        app.apply(Action::Enter);
        assert_eq!(app.text.as_ref().map(|t| t.scroll), Some(6));
        app.apply(Action::Top);
        assert_eq!(app.text.as_ref().map(|t| t.scroll), Some(0));
        // ctrl-d (Delete) pages a text view: nothing to delete there.
        app.set_page(3);
        assert_eq!(app.apply(Action::Delete), Effect::None);
        assert_eq!(app.text.as_ref().map(|t| t.scroll), Some(3));
        app.apply(Action::Back);
        assert_eq!((app.mode, app.text.is_none()), (Mode::Table, true));
    }

    #[test]
    fn the_containers_view_acts_on_the_selected_container() {
        let mut app = app();
        app.on_list(0, answer(&["a"], 1));
        let request = GetRequest {
            kind: "pods".into(),
            namespace: "shop".into(),
            name: "a".into(),
            ..GetRequest::default()
        };
        let pod = r#"{"metadata":{"name":"a","namespace":"shop"},"spec":{"containers":[
            {"name":"app","image":"nginx","ports":[{"containerPort":8080}]},
            {"name":"envoy","image":"envoy","ports":[{"containerPort":9901}]}]}}"#;
        app.on_object(Purpose::Containers, &request, Ok(pod.into()));
        assert_eq!(app.text.as_ref().and_then(|t| t.highlight), Some(1));
        app.apply(Action::Move(1));
        app.apply(Action::Move(1));
        // The selection stops at the last container.
        assert_eq!(app.text.as_ref().and_then(|t| t.highlight), Some(2));
        let Effect::Exec(start) = app.apply(Action::Scale) else {
            panic!("s opens a shell");
        };
        assert_eq!(
            (start.pod.as_str(), start.container.as_str()),
            ("a", "envoy")
        );
        assert!(start.tty && start.stdin);
        assert_eq!(app.apply(Action::Forward), Effect::None);
        assert_eq!((app.mode, app.input.as_str()), (Mode::Prompt, "9901:9901"));
        // Esc goes back to the containers view.
        app.apply(Action::Back);
        assert_eq!(app.mode, Mode::Text);
    }

    #[test]
    fn shift_letters_sort_and_the_same_key_again_reverses() {
        let mut app = app();
        app.on_list(0, answer(&["a"], 1));
        assert_eq!(app.request().sort_by, "");
        app.apply(Action::SortName);
        assert_eq!(app.request().sort_by, "NAME");
        app.apply(Action::SortName);
        assert_eq!(app.request().sort_by, "-NAME");
        app.apply(Action::SortStatus);
        assert_eq!(app.request().sort_by, "STATUS");
        app.apply(Action::SortStatus);
        assert_eq!(app.request().sort_by, "-STATUS");
        app.apply(Action::SortAge);
        assert_eq!(app.request().sort_by, "");
        app.apply(Action::SortAge);
        assert_eq!(app.request().sort_by, "-AGE");
    }

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
