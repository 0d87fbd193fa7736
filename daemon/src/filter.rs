//! Timoneiro's filter language, shared by the CLI and the TUI.
//!
//! Space-separated terms that must all hold. A plain term is a fuzzy match
//! against the row's text (namespace, name and every visible cell); `!term`
//! excludes rows containing `term`; `^term` and `term$` anchor to the start
//! or end of a field (name, namespace or one cell); `'term` is an exact
//! substring. `\ ` puts a space inside a term. Matching is smart-case: a term
//! with an upper-case letter is case-sensitive. Matching itself is
//! nucleo-matcher's (fzf's algorithm).

use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization};
use nucleo_matcher::{Matcher, Utf32Str};

/// A filter that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter at position {position}: {message}")]
pub struct FilterError {
    /// 1-based character position of the problem in the filter text.
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

/// The longest filter text accepted. Each term is matched against every
/// row, so a filter is kept to what a person types.
pub const MAX_TEXT: usize = 1024;
/// The most terms a filter may have.
pub const MAX_TERMS: usize = 64;

/// A parsed filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Fuzzy terms, matched against the whole row text.
    fuzzy: Vec<Fuzzy>,
    /// Substring terms and negations, matched against the whole row text.
    whole: Vec<Atom>,
    /// Terms anchored to a field (prefix, suffix, exact).
    anchored: Vec<Anchored>,
}

/// A term anchored to a field. A field can only start with, end with or be
/// the term if the row's text contains it, so a cheap substring check of the
/// whole text decides most rows before any field is looked at.
#[derive(Debug, Clone)]
struct Anchored {
    /// The anchored term (not negated).
    atom: Atom,
    /// The same term as a substring of the whole text.
    contained: Atom,
    /// `!` before it: rows where it holds are excluded.
    negative: bool,
}

/// A fuzzy term. Rows keep the requested sort order, so only whether a term
/// matches counts, never its score: nucleo's greedy matcher accepts exactly
/// the rows its optimal matcher does, without computing the best alignment.
#[derive(Debug, Clone)]
struct Fuzzy {
    /// The term, case-folded and normalized by nucleo.
    atom: Atom,
    /// Smart case: a term without upper-case letters ignores case.
    ignore_case: bool,
}

/// The fields of a row as the filter sees them.
pub trait Haystack {
    /// The row's text as one string: fields joined by spaces.
    fn joined(&self) -> Utf32Str<'_>;
    /// Call `f` for each field until it returns true; return whether it did.
    fn any_field(&self, f: &mut dyn FnMut(Utf32Str<'_>) -> bool) -> bool;
}

impl Filter {
    /// Parse filter text. An empty or all-blank text is a filter that matches everything.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        if text.len() > MAX_TEXT {
            return Err(FilterError {
                position: MAX_TEXT + 1,
                message: format!(
                    "the filter is {} bytes long; at most {MAX_TEXT} are accepted",
                    text.len()
                ),
            });
        }
        let mut filter = Filter::default();
        for (index, (position, raw)) in split_terms(text).into_iter().enumerate() {
            if index == MAX_TERMS {
                return Err(FilterError {
                    position,
                    message: format!("more than {MAX_TERMS} terms"),
                });
            }
            let (negative, rest) = match raw.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, raw.as_str()),
            };
            let (mut kind, rest) = if let Some(rest) = rest.strip_prefix('^') {
                (AtomKind::Prefix, rest)
            } else if let Some(rest) = rest.strip_prefix('\'') {
                (AtomKind::Substring, rest)
            } else {
                (AtomKind::Fuzzy, rest)
            };
            let rest = match rest.strip_suffix('$') {
                Some(stripped) => {
                    kind = match kind {
                        AtomKind::Fuzzy => AtomKind::Postfix,
                        _ => AtomKind::Exact,
                    };
                    stripped
                }
                None => rest,
            };
            if rest.is_empty() {
                return Err(FilterError {
                    position,
                    message: format!("the term {raw:?} has nothing to match after its operators"),
                });
            }
            if negative && kind == AtomKind::Fuzzy {
                // A negated fuzzy term would exclude far too much: negation is exact.
                kind = AtomKind::Substring;
            }
            let mut atom = Atom::new(rest, CaseMatching::Smart, Normalization::Smart, kind, false);
            match kind {
                AtomKind::Prefix | AtomKind::Postfix | AtomKind::Exact => {
                    let contained = Atom::new(
                        rest,
                        CaseMatching::Smart,
                        Normalization::Smart,
                        AtomKind::Substring,
                        false,
                    );
                    filter.anchored.push(Anchored {
                        atom,
                        contained,
                        negative,
                    })
                }
                AtomKind::Fuzzy => filter.fuzzy.push(Fuzzy {
                    atom,
                    ignore_case: !rest.chars().any(char::is_uppercase),
                }),
                _ => {
                    atom.negative = negative;
                    filter.whole.push(atom)
                }
            }
        }
        Ok(filter)
    }

    /// Whether the filter has no terms.
    pub fn is_empty(&self) -> bool {
        self.fuzzy.is_empty() && self.whole.is_empty() && self.anchored.is_empty()
    }

    /// Whether a row matches every term.
    pub fn matches(&self, row: &dyn Haystack, matcher: &mut Matcher) -> bool {
        for term in &self.fuzzy {
            matcher.config.ignore_case = term.ignore_case;
            matcher.config.normalize = true;
            if matcher
                .fuzzy_match_greedy(row.joined(), term.atom.needle_text())
                .is_none()
            {
                return false;
            }
        }
        for atom in &self.whole {
            if atom.score(row.joined(), matcher).is_none() {
                return false;
            }
        }
        for term in &self.anchored {
            // A positive anchored term must hold for some field; a negated
            // one excludes the row if it holds for any field.
            let hit = term.contained.score(row.joined(), matcher).is_some()
                && row.any_field(&mut |field| term.atom.score(field, matcher).is_some());
            if hit == term.negative {
                return false;
            }
        }
        true
    }
}

/// Split on unescaped spaces; `\ ` is a literal space. Yields 1-based positions.
fn split_terms(text: &str) -> Vec<(usize, String)> {
    let mut terms = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    let mut chars = text.chars().enumerate().peekable();
    while let Some((index, c)) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(|(_, next)| *next == ' ') {
            if current.is_empty() {
                start = index + 1;
            }
            current.push(' ');
            chars.next();
        } else if c.is_whitespace() {
            if !current.is_empty() {
                terms.push((start, std::mem::take(&mut current)));
            }
        } else {
            if current.is_empty() {
                start = index + 1;
            }
            current.push(c);
        }
    }
    if !current.is_empty() {
        terms.push((start, current));
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;
    use nucleo_matcher::{Config, Utf32String};

    struct Fields {
        joined: Utf32String,
        fields: Vec<Utf32String>,
    }

    impl Fields {
        fn new(fields: &[&str]) -> Fields {
            Fields {
                joined: Utf32String::from(fields.join(" ")),
                fields: fields.iter().map(|f| Utf32String::from(*f)).collect(),
            }
        }
    }

    impl Haystack for Fields {
        fn joined(&self) -> Utf32Str<'_> {
            self.joined.slice(..)
        }
        fn any_field(&self, f: &mut dyn FnMut(Utf32Str<'_>) -> bool) -> bool {
            self.fields.iter().any(|field| f(field.slice(..)))
        }
    }

    fn matches(filter: &str, fields: &[&str]) -> bool {
        let filter = Filter::parse(filter).expect("valid filter");
        filter.matches(&Fields::new(fields), &mut Matcher::new(Config::DEFAULT))
    }

    const WEB: &[&str] = &["shop", "web-57bd7f8bd7-hjnwk", "1/1", "Running", "10.0.0.1"];
    const SYS: &[&str] = &["kube-system", "coredns-1", "1/1", "Running", "10.0.0.2"];

    #[test]
    fn fuzzy_terms_all_must_match() {
        assert!(matches("web", WEB));
        assert!(matches("wbhjn", WEB), "fuzzy: letters in order with gaps");
        assert!(matches("web run", WEB));
        assert!(!matches("web pending", WEB));
        assert!(matches("", WEB));
        assert!(matches("   ", WEB));
    }

    #[test]
    fn negation_excludes_exact_substrings() {
        assert!(!matches("!kube-system", SYS));
        assert!(matches("!kube-system", WEB));
        assert!(matches("web !kube-system", WEB));
        // Negation is not fuzzy: "!wbh" must not exclude web-57bd…
        assert!(matches("!wbh", WEB));
    }

    #[test]
    fn anchors_apply_to_fields() {
        assert!(matches("^web", WEB), "name starts with web");
        assert!(matches("^shop", WEB), "namespace starts with shop");
        assert!(!matches("^57bd", WEB));
        assert!(matches("hjnwk$", WEB));
        assert!(matches("^Running$", WEB));
        assert!(!matches("^Runn$", WEB));
        assert!(!matches("!^web", WEB));
        assert!(matches("!^web", SYS));
        assert!(matches("'7bd7", WEB));
        assert!(!matches("'7bd8", WEB));
    }

    #[test]
    fn smart_case() {
        assert!(matches("running", WEB));
        assert!(!matches("RUNNING", WEB));
    }

    #[test]
    fn escaped_spaces_join_a_term() {
        assert!(matches("'1/1\\ Running", &["x", "1/1 Running"]));
    }

    #[test]
    fn greedy_fuzzy_accepts_exactly_what_the_scoring_matcher_accepts() {
        // Random rows and needles from a small alphabet (so matches are common):
        // the fast path must agree with nucleo's optimal matcher on every one.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let alphabet: Vec<char> = "abcdeABC-/ 01".chars().collect();
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut agreed = (0, 0);
        for _ in 0..20_000 {
            let word = |len: u64, next: &mut dyn FnMut(u64) -> u64| -> String {
                (0..len)
                    .map(|_| alphabet[next(alphabet.len() as u64) as usize])
                    .collect()
            };
            let hay_len = 1 + next(60);
            let haystack = word(hay_len, &mut next);
            let needle_len = 1 + next(5);
            let needle: String = word(needle_len, &mut next)
                .replace(' ', "")
                .trim_start_matches(['!', '^', '\''])
                .to_string();
            if needle.is_empty() {
                continue;
            }
            let fast = Filter::parse(&needle)
                .expect("valid")
                .matches(&Fields::new(&[&haystack]), &mut matcher);
            let slow = Atom::new(
                &needle,
                CaseMatching::Smart,
                Normalization::Smart,
                AtomKind::Fuzzy,
                false,
            )
            .score(Utf32String::from(haystack.as_str()).slice(..), &mut matcher)
            .is_some();
            assert_eq!(fast, slow, "needle {needle:?} in {haystack:?}");
            if fast { agreed.0 += 1 } else { agreed.1 += 1 }
        }
        assert!(
            agreed.0 > 1000 && agreed.1 > 1000,
            "both outcomes exercised: {agreed:?}"
        );
    }

    #[test]
    fn empty_terms_are_errors_with_positions() {
        let err = Filter::parse("web !").unwrap_err();
        assert_eq!(err.position, 5);
        let err = Filter::parse("^$").unwrap_err();
        assert_eq!(err.position, 1);
        assert!(err.to_string().contains("position 1"), "{err}");
        let err = Filter::parse("a  '").unwrap_err();
        assert_eq!(err.position, 4);
    }
}
