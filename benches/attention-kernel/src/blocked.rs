//! A blocked CPU prefill attention: the same mathematics as mistral.rs's kernel, reorganised so
//! the compiler vectorises it. Per head, a block of query rows meets a tile of keys at a time:
//! the tile's keys are transposed once so every score of a query row is an element-wise
//! multiply-add across keys (no horizontal sums), the online softmax rescales once per tile
//! instead of once per key, the value rows are accumulated with element-wise multiply-adds, and
//! the mask is read a row slice at a time (a tile the mask hides entirely is skipped). Each
//! score's dot product is summed in the reference's order; the softmax's rescaling points and
//! the fused multiply-adds of the value sums differ from the reference by rounding only. A NaN
//! score makes its row's output NaN, as in the reference; no query rows give no output.

use rayon::prelude::*;

use crate::decode_blocked::max_keeping_nan;
use crate::mask::MaskInfo;
use crate::Attention;

/// Query rows per block: each block is one parallel job.
const BLOCK_Q: usize = 16;
/// Keys per tile: 64 scores of a row fit in eight AVX registers.
const TILE_KV: usize = 64;

/// Output laid out (batch, head, query, dim), as mistral.rs returns it.
pub fn attention(a: &Attention) -> Vec<f32> {
    let (q_len, h, d) = (a.q_len, a.h, a.d);
    let mask = a.mask_info();
    let mut out = vec![0f32; a.b * h * q_len * d];
    if out.is_empty() {
        return out;
    }
    out.par_chunks_mut(q_len * d)
        .enumerate()
        .for_each(|(head_idx, head_out)| {
            let (b_i, h_i) = (head_idx / h, head_idx % h);
            head_out
                .par_chunks_mut(BLOCK_Q * d)
                .enumerate()
                .for_each(|(block, out_block)| {
                    query_block(a, mask.as_ref(), b_i, h_i, block * BLOCK_Q, out_block)
                });
        });
    out
}

/// Dot products of one query row with every key of a transposed tile (`kt[c * TILE_KV + j]` is
/// dimension `c` of key `j`), summed in the reference's order: chunks of four dimensions added
/// left to right, then each chunk added to the running sum.
#[inline]
fn tile_dots(q: &[f32], kt: &[f32], dots: &mut [f32; TILE_KV]) {
    let d = q.len();
    let chunks = d / 4;
    *dots = [0f32; TILE_KV];
    for ci in 0..chunks {
        let c = ci * 4;
        let (q0, q1, q2, q3) = (q[c], q[c + 1], q[c + 2], q[c + 3]);
        let k0 = &kt[c * TILE_KV..(c + 1) * TILE_KV];
        let k1 = &kt[(c + 1) * TILE_KV..(c + 2) * TILE_KV];
        let k2 = &kt[(c + 2) * TILE_KV..(c + 3) * TILE_KV];
        let k3 = &kt[(c + 3) * TILE_KV..(c + 4) * TILE_KV];
        for j in 0..TILE_KV {
            dots[j] += q0 * k0[j] + q1 * k1[j] + q2 * k2[j] + q3 * k3[j];
        }
    }
    for c in chunks * 4..d {
        let kc = &kt[c * TILE_KV..(c + 1) * TILE_KV];
        for j in 0..TILE_KV {
            dots[j] += q[c] * kc[j];
        }
    }
}

fn query_block(
    a: &Attention,
    mask: Option<&MaskInfo>,
    b_i: usize,
    h_i: usize,
    q0: usize,
    out: &mut [f32],
) {
    let d = a.d;
    let rows = out.len() / d;
    let kv_head = h_i / (a.h / a.kv_h);

    let mut q = vec![0f32; rows * d];
    for (i, q_row) in q.chunks_mut(d).enumerate() {
        q_row.copy_from_slice(a.q_row(b_i, q0 + i, h_i));
    }
    let mut acc = vec![0f32; rows * d];
    let mut row_max = [f32::NEG_INFINITY; BLOCK_Q];
    let mut row_sum = [0f32; BLOCK_Q];
    let mut kt = vec![0f32; d * TILE_KV];
    let mut v_tile = vec![0f32; TILE_KV * d];
    let mut scores = vec![0f32; rows * TILE_KV];
    let mut dots = [0f32; TILE_KV];

    for kv0 in (0..a.kv_len).step_by(TILE_KV) {
        let n = TILE_KV.min(a.kv_len - kv0);
        // The mask first: a tile it hides from every row of the block costs nothing more.
        let mut live = false;
        for (i, row) in scores.chunks_mut(TILE_KV).enumerate() {
            let row = &mut row[..n];
            match mask {
                Some(mask) => mask.row(b_i, h_i, q0 + i, kv0, row),
                None => row.fill(0.0),
            }
            live |= row.iter().any(|&m| m != f32::NEG_INFINITY);
        }
        if !live {
            continue;
        }
        for j in 0..n {
            v_tile[j * d..(j + 1) * d].copy_from_slice(a.v_row(b_i, kv0 + j, kv_head));
            let k_row = a.k_row(b_i, kv0 + j, kv_head);
            for (c, &k) in k_row.iter().enumerate() {
                kt[c * TILE_KV + j] = k;
            }
        }
        for (i, row) in scores.chunks_mut(TILE_KV).enumerate() {
            let row = &mut row[..n];
            tile_dots(&q[i * d..(i + 1) * d], &kt, &mut dots);
            let mut tile_max = f32::NEG_INFINITY;
            for (s, &dot) in row.iter_mut().zip(dots.iter()) {
                if *s != f32::NEG_INFINITY {
                    *s += dot * a.scale;
                }
                tile_max = max_keeping_nan(tile_max, *s);
            }
            if tile_max == f32::NEG_INFINITY {
                continue;
            }
            let new_max = max_keeping_nan(row_max[i], tile_max);
            let rescale = (row_max[i] - new_max).exp();
            let acc_row = &mut acc[i * d..(i + 1) * d];
            if rescale != 1.0 {
                acc_row.iter_mut().for_each(|x| *x *= rescale);
            }
            let mut tile_sum = 0f32;
            for s in row.iter_mut() {
                *s = (*s - new_max).exp();
                tile_sum += *s;
            }
            row_sum[i] = row_sum[i] * rescale + tile_sum;
            row_max[i] = new_max;
            for (p, v_row) in row.iter().zip(v_tile.chunks_exact(d)) {
                if *p == 0.0 {
                    continue;
                }
                for (x, &v) in acc_row.iter_mut().zip(v_row) {
                    *x = p.mul_add(v, *x);
                }
            }
        }
    }
    for (i, out_row) in out.chunks_mut(d).enumerate() {
        let inv_sum = 1.0 / row_sum[i];
        for (o, &x) in out_row.iter_mut().zip(&acc[i * d..(i + 1) * d]) {
            *o = x * inv_sum;
        }
    }
}
