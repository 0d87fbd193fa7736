//! Entry points for the fuzz targets in `fuzz/` (`cargo +nightly fuzz run
//! query`), with the properties they check. They live here, not in the fuzz
//! crate, so the unit tests below run them on every `cargo test` and they
//! cannot rot between fuzzing sessions.
//!
//! Input: line 1 is a filter, line 2 a label selector, line 3 a sort key;
//! every further line is a pod row: `namespace name cell… key=value…`.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::catalog::Builtin;
use crate::filter::Filter;
use crate::query::{self, Query, QueryError};
use crate::row::{Cell, RowParts};
use crate::selector::Selector;
use crate::store::Store;

/// Parse and run a query over rows made from the input; panics when a
/// property fails: no panic anywhere, error positions inside the text, and
/// the answer consistent (window ≤ matched ≤ total, every returned row
/// passes the selector).
pub fn query(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.lines();
    let filter = lines.next().unwrap_or_default();
    let selector = lines.next().unwrap_or_default();
    let sort = lines.next().unwrap_or_default();
    let store = Store::new(
        Builtin::PODS.kind(),
        Arc::new(tokio::sync::watch::channel(0).0),
    );
    store.start();
    store.begin_relist();
    for (i, line) in lines.enumerate() {
        let mut words = line.split(' ');
        let namespace = words.next().unwrap_or_default().to_string();
        let name = words.next().unwrap_or_default().to_string();
        let (labels, cells): (Vec<&str>, Vec<&str>) = words.partition(|w| w.contains('='));
        store.relist_apply(vec![RowParts {
            namespace,
            name,
            uid: i.to_string(),
            created_ms: i as i64,
            cells: cells.into_iter().map(Cell::text).collect(),
            labels: labels
                .into_iter()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            object: Vec::new(),
        }]);
    }
    store.finish_relist();
    let spec = Builtin::PODS.kind();
    match Query::parse(spec.spec(), None, filter, selector, sort, 0, Some(50)) {
        Ok(query) => {
            let answer = query::run(&store, &query);
            assert!(answer.rows.len() <= answer.matched && answer.matched <= answer.total);
            assert_eq!(answer.total, store.status().objects as usize);
            for row in &answer.rows {
                assert!(query.selector.matches(|k| row.label(k)));
            }
        }
        Err(QueryError::Filter(error)) => {
            assert!(error.position <= filter.chars().count() + 1, "{error:?}");
        }
        Err(QueryError::Selector(error)) => {
            assert!(error.position <= selector.chars().count() + 1, "{error:?}");
        }
        Err(_) => {}
    }
}

/// Parse a selector (line 1) and match it against labels (`key=value`
/// words of line 2); panics when a property fails: no panic, error positions
/// inside the text, and a parsed selector matching the same labels whether
/// it is parsed once or twice (parsing is deterministic).
pub fn selector(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (line, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let labels: BTreeMap<String, String> = rest
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    match Selector::parse(line) {
        Ok(selector) => {
            let again = Selector::parse(line).expect("parses twice");
            assert_eq!(selector, again);
            let _ = selector.matches_map(&labels);
        }
        Err(error) => assert!(error.position <= line.chars().count() + 1, "{error:?}"),
    }
    if let Err(error) = Filter::parse(line) {
        assert!(error.position <= line.chars().count() + 1, "{error:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeds of the fuzz corpus, run as plain tests.
    #[test]
    fn the_fuzz_entry_points_hold_on_their_seeds() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
        let mut seen = 0;
        for (target, run) in [("query", query as fn(&[u8])), ("selector", selector)] {
            for entry in std::fs::read_dir(dir.join(target)).expect("seed folder") {
                let path = entry.expect("entry").path();
                run(&std::fs::read(&path).expect("seed"));
                seen += 1;
            }
        }
        assert!(seen >= 6, "seeds found: {seen}");
    }
}
