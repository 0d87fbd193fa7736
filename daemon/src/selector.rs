//! Kubernetes label selectors (`-l`), parsed as the API server parses them:
//! `key=value`, `key==value`, `key!=value`, `key in (a,b)`,
//! `key notin (a,b)`, `key` (exists) and `!key` (does not exist), joined by
//! commas, all of which must hold.

use std::collections::BTreeMap;

/// A selector that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid label selector at position {position}: {message}")]
pub struct SelectorError {
    /// 1-based character position of the problem.
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// `key=value` / `key==value`: the label exists with this value.
    Equals(String, String),
    /// `key!=value`: the label is absent or has another value.
    NotEquals(String, String),
    /// `key in (a,b)`: the label exists with one of the values.
    In(String, Vec<String>),
    /// `key notin (a,b)`: the label is absent or has none of the values.
    NotIn(String, Vec<String>),
    /// `key`: the label exists.
    Exists(String),
    /// `!key`: the label does not exist.
    DoesNotExist(String),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    /// Requirements that must all hold.
    pub requirements: Vec<Requirement>,
}

impl Selector {
    /// Parse selector text.
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        if text.len() > MAX_TEXT {
            return Err(SelectorError {
                position: MAX_TEXT + 1,
                message: format!(
                    "the selector is {} bytes long; at most {MAX_TEXT} are accepted",
                    text.len()
                ),
            });
        }
        Parser {
            chars: text.chars().collect(),
            pos: 0,
        }
        .selector()
    }

    /// Whether a set of labels satisfies every requirement.
    pub fn matches<'a>(&self, labels: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements.iter().all(|req| match req {
            Requirement::Equals(k, v) => labels(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => labels(k) != Some(v.as_str()),
            // Value sets are sorted (`value_set`): a lookup, not a scan.
            Requirement::In(k, vs) => {
                labels(k).is_some_and(|l| vs.binary_search_by(|v| v.as_str().cmp(l)).is_ok())
            }
            Requirement::NotIn(k, vs) => {
                labels(k).is_none_or(|l| vs.binary_search_by(|v| v.as_str().cmp(l)).is_err())
            }
            Requirement::Exists(k) => labels(k).is_some(),
            Requirement::DoesNotExist(k) => labels(k).is_none(),
        })
    }

    /// Convenience for tests and callers holding a map.
    pub fn matches_map(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches(|k| labels.get(k).map(String::as_str))
    }

    /// Whether the selector has no requirements.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }
}

/// The longest selector text accepted: 64 KiB holds a thousand values of
/// the longest label value (63 characters) with room to spare.
const MAX_TEXT: usize = 64 * 1024;
/// The most values one `in (…)` / `notin (…)` set may have.
const MAX_VALUES: usize = 1000;
/// The most requirements one selector may have.
const MAX_REQUIREMENTS: usize = 100;

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn error<T>(&self, at: usize, message: impl Into<String>) -> Result<T, SelectorError> {
        Err(SelectorError {
            position: at + 1,
            message: message.into(),
        })
    }

    fn skip_space(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn selector(mut self) -> Result<Selector, SelectorError> {
        let mut selector = Selector::default();
        self.skip_space();
        if self.peek().is_none() {
            return Ok(selector);
        }
        loop {
            self.skip_space();
            if selector.requirements.len() == MAX_REQUIREMENTS {
                return self.error(
                    self.pos,
                    format!("more than {MAX_REQUIREMENTS} requirements"),
                );
            }
            selector.requirements.push(self.requirement()?);
            self.skip_space();
            match self.peek() {
                None => return Ok(selector),
                Some(',') => self.pos += 1,
                Some(c) => {
                    return self.error(self.pos, format!("expected ',' or the end, found {c:?}"));
                }
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        if self.peek() == Some('!') {
            self.pos += 1;
            self.skip_space();
            let key = self.key()?;
            return Ok(Requirement::DoesNotExist(key));
        }
        let key = self.key()?;
        self.skip_space();
        let op_at = self.pos;
        match self.peek() {
            None | Some(',') => Ok(Requirement::Exists(key)),
            Some('=') => {
                self.pos += 1;
                if self.peek() == Some('=') {
                    self.pos += 1;
                }
                Ok(Requirement::Equals(key, self.value()?))
            }
            Some('!') => {
                self.pos += 1;
                if self.peek() != Some('=') {
                    return self.error(self.pos, "expected '=' after '!'");
                }
                self.pos += 1;
                Ok(Requirement::NotEquals(key, self.value()?))
            }
            Some(_) => {
                let word = self.word();
                match word.as_str() {
                    "in" => Ok(Requirement::In(key, self.value_set()?)),
                    "notin" => Ok(Requirement::NotIn(key, self.value_set()?)),
                    _ => self.error(
                        op_at,
                        format!("expected an operator (=, ==, !=, in, notin), found {word:?}"),
                    ),
                }
            }
        }
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| !c.is_whitespace() && !"=!,()".contains(c))
        {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn key(&mut self) -> Result<String, SelectorError> {
        let start = self.pos;
        let key = self.word();
        if key.is_empty() {
            return match self.peek() {
                Some(c) => self.error(start, format!("expected a label key, found {c:?}")),
                None => self.error(start, "expected a label key, found the end"),
            };
        }
        validate_key(&key).or_else(|message| self.error(start, message))?;
        Ok(key)
    }

    fn value(&mut self) -> Result<String, SelectorError> {
        self.skip_space();
        let start = self.pos;
        let value = self.word();
        validate_value(&value).or_else(|message| self.error(start, message))?;
        Ok(value)
    }

    fn value_set(&mut self) -> Result<Vec<String>, SelectorError> {
        self.skip_space();
        if self.peek() != Some('(') {
            return self.error(self.pos, "expected '(' to start a value set");
        }
        self.pos += 1;
        let mut values = Vec::new();
        loop {
            if values.len() == MAX_VALUES {
                return self.error(
                    self.pos,
                    format!("more than {MAX_VALUES} values in one set"),
                );
            }
            values.push(self.value()?);
            self.skip_space();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    values.sort_unstable();
                    values.dedup();
                    return Ok(values);
                }
                Some(c) => {
                    return self.error(self.pos, format!("expected ',' or ')', found {c:?}"));
                }
                None => return self.error(self.pos, "expected ')' to close the value set"),
            }
        }
    }
}

/// A label key: an optional DNS-subdomain prefix and '/', then a name of at
/// most 63 characters made of alphanumerics, '-', '_' and '.', starting and
/// ending with an alphanumeric.
fn validate_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix
        && (prefix.is_empty()
            || prefix.len() > 253
            || !prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'))
    {
        return Err(format!(
            "invalid label key prefix {prefix:?}: must be a DNS subdomain"
        ));
    }
    if !is_label_name(name) {
        return Err(format!(
            "invalid label key {key:?}: names are at most 63 characters of letters, digits, '-', '_' \
             and '.', beginning and ending with a letter or digit"
        ));
    }
    Ok(())
}

fn validate_value(value: &str) -> Result<(), String> {
    if value.is_empty() || is_label_name(value) {
        Ok(())
    } else {
        Err(format!(
            "invalid label value {value:?}: at most 63 characters of letters, digits, '-', '_' and '.', \
             beginning and ending with a letter or digit"
        ))
    }
}

fn is_label_name(name: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    !name.is_empty()
        && name.len() <= 63
        && name.chars().all(ok_char)
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_every_operator() {
        let sel = Selector::parse(
            "app=web, tier==front,env!=prod,zone in (a, b),team notin (x),owner,!legacy",
        )
        .expect("valid");
        assert_eq!(
            sel.requirements,
            vec![
                Requirement::Equals("app".into(), "web".into()),
                Requirement::Equals("tier".into(), "front".into()),
                Requirement::NotEquals("env".into(), "prod".into()),
                Requirement::In("zone".into(), vec!["a".into(), "b".into()]),
                Requirement::NotIn("team".into(), vec!["x".into()]),
                Requirement::Exists("owner".into()),
                Requirement::DoesNotExist("legacy".into()),
            ]
        );
    }

    #[test]
    fn matching_follows_kubernetes() {
        let l = labels(&[
            ("app", "web"),
            ("app.kubernetes.io/name", "shop"),
            ("zone", "a"),
        ]);
        let yes = [
            "app=web",
            "app==web",
            "app!=api",
            "missing!=x",
            "zone in (a,b)",
            "zone notin (b)",
            "missing notin (b)",
            "app",
            "!missing",
            "app.kubernetes.io/name=shop",
            "",
            "app=web,zone=a",
        ];
        for text in yes {
            assert!(Selector::parse(text).expect(text).matches_map(&l), "{text}");
        }
        let no = [
            "app=api",
            "app!=web",
            "missing in (a)",
            "zone notin (a)",
            "missing",
            "!app",
            "app=web,zone=b",
        ];
        for text in no {
            assert!(
                !Selector::parse(text).expect(text).matches_map(&l),
                "{text}"
            );
        }
    }

    #[test]
    fn errors_point_at_the_position() {
        let cases = [
            ("app=", None),
            ("app=web,", Some(9)),
            ("app in a", Some(8)),
            ("app in (a", Some(10)),
            ("app ~ web", Some(5)),
            ("app=we b", Some(8)),
            ("-bad=x", Some(1)),
            ("app!web", Some(5)),
            ("=web", Some(1)),
        ];
        for (text, position) in cases {
            let result = Selector::parse(text);
            match position {
                None => assert!(result.is_ok(), "{text}: empty values are allowed"),
                Some(p) => assert_eq!(result.expect_err(text).position, p, "{text}"),
            }
        }
    }
}
