//! lm-evaluation-harness's `exact_match` metric, computed as its code computes it
//! (`lm_eval/api/metrics.py`, `exact_match_hf_evaluate`, a copy of Hugging Face evaluate's):
//! every pattern of `regexes_to_ignore` is removed from prediction and reference in turn
//! (`re.sub(pattern, "", text)`), then both are lower-cased (`ignore_case`), stripped of ASCII
//! punctuation (`ignore_punctuation`) and of digits (`ignore_numbers`), and compared as numpy
//! compares its fixed-width strings (trailing NUL characters do not count). A filter that found
//! no answer yields lm-eval's fallback `[invalid]`, which is compared the same way.
//!
//! Patterns are compiled with `fancy-regex` (backtracking, with look-around, like Python's `re`);
//! `$` outside a character class means what it means in Python — the end of the text, or just
//! before a newline that ends it — and is compiled as the look-ahead `(?=\n?\z)`.

use anyhow::{Context, Result};
use fancy_regex::Regex;

use super::spec::MetricSpec;

/// lm-evaluation-harness's regex filter result when it finds nothing.
pub const INVALID: &str = "[invalid]";

/// A compiled `exact_match`.
#[derive(Debug, Clone)]
pub struct ExactMatch {
    ignore: Vec<Regex>,
    ignore_case: bool,
    ignore_punctuation: bool,
    ignore_numbers: bool,
}

impl ExactMatch {
    /// Compiles the options of `metric`; an invalid pattern is named.
    pub fn compile(metric: &MetricSpec) -> Result<Self> {
        let ignore = metric
            .regexes_to_ignore
            .iter()
            .map(|pattern| {
                Regex::new(&python_dollar(pattern))
                    .with_context(|| format!("regexes_to_ignore has an invalid regex {pattern:?}"))
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            ignore,
            ignore_case: metric.ignore_case,
            ignore_punctuation: metric.ignore_punctuation,
            ignore_numbers: metric.ignore_numbers,
        })
    }

    /// Whether `prediction` (`None`: the filter found nothing) matches `reference`.
    pub fn matches(&self, prediction: Option<&str>, reference: &str) -> bool {
        self.normalize(prediction.unwrap_or(INVALID)) == self.normalize(reference)
    }

    /// The text as lm-eval compares it.
    pub fn normalize(&self, text: &str) -> String {
        // lm-eval rebuilds a numpy array after each pattern (or once, without patterns), which
        // drops trailing NULs each time.
        let mut text = if self.ignore.is_empty() {
            numpy_string(text.to_string())
        } else {
            text.to_string()
        };
        for pattern in &self.ignore {
            // A pattern that exceeds the backtracking limit removes nothing.
            if let Ok(replaced) = pattern.try_replacen(&text, 0, "") {
                text = numpy_string(replaced.into_owned());
            }
        }
        if self.ignore_case {
            text = numpy_string(text.to_lowercase());
        }
        if self.ignore_punctuation {
            text = numpy_string(text.chars().filter(|c| !c.is_ascii_punctuation()).collect());
        }
        if self.ignore_numbers {
            text = numpy_string(text.chars().filter(|c| !c.is_ascii_digit()).collect());
        }
        text
    }
}

/// numpy's fixed-width unicode strings drop trailing NUL characters.
fn numpy_string(text: String) -> String {
    match text.trim_end_matches('\0').len() {
        len if len == text.len() => text,
        len => text[..len].to_string(),
    }
}

/// `pattern` with every `$` outside a character class (and not escaped) written as Python's
/// end anchor without MULTILINE: the end of the text, or just before a final newline.
fn python_dollar(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let (mut escaped, mut in_class) = (false, false);
    for c in pattern.chars() {
        match c {
            _ if escaped => {
                escaped = false;
                out.push(c);
            }
            '\\' => {
                escaped = true;
                out.push(c);
            }
            '[' => {
                in_class = true;
                out.push(c);
            }
            ']' => {
                in_class = false;
                out.push(c);
            }
            '$' if !in_class => out.push_str(r"(?=\n?\z)"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::MetricKind;

    fn gsm8k() -> ExactMatch {
        ExactMatch::compile(&MetricSpec {
            name: MetricKind::ExactMatch,
            filters: vec![],
            labels: vec![],
            k: vec![],
            ignore_case: true,
            ignore_punctuation: false,
            ignore_numbers: false,
            regexes_to_ignore: vec![
                ",".into(),
                r"\$".into(),
                "(?s).*#### ".into(),
                r"\.$".into(),
            ],
        })
        .unwrap()
    }

    #[test]
    fn gsm8k_rules_are_lm_evals_and_nothing_more() {
        let metric = gsm8k();
        let reference = "She sells 16 - 3 - 4 = 9 eggs.\n#### 18";
        assert!(metric.matches(Some("18"), reference));
        assert!(metric.matches(Some("$18."), reference));
        assert!(metric.matches(Some("1,8"), reference));
        // No numeric equivalence: lm-eval scores these wrong.
        assert!(!metric.matches(Some("18.00"), reference));
        assert!(!metric.matches(Some("18.0"), reference));
        assert!(!metric.matches(Some("018"), reference));
        assert!(!metric.matches(None, reference));
        // Python's `$` also matches before a final newline; one trailing period only.
        assert_eq!(metric.normalize("18.\n"), "18\n");
        assert_eq!(metric.normalize("18.."), "18.");
        assert_eq!(metric.normalize("a #### b #### C"), "c");
        assert_eq!(metric.normalize("7\0\0"), "7");
    }

    #[test]
    fn dollar_is_pythons_outside_classes_only() {
        assert_eq!(python_dollar(r"\.$"), r"\.(?=\n?\z)");
        assert_eq!(python_dollar(r"\$"), r"\$");
        assert_eq!(python_dollar(r"[$0-9]"), r"[$0-9]");
        assert_eq!(python_dollar(r"\\$"), r"\\(?=\n?\z)");
        // Python: re.sub(r"\n$", "", "a\n\n") == "a"; re.sub(r"^\s+|\s+$", "", " a ") == "a".
        let metric = |patterns: &[&str]| {
            ExactMatch::compile(&MetricSpec {
                name: MetricKind::ExactMatch,
                filters: vec![],
                labels: vec![],
                k: vec![],
                ignore_case: false,
                ignore_punctuation: false,
                ignore_numbers: false,
                regexes_to_ignore: patterns.iter().map(|p| p.to_string()).collect(),
            })
            .unwrap()
        };
        assert_eq!(metric(&[r"\n$"]).normalize("a\n\n"), "a");
        assert_eq!(metric(&[r"^\s+|\s+$"]).normalize(" a "), "a");
        // NULs go after each pattern, as numpy drops them between lm-eval's passes.
        assert_eq!(metric(&[",", r"\.$"]).normalize("18.\0"), "18");
    }
}
