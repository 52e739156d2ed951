//! Requantizing a GGUF with candle (the same candle mistral.rs runs on): every matrix is
//! dequantized and quantized to the target type; vectors (norms, biases) are kept as they are.
//! The output is deterministic — metadata sorted by key, tensors in their original order — so a
//! variant's sha256 can be pinned in models.toml and re-created on another machine.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::Device;
use serde::{Deserialize, Serialize};

/// Target quantization types: the ones candle has fast CPU (AVX2) kernels for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum QuantType {
    /// 8-bit, blocks of 32 (near-lossless).
    #[serde(rename = "q8_0")]
    Q8_0,
    /// 4-bit, blocks of 32.
    #[serde(rename = "q4_0")]
    Q4_0,
    /// 4-bit K-quant, super-blocks of 256 (rows not a multiple of 256 fall back to q4_0).
    #[serde(rename = "q4_k")]
    Q4K,
}

impl QuantType {
    /// Lower-case name as written on the command line and in models.toml.
    pub fn as_str(self) -> &'static str {
        match self {
            QuantType::Q8_0 => "q8_0",
            QuantType::Q4_0 => "q4_0",
            QuantType::Q4K => "q4_k",
        }
    }

    /// ggml's name, e.g. `Q8_0`.
    pub fn label(self) -> &'static str {
        match self {
            QuantType::Q8_0 => "Q8_0",
            QuantType::Q4_0 => "Q4_0",
            QuantType::Q4K => "Q4_K",
        }
    }

    fn ggml(self) -> GgmlDType {
        match self {
            QuantType::Q8_0 => GgmlDType::Q8_0,
            QuantType::Q4_0 => GgmlDType::Q4_0,
            QuantType::Q4K => GgmlDType::Q4K,
        }
    }

    /// llama.cpp's `general.file_type` for a file mostly of this type.
    fn file_type(self) -> u32 {
        match self {
            QuantType::Q8_0 => 7,
            QuantType::Q4_0 => 2,
            QuantType::Q4K => 14,
        }
    }
}

/// What a requantization did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuantizeReport {
    /// Matrices quantized to the target type.
    pub quantized: usize,
    /// Matrices whose rows do not fit the target's block and went to q4_0 instead.
    pub fell_back: usize,
    /// Tensors kept as they were (vectors).
    pub kept: usize,
    /// Size of the input file.
    pub bytes_before: u64,
    /// Size of the output file.
    pub bytes_after: u64,
    /// Wall time.
    pub seconds: f64,
}

/// Writes `output`, a copy of the GGUF `input` with its matrices quantized to `to`.
pub fn quantize_file(input: &Path, output: &Path, to: QuantType) -> Result<QuantizeReport> {
    let started = Instant::now();
    let mut reader = BufReader::new(
        File::open(input).with_context(|| format!("cannot open {}", input.display()))?,
    );
    let content = gguf_file::Content::read(&mut reader)
        .with_context(|| format!("{} is not a GGUF candle can read", input.display()))?;
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort_by_key(|name| content.tensor_infos[*name].offset);

    let (mut quantized, mut fell_back, mut kept) = (0, 0, 0);
    let mut tensors: Vec<(&str, QTensor)> = Vec::with_capacity(names.len());
    for name in names {
        let tensor = content
            .tensor(&mut reader, name, &Device::Cpu)
            .with_context(|| format!("{}: cannot read tensor {name}", input.display()))?;
        let dims = tensor.shape().dims().to_vec();
        let row = *dims.last().unwrap_or(&0);
        let target = to.ggml();
        let out = if dims.len() < 2 {
            kept += 1;
            tensor
        } else {
            let dtype = if row % target.block_size() == 0 {
                quantized += 1;
                target
            } else if row % GgmlDType::Q4_0.block_size() == 0 {
                fell_back += 1;
                GgmlDType::Q4_0
            } else {
                bail!(
                    "{}: tensor {name} has rows of {row} values, not a multiple of any target \
                     block size; it cannot be quantized to {}",
                    input.display(),
                    to.as_str()
                );
            };
            if tensor.dtype() == dtype {
                tensor
            } else {
                let values = tensor.dequantize(&Device::Cpu)?;
                QTensor::quantize(&values, dtype)
                    .with_context(|| format!("cannot quantize tensor {name} to {dtype:?}"))?
            }
        };
        tensors.push((name.as_str(), out));
    }

    let file_type = gguf_file::Value::U32(to.file_type());
    let mut metadata: Vec<(&str, &gguf_file::Value)> = content
        .metadata
        .iter()
        // candle writes 32-byte alignment; the file type changes with the weights.
        .filter(|(key, _)| *key != "general.alignment" && *key != "general.file_type")
        .map(|(key, value)| (key.as_str(), value))
        .collect();
    metadata.push(("general.file_type", &file_type));
    metadata.sort_by_key(|(key, _)| *key);

    let mut writer = BufWriter::new(
        File::create(output).with_context(|| format!("cannot create {}", output.display()))?,
    );
    let tensor_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (*n, t)).collect();
    gguf_file::write(&mut writer, &metadata, &tensor_refs)
        .with_context(|| format!("cannot write {}", output.display()))?;
    writer.flush()?;
    writer.into_inner()?.sync_all()?;
    Ok(QuantizeReport {
        quantized,
        fell_back,
        kept,
        bytes_before: std::fs::metadata(input)?.len(),
        bytes_after: std::fs::metadata(output)?.len(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Tensor;

    /// A GGUF with one 4×256 matrix, one 4×96 matrix and one vector, all F32.
    fn small_gguf(path: &Path) {
        let device = Device::Cpu;
        let ramp = |n: usize| {
            Tensor::arange(0f32, n as f32, &device)
                .unwrap()
                .affine(0.01, -1.0)
                .unwrap()
        };
        let wide =
            QTensor::quantize(&ramp(1024).reshape((4, 256)).unwrap(), GgmlDType::F32).unwrap();
        let narrow =
            QTensor::quantize(&ramp(384).reshape((4, 96)).unwrap(), GgmlDType::F32).unwrap();
        let norm = QTensor::quantize(&ramp(96), GgmlDType::F32).unwrap();
        let arch = gguf_file::Value::String("llama".into());
        let mut file = File::create(path).unwrap();
        gguf_file::write(
            &mut file,
            &[("general.architecture", &arch)],
            &[
                ("wide.weight", &wide),
                ("narrow.weight", &narrow),
                ("norm.weight", &norm),
            ],
        )
        .unwrap();
    }

    #[test]
    fn quantizes_matrices_keeps_vectors_and_is_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.gguf");
        small_gguf(&input);
        let (a, b) = (dir.path().join("a.gguf"), dir.path().join("b.gguf"));
        let report = quantize_file(&input, &a, QuantType::Q4K).unwrap();
        assert_eq!((report.quantized, report.fell_back, report.kept), (1, 1, 1));
        quantize_file(&input, &b, QuantType::Q4K).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

        let summary = crate::gguf::inspect(&a).unwrap();
        assert!(summary.bytes_by_type.contains_key("Q4_K"));
        assert!(summary.bytes_by_type.contains_key("Q4_0"));
        assert!(summary.bytes_by_type.contains_key("F32"));

        let q8 = dir.path().join("q8.gguf");
        quantize_file(&input, &q8, QuantType::Q8_0).unwrap();
        let mut reader = BufReader::new(File::open(&q8).unwrap());
        let content = gguf_file::Content::read(&mut reader).unwrap();
        let back = content
            .tensor(&mut reader, "wide.weight", &Device::Cpu)
            .unwrap()
            .dequantize(&Device::Cpu)
            .unwrap();
        let error = (back - ramp_reference())
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap();
        assert!(
            // Q8_0 stores each block as 8-bit steps of max|x| / 127 (here 9.23 / 127 = 0.073).
            error.to_scalar::<f32>().unwrap() <= 0.073 / 2.0 + 1e-3,
            "Q8_0 rounds each value to the nearest step"
        );
    }

    fn ramp_reference() -> Tensor {
        Tensor::arange(0f32, 1024.0, &Device::Cpu)
            .unwrap()
            .affine(0.01, -1.0)
            .unwrap()
            .reshape((4, 256))
            .unwrap()
    }

    #[test]
    fn rejects_a_file_that_is_not_gguf() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("not.gguf");
        std::fs::write(&input, b"hello").unwrap();
        let err = quantize_file(&input, &dir.path().join("o"), QuantType::Q8_0).unwrap_err();
        assert!(format!("{err:#}").contains("not a GGUF"));
    }
}
