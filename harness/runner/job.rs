//! A run from start to finish, for `yardstick run` and `yardstick nightly` alike: a new run from
//! a [`RunRequest`], or an interrupted one resumed from its manifest — the run folder written
//! first, models pulled, then one process or worker processes, then the summary.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;

use super::calibration::{
    calibrate, candidates, choose, Choice, Instances, ModelChoice, TaskShape, WorkersPlan,
    WORKERS_MIN_SAVING,
};
use super::plan::{Catalog, RunPlan, RunRequest};
use super::workers::{run_in_workers, WorkerCount};
use super::{execute, new_manifest};
use crate::backend::{
    ActivationDtype, ComputeDevice, MistralRsLoader, Setup, SetupRequest, Weights,
};
use crate::config;
use crate::data::DataCache;
use crate::gguf;
use crate::hardware::{choose_profile, HardwareProfiles};
use crate::locations::Locations;
use crate::machine::MachineInfo;
use crate::models::{pull, ModelCache, ModelEntry, Registry};
use crate::store::{Manifest, RunDir, RunOutcome, SampleRecord};
use crate::tasks::TaskSet;

/// Where a run's inputs come from and its results go.
#[derive(Debug)]
pub struct Workspace {
    /// Models.
    pub registry: Registry,
    /// Task specs.
    pub tasks: TaskSet,
    /// Dataset cache.
    pub data: DataCache,
    /// Model cache.
    pub models: ModelCache,
    /// Hardware price profiles (every configuration layer's).
    pub hardware: HardwareProfiles,
    /// Cached calibrations.
    pub calibration_dir: PathBuf,
    /// Where `runs/<run-id>/` are written.
    pub results_dir: PathBuf,
    /// `--tasks-dir` folders, passed on to worker processes.
    pub task_dirs: Vec<PathBuf>,
}

impl Workspace {
    /// The registry, tasks and caches of `locations`; results in `results_dir` (default: the
    /// project's results/).
    pub fn open(locations: &Locations, results_dir: Option<PathBuf>) -> Result<Self> {
        Ok(Self {
            registry: config::registry(locations)?,
            tasks: config::tasks(locations)?,
            data: DataCache::new(locations.data_dir()),
            models: ModelCache::new(locations.models_dir()),
            hardware: config::hardware(locations)?,
            calibration_dir: locations.calibration_dir(),
            results_dir: results_dir.unwrap_or_else(|| locations.results_dir()),
            task_dirs: locations.task_dirs.clone(),
        })
    }

    /// What plans are built from.
    pub fn catalog(&self) -> Catalog<'_> {
        Catalog {
            registry: &self.registry,
            tasks: &self.tasks,
            data: &self.data,
        }
    }

    /// The plan of a new run of `request`.
    pub fn plan(&self, request: &RunRequest) -> Result<RunPlan<'_>> {
        RunPlan::new(request, self.catalog(), self.results_dir.clone())
    }
}

/// How a run executes: settings that change its speed or cost figures, not what it computes.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Activation dtype; `best`: the faster of F32 and mistral.rs's automatic choice, measured
    /// (a resumed run keeps the setups it started with).
    pub dtype: ActivationDtype,
    /// Weights; `None`: per task, quantized or dequantized, whichever calibration finds faster.
    pub weights: Option<Weights>,
    /// Prefix cache; `None`: on for tasks whose prompts mostly share their start.
    pub prefix_cache: Option<bool>,
    /// Hardware price profile by name (default: the one matching this machine).
    pub hardware: Option<String>,
    /// Worker processes.
    pub workers: WorkerCount,
    /// Fetch missing models (otherwise they must be in the cache).
    pub pull: bool,
    /// Where models run (a resumed run keeps its own).
    pub device: ComputeDevice,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            dtype: ActivationDtype::Best,
            weights: None,
            prefix_cache: None,
            hardware: None,
            workers: WorkerCount::Best,
            pull: true,
            device: ComputeDevice::best_compiled(),
        }
    }
}

/// Starts the new run `request` asks for; `command` is recorded in its manifest.
pub fn start(
    request: &RunRequest,
    settings: &RunSettings,
    workspace: &Workspace,
    command: Vec<String>,
) -> Result<RunOutcome> {
    let plan = workspace.plan(request)?;
    let machine = MachineInfo::current();
    let instances = measured_only_where_possible(
        settings.workers.resolve(&plan.models, &machine),
        settings.device,
        plan.shard.is_some(),
    );
    settings.device.check_compiled()?;
    let loader = MistralRsLoader::new(workspace.models.clone()).with_device(settings.device);
    let gpu = (!settings.device.is_cpu()).then(|| settings.device.describe());
    let request = SetupRequest {
        dtype: settings.dtype,
        weights: settings.weights,
        prefix_cache: settings.prefix_cache,
        measure_workers: matches!(instances, Instances::Measured(_)),
    };
    let mut manifest = Manifest {
        dtype: Some(settings.dtype),
        setup_request: Some(request),
        hardware: choose_profile(
            &workspace.hardware,
            settings.hardware.as_deref(),
            &machine,
            gpu.as_ref(),
        )?,
        device: settings.device,
        device_info: gpu.clone(),
        workers: match instances {
            Instances::Fixed(n) if n > 1 => Some(n),
            _ => None,
        },
        ..new_manifest(&plan, &loader, command)
    };
    // Created, with its manifest, before any long download: an unwritable results folder fails
    // fast, and a run interrupted while pulling can be resumed.
    let run_dir = RunDir::create(&plan.results_dir, &plan.run_id)?;
    run_dir.write_manifest(&manifest)?;
    let prepared = fetch(&plan.models, workspace, settings.pull)
        .and_then(|()| choose_setups(&plan, request, instances, workspace, &loader));
    match prepared {
        Ok(choice) => {
            manifest.setups = choice.setups;
            manifest.workers = (choice.workers > 1).then_some(choice.workers);
        }
        Err(err) => {
            // Nothing but the manifest was written: leave no empty run behind.
            std::fs::remove_dir_all(run_dir.path()).ok();
            return Err(err);
        }
    }
    run_dir.write_manifest(&manifest)?;
    proceed(plan, run_dir, manifest, Vec::new(), workspace, loader)
}

/// Continues the interrupted run `run_id` (its plan and dtype come from its manifest).
pub fn resume(run_id: &str, settings: &RunSettings, workspace: &Workspace) -> Result<RunOutcome> {
    // The run folder is locked first: a second process on the same run stops here.
    let (run_dir, mut manifest, done) = RunDir::resume(&workspace.results_dir, run_id)?;
    let plan = RunPlan::resumed(
        &manifest,
        workspace.catalog(),
        workspace.results_dir.clone(),
    )?;
    eprintln!(
        "resuming {run_id}: {} of its samples are already done",
        done.len()
    );
    fetch(&plan.models, workspace, settings.pull)?;
    manifest.device.check_compiled()?;
    let loader = MistralRsLoader::new(workspace.models.clone()).with_device(manifest.device);
    if let (true, Some(request)) = (manifest.setups.is_empty(), manifest.setup_request) {
        // Stopped before its setups were chosen (while pulling or calibrating).
        let instances = match request.measure_workers {
            true => measured_only_where_possible(
                WorkerCount::Best.resolve(&plan.models, &MachineInfo::current()),
                manifest.device,
                plan.shard.is_some(),
            ),
            false => Instances::Fixed(manifest.workers.unwrap_or(1)),
        };
        let choice = choose_setups(&plan, request, instances, workspace, &loader)?;
        manifest.setups = choice.setups;
        manifest.workers = (choice.workers > 1).then_some(choice.workers);
        run_dir.write_manifest(&manifest)?;
    }
    proceed(plan, run_dir, manifest, done, workspace, loader)
}

/// `instances`, with the choice of worker processes left out where it does not apply: on a GPU
/// (calibration measures CPU kernels) and in a shard of a run split by hand (`--shard`), which
/// always runs in one process.
fn measured_only_where_possible(
    instances: Instances,
    device: ComputeDevice,
    shard: bool,
) -> Instances {
    match instances {
        Instances::Measured(_) if !device.is_cpu() || shard => Instances::Fixed(1),
        instances => instances,
    }
}

/// The share of a task's prompt its items must have in common for the prefix cache to be on
/// (unless forced): the few-shot tasks, whose exemplars are most of every prompt.
const PREFIX_CACHE_SHARE: f64 = 0.5;

/// Model → task → setup and the number of processes: forced by the request, or chosen by
/// calibration.
fn choose_setups(
    plan: &RunPlan,
    request: SetupRequest,
    instances: Instances,
    workspace: &Workspace,
    loader: &MistralRsLoader,
) -> Result<Choice> {
    let machine = MachineInfo::current();
    let most = match instances {
        Instances::Fixed(n) | Instances::Measured(n) => n.max(1),
    };
    let models = plan
        .models
        .iter()
        .map(|model| {
            let path = workspace.models.verified_path(model)?;
            let summary = gguf::inspect(&path)?;
            let parameters = summary.parameters;
            let candidates_for =
                |n| candidates(request.dtype, request.weights, parameters, n, &machine);
            let alone = match instances {
                Instances::Fixed(n) => n,
                Instances::Measured(_) => 1,
            };
            Ok(ModelChoice {
                model,
                candidates: candidates_for(alone),
                workers_candidates: candidates_for(most),
                kv_values_per_token: summary.kv_values_per_token,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let tasks = plan
        .tasks
        .iter()
        .map(|prepared| {
            let max_new_tokens = plan
                .max_new_tokens
                .unwrap_or(prepared.task.spec.generation.max_new_tokens);
            let prompt_chars = prepared.mean_prompt_chars()?;
            let shared_prefix_chars = prepared.shared_prefix_chars()?;
            let multiple_choice = prepared.task.multiple_choice().is_some();
            if multiple_choice && request.prefix_cache == Some(true) {
                anyhow::bail!(
                    "task {} is scored by log-likelihood, which mistral.rs computes only with \
                     its prefix cache off: drop --prefix-cache on or this task",
                    prepared.task.name()
                );
            }
            Ok(TaskShape {
                task: prepared.task.name().to_string(),
                prompt_chars,
                shared_prefix_chars,
                // Multiple choice generates nothing: one prefill per choice (or one in all, see
                // `choices`).
                output_tokens: if multiple_choice {
                    0.0
                } else {
                    max_new_tokens as f64 / 2.0
                },
                prefix_cache: !multiple_choice
                    && request
                        .prefix_cache
                        .unwrap_or(shared_prefix_chars >= PREFIX_CACHE_SHARE * prompt_chars),
                items: (prepared.items.len() * plan.samples_per_item) as f64,
                choices: prepared.mean_choices()?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if !loader.device().is_cpu() {
        return Ok(Choice {
            setups: gpu_setups(plan, request, &tasks),
            workers: match instances {
                Instances::Fixed(n) => n.max(1),
                Instances::Measured(_) => 1,
            },
            estimate: None,
        });
    }
    let choice = choose(
        &models,
        &tasks,
        instances,
        &mut |model, candidates, workers| {
            let gguf = workspace.models.verified_path(model)?;
            let plan = workers.map(|(instances, allowed)| WorkersPlan {
                gguf: &gguf,
                instances,
                threads: (machine.logical_cores / instances).max(1),
                allowed,
            });
            calibrate(loader, model, candidates, plan, &workspace.calibration_dir)
        },
    )?;
    if let (Instances::Measured(n), Some((alone, shared))) = (instances, choice.estimate) {
        eprintln!(
            "{}: calibration estimates {n} worker processes at {:.2}× the speed of one process \
             ({} of model time against {}; workers need {:.0}% less time to be chosen)",
            match choice.workers {
                1 => "one process".to_string(),
                n => format!("{n} worker processes"),
            },
            alone / shared,
            minutes(shared),
            minutes(alone),
            WORKERS_MIN_SAVING * 100.0
        );
    }
    Ok(choice)
}

/// `seconds` for people: "40 s", "12 min", "3.2 h".
fn minutes(seconds: f64) -> String {
    match seconds {
        s if s < 90.0 => format!("{s:.0} s"),
        s if s < 5400.0 => format!("{:.0} min", s / 60.0),
        s => format!("{:.1} h", s / 3600.0),
    }
}

/// The setups of a GPU run, chosen without calibration (which measures CPU kernels): what was
/// forced, else mistral.rs's automatic dtype and the quantized weights as the file holds them.
fn gpu_setups(
    plan: &RunPlan,
    request: SetupRequest,
    tasks: &[TaskShape],
) -> BTreeMap<String, BTreeMap<String, Setup>> {
    let dtype = match request.dtype {
        ActivationDtype::Best => ActivationDtype::Auto,
        forced => forced,
    };
    plan.models
        .iter()
        .map(|model| {
            let per_task = tasks
                .iter()
                .map(|task| {
                    let setup = Setup {
                        dtype,
                        weights: request.weights.unwrap_or(Weights::Quantized),
                        prefix_cache: task.prefix_cache,
                    };
                    (task.task.clone(), setup)
                })
                .collect();
            (model.id.clone(), per_task)
        })
        .collect()
}

/// Pulls (or, without `pull`, only verifies) every model of the plan.
fn fetch(models: &[ModelEntry], workspace: &Workspace, pull_missing: bool) -> Result<()> {
    for model in models {
        if pull_missing {
            pull(&workspace.models, &workspace.registry, model)?;
        } else {
            workspace.models.verified_path(model)?;
        }
    }
    Ok(())
}

/// Runs what remains of the plan, in this process or in the run's worker processes.
fn proceed(
    plan: RunPlan,
    run_dir: RunDir,
    manifest: Manifest,
    done: Vec<SampleRecord>,
    workspace: &Workspace,
    loader: MistralRsLoader,
) -> Result<RunOutcome> {
    let split = manifest.workers.is_some_and(|n| n > 1) && manifest.shard.is_none();
    if split && manifest.finished_at.is_none() {
        return run_in_workers(run_dir, &manifest, workspace);
    }
    eprintln!(
        "run {}: {} model(s) × {} task(s), {}",
        plan.run_id,
        plan.models.len(),
        plan.tasks.len(),
        plan.describe_limit()
    );
    execute(&plan, run_dir, &loader, manifest, done)
}
