//! One program, one fresh interpreter: the interpreter is started isolated on the program file
//! and waited for without reaping, so its process group id stays ours until it is killed.

use std::fs;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use super::isolate::{isolate, Isolation};
use super::{
    chown_tree, finish, next_uid, resolve_interpreter, Execution, Limits, Outcome, Program,
    Watchdog,
};

/// Runs `program` in a fresh interpreter.
pub(super) fn run(program: &Program, limits: Limits) -> Result<Execution> {
    let dir = tempfile::Builder::new()
        .prefix("yardstick-exec-")
        .tempdir()
        .context("cannot create a temporary folder for generated code")?;
    let root = super::is_root();
    let uid = root.then(next_uid);
    fs::write(dir.path().join(program.file_name), program.source)?;
    let stdout = fs::File::create(dir.path().join(".stdout"))?;
    let stderr = fs::File::create(dir.path().join(".stderr"))?;
    if let Some(uid) = uid {
        chown_tree(dir.path(), uid)?;
    }
    let mut command = Command::new(resolve_interpreter(program.interpreter));
    command
        .args(program.args)
        .arg(program.file_name)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    let isolation = Isolation {
        cpu_seconds: Some(limits.wall.as_secs().max(1) + 1),
        namespaces: root,
        uid,
    };
    isolate(&mut command, dir.path(), limits, isolation)?;

    let watchdog = Watchdog::start(limits.wall, uid);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => {
            watchdog.stop();
            super::release_uid(uid);
            return Ok(Execution {
                outcome: Outcome::Error,
                detail: format!("could not start {}: {err}", program.interpreter),
                seconds: 0.0,
            });
        }
    };
    let pid = child.id() as i32;
    watchdog.watch(pid);
    wait_without_reaping(pid);
    let (timed_out, seconds) = watchdog.stop();
    // Whatever the program left behind dies with it; the leader is still a zombie, so the group
    // id cannot have been reused.
    // SAFETY: signalling the process group we created.
    unsafe {
        libc::killpg(pid, libc::SIGKILL);
    }
    let status = child.wait()?;
    Ok(finish(
        dir.path(),
        (!timed_out).then_some(status),
        None,
        uid,
        seconds,
        limits,
    ))
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
