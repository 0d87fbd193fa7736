//! Acting on the selected row: logs (`l`, `p`), delete (`ctrl-d`), kill
//! (`ctrl-k`), scale (`s`; a shell on pods, see `forwards.rs`), rollout
//! restart (`r`), cordon and uncordon (`c`, `u`) and trigger (`t`), with
//! k9s's keys. Whatever changes the
//! cluster asks first (or, for scale, asks for the replicas); on a
//! read-only context those keys only say why they do nothing. The result
//! reaches the table through the cache's watch like any other change.

use timoneiro_proto::v1::{
    ActionResponse, CordonRequest, DeleteRequest, GetRequest, LogsRequest, ObjectFormat,
    RestartRequest, ScaleRequest, TriggerCronJobRequest,
};

use crate::app::{App, Effect, Purpose, WORKLOADS};
use crate::input::{Action, Mode};
use crate::logview::LogView;

/// A request that changes the cluster.
#[derive(Debug, Clone, PartialEq)]
pub enum Act {
    Delete(DeleteRequest),
    Scale(ScaleRequest),
    Restart(RestartRequest),
    Cordon(CordonRequest),
    Drain(timoneiro_proto::v1::DrainRequest),
    Trigger(TriggerCronJobRequest),
}

/// How long a drain from the TUI may take before it gives up.
pub const DRAIN_TIMEOUT_SECONDS: u64 = 300;

/// Kinds `s` scales.
pub const SCALABLE: &[&str] = &["deployments", "statefulsets", "replicasets"];
/// Kinds `r` restarts.
pub const RESTARTABLE: &[&str] = &["deployments", "statefulsets", "daemonsets"];

/// The actions a kind offers, as the help lists them: (keys, what).
pub fn keys_for(plural: &str) -> Vec<(&'static str, &'static str)> {
    let mut keys = Vec::new();
    if plural == "pods" {
        keys.push(("l p", "logs / logs of the previous container instance"));
        keys.push(("s", "shell (bash, else sh) in the default container"));
        keys.push(("F", "port-forward (asks [LOCAL:]REMOTE; :pf lists them)"));
        keys.push(("^k", "kill (delete at once, grace period 0; asks first)"));
    }
    if WORKLOADS.contains(&plural) {
        keys.push(("l", "logs of every pod, pods joining as they start"));
    }
    if SCALABLE.contains(&plural) {
        keys.push(("s", "scale (asks for the replicas)"));
    }
    if RESTARTABLE.contains(&plural) {
        keys.push(("r", "rollout restart (asks first)"));
    }
    if plural == "nodes" {
        keys.push(("c u", "cordon / uncordon (asks first)"));
        keys.push(("r", "drain: cordon and evict its pods (asks first)"));
    }
    if plural == "cronjobs" {
        keys.push(("t", "trigger: run a job now (asks first)"));
    }
    if !(plural == "secrets" || plural == "events") {
        keys.push(("e", "edit in $KUBE_EDITOR / $EDITOR"));
    }
    keys.push(("^d", "delete (asks first)"));
    keys
}

/// Whether a key of `keys_for` changes the cluster (hidden when read-only).
pub fn mutates(keys: &str) -> bool {
    !(keys.starts_with('l') || keys == "F")
}

impl App {
    /// The context actions go to, by name.
    pub fn acting_context(&self) -> &str {
        if self.context.is_empty() {
            &self.context_name
        } else {
            &self.context
        }
    }

    /// Whether the daemon refuses actions on the current context.
    pub fn is_readonly(&self) -> bool {
        let context = self.acting_context();
        self.readonly_contexts.iter().any(|c| c == context)
    }

    fn refuse(&mut self, message: String) -> Effect {
        self.message = Some((message, true));
        Effect::None
    }

    /// Ask `question`; `y` sends `act`.
    fn ask(&mut self, question: String, act: Act) -> Effect {
        self.pending = Some((question, act));
        self.mode = Mode::Confirm;
        Effect::None
    }

    /// A table action on the selected row.
    pub(crate) fn act(&mut self, action: Action) -> Effect {
        let plural = self.current_kind_plural();
        let Some(row) = self.selected().cloned() else {
            return self.refuse("nothing selected".into());
        };
        let object = format!("{plural}/{}", row.name);
        // k9s: s is a shell on pods, scale on workloads.
        if action == Action::Scale && plural == "pods" {
            return self.shell(row.namespace.clone(), row.name.clone(), String::new());
        }
        if !matches!(action, Action::Logs { .. }) && self.is_readonly() {
            return self.refuse(format!(
                "context {} is read-only: no deletes, scaling, restarts or cordons",
                self.acting_context()
            ));
        }
        let context = self.context.clone();
        match action {
            Action::Logs { previous } => self.logs_of(&row, plural, previous),
            Action::Delete | Action::Kill => self.delete(&row, plural, action == Action::Kill),
            Action::Scale => {
                if !SCALABLE.contains(&plural.as_str()) {
                    return self.refuse(format!("s scales {}", SCALABLE.join(", ")));
                }
                self.scaling = Some(ScaleRequest {
                    context,
                    kind: plural,
                    namespace: row.namespace.clone(),
                    name: row.name.clone(),
                    replicas: 0,
                });
                self.input.clear();
                self.mode = Mode::Prompt;
                Effect::None
            }
            // k9s: r drains a node.
            Action::Restart if plural == "nodes" => self.drain(&row),
            Action::Restart => {
                if !RESTARTABLE.contains(&plural.as_str()) {
                    return self.refuse(format!("r restarts {}", RESTARTABLE.join(", ")));
                }
                let request = RestartRequest {
                    context,
                    kind: plural,
                    namespace: row.namespace.clone(),
                    name: row.name.clone(),
                };
                self.ask(format!("Restart {object}?"), Act::Restart(request))
            }
            Action::Cordon(unschedulable) => {
                if plural != "nodes" {
                    return self.refuse("c and u cordon and uncordon nodes".into());
                }
                let request = CordonRequest {
                    context,
                    node: row.name.clone(),
                    unschedulable,
                };
                let verb = if unschedulable { "Cordon" } else { "Uncordon" };
                self.ask(format!("{verb} {object}?"), Act::Cordon(request))
            }
            Action::Edit => {
                if plural == "secrets" {
                    return self.refuse(
                        "secrets are not edited here: their values never pass through timoneirod (use kubectl edit)"
                            .into(),
                    );
                }
                Effect::Edit(timoneiro_client::edit::Target {
                    context,
                    kind: plural,
                    namespace: row.namespace.clone(),
                    name: row.name.clone(),
                })
            }
            Action::Trigger => {
                if plural != "cronjobs" {
                    return self.refuse("t triggers cronjobs".into());
                }
                let request = TriggerCronJobRequest {
                    context,
                    namespace: row.namespace.clone(),
                    cronjob: row.name.clone(),
                    job_name: String::new(),
                };
                self.ask(
                    format!("Trigger {object} (run a job now)?"),
                    Act::Trigger(request),
                )
            }
            _ => Effect::None,
        }
    }

    /// `l` (and `p`, previous): a pod's logs, or every pod's of a workload.
    fn logs_of(
        &mut self,
        row: &timoneiro_proto::v1::Row,
        plural: String,
        previous: bool,
    ) -> Effect {
        let context = self.context.clone();
        let object = format!("{plural}/{}", row.name);
        if plural == "pods" {
            return Effect::Get(
                GetRequest {
                    context,
                    kind: plural,
                    namespace: row.namespace.clone(),
                    name: row.name.clone(),
                    format: ObjectFormat::Json as i32,
                    ..GetRequest::default()
                },
                Purpose::Logs { previous },
            );
        }
        if !WORKLOADS.contains(&plural.as_str()) || previous {
            return self.refuse(format!(
                "l shows the logs of pods and of {}",
                WORKLOADS.join(", ")
            ));
        }
        let base = LogsRequest {
            context,
            namespace: row.namespace.clone(),
            target: format!("{plural}/{}", row.name),
            ..LogsRequest::default()
        };
        self.open_logs(object, base, Vec::new(), false)
    }

    /// `ctrl-d` deletes anything, `ctrl-k` kills a pod at once: asked first.
    fn delete(&mut self, row: &timoneiro_proto::v1::Row, plural: String, kill: bool) -> Effect {
        let context = self.context.clone();
        let object = format!("{plural}/{}", row.name);
        if kill && plural != "pods" {
            return self.refuse("ctrl-k kills pods; ctrl-d deletes anything".into());
        }
        let request = DeleteRequest {
            context,
            kind: plural,
            namespace: row.namespace.clone(),
            names: vec![row.name.clone()],
            grace_period_seconds: if kill { 0 } else { -1 },
            force: kill,
        };
        let question = if kill {
            format!("Kill {object} now (grace period 0, without waiting for its node)?")
        } else {
            format!("Delete {object}?")
        };
        self.ask(question, Act::Delete(request))
    }

    /// `r` on a node: drain it (asked first).
    fn drain(&mut self, row: &timoneiro_proto::v1::Row) -> Effect {
        let context = self.context.clone();
        let object = format!("nodes/{}", row.name);
        let request = timoneiro_proto::v1::DrainRequest {
            context,
            node: row.name.clone(),
            ignore_daemonsets: true,
            delete_emptydir_data: true,
            force: false,
            timeout_seconds: DRAIN_TIMEOUT_SECONDS,
        };
        self.ask(
            format!(
                "Drain {object} (cordon, evict its pods but DaemonSets', emptyDir data lost; gives up after {}m)?",
                DRAIN_TIMEOUT_SECONDS / 60
            ),
            Act::Drain(request),
        )
    }

    /// `y` or anything else, to the question asked.
    pub(crate) fn apply_confirm(&mut self, action: Action) -> Effect {
        self.mode = Mode::Table;
        let pending = self.pending.take();
        match (action, pending) {
            (Action::Enter, Some((_, act))) => Effect::Act(act),
            _ => {
                self.message = Some(("cancelled".into(), false));
                Effect::None
            }
        }
    }

    /// Typing the replicas to scale to.
    pub(crate) fn apply_prompt(&mut self, action: Action) -> Effect {
        match action {
            // A port pair (`8080:http`) or a number of replicas.
            Action::Type(c)
                if self.forwarding.is_some()
                    && self.input.len() < 24
                    && (c.is_ascii_alphanumeric() || c == ':' || c == '-') =>
            {
                self.input.push(c)
            }
            Action::Type(c)
                if self.forwarding.is_none() && c.is_ascii_digit() && self.input.len() < 6 =>
            {
                self.input.push(c)
            }
            Action::Backspace => {
                self.input.pop();
            }
            Action::Enter if self.forwarding.is_some() => return self.confirm_forward(),
            Action::Back => {
                self.mode = if self.text.is_some() {
                    Mode::Text
                } else {
                    Mode::Table
                };
                self.scaling = None;
                self.forwarding = None;
                self.input.clear();
            }
            Action::Enter => {
                let Ok(replicas) = self.input.parse::<u32>() else {
                    self.message = Some(("type the number of replicas".into(), true));
                    return Effect::None;
                };
                self.mode = Mode::Table;
                self.input.clear();
                if let Some(mut request) = self.scaling.take() {
                    request.replicas = replicas;
                    return Effect::Act(Act::Scale(request));
                }
            }
            _ => {}
        }
        Effect::None
    }

    /// A line of a long action's progress (a drain's).
    pub fn on_progress(&mut self, line: String) {
        self.message = Some((line, false));
    }

    /// The daemon's answer to an action.
    pub fn on_acted(&mut self, result: Result<ActionResponse, String>) {
        self.message = Some(match result {
            Ok(answer) if answer.errors.is_empty() => (answer.results.join("; "), false),
            Ok(answer) => (answer.errors.join("; "), true),
            Err(message) => (message, true),
        });
    }

    /// Open the log view on `base`, asking for its stream.
    pub(crate) fn open_logs(
        &mut self,
        title: String,
        base: LogsRequest,
        containers: Vec<String>,
        previous: bool,
    ) -> Effect {
        let mut view = LogView::new(title, base, containers, self.log_capacity);
        view.previous = previous;
        self.log_generation += 1;
        view.restart(self.log_generation);
        let request = view.request();
        self.logs = Some(view);
        self.mode = Mode::Logs;
        Effect::Logs(self.log_generation, request)
    }

    /// The pod object arrived for `l`/`p`: its containers for the picker.
    pub(crate) fn logs_of_pod(
        &mut self,
        request: &GetRequest,
        pod: &serde_json::Value,
        previous: bool,
    ) -> Effect {
        let containers: Vec<String> = ["initContainers", "containers"]
            .iter()
            .flat_map(|key| pod["spec"][*key].as_array().cloned().unwrap_or_default())
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect();
        let base = LogsRequest {
            context: request.context.clone(),
            namespace: request.namespace.clone(),
            target: request.name.clone(),
            ..LogsRequest::default()
        };
        self.open_logs(format!("pods/{}", request.name), base, containers, previous)
    }

    /// Keys in the log view.
    pub(crate) fn apply_logs(&mut self, action: Action) -> Effect {
        let height = self.page.max(1) as usize;
        let Some(view) = self.logs.as_mut() else {
            self.mode = Mode::Table;
            return Effect::None;
        };
        let restart = match action {
            Action::Back => {
                self.logs = None;
                // Back to the containers view when the logs came from there.
                self.mode = if self.text.is_some() {
                    Mode::Text
                } else {
                    Mode::Table
                };
                return Effect::StopLogs;
            }
            Action::Help => {
                self.help = true;
                false
            }
            Action::Move(delta) => {
                view.scroll_by(delta, height);
                false
            }
            Action::Page(pages) => {
                view.scroll_by(pages * height as i64, height);
                false
            }
            Action::Top => {
                view.top();
                false
            }
            Action::Bottom => {
                view.bottom();
                false
            }
            Action::StartFilter => {
                self.mode = Mode::LogSearch;
                self.input.clear();
                false
            }
            Action::NextMatch => {
                view.find(true, height);
                false
            }
            Action::Log(key) => view.key(key, height),
            _ => false,
        };
        if !restart {
            return Effect::None;
        }
        self.log_generation += 1;
        view.restart(self.log_generation);
        Effect::Logs(self.log_generation, view.request())
    }

    /// Typing a search in the log view.
    pub(crate) fn apply_log_search(&mut self, action: Action) -> Effect {
        let height = self.page.max(1) as usize;
        match action {
            Action::Type(c) => self.input.push(c),
            Action::Backspace => {
                self.input.pop();
            }
            Action::Back => {
                self.mode = Mode::Logs;
                self.input.clear();
            }
            Action::Enter => {
                self.mode = Mode::Logs;
                if let Some(view) = self.logs.as_mut() {
                    view.search = std::mem::take(&mut self.input);
                    view.follow = false;
                    view.scroll = view.lines.len();
                    view.find(true, height);
                }
            }
            _ => {}
        }
        Effect::None
    }

    /// A batch of log lines (or notices) of stream `generation`.
    pub fn on_log_batch(&mut self, generation: u64, batch: timoneiro_proto::v1::LogsResponse) {
        if let Some(view) = self.logs.as_mut() {
            view.take(generation, batch);
        }
    }

    /// Stream `generation` ended.
    pub fn on_log_end(&mut self, generation: u64, error: Option<String>) {
        if let Some(view) = self.logs.as_mut() {
            view.end(generation, error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Scope;
    use timoneiro_proto::v1::{KindInfo, ListResponse, Row};

    fn app_on(plural: &str, names: &[&str]) -> App {
        let mut app = App::new(String::new(), plural.into(), Scope::Named("shop".into()));
        app.context_name = "lab".into();
        app.on_list(
            0,
            ListResponse {
                kind: Some(KindInfo {
                    plural: plural.into(),
                    ..KindInfo::default()
                }),
                rows: names
                    .iter()
                    .map(|n| Row {
                        namespace: "shop".into(),
                        name: (*n).into(),
                        uid: format!("uid-{n}"),
                        ..Row::default()
                    })
                    .collect(),
                matched: names.len() as u64,
                total: names.len() as u64,
                ..ListResponse::default()
            },
        );
        app
    }

    #[test]
    fn delete_asks_first_and_only_y_sends_it() {
        let mut app = app_on("pods", &["web-1"]);
        assert_eq!(app.apply(Action::Delete), Effect::None);
        assert_eq!(app.mode, Mode::Confirm);
        assert_eq!(
            app.pending.as_ref().map(|p| p.0.as_str()),
            Some("Delete pods/web-1?")
        );
        assert_eq!(
            app.apply(Action::Back),
            Effect::None,
            "anything but y cancels"
        );
        assert_eq!(app.mode, Mode::Table);
        app.apply(Action::Kill);
        match app.apply(Action::Enter) {
            Effect::Act(Act::Delete(request)) => {
                assert_eq!(request.names, vec!["web-1".to_string()]);
                assert_eq!((request.grace_period_seconds, request.force), (0, true));
                assert_eq!(request.namespace, "shop");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn scale_asks_for_the_replicas_and_keys_are_per_kind() {
        let mut app = app_on("deployments", &["web"]);
        app.apply(Action::Scale);
        assert_eq!(app.mode, Mode::Prompt);
        app.apply(Action::Type('3'));
        match app.apply(Action::Enter) {
            Effect::Act(Act::Scale(request)) => {
                assert_eq!((request.name.as_str(), request.replicas), ("web", 3));
            }
            other => panic!("{other:?}"),
        }
        // Nodes are not scaled; pods are not cordoned.
        let mut nodes = app_on("nodes", &["n1"]);
        assert_eq!(nodes.apply(Action::Scale), Effect::None);
        assert!(nodes.message.as_ref().is_some_and(|m| m.1));
        let mut pods = app_on("pods", &["p"]);
        pods.apply(Action::Cordon(true));
        assert_eq!(pods.mode, Mode::Table);
    }

    #[test]
    fn the_containers_view_opens_the_pods_logs_and_esc_comes_back_to_it() {
        let mut app = app_on("pods", &["web-1"]);
        let get = match app.apply(Action::Enter) {
            Effect::Get(request, Purpose::Containers) => request,
            other => panic!("{other:?}"),
        };
        let pod = r#"{"metadata":{"name":"web-1"},"spec":{"containers":[{"name":"app"},{"name":"envoy"}]}}"#;
        app.on_object(Purpose::Containers, &get, Ok(pod.into()));
        assert_eq!(app.mode, Mode::Text);
        let get = match app.apply(Action::Logs { previous: false }) {
            Effect::Get(request, Purpose::Logs { previous: false }) => request,
            other => panic!("{other:?}"),
        };
        match app.on_object(Purpose::Logs { previous: false }, &get, Ok(pod.into())) {
            Effect::Logs(_, request) => assert_eq!(request.target, "web-1"),
            other => panic!("{other:?}"),
        }
        assert_eq!(app.logs.as_ref().map(|l| l.containers.len()), Some(2));
        assert_eq!(app.apply(Action::Back), Effect::StopLogs);
        assert_eq!(app.mode, Mode::Text, "back to the containers");
    }

    #[test]
    fn r_drains_a_node_after_asking() {
        let mut app = app_on("nodes", &["n1"]);
        app.apply(Action::Restart);
        assert!(
            app.pending
                .as_ref()
                .is_some_and(|p| p.0.starts_with("Drain nodes/n1"))
        );
        match app.apply(Action::Enter) {
            Effect::Act(Act::Drain(request)) => {
                assert_eq!(request.node, "n1");
                assert!(request.ignore_daemonsets && !request.force);
                assert_eq!(request.timeout_seconds, DRAIN_TIMEOUT_SECONDS);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_read_only_context_refuses_changes_and_still_shows_logs() {
        let mut app = app_on("deployments", &["web"]);
        app.readonly_contexts = vec!["lab".into()];
        assert_eq!(app.apply(Action::Restart), Effect::None);
        assert_eq!(app.mode, Mode::Table);
        assert!(
            app.message
                .as_ref()
                .is_some_and(|m| m.0.contains("read-only"))
        );
        match app.apply(Action::Logs { previous: false }) {
            Effect::Logs(_, request) => {
                assert_eq!(request.target, "deployments/web");
                assert!(request.follow);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(app.mode, Mode::Logs);
        assert_eq!(app.apply(Action::Back), Effect::StopLogs);
    }
}
