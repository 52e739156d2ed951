//! Multiple-choice items as lm-evaluation-harness builds and scores them
//! (`output_type: multiple_choice`): the choices (`doc_to_choice`), the gold index
//! (`doc_to_target`), the continuations scored after the context (`target_delimiter + choice`),
//! and the `acc` / `acc_norm` predictions from the continuations' log-likelihoods.

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::spec::{ChoicesSpec, MultipleChoiceSpec};
use super::template::Expression;

/// A task's compiled `[multiple_choice]` section.
#[derive(Debug)]
pub struct MultipleChoice {
    choices: Choices,
    gold: Expression,
    /// Whether `gold` is a bare field (`doc.answer`): lm-eval then takes the value as it is,
    /// where a template's digits are parsed as an index.
    gold_is_field: bool,
    delimiter: String,
}

#[derive(Debug)]
enum Choices {
    Fixed(Vec<String>),
    Expression(Box<Expression>),
}

impl MultipleChoice {
    /// Compiles the section's expressions.
    pub fn compile(spec: &MultipleChoiceSpec) -> Result<Self> {
        let choices = match &spec.choices {
            ChoicesSpec::Fixed(list) if list.len() < 2 => {
                bail!("multiple_choice.choices needs at least two choices, not {list:?}")
            }
            ChoicesSpec::Fixed(list) => Choices::Fixed(list.clone()),
            ChoicesSpec::Expression(source) => Choices::Expression(Box::new(Expression::compile(
                source,
                "multiple_choice.choices",
            )?)),
        };
        let field = regex::Regex::new(r"^\s*doc\.[A-Za-z_][A-Za-z0-9_]*\s*$").expect("static");
        Ok(Self {
            choices,
            gold: Expression::compile(&spec.gold, "multiple_choice.gold")?,
            gold_is_field: field.is_match(&spec.gold),
            delimiter: spec.target_delimiter.clone(),
        })
    }

    /// The item's choices (at least two strings).
    pub fn choices(&self, doc: &Value) -> Result<Vec<String>> {
        let expression = match &self.choices {
            Choices::Fixed(list) => return Ok(list.clone()),
            Choices::Expression(expression) => expression,
        };
        let value = expression
            .evaluate(minijinja::context! { doc })
            .context("multiple_choice.choices")?;
        let list: Option<Vec<String>> = value.as_array().and_then(|values| {
            values
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect()
        });
        match list {
            Some(list) if list.len() >= 2 => Ok(list),
            _ => bail!("multiple_choice.choices gave {value}, not a list of at least two strings"),
        }
    }

    /// The gold choice's index, read as lm-evaluation-harness reads `doc_to_target`: a number
    /// (or a boolean, as Python counts it) is the index; a string is looked up among the
    /// choices — except that the digits a computed expression gives are parsed as an index (lm-eval
    /// does so for a template, not for a bare field such as `doc.answer`). A gold that is no
    /// choice is an error here (lm-eval warns and scores the item 0).
    pub fn gold(&self, doc: &Value, choices: &[String]) -> Result<usize> {
        let value = self
            .gold
            .evaluate(minijinja::context! { doc })
            .context("multiple_choice.gold")?;
        let index = match &value {
            Value::Number(n) => n.as_u64().map(|n| n as usize).or_else(|| {
                n.as_f64()
                    .filter(|x| *x >= 0.0 && x.fract() == 0.0)
                    .map(|x| x as usize)
            }),
            Value::Bool(b) => Some(usize::from(*b)),
            Value::String(s)
                if !self.gold_is_field
                    && !s.is_empty()
                    && s.bytes().all(|b| b.is_ascii_digit()) =>
            {
                s.parse().ok()
            }
            Value::String(s) => choices.iter().position(|c| c == s),
            _ => None,
        };
        match index {
            Some(index) if index < choices.len() => Ok(index),
            _ => bail!(
                "multiple_choice.gold gave {value}, which is neither an index below {} nor one \
                 of the choices {choices:?}",
                choices.len()
            ),
        }
    }

    /// What is scored after the context for each choice: the target delimiter, then the choice.
    pub fn continuations(&self, choices: &[String]) -> Vec<String> {
        choices
            .iter()
            .map(|choice| format!("{}{choice}", self.delimiter))
            .collect()
    }
}

/// The choices lm-evaluation-harness predicts from the choices' log-likelihoods: `acc`'s (the
/// highest log-likelihood) and `acc_norm`'s (the highest log-likelihood per character of the
/// choice, the delimiter not counted). Ties go to the first, as with `np.argmax`.
pub fn predictions(logprobs: &[f64], choices: &[String]) -> (usize, usize) {
    let normalized: Vec<f64> = logprobs
        .iter()
        .zip(choices)
        .map(|(logprob, choice)| logprob / choice.chars().count() as f64)
        .collect();
    (argmax(logprobs), argmax(&normalized))
}

/// numpy's `argmax`: the first largest value; a NaN counts as the largest.
fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (index, &value) in values.iter().enumerate() {
        if values[best].is_nan() {
            break;
        }
        if value.is_nan() || value > values[best] {
            best = index;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn section(choices: ChoicesSpec, gold: &str) -> MultipleChoice {
        MultipleChoice::compile(&MultipleChoiceSpec {
            choices,
            gold: gold.into(),
            target_delimiter: " ".into(),
        })
        .unwrap()
    }

    #[test]
    fn gold_is_read_as_lm_eval_reads_doc_to_target() {
        let arc = section(
            ChoicesSpec::Expression("doc.choices.text".into()),
            "doc.choices.label.index(doc.answerKey)",
        );
        let doc = json!({"choices": {"text": ["dry", "wet", "oily"], "label": ["A", "B", "C"]},
                         "answerKey": "B", "n": "2", "word": "oily", "big": 3});
        let choices = arc.choices(&doc).unwrap();
        assert_eq!(choices, ["dry", "wet", "oily"]);
        // minijinja has no list.index(): such an expression fails with the section named.
        let err = format!("{:#}", arc.gold(&doc, &choices).unwrap_err());
        assert!(err.contains("multiple_choice.gold"), "{err}");
        let fixed = || ChoicesSpec::Fixed(vec!["x".into(), "y".into()]);
        // A template's digits are an index; a bare field's are a choice's text.
        assert_eq!(
            section(fixed(), "doc.n ~ ''").gold(&doc, &choices).unwrap(),
            2
        );
        let digits: Vec<String> = ["1", "2", "3"].iter().map(|s| s.to_string()).collect();
        assert_eq!(section(fixed(), "doc.n").gold(&doc, &digits).unwrap(), 1);
        // Booleans and whole floats are indices, as in Python.
        let flags = json!({"t": true, "f": 2.0});
        assert_eq!(section(fixed(), "doc.t").gold(&flags, &choices).unwrap(), 1);
        assert_eq!(section(fixed(), "doc.f").gold(&flags, &choices).unwrap(), 2);
        let by_text = section(fixed(), "doc.word");
        assert_eq!(by_text.gold(&doc, &choices).unwrap(), 2);
        let err = format!(
            "{:#}",
            by_text
                .gold(&json!({"word": "damp"}), &choices)
                .unwrap_err()
        );
        assert!(err.contains("\"damp\"") && err.contains("dry"), "{err}");
        let err = format!(
            "{:#}",
            section(fixed(), "doc.big")
                .gold(&doc, &choices)
                .unwrap_err()
        );
        assert!(err.contains("below 3"), "{err}");
        assert_eq!(arc.continuations(&choices)[1], " wet");
    }

    #[test]
    fn predictions_follow_numpy_argmax_and_character_lengths() {
        let choices: Vec<String> = ["é", "ab", "abcd"].iter().map(|s| s.to_string()).collect();
        // Per character (not byte): é is one character, so -1.5/1 < -2.0/2 > -6/4.
        assert_eq!(predictions(&[-1.5, -2.0, -6.0], &choices), (0, 1));
        // Ties go to the first choice, in both.
        assert_eq!(predictions(&[-2.0, -2.0, -8.0], &choices), (0, 1));
        assert_eq!(predictions(&[-1.0, -2.0, -4.0], &choices), (0, 0));
        assert_eq!(argmax(&[1.0, f64::NAN, 3.0]), 1);
    }

    #[test]
    fn choices_must_be_a_list_of_strings() {
        let mc = section(ChoicesSpec::Expression("doc.options".into()), "0");
        for bad in [
            json!({"options": "A"}),
            json!({"options": [1, 2]}),
            json!({"options": ["only"]}),
        ] {
            let err = format!("{:#}", mc.choices(&bad).unwrap_err());
            assert!(err.contains("not a list of at least two strings"), "{err}");
        }
        let err = format!("{:#}", mc.choices(&json!({})).unwrap_err());
        assert!(err.contains("multiple_choice.choices"), "{err}");
        assert!(MultipleChoice::compile(&MultipleChoiceSpec {
            choices: ChoicesSpec::Expression("doc.(".into()),
            gold: "0".into(),
            target_delimiter: " ".into(),
        })
        .is_err());
    }
}
