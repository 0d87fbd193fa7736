//! Any other kind, served over the dynamic API: cells from a CRD's
//! `additionalPrinterColumns`, evaluated on the object as the API server's
//! table printer does (missing values print empty, `date` columns as an
//! age), or AGE alone when the kind has no printer columns.

use jsonpath_rust::JsonPath;
use kube::api::DynamicObject;
use serde_json::Value;

use super::{age, parts};
use crate::catalog::PrinterColumn;
use crate::row::{Cell, RowParts};
use crate::table::TableRow;

/// Project an object of a kind with these printer columns.
pub fn dynamic(columns: &[PrinterColumn], object: &DynamicObject) -> RowParts {
    if columns.is_empty() {
        return parts(&object.metadata, vec![age(&object.metadata)]);
    }
    let value = serde_json::to_value(object).unwrap_or(Value::Null);
    let cells = columns
        .iter()
        .map(|column| printer_cell(column, &value))
        .collect();
    parts(&object.metadata, cells)
}

/// Project a row of the server's Table: each column (`names`, after Name)
/// as the server computed it, but Age, recomputed from the object's
/// creation time when printed (a cache never freezes an age).
pub fn table_row(names: &[String], row: &TableRow) -> RowParts {
    let cells = names
        .iter()
        .map(|name| match name.as_str() {
            "Age" => age(&row.metadata),
            name => Cell::text(row.text(name)),
        })
        .collect();
    parts(&row.metadata, cells)
}

/// One printer column's cell for an object.
pub fn printer_cell(column: &PrinterColumn, object: &Value) -> Cell {
    let results = object
        .query(&timoneiro_client::jsonpath::to_rfc9535(&column.json_path))
        .unwrap_or_default();
    let Some(first) = results.first() else {
        return Cell::text("");
    };
    match (column.type_.as_str(), first) {
        ("date", Value::String(text)) => match text.parse::<jiff::Timestamp>() {
            Ok(time) => Cell::age(Some(time.as_millisecond())),
            Err(_) => Cell::text(text.as_str()),
        },
        (_, Value::Null) => Cell::text(""),
        (_, Value::String(text)) => Cell::text(text.as_str()),
        (_, other) => Cell::text(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(type_: &str, json_path: &str) -> PrinterColumn {
        PrinterColumn {
            name: "X".into(),
            type_: type_.into(),
            json_path: json_path.into(),
            wide: false,
        }
    }

    #[test]
    fn cells_follow_the_column_type_and_missing_values_are_empty() {
        let object = serde_json::json!({
            "spec": {"size": "small", "replicas": 0, "paused": false},
            "status": {"lastReconcileTime": "2026-11-26T15:47:38Z",
                       "conditions": [{"type": "Ready", "status": "True"}]}
        });
        let text = |c: Cell| (c.text.to_string(), c.since_ms);
        assert_eq!(
            text(printer_cell(&column("string", ".spec.size"), &object)).0,
            "small"
        );
        assert_eq!(
            text(printer_cell(&column("integer", ".spec.replicas"), &object)).0,
            "0"
        );
        assert_eq!(
            text(printer_cell(&column("boolean", "{.spec.paused}"), &object)).0,
            "false"
        );
        assert_eq!(
            text(printer_cell(&column("string", ".status.phase"), &object)).0,
            ""
        );
        let date = printer_cell(&column("date", ".status.lastReconcileTime"), &object);
        assert_eq!(date.since_ms, 1_795_708_058_000);
        let ready = printer_cell(
            &column("string", ".status.conditions[?(@.type==\"Ready\")].status"),
            &object,
        );
        assert_eq!(ready.text.as_str(), "True");
    }
}
