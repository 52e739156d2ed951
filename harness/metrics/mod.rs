//! Metrics: pure functions from per-sample values to aggregates with uncertainty.

pub mod stats;

pub use stats::{percentile, wilson_interval, Distribution, Estimate};
