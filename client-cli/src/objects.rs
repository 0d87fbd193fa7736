//! Whole objects from the cache, printed as kubectl prints them: `-o json`
//! and `-o yaml` (the object when one was asked for by name, else a `List`),
//! `-o jsonpath=TEMPLATE` and `-o custom-columns=SPEC`.

use anyhow::Context as _;
use jsonpath_rust::JsonPath;
use serde::Serialize;
use serde_json::{Value, json};
use timoneiro_client::jsonpath::to_rfc9535;
use timoneiro_proto::v1::{KindInfo, ListResponse, Row};

/// The objects of a response, each with apiVersion and kind (list items as
/// the API server sends them have neither).
pub fn objects(response: &ListResponse) -> anyhow::Result<Vec<Value>> {
    items(response.kind.as_ref(), &response.rows)
}

/// The objects of `rows` of a `kind`, each with apiVersion and kind.
pub fn items(kind: Option<&KindInfo>, rows: &[Row]) -> anyhow::Result<Vec<Value>> {
    let kind = kind.cloned().unwrap_or_default();
    let api_version = if kind.group.is_empty() {
        kind.version.clone()
    } else {
        format!("{}/{}", kind.group, kind.version)
    };
    rows.iter()
        .map(|row| {
            let mut value: Value = serde_json::from_slice(&row.object)
                .with_context(|| format!("the daemon sent no object for {}", row.name))?;
            if let Some(map) = value.as_object_mut() {
                map.entry("apiVersion")
                    .or_insert_with(|| api_version.clone().into());
                map.entry("kind")
                    .or_insert_with(|| kind.kind.clone().into());
            }
            Ok(value)
        })
        .collect()
}

/// The text formats of a whole `List`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    Json,
    Yaml,
}

/// A `List` of objects written as its items arrive: the same text as
/// `to_json` / `to_yaml` of [`document`] over all of them, without
/// holding them all.
#[derive(Debug)]
pub struct ListWriter {
    format: ListFormat,
    items: usize,
}

impl ListWriter {
    /// Start the List: everything before its first item.
    pub fn begin(format: ListFormat) -> (ListWriter, String) {
        let head = match format {
            ListFormat::Json => "{\n    \"apiVersion\": \"v1\",\n    \"items\": [",
            ListFormat::Yaml => "apiVersion: v1\nitems:",
        };
        (ListWriter { format, items: 0 }, head.to_string())
    }

    /// One item, as it sits in the List.
    pub fn item(&mut self, value: &Value) -> anyhow::Result<String> {
        let mut text = String::new();
        match self.format {
            ListFormat::Json => {
                if self.items > 0 {
                    text.push(',');
                }
                for line in to_json(value)?.lines() {
                    text.push_str("\n        ");
                    text.push_str(line);
                }
            }
            ListFormat::Yaml => {
                // Items at their key's indent: "- " before the first line,
                // two spaces before the others but empty ones.
                for (i, line) in to_yaml(value)?.lines().enumerate() {
                    text.push('\n');
                    if i == 0 {
                        text.push_str("- ");
                    } else if !line.is_empty() {
                        text.push_str("  ");
                    }
                    text.push_str(line);
                }
            }
        }
        self.items += 1;
        Ok(text)
    }

    /// End the List: everything after its last item (no final newline).
    pub fn end(self) -> String {
        match (self.format, self.items) {
            (ListFormat::Json, 0) => "],\n",
            (ListFormat::Json, _) => "\n    ],\n",
            (ListFormat::Yaml, 0) => " []\n",
            (ListFormat::Yaml, _) => "\n",
        }
        .to_string()
            + match self.format {
                ListFormat::Json => {
                    "    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}"
                }
                ListFormat::Yaml => "kind: List\nmetadata:\n  resourceVersion: \"\"",
            }
    }
}

/// What kubectl prints: the object itself for one object asked for by
/// name, else a `List` of them.
pub fn document(mut objects: Vec<Value>, one_by_name: bool) -> Value {
    if one_by_name && objects.len() == 1 {
        return objects.remove(0);
    }
    json!({
        "apiVersion": "v1",
        "items": objects,
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    })
}

/// JSON as kubectl prints it (cli-runtime's `JSONPrinter`: Go's
/// `json.MarshalIndent(obj, "", "    ")`): keys sorted, four-space indent,
/// and strings HTML-escaped as Go's encoder does by default.
pub fn to_json(value: &Value) -> anyhow::Result<String> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(
        &mut out,
        GoFormatter(serde_json::ser::PrettyFormatter::with_indent(b"    ")),
    );
    value.serialize(&mut serializer)?;
    Ok(String::from_utf8(out)?)
}

/// serde_json's pretty printer with Go's `HTMLEscape` on strings: `<`,
/// `>`, `&`, U+2028 and U+2029 as `\u003c`, `\u003e`, `\u0026`,
/// `\u2028`, `\u2029` (encoding/json's documented default).
struct GoFormatter<'a>(serde_json::ser::PrettyFormatter<'a>);

impl serde_json::ser::Formatter for GoFormatter<'_> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find(['<', '>', '&', '\u{2028}', '\u{2029}']) {
            writer.write_all(&rest.as_bytes()[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            write!(writer, "\\u{:04x}", c as u32)?;
            rest = &rest[at + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }

    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// YAML as kubectl prints it: keys sorted, lists at their key's indent.
pub fn to_yaml(value: &Value) -> anyhow::Result<String> {
    let text = serde_saphyr::to_string(value).context("cannot render YAML")?;
    Ok(text.trim_end_matches('\n').to_string())
}

/// A kubectl JSONPath template, parsed.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Path(String),
    Range(String, Vec<Node>),
}

/// Parse a kubectl JSONPath template: text, `{.path}`, `{"literal\n"}`,
/// `{range .path}…{end}`.
fn parse_template(template: &str) -> Result<Vec<Node>, String> {
    fn nodes(chars: &[char], pos: &mut usize, in_range: bool) -> Result<Vec<Node>, String> {
        let mut out = Vec::new();
        let mut text = String::new();
        while *pos < chars.len() {
            let c = chars[*pos];
            if c != '{' {
                text.push(c);
                *pos += 1;
                continue;
            }
            let start = *pos;
            let end = chars[start..]
                .iter()
                .position(|c| *c == '}')
                .map(|i| start + i)
                .ok_or_else(|| format!("unclosed {{ at position {}", start + 1))?;
            let inner: String = chars[start + 1..end].iter().collect();
            let inner = inner.trim();
            *pos = end + 1;
            if !text.is_empty() {
                out.push(Node::Text(std::mem::take(&mut text)));
            }
            if inner == "end" {
                if in_range {
                    return Ok(out);
                }
                return Err(format!(
                    "{{end}} without {{range}} at position {}",
                    start + 1
                ));
            }
            if let Some(path) = inner.strip_prefix("range ") {
                let body = nodes(chars, pos, true)?;
                out.push(Node::Range(path.trim().to_string(), body));
            } else if let Some(literal) = quoted(inner) {
                out.push(Node::Text(literal));
            } else if inner.is_empty() {
                return Err(format!("empty {{}} at position {}", start + 1));
            } else {
                out.push(Node::Path(inner.to_string()));
            }
        }
        if in_range {
            return Err("{range} without {end}".to_string());
        }
        if !text.is_empty() {
            out.push(Node::Text(text));
        }
        Ok(out)
    }
    let chars: Vec<char> = template.chars().collect();
    let mut pos = 0;
    nodes(&chars, &mut pos, false)
}

/// `"…"` or `'…'` with \n, \t, \\ escapes.
fn quoted(inner: &str) -> Option<String> {
    let body = inner
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))?;
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Evaluate a kubectl path on `current` (`$…` on `root`).
fn select<'a>(path: &str, root: &'a Value, current: &'a Value) -> Result<Vec<&'a Value>, String> {
    let (target, path) = match path.strip_prefix('@') {
        Some(rest) => (current, rest),
        None if path.starts_with('$') => (root, path),
        None => (current, path),
    };
    if path.is_empty() {
        return Ok(vec![target]);
    }
    target
        .query(&to_rfc9535(path))
        .map_err(|e| format!("invalid JSONPath {path:?}: {e}"))
}

/// A value as kubectl prints it in templates and columns: strings bare,
/// anything else as JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Render `-o jsonpath=TEMPLATE` for `value` (the List, or the one object).
pub fn jsonpath(template: &str, value: &Value) -> Result<String, String> {
    fn render(
        nodes: &[Node],
        root: &Value,
        current: &Value,
        out: &mut String,
    ) -> Result<(), String> {
        for node in nodes {
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Path(path) => {
                    let found = select(path, root, current)?;
                    let texts: Vec<String> = found.into_iter().map(text).collect();
                    out.push_str(&texts.join(" "));
                }
                Node::Range(path, body) => {
                    for item in select(path, root, current)? {
                        render(body, root, item, out)?;
                    }
                }
            }
        }
        Ok(())
    }
    let nodes = parse_template(template)?;
    let mut out = String::new();
    render(&nodes, value, value, &mut out)?;
    Ok(out)
}

/// Parse `-o custom-columns=HEADER:.path,…`.
pub fn parse_columns(spec: &str) -> Result<Vec<(String, String)>, String> {
    spec.split(',')
        .map(|column| match column.split_once(':') {
            Some((header, path)) if !header.trim().is_empty() && !path.trim().is_empty() => {
                Ok((header.trim().to_string(), path.trim().to_string()))
            }
            _ => Err(format!(
                "custom column {column:?} is not HEADER:JSONPATH (e.g. NAME:.metadata.name)"
            )),
        })
        .collect()
}

/// Rows of `-o custom-columns` for these objects: header first, `<none>` for
/// a path with no value, several values joined by commas.
pub fn custom_columns(
    columns: &[(String, String)],
    objects: &[Value],
    headers: bool,
) -> Result<Vec<Vec<String>>, String> {
    let mut grid = Vec::with_capacity(objects.len() + 1);
    if headers {
        grid.push(columns.iter().map(|(h, _)| h.clone()).collect());
    }
    for object in objects {
        let mut line = Vec::with_capacity(columns.len());
        for (_, path) in columns {
            let found = select(path, object, object)?;
            let values: Vec<String> = found
                .into_iter()
                .filter(|v| !v.is_null())
                .map(text)
                .collect();
            line.push(if values.is_empty() {
                "<none>".to_string()
            } else {
                // kubectl escapes custom columns as it does table cells.
                crate::output::kubectl_cell(&values.join(",")).into_owned()
            });
        }
        grid.push(line);
    }
    Ok(grid)
}

/// `--sort-by` as a JSONPath the daemon has no column for (anything but
/// .metadata.name, .metadata.namespace, .metadata.creationTimestamp):
/// (path, descending).
pub fn sort_path(sort_by: &str) -> Option<(String, bool)> {
    let sort_by = sort_by.trim();
    let (descending, path) = match sort_by.strip_prefix('-') {
        Some(rest) => (true, rest.trim()),
        None => (false, sort_by),
    };
    let path = path
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .unwrap_or(path);
    let known = [
        ".metadata.name",
        ".metadata.namespace",
        ".metadata.creationtimestamp",
    ];
    (path.starts_with('.') && !known.contains(&path.to_ascii_lowercase().as_str()))
        .then(|| (path.to_string(), descending))
}

/// Sort rows by a JSONPath of their objects, as kubectl's --sort-by: numbers
/// by value, other values by their text, rows without a value first; ties
/// keep the daemon's order (by name).
pub fn sort_rows(
    rows: &mut [timoneiro_proto::v1::Row],
    path: &str,
    descending: bool,
) -> Result<(), String> {
    let rfc = to_rfc9535(path);
    let mut keyed = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let object: Value = serde_json::from_slice(&row.object).unwrap_or(Value::Null);
        let found = object
            .query(&rfc)
            .map_err(|e| format!("invalid JSONPath {path:?}: {e}"))?;
        let key = match found.first() {
            None | Some(Value::Null) => (0, 0.0, String::new()),
            Some(Value::Number(n)) => (1, n.as_f64().unwrap_or(0.0), String::new()),
            Some(other) => (2, 0.0, text(other)),
        };
        keyed.push((key, index));
    }
    keyed.sort_by(|(a, ai), (b, bi)| {
        a.0.cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then_with(|| a.2.cmp(&b.2))
            .then(ai.cmp(bi))
    });
    if descending {
        keyed.reverse();
    }
    let sorted: Vec<timoneiro_proto::v1::Row> =
        keyed.iter().map(|(_, i)| rows[*i].clone()).collect();
    rows.clone_from_slice(&sorted);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's encoding/json escapes these in every string, keys included
    /// (its documented `HTMLEscape` default, which kubectl's `-o json`
    /// keeps); everything else is serde_json's pretty printer.
    #[test]
    fn json_strings_are_escaped_as_gos_encoder_escapes_them() {
        let value = json!({"a<b": "<script>&\u{2028}\u{2029}é\"\n", "n": [1, null]});
        assert_eq!(
            to_json(&value).expect("json"),
            "{\n    \"a\\u003cb\": \"\\u003cscript\\u003e\\u0026\\u2028\\u2029é\\\"\\n\",\n    \"n\": [\n        1,\n        null\n    ]\n}"
        );
        let back: Value = serde_json::from_str(&to_json(&value).expect("json")).expect("parses");
        assert_eq!(back, value);
    }

    /// The List written item by item is the List written whole, for the
    /// objects of every recorded list and for none.
    #[test]
    fn a_list_written_as_it_arrives_is_the_whole_list() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/kube-apiserver-v1.36/list"
        );
        let mut lists = vec![Vec::new()];
        for entry in std::fs::read_dir(dir).expect("recorded lists") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                let list: Value =
                    serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("JSON");
                lists.push(list["items"].as_array().expect("items").clone());
            }
        }
        assert!(lists.len() > 10, "{} recorded lists", lists.len());
        for items in lists {
            let whole = document(items.clone(), false);
            for (format, expected) in [
                (ListFormat::Json, to_json(&whole).expect("json")),
                (ListFormat::Yaml, to_yaml(&whole).expect("yaml")),
            ] {
                let (mut writer, mut text) = ListWriter::begin(format);
                for item in &items {
                    text.push_str(&writer.item(item).expect("item"));
                }
                text.push_str(&writer.end());
                assert_eq!(text, expected, "{format:?}, {} items", items.len());
            }
        }
    }

    fn list() -> Value {
        document(
            vec![
                json!({"kind": "Pod", "metadata": {"name": "a", "labels": {"app": "web"}}, "status": {"phase": "Running"}}),
                json!({"kind": "Pod", "metadata": {"name": "b"}, "status": {"phase": "Pending"}}),
            ],
            false,
        )
    }

    #[test]
    fn templates_print_like_kubectl() {
        let list = list();
        assert_eq!(
            jsonpath("{.items[*].metadata.name}", &list).expect("ok"),
            "a b"
        );
        assert_eq!(
            jsonpath(
                r#"{range .items[*]}{.metadata.name}{"\t"}{.status.phase}{"\n"}{end}"#,
                &list
            )
            .expect("ok"),
            "a\tRunning\nb\tPending\n"
        );
        assert_eq!(jsonpath("kind={.kind}", &list).expect("ok"), "kind=List");
        assert_eq!(
            jsonpath("{.items[0].metadata.labels.app}", &list).expect("ok"),
            "web"
        );
        assert!(jsonpath("{range .items[*]}{.x}", &list).is_err());
        assert!(jsonpath("{.items", &list).is_err());
        assert!(jsonpath("{end}", &list).is_err());
    }

    #[test]
    fn custom_columns_print_like_kubectl() {
        let columns = parse_columns("NAME:.metadata.name,APP:.metadata.labels.app").expect("spec");
        let Value::Array(items) = list()["items"].clone() else {
            panic!("items")
        };
        let grid = custom_columns(&columns, &items, true).expect("grid");
        assert_eq!(
            crate::table::layout(&grid),
            ["NAME   APP", "a      web", "b      <none>"]
        );
        assert!(parse_columns("NAME").is_err());
        assert!(parse_columns("NAME:").is_err());
    }

    #[test]
    fn rows_sort_by_a_jsonpath_of_their_objects() {
        let row = |name: &str, object: Value| timoneiro_proto::v1::Row {
            name: name.into(),
            object: serde_json::to_vec(&object).expect("json"),
            ..Default::default()
        };
        let mut rows = vec![
            row("a", json!({"status": {"restarts": 10, "phase": "Running"}})),
            row("b", json!({"status": {"restarts": 2, "phase": "Pending"}})),
            row("c", json!({"status": {}})),
        ];
        sort_rows(&mut rows, ".status.restarts", false).expect("sorts");
        let names = |rows: &[timoneiro_proto::v1::Row]| {
            rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>()
        };
        assert_eq!(
            names(&rows),
            ["c", "b", "a"],
            "numbers by value, missing first"
        );
        sort_rows(&mut rows, ".status.phase", true).expect("sorts");
        assert_eq!(names(&rows), ["a", "b", "c"]);
        assert_eq!(
            sort_path("-.status.phase"),
            Some((".status.phase".into(), true))
        );
        assert_eq!(
            sort_path("{.spec.nodeName}"),
            Some((".spec.nodeName".into(), false))
        );
        assert_eq!(sort_path(".metadata.name"), None, "the daemon sorts it");
        assert_eq!(sort_path("RESTARTS"), None);
    }

    #[test]
    fn json_is_four_space_indented_with_sorted_keys() {
        let text = to_json(&json!({"kind": "List", "apiVersion": "v1"})).expect("json");
        assert_eq!(
            text,
            "{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"List\"\n}"
        );
    }
}
