//! mistral.rs 0.8.1's CPU prefill attention (`flash_attn_cpu` in
//! `mistralrs-core/src/attention/backends/cpu.rs`, MIT), for F32 and without ALiBi, as the
//! shipped models run it: one query row at a time, a 4-way unrolled dot product per key, and an
//! online softmax updated key by key.

use rayon::prelude::*;

use crate::Attention;

const DOT_CHUNK: usize = 4;

#[inline]
pub fn vec_dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut sum = 0f32;
    let chunks = a.len() / DOT_CHUNK;
    for i in 0..chunks {
        let c = i * DOT_CHUNK;
        sum += a[c] * b[c] + a[c + 1] * b[c + 1] + a[c + 2] * b[c + 2] + a[c + 3] * b[c + 3];
    }
    for i in (chunks * DOT_CHUNK)..a.len() {
        sum += a[i] * b[i];
    }
    sum
}

/// Output laid out (batch, head, query, dim), as mistral.rs returns it.
pub fn attention(a: &Attention) -> Vec<f32> {
    let (b, q_len, h, d) = (a.b, a.q_len, a.h, a.d);
    let rk2 = h / a.kv_h;
    let mask = a.mask_info();
    let mut out = vec![0f32; b * q_len * h * d];
    out.par_chunks_mut(d)
        .with_min_len(64)
        .enumerate()
        .for_each(|(row_idx, out_chunk)| {
            let rows_per_batch = h * q_len;
            let b_i = row_idx / rows_per_batch;
            let rem = row_idx % rows_per_batch;
            let h_i = rem / q_len;
            let q_pos = rem % q_len;
            let kv_head = h_i / rk2;

            let mut vkq = vec![0f32; d];
            let mut s = 0.0f32;
            let mut m = f32::NEG_INFINITY;
            let q_row = a.q_row(b_i, q_pos, h_i);
            for kv_pos in 0..a.kv_len {
                let mv = mask
                    .as_ref()
                    .map(|mask| mask.value(b_i, h_i, q_pos, kv_pos))
                    .unwrap_or(0.0);
                if mv == f32::NEG_INFINITY {
                    continue;
                }
                let k_row = a.k_row(b_i, kv_pos, kv_head);
                let s_val = vec_dot_f32(q_row, k_row) * a.scale + mv;
                let m_old = m;
                let mut ms = 1.0f32;
                let mut vs = 1.0f32;
                if s_val > m {
                    m = s_val;
                    ms = (m_old - m).exp();
                    for v in vkq.iter_mut() {
                        *v *= ms;
                    }
                } else {
                    vs = (s_val - m).exp();
                }
                let v_row = a.v_row(b_i, kv_pos, kv_head);
                for d_i in 0..d {
                    vkq[d_i] += v_row[d_i] * vs;
                }
                s = s * ms + vs;
            }
            let inv_s = 1.0 / s;
            for (o, v) in out_chunk.iter_mut().zip(vkq.iter()) {
                *o = *v * inv_s;
            }
        });
    out
}
