//! `yardstick run --workers N`: N single-purpose worker processes, each running shard i/N of
//! the same plan with cores/N threads (several small model instances beat one big one on CPU),
//! merged into the one run the command names — sample for sample what one process would write.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::merge::merge;
use crate::report::table;
use crate::store::{read_json, Manifest, RunDir, MANIFEST_FILE};
use crate::tasks::TaskSet;

/// Flags of the parent's command line that each worker gets its own value for.
const REPLACED: &[&str] = &["--workers", "--run-id", "--results-dir", "--shard"];
/// Switches every worker gets anyway.
const ADDED: &[&str] = &["--no-pull"];

/// Runs `workers` shard processes of the run command line `command_line` (`yardstick run …`),
/// then merges them into `results_dir/runs/run_id`.
pub(super) fn run_with_workers(
    workers: usize,
    command_line: &[String],
    run_id: &str,
    results_dir: &Path,
    tasks: &TaskSet,
) -> Result<()> {
    let run_dir = RunDir::create(results_dir, run_id)?;
    let parts_dir = results_dir.join(".workers").join(run_id);
    let threads = (std::thread::available_parallelism().map_or(1, |n| n.get()) / workers).max(1);
    let exe = std::env::current_exe().context("cannot find the yardstick executable")?;
    let args = worker_args(command_line.iter().skip(1).cloned().collect());
    eprintln!("run {run_id}: {workers} workers × {threads} thread(s)");
    let mut children = Vec::new();
    for index in 1..=workers {
        let child = Command::new(&exe)
            .args(&args)
            .args(["--no-pull", "--shard", &format!("{index}/{workers}")])
            .args(["--run-id", &format!("{run_id}-w{index}")])
            .arg("--results-dir")
            .arg(&parts_dir)
            .env("RAYON_NUM_THREADS", threads.to_string())
            // Their own process group: a terminal's Ctrl-C reaches only this process, which
            // passes it on once (a second signal would stop a worker mid-sample).
            .process_group(0)
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("cannot start a worker process")?;
        children.push(child);
    }
    let statuses = wait_forwarding_signals(&mut children)?;
    let failed: Vec<String> = statuses
        .iter()
        .enumerate()
        .filter(|(_, status)| !status.success())
        .map(|(index, _)| format!("{run_id}-w{}", index + 1))
        .collect();
    if let Some(signal) = crate::interrupt::requested() {
        std::fs::remove_dir_all(run_dir.path()).ok();
        return Err(crate::interrupt::Interrupted {
            signal,
            done: 0,
            planned: 0,
            run_id: run_id.to_string(),
        })
        .with_context(|| {
            format!(
                "the worker runs {} were stopped; their folders are in {}: resume each with \
                 `yardstick run --resume <id> --results-dir {}`, then `yardstick merge`",
                (1..=workers)
                    .map(|i| format!("{run_id}-w{i}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                parts_dir.display(),
                parts_dir.display()
            )
        });
    }
    if !failed.is_empty() {
        std::fs::remove_dir_all(run_dir.path()).ok();
        bail!(
            "worker run(s) {} failed; their folders are in {}: resume each with \
             `yardstick run --resume <id> --results-dir {}`, then `yardstick merge`",
            failed.join(", "),
            parts_dir.display(),
            parts_dir.display()
        );
    }
    let parts: Vec<_> = (1..=workers)
        .map(|index| parts_dir.join("runs").join(format!("{run_id}-w{index}")))
        .collect();
    let outcome = merge(&parts, tasks, run_dir)?;
    // The workers shared this machine: its throughput, and so its cost per token, is theirs
    // combined.
    let mut manifest: Manifest = read_json(&outcome.run_dir, MANIFEST_FILE, "manifest")?;
    manifest.workers = Some(workers);
    manifest.command = command_line.to_vec();
    crate::files::write_atomic(
        &outcome.run_dir.join(MANIFEST_FILE),
        &serde_json::to_vec_pretty(&manifest)?,
    )?;
    std::fs::remove_dir_all(&parts_dir).ok();
    print!("{}", table::render_summary(&outcome.summary));
    println!("results written to {}", outcome.run_dir.display());
    Ok(())
}

/// Waits for every worker; a stop signal this process receives is passed on to them once (they
/// run in their own process group, so nothing else reaches them).
fn wait_forwarding_signals(
    children: &mut [std::process::Child],
) -> Result<Vec<std::process::ExitStatus>> {
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

/// The parent's arguments without the flags each worker gets its own value for.
fn worker_args(args: Vec<String>) -> Vec<String> {
    let mut kept = Vec::new();
    let mut skip_value = false;
    for arg in args {
        if skip_value {
            skip_value = false;
            continue;
        }
        if REPLACED.contains(&arg.as_str()) {
            skip_value = true;
        } else if ADDED.contains(&arg.as_str()) {
            continue;
        } else if !REPLACED
            .iter()
            .any(|flag| arg.starts_with(&format!("{flag}=")))
        {
            kept.push(arg);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_arguments_drop_only_the_replaced_flags() {
        let args = [
            "run",
            "--workers",
            "2",
            "--task",
            "gsm8k",
            "--run-id=x",
            "--limit",
            "3",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            worker_args(args),
            ["run", "--task", "gsm8k", "--limit", "3"]
        );
    }
}
