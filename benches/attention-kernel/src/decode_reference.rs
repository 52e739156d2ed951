//! mistral.rs 0.8.1's CPU decode attention (`flash_attn_cpu_single_q` in
//! `mistralrs-core/src/attention/backends/cpu.rs`, MIT), for F32 and without ALiBi or
//! soft-capping: one query per head; the keys split into tiles of 16 run in parallel, each with a
//! 4-way unrolled dot product and an online softmax updated key by key, then merged per head.
//! Faithful to the original also in its scratch buffers, which are indexed by tile and head
//! but not by sequence: with several sequences in a batch, every one gets the last one's result.

use rayon::prelude::*;

use crate::reference::vec_dot_f32;
use crate::Attention;

const TILE_KV: usize = 16;

/// Output laid out (batch, head, 1, dim), as mistral.rs returns it.
pub fn attention(a: &Attention) -> Vec<f32> {
    assert_eq!(a.q_len, 1);
    let (h, d) = (a.h, a.d);
    let rk2 = h / a.kv_h;
    let tiles = a.kv_len.div_ceil(TILE_KV);
    let mask = a.mask_info();
    // Per tile: each head's partial output, sum and maximum.
    let partials: Vec<TilePartial> = (0..tiles)
        .into_par_iter()
        .map(|tile| {
            let (start, end) = (tile * TILE_KV, ((tile + 1) * TILE_KV).min(a.kv_len));
            let mut vkq_all = vec![0f32; h * d];
            let mut sums = vec![0f32; h];
            let mut maxes = vec![f32::NEG_INFINITY; h];
            for (b_i, h_i) in (0..a.b).flat_map(|b_i| (0..h).map(move |h_i| (b_i, h_i))) {
                let kv_head = h_i / rk2;
                let q_row = a.q_row(b_i, 0, h_i);
                let vkq = &mut vkq_all[h_i * d..(h_i + 1) * d];
                let (mut s, mut m) = (0f32, f32::NEG_INFINITY);
                for kv_pos in start..end {
                    let mut s_val = vec_dot_f32(q_row, a.k_row(b_i, kv_pos, kv_head)) * a.scale;
                    s_val += mask.as_ref().map_or(0.0, |m| m.value(b_i, h_i, 0, kv_pos));
                    let m_old = m;
                    let (mut ms, mut vs) = (1.0f32, 1.0f32);
                    if s_val > m {
                        m = s_val;
                        ms = (m_old - m).exp();
                        vkq.iter_mut().for_each(|v| *v *= ms);
                    } else {
                        vs = (s_val - m).exp();
                    }
                    for (x, &v) in vkq.iter_mut().zip(a.v_row(b_i, kv_pos, kv_head)) {
                        *x += v * vs;
                    }
                    s = s * ms + vs;
                }
                sums[h_i] = s;
                maxes[h_i] = m;
            }
            (vkq_all, sums, maxes)
        })
        .collect();
    let mut out = vec![0f32; a.b * h * d];
    for (b_i, h_i) in (0..a.b).flat_map(|b_i| (0..h).map(move |h_i| (b_i, h_i))) {
        // The partials are indexed by head only: the last sequence's, for every sequence.
        let out_off = (b_i * h + h_i) * d;
        out[out_off..out_off + d]
            .copy_from_slice(&merge_tiles(slot_partials(&partials, h_i, d), d));
    }
    out
}

/// One tile's partial results: per slot (a head, or a sequence's head), the unnormalised output
/// (`d` values per slot), the softmax sum and the maximum score.
pub type TilePartial = (Vec<f32>, Vec<f32>, Vec<f32>);

/// One slot's share of one tile: its unnormalised output, softmax sum and maximum score.
pub type SlotPartial<'a> = (&'a [f32], f32, f32);

/// Slot `slot`'s share of every tile, in order.
pub fn slot_partials(
    partials: &[TilePartial],
    slot: usize,
    d: usize,
) -> impl Iterator<Item = SlotPartial<'_>> {
    partials
        .iter()
        .map(move |(acc, sums, maxes)| (&acc[slot * d..(slot + 1) * d], sums[slot], maxes[slot]))
}

/// One slot's attention output: its tiles' partial results merged in order, as mistral.rs
/// 0.8.1 merges them (rescaled to the larger maximum), then normalised. Two tiles whose maxima
/// are both −∞ (every key masked) merge to NaN here, as they do in mistral.rs. No tile at all
/// gives NaN (mistral.rs indexes the first tile and panics).
pub fn merge_tiles<'a>(mut tiles: impl Iterator<Item = SlotPartial<'a>>, d: usize) -> Vec<f32> {
    let Some((first, mut s, mut m)) = tiles.next() else {
        return vec![f32::NAN; d];
    };
    let mut acc = first.to_vec();
    for (acc_b, s_b, m_b) in tiles {
        if m >= m_b {
            let factor = (m_b - m).exp();
            for (v, v_b) in acc.iter_mut().zip(acc_b) {
                *v += v_b * factor;
            }
            s += s_b * factor;
        } else {
            let factor = (m - m_b).exp();
            for (v, v_a) in acc.iter_mut().zip(acc_b) {
                *v = v_a + *v * factor;
            }
            s = s_b + s * factor;
            m = m_b;
        }
    }
    let inv_s = 1.0 / s;
    acc.iter_mut().for_each(|v| *v *= inv_s);
    acc
}
