//! The store: the one owner of run folders — what a run writes under `results/runs/<run-id>/`,
//! how runs are found and read back, finished, merged, and added to the history.
//!
//! - `manifest.json`: the plan, model and dataset sha256s, versions, machine, times;
//! - `samples.jsonl`: one [`SampleRecord`] per line, appended and flushed as each finishes;
//! - `summary.json`: the aggregates ([`Summary`]), computed from the samples;
//! - `results/history.parquet`: one row per run × model × task, appended by nightly jobs.
//!
//! Reports, comparisons and re-scoring read only these files, and only through this module.

pub mod columns;
pub mod comparability;
mod finish;
mod history;
mod merge;
mod reader;
mod records;
mod run_dir;
mod shard;
mod summarize;

pub use comparability::{RunKey, SpeedConditions, TaskConfig};
pub use finish::{finish_run, RunOutcome, RunTiming};
pub use history::{append_history, history_columns, read_history, HISTORY_FILE};
pub use merge::{merge, MergeOrigin};
pub use reader::{
    complete_runs, find_manifest, finished_runs, previous_comparable, read_finished_run,
    read_manifest, resolve_run, FinishedRun, SkippedRun,
};
pub use records::{
    DatasetRecord, Manifest, ModelRecord, ModelRunRecord, Overhead, QualityIndex, SampleRecord,
    SpeedSummary, SuiteScore, Summary, TaskRecord, TaskResult, Verdict, SCHEMA_VERSION,
};
pub use run_dir::{new_run_id, read_samples, run_folder, RunDir};
pub use shard::Shard;
pub use summarize::{quality_index, summarize, Aggregates};
