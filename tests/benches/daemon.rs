//! Micro-benchmarks of the daemon's hot paths, on rows made from the
//! recorded fixtures: projection (object → row), the filter, sorting and
//! windowing, and store updates.
//!
//!   cargo bench -p timoneiro-tests --bench daemon
//!
//! Whole-system numbers (processes, sockets, the sim) come from
//! `target/release/bench`; see BENCHMARKS.md.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use k8s_openapi::api::core::v1::Pod;
use kube::core::ObjectList;
use timoneiro_tests::fixtures;
use timoneirod::catalog::Builtin;
use timoneirod::codec::{Kept, ObjectCodec};
use timoneirod::query::{self, Query};
use timoneirod::row::RowParts;
use timoneirod::store::Store;

/// `n` pod rows: the recorded pods' projections, renamed across 50 namespaces.
fn pod_rows(n: usize) -> Vec<RowParts> {
    let templates = fixtures::project_list(&Builtin::PODS.kind());
    (0..n)
        .map(|i| {
            let template = &templates[i % templates.len()];
            RowParts {
                namespace: format!("team-{:02}", i % 50),
                name: format!("{}-{i}", template.name),
                uid: format!("uid-{i}"),
                created_ms: template.created_ms - (i as i64 * 1000),
                ..template.clone()
            }
        })
        .collect()
}

fn store_of(n: usize) -> Store {
    let store = Store::new(
        Builtin::PODS.kind(),
        Arc::new(tokio::sync::watch::channel(0).0),
    );
    store.begin_relist();
    for parts in pod_rows(n) {
        store.relist_apply(vec![parts]);
    }
    store.finish_relist();
    store
}

fn query(filter: &str, sort: &str, limit: Option<usize>) -> Query {
    Query::parse(
        Builtin::PODS.kind().spec(),
        None,
        filter,
        "",
        sort,
        0,
        limit,
    )
    .expect("query")
}

fn projection(c: &mut Criterion) {
    let list: ObjectList<Pod> =
        serde_json::from_str(&fixtures::read("list/pods.json")).expect("pods");
    c.bench_function("project 50 recorded pods", |b| {
        b.iter(|| {
            for pod in &list.items {
                black_box(timoneirod::project::pod(pod));
            }
        })
    });
    let json: Vec<Vec<u8>> = list
        .items
        .iter()
        .map(|p| serde_json::to_vec(p).expect("json"))
        .collect();
    let codec = ObjectCodec::new();
    c.bench_function("keep 50 pods for Get (JSON → compressed)", |b| {
        b.iter(|| {
            for object in &json {
                black_box(codec.compress(Kept::Json(object)));
            }
        })
    });
}

fn filter_and_sort(c: &mut Criterion) {
    let store = store_of(100_000);
    for (name, filter, sort) in [
        ("100k pods: 50 newest, no filter", "", ""),
        ("100k pods: 50 by name", "", "NAME"),
        ("100k pods: 50 by STATUS", "", "STATUS"),
        ("100k pods: fuzzy \"crash\"", "crash", ""),
        ("100k pods: \"web !team-01\"", "web !team-01", ""),
        ("100k pods: anchored \"^api\"", "^api", ""),
    ] {
        let query = query(filter, sort, Some(50));
        c.bench_function(name, |b| b.iter(|| black_box(query::run(&store, &query))));
    }
    let all = query("", "", None);
    c.bench_function("100k pods: all rows, newest first", |b| {
        b.iter(|| black_box(query::run(&store, &all)))
    });
}

fn store_updates(c: &mut Criterion) {
    let store = store_of(100_000);
    let rows = pod_rows(1_000);
    c.bench_function("apply 1000 changed pods to a 100k store", |b| {
        b.iter_batched(
            || rows.clone(),
            |batch| {
                for parts in batch {
                    store.apply(parts);
                }
            },
            BatchSize::LargeInput,
        )
    });
}

/// The recorded pod list, decoded as the informer does (`Lean<Pod>`, no
/// managedFields), from its JSON and its protobuf recording.
fn decode(c: &mut Criterion) {
    use timoneirod::lean::Lean;
    let json = fixtures::read_bytes("list/pods.json");
    let protobuf = fixtures::read_bytes("list/pods.pb");
    c.bench_function("decode the recorded pod list (JSON)", |b| {
        b.iter(|| {
            black_box(
                serde_json::from_slice::<ObjectList<Lean<Pod>>>(&json)
                    .expect("JSON")
                    .items,
            )
        })
    });
    // What building the objects costs without reading either encoding.
    let decoded = serde_json::from_slice::<ObjectList<Lean<Pod>>>(&json)
        .expect("JSON")
        .items;
    c.bench_function("clone the decoded pod list (allocation floor)", |b| {
        b.iter(|| black_box(decoded.clone()))
    });
    // Whole pods: the daemon's decode (`wire::decode_object`, a table per
    // pod message) and the serde bridge every other kind goes through.
    for (name, bridge) in [
        ("decode the recorded pod list (protobuf)", false),
        (
            "decode the recorded pod list (protobuf, serde bridge)",
            true,
        ),
    ] {
        use timoneiro_kpb as kpb;
        c.bench_function(name, |b| {
            b.iter(|| {
                let envelope = kpb::Envelope::parse(&protobuf).expect("protobuf");
                let ty = envelope
                    .message_type()
                    .expect("type")
                    .items()
                    .expect("list");
                let pods: Vec<Lean<Pod>> = kpb::List::parse(envelope.raw)
                    .expect("list")
                    .items
                    .iter()
                    .map(|item| {
                        let object = if bridge {
                            kpb::decode_object(ty, item, envelope.api_version, "Pod").map(Box::new)
                        } else {
                            timoneirod::wire::decode_object(
                                ty,
                                item,
                                envelope.api_version,
                                "Pod",
                                None,
                            )
                        };
                        Lean {
                            object: object.expect("pod"),
                            protobuf: None,
                        }
                    })
                    .collect();
                black_box(pods)
            })
        });
    }
    // What the informer does instead: decode what projections read, keep the bytes.
    c.bench_function(
        "decode the recorded pod list (protobuf, pruned + bytes kept)",
        |b| {
            b.iter(|| {
                black_box(
                    timoneirod::wire::decode_list::<Lean<Pod>>(&protobuf)
                        .expect("protobuf")
                        .1,
                )
            })
        },
    );
}

criterion_group!(benches, decode, projection, filter_and_sort, store_updates);
criterion_main!(benches);
