//! Answer-extraction chains: named steps applied in order to a model output (or a reference
//! field), ending in the answer string compared by the metric — or in no answer at all.

use anyhow::{Context, Result};
use regex::Regex;

use super::minerva;
use super::spec::{Select, StepSpec};

/// A compiled chain of extraction steps.
#[derive(Debug, Clone)]
pub struct ExtractionChain {
    steps: Vec<Step>,
}

#[derive(Debug, Clone)]
enum Step {
    Regex {
        regex: Regex,
        group: Option<usize>,
        select: Select,
    },
    Strip,
    Lowercase,
    NormalizeNumber,
    Choice(Vec<(String, Regex)>),
    Append(String),
    LastBoxed,
    MinervaNormalize,
}

impl ExtractionChain {
    /// Compiles `steps`; an invalid regex is reported with its step number.
    pub fn compile(steps: &[StepSpec]) -> Result<Self> {
        let steps = steps
            .iter()
            .enumerate()
            .map(|(index, step)| {
                Ok(match step {
                    StepSpec::Regex {
                        pattern,
                        group,
                        select,
                    } => Step::Regex {
                        regex: Regex::new(pattern).with_context(|| {
                            format!("step {} has an invalid regex {pattern:?}", index + 1)
                        })?,
                        group: *group,
                        select: *select,
                    },
                    StepSpec::Strip => Step::Strip,
                    StepSpec::Lowercase => Step::Lowercase,
                    StepSpec::NormalizeNumber => Step::NormalizeNumber,
                    StepSpec::Append { text } => Step::Append(text.clone()),
                    StepSpec::LastBoxed => Step::LastBoxed,
                    StepSpec::MinervaNormalize => Step::MinervaNormalize,
                    StepSpec::Choice { choices } => Step::Choice(
                        choices
                            .iter()
                            .map(|c| {
                                let word = format!(r"(?i)\b{}\b", regex::escape(c));
                                Ok((c.clone(), Regex::new(&word)?))
                            })
                            .collect::<Result<_>>()?,
                    ),
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self { steps })
    }

    /// Runs the chain; `None` when a regex step finds nothing.
    pub fn apply(&self, text: &str) -> Option<String> {
        let mut current = text.to_string();
        for step in &self.steps {
            current = match step {
                Step::Regex {
                    regex,
                    group,
                    select,
                } => regex_select(regex, *group, *select, &current)?,
                Step::Strip => current.trim().to_string(),
                Step::Lowercase => current.to_lowercase(),
                Step::NormalizeNumber => normalize_number(&current),
                Step::Append(text) => current + text,
                Step::LastBoxed => {
                    minerva::remove_boxed(&minerva::last_boxed_only_string(&current)?)?
                }
                Step::MinervaNormalize => minerva::normalize_final_answer(&current),
                Step::Choice(choices) => choices
                    .iter()
                    .filter_map(|(label, word)| word.find(&current).map(|m| (m.start(), label)))
                    .min()
                    .map(|(_, label)| label.clone())?,
            };
        }
        Some(current)
    }
}

/// lm-evaluation-harness's regex filter: `findall`, keep match `select`, and of a match with
/// several groups the first non-empty one; the result is stripped.
fn regex_select(regex: &Regex, group: Option<usize>, select: Select, text: &str) -> Option<String> {
    let mut matches = regex.captures_iter(text);
    let captures = match select {
        Select::First => matches.next()?,
        Select::Last => matches.last()?,
    };
    let picked = match group {
        Some(g) => captures.get(g).map(|m| m.as_str()),
        None if captures.len() > 1 => (1..captures.len())
            .filter_map(|g| captures.get(g))
            .map(|m| m.as_str())
            .find(|s| !s.is_empty()),
        None => captures.get(0).map(|m| m.as_str()),
    }?;
    Some(picked.trim().to_string())
}

/// `$1,234.50` → `1234.5`, `18.0` → `18`, `7.` → `7`; text that is not a number after removing
/// separators and currency signs is returned with just those removed.
pub fn normalize_number(text: &str) -> String {
    let cleaned: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '$' | '€' | '£' | ' '))
        .collect();
    let cleaned = cleaned.strip_suffix('.').unwrap_or(&cleaned).to_string();
    let looks_numeric = !cleaned.is_empty()
        && cleaned
            .trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
        && cleaned.matches('.').count() <= 1;
    if !looks_numeric {
        return cleaned;
    }
    match cleaned.split_once('.') {
        Some((whole, fraction)) => {
            let fraction = fraction.trim_end_matches('0');
            let whole = if whole.is_empty() || whole == "-" {
                format!("{whole}0")
            } else {
                whole.to_string()
            };
            if fraction.is_empty() {
                whole
            } else {
                format!("{whole}.{fraction}")
            }
        }
        None => cleaned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regex(pattern: &str, select: Select) -> StepSpec {
        StepSpec::Regex {
            pattern: pattern.into(),
            group: None,
            select,
        }
    }

    #[test]
    fn numbers_normalize() {
        assert_eq!(normalize_number("$1,234"), "1234");
        assert_eq!(normalize_number("18.0"), "18");
        assert_eq!(normalize_number("18.50"), "18.5");
        assert_eq!(normalize_number("7."), "7");
        assert_eq!(normalize_number("-3"), "-3");
        assert_eq!(normalize_number("-.50"), "-0.5");
        assert_eq!(normalize_number("1.2.3"), "1.2.3");
        assert_eq!(normalize_number("abc"), "abc");
    }

    #[test]
    fn strict_gsm8k_chain() {
        let chain = ExtractionChain::compile(&[
            regex(r"#### (\-?[0-9\.\,]+)", Select::First),
            StepSpec::NormalizeNumber,
        ])
        .unwrap();
        assert_eq!(
            chain.apply("so 3+4=7\n#### 1,007.00\n").as_deref(),
            Some("1007")
        );
        assert_eq!(chain.apply("The answer is 7"), None);
    }

    #[test]
    fn flexible_chain_takes_last_number_with_either_group() {
        let chain =
            ExtractionChain::compile(&[regex(r"(-?[$0-9.,]{2,})|(-?[0-9]+)", Select::Last)])
                .unwrap();
        assert_eq!(
            chain.apply("3 apples and $12.50 total").as_deref(),
            Some("$12.50")
        );
        assert_eq!(chain.apply("first 12 then 5").as_deref(), Some("5"));
        assert_eq!(chain.apply("no digits"), None);
    }

    #[test]
    fn choice_takes_the_earliest_whole_word() {
        let chain = ExtractionChain::compile(&[StepSpec::Choice {
            choices: vec!["yes".into(), "no".into(), "maybe".into()],
        }])
        .unwrap();
        assert_eq!(
            chain.apply("Maybe; the answer is no.").as_deref(),
            Some("maybe")
        );
        assert_eq!(chain.apply("Answer: NO").as_deref(), Some("no"));
        assert_eq!(chain.apply("nothing, yesterday"), None);
    }

    #[test]
    fn invalid_regex_names_its_step() {
        let err = ExtractionChain::compile(&[StepSpec::Strip, regex("(", Select::First)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("step 2"), "{err}");
    }
}
