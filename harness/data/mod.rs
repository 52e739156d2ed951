//! Datasets: references pinned by sha256 in task specs, a local cache keyed by sha256, import
//! from a folder of local copies, and download from the upstream URL for users with network.
//!
//! Dataset files are never part of the project: they live in `YARDSTICK_HOME/data/<sha256>/`.

mod download;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::files::{copy_atomic, sha256_file};

/// Files larger than this are not considered by `data import` (no dataset here is near it).
const MAX_IMPORT_BYTES: u64 = 2 << 30;

/// A dataset file a task depends on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatasetRef {
    /// Conventional name, `<dataset>/<file>`, e.g. `gsm8k/test.jsonl`.
    pub file: String,
    /// sha256 of the file's bytes.
    pub sha256: String,
    /// Upstream download address.
    pub url: Option<String>,
    /// License of the data.
    pub license: String,
    /// How to cite it.
    #[serde(default)]
    pub citation: Option<String>,
}

impl DatasetRef {
    fn file_name(&self) -> &str {
        self.file.rsplit('/').next().unwrap_or(&self.file)
    }
}

/// What `data import` did.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Files copied into the cache.
    pub imported: Vec<String>,
    /// Known files that were already cached.
    pub already_present: Vec<String>,
    /// Files in the folder that no task references.
    pub unrecognized: usize,
}

/// The dataset cache rooted at `YARDSTICK_HOME/data`.
#[derive(Debug, Clone)]
pub struct DataCache {
    dir: PathBuf,
}

impl DataCache {
    /// A cache rooted at `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Where `dataset` lives in the cache.
    pub fn path(&self, dataset: &DatasetRef) -> PathBuf {
        self.dir.join(&dataset.sha256).join(dataset.file_name())
    }

    /// Whether `dataset` is cached.
    pub fn contains(&self, dataset: &DatasetRef) -> bool {
        self.path(dataset).is_file()
    }

    /// The verified local path of `dataset`, downloading it first when it is missing and
    /// downloads are allowed (`YARDSTICK_OFFLINE` unset).
    pub fn locate(&self, dataset: &DatasetRef) -> Result<PathBuf> {
        let path = self.path(dataset);
        if !path.is_file() {
            let offline = std::env::var_os("YARDSTICK_OFFLINE").is_some_and(|v| !v.is_empty());
            let download = match (&dataset.url, offline) {
                (Some(url), false) => download::fetch_verified(url, &dataset.sha256, &path),
                _ => Err(anyhow::anyhow!(
                    "downloads are off (YARDSTICK_OFFLINE) or no url"
                )),
            };
            if let Err(err) = download {
                bail!(
                    "dataset {} (sha256 {}) is not in the cache {} and could not be downloaded \
                     ({err:#}).\nImport a local copy with `yardstick data import DIR` — in this \
                     project's environment: `yardstick data import ../shared/datasets`",
                    dataset.file,
                    dataset.sha256,
                    self.dir.display()
                );
            }
        }
        let actual = sha256_file(&path, None)?;
        if actual != dataset.sha256 {
            fs::remove_file(&path).ok();
            bail!(
                "dataset {}: cached file {} has sha256 {actual}, expected {}; it was removed: \
                 import it again with `yardstick data import DIR`",
                dataset.file,
                path.display(),
                dataset.sha256
            );
        }
        Ok(path)
    }

    /// Copies every file under `source` whose sha256 matches one of `known` into the cache.
    pub fn import(&self, source: &Path, known: &[DatasetRef]) -> Result<ImportReport> {
        if !source.is_dir() {
            bail!(
                "{} is not a folder: give the folder holding the dataset files",
                source.display()
            );
        }
        let mut report = ImportReport::default();
        let mut files = Vec::new();
        collect_files(source, &mut files)?;
        for file in files {
            let len = fs::metadata(&file).map(|m| m.len()).unwrap_or(u64::MAX);
            if len > MAX_IMPORT_BYTES {
                report.unrecognized += 1;
                continue;
            }
            let digest = sha256_file(&file, None)?;
            let Some(dataset) = known.iter().find(|d| d.sha256 == digest) else {
                report.unrecognized += 1;
                continue;
            };
            if self.contains(dataset) {
                report.already_present.push(dataset.file.clone());
                continue;
            }
            copy_atomic(&file, &self.path(dataset))
                .with_context(|| format!("cannot import {}", file.display()))?;
            report.imported.push(dataset.file.clone());
        }
        Ok(report)
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_files(&path, out)?;
        } else if kind.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::sha256_reader;

    fn dataset_for(bytes: &[u8], url: Option<String>) -> DatasetRef {
        DatasetRef {
            file: "toy/items.jsonl".into(),
            sha256: sha256_reader(bytes, None).unwrap(),
            url,
            license: "MIT".into(),
            citation: None,
        }
    }

    #[test]
    fn import_copies_only_known_files() {
        let source = tempfile::tempdir().unwrap();
        fs::create_dir_all(source.path().join("nested")).unwrap();
        fs::write(source.path().join("nested/items.jsonl"), b"{\"q\":1}\n").unwrap();
        fs::write(source.path().join("other.txt"), b"unrelated").unwrap();
        let home = tempfile::tempdir().unwrap();
        let cache = DataCache::new(home.path());
        let dataset = dataset_for(b"{\"q\":1}\n", None);

        let report = cache
            .import(source.path(), std::slice::from_ref(&dataset))
            .unwrap();
        assert_eq!(report.imported, vec!["toy/items.jsonl".to_string()]);
        assert_eq!(report.unrecognized, 1);
        assert_eq!(
            fs::read(cache.locate(&dataset).unwrap()).unwrap(),
            b"{\"q\":1}\n"
        );

        let again = cache
            .import(source.path(), std::slice::from_ref(&dataset))
            .unwrap();
        assert!(again.imported.is_empty());
        assert_eq!(again.already_present.len(), 1);
    }

    #[test]
    fn missing_dataset_says_how_to_import() {
        let home = tempfile::tempdir().unwrap();
        let cache = DataCache::new(home.path());
        let err = format!("{:#}", cache.locate(&dataset_for(b"x", None)).unwrap_err());
        assert!(err.contains("yardstick data import"), "{err}");
        assert!(err.contains("toy/items.jsonl"), "{err}");
    }

    #[test]
    fn corrupted_cache_entry_is_removed() {
        let home = tempfile::tempdir().unwrap();
        let cache = DataCache::new(home.path());
        let dataset = dataset_for(b"good", None);
        let path = cache.path(&dataset);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, b"tampered").unwrap();
        let err = format!("{:#}", cache.locate(&dataset).unwrap_err());
        assert!(err.contains("expected"), "{err}");
        assert!(!path.exists());
    }

    #[test]
    fn downloads_from_the_url_and_verifies() {
        let body = b"line one\nline two\n".to_vec();
        let url = download::tests::serve_once(body.clone());
        let home = tempfile::tempdir().unwrap();
        let cache = DataCache::new(home.path());
        let dataset = dataset_for(&body, Some(url));
        let path = cache.locate(&dataset).unwrap();
        assert_eq!(fs::read(path).unwrap(), body);
    }

    #[test]
    fn download_with_wrong_digest_leaves_nothing() {
        let url = download::tests::serve_once(b"unexpected bytes".to_vec());
        let home = tempfile::tempdir().unwrap();
        let cache = DataCache::new(home.path());
        let dataset = dataset_for(b"expected bytes", Some(url));
        assert!(cache.locate(&dataset).is_err());
        assert!(!cache.path(&dataset).exists());
    }
}
