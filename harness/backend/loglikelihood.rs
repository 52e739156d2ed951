//! Log-likelihood of a continuation given a context, computed as lm-evaluation-harness computes
//! it for `loglikelihood` requests (multiple choice scored by the probability of each choice):
//!
//! - the pair is encoded as its `_encode_pair` does: trailing spaces of the context move to the
//!   front of the continuation; the whole text and the context are encoded without special
//!   tokens, and the continuation is the whole encoding after the context's tokens;
//! - the model reads context + continuation minus its last token; the log-softmax of the logits
//!   at the positions that predict the continuation's tokens gives their log-probabilities;
//! - `logprob` is their sum, `is_greedy` whether each is the most likely token at its position.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// A continuation's score given its context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContinuationScore {
    /// Sum of the log-probabilities (natural log) of the continuation's tokens.
    pub logprob: f64,
    /// Whether every continuation token is the model's most likely token at its position.
    pub is_greedy: bool,
    /// The context's tokens.
    pub context_tokens: Vec<u32>,
    /// The continuation's tokens.
    pub continuation_tokens: Vec<u32>,
}

/// The texts lm-evaluation-harness's `_encode_pair` encodes: the context without its trailing
/// whitespace, and the continuation with that whitespace in front.
pub fn split_pair(context: &str, continuation: &str) -> Result<(String, String)> {
    if context.is_empty() {
        bail!("a log-likelihood request needs a non-empty context");
    }
    let kept = context.trim_end_matches(char::is_whitespace);
    Ok((
        kept.to_string(),
        format!("{}{continuation}", &context[kept.len()..]),
    ))
}

/// The continuation's tokens: the whole text's encoding after the context's tokens.
pub fn continuation_tokens(whole: &[u32], context: &[u32]) -> Result<Vec<u32>> {
    if whole.len() <= context.len() {
        bail!("the continuation adds no token to its context");
    }
    Ok(whole[context.len()..].to_vec())
}

/// Log-softmax of one row of logits, in f64.
pub fn log_softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    let log_sum = sum.ln() + max;
    logits.iter().map(|&l| l as f64 - log_sum).collect()
}

/// The score of `continuation` from the logit rows that predict its tokens (row `i` predicts
/// token `i`).
pub fn score_rows(rows: &[Vec<f32>], continuation: &[u32]) -> Result<(f64, bool)> {
    if rows.len() != continuation.len() {
        bail!(
            "{} logit rows for a continuation of {} tokens",
            rows.len(),
            continuation.len()
        );
    }
    let mut logprob = 0.0;
    let mut greedy = true;
    for (row, &token) in rows.iter().zip(continuation) {
        let Some(&logit) = row.get(token as usize) else {
            bail!(
                "token {token} is outside the vocabulary of {} logits",
                row.len()
            );
        };
        logprob += log_softmax(row)[token as usize];
        greedy &= row.iter().all(|&other| other <= logit);
    }
    Ok((logprob, greedy))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_spaces_of_the_context_move_to_the_continuation() {
        let split = |c, k| split_pair(c, k).unwrap();
        assert_eq!(split("Answer: ", "B"), ("Answer:".into(), " B".into()));
        assert_eq!(
            split("Answer:\n\n", "B"),
            ("Answer:".into(), "\n\nB".into())
        );
        assert_eq!(split("Answer:", " B"), ("Answer:".into(), " B".into()));
        assert!(split_pair("", "x").is_err());
        assert_eq!(continuation_tokens(&[5, 6, 7], &[5]).unwrap(), [6, 7]);
        assert!(continuation_tokens(&[5], &[5]).is_err());
    }

    #[test]
    fn log_softmax_matches_the_definition_and_survives_large_logits() {
        let row = [1.0f32, 2.0, 3.0];
        let z: f64 = [1.0f64, 2.0, 3.0].iter().map(|x| x.exp()).sum();
        for (got, x) in log_softmax(&row).iter().zip([1.0f64, 2.0, 3.0]) {
            assert!((got - (x - z.ln())).abs() < 1e-12);
        }
        let huge = log_softmax(&[1000.0, 1000.0]);
        assert!((huge[0] - (0.5f64).ln()).abs() < 1e-12);
    }

    #[test]
    fn rows_give_the_sum_and_greediness() {
        let rows = vec![vec![0.0, 5.0, 0.0], vec![3.0, 1.0, 0.0]];
        let (logprob, greedy) = score_rows(&rows, &[1, 0]).unwrap();
        let expected = log_softmax(&rows[0])[1] + log_softmax(&rows[1])[0];
        assert!((logprob - expected).abs() < 1e-12);
        assert!(greedy);
        assert!(!score_rows(&rows, &[1, 1]).unwrap().1);
        assert!(score_rows(&rows, &[1]).is_err());
        assert!(score_rows(&rows, &[1, 9]).is_err());
    }
}
