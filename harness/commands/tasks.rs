//! `yardstick tasks list|show`.

use anyhow::{bail, Result};

use crate::backend::mistralrs::{MistralRsBackend, MistralRsOptions};
use crate::backend::Backend;
use crate::cli::TasksCommand;
use crate::data::DataCache;
use crate::locations::Locations;
use crate::models::ModelCache;

pub(super) fn run(command: TasksCommand, locations: &Locations) -> Result<()> {
    let tasks = crate::config::tasks(locations)?;
    let cache = DataCache::new(locations.data_dir());
    match command {
        TasksCommand::List => {
            let width = tasks
                .all()
                .iter()
                .map(|t| t.name().len())
                .max()
                .unwrap_or(0)
                .max(4);
            println!(
                "{:<width$} {:<12} {:>7} {:>7}  {:<8} description",
                "name", "suite", "items", "version", "license"
            );
            for task in tasks.all() {
                let items = if cache.contains(&task.spec.dataset) {
                    task.load_items(&cache, None)?.len().to_string()
                } else {
                    "?".to_string()
                };
                println!(
                    "{:<width$} {:<12} {:>7} {:>7}  {:<8} {}",
                    task.name(),
                    task.spec.suite,
                    items,
                    task.spec.version,
                    task.spec.dataset.license,
                    task.spec.description
                );
            }
            if tasks.all().iter().any(|t| !cache.contains(&t.spec.dataset)) {
                println!("(? = dataset not imported yet: yardstick data import DIR)");
            }
            Ok(())
        }
        TasksCommand::Show { name, item, model } => {
            let task = tasks.get(&name)?;
            let items = task.load_items(&cache, Some(item + 1))?;
            let Some(chosen) = items.get(item) else {
                bail!(
                    "task {name} has {} items; --item must be below that",
                    items.len()
                );
            };
            let fewshot = task.load_fewshot(&cache, items.len())?;
            let prompt = task.render(chosen, &fewshot)?;
            let text = match model {
                None => prompt.display_text(),
                Some(id) => {
                    let registry = crate::config::registry(locations)?;
                    let entry = registry.get(&id)?;
                    let path = ModelCache::new(locations.models_dir()).verified_path(entry)?;
                    MistralRsBackend::load(&path, MistralRsOptions::default())?
                        .rendered_prompt(&prompt)?
                }
            };
            print!("{text}");
            println!();
            Ok(())
        }
    }
}
