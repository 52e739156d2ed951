//! A small GGUF header reader: enough to tell a real, complete GGUF file from a truncated or
//! foreign one before handing it to the backend, and to describe it (architecture, name, file
//! type, context length, chat template, tensor bytes and types, parameter count).
//!
//! Format: <https://github.com/ggml-org/ggml/blob/master/docs/gguf.md>.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use anyhow::{bail, Context, Result};

/// What the header says about a GGUF file.
#[derive(Debug, Clone)]
pub struct GgufSummary {
    /// GGUF format version (2 or 3).
    pub version: u32,
    /// `general.architecture`, e.g. `llama`, `qwen2`.
    pub architecture: Option<String>,
    /// `general.name`, e.g. `Qwen2.5 Coder 1.5B Instruct GGUF`.
    pub name: Option<String>,
    /// `general.basename`, e.g. `Qwen2.5-Coder` (the model family).
    pub basename: Option<String>,
    /// `general.license`, e.g. `apache-2.0`.
    pub license: Option<String>,
    /// `general.file_type` (llama.cpp's `llama_ftype`), e.g. 15 for Q4_K_M.
    pub file_type: Option<u32>,
    /// `<arch>.context_length`: the context the model was trained for.
    pub context_length: Option<u64>,
    /// Whether `tokenizer.chat_template` is present (a chat model can be prompted in turns).
    pub has_chat_template: bool,
    /// Number of tensors.
    pub tensor_count: u64,
    /// Bytes of tensor data (the weights read per token by a dense model).
    pub tensor_bytes: u64,
    /// Weight bytes a dense model reads to produce one token: every tensor, except that the
    /// token-embedding table counts only when it doubles as the output projection (tied
    /// embeddings); a separate table is read one row per token.
    pub bytes_per_token: u64,
    /// Tensor bytes per ggml type name, e.g. `Q4_1` → bytes.
    pub bytes_by_type: BTreeMap<String, u64>,
    /// Elements of all tensors (the parameter count).
    pub parameters: u64,
    /// Key and value elements cached per token (2 × layers × key-value heads × head width),
    /// when the metadata gives the shape.
    pub kv_values_per_token: Option<u64>,
    /// File size the header implies; the file must be at least this long.
    pub required_len: u64,
}

const MAGIC: &[u8; 4] = b"GGUF";
/// Metadata key endings that give a transformer's shape.
const SHAPE_KEYS: [&str; 4] = [
    ".block_count",
    ".embedding_length",
    ".attention.head_count",
    ".attention.head_count_kv",
];
const MAX_STRING: u64 = 64 * 1024 * 1024;
const MAX_COUNT: u64 = 100_000_000;

/// Reads and checks the header of `path`: magic, version, metadata, tensor table, and that the
/// file is long enough to hold every tensor the table lists.
pub fn inspect(path: &Path) -> Result<GgufSummary> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let file_len = file.metadata()?.len();
    let mut reader = Reader {
        inner: BufReader::new(file),
        path,
    };
    let mut magic = [0u8; 4];
    reader.exact(&mut magic)?;
    if &magic != MAGIC {
        bail!(
            "{} is not a GGUF file (it starts with {:02x?}, not \"GGUF\")",
            path.display(),
            magic
        );
    }
    let version = reader.u32()?;
    if !(2..=3).contains(&version) {
        bail!(
            "{}: unsupported GGUF version {version} (expected 2 or 3)",
            path.display()
        );
    }
    let tensor_count = reader.count()?;
    let kv_count = reader.count()?;

    let mut architecture = None;
    let mut name = None;
    let mut basename = None;
    let mut license = None;
    let mut file_type = None;
    let mut context_length = None;
    let mut has_chat_template = false;
    let mut alignment: u64 = 32;
    // `<arch>.block_count`, `.embedding_length`, `.attention.head_count(_kv)` (u32 values).
    let mut shape: BTreeMap<String, u64> = BTreeMap::new();
    for _ in 0..kv_count {
        let key = reader.string()?;
        let value_type = reader.u32()?;
        match (key.as_str(), value_type) {
            ("general.architecture", 8) => architecture = Some(reader.string()?),
            ("general.name", 8) => name = Some(reader.string()?),
            ("general.basename", 8) => basename = Some(reader.string()?),
            ("general.license", 8) => license = Some(reader.string()?),
            ("general.file_type", 4) => file_type = Some(reader.u32()?),
            ("tokenizer.chat_template", 8) => {
                has_chat_template = true;
                reader.skip_value(8)?;
            }
            (key, 4) if key.ends_with(".context_length") => {
                context_length = Some(u64::from(reader.u32()?));
            }
            (key, 10) if key.ends_with(".context_length") => context_length = Some(reader.u64()?),
            ("general.alignment", 4) => alignment = u64::from(reader.u32()?).max(1),
            (key, 4) if SHAPE_KEYS.iter().any(|k| key.ends_with(k)) => {
                let suffix = SHAPE_KEYS
                    .iter()
                    .find(|k| key.ends_with(*k))
                    .expect("matched");
                shape.insert(suffix.to_string(), u64::from(reader.u32()?));
            }
            _ => reader.skip_value(value_type)?,
        }
    }
    let kv_values_per_token = match (
        shape.get(".block_count"),
        shape.get(".embedding_length"),
        shape.get(".attention.head_count"),
        shape.get(".attention.head_count_kv"),
    ) {
        (Some(&layers), Some(&width), Some(&heads), kv_heads) if heads > 0 => {
            let kv_heads = kv_heads.copied().unwrap_or(heads);
            Some(2 * layers * kv_heads * (width / heads))
        }
        _ => None,
    };

    let mut tensor_bytes = 0u64;
    let mut parameters = 0u64;
    let mut data_end = 0u64;
    let mut bytes_by_type = BTreeMap::new();
    let mut embedding_bytes = 0u64;
    let mut has_output_projection = false;
    for _ in 0..tensor_count {
        let name = reader.string()?;
        let dims = reader.u32()?;
        if dims > 8 {
            bail!(
                "{}: corrupt tensor table ({dims} dimensions)",
                path.display()
            );
        }
        let mut elements: u64 = 1;
        for _ in 0..dims {
            elements = elements.saturating_mul(reader.u64()?);
        }
        let ggml_type = reader.u32()?;
        let offset = reader.u64()?;
        let (type_name, block_elements, block_bytes) = ggml_type_layout(ggml_type)
            .with_context(|| format!("{}: unknown tensor type {ggml_type}", path.display()))?;
        let bytes = elements.div_ceil(block_elements) * block_bytes;
        tensor_bytes += bytes;
        parameters = parameters.saturating_add(elements);
        match name.as_str() {
            "token_embd.weight" => embedding_bytes = bytes,
            "output.weight" => has_output_projection = true,
            _ => {}
        }
        *bytes_by_type.entry(type_name.to_string()).or_insert(0) += bytes;
        data_end = data_end.max(offset + bytes);
    }
    let header_end = reader.inner.stream_position()?;
    let data_start = header_end.div_ceil(alignment) * alignment;
    let required_len = data_start + data_end;
    if file_len < required_len {
        bail!(
            "{} is truncated: its header lists {} bytes of tensors but the file is {} bytes long \
             (expected at least {}); delete it and pull the model again",
            path.display(),
            tensor_bytes,
            file_len,
            required_len
        );
    }
    Ok(GgufSummary {
        version,
        architecture,
        name,
        basename,
        license,
        file_type,
        context_length,
        has_chat_template,
        tensor_count,
        tensor_bytes,
        parameters,
        kv_values_per_token,
        bytes_per_token: if has_output_projection {
            tensor_bytes - embedding_bytes
        } else {
            tensor_bytes
        },
        bytes_by_type,
        required_len,
    })
}

impl GgufSummary {
    /// The quantization as llama.cpp names the file type (e.g. `Q4_K_M`), else the tensor type
    /// holding the most bytes.
    pub fn quantization(&self) -> String {
        self.file_type
            .and_then(file_type_name)
            .map(str::to_string)
            .or_else(|| {
                self.bytes_by_type
                    .iter()
                    .max_by_key(|(_, bytes)| **bytes)
                    .map(|(name, _)| name.clone())
            })
            .unwrap_or_else(|| "unknown".into())
    }

    /// The parameter count as usually written: `135M`, `1.5B`.
    pub fn parameters_label(&self) -> String {
        let n = self.parameters as f64;
        if n >= 1e9 {
            format!("{:.1}B", n / 1e9).replace(".0B", "B")
        } else {
            format!("{:.0}M", n / 1e6)
        }
    }

    /// The tensor types by share of the weight bytes, largest first: `Q4_K 71%, Q6_K 21%, F32 8%`.
    pub fn type_mix(&self) -> String {
        let mut types: Vec<(&String, &u64)> = self.bytes_by_type.iter().collect();
        types.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        types
            .iter()
            .map(|(name, bytes)| {
                format!(
                    "{name} {:.0}%",
                    100.0 * **bytes as f64 / self.tensor_bytes.max(1) as f64
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// llama.cpp's name of a `general.file_type` value (`llama_ftype`).
pub fn file_type_name(file_type: u32) -> Option<&'static str> {
    Some(match file_type {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        36 => "TQ1_0",
        37 => "TQ2_0",
        _ => return None,
    })
}

/// (name, elements per block, bytes per block) of a ggml tensor type.
fn ggml_type_layout(ggml_type: u32) -> Option<(&'static str, u64, u64)> {
    Some(match ggml_type {
        0 => ("F32", 1, 4),
        1 => ("F16", 1, 2),
        2 => ("Q4_0", 32, 18),
        3 => ("Q4_1", 32, 20),
        6 => ("Q5_0", 32, 22),
        7 => ("Q5_1", 32, 24),
        8 => ("Q8_0", 32, 34),
        9 => ("Q8_1", 32, 36),
        10 => ("Q2_K", 256, 84),
        11 => ("Q3_K", 256, 110),
        12 => ("Q4_K", 256, 144),
        13 => ("Q5_K", 256, 176),
        14 => ("Q6_K", 256, 210),
        15 => ("Q8_K", 256, 292),
        24 => ("I8", 1, 1),
        25 => ("I16", 1, 2),
        26 => ("I32", 1, 4),
        27 => ("I64", 1, 8),
        28 => ("F64", 1, 8),
        30 => ("BF16", 1, 2),
        _ => return None,
    })
}

struct Reader<'a> {
    inner: BufReader<File>,
    path: &'a Path,
}

impl Reader<'_> {
    fn exact(&mut self, buf: &mut [u8]) -> Result<()> {
        self.inner.read_exact(buf).with_context(|| {
            format!(
                "{} is truncated or not a GGUF file (its header ends early)",
                self.path.display()
            )
        })
    }
    fn u32(&mut self) -> Result<u32> {
        let mut b = [0u8; 4];
        self.exact(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn u64(&mut self) -> Result<u64> {
        let mut b = [0u8; 8];
        self.exact(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn count(&mut self) -> Result<u64> {
        let n = self.u64()?;
        if n > MAX_COUNT {
            bail!("{}: corrupt GGUF header (count {n})", self.path.display());
        }
        Ok(n)
    }
    fn string(&mut self) -> Result<String> {
        let len = self.u64()?;
        if len > MAX_STRING {
            bail!(
                "{}: corrupt GGUF header (string of {len} bytes)",
                self.path.display()
            );
        }
        let mut buf = vec![0u8; len as usize];
        self.exact(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }
    fn skip(&mut self, bytes: u64) -> Result<()> {
        self.inner.seek_relative(bytes as i64)?;
        Ok(())
    }
    fn skip_value(&mut self, value_type: u32) -> Result<()> {
        match value_type {
            0 | 1 | 7 => self.skip(1),
            2 | 3 => self.skip(2),
            4..=6 => self.skip(4),
            10..=12 => self.skip(8),
            8 => self.string().map(|_| ()),
            9 => {
                let item_type = self.u32()?;
                let len = self.count()?;
                for _ in 0..len {
                    self.skip_value(item_type)?;
                }
                Ok(())
            }
            other => bail!(
                "{}: corrupt GGUF metadata (value type {other})",
                self.path.display()
            ),
        }
    }
}

/// A minimal valid GGUF (architecture `llama`, one F32 tensor of `elements` values), for tests
/// of code that handles model files without needing a real model.
pub fn synthetic(elements: u64) -> Vec<u8> {
    fn string(bytes: &mut Vec<u8>, s: &str) {
        bytes.extend_from_slice(&(s.len() as u64).to_le_bytes());
        bytes.extend_from_slice(s.as_bytes());
    }
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&3u32.to_le_bytes());
    bytes.extend_from_slice(&1u64.to_le_bytes()); // tensors
    bytes.extend_from_slice(&1u64.to_le_bytes()); // metadata entries
    string(&mut bytes, "general.architecture");
    bytes.extend_from_slice(&8u32.to_le_bytes()); // string
    string(&mut bytes, "llama");
    string(&mut bytes, "w");
    bytes.extend_from_slice(&1u32.to_le_bytes()); // dimensions
    bytes.extend_from_slice(&elements.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes()); // F32
    bytes.extend_from_slice(&0u64.to_le_bytes()); // offset
    bytes.resize(bytes.len().next_multiple_of(32), 0);
    bytes.extend((0..elements * 4).map(|i| (i % 251) as u8));
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A minimal valid GGUF: one metadata string and one F32 tensor of 4 elements.
    fn tiny_gguf(truncate_by: usize) -> tempfile::NamedTempFile {
        let mut bytes = synthetic(4);
        bytes.truncate(bytes.len() - truncate_by);
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&bytes).unwrap();
        file
    }

    #[test]
    fn reads_a_complete_file() {
        let file = tiny_gguf(0);
        let summary = inspect(file.path()).unwrap();
        assert_eq!(summary.architecture.as_deref(), Some("llama"));
        assert_eq!(summary.tensor_bytes, 16);
        assert_eq!(summary.bytes_by_type["F32"], 16);
    }

    #[test]
    fn rejects_a_truncated_file() {
        let file = tiny_gguf(4);
        let err = inspect(file.path()).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
    }

    #[test]
    fn rejects_a_foreign_file() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"PK\x03\x04 not a model").unwrap();
        let err = inspect(file.path()).unwrap_err().to_string();
        assert!(err.contains("not a GGUF file"), "{err}");
    }
}
