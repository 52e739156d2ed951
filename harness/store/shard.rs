//! Shards: how the (model, task, item) work of one plan is split over processes or machines
//! (`run --shard K/N`, and the workers of `run --workers N`).

use serde::{Deserialize, Serialize};

/// Shard K of N: the (model, task, item) work units are numbered in plan order and shard K takes
/// those whose number is K − 1 modulo N — deterministic, balanced, and independent of timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// K, from 1.
    pub index: usize,
    /// N.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let parsed = text
            .split_once('/')
            .and_then(|(k, n)| Some((k.trim().parse().ok()?, n.trim().parse().ok()?)));
        match parsed {
            Some((index, count)) if index >= 1 && index <= count => Ok(Self { index, count }),
            _ => Err(format!(
                "{text:?} is not a shard: write K/N with 1 <= K <= N, e.g. 2/8"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse() {
        assert_eq!("2/8".parse::<Shard>(), Ok(Shard { index: 2, count: 8 }));
        for bad in ["0/4", "5/4", "1-4", "x/y"] {
            assert!(bad.parse::<Shard>().unwrap_err().contains("K/N"));
        }
    }
}
