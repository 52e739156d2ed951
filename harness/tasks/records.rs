//! Reading dataset files into JSON records: JSON lines (plain or gzip) and JSON objects of
//! id → record, plus split files whose keys select items.

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
