//! A run's folder: created once (never reused), samples appended line by line, JSON files
//! replaced atomically.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::records::{Manifest, SampleRecord, Summary};
use crate::files::write_atomic;

/// File names inside a run folder.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Samples file name.
pub const SAMPLES_FILE: &str = "samples.jsonl";
/// Summary file name.
pub const SUMMARY_FILE: &str = "summary.json";

/// Lock file name: held (flock) by the one process writing the run.
pub const LOCK_FILE: &str = "run.lock";
/// The folder under a results folder that holds one folder per run.
pub const RUNS_DIR: &str = "runs";

/// The folder of run `run_id` under `results_dir`.
pub fn run_folder(results_dir: &Path, run_id: &str) -> PathBuf {
    results_dir.join(RUNS_DIR).join(run_id)
}

/// An open run folder, locked against other writers for as long as it lives.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    samples: File,
    _lock: File,
}

/// A fresh run id: UTC time plus a short random suffix, sortable by start time.
pub fn new_run_id() -> String {
    let now = chrono::Utc::now();
    let suffix: u16 = (now.timestamp_subsec_nanos() ^ std::process::id()) as u16;
    format!("{}-{suffix:04x}", now.format("%Y%m%dT%H%M%SZ"))
}

impl RunDir {
    /// Creates `results/runs/<run_id>/`; refuses an existing folder so no earlier run is
    /// overwritten. Errors say when the results folder is not writable.
    pub fn create(results_dir: &Path, run_id: &str) -> Result<Self> {
        if run_id.is_empty() || run_id.contains(['/', '\\']) || run_id.starts_with('.') {
            bail!("run id {run_id:?} must be a plain folder name");
        }
        let runs = results_dir.join(RUNS_DIR);
        fs::create_dir_all(&runs).with_context(|| {
            format!(
                "cannot create {}: the results folder is not writable; choose another with --results-dir",
                runs.display()
            )
        })?;
        let path = run_folder(results_dir, run_id);
        fs::create_dir(&path).with_context(|| {
            if path.exists() {
                format!("run folder {} already exists; choose another --run-id", path.display())
            } else {
                format!(
                    "cannot create {}: the results folder is not writable; choose another with --results-dir",
                    path.display()
                )
            }
        })?;
        Self::open(path)
    }

    /// Reopens the existing run `run_id` to continue it: takes the lock, drops a sample line
    /// cut short by a crash, and returns the folder with its manifest and finished samples.
    pub fn resume(results_dir: &Path, run_id: &str) -> Result<(Self, Manifest, Vec<SampleRecord>)> {
        let path = run_folder(results_dir, run_id);
        if !path.join(MANIFEST_FILE).is_file() {
            bail!(
                "no run {run_id:?} to resume: {} has no {MANIFEST_FILE}",
                path.display()
            );
        }
        let run_dir = Self::open(path)?;
        drop_partial_last_line(&run_dir.path.join(SAMPLES_FILE))?;
        let manifest: Manifest = serde_json::from_slice(&fs::read(
            run_dir.path.join(MANIFEST_FILE),
        )?)
        .with_context(|| {
            format!(
                "{} is not a yardstick manifest",
                run_dir.path.join(MANIFEST_FILE).display()
            )
        })?;
        let samples = read_samples(&run_dir.path)?;
        Ok((run_dir, manifest, samples))
    }

    fn open(path: PathBuf) -> Result<Self> {
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path.join(LOCK_FILE))
            .with_context(|| format!("cannot create {}", path.join(LOCK_FILE).display()))?;
        // SAFETY: flock on a file descriptor we own; released when the process ends, even by kill -9.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            bail!(
                "run {} is being written by another yardstick process; wait for it to finish (or stop it) before resuming",
                path.display()
            );
        }
        let samples = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path.join(SAMPLES_FILE))
            .with_context(|| format!("cannot create {}", path.join(SAMPLES_FILE).display()))?;
        Ok(Self {
            path,
            samples,
            _lock: lock,
        })
    }

    /// The run id (the folder's name).
    pub fn id(&self) -> &str {
        self.path.file_name().and_then(|n| n.to_str()).unwrap_or("")
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes (replaces) `manifest.json`.
    pub fn write_manifest(&self, manifest: &Manifest) -> Result<()> {
        write_atomic(
            &self.path.join(MANIFEST_FILE),
            &serde_json::to_vec_pretty(manifest)?,
        )
    }

    /// Writes (replaces) `summary.json`.
    pub fn write_summary(&self, summary: &Summary) -> Result<()> {
        write_atomic(
            &self.path.join(SUMMARY_FILE),
            &serde_json::to_vec_pretty(summary)?,
        )
    }

    /// Appends one sample as a single line and flushes it to the OS.
    pub fn append_sample(&mut self, sample: &SampleRecord) -> Result<()> {
        let mut line = serde_json::to_vec(sample)?;
        line.push(b'\n');
        self.samples
            .write_all(&line)
            .and_then(|()| self.samples.flush())
            .with_context(|| {
                format!(
                    "cannot append to {}",
                    self.path.join(SAMPLES_FILE).display()
                )
            })
    }
}

impl RunDir {
    /// Replaces `samples.jsonl` with `samples` at once (a merge or re-scoring that was cut short
    /// and runs again leaves no sample twice).
    pub fn replace_samples(&mut self, samples: &[SampleRecord]) -> Result<()> {
        let mut bytes = Vec::new();
        for sample in samples {
            serde_json::to_writer(&mut bytes, sample)?;
            bytes.push(b'\n');
        }
        let path = self.path.join(SAMPLES_FILE);
        write_atomic(&path, &bytes)?;
        self.samples = OpenOptions::new()
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        Ok(())
    }
}

/// Truncates a file after its last newline: a line cut short by a crash is dropped (its sample
/// is simply run again).
fn drop_partial_last_line(path: &Path) -> Result<()> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err.into()),
    };
    let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    if complete < bytes.len() {
        OpenOptions::new()
            .write(true)
            .open(path)?
            .set_len(complete as u64)?;
    }
    Ok(())
}

/// Reads every sample of a run folder; errors name the line.
pub fn read_samples(run_dir: &Path) -> Result<Vec<SampleRecord>> {
    let path = run_dir.join(SAMPLES_FILE);
    let file = File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut samples = Vec::new();
    for (number, line) in BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        samples.push(serde_json::from_str(&line).with_context(|| {
            format!(
                "{} line {}: not a sample record",
                path.display(),
                number + 1
            )
        })?);
    }
    Ok(samples)
}
