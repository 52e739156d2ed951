//! The isolation applied to a sandboxed process between fork and exec: its own session, resource
//! limits, no privilege gain, first in line for the OOM killer, a scrubbed environment, and — as
//! root — no network, its own System V IPC, a read-only file system except `folder`, and
//! optionally an unprivileged uid.

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use anyhow::Result;

use super::{Limits, SANDBOX_PATH};

/// What [`isolate`] does besides the always-on parts.
#[derive(Debug, Clone, Copy)]
pub(super) struct Isolation {
    /// CPU-seconds limit (`None`: unlimited, for a long-lived worker).
    pub cpu_seconds: Option<u64>,
    /// As root: namespaces (network, mount with everything but the folder read-only).
    pub namespaces: bool,
    /// As root: the uid to run as, with the process limit.
    pub uid: Option<u32>,
}

/// Configures `command` to start isolated in `folder` under `limits`.
pub(super) fn isolate(
    command: &mut Command,
    folder: &Path,
    limits: Limits,
    isolation: Isolation,
) -> Result<()> {
    command
        .current_dir(folder)
        .env_clear()
        .env("PATH", SANDBOX_PATH)
        .env("HOME", folder)
        .env("TMPDIR", folder)
        .env("LANG", "C.UTF-8")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    // Prepared before fork: the child may not allocate.
    let folder = CString::new(folder.as_os_str().as_bytes())?;
    let writable_mounts = if isolation.namespaces {
        writable_mount_points()
    } else {
        Vec::new()
    };
    // SAFETY: the closure runs in the child between fork and exec and only makes
    // async-signal-safe system calls (setsid, setrlimit, unshare, mount, setgroups, setgid, setuid).
    unsafe {
        command.pre_exec(move || {
            libc::setsid();
            // A sandboxed process is the first the kernel's OOM killer takes (not the harness
            // holding the model), and no setuid binary can raise its privileges.
            let adjust = libc::open(c"/proc/self/oom_score_adj".as_ptr(), libc::O_WRONLY);
            if adjust >= 0 {
                libc::write(adjust, b"1000".as_ptr().cast(), 4);
                libc::close(adjust);
            }
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            if let Some(seconds) = isolation.cpu_seconds {
                set_cpu_limit(seconds);
            }
            set_limit(libc::RLIMIT_AS, limits.memory_bytes);
            set_limit(libc::RLIMIT_FSIZE, limits.file_bytes);
            set_limit(libc::RLIMIT_CORE, 0);
            if isolation.namespaces {
                // No network (a fresh namespace has only a downed loopback), and every file
                // system read-only except the folder. Best effort: some container runtimes
                // forbid namespaces.
                libc::unshare(libc::CLONE_NEWNET | libc::CLONE_NEWIPC);
                if libc::unshare(libc::CLONE_NEWNS) == 0 {
                    let none = std::ptr::null();
                    libc::mount(
                        none,
                        c"/".as_ptr(),
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
            }
            if let Some(uid) = isolation.uid {
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
    Ok(())
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

/// CPU seconds: SIGXCPU at the soft limit (reported as a timeout), SIGKILL a second later.
fn set_cpu_limit(seconds: u64) {
    let limit = libc::rlimit {
        rlim_cur: seconds,
        rlim_max: seconds + 1,
    };
    // SAFETY: plain system call on a valid struct.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CPU, &limit);
    }
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
