//! The attention mask as mistral.rs 0.8.1's CPU kernels read it (`mask_offset` and `MaskInfo`
//! of `mistralrs-core/src/attention/backends/cpu.rs`, MIT, copied unchanged in behaviour), so
//! that both kernels here see exactly the same mask values.

#[inline]
fn clamp_index(idx: usize, dim: usize) -> usize {
    if dim == 0 {
        0
    } else if idx >= dim {
        dim - 1
    } else {
        idx
    }
}

#[inline]
fn mask_offset(
    dims: &[usize],
    b: usize,
    h: usize,
    b_i: usize,
    h_i: usize,
    q_pos: usize,
    kv_pos: usize,
) -> Option<usize> {
    if dims.is_empty() {
        return Some(0);
    }
    match dims.len() {
        1 => (dims[0] != 0).then(|| clamp_index(kv_pos, dims[0])),
        2 => {
            let (q_dim, kv_dim) = (dims[0], dims[1]);
            if q_dim == 0 || kv_dim == 0 {
                None
            } else {
                Some(clamp_index(q_pos, q_dim) * kv_dim + clamp_index(kv_pos, kv_dim))
            }
        }
        3 => {
            let (d0, d1, d2) = (dims[0], dims[1], dims[2]);
            if d0 == 0 || d1 == 0 || d2 == 0 {
                return None;
            }
            let q_idx = clamp_index(q_pos, d1);
            let kv_idx = clamp_index(kv_pos, d2);
            if d0 == b || d0 == 1 {
                let b_idx = if d0 == 1 { 0 } else { clamp_index(b_i, d0) };
                Some((b_idx * d1 + q_idx) * d2 + kv_idx)
            } else if d0 == h {
                Some((clamp_index(h_i, d0) * d1 + q_idx) * d2 + kv_idx)
            } else if d0 == b.saturating_mul(h) {
                Some((clamp_index(b_i * h + h_i, d0) * d1 + q_idx) * d2 + kv_idx)
            } else {
                Some(q_idx * d2 + kv_idx)
            }
        }
        4 => {
            let (d0, d1, d2, d3) = (dims[0], dims[1], dims[2], dims[3]);
            if d0 == 0 || d1 == 0 || d2 == 0 || d3 == 0 {
                return None;
            }
            let b_idx = if d0 == 1 {
                0
            } else if d0 == b {
                clamp_index(b_i, d0)
            } else if d0 == b.saturating_mul(h) {
                clamp_index(b_i * h + h_i, d0)
            } else {
                clamp_index(b_i, d0)
            };
            let h_idx = if d1 == 1 {
                0
            } else if d1 == h {
                clamp_index(h_i, d1)
            } else if d1 == b {
                clamp_index(b_i, d1)
            } else {
                clamp_index(h_i, d1)
            };
            let q_idx = clamp_index(q_pos, d2);
            let kv_idx = clamp_index(kv_pos, d3);
            Some(((b_idx * d1 + h_idx) * d2 + q_idx) * d3 + kv_idx)
        }
        _ => {
            let q_dim = *dims.get(dims.len().saturating_sub(2))?;
            let kv_dim = *dims.last()?;
            if q_dim == 0 || kv_dim == 0 {
                return None;
            }
            let mut prefix_dim = 1usize;
            for &dim in &dims[..dims.len() - 2] {
                if dim == 0 {
                    return None;
                }
                prefix_dim = prefix_dim.saturating_mul(dim);
            }
            let combined_idx = (b_i * h + h_i).min(prefix_dim - 1);
            Some(
                (combined_idx * q_dim + clamp_index(q_pos, q_dim)) * kv_dim
                    + clamp_index(kv_pos, kv_dim),
            )
        }
    }
}

/// An additive mask (0 or -inf, or ALiBi-style biases) with the dimensions mistral.rs passes.
pub struct MaskInfo<'a> {
    pub data: &'a [f32],
    pub dims: &'a [usize],
    pub b: usize,
    pub h: usize,
}

impl MaskInfo<'_> {
    /// The mask value of one (batch, head, query, key) position; 0 where the mask has none.
    #[inline]
    pub fn value(&self, b_i: usize, h_i: usize, q_pos: usize, kv_pos: usize) -> f32 {
        mask_offset(self.dims, self.b, self.h, b_i, h_i, q_pos, kv_pos)
            .and_then(|idx| self.data.get(idx).copied())
            .unwrap_or(0.0)
    }

    /// The mask values of keys `kv0..kv0 + out.len()` for one query, written into `out`: one
    /// slice copy when they lie side by side in the mask (the usual causal mask), else one
    /// lookup per key.
    pub fn row(&self, b_i: usize, h_i: usize, q_pos: usize, kv0: usize, out: &mut [f32]) {
        let n = out.len();
        let first = mask_offset(self.dims, self.b, self.h, b_i, h_i, q_pos, kv0);
        let last = mask_offset(self.dims, self.b, self.h, b_i, h_i, q_pos, kv0 + n - 1);
        if let (Some(first), Some(last)) = (first, last) {
            if last == first + n - 1 && last < self.data.len() {
                out.copy_from_slice(&self.data[first..=last]);
                return;
            }
        }
        for (j, slot) in out.iter_mut().enumerate() {
            *slot = self.value(b_i, h_i, q_pos, kv0 + j);
        }
    }
}
