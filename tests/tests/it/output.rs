//! kubectl-grade output: whole objects from the cache as kubectl
//! prints them, checked against the objects the API server (the sim) serves.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use timoneiro_tests::harness::{Sim, eventually, stderr, stdout, synced_cluster};

/// The sim's pods as the API server returns them (without managedFields,
/// which the cache leaves out), keyed by namespace/name.
async fn sim_objects(sim: &Sim) -> std::collections::BTreeMap<String, Value> {
    let list = sim.json("GET", "/api/v1/pods").await;
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            let mut item = item.clone();
            item["metadata"]
                .as_object_mut()
                .expect("metadata")
                .remove("managedFields");
            let key = format!(
                "{}/{}",
                item["metadata"]["namespace"].as_str().unwrap_or_default(),
                item["metadata"]["name"].as_str().unwrap_or_default()
            );
            (key, item)
        })
        .collect()
}

/// Each item of a `get pods -o json` List is the sim's pod (`sim_objects`),
/// with the kind and apiVersion a List's items carry.
fn assert_items_are_the_sims(items: &[Value], truth: &std::collections::BTreeMap<String, Value>) {
    assert_eq!(items.len(), truth.len());
    for item in items {
        let key = format!(
            "{}/{}",
            item["metadata"]["namespace"].as_str().unwrap_or_default(),
            item["metadata"]["name"].as_str().unwrap_or_default()
        );
        let mut expected = truth[&key].clone();
        expected["apiVersion"] = "v1".into();
        expected["kind"] = "Pod".into();
        assert_eq!(*item, expected, "{key}");
    }
}

/// A quiet cluster of 1,200 pods: the pods kept while the kind's
/// dictionary trained (at least the first 1,000: training starts on the
/// 1,000th, `codec::TRAINING_SAMPLES`) are compressed again with it once
/// the kind is listed, though no event follows the list (the last page
/// usually arrives before the training ends), and every pod still reads
/// back as the API server serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_kept_before_the_dictionary_take_it_and_read_back_whole() {
    let (sim, daemon) = synced_cluster(&["--pods", "1200", "--namespaces", "3"]);
    let objects: usize = eventually("the pods compressed again", Duration::from_secs(60), || {
        daemon.log_text().lines().find_map(|line| {
            let line = line.split_once("compressed again")?.1;
            let objects = line.split_once("objects=")?.1.split(' ').next()?;
            line.contains("kind=pods").then(|| objects.parse().ok())?
        })
    });
    assert!(
        (timoneirod::codec::TRAINING_SAMPLES..=1200).contains(&objects),
        "{objects}"
    );
    let truth = sim_objects(&sim).await;
    let list = daemon.cli_json(&["get", "pods", "-A", "-o", "json"]);
    assert_items_are_the_sims(list["items"].as_array().expect("items"), &truth);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_yaml_jsonpath_and_custom_columns_print_the_cached_objects() {
    // More pods than the daemon writes on one thread (server::PARALLEL_OBJECTS).
    let (sim, daemon) = synced_cluster(&["--pods", "600", "--namespaces", "2"]);
    let truth = sim_objects(&sim).await;

    // -o json: a List whose items are the API server's objects, with kind and apiVersion.
    let output = daemon.cli(&["get", "pods", "-A", "-o", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("{\n    \"apiVersion\": \"v1\",\n    \"items\": ["),
        "{}",
        &text[..200.min(text.len())]
    );
    let list: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["metadata"], serde_json::json!({"resourceVersion": ""}));
    assert_items_are_the_sims(list["items"].as_array().expect("items"), &truth);

    // -o yaml: the same List (written item by item, page by page).
    let output = daemon.cli(&["get", "pods", "-A", "-o", "yaml"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let yaml: Value = serde_saphyr::from_str(&stdout(&output)).expect("YAML");
    assert_eq!(yaml, list);

    // One object by name: the object itself, as YAML.
    let (key, one) = truth.iter().next().expect("a pod");
    let (namespace, name) = key.split_once('/').expect("ns/name");
    let output = daemon.cli(&["get", "pod", name, "-n", namespace, "-o", "yaml"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let yaml = stdout(&output);
    assert!(
        yaml.starts_with("apiVersion: v1\nkind: Pod\nmetadata:\n"),
        "{yaml}"
    );
    assert!(yaml.contains(&format!("  name: {name}\n")), "{yaml}");
    assert!(!yaml.contains("managedFields"), "{yaml}");
    let same = daemon.cli(&["get", "pod", name, "-n", namespace, "-o", "json"]);
    let parsed: Value = serde_json::from_slice(&same.stdout).expect("json");
    assert_eq!(parsed["metadata"]["uid"], one["metadata"]["uid"]);

    // A name that is not there: kubectl's NotFound, exit 1, after what was found.
    let output = daemon.cli(&["get", "pod", name, "no-such-pod", "-n", namespace]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).lines().count(),
        2,
        "header and the one found"
    );
    assert!(
        stderr(&output).contains("pods \"no-such-pod\" not found"),
        "{}",
        stderr(&output)
    );

    // -o jsonpath over the List.
    let output = daemon.cli(&[
        "get",
        "pods",
        "-A",
        "-o",
        r#"jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}"#,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let names: BTreeSet<String> = stdout(&output).lines().map(str::to_string).collect();
    assert_eq!(names, truth.keys().cloned().collect());

    // -o custom-columns.
    let output = daemon.cli(&[
        "get",
        "pods",
        "-A",
        "--sort-by",
        "name",
        "-o",
        "custom-columns=NS:.metadata.namespace,NAME:.metadata.name,PHASE:.status.phase,NOPE:.spec.nothing",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split_whitespace().collect();
    assert_eq!(header, ["NS", "NAME", "PHASE", "NOPE"]);
    for line in lines {
        let cells: Vec<&str> = line.split_whitespace().collect();
        // Names repeat across namespaces (the sim clones its apps).
        let pod = &truth[&format!("{}/{}", cells[0], cells[1])];
        assert_eq!(
            cells[2],
            pod["status"]["phase"].as_str().unwrap_or("<none>")
        );
        assert_eq!(cells[3], "<none>");
    }

    // --sort-by with a JSONPath the table has no column for, as kubectl.
    let output = daemon.cli(&[
        "get",
        "pods",
        "-A",
        "--sort-by",
        ".spec.nodeName",
        "-o",
        "custom-columns=NODE:.spec.nodeName",
        "--no-headers",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let nodes: Vec<String> = stdout(&output).lines().map(str::to_string).collect();
    assert_eq!(nodes.len(), truth.len());
    assert!(nodes.windows(2).all(|w| w[0] <= w[1]), "{nodes:?}");
    let output = daemon.cli(&[
        "get",
        "pods",
        "-A",
        "--sort-by",
        "-{.status.startTime}",
        "--limit",
        "3",
        "--no-headers",
    ]);
    assert_eq!(stdout(&output).lines().count(), 3, "{}", stderr(&output));

    // -L and --show-labels add columns; bad formats are named.
    let output = daemon.cli(&["get", "pods", "-A", "-L", "app", "--show-labels"]);
    let header = stdout(&output)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(
        header
            .split_whitespace()
            .rev()
            .take(2)
            .eq(["LABELS", "APP"]),
        "{header}"
    );
    for bad in ["jsonpath", "jsonpath={.items", "custom-columns=NAME", "xml"] {
        let output = daemon.cli(&["get", "pods", "-o", bad]);
        assert_ne!(output.status.code(), Some(0), "-o {bad}");
        assert!(
            stderr(&output).contains("error"),
            "-o {bad}: {}",
            stderr(&output)
        );
    }
}

/// A table that arrives in several pages (the daemon sends 2,000 rows a
/// page) lines up as kubectl's tabwriter lines it up over the whole
/// answer: every column starts where its header does and is as wide as
/// its widest cell plus three spaces; and it holds every pod once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_of_many_pages_lines_up_over_the_whole_answer() {
    let (sim, daemon) = synced_cluster(&["--pods", "4500", "--namespaces", "3"]);
    let truth = sim_objects(&sim).await;
    let output = daemon.cli(&["get", "pods", "-A"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    // Header names of the default pod table hold no spaces.
    let starts: Vec<usize> = header
        .match_indices(|c: char| c != ' ')
        .filter(|(i, _)| *i == 0 || header.as_bytes()[i - 1] == b' ')
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        starts.len(),
        6,
        "NAMESPACE NAME READY STATUS RESTARTS AGE: {header}"
    );
    let mut widest = vec![0usize; starts.len()];
    let mut names = BTreeSet::new();
    for line in text.lines() {
        for (i, start) in starts.iter().enumerate() {
            let end = starts.get(i + 1).copied().unwrap_or(line.len());
            let cell = &line[*start..end];
            assert!(
                !cell.starts_with(' '),
                "column {i} starts at {start}: {line:?}"
            );
            let shown = cell.trim_end();
            if i + 1 < starts.len() {
                assert!(
                    cell.len() >= shown.len() + 3,
                    "three spaces after column {i}: {line:?}"
                );
            }
            widest[i] = widest[i].max(shown.len());
        }
        if line != header {
            names.insert(format!(
                "{}/{}",
                &line[..starts[1]].trim_end(),
                line[starts[1]..starts[2]].trim_end()
            ));
        }
    }
    for i in 0..starts.len() - 1 {
        assert_eq!(
            starts[i + 1] - starts[i],
            widest[i] + 3,
            "column {i} is its widest cell plus three spaces"
        );
    }
    assert_eq!(names.len(), truth.len());
    assert_eq!(names, truth.keys().cloned().collect::<BTreeSet<_>>());
    assert_eq!(text.lines().count(), truth.len() + 1, "each pod once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_watch_prints_the_table_then_each_change() {
    use std::io::BufRead;
    let (sim, daemon) = synced_cluster(&["--pods", "20", "--namespaces", "1"]);
    let mut child = timoneiro_tests::harness::cli_command(&daemon.socket)
        .args(["get", "pods", "-A", "-w"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("timoneiro get -w");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let next = || {
        rx.recv_timeout(Duration::from_secs(20))
            .expect("a line within 20 s")
    };
    let header = next();
    assert!(header.starts_with("NAMESPACE   NAME"), "{header}");
    for _ in 0..20 {
        next();
    }
    // A new pod: one more line, aligned under the table.
    let created = sim.json("POST", "/sim/pods").await;
    let name = created["name"].as_str().expect("name").to_string();
    let line = loop {
        let line = next();
        if line.contains(&name) {
            break line;
        }
    };
    let name_column = header.match_indices("NAME").nth(1).expect("NAME").0;
    assert_eq!(line.find(&name), Some(name_column), "{header}\n{line}");
    let _ = child.kill();
    let _ = child.wait();
}

/// What the completion engine offers for a command line (fish's protocol:
/// one candidate per line, a tab before its description).
fn complete(socket: &std::path::Path, words: &[&str]) -> Vec<String> {
    let output = timoneiro_tests::harness::cli_command(socket)
        .env("COMPLETE", "fish")
        .arg("--")
        .arg("timoneiro")
        .args(words)
        .output()
        .expect("timoneiro");
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        // An empty word is also offered the options; keep the values.
        .filter(|c| !c.starts_with('-'))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_offers_kinds_namespaces_and_names_from_the_cache() {
    let (sim, daemon) = synced_cluster(&["--pods", "30", "--namespaces", "2", "--crd", "widgets"]);
    let kinds = complete(&daemon.socket, &["get", "po"]);
    assert!(
        kinds.contains(&"pods".to_string()) && kinds.contains(&"po".to_string()),
        "{kinds:?}"
    );
    let kinds = complete(&daemon.socket, &["get", "w"]);
    assert!(
        kinds.contains(&"widgets".to_string()),
        "a CRD found by discovery: {kinds:?}"
    );

    let pods: Vec<Value> = sim.json("GET", "/api/v1/pods").await["items"]
        .as_array()
        .expect("items")
        .clone();
    let namespaces: BTreeSet<String> = sim.json("GET", "/api/v1/namespaces").await["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| {
            n["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    let offered: BTreeSet<String> = complete(&daemon.socket, &["get", "pods", "-n", ""])
        .into_iter()
        .collect();
    assert_eq!(offered, namespaces);

    let namespace = pods[0]["metadata"]["namespace"]
        .as_str()
        .expect("ns")
        .to_string();
    let expected: BTreeSet<String> = pods
        .iter()
        .filter(|p| p["metadata"]["namespace"] == namespace.as_str())
        .map(|p| {
            p["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    let offered: BTreeSet<String> =
        complete(&daemon.socket, &["get", "pods", "-n", &namespace, ""])
            .into_iter()
            .collect();
    assert_eq!(offered, expected);

    // Without a daemon: the built-in kinds, and no daemon is started.
    let nowhere = daemon.dir.path().join("nobody.sock");
    let kinds = complete(&nowhere, &["get", "deploy"]);
    assert_eq!(kinds, ["deployments"]);
    assert!(!nowhere.exists());

    // Scripts and the man page.
    let script = stdout(&daemon.cli(&["completion", "bash"]));
    assert!(
        script.contains("COMPLETE=\"bash\"") || script.contains("COMPLETE=bash"),
        "{script}"
    );
    for shell in ["zsh", "fish"] {
        assert!(daemon.cli(&["completion", shell]).status.success());
    }
    let output = daemon.cli(&["completion", "tcsh"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let man = stdout(&daemon.cli(&["man"]));
    assert!(man.contains(".TH timoneiro 1"), "{man}");
}

/// `-o json` through the protobuf wire, for every built-in kind the sim
/// serves in protobuf: each object is the sim's own JSON of it (what a
/// real API server's JSON is: `null`s included, zero values of
/// `omitempty` fields left out), but managedFields, which the cache never
/// keeps. Secrets come from the server's Table: metadata and type only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_of_every_protobuf_kind_is_the_api_servers_json() {
    let (sim, daemon) = synced_cluster(&["--pods", "150", "--namespaces", "2"]);
    let mut compared = 0;
    for kind in timoneiro_client::BUILTIN_KINDS {
        if kind == "secrets" {
            continue;
        }
        let output = daemon.cli(&["get", kind, "-A", "-o", "json"]);
        assert!(output.status.success(), "{kind}: {}", stderr(&output));
        let list: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let catalog = timoneirod::catalog::Catalog::builtin();
        let spec = catalog.resolve(kind).expect("built in");
        let spec = spec.spec();
        let path = match spec.group.as_str() {
            "" => format!("/api/{}/{}", spec.version, spec.plural),
            group => format!("/apis/{group}/{}/{}", spec.version, spec.plural),
        };
        let truth = sim.json("GET", &path).await;
        let truth: std::collections::BTreeMap<String, Value> = truth["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| {
                let mut item = item.clone();
                if let Some(meta) = item["metadata"].as_object_mut() {
                    meta.remove("managedFields");
                }
                item["apiVersion"] = spec.api_version().into();
                item["kind"] = spec.kind.clone().into();
                (
                    item["metadata"]["uid"].as_str().unwrap_or("").to_string(),
                    item,
                )
            })
            .collect();
        let items = list["items"].as_array().expect("items");
        assert_eq!(items.len(), truth.len(), "{kind}");
        for item in items {
            let uid = item["metadata"]["uid"].as_str().unwrap_or("");
            assert_eq!(Some(item), truth.get(uid), "{kind} {uid}");
            compared += 1;
        }
    }
    assert!(compared > 300, "{compared} objects compared");
}

/// Text a namespace user writes (here a pod's status reason) carries a
/// control sequence that retitles the terminal (OSC 0, ended by BEL) and a
/// carriage return that would overwrite the line. kubectl's table printer
/// escapes ESC and CR in every cell, in a pipe too (kubernetes#101695); on a
/// terminal nothing that drives it may get through, in any output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_sequences_from_the_cluster_never_reach_the_terminal() {
    let (sim, daemon) = synced_cluster(&["--pods", "3", "--namespaces", "1"]);
    let hostile = "\u{1b}]0;pwned\u{7}Evicted\r\u{9b}2J";
    let created = sim
        .create_pod(
            "ns-000",
            &serde_json::json!({"status": {"reason": hostile}}),
        )
        .await;
    let name = created["name"].as_str().expect("name").to_string();
    let line = eventually(
        "the hostile pod in the cache",
        Duration::from_secs(20),
        || {
            let output = daemon.cli(&["get", "pods", "-n", "ns-000", &name, "--no-headers"]);
            if output.status.success() {
                Ok(stdout(&output))
            } else {
                Err(stderr(&output))
            }
        },
    );
    // In a pipe: what kubectl prints, ESC and CR escaped, the rest as sent.
    assert!(
        line.contains("^[]0;pwned\u{7}Evicted\\r\u{9b}2J"),
        "{line:?}"
    );

    // On a terminal (a pseudo-terminal made by script(1)): no control byte
    // but the line ends, in a table, in -o jsonpath and in -o name.
    let on_terminal = |args: &str| {
        let socket = daemon.socket.display();
        let cli = timoneiro_tests::harness::bin("timoneiro");
        let command = format!(
            "TIMONEIRO_NO_AUTOSTART=1 {} --socket {socket} {args}",
            cli.display()
        );
        let output = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("script(1)");
        assert!(output.status.success(), "{command}: {}", stderr(&output));
        stdout(&output)
    };
    let table = on_terminal(&format!("get pods -n ns-000 {name} --no-headers"));
    let jsonpath = on_terminal(&format!(
        "get pods -n ns-000 {name} -o jsonpath={{.status.reason}}"
    ));
    for shown in [&table, &jsonpath] {
        let controls: Vec<char> = shown
            .chars()
            // The pseudo-terminal turns each \n into \r\n.
            .filter(|c| c.is_control() && *c != '\n' && *c != '\r')
            .collect();
        assert!(controls.is_empty(), "{controls:?} in {shown:?}");
        assert!(
            shown.contains("^[]0;pwned^GEvicted\\r\\u009b2J"),
            "{shown:?}"
        );
    }
}
