//! Integration tests, compiled into one test binary (one link of the mistral.rs dependency tree).
//!
//! - `cli`: bad input through the real binary — clear message, non-zero exit, nothing damaged;
//! - `pipeline`: a whole run through the scripted backend, checking every file a run writes;
//! - `end_to_end`: the real SmolLM2 GGUF through mistral.rs on real GSM8K items.

mod cli;
mod end_to_end;
mod pipeline;
mod support;
