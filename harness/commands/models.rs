//! `yardstick models list|pull`.

use anyhow::Result;

use crate::cli::ModelsCommand;
use crate::locations::Locations;
use crate::models::{pull, ModelCache, ModelStatus, Registry, Source};

pub(super) fn run(command: ModelsCommand, locations: &Locations) -> Result<()> {
    let registry = Registry::load(&locations.registry_file())?;
    let cache = ModelCache::new(locations.models_dir());
    match command {
        ModelsCommand::List => {
            println!(
                "{:<30} {:<8} {:<8} {:>8}  {:<9} status",
                "id", "arch", "quant", "size", "source"
            );
            for model in registry.models() {
                let status = match cache.status(model)? {
                    ModelStatus::Verified => "present, verified".to_string(),
                    ModelStatus::Missing => "missing (yardstick models pull)".to_string(),
                    ModelStatus::Mismatch { actual } => {
                        format!("present, sha256 MISMATCH ({})", &actual[..12])
                    }
                };
                let source = match model.source {
                    Source::Pip { .. } => "pip",
                    Source::Path { .. } => "path",
                };
                let default = if model.id == registry.default_id {
                    " (default)"
                } else {
                    ""
                };
                println!(
                    "{:<30} {:<8} {:<8} {:>5} MB  {:<9} {status}{default}",
                    model.id,
                    model.architecture,
                    model.quantization,
                    model.size_bytes / 1_000_000,
                    source
                );
            }
            println!("cache: {}", cache.dir().display());
            Ok(())
        }
        ModelsCommand::Pull { ids, all } => {
            let models = if all {
                registry.models().to_vec()
            } else if ids.is_empty() {
                vec![registry.default_model().clone()]
            } else {
                ids.iter()
                    .map(|id| registry.get(id).cloned())
                    .collect::<Result<Vec<_>>>()?
            };
            for model in &models {
                let path = pull(&cache, model)?;
                println!(
                    "{}: verified {} ({})",
                    model.id,
                    &model.sha256[..12],
                    path.display()
                );
            }
            Ok(())
        }
    }
}
