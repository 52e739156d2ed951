//! Metrics: pure functions from per-sample values to aggregates with uncertainty, and cost.

pub mod cost;
#[cfg(test)]
mod coverage;
pub mod paired;
pub mod stats;

pub use cost::TokenPrices;
pub use stats::{
    clopper_pearson, macro_f1, pass_at_k, percentile, Distribution, Estimate, PRELIMINARY_BELOW,
};
