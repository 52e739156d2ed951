//! `yardstick models list|pull`.

use anyhow::Result;

use crate::cli::ModelsCommand;
use crate::locations::Locations;
use crate::models::quantize::QuantType;
use crate::models::{pull, quantize_into_cache, ModelCache, ModelEntry, ModelStatus, Registry};

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
                let source = model.source.kind();
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
                let path = pull(&cache, &registry, model)?;
                println!(
                    "{}: verified {} ({})",
                    model.id,
                    &model.sha256[..12],
                    path.display()
                );
            }
            Ok(())
        }
        ModelsCommand::Quantize { id, to, new_id } => {
            let to = QuantType::from(to);
            let parent = registry.get(&id)?;
            let new_id = new_id.unwrap_or_else(|| format!("{id}-{}", to.as_str().replace('_', "")));
            if registry.get(&new_id).is_ok() {
                anyhow::bail!(
                    "models.toml already has a model {new_id:?}; pull it with `yardstick models \
                     pull {new_id}`, or choose another id with --as"
                );
            }
            // Checked before any work: the registry must still parse with the new entry.
            let registry_file = locations.registry_file();
            let base = registry_file.parent().unwrap_or(std::path::Path::new("."));
            let mut text = std::fs::read_to_string(&registry_file)?;
            Registry::parse(
                &format!(
                    "{text}{}",
                    variant_entry(parent, &new_id, to, &"0".repeat(64), 0)
                ),
                base,
            )?;
            let parent_path = pull(&cache, &registry, parent)?;
            eprintln!("quantizing {id} to {} …", to.as_str());
            let (path, sha256, report) =
                quantize_into_cache(&cache, &new_id, &parent_path, to, None)?;
            let entry = variant_entry(parent, &new_id, to, &sha256, report.bytes_after);
            text.push_str(&entry);
            let updated = Registry::parse(&text, base)?;
            crate::files::write_atomic(&registry_file, text.as_bytes())?;
            cache.remember(updated.get(&new_id)?, &path)?;
            println!(
                "{new_id}: {} matrices → {}{}, {} kept; {:.1} MB → {:.1} MB in {:.1} s\n\
                 sha256 {sha256}\nregistered in {} (parent {id}); run it with --model {new_id}",
                report.quantized + report.fell_back,
                to.label(),
                if report.fell_back > 0 {
                    format!(
                        " ({} with rows not a multiple of 256 as Q4_0)",
                        report.fell_back
                    )
                } else {
                    String::new()
                },
                report.kept,
                report.bytes_before as f64 / 1e6,
                report.bytes_after as f64 / 1e6,
                report.seconds,
                registry_file.display()
            );
            Ok(())
        }
    }
}

/// The `[[model]]` block registering a quantized variant of `parent`.
fn variant_entry(parent: &ModelEntry, id: &str, to: QuantType, sha256: &str, size: u64) -> String {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    format!(
        "\n[[model]]\nid = {}\ndisplay_name = {}\nfamily = {}\narchitecture = {}\n\
         parameters = {}\nquantization = {}\nlicense = {}\nsize_bytes = {size}\nsha256 = {}\n\
         provider_ids = [{}]\nsource = {{ kind = \"quantize\", parent = {}, to = {} }}\n",
        quote(id),
        quote(&format!("{} ({})", parent.display_name, to.label())),
        quote(&parent.family),
        quote(&parent.architecture),
        quote(&parent.parameters),
        quote(to.label()),
        quote(&parent.license),
        quote(sha256),
        parent
            .provider_ids
            .iter()
            .map(|p| quote(p))
            .collect::<Vec<_>>()
            .join(", "),
        quote(&parent.id),
        quote(to.as_str()),
    )
}
