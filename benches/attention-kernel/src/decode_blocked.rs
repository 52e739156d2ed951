//! A reorganised CPU decode attention (one query per head): the keys split into tiles of
//! `TILE_KV` run in parallel as before, but within a tile every score is computed first (dot
//! products with eight independent lanes, which the compiler vectorises; the mask read a slice at
//! a time), then one softmax over the tile, then the values accumulated with multiply-adds. The
//! tiles' partial results are merged per head as the reference merges them, but kept per
//! sequence of a batch (the reference keeps one per head, see `decode_reference`), and without
//! the tiles the mask hides entirely. Masked keys count for nothing (the reference turns a tile
//! whose first key is masked into NaN: exp(−∞ − (−∞))). A NaN score makes the output NaN, as in
//! the reference; a NaN value row whose weight rounds to 0 does not (the reference multiplies
//! it by 0 and keeps the NaN).

use rayon::prelude::*;

use crate::decode_reference::{merge_tiles, slot_partials, TilePartial};
use crate::Attention;

/// Keys per parallel job.
const TILE_KV: usize = 64;

/// Dot product with eight independent partial sums (one AVX register), added up at the end.
#[inline]
pub fn dot_lanes(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let (a_rest, b_rest) = (a8.remainder(), b8.remainder());
    for (x, y) in a8.zip(b8) {
        for l in 0..8 {
            lanes[l] = x[l].mul_add(y[l], lanes[l]);
        }
    }
    let mut sum = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
        + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
    for (x, y) in a_rest.iter().zip(b_rest) {
        sum = x.mul_add(*y, sum);
    }
    sum
}

/// Output laid out (batch, head, 1, dim), as mistral.rs returns it.
pub fn attention(a: &Attention) -> Vec<f32> {
    assert_eq!(a.q_len, 1);
    let (h, d) = (a.h, a.d);
    let rk2 = h / a.kv_h;
    let tiles = a.kv_len.div_ceil(TILE_KV);
    let mask = a.mask_info();
    let partials: Vec<TilePartial> = (0..tiles)
        .into_par_iter()
        .map(|tile| {
            let kv0 = tile * TILE_KV;
            let n = TILE_KV.min(a.kv_len - kv0);
            let mut acc_all = vec![0f32; a.b * h * d];
            let mut sums = vec![0f32; a.b * h];
            let mut maxes = vec![f32::NEG_INFINITY; a.b * h];
            let mut scores = [0f32; TILE_KV];
            for bh in 0..a.b * h {
                let (b_i, h_i) = (bh / h, bh % h);
                let kv_head = h_i / rk2;
                let q_row = a.q_row(b_i, 0, h_i);
                let scores = &mut scores[..n];
                match &mask {
                    Some(mask) => mask.row(b_i, h_i, 0, kv0, scores),
                    None => scores.fill(0.0),
                }
                let mut tile_max = f32::NEG_INFINITY;
                for (j, s) in scores.iter_mut().enumerate() {
                    if *s != f32::NEG_INFINITY {
                        *s += dot_lanes(q_row, a.k_row(b_i, kv0 + j, kv_head)) * a.scale;
                    }
                    tile_max = max_keeping_nan(tile_max, *s);
                }
                if tile_max == f32::NEG_INFINITY {
                    continue;
                }
                let mut sum = 0f32;
                for s in scores.iter_mut() {
                    *s = (*s - tile_max).exp();
                    sum += *s;
                }
                let acc = &mut acc_all[bh * d..(bh + 1) * d];
                for (j, &p) in scores.iter().enumerate() {
                    if p == 0.0 {
                        continue;
                    }
                    for (x, &v) in acc.iter_mut().zip(a.v_row(b_i, kv0 + j, kv_head)) {
                        *x = p.mul_add(v, *x);
                    }
                }
                sums[bh] = sum;
                maxes[bh] = tile_max;
            }
            (acc_all, sums, maxes)
        })
        .collect();
    (0..a.b * h)
        .flat_map(|bh| {
            let live =
                slot_partials(&partials, bh, d).filter(|&(_, _, max)| max != f32::NEG_INFINITY);
            merge_tiles(live, d)
        })
        .collect()
}

/// The larger of two scores, NaN if either is (`f32::max` would drop a NaN, and a tile of NaN
/// scores would look masked).
#[inline]
pub fn max_keeping_nan(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.max(b)
    }
}
