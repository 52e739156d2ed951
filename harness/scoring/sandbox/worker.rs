//! Python programs through a pool of pre-started fork servers (`worker.py`), one per concurrent
//! caller: forking a warm interpreter costs about a millisecond where starting a fresh one costs
//! ten. A worker is started with the same isolation as a directly run program (minus the uid,
//! which each forked program takes for itself), so a program sees exactly what it would see on
//! its own.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use super::isolate::{isolate, Isolation};
use super::{
    chown_tree, finish, next_uid, resolve_interpreter, Execution, Limits, Outcome, Program,
    Reported, Verdict, Watchdog,
};

const SERVER: &str = include_str!("worker.py");

/// A running fork server.
struct Worker {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    folder: tempfile::TempDir,
}

#[derive(Deserialize)]
struct Reply {
    pid: Option<i32>,
    status: Option<i32>,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

type Pool = Mutex<HashMap<String, Vec<Worker>>>;

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(Default::default)
}

static NEXT_PROGRAM: AtomicU64 = AtomicU64::new(0);

/// Runs `program` as a fork of a worker of its interpreter.
pub(super) fn run(program: &Program, limits: Limits) -> Result<Execution> {
    let key = format!(
        "{} {:?} {} {}",
        program.interpreter, program.args, limits.memory_bytes, limits.file_bytes
    );
    let taken = pool()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_mut(&key)
        .and_then(Vec::pop);
    let mut worker = match taken {
        Some(worker) => worker,
        None => Worker::start(program.interpreter, program.args, limits)?,
    };
    let root = super::is_root();
    let uid = root.then(next_uid);
    let dir = worker
        .folder
        .path()
        .join(format!("p{}", NEXT_PROGRAM.fetch_add(1, Ordering::Relaxed)));
    fs::create_dir(&dir)?;
    // Private to the program's uid: concurrent programs cannot read each other's files.
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))?;
    fs::write(dir.join(program.file_name), program.source)?;
    if let Some(uid) = uid {
        chown_tree(&dir, uid)?;
    }
    let (mode, timeout) = match program.verdict {
        Verdict::ExitStatus => ("script", None),
        Verdict::HumanEval { timeout } => ("human-eval", Some(timeout.as_secs_f64())),
    };
    let job = serde_json::json!({
        "dir": dir,
        "file": program.file_name,
        "uid": uid,
        "cpu": limits.wall.as_secs().max(1) + 1,
        "nproc": limits.processes,
        "mode": mode,
        "timeout": timeout,
    });
    let watchdog = Watchdog::start(limits.wall, uid);
    let status = worker.execute(&job.to_string(), &watchdog);
    let (timed_out, seconds) = watchdog.stop();
    let execution = match status {
        Ok((status, reported)) => {
            let reported = timeout.map(|_| reported);
            let execution = finish(
                &dir,
                (!timed_out).then_some(status),
                reported,
                uid,
                seconds,
                limits,
            );
            pool()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(key)
                .or_default()
                .push(worker);
            execution
        }
        Err(err) => {
            // The program took its worker down (possible without root, where it may signal its
            // parent): it is scored as an error, the broken worker is dropped, and the next
            // program gets a fresh one.
            drop(worker);
            super::release_uid(uid);
            Execution {
                outcome: Outcome::Error,
                detail: format!("the sandbox worker died: {err:#}"),
                seconds,
            }
        }
    };
    fs::remove_dir_all(&dir).ok();
    Ok(execution)
}

/// Stops every idle worker and removes its folder.
pub(super) fn release_all() {
    let idle: Vec<Worker> = pool()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .drain()
        .flat_map(|(_, workers)| workers)
        .collect();
    drop(idle);
}

impl Worker {
    fn start(interpreter: &str, args: &[String], limits: Limits) -> Result<Self> {
        let folder = tempfile::Builder::new()
            .prefix("yardstick-worker-")
            .tempdir()
            .context("cannot create a folder for the Python worker")?;
        // Programs (other uids) must reach their own folders inside; only root may list it.
        fs::set_permissions(folder.path(), fs::Permissions::from_mode(0o711))?;
        let mut command = Command::new(resolve_interpreter(interpreter));
        command.args(args).arg("-c").arg(SERVER);
        if super::is_root() && super::namespaces_available() && super::pid_namespace_available() {
            command.arg("--pid-namespace");
        }
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let isolation = Isolation {
            cpu_seconds: None,
            namespaces: super::is_root(),
            uid: None,
        };
        isolate(&mut command, folder.path(), limits, isolation)?;
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {interpreter} for the sandbox worker"))?;
        let input = child.stdin.take().context("worker stdin")?;
        let output = BufReader::new(child.stdout.take().context("worker stdout")?);
        Ok(Self {
            child,
            input,
            output,
            folder,
        })
    }

    /// Sends one job and waits for its end; the watchdog learns the program's pid. Returns the
    /// wait status and what the program reported.
    fn execute(&mut self, job: &str, watchdog: &Watchdog) -> Result<(ExitStatus, Reported)> {
        writeln!(self.input, "{job}").context("cannot send a job")?;
        self.input.flush()?;
        let pid = self.reply()?.pid.context("no pid from the worker")?;
        watchdog.watch(pid);
        let reply = self.reply()?;
        let status = reply.status.context("no status from the worker")?;
        Ok((
            ExitStatus::from_raw(status),
            Reported {
                result: reply.result,
                error: reply.error,
            },
        ))
    }

    fn reply(&mut self) -> Result<Reply> {
        let mut line = String::new();
        if self.output.read_line(&mut line)? == 0 {
            bail!("the worker exited");
        }
        Ok(serde_json::from_str(&line)?)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}
