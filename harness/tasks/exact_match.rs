//! lm-evaluation-harness's `exact_match` metric, computed as its code computes it
//! (`lm_eval/api/metrics.py`, `exact_match_hf_evaluate`, a copy of Hugging Face evaluate's):
//! every pattern of `regexes_to_ignore` is removed from prediction and reference in turn
//! (`re.sub(pattern, "", text)`), then both are lower-cased (`ignore_case`), stripped of ASCII
//! punctuation (`ignore_punctuation`) and of digits (`ignore_numbers`), and compared as numpy
//! compares its fixed-width strings (trailing NUL characters do not count). A filter that found
//! no answer yields lm-eval's fallback `[invalid]`, which is compared the same way.
//!
//! Patterns are Rust `regex` syntax, which agrees with Python's `re` on the patterns tasks use;
//! one difference is bridged: a final `$` means what it means in Python — the end of the text,
//! or just before a newline that ends it.

use anyhow::{Context, Result};
use regex::Regex;

use super::spec::MetricSpec;

/// lm-evaluation-harness's regex filter result when it finds nothing.
pub const INVALID: &str = "[invalid]";

/// A compiled `exact_match`.
#[derive(Debug, Clone)]
pub struct ExactMatch {
    ignore: Vec<IgnoredPattern>,
    ignore_case: bool,
    ignore_punctuation: bool,
    ignore_numbers: bool,
}

#[derive(Debug, Clone)]
struct IgnoredPattern {
    regex: Regex,
    /// The pattern ended in Python's `$`: the captured final newline is put back.
    keeps_final_newline: bool,
}

impl ExactMatch {
    /// Compiles the options of `metric`; an invalid pattern is named.
    pub fn compile(metric: &MetricSpec) -> Result<Self> {
        let ignore = metric
            .regexes_to_ignore
            .iter()
            .map(|pattern| {
                let (translated, keeps_final_newline) = python_end_anchor(pattern);
                let regex = Regex::new(&translated).with_context(|| {
                    format!("regexes_to_ignore has an invalid regex {pattern:?}")
                })?;
                Ok(IgnoredPattern {
                    regex,
                    keeps_final_newline,
                })
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
        let mut text = text.to_string();
        for pattern in &self.ignore {
            text = if pattern.keeps_final_newline {
                pattern.regex.replace_all(&text, "${keep}").into_owned()
            } else {
                pattern.regex.replace_all(&text, "").into_owned()
            };
        }
        let mut text = numpy_string(text);
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

/// A pattern ending in an unescaped `$` becomes `(?:body)(?P<keep>\n?)\z`: Python's `$` also
/// matches just before a final newline, which `re.sub` leaves in place.
fn python_end_anchor(pattern: &str) -> (String, bool) {
    let Some(body) = pattern.strip_suffix('$') else {
        return (pattern.to_string(), false);
    };
    let escapes = body.chars().rev().take_while(|c| *c == '\\').count();
    if escapes % 2 == 1 {
        return (pattern.to_string(), false);
    }
    (format!(r"(?:{body})(?P<keep>\n?)\z"), true)
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
    fn an_escaped_dollar_is_literal() {
        assert_eq!(python_end_anchor(r"\$"), (r"\$".to_string(), false));
        assert!(python_end_anchor(r"\\$").1);
    }
}
