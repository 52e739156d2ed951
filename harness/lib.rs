//! yardstick: benchmark open LLMs through mistral.rs — quality, speed and cost in one run.
//!
//! Modules form layers; a module uses only modules of lower layers (and of its own, without a
//! circle), as the test `layers` in `tests/integration/layers.rs` checks on every build:
//!
//! 1. foundations: `units`, `files`, `natural`, `interrupt`, `locations`, `machine`;
//! 2. inputs: `gguf`, `data`, `metrics`, `hardware`, `prices`, `models`, `tasks`;
//! 3. engines: `scoring` (answers and sandboxed code), `backend` (mistral.rs);
//! 4. `store`: run folders — their records, the one reader, merging, the history;
//! 5. `runner`: plans and their execution, in one process or in workers;
//! 6. operations on stored runs and models: `rescore`, `compare`, `leaderboard`, `perf`;
//! 7. decisions and views: `select`, `nightly`, `report`, `doctor`;
//! 8. the command line: `cli` (definitions), `commands` (each command's glue).

pub mod backend;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod config;
pub mod data;
pub mod doctor;
pub mod export;
pub mod files;
pub mod gguf;
pub mod hardware;
pub mod interrupt;
pub mod leaderboard;
pub mod locations;
pub mod machine;
pub mod metrics;
pub mod models;
pub mod natural;
pub mod nightly;
pub mod perf;
pub mod pip;
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
