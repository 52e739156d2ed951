//! Cost per token: an hourly machine price divided by measured throughput, and the blended
//! price with Artificial Analysis's 3:1 input:output weighting.

use serde::{Deserialize, Serialize};

use crate::units::TokensPerSecond;

/// Input tokens per output token in the blended price.
pub const BLEND_INPUT_WEIGHT: f64 = 3.0;

/// USD per 1M tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TokenPrices {
    /// Per 1M input (prompt) tokens.
    pub input: f64,
    /// Per 1M output (generated) tokens.
    pub output: f64,
    /// (3 × input + 1 × output) / 4.
    pub blended: f64,
}

impl TokenPrices {
    /// Prices from per-1M input and output prices.
    pub fn new(input: f64, output: f64) -> Self {
        Self {
            input,
            output,
            blended: blended(input, output),
        }
    }
}

/// The 3:1 blended price per 1M tokens.
pub fn blended(input: f64, output: f64) -> f64 {
    (BLEND_INPUT_WEIGHT * input + output) / (BLEND_INPUT_WEIGHT + 1.0)
}

/// USD per 1M tokens processed at `throughput` tokens/s on a machine costing `usd_per_hour`.
pub fn usd_per_million(usd_per_hour: f64, throughput: TokensPerSecond) -> Option<f64> {
    (throughput > 0.0 && throughput.is_finite())
        .then(|| usd_per_hour / (throughput * 3600.0) * 1_000_000.0)
}

/// Self-hosted prices: the machine's hourly price over the measured input (prefill) and output
/// (decode) throughput, each as if the machine did only that.
pub fn self_hosted(
    usd_per_hour: f64,
    input_throughput: TokensPerSecond,
    output_throughput: TokensPerSecond,
) -> Option<TokenPrices> {
    Some(TokenPrices::new(
        usd_per_million(usd_per_hour, input_throughput)?,
        usd_per_million(usd_per_hour, output_throughput)?,
    ))
}

/// USD of `seconds` on a machine costing `usd_per_hour`.
pub fn usd_for_seconds(usd_per_hour: f64, seconds: f64) -> f64 {
    usd_per_hour * seconds / 3600.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hourly_price_over_throughput() {
        // $3.60/h at 1,000 tok/s = 3.6M tokens per hour → $1 per 1M.
        assert_eq!(usd_per_million(3.6, 1000.0), Some(1.0));
        assert_eq!(usd_per_million(3.6, 0.0), None);
        let prices = self_hosted(3.6, 1000.0, 100.0).unwrap();
        assert_eq!((prices.input, prices.output), (1.0, 10.0));
        assert_eq!(prices.blended, (3.0 * 1.0 + 10.0) / 4.0);
        assert_eq!(usd_for_seconds(3.6, 1800.0), 1.8);
    }
}
