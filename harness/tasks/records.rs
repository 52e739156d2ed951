//! Reading dataset files into JSON records: JSON lines (plain or gzip), JSON objects of
//! id → record, Arrow IPC streams (Hugging Face `datasets` cache files) and oe-eval request
//! files, plus split files whose keys select items.

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{bail, Context, Result};

use super::spec::DataFormat;

/// Reads at most `limit` records of `path` in `format`; errors name the file and line.
pub fn read_records(
    path: &Path,
    format: DataFormat,
    limit: Option<usize>,
) -> Result<Vec<serde_json::Value>> {
    match format {
        DataFormat::Jsonl => read_jsonl(path, limit),
        DataFormat::JsonlGz => {
            let file =
                fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            read_lines(
                BufReader::new(flate2::read::GzDecoder::new(file)),
                path,
                limit,
            )
        }
        DataFormat::ArrowStream => read_arrow_stream(path, limit),
        DataFormat::OeEvalRequests => {
            let requests = read_records(path, DataFormat::JsonlGz, None)?;
            oe_eval_docs(requests, path, limit)
        }
        DataFormat::JsonObject => {
            let mut records = Vec::new();
            for (key, mut record) in read_object(path)? {
                if let Some(fields) = record.as_object_mut() {
                    fields.insert("_key".into(), serde_json::Value::String(key));
                }
                records.push(record);
                if limit.is_some_and(|l| records.len() >= l) {
                    break;
                }
            }
            Ok(records)
        }
    }
}

/// The keys of a JSON object file (a split listing ids).
pub fn split_keys(path: &Path) -> Result<BTreeSet<String>> {
    Ok(read_object(path)?.into_iter().map(|(key, _)| key).collect())
}

/// Reads at most `limit` JSON records, one per line; errors name the file and line.
pub fn read_jsonl(path: &Path, limit: Option<usize>) -> Result<Vec<serde_json::Value>> {
    let file = fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    read_lines(BufReader::new(file), path, limit)
}

fn read_lines(
    reader: impl BufRead,
    path: &Path,
    limit: Option<usize>,
) -> Result<Vec<serde_json::Value>> {
    let mut records = Vec::new();
    for (number, line) in reader.lines().enumerate() {
        if limit.is_some_and(|l| records.len() >= l) {
            break;
        }
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let record = serde_json::from_str(&line)
            .with_context(|| format!("{} line {}: not valid JSON", path.display(), number + 1))?;
        records.push(record);
    }
    Ok(records)
}

fn read_object(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>> {
    let mut text = String::new();
    fs::File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .with_context(|| format!("cannot read {}", path.display()))?;
    match serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?
    {
        serde_json::Value::Object(map) => Ok(map),
        _ => bail!("{}: expected a JSON object of id → record", path.display()),
    }
}

/// The rows of an Arrow IPC stream as JSON objects (column name → value).
fn read_arrow_stream(path: &Path, limit: Option<usize>) -> Result<Vec<serde_json::Value>> {
    use polars::prelude::{IpcStreamReader, SerReader};
    let file = fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let frame = IpcStreamReader::new(file)
        .finish()
        .with_context(|| format!("{}: not a readable Arrow IPC stream", path.display()))?;
    let rows = limit.map_or(frame.height(), |l| l.min(frame.height()));
    let columns = frame.columns();
    (0..rows)
        .map(|row| {
            let mut record = serde_json::Map::new();
            for column in columns {
                let value = column.get(row).with_context(|| {
                    format!("{}: row {row} of column {}", path.display(), column.name())
                })?;
                let json = json_of(&value).with_context(|| {
                    format!("{}: row {row}, column {}", path.display(), column.name())
                })?;
                record.insert(column.name().to_string(), json);
            }
            Ok(serde_json::Value::Object(record))
        })
        .collect()
}

/// One Arrow value as JSON: strings, numbers, booleans, nulls, lists and structs of them; a value
/// of another type (a date, bytes…) as its text.
fn json_of(value: &polars::prelude::AnyValue) -> Result<serde_json::Value> {
    use polars::prelude::AnyValue as A;
    use serde_json::Value as J;
    Ok(match value {
        A::Null => J::Null,
        A::Boolean(b) => J::Bool(*b),
        A::String(s) => J::String(s.to_string()),
        A::StringOwned(s) => J::String(s.to_string()),
        A::Int8(n) => J::from(*n),
        A::Int16(n) => J::from(*n),
        A::Int32(n) => J::from(*n),
        A::Int64(n) => J::from(*n),
        A::UInt8(n) => J::from(*n),
        A::UInt16(n) => J::from(*n),
        A::UInt32(n) => J::from(*n),
        A::UInt64(n) => J::from(*n),
        A::Float32(x) => J::from(f64::from(*x)),
        A::Float64(x) => J::from(*x),
        A::List(series) => J::Array(
            series
                .iter()
                .map(|v| json_of(&v))
                .collect::<Result<Vec<_>>>()?,
        ),
        A::Struct(_, _, fields) => J::Object(
            fields
                .iter()
                .zip(value._iter_struct_av())
                .map(|(field, v)| Ok((field.name().to_string(), json_of(&v)?)))
                .collect::<Result<_>>()?,
        ),
        A::StructOwned(payload) => J::Object(
            payload
                .1
                .iter()
                .zip(&payload.0)
                .map(|(field, v)| Ok((field.name().to_string(), json_of(v)?)))
                .collect::<Result<_>>()?,
        ),
        // Dates, binaries, categoricals…: their text, which templates can still show.
        other => J::String(other.to_string()),
    })
}

/// The items of an oe-eval request file: one per `doc_id` (its `doc`), in order of first
/// appearance. Unconditional requests (`doc_id` ≥ 1,000,000, for oe-eval's mutual-information
/// scores) are not items.
fn oe_eval_docs(
    requests: Vec<serde_json::Value>,
    path: &Path,
    limit: Option<usize>,
) -> Result<Vec<serde_json::Value>> {
    const UNCONDITIONAL: u64 = 1_000_000;
    let mut seen = BTreeSet::new();
    let mut docs = Vec::new();
    for (line, request) in requests.iter().enumerate() {
        let (Some(id), Some(doc)) = (
            request.get("doc_id").and_then(|v| v.as_u64()),
            request.get("doc"),
        ) else {
            bail!(
                "{} line {}: an oe-eval request has `doc_id` and `doc`",
                path.display(),
                line + 1
            );
        };
        if id < UNCONDITIONAL && seen.insert(id) {
            if limit.is_some_and(|l| docs.len() >= l) {
                break;
            }
            docs.push(doc.clone());
        }
    }
    Ok(docs)
}
