//! The simulator's answers have the shapes of the recorded kube-apiserver
//! 1.36 responses (`tests/fixtures/kube-apiserver-v1.36/`): bodies, key
//! order, paging tokens, error Statuses, watch events and bookmarks, and the
//! framing (Content-Length vs chunked).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use timoneiro_sim::resources::Resource;
use timoneiro_sim::{Running, Settings};

fn fixture(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/kube-apiserver-v1.36")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Top-level keys of an object, in order.
fn keys(value: &Value) -> Vec<String> {
    value
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Key order of the raw JSON text's top-level object (serde_json's Map sorts, the text does not).
fn raw_keys(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let (mut depth, mut in_string, mut escaped, mut current, mut expect_key) =
        (0, false, false, String::new(), false);
    for c in text.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
                if depth == 1 && expect_key {
                    keys.push(std::mem::take(&mut current));
                    expect_key = false;
                }
            } else if depth == 1 && expect_key {
                current.push(c);
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => {
                depth += 1;
                if depth == 1 {
                    expect_key = true;
                }
            }
            '}' | ']' => depth -= 1,
            ',' if depth == 1 => expect_key = true,
            _ => {}
        }
    }
    keys
}

struct Sim {
    running: Running,
    token: String,
}

impl Sim {
    async fn start(settings: Settings) -> Sim {
        let token = settings.token.clone();
        Sim {
            running: timoneiro_sim::start(settings).await.expect("sim starts"),
            token,
        }
    }

    async fn default() -> Sim {
        Sim::start(Settings {
            pods: 60,
            namespaces: 2,
            ..Settings::default()
        })
        .await
    }

    /// A raw HTTP/1.1 exchange: status, headers (lower-case names), body (de-chunked).
    fn request(
        &self,
        path: &str,
        accept: Option<&str>,
        token: bool,
    ) -> (u16, Vec<(String, String)>, String) {
        let mut stream = std::net::TcpStream::connect(self.running.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let mut request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nUser-Agent: timoneiro-tests\r\n",
            self.running.addr
        );
        if token {
            request.push_str(&format!("Authorization: Bearer {}\r\n", self.token));
        }
        if let Some(accept) = accept {
            request.push_str(&format!("Accept: {accept}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).expect("write");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read");
        let text = String::from_utf8(raw).expect("utf-8");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        let mut lines = head.lines();
        let status: u16 = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .expect("status");
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| {
                l.split_once(": ")
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            })
            .collect();
        let chunked = headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v == "chunked");
        let body = if chunked {
            dechunk(body)
        } else {
            body.to_string()
        };
        (status, headers, body)
    }

    fn get(&self, path: &str) -> (u16, Vec<(String, String)>, String) {
        self.request(path, None, true)
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_have_the_recorded_shape_and_framing() {
    let sim = Sim::default().await;
    let recorded = fixture("list/pods.json");
    let (status, headers, body) = sim.get("/api/v1/pods");
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert_eq!(
        header(&headers, "transfer-encoding"),
        Some("chunked"),
        "large bodies are chunked"
    );
    for name in [
        "audit-id",
        "cache-control",
        "x-kubernetes-pf-flowschema-uid",
        "x-kubernetes-pf-prioritylevel-uid",
    ] {
        assert!(header(&headers, name).is_some(), "{name}");
    }
    assert!(
        body.ends_with("}\n") && !body.contains("\n{"),
        "compact JSON ending in a newline"
    );
    assert_eq!(raw_keys(&body), raw_keys(&recorded), "PodList key order");
    assert!(body.starts_with(
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\""
    ));
    let ours = json(&body);
    let theirs = json(&recorded);
    assert_eq!(keys(&ours["metadata"]), keys(&theirs["metadata"]));
    let recorded_item_keys = keys(&theirs["items"][0]);
    let recorded_meta_keys: std::collections::BTreeSet<String> = theirs["items"]
        .as_array()
        .expect("items")
        .iter()
        .flat_map(|i| keys(&i["metadata"]))
        .collect();
    for item in ours["items"].as_array().expect("items") {
        assert_eq!(
            keys(item),
            recorded_item_keys,
            "items carry no kind/apiVersion, like the server's"
        );
        for key in keys(&item["metadata"]) {
            assert!(
                recorded_meta_keys.contains(&key),
                "metadata.{key} is not in the recorded pods"
            );
        }
        assert!(item["metadata"]["resourceVersion"].is_string());
    }
    // Small bodies come with Content-Length.
    let (status, headers, body) = sim.get("/api/v1/namespaces/nowhere/pods");
    assert_eq!(status, 200);
    assert!(
        header(&headers, "content-length").is_some()
            && header(&headers, "transfer-encoding").is_none()
    );
    assert!(body.ends_with("\"items\":[]}\n"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_matches_the_recorded_pages() {
    let sim = Sim::default().await;
    let page1 = json(&fixture("list/pods-page1.json"));
    let namespace = &sim.running.namespaces[0];
    let (_, _, body) = sim.get(&format!("/api/v1/namespaces/{namespace}/pods?limit=5"));
    let ours = json(&body);
    assert_eq!(
        keys(&ours["metadata"]),
        keys(&page1["metadata"]),
        "resourceVersion, continue, remainingItemCount"
    );
    assert_eq!(ours["items"].as_array().map(Vec::len), Some(5));
    let token_keys = |token: &str| {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .expect("base64url");
        raw_keys(std::str::from_utf8(&bytes).expect("utf-8"))
    };
    let recorded_token = page1["metadata"]["continue"].as_str().expect("token");
    let token = ours["metadata"]["continue"]
        .as_str()
        .expect("token")
        .to_string();
    assert_eq!(
        token_keys(&token),
        token_keys(recorded_token),
        "continue token content"
    );

    // Walking every page gives the whole list, at one resourceVersion, in key order.
    let (_, _, full) = sim.get(&format!("/api/v1/namespaces/{namespace}/pods"));
    let full = json(&full);
    let mut names: Vec<String> = Vec::new();
    let mut page = ours.clone();
    loop {
        assert_eq!(
            page["metadata"]["resourceVersion"], ours["metadata"]["resourceVersion"],
            "pages share the first page's resourceVersion"
        );
        names.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| i["metadata"]["name"].as_str().unwrap_or("").to_string()),
        );
        let Some(next) = page["metadata"]["continue"].as_str() else {
            break;
        };
        let remaining = page["metadata"]["remainingItemCount"]
            .as_u64()
            .expect("remainingItemCount");
        let (_, _, body) = sim.get(&format!(
            "/api/v1/namespaces/{namespace}/pods?limit=5&continue={next}"
        ));
        page = json(&body);
        assert_eq!(
            remaining,
            full["items"].as_array().map_or(0, Vec::len) as u64 - names.len() as u64
        );
    }
    let want: Vec<String> = full["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(names, want);

    // Across namespaces too, including a namespace name that prefixes another.
    let (_, _, all) = sim.get("/api/v1/configmaps?limit=7");
    let mut count = json(&all)["items"].as_array().map_or(0, Vec::len);
    let mut next = json(&all)["metadata"]["continue"]
        .as_str()
        .map(str::to_string);
    while let Some(token) = next {
        let (_, _, body) = sim.get(&format!("/api/v1/configmaps?limit=7&continue={token}"));
        let page = json(&body);
        count += page["items"].as_array().map_or(0, Vec::len);
        next = page["metadata"]["continue"].as_str().map(str::to_string);
    }
    assert_eq!(
        count,
        sim.running
            .store
            .count(Resource::by_plural("configmaps").expect("configmaps"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_and_error_bodies_are_the_recorded_ones() {
    let sim = Sim::default().await;
    sim.running.store.compact();
    // LIST with a too-old resourceVersion: HTTP 410, the recorded body exactly.
    let (status, _, body) =
        sim.get("/api/v1/namespaces/fixtures/pods?resourceVersion=1&resourceVersionMatch=Exact");
    assert_eq!(status, 410);
    assert_eq!(
        body.trim_end(),
        fixture("errors/list-too-old-rv.json").trim_end()
    );
    // An expired continue token: 410 with a fresh token to continue inconsistently.
    let expired = json(&fixture("errors/expired-continue.json"));
    let stale = "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOiIvY2FjaGUtMVx1MDAwMCJ9";
    let (status, _, body) = sim.get(&format!(
        "/api/v1/namespaces/fixtures/pods?limit=5&continue={stale}"
    ));
    assert_eq!(status, 410);
    let ours = json(&body);
    assert_eq!(
        raw_keys(&body),
        raw_keys(&fixture("errors/expired-continue.json"))
    );
    assert_eq!(ours["message"], expired["message"]);
    assert_eq!(
        ours["metadata"]["continue"], expired["metadata"]["continue"],
        "the fresh token resumes after cache-1"
    );
    // A token that is not a token: 400.
    let (status, _, body) = sim.get("/api/v1/pods?limit=5&continue=%21%21%21");
    assert_eq!(status, 400);
    assert_eq!(
        json(&body)["reason"],
        json(&fixture("errors/invalid-continue.json"))["reason"]
    );
    // WATCH from a too-old resourceVersion: HTTP 200, one ERROR event, then the end.
    let (status, headers, body) =
        sim.get("/api/v1/namespaces/fixtures/pods?watch=true&resourceVersion=1");
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "transfer-encoding"), Some("chunked"));
    let recorded = fixture("errors/watch-too-old-rv.json.stream");
    let digits = |s: &str| {
        s.chars()
            .map(|c| if c.is_ascii_digit() { '0' } else { c })
            .collect::<String>()
    };
    let one_digit = |s: String| {
        let mut out = String::new();
        for c in s.chars() {
            if !(c == '0' && out.ends_with('0')) {
                out.push(c);
            }
        }
        out
    };
    assert_eq!(body.lines().count(), 1, "{body}");
    assert_eq!(one_digit(digits(&body)), one_digit(digits(&recorded)));
    // Unknown object, unknown resource, no token: the recorded bodies exactly.
    let (status, _, body) = sim.get("/api/v1/namespaces/fixtures/pods/does-not-exist");
    assert_eq!(status, 404);
    assert_eq!(body.trim_end(), fixture("errors/not-found.json").trim_end());
    let (status, _, body) = sim.get("/api/v1/nosuchkinds");
    assert_eq!(status, 404);
    assert_eq!(
        body.trim_end(),
        fixture("errors/unknown-resource.json").trim_end()
    );
    let (status, headers, body) = sim.request("/api/v1/pods", None, false);
    assert_eq!(status, 401);
    assert_eq!(
        body.trim_end(),
        fixture("errors/unauthorized.json").trim_end()
    );
    assert!(
        header(&headers, "x-kubernetes-pf-flowschema-uid").is_none(),
        "the 401 has no APF headers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_resources_answer_like_rbac() {
    let sim = Sim::start(Settings {
        pods: 10,
        namespaces: 1,
        forbid: vec!["secrets".into()],
        ..Settings::default()
    })
    .await;
    let (status, _, body) = sim.get("/api/v1/secrets");
    assert_eq!(status, 403);
    let recorded = fixture("errors/forbidden-secrets.json");
    assert_eq!(raw_keys(&body), raw_keys(&recorded));
    let mask_user = |s: &str| {
        s.split("User \\\"").next().unwrap_or_default().to_string()
            + s.split("\\\" cannot").nth(1).unwrap_or_default()
    };
    assert_eq!(mask_user(body.trim_end()), mask_user(recorded.trim_end()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_only_lists_match_the_recorded_ones() {
    let sim = Sim::default().await;
    let recorded = fixture("list/secrets.metadata.json");
    let accept =
        "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
    let (status, _, body) = sim.request("/api/v1/secrets", Some(accept), true);
    assert_eq!(status, 200);
    assert_eq!(raw_keys(&body), raw_keys(&recorded));
    let ours = json(&body);
    let theirs = json(&recorded);
    assert_eq!(ours["kind"], "PartialObjectMetadataList");
    assert_eq!(ours["apiVersion"], "meta.k8s.io/v1");
    for item in ours["items"].as_array().expect("items") {
        assert_eq!(
            keys(item),
            keys(&theirs["items"][0]),
            "kind, apiVersion, metadata only: no data, no type"
        );
        assert_eq!(item["kind"], "PartialObjectMetadata");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_stream_changes_and_bookmarks_like_the_server() {
    let sim = Sim::start(Settings {
        pods: 20,
        namespaces: 1,
        bookmark_interval: Duration::from_millis(300),
        ..Settings::default()
    })
    .await;
    let namespace = sim.running.namespaces[0].clone();
    let (_, _, list) = sim.get(&format!("/api/v1/namespaces/{namespace}/pods"));
    let rv = json(&list)["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();
    let store = sim.running.store.clone();
    let pods = Resource::by_plural("pods").expect("pods");
    let ns = namespace.clone();
    let path = format!(
        "/api/v1/namespaces/{namespace}/pods?watch=true&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=2"
    );
    let watch = tokio::task::spawn_blocking(move || sim.get(&path));
    // Changes made while the watch runs (and one in another namespace it must not see).
    let (_, items) = store.list(pods, Some(&ns));
    let mut value = items[0].value();
    value["metadata"]["name"] = Value::String("watch-demo".into());
    value["metadata"]["uid"] = Value::String("0b034000-66e7-4c15-91b1-9762ecadf189".into());
    store.create(pods, value.clone()).expect("create");
    value["metadata"]["labels"] = serde_json::json!({"tier": "demo"});
    store.update(pods, value.clone()).expect("update");
    store
        .delete(pods, &(ns.clone(), "watch-demo".into()))
        .expect("delete");
    let mut elsewhere = value.clone();
    elsewhere["metadata"]["namespace"] = Value::String("other".into());
    store.create(pods, elsewhere).expect("create elsewhere");
    let (status, _, body) = watch.await.expect("watch");
    assert_eq!(status, 200);
    let events: Vec<Value> = body.lines().map(json).collect();
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or(""))
        .filter(|t| *t != "BOOKMARK")
        .collect();
    assert_eq!(types, ["ADDED", "MODIFIED", "DELETED"], "{body}");
    let recorded: Vec<&str> = fixture("watch/pods.json.stream")
        .lines()
        .map(str::to_string)
        .collect::<Vec<_>>()
        .leak()
        .iter()
        .map(String::as_str)
        .collect();
    let first_recorded = recorded
        .iter()
        .find(|l| l.contains("\"ADDED\""))
        .expect("recorded ADDED");
    let first_ours = body
        .lines()
        .find(|l| l.contains("\"ADDED\""))
        .expect("ADDED");
    assert_eq!(
        raw_keys(first_ours),
        raw_keys(first_recorded),
        "type, object"
    );
    let object_prefix = |line: &str| {
        line.split("\"metadata\"")
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        object_prefix(first_ours),
        object_prefix(first_recorded),
        "events carry kind and apiVersion first"
    );
    let deleted = events
        .iter()
        .find(|e| e["type"] == "DELETED")
        .expect("DELETED");
    let modified = events
        .iter()
        .find(|e| e["type"] == "MODIFIED")
        .expect("MODIFIED");
    let rv_of = |e: &Value| {
        e["object"]["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
    };
    assert!(
        rv_of(deleted) > rv_of(modified),
        "DELETED carries a new resourceVersion"
    );
    // Bookmarks: the recorded shape, a resourceVersion no older than the events before them.
    let recorded_bookmark = recorded
        .iter()
        .find(|l| l.contains("BOOKMARK"))
        .expect("recorded BOOKMARK");
    let bookmark = body
        .lines()
        .find(|l| l.contains("BOOKMARK"))
        .expect("a BOOKMARK within the watch");
    let without_rv = |s: &str| {
        json(s)["object"]["metadata"]
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
    };
    assert_eq!(without_rv(bookmark), without_rv(recorded_bookmark));
    assert_eq!(
        json(bookmark)["object"]["spec"],
        json(recorded_bookmark)["object"]["spec"]
    );
    let last_bookmark = events
        .iter()
        .rev()
        .find(|e| e["type"] == "BOOKMARK")
        .expect("bookmark");
    assert!(rv_of(last_bookmark) >= rv_of(deleted));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_documents_have_the_recorded_shapes() {
    let sim = Sim::start(Settings {
        pods: 10,
        namespaces: 1,
        crds: vec!["widgets".into()],
        ..Settings::default()
    })
    .await;
    let aggregated =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    for (path, recorded) in [
        ("/api", "discovery/aggregated-api.json"),
        ("/apis", "discovery/aggregated-apis.json"),
    ] {
        let (status, headers, body) = sim.request(path, Some(aggregated), true);
        assert_eq!(status, 200, "{path}");
        let recorded_headers = fixture(&format!("{recorded}.headers"));
        assert!(
            recorded_headers.contains(&format!(
                "Content-Type: {}",
                header(&headers, "content-type").unwrap_or_default()
            )),
            "{path}: {headers:?}"
        );
        assert_eq!(raw_keys(&body), raw_keys(&fixture(recorded)), "{path}");
        // What the sim serves is a subset of what the real server listed,
        // entry for entry.
        let ours = json(&body);
        let theirs = json(&fixture(recorded));
        for group in ours["items"].as_array().expect("items") {
            let name = &group["metadata"]["name"];
            if name == "metrics.k8s.io" {
                // metrics-server's group: the recorded cluster had none, so
                // the sim's entry is held to the recorded entries' shape.
                let a_recorded = &theirs["items"][0];
                let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
                assert_eq!(keys(group), keys(a_recorded), "{group}");
                assert_eq!(
                    keys(&group["versions"][0]),
                    keys(&a_recorded["versions"][0]),
                    "{group}"
                );
                continue;
            }
            let real = theirs["items"]
                .as_array()
                .expect("items")
                .iter()
                .find(|g| &g["metadata"]["name"] == name)
                .expect("a recorded group");
            for resource in group["versions"][0]["resources"]
                .as_array()
                .expect("resources")
            {
                assert!(
                    real["versions"][0]["resources"]
                        .as_array()
                        .expect("resources")
                        .contains(resource),
                    "{resource}"
                );
            }
        }
        assert!(body.ends_with('\n'));
    }
    // Legacy documents, for clients without aggregated discovery.
    for (path, recorded) in [
        ("/api", "discovery/api.json"),
        ("/apis", "discovery/apis.json"),
        ("/api/v1", "discovery/api-v1.json"),
        ("/apis/apps/v1", "discovery/apis-apps-v1.json"),
    ] {
        let (status, _, body) = sim.get(path);
        assert_eq!(status, 200, "{path}");
        assert_eq!(raw_keys(&body), raw_keys(&fixture(recorded)), "{path}");
    }
    let (_, _, body) = sim.get("/apis/apps/v1");
    let names: Vec<String> = json(&body)["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["name"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        names,
        ["daemonsets", "deployments", "replicasets", "statefulsets"]
    );
    // The CRD, as recorded.
    let (status, _, body) =
        sim.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com");
    assert_eq!(status, 200);
    assert_eq!(
        json(&body)["spec"],
        json(&fixture("crd/widgets.json"))["spec"]
    );
    let (status, _, _) =
        sim.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.com");
    assert_eq!(status, 404);
}
