//! `yardstick perf`: load each model, measure it (see [`crate::perf`]), add the roofline and the
//! cost per 1M tokens at each concurrency, print, and keep the JSON under results/perf/.

use anyhow::{Context, Result};

use crate::backend::{ActivationDtype, BackendLoader, MistralRsLoader, Setup, Weights};
use crate::cli::PerfArgs;
use crate::gguf;
use crate::hardware::choose_profile;
use crate::locations::Locations;
use crate::machine::MachineInfo;
use crate::models::{pull, ModelCache};
use crate::perf::bandwidth::{read_bandwidth, DEFAULT_BUFFER_BYTES};
use crate::perf::render;
use crate::perf::{measure, PerfOptions, PerfReport, Roofline};

pub(super) fn run(args: PerfArgs, locations: &Locations) -> Result<()> {
    let registry = crate::config::registry(locations)?;
    let models = if args.models.is_empty() {
        vec![registry.default_model()]
    } else {
        args.models
            .iter()
            .map(|id| registry.get(id))
            .collect::<Result<Vec<_>>>()?
    };
    let hardware = choose_profile(
        &crate::config::hardware(locations)?,
        args.hardware.as_deref(),
        &MachineInfo::current(),
        None,
    )?;
    let results_dir = args
        .results_dir
        .clone()
        .unwrap_or_else(|| locations.results_dir());
    let options = PerfOptions {
        workloads: args.workloads.clone(),
        repetitions: args.repetitions as usize,
        concurrency: if args.no_sweep {
            Vec::new()
        } else {
            args.concurrency.iter().map(|&c| c as usize).collect()
        },
        sweep_workload: args.sweep_workload,
    };
    let loader = MistralRsLoader::new(ModelCache::new(locations.models_dir()))
        .with_load_path(args.load_path.into());
    let setup = Setup {
        dtype: ActivationDtype::from(args.dtype).resolve(),
        weights: if args.dequantize {
            Weights::Dequantized
        } else {
            Weights::Quantized
        },
        prefix_cache: false,
    };

    eprintln!(
        "measuring memory read bandwidth ({} MiB, all cores)…",
        DEFAULT_BUFFER_BYTES >> 20
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let bandwidth = read_bandwidth(DEFAULT_BUFFER_BYTES, cores, 5);

    let mut reports: Vec<PerfReport> = Vec::new();
    for model in models {
        let path = if args.no_pull {
            loader.cache.verified_path(model)?
        } else {
            pull(&loader.cache, &registry, model)?
        };
        let summary = gguf::inspect(&path)?;
        // Dequantized weights are read as F32: 4 bytes per parameter.
        let bytes_per_token = match setup.weights {
            Weights::Quantized => summary.bytes_per_token,
            Weights::Dequantized => {
                (summary.bytes_per_token as f64 * (summary.parameters * 4) as f64
                    / summary.tensor_bytes.max(1) as f64) as u64
            }
        };
        let backend = loader.load(model, setup)?;
        let mut report = measure(&model.id, backend.as_ref(), &options, &|step| {
            eprintln!("  {step}")
        })?;
        drop(backend);
        let decode = report
            .workloads
            .first()
            .and_then(|w| w.decode_tokens_per_second)
            .map(|d| d.mean);
        report.roofline = Some(Roofline::new(bandwidth, bytes_per_token, decode));
        if let Some(hardware) = &hardware {
            report.price_with(hardware);
        }
        save(&results_dir, &report)?;
        reports.push(report);
    }
    if args.json || args.csv {
        // The table carries these; machine-readable output gets them on stderr.
        for report in &reports {
            for warning in render::sweep_warnings(report) {
                eprintln!("warning: {}: {warning}", report.model);
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else if args.csv {
        print!("{}", render::csv(&reports)?);
    } else {
        print!("{}", render::table(&reports));
        if let Some(hardware) = &hardware {
            println!(
                "\ncosts at ${}/h ({}; {}, {})",
                hardware.usd_per_hour, hardware.name, hardware.source, hardware.date
            );
        }
    }
    Ok(())
}

/// Writes `results/perf/<time>-<model>.json` atomically.
fn save(results_dir: &std::path::Path, report: &PerfReport) -> Result<()> {
    let folder = results_dir.join("perf");
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let path = folder.join(format!("{stamp}-{}.json", report.model));
    crate::files::write_atomic(&path, &serde_json::to_vec_pretty(report)?)
}
