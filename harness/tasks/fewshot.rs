//! Few-shot exemplars: where they come from (a dataset file or the spec itself) and which of
//! them each item gets — the first `count`, or lm-evaluation-harness's default random draw.
//!
//! lm-evaluation-harness (0.4.x) draws each item's exemplars with one `random.Random(seed)`
//! (seed 1234 unless `--fewshot_random_seed` says otherwise) shared by all items of a task, in
//! item order: item *i* gets the *i*-th call of `rnd.sample(pool, count)`. Reproducing that needs
//! Python's own generator (MT19937 seeded by `init_by_array`) and `random.sample`'s two
//! selection algorithms, both below.

use rand_mt::Mt;
use serde::{Deserialize, Serialize};

/// How each item's exemplars are chosen from the pool.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FewShotSampler {
    /// The first `count` records of the pool, the same for every item (lm-eval's `first_n`).
    #[default]
    FirstN,
    /// lm-evaluation-harness's default sampler: `random.Random(seed).sample(pool, count)`, one
    /// call per item in item order.
    LmEvalRandom,
}

/// lm-evaluation-harness's default few-shot seed (`DEFAULT_OTHER_SEED`).
pub const LM_EVAL_FEWSHOT_SEED: u32 = 1234;

/// The exemplar pool of a task and the exemplars of each of its items.
#[derive(Debug, Clone, Default)]
pub struct Exemplars {
    pool: Vec<serde_json::Value>,
    /// Per item (by index): positions in `pool`; `None` when every item gets the whole pool.
    per_item: Option<Vec<Vec<usize>>>,
}

impl Exemplars {
    /// The same exemplars (`pool`, in order) for every item.
    pub fn fixed(pool: Vec<serde_json::Value>) -> Self {
        Self {
            pool,
            per_item: None,
        }
    }

    /// lm-evaluation-harness's draws of `count` exemplars from `pool` for items `0..items`.
    pub fn lm_eval_random(
        pool: Vec<serde_json::Value>,
        count: usize,
        seed: u32,
        items: usize,
    ) -> Self {
        let mut rng = PythonRandom::new(seed);
        let per_item = (0..items)
            .map(|_| rng.sample_indices(pool.len(), count))
            .collect();
        Self {
            pool,
            per_item: Some(per_item),
        }
    }

    /// The exemplars of the item at `index`, in prompt order.
    ///
    /// # Panics
    /// When the draws were made for fewer items than `index + 1`: a prompt without its
    /// exemplars would be silently wrong, so this is a caller's bug.
    pub fn for_item(&self, index: usize) -> Vec<serde_json::Value> {
        match &self.per_item {
            None => self.pool.clone(),
            Some(per_item) => {
                let chosen = per_item.get(index).unwrap_or_else(|| {
                    panic!(
                        "exemplars were drawn for {} items, not for item {index}",
                        per_item.len()
                    )
                });
                chosen.iter().map(|&i| self.pool[i].clone()).collect()
            }
        }
    }

    /// Whether every item gets the same exemplars (so prompts share them as a prefix).
    pub fn is_fixed(&self) -> bool {
        self.per_item.is_none()
    }
}

/// CPython's `random.Random` as far as `sample` uses it: MT19937 seeded from an integer by
/// `init_by_array` on its 32-bit words, `getrandbits(k)` for k ≤ 32, `_randbelow`.
struct PythonRandom {
    mt: Mt,
}

impl PythonRandom {
    /// `random.Random(seed)` for a non-negative seed below 2³².
    fn new(seed: u32) -> Self {
        Self {
            mt: Mt::new_with_key([seed]),
        }
    }

    /// `getrandbits(k)` for 1 ≤ k ≤ 32: the top k bits of one 32-bit output.
    fn getrandbits(&mut self, k: u32) -> u32 {
        debug_assert!((1..=32).contains(&k));
        self.mt.next_u32() >> (32 - k)
    }

    /// `_randbelow_with_getrandbits(n)`: rejection sampling on `n.bit_length()` bits.
    fn randbelow(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        let bits = usize::BITS - n.leading_zeros();
        loop {
            let r = self.getrandbits(bits) as usize;
            if r < n {
                return r;
            }
        }
    }

    /// The positions `random.sample(range(n), k)` returns, in its order (CPython 3.11).
    fn sample_indices(&mut self, n: usize, k: usize) -> Vec<usize> {
        assert!(k <= n, "sample larger than population ({k} > {n})");
        let mut setsize = 21usize;
        if k > 5 {
            // 4 ** ceil(log(3k, 4)), computed as Python does in floating point.
            let exponent = ((k * 3) as f64).log(4.0).ceil() as u32;
            setsize += 4usize.pow(exponent);
        }
        if n <= setsize {
            // A pool of the remaining positions, swapping each pick out.
            let mut pool: Vec<usize> = (0..n).collect();
            (0..k)
                .map(|i| {
                    let j = self.randbelow(n - i);
                    let picked = pool[j];
                    pool[j] = pool[n - i - 1];
                    picked
                })
                .collect()
        } else {
            // Draw with replacement, redrawing repeats.
            let mut selected = std::collections::HashSet::with_capacity(k);
            (0..k)
                .map(|_| loop {
                    let j = self.randbelow(n);
                    if selected.insert(j) {
                        break j;
                    }
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values printed by CPython 3.11:
    //   r = random.Random(1234); [r.getrandbits(32) for _ in range(3)]
    //   r = random.Random(1234); [r.sample(range(7473), 5) for _ in range(2)]
    //   r = random.Random(7); r.sample(range(10), 4)   (the pool algorithm)
    //   r = random.Random(1234); r.sample(range(80), 6), r.sample(range(90), 6)   (k > 5: the
    //   threshold between the two algorithms moves to 85)
    const PY_WORDS_1234: [u32; 3] = [4150886329, 3342196574, 1892932127];
    const PY_SAMPLE_1234: [[usize; 5]; 2] =
        [[6374, 3610, 957, 61, 742], [7462, 6610, 4769, 286, 5501]];
    const PY_POOL_SAMPLE_7: [usize; 4] = [5, 2, 6, 9];

    #[test]
    fn matches_cpython_random() {
        let mut rng = PythonRandom::new(1234);
        let words: Vec<u32> = (0..3).map(|_| rng.getrandbits(32)).collect();
        assert_eq!(words, PY_WORDS_1234);
        let mut rng = PythonRandom::new(1234);
        assert_eq!(rng.sample_indices(7473, 5), PY_SAMPLE_1234[0]);
        assert_eq!(rng.sample_indices(7473, 5), PY_SAMPLE_1234[1]);
        let mut rng = PythonRandom::new(7);
        assert_eq!(rng.sample_indices(10, 4), PY_POOL_SAMPLE_7);
        let mut rng = PythonRandom::new(1234);
        assert_eq!(rng.sample_indices(80, 6), [56, 14, 0, 11, 74, 4]);
        assert_eq!(rng.sample_indices(90, 6), [85, 88, 10, 12, 45, 30]);
    }

    #[test]
    fn fixed_exemplars_are_the_pool_for_every_item() {
        let pool = vec![serde_json::json!({"q": 1}), serde_json::json!({"q": 2})];
        let exemplars = Exemplars::fixed(pool.clone());
        assert!(exemplars.is_fixed());
        assert_eq!(exemplars.for_item(0), pool);
        assert_eq!(exemplars.for_item(99), pool);
    }

    #[test]
    fn random_exemplars_differ_by_item_and_never_repeat_within_one() {
        let pool: Vec<_> = (0..100).map(|i| serde_json::json!({ "i": i })).collect();
        let exemplars = Exemplars::lm_eval_random(pool, 5, LM_EVAL_FEWSHOT_SEED, 3);
        assert!(!exemplars.is_fixed());
        let first = exemplars.for_item(0);
        assert_eq!(first.len(), 5);
        assert_ne!(first, exemplars.for_item(1));
        let distinct: std::collections::HashSet<String> =
            first.iter().map(|v| v.to_string()).collect();
        assert_eq!(distinct.len(), 5);
        let beyond = std::panic::catch_unwind(|| exemplars.for_item(3));
        assert!(
            beyond.is_err(),
            "an item past the draws has no exemplars to give"
        );
    }
}
