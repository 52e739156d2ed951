//! minijinja templates as the task files write them: strict about undefined values, errors
//! reported with the template line, and one filter beyond minijinja's own: `regex_replace`.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, Result};
use minijinja::Environment;
use serde::Serialize;

const NAME: &str = "template";

/// One compiled template.
#[derive(Debug)]
pub struct Template {
    env: Environment<'static>,
}

impl Template {
    /// Compiles `source`; `what` names it in errors (e.g. `prompt.template`).
    pub fn compile(source: &str, what: &str) -> Result<Self> {
        let mut env = environment();
        env.set_keep_trailing_newline(true);
        env.add_template_owned(NAME, source.to_string())
            .map_err(describe)
            .with_context(|| format!("{what} does not compile"))?;
        Ok(Self { env })
    }

    /// Renders with `context`.
    pub fn render(&self, context: impl Serialize) -> Result<String> {
        self.env
            .get_template(NAME)
            .and_then(|t| t.render(context))
            .map_err(describe)
    }
}

/// One minijinja expression (lm-eval's `doc_to_choice` / `doc_to_target` written as an
/// expression, e.g. `doc.choices.text`), evaluated to a value.
#[derive(Debug)]
pub struct Expression {
    env: Environment<'static>,
    source: String,
}

impl Expression {
    /// Checks that `source` compiles; `what` names it in errors (e.g. `multiple_choice.gold`).
    pub fn compile(source: &str, what: &str) -> Result<Self> {
        let env = environment();
        env.compile_expression(source)
            .map_err(describe)
            .with_context(|| format!("{what} = {source:?} is not a valid expression"))?;
        Ok(Self {
            env,
            source: source.to_string(),
        })
    }

    /// Its value in `context`, as JSON.
    pub fn evaluate(&self, context: impl Serialize) -> Result<serde_json::Value> {
        let value = self
            .env
            .compile_expression(&self.source)
            .and_then(|e| e.eval(context))
            .map_err(describe)?;
        serde_json::to_value(&value).context("the expression's value is not plain data")
    }
}

/// The environment every template and expression is compiled in.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_filter("regex_replace", regex_replace);
    env
}

/// `text|regex_replace(pattern, replacement)`: every non-overlapping match of `pattern` (Rust
/// regex syntax, which agrees with Python's `re` on the patterns task files use, e.g. lm-eval's
/// HellaSwag `\[.*?\]`: `.` stops at a newline in both) replaced by `replacement`, taken
/// literally (no `$1` groups), as Python's `re.sub(pattern, replacement, text)` does for a
/// replacement without backslashes.
fn regex_replace(
    text: &str,
    pattern: &str,
    replacement: &str,
) -> std::result::Result<String, minijinja::Error> {
    let regex = compiled(pattern).map_err(|e| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("regex_replace: {pattern:?} is not a valid regular expression: {e}"),
        )
    })?;
    Ok(regex
        .replace_all(text, regex::NoExpand(replacement))
        .into_owned())
}

/// `pattern` compiled once per process: a task renders it for every item and choice.
fn compiled(pattern: &str) -> std::result::Result<regex::Regex, regex::Error> {
    static CACHE: OnceLock<Mutex<HashMap<String, regex::Regex>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(regex) = cache.get(pattern) {
        return Ok(regex.clone());
    }
    let regex = regex::Regex::new(pattern)?;
    cache.insert(pattern.to_string(), regex.clone());
    Ok(regex)
}

fn describe(err: minijinja::Error) -> anyhow::Error {
    match err.line() {
        Some(line) => anyhow::anyhow!("template line {line}: {err}"),
        None => anyhow::anyhow!("{err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_replace_removes_every_match_lazily_and_literally() {
        let template = Template::compile(
            r#"{{ text|regex_replace("\\[.*?\\]", "$0") }}"#,
            "prompt.template",
        )
        .unwrap();
        let text = "Cut [step 1] the [a] rope [b]\n[c\nd] end";
        // Lazy: "[a] rope [b]" is two matches; `.` does not cross the newline; "$0" is literal.
        assert_eq!(
            template
                .render(serde_json::json!({ "text": text }))
                .unwrap(),
            "Cut $0 the $0 rope $0\n[c\nd] end"
        );
        let expression = Expression::compile(
            r#"doc.endings|map("regex_replace", "\\[.*?\\]", "")|list"#,
            "multiple_choice.choices",
        )
        .unwrap();
        assert_eq!(
            expression
                .evaluate(serde_json::json!({ "doc": { "endings": ["a [x]b", "[y][z]"] } }))
                .unwrap(),
            serde_json::json!(["a b", ""])
        );
    }

    #[test]
    fn an_invalid_pattern_is_named_in_the_error() {
        let template =
            Template::compile(r#"{{ "x"|regex_replace("(", "") }}"#, "prompt.template").unwrap();
        let err = format!("{:#}", template.render(serde_json::json!({})).unwrap_err());
        assert!(
            err.contains("\"(\" is not a valid regular expression"),
            "{err}"
        );
    }
}
