//! yardstick: benchmark open LLMs through mistral.rs — quality, speed and cost in one run.
//!
//! Data flows one way: `config` (models, tasks) → `backend` → `runner` → `scoring` → `metrics`
//! → `store` → `report`. A module only uses the ones before it in that chain.

pub mod backend;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod data;
pub mod doctor;
pub mod files;
pub mod gguf;
pub mod hardware;
pub mod interrupt;
pub mod locations;
pub mod machine;
pub mod merge;
pub mod metrics;
pub mod models;
pub mod natural;
pub mod nightly;
pub mod perf;
pub mod prices;
pub mod report;
pub mod rescore;
pub mod runner;
pub mod scoring;
pub mod select;
pub mod store;
pub mod tasks;
pub mod units;

/// The harness's own version, recorded in every manifest.
pub const HARNESS_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit the binary was built from (`unknown` outside a git checkout).
pub const GIT_COMMIT: &str = env!("YARDSTICK_GIT_COMMIT");
