//! Kinds beyond the first three tiers, end to end: tier 4 on demand, a CRD
//! installed while the daemon runs, discovery without the aggregated
//! endpoints, and secrets only ever asked for as metadata.

use std::time::Duration;

use serde_json::Value;
use timoneiro_tests::harness::{Daemon, Sim, eventually, stderr, stdout, synced_cluster};

fn state_of(status: &Value, plural: &str) -> String {
    status["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .find(|k| k["kind"] == plural)
        .map(|k| k["state"].as_str().unwrap_or("").to_string())
        .unwrap_or_else(|| "absent".into())
}

fn row_names(answer: &Value) -> Vec<String> {
    let mut names: Vec<String> = answer["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["name"].as_str().unwrap_or("").to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tier_4_kind_loads_on_its_first_query() {
    let (sim, daemon) = synced_cluster(&["--pods", "200", "--namespaces", "3"]);
    let status = daemon.cli_json(&["status", "-o", "json"]);
    for plural in [
        "nodes",
        "persistentvolumeclaims",
        "events",
        "horizontalpodautoscalers",
    ] {
        assert_eq!(
            state_of(&status, plural),
            "PENDING",
            "{plural} waits for a query"
        );
    }

    // The first query starts the informer and waits for it, as for any kind.
    let nodes = daemon.cli_json(&["get", "no", "-o", "rows"]);
    assert_eq!(nodes["status"]["state"], "SYNCED");
    let info = sim.json("GET", "/sim/info").await;
    assert_eq!(nodes["total"], info["objects"]["nodes"]);
    assert!(nodes["total"].as_u64().unwrap_or(0) >= 3);
    let status = daemon.cli_json(&["status", "-o", "json"]);
    assert_eq!(state_of(&status, "nodes"), "SYNCED");
    assert_eq!(
        state_of(&status, "events"),
        "PENDING",
        "only what was asked starts"
    );

    // kubectl's columns, wide ones included, for every tier 4 kind.
    for (kind, columns) in [
        (
            "pvc",
            &[
                "NAMESPACE",
                "NAME",
                "STATUS",
                "VOLUME",
                "CAPACITY",
                "ACCESS MODES",
                "STORAGECLASS",
                "VOLUMEATTRIBUTESCLASS",
                "AGE",
                "VOLUMEMODE",
            ][..],
        ),
        (
            "ev",
            &[
                "NAMESPACE",
                "LAST SEEN",
                "TYPE",
                "REASON",
                "OBJECT",
                "SUBOBJECT",
                "SOURCE",
                "MESSAGE",
                "FIRST SEEN",
                "COUNT",
                "NAME",
            ][..],
        ),
        (
            "hpa",
            &[
                "NAMESPACE",
                "NAME",
                "REFERENCE",
                "TARGETS",
                "MINPODS",
                "MAXPODS",
                "REPLICAS",
                "AGE",
            ][..],
        ),
        (
            "ing",
            &[
                "NAMESPACE",
                "NAME",
                "CLASS",
                "HOSTS",
                "ADDRESS",
                "PORTS",
                "AGE",
            ][..],
        ),
        ("sa", &["NAMESPACE", "NAME", "AGE"][..]),
        (
            "no",
            &[
                "NAME",
                "STATUS",
                "ROLES",
                "AGE",
                "VERSION",
                "INTERNAL-IP",
                "EXTERNAL-IP",
                "OS-IMAGE",
                "KERNEL-VERSION",
                "CONTAINER-RUNTIME",
            ][..],
        ),
    ] {
        let output = daemon.cli(&["get", kind, "-A", "-o", "wide"]);
        assert!(output.status.success(), "{kind}: {}", stderr(&output));
        let text = stdout(&output);
        let header: Vec<&str> = text
            .lines()
            .next()
            .unwrap_or_default()
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(header, columns, "{kind}");
        assert!(text.lines().count() > 1, "{kind} has rows: {text}");
    }
    let pv = daemon.cli_json(&["get", "pv", "-o", "rows"]);
    assert_eq!(pv["total"], info["objects"]["persistentvolumes"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crd_installed_while_the_daemon_runs_becomes_listable() {
    let (sim, daemon) = synced_cluster(&["--pods", "100", "--namespaces", "2"]);

    let output = daemon.cli(&["get", "widgets", "-A"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("unknown kind \"widgets\""),
        "{}",
        stderr(&output)
    );

    sim.json("POST", "/sim/crds?name=widgets").await;
    // No restart and no waiting for the periodic discovery: an unknown name
    // triggers a fresh one.
    let widgets = daemon.cli_json(&["get", "widgets", "-A", "-o", "rows"]);
    assert_eq!(widgets["status"]["state"], "SYNCED");
    assert_eq!(widgets["kind"], "widgets");
    let columns: Vec<&str> = widgets["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert_eq!(
        columns,
        [
            "NAMESPACE",
            "NAME",
            "SIZE",
            "REPLICAS",
            "PHASE",
            "LAST-RECONCILED",
            "AGE"
        ],
        "the CRD's printer columns, priority 1 (COLOR) only in wide"
    );
    let names = row_names(&widgets);
    assert_eq!(names.len(), 6, "{names:?}");
    let gizmo = widgets["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["name"] == "gizmo")
        .expect("gizmo");
    assert_eq!(gizmo["cells"][2], "small");
    assert_eq!(gizmo["cells"][3], "1");
    assert_eq!(gizmo["cells"][4], "Ready");

    // Every name kubectl accepts.
    for name in [
        "widget",
        "wdg",
        "Widget",
        "widgets.example.com",
        "widget.v1.example.com",
    ] {
        let output = daemon.cli(&["get", name, "-A", "-o", "name"]);
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        assert_eq!(stdout(&output).lines().count(), 6, "{name}");
    }
    let wide = stdout(&daemon.cli(&["get", "wdg", "-A", "-o", "wide"]));
    assert!(
        wide.lines().next().unwrap_or_default().contains("COLOR"),
        "{wide}"
    );

    let resources = daemon.cli_json(&["api-resources", "-o", "json"]);
    assert_eq!(resources["discovery"], "aggregated");
    let widget = resources["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["name"] == "widgets")
        .expect("widgets listed")
        .clone();
    assert_eq!(widget["group"], "example.com");
    assert_eq!(widget["shortNames"][0], "wdg");
    assert_eq!(widget["namespaced"], true);
    assert_eq!(widget["state"], "SYNCED");
    assert_eq!(widget["tier"], 4);
    let table = stdout(&daemon.cli(&["api-resources"]));
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("widgets") && l.contains("example.com/v1")),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_falls_back_to_the_legacy_endpoints() {
    let (_sim, daemon) = synced_cluster(&[
        "--pods",
        "50",
        "--namespaces",
        "1",
        "--legacy-discovery",
        "--crd",
        "widgets",
    ]);
    let resources = daemon.cli_json(&["api-resources", "--refresh", "-o", "json"]);
    assert_eq!(resources["discovery"], "legacy", "{resources}");
    let widgets = daemon.cli_json(&["get", "wdg", "-A", "-o", "rows"]);
    assert_eq!(widgets["total"], 3);
    assert_eq!(widgets["columns"][2], "SIZE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_only_ever_requested_as_metadata() {
    let (sim, daemon) =
        synced_cluster(&["--pods", "100", "--namespaces", "2", "--churn-rate", "20"]);
    let secrets = daemon.cli_json(&["get", "secrets", "-A", "-o", "rows"]);
    assert!(secrets["total"].as_u64().unwrap_or(0) > 0);
    // kubectl's TYPE and DATA, as the API server computes them from the
    // secrets the daemon never sees (here asked of the sim in full).
    let truth = sim.json("GET", "/api/v1/secrets").await;
    assert_eq!(
        column_names(&secrets),
        ["NAMESPACE", "NAME", "TYPE", "DATA", "AGE"],
        "{secrets}"
    );
    for row in secrets["rows"].as_array().expect("rows") {
        let secret = truth["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|s| s["metadata"]["uid"] == row["uid"])
            .unwrap_or_else(|| panic!("{row} is not a secret of the sim"));
        let cells = row["cells"].as_array().expect("cells");
        assert_eq!(cells[2], secret["type"], "{row}");
        let keys = secret["data"].as_object().map_or(0, |d| d.len());
        assert_eq!(cells[3], keys.to_string(), "{row}");
    }
    // Get serves the kept metadata and type, never a value.
    let first = &secrets["rows"][0];
    let (namespace, name) = (
        first["namespace"].as_str().unwrap_or_default(),
        first["name"].as_str().unwrap_or_default(),
    );
    let object = daemon.cli_json(&["get", "secret", name, "-n", namespace, "-o", "json"]);
    assert_eq!(object["kind"], "Secret");
    assert_eq!(object["apiVersion"], "v1");
    assert_eq!(object["metadata"]["name"], name);
    assert!(object["type"].is_string(), "{object}");
    assert!(object.get("data").is_none(), "{object}");

    let log = sim.json("GET", "/sim/requests").await;
    let requests: Vec<&Value> = log["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter(|r| {
            let uri = r["uri"].as_str().unwrap_or("");
            uri.contains("/secrets") && !uri.starts_with("/sim/")
        })
        .collect();
    let requests: Vec<&Value> = requests
        .into_iter()
        .filter(|r| r["uri"] != "/api/v1/secrets") // the test's own look at the truth
        .collect();
    assert!(!requests.is_empty(), "the secrets informer made requests");
    for request in requests {
        let accept = request["accept"].as_str().unwrap_or("");
        let uri = request["uri"].as_str().unwrap_or("");
        assert!(
            accept.starts_with("application/json;as=Table;")
                && uri.contains("includeObject=Metadata"),
            "secrets asked for other than as a Table of metadata: {request}"
        );
    }
}

/// A kind the daemon has no projection for (`priorityclasses` of
/// scheduling.k8s.io) is found by discovery and watched as the API
/// server's Table: kubectl's columns, the server's cells (here the sim's,
/// computed from its objects), AGE recomputed, WIRE `table`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_without_a_projection_shows_the_servers_columns() {
    let (sim, daemon) = synced_cluster(&["--pods", "50", "--namespaces", "2"]);
    let answer = daemon.cli_json(&["get", "priorityclasses", "-o", "rows"]);
    assert_eq!(
        column_names(&answer),
        ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"],
        "{answer}"
    );
    let truth = sim
        .json("GET", "/apis/scheduling.k8s.io/v1/priorityclasses")
        .await;
    let items = truth["items"].as_array().expect("items");
    let rows = answer["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), items.len(), "{answer}");
    for row in rows {
        let object = items
            .iter()
            .find(|o| o["metadata"]["uid"] == row["uid"])
            .unwrap_or_else(|| panic!("{row} is not a priority class of the sim"));
        let cells = row["cells"].as_array().expect("cells");
        assert_eq!(cells[0], object["metadata"]["name"], "{row}");
        assert_eq!(cells[1], object["value"].to_string(), "{row}");
        let global = object["globalDefault"].as_bool().unwrap_or(false);
        assert_eq!(cells[2], global.to_string(), "{row}");
        assert_eq!(cells[4], object["preemptionPolicy"], "{row}");
    }
    let status = daemon.cli_json(&["status", "-o", "json"]);
    let kind = status["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .find(|k| {
            k["kind"]
                .as_str()
                .unwrap_or("")
                .starts_with("priorityclasses")
        })
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (kind["state"].as_str(), kind["wire"].as_str()),
        (Some("SYNCED"), Some("table")),
        "{kind}"
    );
}

/// The column headers of a `get -o rows` answer.
fn column_names(answer: &Value) -> Vec<&str> {
    answer["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

/// A CRD upgraded to a new version that drops the old one (an operator
/// upgrade): the old version's path is 404 from then on. The daemon used to
/// keep the old cache (its kinds matched by group and plural only), ERROR
/// forever; now the next query after discovery sees the new version retires
/// the old cache and serves the new one, one `widgets` in the status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crd_upgraded_to_another_version_is_followed() {
    let (sim, daemon) = synced_cluster(&["--pods", "10", "--namespaces", "2", "--crd", "widgets"]);
    let widgets = || {
        let output = daemon.cli(&["get", "widgets", "-A", "-o", "json"]);
        serde_json::from_slice::<Value>(&output.stdout).unwrap_or(Value::Null)
    };
    let versions = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|i| i["apiVersion"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let before = versions(&widgets());
    assert!(
        !before.is_empty() && before.iter().all(|v| v == "example.com/v1"),
        "{before:?}"
    );

    sim.json("POST", "/sim/crds?name=widgets&version=v2").await;
    eventually(
        "every widget at example.com/v2",
        Duration::from_secs(90),
        || {
            let now = versions(&widgets());
            if now.len() == before.len() && now.iter().all(|v| v == "example.com/v2") {
                Ok(())
            } else {
                Err(format!("still {now:?}\n{}", daemon.log_text()))
            }
        },
    );
    let status = daemon.cli_json(&["status", "-o", "json"]);
    let entries: Vec<&Value> = status["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .filter(|k| k["kind"].as_str().is_some_and(|k| k.starts_with("widgets")))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["state"], "SYNCED", "{entries:?}");
    assert!(
        daemon.log_text().contains("retiring its cache"),
        "{}",
        daemon.log_text()
    );
}

/// A discovered kind nobody has used (no query, no open stream) for
/// `--idle-evict` is closed: its informer stops and it leaves the status;
/// the next query opens it again. Built-in kinds stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unused_discovered_kind_is_closed_and_reopened_on_demand() {
    let sim = Sim::start(&["--pods", "10", "--namespaces", "1", "--crd", "widgets"]);
    let daemon = Daemon::start_with(&sim.kubeconfig, &["--idle-evict", "3s"]);
    daemon.wait_synced(Duration::from_secs(60));
    let count = || {
        let output = daemon.cli(&["get", "widgets", "-A", "--no-headers"]);
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output).lines().count()
    };
    let widgets = count();
    assert!(widgets > 0);
    let listed = |status: &Value| state_of(status, "widgets");
    assert_eq!(
        listed(&daemon.cli_json(&["status", "-o", "json"])),
        "SYNCED"
    );
    eventually(
        "the unused widgets cache to close",
        Duration::from_secs(30),
        || listed(&daemon.cli_json(&["status", "-o", "json"])) == "absent",
    );
    assert!(daemon.log_text().contains("closing an unused kind's cache"));
    assert_eq!(
        state_of(&daemon.cli_json(&["status", "-o", "json"]), "pods"),
        "SYNCED"
    );
    assert_eq!(count(), widgets, "opened again on demand");
}
