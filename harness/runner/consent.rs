//! Consent to execute model-generated code: code tasks need it explicitly, except in the default
//! suite, which opts in with a printed notice (as the reference harnesses ask for consent).

use anyhow::{bail, Result};

use crate::scoring::{executes_code, sandbox};
use crate::tasks::Task;

/// Code tasks run model-generated code: they need `--allow-code-exec`, except in the default
/// suite, which opts in with a notice (as the reference harnesses ask for explicit consent).
pub fn confirm_code_execution(tasks: &[&Task], allowed: bool, default_suite: bool) -> Result<()> {
    let executing: Vec<&str> = tasks
        .iter()
        .filter(|t| executes_code(t))
        .map(|t| t.name())
        .collect();
    if executing.is_empty() || allowed {
        return Ok(());
    }
    if default_suite {
        eprintln!(
            "notice: the default suite runs {} which executes model-generated code; it runs \
             sandboxed ({}). Name suites or tasks to leave it out.",
            executing.join(", "),
            sandbox::isolation()
        );
        return Ok(());
    }
    bail!(
        "task {} executes model-generated code; rerun with --allow-code-exec to allow it \
         (it runs sandboxed: {})",
        executing.join(", "),
        sandbox::isolation()
    )
}
