//! Metrics: pure functions from per-sample values to aggregates with uncertainty.

pub mod stats;

pub use stats::{macro_f1, pass_at_k, percentile, wilson_interval, Distribution, Estimate};
