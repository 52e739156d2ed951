//! Worker processes (`run --workers N`): N single-threaded-ish model instances on one machine,
//! each running shard i/N of the same plan (several small instances beat one big one on CPU),
//! merged into the one run the user asked for — sample for sample what one process writes.
//!
//! Each worker's part is an ordinary shard run under `<results>/.workers/<run-id>/`, created
//! here with its manifest before any worker starts; a worker is `yardstick run --resume <part>`.
//! So a stopped or crashed workers run resumes like any run: `run --resume <run-id>` resumes
//! every unfinished part, then merges.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::str::FromStr;

use anyhow::{bail, Context, Result};

use super::calibration::Instances;
use super::job::Workspace;
use crate::interrupt::Interrupted;
use crate::machine::MachineInfo;
use crate::models::ModelEntry;
use crate::store::{find_manifest, read_samples, run_folder, Manifest, RunDir, RunOutcome, Shard};
use crate::store::{merge, MergeOrigin};

/// How many worker processes a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerCount {
    /// Exactly this many (1 to 64).
    Count(usize),
    /// Chosen from cores, memory and model size ([`automatic_count`]).
    Auto,
    /// One process, or [`automatic_count`] workers where calibration measures that they finish
    /// the run sooner (the default).
    Best,
}

impl FromStr for WorkerCount {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(Self::Auto),
            "best" => Ok(Self::Best),
            _ => match text.parse::<usize>() {
                Ok(n) if (1..=64).contains(&n) => Ok(Self::Count(n)),
                _ => Err(format!(
                    "{text:?} is not a worker count: give 1 to 64, auto or best"
                )),
            },
        }
    }
}

impl WorkerCount {
    /// The number of processes for `models` on `machine`: fixed, or (`best`) measured between
    /// one and [`automatic_count`].
    pub fn resolve(self, models: &[ModelEntry], machine: &MachineInfo) -> Instances {
        match self {
            Self::Count(n) => Instances::Fixed(n),
            Self::Auto => {
                let workers = automatic_count(models, machine);
                eprintln!(
                    "--workers auto: {workers} ({} cores, {} GiB memory, ~{} MB per model instance)",
                    machine.logical_cores,
                    machine.memory_bytes.map_or(0, |m| m >> 30),
                    instance_bytes(models) >> 20
                );
                Instances::Fixed(workers)
            }
            Self::Best => Instances::Measured(automatic_count(models, machine)),
        }
    }
}

/// Workers for `--workers auto`: one per core, as many as 80% of the machine's memory holds
/// instances of the largest model (about 2.5 × its file plus 256 MB each, as measured: SmolLM2's
/// 98 MB file peaks at 0.5 GB, Qwen2.5-Coder-0.5B's 491 MB at 1.2 GB).
pub fn automatic_count(models: &[ModelEntry], machine: &MachineInfo) -> usize {
    let per_instance = instance_bytes(models);
    let by_memory = machine
        .memory_bytes
        .map_or(1, |memory| (memory * 4 / 5 / per_instance.max(1)) as usize);
    machine.logical_cores.min(by_memory).max(1)
}

/// Memory one instance of the largest of `models` takes, as measured.
fn instance_bytes(models: &[ModelEntry]) -> u64 {
    let largest = models.iter().map(|m| m.size_bytes).max().unwrap_or(0);
    largest * 5 / 2 + (256 << 20)
}

/// Where the parts of the workers run `run_id` are kept until they are merged.
fn parts_dir(results_dir: &Path, run_id: &str) -> PathBuf {
    results_dir.join(".workers").join(run_id)
}

/// Runs the workers run whose manifest (`manifest.workers`: how many) is in `run_dir`: creates
/// the parts that do not exist yet, starts a worker for each unfinished one, and merges them
/// into `run_dir` when all have finished.
pub fn run_in_workers(
    run_dir: RunDir,
    manifest: &Manifest,
    workspace: &Workspace,
) -> Result<RunOutcome> {
    let (results_dir, tasks) = (&workspace.results_dir, &workspace.tasks);
    let count = manifest.workers.unwrap_or(1).max(1);
    let run_id = &manifest.run_id;
    let parts_dir = parts_dir(results_dir, run_id);
    let mut parts = Vec::new();
    let mut unfinished = Vec::new();
    for index in 1..=count {
        let part_id = format!("{run_id}-w{index}");
        match find_manifest(&parts_dir, &part_id)? {
            Some(part) if part.finished_at.is_some() => {}
            Some(_) => unfinished.push(part_id.clone()),
            None => {
                create_part(manifest, &parts_dir, &part_id, Shard { index, count })?;
                unfinished.push(part_id.clone());
            }
        }
        parts.push(run_folder(&parts_dir, &part_id));
    }
    let threads = (std::thread::available_parallelism().map_or(1, |n| n.get()) / count).max(1);
    eprintln!(
        "run {run_id}: {count} workers × {threads} thread(s); {} to run",
        unfinished.len()
    );
    let mut children = unfinished
        .iter()
        .map(|part_id| start_worker(part_id, &parts_dir, threads, &workspace.task_dirs))
        .collect::<Result<Vec<_>>>()?;
    let statuses = wait_forwarding_signals(&mut children)?;
    if let Some(signal) = crate::interrupt::requested() {
        let done = parts
            .iter()
            .map(|dir| read_samples(dir).map_or(0, |s| s.len()))
            .sum();
        let planned = manifest.tasks.iter().map(|t| t.items).sum::<usize>()
            * manifest.models.len()
            * manifest.samples_per_item;
        return Err(Interrupted {
            signal,
            done,
            planned,
            run_id: run_id.clone(),
        }
        .into());
    }
    let failed: Vec<&str> = unfinished
        .iter()
        .zip(&statuses)
        .filter(|(_, status)| !status.success())
        .map(|(part_id, _)| part_id.as_str())
        .collect();
    if !failed.is_empty() {
        bail!(
            "worker run(s) {} failed (their errors are above); once fixed, continue with \
             `yardstick run --resume {run_id}`",
            failed.join(", ")
        );
    }
    let origin = MergeOrigin {
        command: manifest.command.clone(),
        workers: Some(count),
    };
    let outcome = merge(&parts, tasks, run_dir, origin)?;
    std::fs::remove_dir_all(&parts_dir).ok();
    Ok(outcome)
}

/// Creates part `part_id` (shard `shard` of the parent's plan) with its manifest.
fn create_part(parent: &Manifest, parts_dir: &Path, part_id: &str, shard: Shard) -> Result<()> {
    let part = RunDir::create(parts_dir, part_id)?;
    part.write_manifest(&Manifest {
        run_id: part_id.to_string(),
        shard: Some(shard),
        workers: None,
        ..parent.clone()
    })
}

/// Makes `command` a child of this run on `threads` compute threads: in its own process group,
/// so a terminal's Ctrl-C reaches only this process, which decides what to pass on; and sent
/// SIGTERM if this process dies, so no child outlives the run it belongs to.
pub(super) fn run_child(command: &mut Command, threads: usize) -> &mut Command {
    command
        .env("RAYON_NUM_THREADS", threads.to_string())
        .process_group(0);
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command
}

/// Starts `yardstick run --resume <part>` on `threads` threads (with this run's task folders),
/// as a [`run_child`] (the worker is passed a Ctrl-C once).
fn start_worker(
    part_id: &str,
    parts_dir: &Path,
    threads: usize,
    task_dirs: &[PathBuf],
) -> Result<Child> {
    let exe = std::env::current_exe().context("cannot find the yardstick executable")?;
    let mut command = Command::new(exe);
    command
        .args(["run", "--no-pull", "--resume", part_id, "--results-dir"])
        .arg(parts_dir);
    for dir in task_dirs {
        command.arg("--tasks-dir").arg(dir);
    }
    run_child(&mut command, threads)
        .stdout(Stdio::null())
        .spawn()
        .context("cannot start a worker process")
}

/// Waits for every worker; a stop signal this process receives is passed on to them once (they
/// run in their own process group, so nothing else reaches them).
fn wait_forwarding_signals(children: &mut [Child]) -> Result<Vec<ExitStatus>> {
    let mut statuses = vec![None; children.len()];
    let mut forwarded = false;
    while statuses.iter().any(Option::is_none) {
        if let (Some(signal), false) = (crate::interrupt::requested(), forwarded) {
            for (child, status) in children.iter().zip(&statuses) {
                if status.is_none() {
                    // SAFETY: signalling our own child process.
                    unsafe {
                        libc::kill(child.id() as libc::pid_t, signal);
                    }
                }
            }
            forwarded = true;
        }
        for (child, status) in children.iter_mut().zip(statuses.iter_mut()) {
            if status.is_none() {
                *status = child.try_wait()?;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Ok(statuses.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_counts_parse() {
        assert_eq!("auto".parse::<WorkerCount>(), Ok(WorkerCount::Auto));
        assert_eq!("best".parse::<WorkerCount>(), Ok(WorkerCount::Best));
        assert_eq!("3".parse::<WorkerCount>(), Ok(WorkerCount::Count(3)));
        for bad in ["0", "65", "many", "-1"] {
            assert!(bad
                .parse::<WorkerCount>()
                .unwrap_err()
                .contains("1 to 64, auto or best"));
        }
    }
}
