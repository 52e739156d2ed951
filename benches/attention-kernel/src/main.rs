//! Micro-benchmark of CPU attention on the shipped models' shapes, mistral.rs 0.8.1's kernels
//! against reorganised ones, on the same random Q, K, V (and causal mask), each checked against
//! an f64 softmax attention first: prefill (`reference` against `blocked`) and decode, one query
//! per head with no mask as mistral.rs runs it (`decode_reference` against `decode_blocked`).
//!
//! Usage: `attention-kernel [--reps N] [--check-only]`; threads follow `RAYON_NUM_THREADS`.

mod blocked;
mod decode_blocked;
mod decode_reference;
mod mask;
mod reference;

use std::time::Instant;

use mask::MaskInfo;

/// One attention call: Q as (batch, head, query, dim) and K, V as (batch, kv head, key, dim),
/// contiguous, which is how mistral.rs's kernel sees them after its transposes; a 2-D additive
/// causal mask (query, key) as mistral.rs builds it.
pub struct Attention {
    pub b: usize,
    pub q_len: usize,
    pub kv_len: usize,
    pub h: usize,
    pub kv_h: usize,
    pub d: usize,
    pub scale: f32,
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    mask: Option<Vec<f32>>,
    mask_dims: Vec<usize>,
}

impl Attention {
    pub fn q_row(&self, b_i: usize, q_pos: usize, h_i: usize) -> &[f32] {
        let base = ((b_i * self.h + h_i) * self.q_len + q_pos) * self.d;
        &self.q[base..base + self.d]
    }
    pub fn k_row(&self, b_i: usize, kv_pos: usize, kv_head: usize) -> &[f32] {
        let base = ((b_i * self.kv_h + kv_head) * self.kv_len + kv_pos) * self.d;
        &self.k[base..base + self.d]
    }
    pub fn v_row(&self, b_i: usize, kv_pos: usize, kv_head: usize) -> &[f32] {
        let base = ((b_i * self.kv_h + kv_head) * self.kv_len + kv_pos) * self.d;
        &self.v[base..base + self.d]
    }
    pub fn mask_info(&self) -> Option<MaskInfo<'_>> {
        self.mask.as_deref().map(|data| MaskInfo {
            data,
            dims: &self.mask_dims,
            b: self.b,
            h: self.h,
        })
    }

    /// Random inputs (a fixed-seed xorshift), the first `kv_len - q_len` keys already cached;
    /// a causal mask for a prompt, none for one decoded token (as mistral.rs passes them).
    fn random(q_len: usize, kv_len: usize, h: usize, kv_h: usize, d: usize, seed: u64) -> Self {
        Self::random_batch(1, q_len, kv_len, h, kv_h, d, seed)
    }

    /// As `random`, for `b` sequences at once (the mask shared, as mistral.rs's 2-D mask is).
    fn random_batch(
        b: usize,
        q_len: usize,
        kv_len: usize,
        h: usize,
        kv_h: usize,
        d: usize,
        seed: u64,
    ) -> Self {
        let mut state = seed.max(1);
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
        };
        let q = (0..b * h * q_len * d).map(|_| next()).collect();
        let k = (0..b * kv_h * kv_len * d).map(|_| next()).collect();
        let v = (0..b * kv_h * kv_len * d).map(|_| next()).collect();
        let offset = kv_len - q_len;
        let mask = (0..q_len)
            .flat_map(|i| {
                (0..kv_len).map(move |j| {
                    if j > i + offset {
                        f32::NEG_INFINITY
                    } else {
                        0.0
                    }
                })
            })
            .collect();
        Attention {
            b,
            q_len,
            kv_len,
            h,
            kv_h,
            d,
            scale: 1.0 / (d as f32).sqrt(),
            q,
            k,
            v,
            mask: (q_len > 1).then_some(mask),
            mask_dims: vec![q_len, kv_len],
        }
    }

    /// The same inputs with `mask` (laid out as `dims` says) in place of the causal one.
    fn with_mask(mut self, dims: Vec<usize>, mask: Vec<f32>) -> Self {
        self.mask_dims = dims;
        self.mask = Some(mask);
        self
    }

    /// The same inputs with a NaN in the first value of key `kv_pos` of the first KV head.
    fn with_nan_key(mut self, kv_pos: usize) -> Self {
        self.k[kv_pos * self.d] = f32::NAN;
        self
    }

    /// Softmax attention in f64, one row at a time: the yardstick for both kernels. A masked
    /// key counts for nothing, whatever its values (as in mistral.rs's prefill kernel and the
    /// reorganised ones; mistral.rs's decode kernel adds the mask to the score instead); a row
    /// whose every key is masked is NaN, as the softmax of nothing but −∞ is.
    fn exact(&self) -> Vec<f64> {
        let mut out = vec![0f64; self.b * self.h * self.q_len * self.d];
        let mask = self.mask_info();
        for (b_i, h_i) in (0..self.b).flat_map(|b_i| (0..self.h).map(move |h_i| (b_i, h_i))) {
            let kv_head = h_i / (self.h / self.kv_h);
            for q_pos in 0..self.q_len {
                let q = self.q_row(b_i, q_pos, h_i);
                let scores: Vec<f64> = (0..self.kv_len)
                    .map(|j| {
                        let m = mask.as_ref().map_or(0.0, |m| m.value(b_i, h_i, q_pos, j)) as f64;
                        if m == f64::NEG_INFINITY {
                            return m;
                        }
                        let k = self.k_row(b_i, j, kv_head);
                        let dot: f64 = q.iter().zip(k).map(|(&a, &b)| a as f64 * b as f64).sum();
                        dot * self.scale as f64 + m
                    })
                    .collect();
                let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let weights: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                let total: f64 = weights.iter().sum();
                let row =
                    &mut out[((b_i * self.h + h_i) * self.q_len + q_pos) * self.d..][..self.d];
                for (j, w) in weights.iter().enumerate() {
                    for (o, &v) in row.iter_mut().zip(self.v_row(b_i, j, kv_head)) {
                        *o += w / total * v as f64;
                    }
                }
            }
        }
        out
    }
}

/// Milliseconds per call: the mean of `reps` calls after one warm-up call.
fn time(reps: usize, a: &Attention, kernel: Kernel) -> f64 {
    std::hint::black_box(kernel(a));
    let start = Instant::now();
    for _ in 0..reps {
        std::hint::black_box(kernel(a));
    }
    start.elapsed().as_secs_f64() * 1000.0 / reps as f64
}

/// `MaskInfo::row` (a slice copy where it can) against `MaskInfo::value` key by key, on masks of
/// every rank mistral.rs's lookup handles, including dimensions smaller than the keys (clamped),
/// per-head and per-sequence masks, and a mask shorter than its dimensions say.
fn check_mask_rows() {
    let (b, h, q_len, kv_len) = (2, 3, 5, 70);
    let shapes: [&[usize]; 9] = [
        &[],
        &[kv_len],
        &[40],
        &[q_len, kv_len],
        &[1, q_len, kv_len],
        &[h, q_len, kv_len],
        &[b * h, q_len, 33],
        &[b, h, q_len, kv_len],
        &[1, 1, 2, 3, kv_len],
    ];
    for dims in shapes {
        let size: usize = dims.iter().product();
        // Drop the last few values: lookups past the end must read 0, both ways.
        let data: Vec<f32> = (0..size.saturating_sub(3)).map(|i| i as f32).collect();
        let mask = MaskInfo {
            data: &data,
            dims,
            b,
            h,
        };
        for (b_i, h_i, q_pos) in (0..b).flat_map(|b_i| {
            (0..h).flat_map(move |h_i| (0..q_len).map(move |q_pos| (b_i, h_i, q_pos)))
        }) {
            for (kv0, n) in [(0, 64), (64, 6), (3, 1), (60, 10)] {
                let mut row = vec![f32::NAN; n];
                mask.row(b_i, h_i, q_pos, kv0, &mut row);
                let each: Vec<f32> = (0..n)
                    .map(|j| mask.value(b_i, h_i, q_pos, kv0 + j))
                    .collect();
                assert_eq!(
                    row, each,
                    "mask row differs: dims {dims:?}, b {b_i} h {h_i} q {q_pos} kv0 {kv0}"
                );
            }
        }
    }
    println!(
        "check mask rows: slice reads equal key-by-key lookups on {} mask shapes",
        shapes.len()
    );
}

/// Inputs mistral.rs does not send today but a kernel must survive: a decode mask that hides
/// whole tiles, a NaN among the keys, no query rows.
fn check_edge_cases() {
    // Keys masked for the one decoded token: only the first, then whole tiles of either kernel.
    let kv_len = 300;
    for hidden in [1, 128] {
        let mask: Vec<f32> = (0..kv_len)
            .map(|j| if j < hidden { f32::NEG_INFINITY } else { 0.0 })
            .collect();
        let a = Attention::random(1, kv_len, 9, 3, 64, 13).with_mask(vec![1, kv_len], mask);
        let label = format!("decode, first {hidden} of {kv_len} keys masked");
        if check(
            &label,
            &a,
            decode_reference::attention,
            decode_blocked::attention,
        ) >= TOLERANCE
        {
            println!("check note: mistral.rs 0.8.1's decode kernel is off when a mask hides keys");
        }
    }
    // A NaN key: the rows that see it are NaN in every kernel, the others exact.
    let a = Attention::random(20, 90, 9, 3, 64, 17).with_nan_key(75);
    let exact = a.exact();
    assert!(
        exact.iter().any(|x| x.is_nan()) && exact.iter().any(|x| x.is_finite()),
        "the NaN key should reach some rows and not others"
    );
    let err_ref = check(
        "prefill, a NaN key",
        &a,
        reference::attention,
        blocked::attention,
    );
    assert!(
        err_ref < TOLERANCE,
        "the reference kernel does not keep the NaN"
    );
    let a = Attention::random(1, 150, 9, 3, 64, 19).with_nan_key(70);
    let label = "decode, a NaN key";
    let err_ref = check(
        label,
        &a,
        decode_reference::attention,
        decode_blocked::attention,
    );
    assert!(
        err_ref < TOLERANCE,
        "the reference decode kernel does not keep the NaN"
    );
    // No query rows: no output (a blocked kernel that split its output by `q_len * d` would
    // ask for chunks of size 0, which panics).
    let empty = Attention::random(0, 8, 9, 3, 64, 23);
    assert!(reference::attention(&empty).is_empty());
    assert!(blocked::attention(&empty).is_empty());
    println!("check no query rows: both kernels return no output");
}

/// An attention kernel: the inputs in, the output laid out (batch, head, query, dim).
type Kernel = fn(&Attention) -> Vec<f32>;

/// Largest error either kernel may have against the f64 attention.
const TOLERANCE: f64 = 1e-4;

/// Prints both kernels' largest error against the f64 attention on `a`, asserts the
/// reorganised one's, and returns the reference's (its callers decide whether it must hold).
fn check(label: &str, a: &Attention, reference: Kernel, reorganised: Kernel) -> f64 {
    let exact = a.exact();
    let err_ref = max_abs_error(&reference(a), &exact);
    let err_new = max_abs_error(&reorganised(a), &exact);
    println!("check {label}: max |error| reference {err_ref:.2e}, blocked {err_new:.2e}");
    assert!(
        err_new < TOLERANCE,
        "the reorganised kernel is off: {label}"
    );
    err_ref
}

/// The largest difference; a NaN on one side only is an infinite one, on both sides none.
fn max_abs_error(got: &[f32], want: &[f64]) -> f64 {
    assert_eq!(
        got.len(),
        want.len(),
        "the kernel's output has the wrong size"
    );
    got.iter()
        .zip(want)
        .map(|(&g, &w)| match (g.is_nan(), w.is_nan()) {
            (true, true) => 0.0,
            (false, false) => (g as f64 - w).abs(),
            _ => f64::INFINITY,
        })
        .fold(0.0, f64::max)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let reps: usize = args
        .iter()
        .position(|a| a == "--reps")
        .and_then(|i| args.get(i + 1))
        .map(|n| n.parse().expect("--reps takes a number"))
        .unwrap_or(5);
    let check_only = args.iter().any(|a| a == "--check-only");

    check_mask_rows();
    // Correctness first, on small and odd shapes (a partial tile, a partial block, cached keys,
    // a head dimension that is not a multiple of four).
    for &(q_len, kv_len, h, kv_h, d) in &[
        (1, 1, 1, 1, 4),
        (5, 5, 3, 1, 6),
        (17, 83, 4, 2, 64),
        (70, 70, 9, 3, 64),
        (33, 200, 14, 2, 64),
    ] {
        let a = Attention::random(q_len, kv_len, h, kv_h, d, 7 + q_len as u64);
        let label = format!("q={q_len} kv={kv_len} h={h}/{kv_h} d={d}");
        let err_ref = check(&label, &a, reference::attention, blocked::attention);
        assert!(err_ref < TOLERANCE, "the reference kernel is off");
    }
    for &(kv_len, h, kv_h, d) in &[
        (1, 1, 1, 4),
        (17, 3, 1, 6),
        (83, 9, 3, 64),
        (1000, 14, 2, 64),
    ] {
        let a = Attention::random(1, kv_len, h, kv_h, d, 11 + kv_len as u64);
        let label = format!("decode kv={kv_len} h={h}/{kv_h} d={d}");
        let err_ref = check(
            &label,
            &a,
            decode_reference::attention,
            decode_blocked::attention,
        );
        assert!(err_ref < TOLERANCE, "the reference decode kernel is off");
    }
    let batch = Attention::random_batch(2, 40, 90, 9, 3, 64, 3);
    let label = "2 prompts in a batch q=40 kv=90 h=9/3 d=64";
    let err_ref = check(label, &batch, reference::attention, blocked::attention);
    assert!(
        err_ref < TOLERANCE,
        "the reference kernel is off with a batch"
    );
    // Two sequences decoded in one batch, as mistral.rs batches concurrent requests: the stock
    // kernel gives every sequence the last one's attention (not asserted: it is the finding).
    let batch = Attention::random_batch(2, 1, 300, 9, 3, 64, 5);
    let label = "decode, 2 sequences in a batch, kv=300 h=9/3 d=64";
    if check(
        label,
        &batch,
        decode_reference::attention,
        decode_blocked::attention,
    ) >= TOLERANCE
    {
        println!(
            "check note: mistral.rs 0.8.1's decode kernel gives every sequence the last one's attention"
        );
    }
    check_edge_cases();
    if check_only {
        return;
    }

    println!(
        "threads {}; {reps} repetitions; ms per call (mean of the repetitions after one warm-up)\n",
        rayon::current_num_threads()
    );
    println!("| shape | call | tokens | mistral.rs 0.8.1 ms | reorganised ms | speed-up |");
    println!("|---|---|---|---|---|---|");
    for &(name, h, kv_h, d) in &[
        ("SmolLM2-135M (9 heads, 3 KV heads, dim 64)", 9, 3, 64),
        ("Qwen2.5-0.5B (14 heads, 2 KV heads, dim 64)", 14, 2, 64),
    ] {
        for &len in &[128usize, 512, 1000] {
            let prompt = Attention::random(len, len, h, kv_h, d, 42);
            let (reference_ms, blocked_ms) = (
                time(reps, &prompt, reference::attention),
                time(reps, &prompt, blocked::attention),
            );
            println!(
                "| {name} | prefill | {len} | {reference_ms:.2} | {blocked_ms:.2} | {:.2}× |",
                reference_ms / blocked_ms
            );
        }
        for &len in &[128usize, 512, 1000] {
            // Decoding one token after `len` cached ones: many calls, so more repetitions.
            let token = Attention::random(1, len + 1, h, kv_h, d, 43);
            let (reference_ms, blocked_ms) = (
                time(reps * 100, &token, decode_reference::attention),
                time(reps * 100, &token, decode_blocked::attention),
            );
            println!(
                "| {name} | decode | {len} | {reference_ms:.3} | {blocked_ms:.3} | {:.2}× |",
                reference_ms / blocked_ms
            );
        }
    }
}
