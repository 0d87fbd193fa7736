//! Command line arguments.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};
use clap_complete::engine::ArgValueCompleter;

/// Query the timoneirod cache of your Kubernetes cluster: `kubectl get`
/// answered from memory, with fuzzy filters.
#[derive(Debug, Parser)]
#[command(name = "timoneiro", version, after_help = EXIT_CODES)]
pub struct Args {
    /// Options for every command.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES: &str = "Exit codes:
  0  success
  1  the daemon refused the request (unknown kind, bad filter, selector or sort)
  2  bad command line
  3  the daemon is not running or not reachable, or speaks another protocol
  4  timed out waiting for the kind to sync (see --timeout)
  5  refused: the API server (e.g. Forbidden) or a read-only context; the message says why
`exec` exits with the command's own code, as kubectl does.";

/// Options shared by every command.
#[derive(Debug, ClapArgs)]
pub struct Global {
    /// The daemon's socket. Default: $XDG_RUNTIME_DIR/timoneiro/timoneirod.sock.
    #[arg(long, global = true, value_name = "PATH", env = "TIMONEIRO_SOCKET")]
    pub socket: Option<PathBuf>,
    /// Do not start timoneirod when none answers on the socket (also
    /// TIMONEIRO_NO_AUTOSTART=1). By default the CLI starts it in the
    /// background, with its log next to the socket, and waits for it.
    #[arg(long, global = true)]
    pub no_autostart: bool,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List objects of one kind, as `kubectl get` prints them.
    #[command(after_help = GET_EXAMPLES)]
    Get(Box<Get>),
    /// Show objects as `kubectl describe` prints them, with their events.
    #[command(after_help = DESCRIBE_HELP)]
    Describe(Describe),
    /// CPU and memory use of pods or nodes, as `kubectl top` prints it (from
    /// metrics.k8s.io, which needs metrics-server in the cluster).
    #[command(after_help = TOP_HELP)]
    Top(Top),
    /// Print container logs of a pod, of a workload's pods or of a label
    /// selector's pods, as `kubectl logs` (and stern, with -f) prints them.
    #[command(after_help = LOGS_HELP)]
    Logs(Logs),
    /// Run a command in a container, as `kubectl exec` (exits with its code).
    #[command(after_help = EXEC_HELP)]
    Exec(Exec),
    /// Forward local ports to a pod, service or workload, as
    /// `kubectl port-forward` (127.0.0.1 only).
    #[command(name = "port-forward", after_help = PORT_FORWARD_HELP)]
    PortForward(PortForward),
    /// Delete objects, as `kubectl delete` (pods get their grace period).
    #[command(after_help = DELETE_HELP)]
    Delete(Delete),
    /// Set the replicas of a deployment, statefulset or replicaset.
    #[command(after_help = SCALE_HELP)]
    Scale(Scale),
    /// Roll out a workload again: `rollout restart KIND/NAME`.
    #[command(subcommand)]
    Rollout(Rollout),
    /// Mark a node unschedulable: new pods are not placed on it.
    Cordon(Node),
    /// Mark a node schedulable again.
    Uncordon(Node),
    /// Cordon a node and evict its pods (PodDisruptionBudgets honoured).
    #[command(after_help = DRAIN_HELP)]
    Drain(Drain),
    /// Edit an object in $KUBE_EDITOR or $EDITOR and send it back, as
    /// `kubectl edit` does.
    #[command(after_help = EDIT_HELP)]
    Edit(Edit),
    /// Create an object: `create job NAME --from=cronjob/NAME`.
    #[command(subcommand)]
    Create(Create),
    /// Show what the daemon has loaded: one line per kind with its state
    /// (PENDING, LOADING, SYNCED, ERROR, STALE), object count, tier and sync time.
    Status(Status),
    /// List every kind the cluster serves, as the daemon knows it: built-in
    /// kinds and what discovery found (CRDs and aggregated APIs included),
    /// with short names, API version, scope, tier and the cache's state.
    #[command(name = "api-resources", after_help = API_RESOURCES_HELP)]
    ApiResources(ApiResources),
    /// Every context of the daemon's kubeconfig: whether its cache runs
    /// (contexts start on first use, `--context NAME` on any command, and
    /// are dropped when idle), how much it holds and how long it has idled.
    Contexts(Contexts),
    /// Show the effective settings and where each came from: a flag, the
    /// environment, the config file (~/.config/timoneiro/config.toml, or
    /// $TIMONEIRO_CONFIG) or the default.
    #[command(after_help = CONFIG_HELP)]
    Config(Settings),
    /// Print the client's and the daemon's versions.
    Version,
    /// Print the shell completion script. Kinds, namespaces, contexts and
    /// object names complete from the daemon's cache.
    #[command(after_help = COMPLETION_HELP)]
    Completion {
        /// bash, zsh, fish, elvish or powershell.
        shell: String,
    },
    /// Print the man page (roff): `timoneiro man > ~/.local/share/man/man1/timoneiro.1`.
    Man,
}

const LOGS_HELP: &str =
    "The daemon reads the logs from the API server with the context's credentials.
A workload (deploy/NAME, sts/NAME, ds/NAME, rs/NAME, job/NAME) or a -l
selector reads every pod the cache holds for it, not one; with -f, pods that
appear later join the stream and deleted pods leave it (no limit of 5 as in
kubectl). With several containers, each line starts with [pod/NAME/CONTAINER]
(coloured on a terminal); --prefix asks for it with one.

Examples:
  timoneiro logs web-7d9f-x2x                  a pod (its default container)
  timoneiro logs deploy/web -f --tail 20       every pod of a deployment, followed
  timoneiro logs -l app=web -f --timestamps    a selector, stern-style
  timoneiro logs api-0 -c envoy --previous     the container before its restart
  timoneiro logs job/migrate --all-containers --since 10m";

/// `timoneiro logs`.
#[derive(Debug, Clone, ClapArgs)]
pub struct Logs {
    /// A pod, pod/NAME, or KIND/NAME of a deployment, replicaset,
    /// statefulset, daemonset or job.
    #[arg(value_name = "POD | KIND/NAME", add = ArgValueCompleter::new(crate::complete::object_names))]
    pub target: Option<String>,
    /// The pods this label selector matches, e.g. app=web,tier!=db.
    #[arg(
        short = 'l',
        long = "selector",
        value_name = "SELECTOR",
        conflicts_with = "target"
    )]
    pub selector: Option<String>,
    /// Namespace. Default: the context's namespace.
    #[arg(short, long, value_name = "NS", add = ArgValueCompleter::new(crate::complete::namespaces))]
    pub namespace: Option<String>,
    /// One container. Default: the pod's default container
    /// (kubectl.kubernetes.io/default-container), else its first.
    #[arg(short, long, value_name = "NAME", conflicts_with = "all_containers")]
    pub container: Option<String>,
    /// Every container of each pod, init containers first.
    #[arg(long)]
    pub all_containers: bool,
    /// Keep streaming new lines (and, for a workload or selector, new pods).
    #[arg(short, long)]
    pub follow: bool,
    /// The last N lines of each container; -1 for all. Default: all, or 10
    /// with -l (as kubectl).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub tail: Option<i64>,
    /// Only lines newer than this, e.g. 30s, 5m, 2h.
    #[arg(long, value_name = "DURATION", value_parser = timoneiro_client::parse_duration, conflicts_with = "since_time")]
    pub since: Option<Duration>,
    /// Only lines after this RFC 3339 time, e.g. 2026-12-05T10:00:00Z.
    #[arg(long, value_name = "TIME")]
    pub since_time: Option<String>,
    /// The previous instance of the container (before its last restart).
    #[arg(short, long)]
    pub previous: bool,
    /// Start each line with its time (RFC 3339, as the kubelet writes it).
    #[arg(long)]
    pub timestamps: bool,
    /// Start each line with [pod/NAME/CONTAINER] even for one container.
    #[arg(long)]
    pub prefix: bool,
    /// The kubeconfig context.
    #[command(flatten)]
    pub context: ContextArg,
}

const EXEC_HELP: &str =
    "The daemon opens the API server's exec WebSocket with the context's credentials
(v5.channel.k8s.io, else v4). Without -c the pod's default container runs the
command (kubectl.kubernetes.io/default-container, else the first). -t gives a
terminal when -i is given too and stdin is a terminal: it is raw for the session
(ctrl-c goes to the command) and follows window resizes. The exit code is the
command's: `timoneiro exec web -- sh -c 'exit 3'` exits 3, saying \"command
terminated with exit code 3\" on stderr, as kubectl does. Refused on a read-only
context.

Examples:
  timoneiro exec web-7d9f-x2x -- env
  timoneiro exec -it web-7d9f-x2x -- sh
  timoneiro exec -it deploy/web -c envoy -- bash
  echo hello | timoneiro exec -i web-7d9f-x2x -- cat";

/// `timoneiro exec`.
#[derive(Debug, Clone, ClapArgs)]
pub struct Exec {
    /// The pod (POD or pod/NAME), or KIND/NAME of a service, deployment,
    /// replicaset, statefulset or daemonset: one of its running pods.
    #[arg(value_name = "POD", add = ArgValueCompleter::new(crate::complete::object_names))]
    pub pod: String,
    /// Namespace. Default: the context's namespace.
    #[arg(short, long, value_name = "NS", add = ArgValueCompleter::new(crate::complete::namespaces))]
    pub namespace: Option<String>,
    /// The container. Default: the pod's default container.
    #[arg(short, long, value_name = "NAME")]
    pub container: Option<String>,
    /// Pass stdin to the command.
    #[arg(short = 'i', long)]
    pub stdin: bool,
    /// Allocate a terminal (with -i, when stdin is a terminal).
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Say nothing of our own (no "Defaulted container" line).
    #[arg(short, long)]
    pub quiet: bool,
    /// The command and its arguments, after --.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
    /// The kubeconfig context.
    #[command(flatten)]
    pub context: ContextArg,
}

const PORT_FORWARD_HELP: &str =
    "Listens on 127.0.0.1 only; each connection is tunnelled through the daemon and the
API server's portforward WebSocket to the pod. A service or workload resolves
once, from the cache, to one of its running pods (ready ones first), and a
service port to its target port; a named port to the container port of that
name. Runs until interrupted (ctrl-c).

Examples:
  timoneiro port-forward web-7d9f-x2x 8080          local 8080 -> pod 8080
  timoneiro port-forward svc/web 8080:80            local 8080 -> the service's port 80
  timoneiro port-forward deploy/web :8080           a free local port -> 8080
  timoneiro port-forward db-0 15432:postgres        a named container port";

/// `timoneiro port-forward`.
#[derive(Debug, Clone, ClapArgs)]
pub struct PortForward {
    /// POD, pod/NAME, svc/NAME, or KIND/NAME of a deployment, replicaset,
    /// statefulset or daemonset.
    #[arg(value_name = "TARGET", add = ArgValueCompleter::new(crate::complete::object_names))]
    pub target: String,
    /// Ports: LOCAL:REMOTE, REMOTE (the same locally) or :REMOTE (a free
    /// local port). REMOTE may be a port name.
    #[arg(value_name = "[LOCAL:]REMOTE", required = true, value_parser = parse_port_pair)]
    pub ports: Vec<(u16, String)>,
    /// Namespace. Default: the context's namespace.
    #[arg(short, long, value_name = "NS", add = ArgValueCompleter::new(crate::complete::namespaces))]
    pub namespace: Option<String>,
    /// The kubeconfig context.
    #[command(flatten)]
    pub context: ContextArg,
}

fn parse_port_pair(text: &str) -> Result<(u16, String), String> {
    timoneiro_client::forward::parse_pair(text)
}

const DRAIN_HELP: &str =
    "As kubectl drain: the node is cordoned first (and stays cordoned if the drain
fails); its pods are evicted all at once through the eviction API, which
refuses (429) what a PodDisruptionBudget protects: such an eviction is retried
every 5 s until --timeout, then named with its budget. Pods of a DaemonSet, pods
no controller manages and pods with emptyDir volumes stop the drain unless
--ignore-daemonsets, --force or --delete-emptydir-data allows them.

Examples:
  timoneiro drain worker-3 --ignore-daemonsets --delete-emptydir-data
  timoneiro drain worker-3 --ignore-daemonsets --timeout 5m";

/// `timoneiro drain`.
#[derive(Debug, Clone, ClapArgs)]
pub struct Drain {
    /// The node.
    #[arg(value_name = "NODE")]
    pub node: String,
    /// Leave DaemonSet-managed pods (their controller would put them back).
    #[arg(long)]
    pub ignore_daemonsets: bool,
    /// Evict pods with emptyDir volumes too (their data is lost).
    #[arg(long)]
    pub delete_emptydir_data: bool,
    /// Evict pods no controller manages too (they are not recreated).
    #[arg(long)]
    pub force: bool,
    /// Give up after this long, e.g. 90s, 5m. Default: no limit.
    #[arg(long, value_name = "DURATION", value_parser = timoneiro_client::parse_duration)]
    pub timeout: Option<Duration>,
    /// The kubeconfig context.
    #[command(flatten)]
    pub context: ContextArg,
}

const EDIT_HELP: &str =
    "The object is read from the API server (not the cache) and opened as YAML in
$KUBE_EDITOR, else $EDITOR, else vi. Saving without a change sends nothing. YAML
that does not parse, or an object the API server refuses, reopens with the error
on top; if the object changed meanwhile, it reopens on the newer version.
Secrets are refused: their values never pass through timoneirod (use kubectl edit).

Examples:
  timoneiro edit deploy/web -n shop
  EDITOR='code --wait' timoneiro edit configmap settings";

/// `timoneiro edit`.
#[derive(Debug, Clone, ClapArgs)]
pub struct Edit {
    /// The object.
    #[command(flatten)]
    pub object: ObjectArg,
}

/// One object, as KIND/NAME or KIND NAME, in a namespace of a context:
/// what scale, rollout restart and edit act on.
#[derive(Debug, Clone, ClapArgs)]
pub struct ObjectArg {
    /// KIND/NAME, or KIND with NAME after it.
    #[arg(add = ArgValueCompleter::new(crate::complete::kinds))]
    pub target: String,
    /// The object, when not given as KIND/NAME.
    #[arg(value_name = "NAME")]
    pub object: Option<String>,
    /// Namespace. Default: the context's namespace.
    #[arg(short, long, value_name = "NS", add = ArgValueCompleter::new(crate::complete::namespaces))]
    pub namespace: Option<String>,
    /// The kubeconfig context.
    #[command(flatten)]
    pub context: ContextArg,
}

const DELETE_HELP: &str = "Deleted objects leave the caches through their watches: a pod shows
Terminating until its containers have stopped. Dependents (a deployment's
replica sets and pods) are deleted in the background, as kubectl does.

Examples:
  timoneiro delete pod web-7d9f-x2x
  timoneiro delete pods a b c -n shop
  timoneiro delete deploy/web
  timoneiro delete pod stuck-0 --grace-period 0 --force   at once, without the kubelet";

/// `timoneiro delete`.
#[derive(Debug, Clone, ClapArgs)]
pub struct Delete {
    /// Kind (as for `get`), or KIND/NAME.
    #[arg(add = ArgValueCompleter::new(crate::complete::kinds))]
    pub kind: String,
    /// The objects to delete.
    #[arg(value_name = "NAME", add = ArgValueCompleter::new(crate::complete::object_names))]
    pub names: Vec<String>,
    /// Namespace. Default: the context's namespace.
    #[arg(short, long, value_name = "NS", add = ArgValueCompleter::new(crate::complete::namespaces))]
    pub namespace: Option<String>,
    /// Seconds each object gets to stop; -1 for its own default. 0 means
    /// 1 unless --force is given (as kubectl).
    #[arg(long, value_name = "SECONDS", default_value_t = -1, allow_negative_numbers = true)]
    pub grace_period: i64,
    /// Delete at once, without waiting for the kubelet to confirm the pod
    /// stopped (grace period 0). It may keep running on its node.
    #[arg(long)]
    pub force: bool,
    /// The kubeconfig context.
    #[command(flatten)]
    pub context: ContextArg,
}

const SCALE_HELP: &str = "Examples:
  timoneiro scale deploy/web --replicas 3
  timoneiro scale statefulset db --replicas 0 -n shop";

/// `timoneiro scale`.
#[derive(Debug, Clone, ClapArgs)]
pub struct Scale {
    /// The object.
    #[command(flatten)]
    pub object: ObjectArg,
    /// The number of replicas wanted.
    #[arg(long, value_name = "N")]
    pub replicas: u32,
}

/// `timoneiro rollout …`.
#[derive(Debug, Clone, Subcommand)]
pub enum Rollout {
    /// Restart a deployment, statefulset or daemonset: its pod template gets
    /// kubectl.kubernetes.io/restartedAt, and its pods are replaced.
    Restart(Restart),
}

/// `timoneiro rollout restart`.
#[derive(Debug, Clone, ClapArgs)]
pub struct Restart {
    /// The object.
    #[command(flatten)]
    pub object: ObjectArg,
}

/// `timoneiro cordon|uncordon`.
#[derive(Debug, Clone, ClapArgs)]
pub struct Node {
    /// The node.
    #[arg(value_name = "NODE")]
    pub node: String,
    /// The kubeconfig context.
    #[command(flatten)]
    pub context: ContextArg,
}

/// `timoneiro create …`.
#[derive(Debug, Clone, Subcommand)]
pub enum Create {
    /// Run a cronjob now: a job made from its job template.
    #[command(after_help = "Example:\n  timoneiro create job nightly-now --from=cronjob/nightly")]
    Job(CreateJob),
}

/// `timoneiro create job`.
#[derive(Debug, Clone, ClapArgs)]
pub struct CreateJob {
    /// The new job's name.
    #[arg(value_name = "NAME")]
    pub job: String,
    /// cronjob/NAME: the cronjob whose job template to use.
    #[arg(long, value_name = "cronjob/NAME")]
    pub from: String,
    /// Namespace. Default: the context's namespace.
    #[arg(short, long, value_name = "NS", add = ArgValueCompleter::new(crate::complete::namespaces))]
    pub namespace: Option<String>,
    /// The kubeconfig context.
    #[command(flatten)]
    pub context: ContextArg,
}

const DESCRIBE_HELP: &str =
    "The text is kubectl's (same sections, same layout), built from the daemon's
caches: events come from the events cache, which the first describe starts
(it waits up to 5 seconds for it to load); a controller's pods and a
deployment's replica sets from theirs. A secret shows its key count instead
of its keys: the daemon never fetches secret values.

Examples:
  timoneiro describe pod web-1 -n shop
  timoneiro describe deploy/web
  timoneiro describe pods              every pod of the namespace
  timoneiro describe node lab-node-01 --context prod";

/// `timoneiro describe`.
#[derive(Debug, Clone, ClapArgs)]
pub struct Describe {
    /// Kind (as for `get`), or KIND/NAME.
    #[arg(add = ArgValueCompleter::new(crate::complete::kinds))]
    pub kind: String,
    /// The objects to describe; none means every object of the kind in the
    /// namespace.
    #[arg(value_name = "NAME", add = ArgValueCompleter::new(crate::complete::object_names))]
    pub names: Vec<String>,
    /// Namespace. Default: the context's namespace.
    #[arg(
        short,
        long,
        value_name = "NS",
        add = ArgValueCompleter::new(crate::complete::namespaces)
    )]
    pub namespace: Option<String>,
    /// The kubeconfig context.
    #[command(flatten)]
    pub context: ContextArg,
}

const TOP_HELP: &str = "The daemon reads metrics.k8s.io for every client at once, at most every 15
seconds (metrics-server's own resolution) and only while clients ask.

Examples:
  timoneiro top pods -A --sort-by cpu
  timoneiro top pods -n shop --containers
  timoneiro top nodes --sort-by memory";

/// `timoneiro top`.
#[derive(Debug, Clone, ClapArgs)]
pub struct Top {
    /// pods (po) or nodes (no).
    #[arg(value_parser = ["pods", "pod", "po", "nodes", "node", "no"])]
    pub kind: String,
    /// Only these objects.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Namespace of the pods. Default: the context's namespace.
    #[arg(short, long, value_name = "NS", conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// Pods of every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Sort by cpu or memory, highest first (default: by name).
    #[arg(long, value_name = "FIELD", value_parser = ["cpu", "memory"])]
    pub sort_by: Option<String>,
    /// One line per container (pods).
    #[arg(long)]
    pub containers: bool,
    /// Do not print the header line.
    #[arg(long)]
    pub no_headers: bool,
    /// The kubeconfig context.
    #[command(flatten)]
    pub context: ContextArg,
}

const COMPLETION_HELP: &str = "Install:
  bash:  echo 'source <(timoneiro completion bash)' >> ~/.bashrc
  zsh:   echo 'source <(timoneiro completion zsh)' >> ~/.zshrc
  fish:  timoneiro completion fish > ~/.config/fish/completions/timoneiro.fish

Each TAB asks the binary (COMPLETE=SHELL timoneiro -- …), which asks the daemon
for kinds, namespaces, contexts and object names; it never starts a daemon.";

const API_RESOURCES_HELP: &str =
    "Tiers: 1 loads at daemon start, 2 and 3 right after it in the background,
4 (and every discovered kind) on the first query for it. Discovery runs at
start, every 30 seconds, and whenever a name does not resolve, so a CRD
installed while the daemon runs is usable at once.

Examples:
  timoneiro api-resources
  timoneiro api-resources --refresh        run discovery now
  timoneiro api-resources -o name          widgets.example.com, pods, …";

/// `timoneiro api-resources`.
#[derive(Debug, ClapArgs)]
pub struct ApiResources {
    /// Run discovery now instead of answering from the last run.
    #[arg(long)]
    pub refresh: bool,
    /// Output format: name (qualified names, one per line) or json.
    #[arg(short, long, value_name = "FORMAT")]
    pub output: Option<ApiResourcesFormat>,
    /// Do not print the header line.
    #[arg(long)]
    pub no_headers: bool,
    /// The kubeconfig context.
    #[command(flatten)]
    pub context: ContextArg,
}

/// Output formats of `api-resources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApiResourcesFormat {
    /// One qualified name per line (plural.group), as kubectl's `-o name`.
    Name,
    /// One JSON object with every kind.
    Json,
}

const GET_EXAMPLES: &str = "Filter language (--filter):
  web              fuzzy: w, e, b in order anywhere in the row's text
  web api          both must match
  !kube-system     exclude rows containing kube-system (exact)
  ^web  web$       a field (name, namespace, a cell) starts / ends with web
  'web-1           exact substring
  Upper-case letters make a term case-sensitive.

Examples:
  timoneiro get pods -A
  timoneiro get po -A --filter 'web !kube-system' -o wide
  timoneiro get deploy -n shop -l 'app in (web,api)'
  timoneiro get pods -A --filter crash --sort-by RESTARTS
  timoneiro get pod web-1 -n shop -o yaml
  timoneiro get pods -A -o json | jq '.items[].spec.nodeName'
  timoneiro get pods -A -o name | xargs …
  timoneiro get pods -o jsonpath='{range .items[*]}{.metadata.name}{\"\\t\"}{.status.phase}{\"\\n\"}{end}'
  timoneiro get pods -o custom-columns=NAME:.metadata.name,NODE:.spec.nodeName
  timoneiro get pods --show-labels
  timoneiro get pods -L app -L tier
  timoneiro get pods -A --sort-by .metadata.name
  timoneiro get pods -n shop -w
  timoneiro get pods -A -o rows | jq '.rows[].cells'

Sorting: newest first, then namespace and name; --sort-by NAME, NAMESPACE or
any column header (READY, STATUS, RESTARTS, AGE, …), or a JSONPath of the
objects as kubectl takes it (.spec.nodeName); a leading '-' reverses.

Secrets are cached without their values (never fetched): the API server's
Table gives kubectl's TYPE and DATA (a count of keys), and -o json the
metadata and type.
Events keep the newest 20,000 by LAST SEEN (the API server drops events after
an hour anyway). Kinds without built-in columns (CRDs, other API groups) print
their CRD's additionalPrinterColumns, or NAME and AGE.

Output formats (-o): wide; name; json and yaml (the whole objects from the
cache as kubectl prints them: the object when one NAME is given, else a List;
managedFields left out, secrets without values); jsonpath=TEMPLATE (kubectl's
templates: {.path}, {range .items[*]}…{end}, {\"\\n\"}); custom-columns=
HEADER:.path,…; rows (the table as JSON, below).

-o rows prints {\"kind\", \"namespace\", \"columns\": [..], \"rows\": [{\"namespace\",
\"name\", \"uid\", \"creationTimestamp\", \"labels\", \"cells\": [..]}], \"total\",
\"matched\", \"status\": {\"state\", \"objects\", \"message\"}}; cells are rendered as
in the table (ages at the moment of printing).";

/// Output formats of `get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GetFormat {
    /// kubectl's table with the extra -o wide columns.
    Wide,
    /// kind/name per line, like `kubectl get -o name`.
    Name,
    /// The whole objects as JSON, as kubectl prints them.
    Json,
    /// The whole objects as YAML, as kubectl prints them.
    Yaml,
    /// A kubectl JSONPath template over the objects.
    JsonPath(String),
    /// Columns of JSONPath values: (header, path).
    CustomColumns(Vec<(String, String)>),
    /// The table's rows as JSON (see the shape below).
    Rows,
}

impl GetFormat {
    /// Whether the format needs whole objects from the daemon.
    pub fn needs_objects(&self) -> bool {
        matches!(
            self,
            GetFormat::Json
                | GetFormat::Yaml
                | GetFormat::JsonPath(_)
                | GetFormat::CustomColumns(_)
        )
    }
}

/// Parse `-o FORMAT`.
pub fn parse_format(text: &str) -> Result<GetFormat, String> {
    let (name, value) = match text.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (text, None),
    };
    match (name, value) {
        ("wide", None) => Ok(GetFormat::Wide),
        ("name", None) => Ok(GetFormat::Name),
        ("json", None) => Ok(GetFormat::Json),
        ("yaml", None) => Ok(GetFormat::Yaml),
        ("rows", None) => Ok(GetFormat::Rows),
        ("jsonpath", Some(template)) if !template.is_empty() => {
            Ok(GetFormat::JsonPath(template.to_string()))
        }
        ("custom-columns", Some(spec)) => {
            crate::objects::parse_columns(spec).map(GetFormat::CustomColumns)
        }
        ("jsonpath" | "custom-columns", _) => Err(format!(
            "{name} needs a value: -o {name}=…, e.g. -o jsonpath='{{.items[*].metadata.name}}' or -o custom-columns=NAME:.metadata.name"
        )),
        _ => Err(format!(
            "unknown output format {text:?}; use wide, name, json, yaml, jsonpath=TEMPLATE, custom-columns=SPEC or rows"
        )),
    }
}

/// `timoneiro get`.
#[derive(Debug, Clone, ClapArgs)]
pub struct Get {
    /// Kind: plural, singular, short name or kind (pods, po, deploy, svc, ns,
    /// sts, ds, rs, job, cj, cm, secret, pvc, pv, ing, no, ev, sa, hpa), or
    /// any kind the cluster serves, group-qualified when the name is not
    /// unique (widgets.example.com); see `timoneiro api-resources`.
    #[arg(add = ArgValueCompleter::new(crate::complete::kinds))]
    pub kind: String,
    /// Only these objects, by name (as `kubectl get pod NAME`).
    #[arg(value_name = "NAME", add = ArgValueCompleter::new(crate::complete::object_names))]
    pub names: Vec<String>,
    /// Namespace to list. Default: the context's namespace.
    #[arg(
        short,
        long,
        value_name = "NS",
        conflicts_with = "all_namespaces",
        add = ArgValueCompleter::new(crate::complete::namespaces)
    )]
    pub namespace: Option<String>,
    /// List every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Filter rows (see "Filter language" below).
    #[arg(
        short,
        long,
        value_name = "TERMS",
        default_value = "",
        hide_default_value = true
    )]
    pub filter: String,
    /// Label selector, e.g. 'app=web,tier!=db', 'env in (a,b)', '!legacy'.
    #[arg(
        short = 'l',
        long = "selector",
        value_name = "SELECTOR",
        default_value = "",
        hide_default_value = true
    )]
    pub selector: String,
    /// Output format: wide, name, json, yaml, jsonpath=TEMPLATE,
    /// custom-columns=SPEC or rows (see below). Default: kubectl's table.
    #[arg(short, long, value_name = "FORMAT", value_parser = parse_format)]
    pub output: Option<GetFormat>,
    /// Add a LABELS column with every label, as kubectl does.
    #[arg(long)]
    pub show_labels: bool,
    /// Add a column with this label's value (repeatable, or comma-separated).
    #[arg(
        short = 'L',
        long = "label-columns",
        value_name = "KEY",
        value_delimiter = ','
    )]
    pub label_columns: Vec<String>,
    /// Sort by a column (NAME, NAMESPACE, STATUS, AGE, …) or, as kubectl,
    /// by a JSONPath of the objects (.spec.nodeName, '{.status.startTime}');
    /// '-' before it reverses.
    #[arg(
        long,
        value_name = "COLUMN",
        default_value = "",
        hide_default_value = true,
        allow_hyphen_values = true
    )]
    pub sort_by: String,
    /// Do not print the header line.
    #[arg(long)]
    pub no_headers: bool,
    /// After printing, keep watching: print each object again when it
    /// changes, appears or goes away, as `kubectl get -w` does (Ctrl-C stops).
    #[arg(short, long)]
    pub watch: bool,
    /// Like --watch, without printing the current objects first.
    #[arg(long)]
    pub watch_only: bool,
    /// Print at most this many rows (after filtering and sorting).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        hide_default_value = true,
        allow_negative_numbers = true
    )]
    pub limit: u32,
    /// How long to wait for the kind to finish loading, e.g. 30s, 2m, 0s to not wait.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// The kubeconfig context.
    #[command(flatten)]
    pub context: ContextArg,
}

/// `--context`, shared by the commands that talk about one context.
#[derive(Debug, Clone, ClapArgs)]
pub struct ContextArg {
    /// Context to use. Default: the daemon's.
    #[arg(
        long = "context",
        value_name = "NAME",
        add = ArgValueCompleter::new(crate::complete::contexts),
        default_value = "",
        hide_default_value = true
    )]
    pub name: String,
}

const CONFIG_HELP: &str = "The config file (every key optional; flags and the environment win):
  socket = \"/run/user/1000/timoneiro/timoneirod.sock\"
  autostart = true            # clients start timoneirod when none answers
  [daemon]
  idle_evict = \"30m\"          # drop an unused context's caches after this long
  namespaces = [\"team-a\"]     # cache these too when RBAC forbids cluster-wide lists
  preload = [\"nodes\"]         # start these kinds with tiers 2-3, not on first use
  [tiers]                     # 1 with pods, 2-3 after them, 4 on first use
  events = 2
  [contexts.prod]             # per kubeconfig context
  readonly = true             # the daemon refuses deletes, scaling, restarts… (logs still work)

A bad file is an error naming the file, the line and the key.";

/// `timoneiro config`.
#[derive(Debug, ClapArgs)]
pub struct Settings {
    /// Output format: json for scripts.
    #[arg(short, long, value_name = "FORMAT")]
    pub output: Option<StatusFormat>,
}

/// `timoneiro contexts`.
#[derive(Debug, ClapArgs)]
pub struct Contexts {
    /// Output format: json for scripts.
    #[arg(short, long, value_name = "FORMAT")]
    pub output: Option<StatusFormat>,
}

/// `timoneiro status`.
#[derive(Debug, ClapArgs)]
pub struct Status {
    /// Keep printing the status whenever it changes (Ctrl-C to stop).
    #[arg(short, long)]
    pub watch: bool,
    /// Output format: json for scripts.
    #[arg(short, long, value_name = "FORMAT")]
    pub output: Option<StatusFormat>,
    /// The kubeconfig context.
    #[command(flatten)]
    pub context: ContextArg,
}

/// Output formats of `status` and `contexts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// One JSON object per status.
    Json,
}

pub use timoneiro_client::parse_duration;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5d").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }
}
