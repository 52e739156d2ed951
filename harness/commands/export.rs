//! `yardstick export RUN --format lm-eval`: a finished run's results in another tool's format.

use anyhow::{bail, Result};

use crate::cli::{ExportArgs, ExportFormat};
use crate::data::DataCache;
use crate::export::{facts_from, lm_eval_results};
use crate::files::write_atomic;
use crate::locations::Locations;
use crate::store::{read_finished_run, resolve_run};

pub(super) fn run(args: &ExportArgs, locations: &Locations) -> Result<()> {
    let results_dir = args
        .results_dir
        .clone()
        .unwrap_or_else(|| locations.results_dir());
    let run = read_finished_run(&resolve_run(&args.run, &results_dir)?)?;
    let model = match (&args.model, run.manifest.models.as_slice()) {
        (Some(model), _) => model.clone(),
        (None, [only]) => only.id.clone(),
        (None, several) => {
            let ids: Vec<&str> = several.iter().map(|m| m.id.as_str()).collect();
            bail!(
                "run {} has {} models and lm-eval writes one file per model: pick one with \
                 --model ({})",
                run.manifest.run_id,
                ids.len(),
                ids.join(", ")
            )
        }
    };
    let tasks = crate::config::tasks(locations)?;
    let data = DataCache::new(locations.data_dir());
    // The whole split's size, when its data is cached and the spec is the one the run used.
    let facts = |task: &str, version: u32| {
        let items = tasks
            .get(task)
            .ok()
            .filter(|t| t.spec.version == version && data.contains(&t.spec.dataset))
            .and_then(|t| t.load_items(&data, None).ok())
            .map(|items| items.len());
        facts_from(&tasks, task, version, items)
    };
    let exported = match args.format {
        ExportFormat::LmEval => lm_eval_results(&run, &model, &facts)?,
    };
    let text = serde_json::to_string_pretty(&exported)? + "\n";
    match &args.output {
        Some(path) => {
            write_atomic(path, text.as_bytes())?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}
