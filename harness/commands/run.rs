//! `yardstick run`: select models and tasks, prepare the plan, pull models, execute, print the
//! summary table.

use std::path::PathBuf;
use std::time::Instant;

use clap::ValueEnum;

use anyhow::{bail, Context, Result};

use crate::backend::mistralrs::{
    ActivationDtype, LoadPath, MistralRsBackend, MistralRsOptions, MISTRALRS_VERSION,
};
use crate::backend::{Backend, Sampling};
use crate::cli::{RunArgs, Workers};
use crate::data::DataCache;
use crate::hardware::{HardwareProfile, HardwareProfiles};
use crate::locations::Locations;
use crate::machine::MachineInfo;
use crate::models::{pull, ModelCache, ModelEntry, Registry};
use crate::report::table;
use crate::runner::{self, BackendLoader, RunPlan};
use crate::scoring::{executes_code, sandbox};
use crate::store::{new_run_id, Manifest, RunDir};
use crate::tasks::{Task, TaskSet};

/// Items per task when neither `--limit` nor `--full` is given: minutes on a laptop CPU.
pub const DEFAULT_LIMIT: usize = 5;

/// Suites run when no task or suite is named. The default suite opts in to executing generated
/// code (in the sandbox) with a printed notice.
pub const DEFAULT_SUITES: &[&str] = &["code", "math", "biomedical"];

/// Runs `args`; `command_line` is the `yardstick run …` command they were parsed from (recorded
/// in the manifest, and repeated by each worker process with its shard).
pub(super) fn run(args: RunArgs, locations: &Locations, command_line: Vec<String>) -> Result<()> {
    // Ctrl-C or SIGTERM stops the run cleanly between samples (a second one at once).
    crate::interrupt::install();
    let registry = Registry::load(&locations.registry_file())?;
    let task_set = TaskSet::discover(&locations.tasks_dir())?;
    let data = DataCache::new(locations.data_dir());
    let results_dir = args
        .results_dir
        .clone()
        .unwrap_or_else(|| locations.results_dir());
    let cache = ModelCache::new(locations.models_dir());
    let (plan, run_dir, manifest, done, loader) = match &args.resume {
        Some(run_id) => {
            // The run folder is locked first: a second process on the same run stops here.
            let (run_dir, manifest, done) = RunDir::resume(&results_dir, run_id)?;
            let plan = plan_from_manifest(&manifest, &registry, &task_set, &data, results_dir)?;
            let dtype = manifest
                .dtype
                .as_deref()
                .and_then(|d| ActivationDtype::from_str(d, true).ok())
                .unwrap_or(args.dtype);
            eprintln!(
                "resuming {run_id}: {} of its samples are already done",
                done.len()
            );
            (
                plan,
                run_dir,
                manifest,
                done,
                MistralRsLoader::new(cache, dtype),
            )
        }
        None => {
            let plan = plan_from_args(&args, &registry, &task_set, &data, results_dir)?;
            if args.dry_run {
                print!("{}", describe_plan(&plan));
                return Ok(());
            }
            let hardware = hardware_profile(args.hardware.as_deref(), locations)?;
            let workers = match args.workers {
                Workers::Count(n) => n,
                Workers::Auto => auto_workers(&plan.models),
            };
            if workers > 1 {
                // Models are pulled once here; the workers run with --no-pull.
                for model in &plan.models {
                    if args.no_pull {
                        cache.verified_path(model)?;
                    } else {
                        pull(&cache, &registry, model)?;
                    }
                }
                return super::workers::run_with_workers(
                    workers,
                    &command_line,
                    &plan.run_id,
                    &plan.results_dir,
                    &task_set,
                );
            }
            let loader = MistralRsLoader::new(cache, args.dtype);
            let mut manifest = runner::new_manifest(&plan, &loader, command_line);
            manifest.dtype = Some(args.dtype.resolve().as_str().to_string());
            manifest.hardware = hardware;
            // Created, with its manifest, before any long download: an unwritable results
            // folder fails fast, and a run interrupted while pulling can be resumed.
            let run_dir = RunDir::create(&plan.results_dir, &plan.run_id)?;
            run_dir.write_manifest(&manifest)?;
            (plan, run_dir, manifest, Vec::new(), loader)
        }
    };
    for model in &plan.models {
        let fetched = if args.no_pull {
            loader.cache.verified_path(model)
        } else {
            pull(&loader.cache, &registry, model)
        };
        if let Err(err) = fetched {
            if args.resume.is_none() {
                // Nothing but the manifest was written into the new run folder: leave no empty
                // run behind.
                std::fs::remove_dir_all(run_dir.path()).ok();
            }
            return Err(err);
        }
    }

    eprintln!(
        "run {}: {} model(s) × {} task(s), {}",
        plan.run_id,
        plan.models.len(),
        plan.tasks.len(),
        plan.limit.map_or("all items".to_string(), |l| format!(
            "up to {l} items per task"
        ))
    );
    let outcome = runner::execute(&plan, run_dir, &loader, manifest, done)?;
    print!("{}", table::render_summary(&outcome.summary));
    println!("results written to {}", outcome.run_dir.display());
    Ok(())
}

/// The plan for people (`run --dry-run`): models, then each task with its suite and items.
fn describe_plan(plan: &RunPlan) -> String {
    let mut out = format!(
        "plan {}: {} model(s) × {} task(s), {}, {} sample(s) per item\n",
        plan.run_id,
        plan.models.len(),
        plan.tasks.len(),
        plan.limit.map_or("all items".to_string(), |l| format!(
            "up to {l} items per task"
        )),
        plan.samples_per_item
    );
    for model in &plan.models {
        out.push_str(&format!("model {}\n", model.id));
    }
    for prepared in &plan.tasks {
        out.push_str(&format!(
            "task {} (suite {}): {} items\n",
            prepared.task.name(),
            prepared.task.spec.suite,
            prepared.items.len()
        ));
    }
    out
}

/// The price profile named on the command line, else the one matching this machine.
pub(super) fn hardware_profile(
    name: Option<&str>,
    locations: &Locations,
) -> Result<Option<HardwareProfile>> {
    let path = locations.hardware_file();
    if name.is_none() && !path.exists() {
        return Ok(None);
    }
    let profiles = HardwareProfiles::load(&path)?;
    Ok(match name {
        Some(name) => Some(profiles.get(name)?.clone()),
        None => profiles.matching(&MachineInfo::current()).cloned(),
    })
}

/// Workers for `--workers auto`: one per core, as many as 80% of the machine's memory holds
/// instances of the largest model (about 2.5 × its file plus 256 MB each, as measured: SmolLM2's
/// 98 MB file peaks at 0.5 GB, Qwen2.5-Coder-0.5B's 491 MB at 1.2 GB).
fn auto_workers(models: &[ModelEntry]) -> usize {
    let machine = MachineInfo::current();
    let largest = models.iter().map(|m| m.size_bytes).max().unwrap_or(0);
    let per_instance = largest * 5 / 2 + (256 << 20);
    let by_memory = machine
        .memory_bytes
        .map_or(1, |memory| (memory * 4 / 5 / per_instance.max(1)) as usize);
    let workers = machine.logical_cores.min(by_memory).max(1);
    eprintln!(
        "--workers auto: {workers} ({} cores, {} GiB memory, ~{} MB per model instance)",
        machine.logical_cores,
        machine.memory_bytes.map_or(0, |m| m >> 30),
        per_instance >> 20
    );
    workers
}

/// The plan a new run's command line asks for.
fn plan_from_args<'t>(
    args: &RunArgs,
    registry: &Registry,
    task_set: &'t TaskSet,
    data: &DataCache,
    results_dir: PathBuf,
) -> Result<RunPlan<'t>> {
    let models: Vec<ModelEntry> = if args.models.is_empty() {
        vec![registry.default_model().clone()]
    } else {
        args.models
            .iter()
            .map(|id| registry.get(id).cloned())
            .collect::<Result<_>>()?
    };
    let default_suite = args.tasks.is_empty() && args.suites.is_empty();
    let suites: Vec<String> = if default_suite {
        DEFAULT_SUITES.iter().map(|s| s.to_string()).collect()
    } else {
        args.suites.clone()
    };
    let selected = task_set.select(&args.tasks, &suites)?;
    if !args.predict_only {
        confirm_code_execution(&selected, args.allow_code_exec, default_suite)?;
    }
    if args.samples > 1 && args.temperature <= 0.0 {
        bail!(
            "--samples {} needs --temperature above 0: greedy samples are all identical",
            args.samples
        );
    }
    let limit = if args.full {
        None
    } else {
        Some(args.limit.map_or(DEFAULT_LIMIT, |l| l as usize))
    };
    Ok(RunPlan {
        run_id: args.run_id.clone().unwrap_or_else(new_run_id),
        models,
        tasks: RunPlan::prepare_tasks(&selected, data, limit)?,
        limit,
        sampling: Sampling {
            temperature: args.temperature,
            seed: None,
        },
        samples_per_item: args.samples as usize,
        max_new_tokens: args.max_new_tokens.map(|n| n as usize),
        results_dir,
        shard: args.shard,
        predict_only: args.predict_only,
    })
}

/// The plan recorded in a run's manifest, checked against today's registry and task specs: a
/// resumed run must produce what the interrupted one would have.
fn plan_from_manifest<'t>(
    manifest: &Manifest,
    registry: &Registry,
    task_set: &'t TaskSet,
    data: &DataCache,
    results_dir: PathBuf,
) -> Result<RunPlan<'t>> {
    let mut models = Vec::new();
    for recorded in &manifest.models {
        let model = registry.get(&recorded.id)?;
        if model.sha256 != recorded.sha256 {
            bail!(
                "cannot resume {}: model {} now pins sha256 {}, the run used {}",
                manifest.run_id,
                model.id,
                model.sha256,
                recorded.sha256
            );
        }
        models.push(model.clone());
    }
    let mut selected = Vec::new();
    let mut max_new_tokens = None;
    for recorded in &manifest.tasks {
        let task = task_set.get(&recorded.name)?;
        if task.spec.version != recorded.version {
            bail!(
                "cannot resume {}: task {} is at version {}, the run used version {}",
                manifest.run_id,
                recorded.name,
                task.spec.version,
                recorded.version
            );
        }
        if recorded.max_new_tokens != task.spec.generation.max_new_tokens {
            max_new_tokens = Some(recorded.max_new_tokens);
        }
        selected.push(task);
    }
    Ok(RunPlan {
        run_id: manifest.run_id.clone(),
        models,
        tasks: RunPlan::prepare_tasks(&selected, data, manifest.limit)?,
        limit: manifest.limit,
        sampling: manifest.sampling,
        samples_per_item: manifest.samples_per_item,
        max_new_tokens,
        results_dir,
        shard: manifest.shard,
        predict_only: manifest.predict_only,
    })
}

/// Code tasks run model-generated code: they need `--allow-code-exec`, except in the default
/// suite, which opts in with a notice (as the reference harnesses ask for explicit consent).
pub(super) fn confirm_code_execution(
    tasks: &[&Task],
    allowed: bool,
    default_suite: bool,
) -> Result<()> {
    let executing: Vec<&str> = tasks
        .iter()
        .filter(|t| executes_code(t))
        .map(|t| t.name())
        .collect();
    if executing.is_empty() || allowed {
        return Ok(());
    }
    if default_suite {
        eprintln!(
            "notice: the default suite runs {} which executes model-generated code; it runs \
             sandboxed ({}). Name suites or tasks to leave it out.",
            executing.join(", "),
            sandbox::isolation()
        );
        return Ok(());
    }
    bail!(
        "task {} executes model-generated code; rerun with --allow-code-exec to allow it \
         (it runs sandboxed: {})",
        executing.join(", "),
        sandbox::isolation()
    )
}

/// Loads verified GGUFs from the cache into mistral.rs.
pub(super) struct MistralRsLoader {
    pub(super) cache: ModelCache,
    options: MistralRsOptions,
}

impl MistralRsLoader {
    pub(super) fn new(cache: ModelCache, dtype: ActivationDtype) -> Self {
        Self {
            cache,
            options: MistralRsOptions {
                dtype,
                ..MistralRsOptions::default()
            },
        }
    }

    /// Loads through `load_path` instead of the default loader.
    pub(super) fn with_load_path(mut self, load_path: LoadPath) -> Self {
        self.options.load_path = load_path;
        self
    }
}

impl BackendLoader for MistralRsLoader {
    fn load(&self, model: &ModelEntry) -> Result<Box<dyn Backend>> {
        let path = self.cache.verified_path(model)?;
        let started = Instant::now();
        eprintln!("loading {} ({})", model.id, path.display());
        let backend = MistralRsBackend::load(&path, self.options)
            .with_context(|| format!("model {} did not load", model.id))?;
        eprintln!(
            "loaded {} in {:.1}s",
            model.id,
            started.elapsed().as_secs_f64()
        );
        Ok(Box::new(backend))
    }

    fn backend_name(&self) -> (String, String) {
        ("mistral.rs".into(), MISTRALRS_VERSION.into())
    }
}
