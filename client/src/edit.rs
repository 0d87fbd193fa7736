//! `edit`, for the CLI and the TUI alike: the object as the API server has
//! it now, in the user's `$KUBE_EDITOR` / `$EDITOR` (else `vi`), sent back
//! with the resourceVersion it was read at, as `kubectl edit` does:
//!
//! - no change (or only comments) sends nothing;
//! - YAML that does not parse, or an object the API server refuses,
//!   reopens the user's text with the error on top, in comments;
//! - a conflict (the object changed meanwhile) says so and reopens on the
//!   newer object;
//! - secrets are refused by the daemon (their values never pass through it).
//!
//! The file lives in a directory of the user's alone and is removed after.

use std::path::Path;

use serde_json::Value;
use tonic::Code;
use tonic::transport::Channel;

use timoneiro_proto::v1::timoneiro_client::TimoneiroClient;
use timoneiro_proto::v1::{GetRequest, ObjectFormat, ReplaceRequest};

/// What `kubectl edit` writes above the object.
pub const HEADER: &str =
    "# Please edit the object below. Lines beginning with a '#' will be ignored,
# and an empty file will abort the edit. If an error occurs while saving this file will be
# reopened with the relevant failures.
#
";

/// kubectl's words when nothing changed.
pub const UNCHANGED: &str = "Edit cancelled, no changes made.";
/// kubectl's words for an emptied file.
pub const EMPTIED: &str = "Edit cancelled, saved file was empty.";

/// Why an edit stopped.
#[derive(Debug)]
pub enum EditError {
    /// Here: the file, the editor.
    Local(String),
    /// The daemon refused (read-only, not found, forbidden…).
    Daemon(tonic::Status),
}

impl std::fmt::Display for EditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EditError::Local(message) => f.write_str(message),
            EditError::Daemon(status) => f.write_str(status.message()),
        }
    }
}

impl From<String> for EditError {
    fn from(message: String) -> EditError {
        EditError::Local(message)
    }
}

/// The object to edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub context: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// The editor to run: `$KUBE_EDITOR`, else `$EDITOR`, else `vi`, split on
/// spaces (`code --wait` works).
pub fn editor_command() -> Vec<String> {
    for variable in ["KUBE_EDITOR", "EDITOR"] {
        if let Ok(value) = std::env::var(variable)
            && !value.trim().is_empty()
        {
            return value.split_whitespace().map(str::to_string).collect();
        }
    }
    vec!["vi".to_string()]
}

/// The text without its comment lines.
pub fn without_comments(text: &str) -> String {
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// The file shown to the user: the header, the errors (if any) as
/// comments, then the object.
pub fn file_text(errors: &[String], object: &str) -> String {
    let mut text = HEADER.to_string();
    for error in errors {
        for line in error.lines() {
            text.push_str(&format!("# {line}\n"));
        }
        text.push_str("#\n");
    }
    text.push_str(object);
    text
}

async fn fetch(
    client: &mut TimoneiroClient<Channel>,
    target: &Target,
) -> Result<String, EditError> {
    client
        .get(GetRequest {
            context: target.context.clone(),
            kind: target.kind.clone(),
            namespace: target.namespace.clone(),
            name: target.name.clone(),
            format: ObjectFormat::Yaml as i32,
            from_server: true,
        })
        .await
        .map(|answer| answer.into_inner().text)
        .map_err(EditError::Daemon)
}

fn parse(text: &str) -> Result<Value, String> {
    serde_saphyr::from_str::<Value>(text).map_err(|e| e.to_string())
}

/// Run the editor on `path` and wait for it.
async fn run_editor(editor: &[String], path: &Path) -> Result<(), String> {
    let Some((program, args)) = editor.split_first() else {
        return Err("no editor: set KUBE_EDITOR or EDITOR".into());
    };
    let mut command = std::process::Command::new(program);
    command.args(args).arg(path);
    let status = tokio::task::spawn_blocking(move || command.status())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot run the editor {program:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "the editor {program:?} failed ({status}): nothing was changed"
        ))
    }
}

/// Edit `target` with `editor` until it is saved, cancelled or fails.
/// Ok: what to tell the user (kubectl's line).
pub async fn edit(
    client: &mut TimoneiroClient<Channel>,
    target: &Target,
    editor: &[String],
) -> Result<String, EditError> {
    let dir = tempfile::Builder::new()
        .prefix("timoneiro-edit-")
        .tempdir()
        .map_err(|e| format!("cannot make a directory for the file to edit: {e}"))?;
    let path = dir.path().join(format!(
        "{}-{}.yaml",
        target.kind.replace('/', "-"),
        target.name
    ));
    let mut original = fetch(client, target).await?;
    let mut shown = original.clone();
    let mut errors: Vec<String> = Vec::new();
    loop {
        std::fs::write(&path, file_text(&errors, &shown))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        run_editor(editor, &path).await?;
        let edited = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let content = without_comments(&edited);
        if content.trim().is_empty() {
            return Ok(EMPTIED.to_string());
        }
        let value = match parse(&content) {
            Ok(value) => value,
            Err(error) => {
                errors = vec![format!("error: the edited file is not valid YAML: {error}")];
                shown = content;
                continue;
            }
        };
        if parse(&original).is_ok_and(|before| before == value) {
            return Ok(UNCHANGED.to_string());
        }
        let request = ReplaceRequest {
            context: target.context.clone(),
            kind: target.kind.clone(),
            namespace: target.namespace.clone(),
            name: target.name.clone(),
            json: value.to_string(),
        };
        match client.replace(request).await {
            Ok(answer) => {
                let answer = answer.into_inner();
                return Ok(answer.results.join("\n"));
            }
            Err(status) if status.code() == Code::Aborted => {
                errors = vec![
                    status.message().to_string(),
                    "The object changed while you edited it: this is its newer version; make your change again.".to_string(),
                ];
                original = fetch(client, target).await?;
                shown = original.clone();
            }
            Err(status) if status.code() == Code::InvalidArgument => {
                errors = vec![status.message().to_string()];
                shown = content;
            }
            Err(status) => return Err(EditError::Daemon(status)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_go_and_errors_come_back_as_comments() {
        let text = file_text(
            &["error: bad\nsecond line".into()],
            "a: 1\n# not this\nb: 2\n",
        );
        assert!(text.starts_with(HEADER));
        assert!(text.contains("# error: bad\n# second line\n#\n"));
        assert_eq!(without_comments(&text), "a: 1\nb: 2\n");
    }

    #[test]
    fn the_same_object_in_another_layout_is_no_change() {
        let a = parse("metadata:\n  name: x\n  labels: {a: b}\n").expect("yaml");
        let b = parse("metadata:\n  labels:\n    a: b\n  name: x\n").expect("yaml");
        assert_eq!(a, b);
        assert!(parse("a: [").is_err());
    }
}
