//! Logs and object actions end to end: CLI → daemon → sim. What a test
//! expects comes from the API server's side (the sim's own answers and
//! objects, read directly) and from kubectl's printed forms (cited where
//! used), not from the daemon's code.

use std::io::BufRead;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use timoneiro_tests::harness::{
    Daemon, Sim, cli_command, eventually, eventually_async, stderr, stdout, synced_cluster,
};

const WAIT: Duration = Duration::from_secs(30);

/// (namespace, name) of the first deployment with `replicas` or more,
/// as the daemon lists it.
fn a_deployment(daemon: &Daemon) -> (String, String) {
    let list = daemon.cli_json(&["get", "deploy", "-A", "-o", "json"]);
    let deploy = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["spec"]["replicas"].as_i64().unwrap_or(0) >= 2)
        .expect("a deployment with 2+ replicas");
    (
        deploy["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .into(),
        deploy["metadata"]["name"].as_str().unwrap_or("").into(),
    )
}

/// The pods of the API server (the sim, asked directly) that a
/// deployment's ReplicaSets made for app `app` (they carry
/// `pod-template-hash`; standalone pods of the same app do not), not
/// terminating: names.
async fn server_pods(sim: &Sim, namespace: &str, app: &str) -> Vec<String> {
    let list = sim
        .json("GET", &format!("/api/v1/namespaces/{namespace}/pods"))
        .await;
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["metadata"]["labels"]["app"] == app)
        .filter(|p| p["metadata"]["labels"]["pod-template-hash"].is_string())
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
        .collect()
}

/// A running CLI whose stdout and stderr lines arrive on channels.
struct Streaming {
    child: Child,
    out: mpsc::Receiver<String>,
    err: mpsc::Receiver<String>,
}

impl Streaming {
    fn start(daemon: &Daemon, args: &[&str]) -> Streaming {
        let mut child = cli_command(&daemon.socket)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("timoneiro");
        let lines = |pipe: Box<dyn std::io::Read + Send>| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(pipe).lines() {
                    let Ok(line) = line else { return };
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            });
            rx
        };
        let out = lines(Box::new(child.stdout.take().expect("stdout")));
        let err = lines(Box::new(child.stderr.take().expect("stderr")));
        Streaming { child, out, err }
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `seq=N` of a line the sim's containers write.
fn seq(line: &str) -> Option<u64> {
    line.rsplit_once("seq=")?.1.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pods_log_is_the_api_servers_with_kubectls_flags() {
    let (sim, daemon) = synced_cluster(&["--pods", "300", "--namespaces", "2", "--log-rate", "4"]);
    let (namespace, deploy) = a_deployment(&daemon);
    let pod = server_pods(&sim, &namespace, &deploy).await.remove(0);
    let object = sim
        .json("GET", &format!("/api/v1/namespaces/{namespace}/pods/{pod}"))
        .await;
    let container = object["spec"]["containers"][0]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();

    let output = daemon.cli(&[
        "logs", &pod, "-n", &namespace, "-c", &container, "--tail", "3",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let ours: Vec<String> = stdout(&output).lines().map(str::to_string).collect();
    assert_eq!(ours.len(), 3, "{ours:?}");
    // The API server's own answer, read right after: ours are three
    // consecutive lines of it (the container writes 4 a second meanwhile).
    let (status, _, body) = sim
        .raw(
            "GET",
            &format!(
                "/api/v1/namespaces/{namespace}/pods/{pod}/log?container={container}&tailLines=40"
            ),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let theirs: Vec<String> = String::from_utf8_lossy(&body)
        .lines()
        .map(str::to_string)
        .collect();
    let at = theirs
        .windows(3)
        .position(|w| w == ours.as_slice())
        .unwrap_or_else(|| panic!("{ours:?} are not lines of the server's log {theirs:?}"));
    assert!(at + 3 <= theirs.len());

    // --timestamps: the kubelet's RFC 3339 time, a space, the line.
    let output = daemon.cli(&[
        "logs",
        &pod,
        "-n",
        &namespace,
        "-c",
        &container,
        "--tail",
        "2",
        "--timestamps",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    for line in stdout(&output).lines() {
        let (time, text) = line.split_once(' ').expect("time and text");
        assert!(time.parse::<jiff::Timestamp>().is_ok(), "{line}");
        assert!(seq(text).is_some(), "{line}");
    }

    // A container the pod does not have: the API server's message, exit 1.
    let output = daemon.cli(&["logs", &pod, "-n", &namespace, "-c", "no-such"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("container no-such is not valid for pod {pod}")),
        "{}",
        stderr(&output)
    );
    // A selector that matches nothing: kubectl's words on stderr, no error.
    let output = daemon.cli(&["logs", "-l", "app=no-such-app", "-n", &namespace]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stderr(&output).trim(),
        format!("No resources found in {namespace} namespace.")
    );
    // --previous of a container that never restarted: the kubelet's words.
    let output = daemon.cli(&[
        "logs",
        &pod,
        "-n",
        &namespace,
        "-c",
        &container,
        "--previous",
    ]);
    assert!(
        stderr(&output).contains("previous terminated container"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_a_deployment_picks_up_the_pods_that_replace_its_own() {
    let (sim, daemon) = synced_cluster(&["--pods", "300", "--namespaces", "2", "--log-rate", "5"]);
    let (namespace, deploy) = a_deployment(&daemon);
    let before = server_pods(&sim, &namespace, &deploy).await;
    let target = format!("deploy/{deploy}");
    let follow = Streaming::start(
        &daemon,
        &["logs", &target, "-n", &namespace, "-f", "--tail", "1"],
    );
    // Every pod of the deployment is followed (kubectl follows one).
    let mut seen = std::collections::HashSet::new();
    eventually("a line from every pod of the deployment", WAIT, || {
        while let Ok(line) = follow.out.try_recv() {
            let pod = line
                .strip_prefix("[pod/")
                .and_then(|rest| rest.split('/').next())
                .expect("a [pod/NAME/CONTAINER] prefix")
                .to_string();
            seen.insert(pod);
        }
        before.iter().all(|p| seen.contains(p)).then_some(())
    });

    let output = daemon.cli(&["rollout", "restart", &target, "-n", &namespace]);
    assert!(output.status.success(), "{}", stderr(&output));
    // kubectl rollout restart prints `deployment.apps/NAME restarted`.
    assert_eq!(
        stdout(&output).trim(),
        format!("deployment.apps/{deploy} restarted")
    );
    // The API server now runs other pods for it; their lines reach the
    // stream that was opened before they existed, without a restart.
    let after = eventually_async("the old pods to be replaced", WAIT, || async {
        let now = server_pods(&sim, &namespace, &deploy).await;
        (!now.is_empty() && now.iter().all(|p| !before.contains(p))).then_some(now)
    })
    .await;
    let mut fresh = std::collections::HashSet::new();
    let mut joined = Vec::new();
    let mut left = Vec::new();
    eventually(
        "lines from every new pod, and notices of who joined and left",
        WAIT,
        || {
            while let Ok(line) = follow.out.try_recv() {
                if let Some(pod) = line
                    .strip_prefix("[pod/")
                    .and_then(|rest| rest.split('/').next())
                {
                    fresh.insert(pod.to_string());
                }
            }
            while let Ok(notice) = follow.err.try_recv() {
                if let Some(name) = notice.strip_prefix("+ ") {
                    joined.push(name.to_string());
                }
                if let Some(name) = notice.strip_prefix("- ") {
                    left.push(name.to_string());
                }
            }
            let all_new = after.iter().all(|p| fresh.contains(p));
            let all_left = before
                .iter()
                .all(|p| left.iter().any(|l| l.starts_with(&format!("{p}/"))));
            (all_new && all_left).then_some(())
        },
    );
    for pod in &after {
        assert!(
            joined.iter().any(|j| j.starts_with(&format!("{pod}/"))),
            "{pod} never announced: {joined:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_reach_the_api_server_and_print_what_kubectl_prints() {
    let (sim, daemon) = synced_cluster(&["--pods", "300", "--namespaces", "2"]);
    let (namespace, deploy) = a_deployment(&daemon);

    // scale: kubectl prints `deployment.apps/NAME scaled`; the API server's
    // deployment and its pods follow, and so does the daemon's cache.
    let output = daemon.cli(&[
        "scale",
        &format!("deploy/{deploy}"),
        "--replicas",
        "5",
        "-n",
        &namespace,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim(),
        format!("deployment.apps/{deploy} scaled")
    );
    let object = sim
        .json(
            "GET",
            &format!("/apis/apps/v1/namespaces/{namespace}/deployments/{deploy}"),
        )
        .await;
    assert_eq!(object["spec"]["replicas"], 5);
    let pods = eventually_async("5 pods on the API server", WAIT, || async {
        let pods = server_pods(&sim, &namespace, &deploy).await;
        (pods.len() == 5).then_some(pods)
    })
    .await;
    eventually("the daemon's cache to show the same 5 pods", WAIT, || {
        let output = daemon.cli(&[
            "get",
            "pods",
            "-n",
            &namespace,
            "-l",
            &format!("app={deploy},pod-template-hash"),
            "-o",
            "name",
        ]);
        let mut names: Vec<String> = stdout(&output)
            .lines()
            .map(|l| l.trim_start_matches("pod/").to_string())
            .collect();
        names.sort();
        let mut expected = pods.clone();
        expected.sort();
        (names == expected).then_some(())
    });

    // delete: `pod "NAME" deleted from NS namespace` (kubectl ≥ 1.33's
    // DeleteOptions.PrintObj); the pod is Terminating, then gone.
    let victim = pods[0].clone();
    let output = daemon.cli(&["delete", "pod", &victim, "-n", &namespace]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim(),
        format!("pod \"{victim}\" deleted from {namespace} namespace")
    );
    eventually("the deleted pod to leave the daemon's cache", WAIT, || {
        let output = daemon.cli(&["get", "pod", &victim, "-n", &namespace]);
        (!output.status.success()).then_some(())
    });
    // Deleting what is not there: the API server's NotFound, exit 1, and the
    // names that were there are still deleted.
    let output = daemon.cli(&["delete", "pods", "no-such-pod", &pods[1], "-n", &namespace]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("Error from server (NotFound): pods \"no-such-pod\" not found"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).contains(&format!("pod \"{}\" deleted", pods[1])));

    // cordon / uncordon: the node's spec.unschedulable on the API server,
    // and kubectl's `Ready,SchedulingDisabled` in the daemon's STATUS.
    let nodes = daemon.cli_json(&["get", "nodes", "-o", "json"]);
    let node = nodes["items"][0]["metadata"]["name"]
        .as_str()
        .expect("a node")
        .to_string();
    let output = daemon.cli(&["cordon", &node]);
    assert_eq!(
        stdout(&output).trim(),
        format!("node/{node} cordoned"),
        "{}",
        stderr(&output)
    );
    let object = sim.json("GET", &format!("/api/v1/nodes/{node}")).await;
    assert_eq!(object["spec"]["unschedulable"], true);
    eventually("STATUS SchedulingDisabled", WAIT, || {
        let output = daemon.cli(&["get", "node", &node, "--no-headers"]);
        stdout(&output).contains("SchedulingDisabled").then_some(())
    });
    let output = daemon.cli(&["cordon", &node]);
    assert_eq!(
        stdout(&output).trim(),
        format!("node/{node} already cordoned")
    );
    let output = daemon.cli(&["uncordon", &node]);
    assert_eq!(stdout(&output).trim(), format!("node/{node} uncordoned"));
    let object = sim.json("GET", &format!("/api/v1/nodes/{node}")).await;
    assert!(
        object["spec"]["unschedulable"].is_null(),
        "{}",
        object["spec"]
    );

    // create job --from=cronjob: kubectl's `job.batch/NAME created`; the
    // job carries the template and points to its cronjob.
    let cronjobs = daemon.cli_json(&["get", "cronjobs", "-A", "-o", "json"]);
    let cronjob = &cronjobs["items"][0];
    let (cj_namespace, cj_name) = (
        cronjob["metadata"]["namespace"]
            .as_str()
            .expect("namespace"),
        cronjob["metadata"]["name"].as_str().expect("name"),
    );
    let output = daemon.cli(&[
        "create",
        "job",
        "run-now",
        &format!("--from=cronjob/{cj_name}"),
        "-n",
        cj_namespace,
    ]);
    assert_eq!(
        stdout(&output).trim(),
        "job.batch/run-now created",
        "{}",
        stderr(&output)
    );
    let job = sim
        .json(
            "GET",
            &format!("/apis/batch/v1/namespaces/{cj_namespace}/jobs/run-now"),
        )
        .await;
    assert_eq!(
        job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"],
        "manual"
    );
    assert_eq!(
        job["metadata"]["ownerReferences"][0]["uid"],
        cronjob["metadata"]["uid"]
    );
    eventually("the job in the daemon's cache", WAIT, || {
        daemon
            .cli(&["get", "job", "run-now", "-n", cj_namespace])
            .status
            .success()
            .then_some(())
    });

    // Each action is in the daemon's log with its context, verb and object.
    let log = daemon.log_text();
    for (verb, name) in [
        ("scale", deploy.as_str()),
        ("delete", victim.as_str()),
        ("cordon", node.as_str()),
        ("trigger", cj_name),
    ] {
        assert!(
            log.lines().any(|l| l.contains("timoneirod::audit")
                && l.contains(&format!("verb=\"{verb}\""))
                && l.contains(&format!("name=\"{name}\""))),
            "no audit line for {verb} {name}:\n{log}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_context_refuses_every_action_and_still_reads_logs() {
    let sim = Sim::start(&["--pods", "200", "--namespaces", "2"]);
    let daemon = Daemon::start_with(&sim.kubeconfig, &["--readonly"]);
    daemon.wait_synced(WAIT);
    let (namespace, deploy) = a_deployment(&daemon);
    let target = format!("deploy/{deploy}");
    let refused: [&[&str]; 9] = [
        &["drain", "any-node"],
        &["exec", &target, "-n", &namespace, "--", "ls"],
        &["edit", &target, "-n", &namespace],
        &["delete", &target, "-n", &namespace],
        &["scale", &target, "--replicas", "1", "-n", &namespace],
        &["rollout", "restart", &target, "-n", &namespace],
        &["cordon", "any-node"],
        &["uncordon", "any-node"],
        &["create", "job", "x", "--from=cronjob/any", "-n", &namespace],
    ];
    for args in refused {
        let output = daemon.cli(args);
        assert_eq!(
            output.status.code(),
            Some(5),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("is read-only"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let requests = sim.json("GET", "/sim/requests").await;
    let writes: Vec<&Value> = requests["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["method"] != "GET")
        .collect();
    assert!(writes.is_empty(), "a read-only daemon wrote: {writes:?}");
    let output = daemon.cli(&["logs", &target, "-n", &namespace, "--tail", "1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stdout(&output).is_empty());
    // `timoneiro contexts -o json` says so.
    let contexts = daemon.cli_json(&["contexts", "-o", "json"]);
    assert!(
        contexts.to_string().contains("\"readonly\":true"),
        "{contexts}"
    );
}

/// The highest `seq=` on a screen.
fn last_seq(screen: &str) -> Option<u64> {
    screen.lines().filter_map(seq_in).max()
}

/// The lines the log view keeps, from its title (`… · 1,234 lines`).
fn kept_lines(screen: &str) -> Option<u64> {
    let title = screen.lines().find(|l| l.contains(" Logs pods/"))?;
    let before = title.split(" lines").next()?;
    let number: String = before
        .rsplit(' ')
        .next()?
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect();
    number.parse().ok()
}

fn seq_in(line: &str) -> Option<u64> {
    let at = line.find("seq=")?;
    line[at + 4..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tui_follows_a_pods_log_and_asks_before_it_deletes() {
    use timoneiro_tests::harness::{Tmux, bin};
    let (sim, daemon) = synced_cluster(&["--pods", "300", "--namespaces", "2", "--log-rate", "5"]);
    let (namespace, deploy) = a_deployment(&daemon);
    let pod = server_pods(&sim, &namespace, &deploy).await.remove(0);
    let dir = tempfile::tempdir().expect("tempdir");
    // The editor reads what the person types: every key must reach it.
    let marks = dir.path().display().to_string();
    let typed_label = format!(
        r#"touch {marks}/editing; read -r value; sed -i "s/^    app: \(.*\)$/    app: \1\n    edited: \"$value\"/" "$f""#
    );
    let script = editor(dir.path(), "label.sh", &typed_label);
    let command = format!(
        "EDITOR={script} TIMONEIRO_SOCKET={} NO_COLOR=1 {} pods -n {namespace} --log-file {}",
        daemon.socket.display(),
        bin("timoneiro-tui").display(),
        daemon.dir.path().join("tui.log").display()
    );
    let tmux = Tmux::start(&command, 160, 30);
    tmux.wait_for("pod rows", WAIT, |s| s.contains("Running"));
    tmux.send(&["/", &format!("^{pod}$"), "Enter"]);
    tmux.wait_for("the one pod", WAIT, |s| {
        s.contains(&pod) && s.contains("Pods (1/")
    });

    // Enter shows the containers; l there reads the pod's logs, Esc comes back.
    tmux.send(&["Enter"]);
    tmux.wait_for("the containers view", WAIT, |s| {
        s.contains(&format!("Containers pods/{pod}")) && s.contains("l logs")
    });
    tmux.send(&["l"]);
    tmux.wait_for("its logs", WAIT, |s| {
        s.contains(&format!("Logs pods/{pod}")) && last_seq(s).is_some()
    });
    tmux.send(&["Escape"]);
    tmux.wait_for("the containers again", WAIT, |s| {
        s.contains(&format!("Containers pods/{pod}"))
    });
    tmux.send(&["Escape"]);
    tmux.wait_for("the table", WAIT, |s| s.contains("Pods (1/"));

    // l: the pod's log, following: new lines keep arriving.
    tmux.send(&["l"]);
    let screen = tmux.wait_for("log lines", WAIT, |s| {
        s.contains(&format!("Logs pods/{pod}")) && s.contains("follow on") && last_seq(s).is_some()
    });
    let first = last_seq(&screen).unwrap_or(0);
    tmux.wait_for("newer lines while following", WAIT, |s| {
        last_seq(s).is_some_and(|n| n >= first + 3)
    });
    // s: follow off; the screen stays put while lines keep coming.
    tmux.send(&["s"]);
    let held = tmux.wait_for("follow off", WAIT, |s| {
        s.contains("follow off") && kept_lines(s).is_some()
    });
    let (held_seq, held_lines) = (last_seq(&held), kept_lines(&held));
    // Once the view has taken in more lines (its title counts them), the
    // lines shown are still the same.
    let later = tmux.wait_for("more lines taken in", WAIT, |s| {
        kept_lines(s) > held_lines.map(|n| n + 3)
    });
    assert_eq!(last_seq(&later), held_seq, "a reader's place moved");
    // G: follow again.
    tmux.send(&["G"]);
    tmux.wait_for("following again", WAIT, |s| {
        s.contains("follow on") && last_seq(s) > held_seq
    });
    tmux.send(&["Escape"]);
    tmux.wait_for("the table", WAIT, |s| s.contains("Pods (1/"));

    // ctrl-d asks; anything but y keeps the pod.
    tmux.send(&["C-d"]);
    tmux.wait_for("the question", WAIT, |s| {
        s.contains(&format!("Delete pods/{pod}?"))
    });
    tmux.send(&["n"]);
    tmux.wait_for("cancelled", WAIT, |s| s.contains("cancelled"));
    let path = format!("/api/v1/namespaces/{namespace}/pods/{pod}");
    let (status, _, _) = sim.raw("GET", &path, None).await;
    assert_eq!(status, 200, "a cancelled delete deleted");
    // y deletes: the API server's pod terminates, and the row follows.
    tmux.send(&["C-d"]);
    tmux.wait_for("the question again", WAIT, |s| s.contains("Delete pods/"));
    tmux.send(&["y"]);
    tmux.wait_for("kubectl's line in the footer", WAIT, |s| {
        s.contains(&format!("pod \"{pod}\" deleted from {namespace} namespace"))
    });
    eventually_async("the pod to be gone from the API server", WAIT, || async {
        let (status, _, _) = sim.raw("GET", &path, None).await;
        (status == 404).then_some(())
    })
    .await;
    tmux.wait_for("the row gone", WAIT, |s| s.contains("Pods (0/"));

    // ? lists the keys of the kind shown.
    tmux.send(&["Escape"]);
    tmux.wait_for("no filter", WAIT, |s| !s.contains("filter:"));
    tmux.send(&[":", "deploy", "Enter"]);
    tmux.wait_for("deployments", WAIT, |s| s.contains("UP-TO-DATE"));
    tmux.send(&["?"]);
    // Whole frames only: a capture can be half drawn.
    let help = tmux.wait_for("the deployments' keys", WAIT, |s| {
        s.contains("keys (any key closes)") && s.contains("q ^c")
    });
    assert!(help.contains("scale (asks for the replicas)"), "{help}");
    assert!(help.contains("rollout restart"), "{help}");
    assert!(!help.contains("cordon"), "{help}");
    // Any key closes the help (a lone Escape followed at once by ':' reads as alt-:).
    tmux.send(&["j"]);
    tmux.wait_for("the help closed", WAIT, |s| {
        !s.contains("keys (any key closes)")
    });
    tmux.send(&[":", "nodes", "Enter"]);
    tmux.wait_for("nodes", WAIT, |s| {
        s.contains("Nodes (") && s.contains("Ready")
    });
    tmux.send(&["?"]);
    let help = tmux.wait_for("the nodes' keys", WAIT, |s| {
        s.contains("keys (any key closes)") && s.contains("q ^c")
    });
    assert!(help.contains("cordon / uncordon"), "{help}");
    assert!(!help.contains("scale (asks"), "{help}");

    // e: the editor gets the terminal, the change is sent, the TUI comes back.
    tmux.send(&["j"]);
    tmux.wait_for("the help closed", WAIT, |s| {
        !s.contains("keys (any key closes)")
    });
    tmux.send(&[":", "deploy", "Enter"]);
    tmux.wait_for("deployments", WAIT, |s| s.contains("UP-TO-DATE"));
    tmux.send(&["/", &format!("^{deploy}$"), "Enter"]);
    tmux.wait_for("the one deployment", WAIT, |s| {
        s.contains("Deployments (1/")
    });
    tmux.send(&["e"]);
    eventually("the editor to run", WAIT, || {
        dir.path().join("editing").exists().then_some(())
    });
    tmux.send(&["tui", "Enter"]);
    tmux.wait_for("kubectl's line after the editor", WAIT, |s| {
        s.contains(&format!("deployment.apps/{deploy} edited")) && s.contains("UP-TO-DATE")
    });
    let object = sim
        .json(
            "GET",
            &format!("/apis/apps/v1/namespaces/{namespace}/deployments/{deploy}"),
        )
        .await;
    assert_eq!(object["metadata"]["labels"]["edited"], "tui");
}

/// An editor script for `EDITOR`: the shell `body` runs with the file as $1.
fn editor(dir: &std::path::Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\nset -e\nf=\"$1\"\n{body}\n")).expect("write editor");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_sends_nothing_unchanged_a_change_once_and_reopens_on_conflict() {
    let (sim, daemon) = synced_cluster(&["--pods", "200", "--namespaces", "2"]);
    let (namespace, deploy) = a_deployment(&daemon);
    let target = format!("deploy/{deploy}");
    let dir = tempfile::tempdir().expect("tempdir");
    let edit = |editor: &str| {
        cli_command(&daemon.socket)
            .args(["edit", &target, "-n", &namespace])
            .env("EDITOR", editor)
            .env_remove("KUBE_EDITOR")
            .stdin(Stdio::null())
            .output()
            .expect("timoneiro edit")
    };
    let puts = || async {
        let requests = sim.json("GET", "/sim/requests").await;
        requests["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["method"] == "PUT")
            .count()
    };
    let path = format!("/apis/apps/v1/namespaces/{namespace}/deployments/{deploy}");

    // Saved as it was: kubectl's words, and no request.
    let output = edit("true");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "Edit cancelled, no changes made.");
    assert_eq!(puts().await, 0);

    // A label added under metadata.labels (4 spaces: metadata > labels > app).
    let add_label = r#"sed -i 's/^    app: \(.*\)$/    app: \1\n    edited: "yes"/' "$f""#;
    let output = edit(&editor(dir.path(), "label.sh", add_label));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim(),
        format!("deployment.apps/{deploy} edited")
    );
    let object = sim.json("GET", &path).await;
    assert_eq!(
        object["metadata"]["labels"]["edited"], "yes",
        "{}",
        object["metadata"]
    );
    assert_eq!(puts().await, 1);

    // Invalid YAML reopens with the error on top; an emptied file cancels.
    let marks = dir.path().display().to_string();
    let body = format!(
        "if [ ! -e {marks}/broke ]; then touch {marks}/broke; echo 'spec: [' >> \"$f\"; exit 0; fi\ncp \"$f\" {marks}/reopened.yaml\n: > \"$f\""
    );
    let output = edit(&editor(dir.path(), "broken.sh", &body));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim(),
        "Edit cancelled, saved file was empty."
    );
    let reopened = std::fs::read_to_string(dir.path().join("reopened.yaml")).expect("reopened");
    assert!(
        reopened.contains("# error: the edited file is not valid YAML"),
        "{reopened}"
    );
    assert_eq!(puts().await, 1, "nothing sent for invalid YAML");

    // Conflict: the object changes while the editor is open; the file
    // reopens on the newer object with the API server's Conflict on top.
    let body = format!(
        "if [ ! -e {marks}/opened ]; then touch {marks}/opened; while [ ! -e {marks}/go ]; do sleep 0.05; done; {add}; exit 0; fi\ncp \"$f\" {marks}/second.yaml\nsed -i 's/^    app: \\(.*\\)$/    app: \\1\\n    second: \"yes\"/' \"$f\"",
        add = r#"sed -i 's/^    app: \(.*\)$/    app: \1\n    first: "yes"/' "$f""#
    );
    let conflicted = editor(dir.path(), "conflict.sh", &body);
    let child = cli_command(&daemon.socket)
        .args(["edit", &target, "-n", &namespace])
        .env("EDITOR", &conflicted)
        .env_remove("KUBE_EDITOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("timoneiro edit");
    eventually("the editor to open", WAIT, || {
        dir.path().join("opened").exists().then_some(())
    });
    let output = daemon.cli(&["scale", &target, "--replicas", "4", "-n", &namespace]);
    assert!(output.status.success(), "{}", stderr(&output));
    std::fs::write(dir.path().join("go"), "").expect("go");
    let output = child.wait_with_output().expect("edit ends");
    assert!(output.status.success(), "{}", stderr(&output));
    let second = std::fs::read_to_string(dir.path().join("second.yaml")).expect("reopened");
    assert!(
        second.contains(
            "# Error from server (Conflict): Operation cannot be fulfilled on deployments.apps"
        ),
        "{second}"
    );
    assert!(second.contains("replicas: 4"), "the newer object: {second}");
    assert!(
        !second.contains("first:"),
        "the reopened file is the server's: {second}"
    );
    let object = sim.json("GET", &path).await;
    assert_eq!(object["metadata"]["labels"]["second"], "yes");
    assert!(object["metadata"]["labels"]["first"].is_null());
    assert_eq!(object["spec"]["replicas"], 4);

    // Secrets never: their values do not pass through the daemon.
    let secrets = daemon.cli_json(&["get", "secrets", "-A", "-o", "json"]);
    let secret = &secrets["items"][0]["metadata"];
    let output = cli_command(&daemon.socket)
        .args([
            "edit",
            "secret",
            secret["name"].as_str().expect("name"),
            "-n",
            secret["namespace"].as_str().expect("namespace"),
        ])
        .env("EDITOR", "true")
        .output()
        .expect("edit secret");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("use kubectl edit"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_evicts_a_nodes_pods_and_names_the_budget_that_blocks_it() {
    let (sim, daemon) = synced_cluster(&["--pods", "200", "--namespaces", "2"]);
    // A healthy pod of a ReplicaSet, as the API server has it.
    let all = sim.json("GET", "/api/v1/pods").await;
    let pods: Vec<&Value> = all["items"].as_array().into_iter().flatten().collect();
    let ready = |p: &Value| {
        p["metadata"]["deletionTimestamp"].is_null()
            && p["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
    };
    let pod = pods
        .iter()
        .find(|p| p["metadata"]["labels"]["pod-template-hash"].is_string() && ready(p))
        .expect("a ready pod of a ReplicaSet");
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    let (namespace, name, node) = (
        text(&pod["metadata"]["namespace"]),
        text(&pod["metadata"]["name"]),
        text(&pod["spec"]["nodeName"]),
    );
    let (app, hash) = (
        text(&pod["metadata"]["labels"]["app"]),
        text(&pod["metadata"]["labels"]["pod-template-hash"]),
    );
    let healthy = pods
        .iter()
        .filter(|p| {
            p["metadata"]["namespace"] == namespace.as_str()
                && p["metadata"]["labels"]["app"] == app.as_str()
                && p["metadata"]["labels"]["pod-template-hash"] == hash.as_str()
                && ready(p)
        })
        .count();
    // A budget that allows no disruption of them.
    let budget = format!(
        "/sim/pdbs?namespace={namespace}&name={app}-budget&selector=app%3D{app},pod-template-hash%3D{hash}"
    );
    sim.json("POST", &format!("{budget}&minAvailable={healthy}"))
        .await;

    let drain = [
        "drain",
        node.as_str(),
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--force",
    ];
    let mut blocked: Vec<&str> = drain.to_vec();
    blocked.extend(["--timeout", "3s"]);
    let output = daemon.cli(&blocked);
    assert_eq!(
        output.status.code(),
        Some(4),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stdout(&output).starts_with(&format!("node/{node} cordoned\n")),
        "{}",
        stdout(&output)
    );
    assert!(stdout(&output).contains(&format!("evicting pod {namespace}/{name}")));
    // kubectl's retry line, and the budget named (the API server's 429 cause).
    assert!(
        stdout(&output).contains(&format!(
            "error when evicting pods/\"{name}\" -n \"{namespace}\" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget."
        )),
        "{}",
        stdout(&output)
    );
    assert!(
        stderr(&output).contains(&format!(
            "The disruption budget {app}-budget needs {healthy} healthy pods and has {healthy} currently"
        )),
        "{}",
        stderr(&output)
    );
    let (status, _, _) = sim
        .raw(
            "GET",
            &format!("/api/v1/namespaces/{namespace}/pods/{name}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "the protected pod is still there");
    let object = sim.json("GET", &format!("/api/v1/nodes/{node}")).await;
    assert_eq!(
        object["spec"]["unschedulable"], true,
        "a failed drain leaves the node cordoned"
    );

    // Without the budget the drain completes: nothing runs on the node, and
    // the replacements went elsewhere (it is cordoned).
    sim.json("POST", &format!("{budget}&maxUnavailable=-1"))
        .await;
    let mut finishing: Vec<&str> = drain.to_vec();
    finishing.extend(["--timeout", "60s"]);
    let output = daemon.cli(&finishing);
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(stdout(&output).contains(&format!("node/{node} already cordoned")));
    assert!(
        stdout(&output).ends_with(&format!("node/{node} drained\n")),
        "{}",
        stdout(&output)
    );
    let all = sim.json("GET", "/api/v1/pods").await;
    let left: Vec<String> = all["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["spec"]["nodeName"] == node.as_str())
        .map(|p| text(&p["metadata"]["name"]))
        .collect();
    assert!(left.is_empty(), "still on {node}: {left:?}");
}
