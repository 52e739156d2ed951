//! The store: what a run writes under `results/runs/<run-id>/` and how it is read back.
//!
//! - `manifest.json`: the plan, model and dataset sha256s, versions, machine, times;
//! - `samples.jsonl`: one [`SampleRecord`] per line, appended and flushed as each finishes;
//! - `summary.json`: the aggregates ([`Summary`]), computed from the samples.
//!
//! Reports, comparisons and re-scoring read only these files.

pub mod comparability;
mod reader;
mod records;
mod run_dir;
mod summarize;

pub use comparability::{RunKey, SpeedConditions, TaskConfig};
pub use reader::{finished_runs, read_finished_run, read_json, FinishedRun, SkippedRun};
pub use records::{
    DatasetRecord, Manifest, ModelRecord, ModelRunRecord, Overhead, QualityIndex, SampleRecord,
    SpeedSummary, SuiteScore, Summary, TaskRecord, TaskResult, SCHEMA_VERSION,
};
pub use run_dir::{new_run_id, read_samples, RunDir, MANIFEST_FILE};
pub use summarize::{quality_index, summarize, Aggregates};
