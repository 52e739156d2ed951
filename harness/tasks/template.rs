//! minijinja templates as the task files write them: strict about undefined values, errors
//! reported with the template line.

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
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
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
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
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

fn describe(err: minijinja::Error) -> anyhow::Error {
    match err.line() {
        Some(line) => anyhow::anyhow!("template line {line}: {err}"),
        None => anyhow::anyhow!("{err}"),
    }
}
