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

use std::collections::HashMap;
use std::ffi::CString;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
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
/// Uids in the range; concurrent programs get distinct ones.
const UID_SLOTS: u32 = 1_000;
static NEXT_SLOT: AtomicU32 = AtomicU32::new(0);

/// A description of the isolation this process can give programs.
pub fn isolation() -> &'static str {
    if is_root() {
        "process group, rlimits, scrubbed environment, private temp folder, own uid, own network and mount namespaces with a read-only file system (when the kernel allows)"
    } else {
        "process group, rlimits, scrubbed environment, private temp folder (not root: no own uid or network namespace)"
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Runs `source`, saved as `file_name`, with `interpreter` (e.g. `python3`) and its `args`
/// under `limits`.
pub fn run(
    interpreter: &str,
    args: &[String],
    file_name: &str,
    source: &str,
    limits: Limits,
) -> Result<Execution> {
    let dir = tempfile::Builder::new()
        .prefix("yardstick-exec-")
        .tempdir()
        .context("cannot create a temporary folder for generated code")?;
    let root = is_root();
    let uid = UID_BASE + NEXT_SLOT.fetch_add(1, Ordering::Relaxed) % UID_SLOTS;
    fs::write(dir.path().join(file_name), source)?;
    let stdout = fs::File::create(dir.path().join(".stdout"))?;
    let stderr_path = dir.path().join(".stderr");
    let stderr = fs::File::create(&stderr_path)?;
    if root {
        chown_tree(dir.path(), uid)?;
    }
    // Prepared before fork: the child may not allocate.
    let folder = CString::new(dir.path().as_os_str().as_bytes())?;
    let writable_mounts = if root {
        writable_mount_points()
    } else {
        Vec::new()
    };

    let mut command = Command::new(resolve_interpreter(interpreter));
    command
        .args(args)
        .arg(file_name)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", SANDBOX_PATH)
        .env("HOME", dir.path())
        .env("TMPDIR", dir.path())
        .env("LANG", "C.UTF-8")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    let cpu_seconds = limits.wall.as_secs().max(1) + 1;
    // SAFETY: the closure runs in the child between fork and exec and only calls
    // async-signal-safe functions (setsid, setrlimit, unshare, setgroups, setgid, setuid).
    unsafe {
        command.pre_exec(move || {
            libc::setsid();
            set_limit(libc::RLIMIT_CPU, cpu_seconds);
            set_limit(libc::RLIMIT_AS, limits.memory_bytes);
            set_limit(libc::RLIMIT_FSIZE, limits.file_bytes);
            set_limit(libc::RLIMIT_CORE, 0);
            if root {
                // No network (a fresh namespace has only a downed loopback), and every file
                // system read-only except the program's own folder. Best effort: some container
                // runtimes forbid namespaces.
                libc::unshare(libc::CLONE_NEWNET);
                if libc::unshare(libc::CLONE_NEWNS) == 0 {
                    let none = std::ptr::null();
                    let root_dir = c"/".as_ptr();
                    libc::mount(
                        none,
                        root_dir,
                        none,
                        libc::MS_REC | libc::MS_PRIVATE,
                        std::ptr::null(),
                    );
                    libc::mount(
                        folder.as_ptr(),
                        folder.as_ptr(),
                        none,
                        libc::MS_BIND,
                        std::ptr::null(),
                    );
                    for point in &writable_mounts {
                        libc::mount(
                            none,
                            point.as_ptr(),
                            none,
                            libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY,
                            std::ptr::null(),
                        );
                    }
                }
                set_limit(libc::RLIMIT_NPROC, limits.processes);
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(uid) != 0
                    || libc::setuid(uid) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }

    let started = Instant::now();
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => {
            return Ok(Execution {
                outcome: Outcome::Error,
                detail: format!("could not start {interpreter}: {err}"),
                seconds: 0.0,
            })
        }
    };
    let pid = child.id() as i32;
    // A watchdog kills the group at the deadline; the program is waited for without polling.
    let (finished, finished_signal) = mpsc::channel::<()>();
    let timed_out = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let timed_out = Arc::clone(&timed_out);
        std::thread::spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = finished_signal.recv_timeout(limits.wall) {
                timed_out.store(true, Ordering::SeqCst);
                // SAFETY: the group leader is not reaped yet (see below), so its id is ours.
                unsafe {
                    libc::killpg(pid, libc::SIGKILL);
                }
            }
        })
    };
    wait_without_reaping(pid);
    finished.send(()).ok();
    watchdog.join().ok();
    let seconds = started.elapsed().as_secs_f64();
    // Whatever the program left behind dies with it; the leader is still a zombie, so the group
    // id cannot have been reused.
    // SAFETY: signalling the process group we created.
    unsafe {
        libc::killpg(pid, libc::SIGKILL);
    }
    let status = child.wait()?;
    if root {
        kill_everything_of(uid);
    }
    let status = (!timed_out.load(Ordering::SeqCst)).then_some(status);
    let stderr_tail = last_line(&stderr_path);
    let (outcome, detail) = classify(status, stderr_tail, limits);
    Ok(Execution {
        outcome,
        detail,
        seconds,
    })
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

/// Mount points currently mounted read-write (from /proc/self/mounts).
fn writable_mount_points() -> Vec<CString> {
    let Ok(mounts) = fs::read_to_string("/proc/self/mounts") else {
        return Vec::new();
    };
    mounts
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (point, options) = (fields.get(1)?, fields.get(3)?);
            let writable = options.split(',').any(|o| o == "rw");
            let point = point.replace("\\040", " ");
            (writable && !point.starts_with("/proc") && !point.starts_with("/sys"))
                .then(|| CString::new(point).ok())
                .flatten()
        })
        .collect()
}

fn set_limit(resource: libc::__rlimit_resource_t, value: u64) {
    let limit = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: plain system call on a valid struct.
    unsafe {
        libc::setrlimit(resource, &limit);
    }
}

fn chown_tree(dir: &Path, uid: u32) -> Result<()> {
    std::os::unix::fs::chown(dir, Some(uid), Some(uid))?;
    for entry in fs::read_dir(dir)? {
        std::os::unix::fs::chown(entry?.path(), Some(uid), Some(uid))?;
    }
    Ok(())
}

/// Blocks until process `pid` has exited, leaving it a zombie (not reaped).
fn wait_without_reaping(pid: i32) {
    loop {
        // SAFETY: waitid on our own child with a zeroed out-parameter.
        let result = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if result == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
        {
            return;
        }
    }
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
fn last_line(path: &Path) -> String {
    let Ok(mut file) = fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(8192);
    let mut tail = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_err() || file.read_to_end(&mut tail).is_err() {
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
        let limits = Limits {
            wall: Duration::from_secs(5),
            ..Limits::default()
        };
        run("python3", &[], "program.py", source, limits).unwrap()
    }

    #[test]
    fn passing_and_failing_programs() {
        assert_eq!(python("assert 1 + 1 == 2\n").outcome, Outcome::Passed);
        let failed = python("def f():\n    return 3\nassert f() == 4, 'wrong'\n");
        assert_eq!(failed.outcome, Outcome::Failed);
        assert_eq!(failed.detail, "AssertionError: wrong");
    }

    #[test]
    fn infinite_loop_times_out() {
        let run = python("while True:\n    pass\n");
        assert_eq!(run.outcome, Outcome::TimedOut);
        assert!(run.seconds < 8.0);
    }
}
