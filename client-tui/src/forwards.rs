//! Shells and port-forwards from the TUI, with k9s's keys: `s` opens a
//! shell in the selected pod (or in the container selected in its
//! containers view), `shift-f` forwards one of its ports after asking for
//! `[LOCAL:]REMOTE` (the first declared port filled in), and `:pf` lists
//! the forwards running, with their connections, `ctrl-d` stopping the
//! selected one. Forwards listen on 127.0.0.1 and live as long as the TUI.

use timoneiro_proto::v1::{ExecStart, GetRequest, ObjectFormat};

use crate::app::{App, Effect, Purpose};
use crate::input::Mode;

/// A pod's port to forward, as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub context: String,
    pub namespace: String,
    pub pod: String,
    pub local: u16,
    /// A number or a container port's name.
    pub remote: String,
}

/// The pod `shift-f` is asking a port for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub context: String,
    pub namespace: String,
    pub pod: String,
}

/// A forward running, as `:pf` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub namespace: String,
    pub pod: String,
    /// The local port listened on (127.0.0.1).
    pub local: u16,
    pub remote: u16,
    pub connections: u64,
    /// The last connection's failure, if any.
    pub error: Option<String>,
    pub started_ms: i64,
}

/// A container of the pod in the containers view: its name and ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerPorts {
    pub name: String,
    pub ports: Vec<u16>,
}

/// The containers of a pod (init containers first), as the containers
/// view lists them.
pub fn containers_of(pod: &serde_json::Value) -> Vec<ContainerPorts> {
    ["initContainers", "containers"]
        .iter()
        .flat_map(|key| pod["spec"][*key].as_array().cloned().unwrap_or_default())
        .map(|c| ContainerPorts {
            name: c["name"].as_str().unwrap_or("").to_string(),
            ports: c["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["containerPort"].as_u64())
                .filter_map(|p| u16::try_from(p).ok())
                .collect(),
        })
        .collect()
}

impl App {
    /// The container selected in the containers view, if it is open.
    pub fn selected_container(&self) -> Option<&ContainerPorts> {
        self.containers_of.as_ref()?;
        let line = self.text.as_ref()?.highlight?;
        self.containers.get(line.checked_sub(1)?)
    }

    /// `s` on a pod (or a container of the containers view): a shell.
    pub(crate) fn shell(&mut self, namespace: String, pod: String, container: String) -> Effect {
        if self.is_readonly() {
            self.message = Some((
                format!("context {} is read-only: no shells", self.acting_context()),
                true,
            ));
            return Effect::None;
        }
        Effect::Exec(ExecStart {
            context: self.context.clone(),
            namespace,
            pod,
            container,
            command: timoneiro_client::exec::SHELL
                .iter()
                .map(|s| s.to_string())
                .collect(),
            stdin: true,
            tty: true,
            size: None,
        })
    }

    /// `shift-f` on a pod row: fetch the pod for its ports, then ask.
    pub(crate) fn forward_selected(&mut self) -> Effect {
        if self.current_kind_plural() != "pods" {
            self.message = Some(("shift-f forwards a pod's port".into(), true));
            return Effect::None;
        }
        let Some(row) = self.selected().cloned() else {
            self.message = Some(("nothing selected".into(), true));
            return Effect::None;
        };
        Effect::Get(
            GetRequest {
                context: self.context.clone(),
                kind: "pods".into(),
                namespace: row.namespace.clone(),
                name: row.name.clone(),
                format: ObjectFormat::Json as i32,
                ..GetRequest::default()
            },
            Purpose::Forward,
        )
    }

    /// Ask for `[LOCAL:]REMOTE`, `port` filled in when the pod declares one.
    pub(crate) fn ask_forward(&mut self, draft: Draft, port: Option<u16>) -> Effect {
        self.input = port.map_or_else(String::new, |p| format!("{p}:{p}"));
        if port.is_none() {
            self.message = Some((
                "the pod declares no ports: type [LOCAL:]REMOTE".into(),
                false,
            ));
        }
        self.forwarding = Some(draft);
        self.mode = Mode::Prompt;
        Effect::None
    }

    /// Enter in the forward prompt.
    pub(crate) fn confirm_forward(&mut self) -> Effect {
        let Some(draft) = self.forwarding.clone() else {
            return Effect::None;
        };
        match timoneiro_client::forward::parse_pair(self.input.trim()) {
            Ok((local, remote)) => {
                self.forwarding = None;
                self.input.clear();
                self.mode = if self.text.is_some() {
                    Mode::Text
                } else {
                    Mode::Table
                };
                Effect::Forward(Request {
                    context: draft.context,
                    namespace: draft.namespace,
                    pod: draft.pod,
                    local,
                    remote,
                })
            }
            Err(problem) => {
                self.message = Some((problem, true));
                Effect::None
            }
        }
    }

    /// A forward started (or could not).
    pub fn on_forward_started(&mut self, result: Result<Row, String>) {
        self.message = Some(match result {
            Ok(row) => {
                let line = format!(
                    "forwarding 127.0.0.1:{} → pods/{}:{} (:pf lists forwards)",
                    row.local, row.pod, row.remote
                );
                self.forwards.push(row);
                self.refresh_forwards();
                (line, false)
            }
            Err(message) => (message, true),
        });
    }

    /// A connection of a forward was accepted, or failed.
    pub fn on_forward_event(&mut self, event: timoneiro_client::forward::Event) {
        use timoneiro_client::forward::Event;
        let local = match &event {
            Event::Handling { local } | Event::Failed { local, .. } => *local,
        };
        let Some(row) = self.forwards.iter_mut().find(|r| r.local == local) else {
            return;
        };
        match event {
            Event::Handling { .. } => row.connections += 1,
            Event::Failed { message, .. } => row.error = Some(message),
        }
        self.refresh_forwards();
    }

    /// `:pf`: the forwards running.
    pub(crate) fn show_forwards(&mut self) -> Effect {
        self.show_text("Port-forwards".into(), Vec::new());
        self.forwards_view = true;
        self.refresh_forwards();
        Effect::None
    }

    /// Redraw the `:pf` list if it is open.
    pub(crate) fn refresh_forwards(&mut self) {
        if !self.forwards_view {
            return;
        }
        let now = timoneiro_client::render::now_unix_ms();
        let mut table = String::from("NAMESPACE\tPOD\tPORTS\tURL\tCONNECTIONS\tAGE\tLAST ERROR\n");
        for row in &self.forwards {
            let age = timoneiro_client::render::human_duration((now - row.started_ms).max(0));
            table.push_str(&format!(
                "{}\t{}\t{}:{}\thttp://127.0.0.1:{}\t{}\t{age}\t{}\n",
                row.namespace,
                row.pod,
                row.local,
                row.remote,
                row.local,
                row.connections,
                row.error.as_deref().unwrap_or("-"),
            ));
        }
        let lines: Vec<String> = timoneiro_client::tabwriter::align_with(&table, 0, 3)
            .lines()
            .map(|l| l.trim_end().to_string())
            .collect();
        if let Some(text) = self.text.as_mut() {
            let rows = lines.len().saturating_sub(1);
            text.lines = lines;
            text.highlight = match (rows, text.highlight) {
                (0, _) => None,
                (rows, Some(line)) => Some(line.clamp(1, rows)),
                (_, None) => Some(1),
            };
        }
    }

    /// `ctrl-d` in `:pf`: stop the selected forward.
    pub(crate) fn stop_selected_forward(&mut self) -> Effect {
        let Some(index) = self
            .text
            .as_ref()
            .and_then(|t| t.highlight)
            .and_then(|line| line.checked_sub(1))
            .filter(|i| *i < self.forwards.len())
        else {
            return Effect::None;
        };
        let row = self.forwards.remove(index);
        self.message = Some((format!("stopped forwarding 127.0.0.1:{}", row.local), false));
        self.refresh_forwards();
        Effect::StopForward(row.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Scope;
    use crate::input::Action;

    fn pod() -> serde_json::Value {
        serde_json::json!({
            "metadata": {"name": "web-1", "namespace": "shop"},
            "spec": {
                "initContainers": [{"name": "init"}],
                "containers": [
                    {"name": "app", "ports": [{"name": "http", "containerPort": 8080}]},
                    {"name": "envoy", "ports": [{"containerPort": 9901}]}
                ]
            },
            "status": {}
        })
    }

    #[test]
    fn containers_and_their_ports() {
        let containers = containers_of(&pod());
        let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["init", "app", "envoy"]);
        assert_eq!(containers[1].ports, [8080]);
    }

    #[test]
    fn the_forward_prompt_and_the_list() {
        let mut app = App::new(String::new(), "pods".into(), Scope::All);
        let draft = Draft {
            context: String::new(),
            namespace: "shop".into(),
            pod: "web-1".into(),
        };
        app.ask_forward(draft, Some(8080));
        assert_eq!(app.mode, Mode::Prompt);
        assert_eq!(app.input, "8080:8080");
        // A name is a port too; a bad pair says why and stays.
        app.input = "x:y".into();
        assert_eq!(app.apply(Action::Enter), Effect::None);
        assert!(app.message.as_ref().is_some_and(|m| m.1));
        app.input = "18080:http".into();
        let effect = app.apply(Action::Enter);
        assert_eq!(
            effect,
            Effect::Forward(Request {
                context: String::new(),
                namespace: "shop".into(),
                pod: "web-1".into(),
                local: 18080,
                remote: "http".into(),
            })
        );
        app.on_forward_started(Ok(Row {
            namespace: "shop".into(),
            pod: "web-1".into(),
            local: 18080,
            remote: 8080,
            connections: 0,
            error: None,
            started_ms: timoneiro_client::render::now_unix_ms(),
        }));
        app.on_forward_event(timoneiro_client::forward::Event::Handling { local: 18080 });
        app.show_forwards();
        let text = app.text.as_ref().unwrap();
        assert!(text.lines[0].starts_with("NAMESPACE"), "{:?}", text.lines);
        assert!(text.lines[1].contains("18080:8080"), "{:?}", text.lines);
        assert!(text.lines[1].contains("http://127.0.0.1:18080"));
        assert_eq!(text.highlight, Some(1));
        assert_eq!(app.apply(Action::Delete), Effect::StopForward(18080));
        assert!(app.forwards.is_empty());
    }
}
