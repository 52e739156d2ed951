//! Stopping a run cleanly on SIGINT (Ctrl-C) or SIGTERM (a scheduler's preemption, a job
//! timeout): the first signal is recorded and the runner stops before its next generation, after
//! the sample in flight is finished and written; a second signal ends the process at once.

use std::sync::atomic::{AtomicI32, Ordering};

/// The first stop signal received (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// Installs the handlers for SIGINT and SIGTERM (call once, early in `main`).
pub fn install() {
    let handler: extern "C" fn(libc::c_int) = on_signal;
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a plain sigaction with a handler that only makes async-signal-safe calls
        // (an atomic swap, write(2), _exit).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handler as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

extern "C" fn on_signal(signal: libc::c_int) {
    if SIGNAL.swap(signal, Ordering::SeqCst) == 0 {
        const MESSAGE: &[u8] =
            b"\nstopping after the sample in flight (signal again to stop at once)\n";
        // SAFETY: write(2) is async-signal-safe.
        unsafe {
            libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
        }
    } else {
        const MESSAGE: &[u8] = b"\nsecond signal: stopping now\n";
        // SAFETY: write(2) and _exit(2) are async-signal-safe.
        unsafe {
            libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
            libc::_exit(128 + signal);
        }
    }
}

/// The stop signal received so far, if any.
pub fn requested() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// A run stopped by a signal after `done` of its `planned` samples (those are written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    /// The signal (SIGINT or SIGTERM).
    pub signal: i32,
    /// Samples written, the resumed ones included.
    pub done: usize,
    /// Samples in the plan (this process's shard).
    pub planned: usize,
    /// The run id, for `run --resume`.
    pub run_id: String,
}

impl Interrupted {
    /// The conventional exit status: 128 + the signal (130 for SIGINT, 143 for SIGTERM).
    pub fn exit_status(&self) -> u8 {
        u8::try_from(128 + self.signal).unwrap_or(130)
    }
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "interrupted after {} of {} samples; continue with `yardstick run --resume {}`",
            self.done, self.planned, self.run_id
        )
    }
}

impl std::error::Error for Interrupted {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_is_128_plus_the_signal() {
        let stopped = |signal| Interrupted {
            signal,
            done: 3,
            planned: 8,
            run_id: "r".into(),
        };
        assert_eq!(stopped(libc::SIGINT).exit_status(), 130);
        assert_eq!(stopped(libc::SIGTERM).exit_status(), 143);
        assert_eq!(
            stopped(libc::SIGTERM).to_string(),
            "interrupted after 3 of 8 samples; continue with `yardstick run --resume r`"
        );
    }
}
