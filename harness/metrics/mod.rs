//! Metrics: pure functions from per-sample values to aggregates with uncertainty, and cost.

pub mod cost;
pub mod stats;

pub use cost::TokenPrices;
pub use stats::{macro_f1, pass_at_k, percentile, wilson_interval, Distribution, Estimate};
