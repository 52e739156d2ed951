//! Calibration of worker processes: a setup measured as N model instances running at once, each
//! in its own process on cores/N threads — what a `--workers N` run does — so whether workers
//! help is measured, not assumed.
//!
//! The parent starts N copies of its own binary (`yardstick calibrate-probe`, hidden), sends
//! each the model file and setup as one JSON line, waits until every copy has loaded, then
//! sends `go` to all at once: the copies time the same short and long request as the one-process
//! calibration while competing for the cores, caches and memory bandwidth as workers do.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::calibration::{measure, Cost, Timing};
use super::workers::run_child;
use crate::backend::mistralrs::{MistralRsBackend, MistralRsOptions};
use crate::backend::Setup;

/// A setup measured as `instances` concurrent processes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConcurrentCost {
    /// The setup every instance ran.
    pub setup: Setup,
    /// Instances at once (each on cores/instances threads).
    pub instances: usize,
    /// One instance's cost model while all ran (the mean over instances).
    pub cost: Cost,
    /// Seconds the slowest instance took to load the model.
    pub load_seconds: f64,
}

/// What the parent sends a probe.
#[derive(Debug, Serialize, Deserialize)]
struct ProbeRequest {
    gguf: PathBuf,
    setup: Setup,
}

/// What a probe answers once measured.
#[derive(Debug, Serialize, Deserialize)]
struct ProbeResult {
    cost: Cost,
    load_seconds: f64,
}

/// The line a probe prints once loaded, and the one it waits for before measuring.
const READY: &str = "ready";
const GO: &str = "go";

/// Measures `setup` on the model file `gguf` as `instances` processes at once, each on
/// `threads` threads.
pub fn measure_concurrent(
    gguf: &std::path::Path,
    setup: Setup,
    instances: usize,
    threads: usize,
) -> Result<ConcurrentCost> {
    let exe = std::env::current_exe().context("cannot find the yardstick executable")?;
    let request = serde_json::to_string(&ProbeRequest {
        gguf: gguf.to_path_buf(),
        setup,
    })?;
    let mut probes = (0..instances)
        .map(|_| Probe::start(&exe, threads, &request))
        .collect::<Result<Vec<_>>>()?;
    for probe in &mut probes {
        probe.expect_line(READY)?;
    }
    for probe in &mut probes {
        writeln!(probe.stdin, "{GO}").context("a calibration probe stopped before measuring")?;
        probe.stdin.flush()?;
    }
    let results = probes
        .iter_mut()
        .map(Probe::result)
        .collect::<Result<Vec<_>>>()?;
    Ok(ConcurrentCost {
        setup,
        instances,
        cost: mean_cost(&results),
        load_seconds: results.iter().map(|r| r.load_seconds).fold(0.0, f64::max),
    })
}

/// The mean of the probes' cost models, field by field.
fn mean_cost(results: &[ProbeResult]) -> Cost {
    let n = results.len().max(1) as f64;
    let mean = |pick: fn(&Cost) -> Timing| {
        let sum = results.iter().map(|r| pick(&r.cost)).fold(
            Timing {
                prompt_tokens: 0.0,
                prefill_seconds: 0.0,
                decoded_tokens: 0.0,
                decode_seconds: 0.0,
            },
            |acc, t| Timing {
                prompt_tokens: acc.prompt_tokens + t.prompt_tokens,
                prefill_seconds: acc.prefill_seconds + t.prefill_seconds,
                decoded_tokens: acc.decoded_tokens + t.decoded_tokens,
                decode_seconds: acc.decode_seconds + t.decode_seconds,
            },
        );
        Timing {
            prompt_tokens: sum.prompt_tokens / n,
            prefill_seconds: sum.prefill_seconds / n,
            decoded_tokens: sum.decoded_tokens / n,
            decode_seconds: sum.decode_seconds / n,
        }
    };
    Cost {
        short: mean(|c| c.short),
        long: mean(|c| c.long),
    }
}

/// One running probe process.
struct Probe {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Probe {
    fn start(exe: &std::path::Path, threads: usize, request: &str) -> Result<Self> {
        // A run child: a terminal's Ctrl-C stops the run after calibration (as it stops any run
        // between samples), not the probes in the middle of a measurement.
        let mut command = Command::new(exe);
        let mut child = run_child(command.arg("calibrate-probe"), threads)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start a calibration probe")?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        writeln!(stdin, "{request}").context("cannot write to a calibration probe")?;
        stdin.flush()?;
        Ok(Self {
            child,
            stdin,
            stdout,
        })
    }

    /// Reads the probe's next line; an error when it is not `expected`.
    fn expect_line(&mut self, expected: &str) -> Result<()> {
        let line = self.read_line()?;
        if line.trim() != expected {
            bail!("a calibration probe said {line:?} instead of {expected:?}");
        }
        Ok(())
    }

    fn read_line(&mut self) -> Result<String> {
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        if line.is_empty() {
            let status = self.child.wait()?;
            bail!("a calibration probe stopped ({status}); its error, if any, is above");
        }
        Ok(line)
    }

    /// The probe's measurement, once it has exited.
    fn result(&mut self) -> Result<ProbeResult> {
        let line = self.read_line()?;
        let result = serde_json::from_str(&line)
            .with_context(|| format!("a calibration probe answered {line:?}"))?;
        self.child.wait()?;
        Ok(result)
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}

/// The probe's side (`yardstick calibrate-probe`): reads the request from standard input, loads
/// the model, says it is ready, waits for `go`, measures and prints the result as JSON.
pub fn serve_probe() -> Result<()> {
    let mut input = std::io::stdin().lock();
    let mut line = String::new();
    input.read_line(&mut line)?;
    let request: ProbeRequest = serde_json::from_str(&line)
        .context("calibrate-probe reads one JSON request on standard input (calibration only)")?;
    let started = Instant::now();
    let backend = MistralRsBackend::load(
        &request.gguf,
        MistralRsOptions {
            dtype: request.setup.dtype,
            weights: request.setup.weights,
            prefix_cache: false,
            ..MistralRsOptions::default()
        },
    )?;
    let load_seconds = started.elapsed().as_secs_f64();
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{READY}")?;
    stdout.flush()?;
    line.clear();
    input.read_line(&mut line)?;
    if line.trim() != GO {
        bail!("calibrate-probe: expected {GO:?}, got {line:?}");
    }
    let (cost, _) = measure(&backend)?;
    let result = ProbeResult { cost, load_seconds };
    writeln!(stdout, "{}", serde_json::to_string(&result)?)?;
    stdout.flush()?;
    Ok(())
}
