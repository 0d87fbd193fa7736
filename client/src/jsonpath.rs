//! kubectl's JSONPath, as CRD printer columns, `-o custom-columns` and
//! `-o jsonpath` write it (`.spec.size`, `{.spec.size}`), in the RFC 9535
//! form (`$.spec.size`) that jsonpath-rust evaluates. Shared by the daemon
//! (printer columns) and the CLI (output formats).

/// `.spec.size`, `{.spec.size}`, `spec.size` or `[0]` as `$.spec.size` / `$[0]`.
pub fn to_rfc9535(json_path: &str) -> String {
    let path = json_path.trim();
    let path = path
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .unwrap_or(path);
    if path.starts_with('$') {
        path.to_string()
    } else if path.starts_with('[') || path.starts_with('.') {
        format!("${path}")
    } else {
        format!("$.{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_paths_become_rfc_paths() {
        assert_eq!(to_rfc9535(".spec.size"), "$.spec.size");
        assert_eq!(to_rfc9535("{.spec.size}"), "$.spec.size");
        assert_eq!(to_rfc9535("spec.size"), "$.spec.size");
        assert_eq!(to_rfc9535("[0].name"), "$[0].name");
        assert_eq!(to_rfc9535("$.a"), "$.a");
        assert_eq!(
            to_rfc9535(" .items[*].metadata.name "),
            "$.items[*].metadata.name"
        );
    }
}
