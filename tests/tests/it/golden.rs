//! Golden tests: every built-in kind and the `widgets` CRD recorded from a real kube-apiserver,
//! decoded and projected as the daemon does, queried and printed as the CLI
//! does, must print the lines `kubectl get` printed, relative times included
//! (rendered at the moment kubectl ran, from manifest.jsonl).

use timoneiro_cli::table;
use timoneiro_tests::fixtures;
use timoneirod::catalog::{Builtin, Kind};
use timoneirod::query::{self, Query};
use timoneirod::server;

/// Print a recorded kind as `timoneiro get KIND -n fixtures [-o wide] --sort-by name` would.
fn print(kind: &Kind, wide: bool, now: i64) -> Vec<String> {
    let store = fixtures::store(kind);
    let spec = kind.spec();
    let namespace = spec.namespaced.then(|| "fixtures".to_string());
    let query = Query::parse(spec, namespace, "", "", "name", 0, None).expect("query");
    let result = query::run(&store, &query);
    let rows: Vec<_> = result
        .rows
        .iter()
        .map(|r| server::row(kind, r, false, wide))
        .collect();
    table::render(&server::columns(kind, false, wide), &rows, now, true)
}

fn golden(kind: &Kind, wide: bool) {
    let file = format!(
        "kubectl/{}{}.txt",
        kind.spec().plural,
        if wide { ".wide" } else { "" }
    );
    let expected: Vec<String> = fixtures::read(&file).lines().map(str::to_string).collect();
    let actual = print(kind, wide, fixtures::captured_at(&file));
    if expected != actual {
        panic!(
            "{file} differs\n--- kubectl\n{}\n--- timoneiro\n{}\n",
            expected.join("\n"),
            actual.join("\n")
        );
    }
}

/// Every built-in kind (secrets have their own test below: their recorded
/// list is a Table) and the `widgets` CRD, each with and without `-o wide`.
/// A new built-in kind is checked here as soon as it is in
/// `project::BUILTIN` and its `kubectl/PLURAL.txt` is recorded.
#[test]
fn every_kind_prints_as_kubectl() {
    let kinds = Builtin::ALL
        .into_iter()
        .filter(|b| *b != Builtin::SECRETS)
        .map(Builtin::kind)
        .chain([fixtures::widgets()]);
    let mut checked = 0;
    for kind in kinds {
        golden(&kind, false);
        golden(&kind, true);
        checked += 1;
    }
    assert_eq!(checked, Builtin::ALL.len(), "17 built-in kinds and widgets");
}

/// `--show-labels`: kubectl's LABELS column, every label `k=v` sorted by key.
#[test]
fn pods_show_labels() {
    let kind = Builtin::PODS.kind();
    let file = "kubectl/pods.show-labels.txt";
    let store = fixtures::store(&kind);
    let query = Query::parse(
        kind.spec(),
        Some("fixtures".into()),
        "",
        "",
        "name",
        0,
        None,
    )
    .expect("query");
    let rows: Vec<_> = query::run(&store, &query)
        .rows
        .iter()
        .map(|r| server::row(&kind, r, false, false))
        .collect();
    let (columns, rows) =
        table::with_label_columns(&server::columns(&kind, false, false), &rows, &[], true);
    let actual = table::render(&columns, &rows, fixtures::captured_at(file), true);
    let expected: Vec<String> = fixtures::read(file).lines().map(str::to_string).collect();
    assert_eq!(actual, expected);
}

/// Secrets come as the server's Table (`table/secrets.json`): kubectl's
/// lines exactly, TYPE and DATA included, and nothing of the values (nor
/// the last-applied-configuration annotation that carries them) in a row.
#[test]
fn secrets_print_as_kubectl_without_their_values() {
    for file in ["kubectl/secrets.txt", "kubectl/secrets.wide.txt"] {
        let expected: Vec<String> = fixtures::read(file).lines().map(str::to_string).collect();
        let actual = print(
            &Builtin::SECRETS.kind(),
            file.contains("wide"),
            fixtures::captured_at(file),
        );
        assert_eq!(actual, expected, "{file}");
    }
    let recorded = fixtures::read("table/secrets.json");
    assert!(
        recorded.contains("last-applied-configuration"),
        "the fixture carries the annotation"
    );
    for parts in fixtures::project_list(&Builtin::SECRETS.kind()) {
        let text = format!("{parts:?}");
        assert!(
            !text.contains("last-applied") && !text.contains("stringData"),
            "{text}"
        );
    }
}

/// Kinds without a compiled projection come as the API server's Table:
/// every recorded `other-kinds/table/*.json` (13 kinds: endpointslices,
/// roles, leases, apiservices, CRDs, …) projected as the daemon projects a
/// Table row and printed as the CLI prints must be kubectl's own lines
/// (`other-kinds/kubectl/*.txt`, `-o wide` too), ages recomputed at the
/// moment kubectl ran.
#[test]
fn other_kinds_print_the_server_table_as_kubectl() {
    use std::sync::Arc;
    use timoneirod::catalog::Discovered;
    use timoneirod::store::Store;
    let manifest = fixtures::read("other-kinds/manifest.jsonl");
    let mut checked = 0;
    for line in manifest.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).expect("manifest line");
        let name = entry["name"].as_str().expect("name");
        let path = entry["path"].as_str().expect("path");
        let all_namespaces = entry["kubectl"].as_str().expect("kubectl").contains(" -A");
        let finished: jiff::Timestamp = entry["finished"]
            .as_str()
            .expect("finished")
            .parse()
            .expect("a time");
        let body = fixtures::read(&format!("other-kinds/table/{name}.json"));
        let table: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        let columns = timoneirod::table::column_definitions(&table).expect("columns");
        let (group, version) = match path.split('/').collect::<Vec<_>>()[..] {
            ["", "api", version, ..] => (String::new(), version.to_string()),
            ["", "apis", group, version, ..] => (group.to_string(), version.to_string()),
            _ => panic!("{path}"),
        };
        let found = Discovered {
            plural: name.to_string(),
            singular: String::new(),
            kind: String::new(),
            group,
            version,
            namespaced: path.contains("/namespaces/") || all_namespaces,
            short_names: Vec::new(),
        };
        let kind = Kind::table(found, columns);
        let timoneirod::catalog::Source::Table(names) = kind.spec().source.clone() else {
            unreachable!("Kind::table")
        };
        let store = Store::new(kind.clone(), Arc::new(tokio::sync::watch::channel(0).0));
        store.begin_relist();
        let rows = timoneirod::table::list_rows(body.as_bytes(), "v1", "Object").expect("rows");
        for row in rows {
            store.relist_apply(vec![timoneirod::project::table_row(&names, &row)]);
        }
        store.finish_relist();
        for wide in [false, true] {
            let file = format!(
                "other-kinds/kubectl/{name}{}.txt",
                if wide { ".wide" } else { "" }
            );
            let spec = kind.spec();
            let namespace = (spec.namespaced && !all_namespaces).then(|| "fixtures".to_string());
            let query = Query::parse(spec, namespace, "", "", "name", 0, None).expect("query");
            let result = query::run(&store, &query);
            let rows: Vec<_> = result
                .rows
                .iter()
                .map(|r| server::row(&kind, r, all_namespaces, wide))
                .collect();
            let actual = table::render(
                &server::columns(&kind, all_namespaces, wide),
                &rows,
                finished.as_millisecond(),
                true,
            );
            // kubectl writes the server's deprecation warning (`Warning:`
            // header, endpoints) on stderr, which the recording kept.
            let mut expected: Vec<String> = fixtures::read(&file)
                .lines()
                .filter(|line| !line.starts_with("Warning: "))
                .map(str::to_string)
                .collect();
            // kubectl keeps the server's row order (flowschemas by matching
            // precedence); the daemon sorts its own way: the same lines.
            let mut actual = actual;
            expected[1..].sort();
            actual[1..].sort();
            if expected != actual {
                panic!(
                    "{file} differs\n--- kubectl\n{}\n--- timoneiro\n{}\n",
                    expected.join("\n"),
                    actual.join("\n")
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 26, "13 kinds, default and wide");
}

/// A built-in kind's AGE sorts by the row's inline creation time
/// (`query::Query::parse`), which holds only while every AGE cell is that
/// time: checked against each recorded object's `creationTimestamp`.
#[test]
fn every_age_cell_is_the_recorded_creation_time() {
    let mut checked = 0;
    for builtin in Builtin::ALL {
        let kind = builtin.kind();
        let Some(at) = kind.spec().columns.iter().position(|c| c.name == "AGE") else {
            continue;
        };
        let file = fixtures::list_file(&kind);
        let text = fixtures::read(&file);
        for (parts, object) in fixtures::decode_body(&kind, &file, fixtures::Body::Json(&text)) {
            let recorded: jiff::Timestamp = object["metadata"]["creationTimestamp"]
                .as_str()
                .expect("a recorded creationTimestamp")
                .parse()
                .expect("an RFC 3339 time");
            let cell = &parts.cells[at];
            assert!(
                cell.text.is_empty() && cell.since_ms == recorded.as_millisecond(),
                "{file}: {} has AGE {cell:?}, created {recorded}",
                parts.name
            );
            assert_eq!(
                parts.created_ms,
                recorded.as_millisecond(),
                "{file}: {}",
                parts.name
            );
            checked += 1;
        }
    }
    assert!(
        checked > 100,
        "{checked} recorded objects with an AGE column"
    );
}
