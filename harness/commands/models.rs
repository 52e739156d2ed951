//! `yardstick models list|pull|add|quantize`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::cli::ModelsCommand;
use crate::config;
use crate::files::{sha256_file, write_atomic};
use crate::gguf;
use crate::locations::Locations;
use crate::models::add::{self, download_path};
use crate::models::download::{download, Remote};
use crate::models::quantize::QuantType;
use crate::models::{
    place_download, pull, quantize_into_cache, ModelCache, ModelEntry, ModelStatus, Registry,
    Source,
};

/// The first lines of a registry file `models add` creates.
const NEW_REGISTRY: &str =
    "# Your models, added to the ones yardstick ships (`yardstick models add`).\n\
# An entry with a shipped model's id replaces it; `default = \"ID\"` changes the default model.\n";

pub(super) fn run(command: ModelsCommand, locations: &Locations) -> Result<()> {
    let registry = crate::config::registry(locations)?;
    let cache = ModelCache::new(locations.models_dir());
    match command {
        ModelsCommand::List => {
            println!(
                "{:<34} {:<8} {:<8} {:>8}  {:<9} {:<34} from",
                "id", "arch", "quant", "size", "source", "status"
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
                    "{:<34} {:<8} {:<8} {:>5} MB  {:<9} {:<34} {}",
                    model.id,
                    model.architecture,
                    model.quantization,
                    model.size_bytes / 1_000_000,
                    source,
                    format!("{status}{default}"),
                    model.origin
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
        ModelsCommand::Add {
            target,
            id,
            revision,
            registry: file,
        } => add_model(
            locations,
            &registry,
            &cache,
            &target,
            id,
            revision.as_deref(),
            file,
        ),
        ModelsCommand::Quantize {
            id,
            to,
            new_id,
            registry: file,
        } => {
            let to = QuantType::from(to);
            let parent = registry.get(&id)?;
            let new_id = new_id.unwrap_or_else(|| format!("{id}-{}", to.as_str().replace('_', "")));
            refuse_taken_id(&registry, &new_id, "--as")?;
            let file = file.unwrap_or_else(|| locations.user_registry_file());
            // Checked before any work: the registry must still parse with the new entry.
            with_entry(
                locations,
                &file,
                &variant_entry(parent, &new_id, to, &"0".repeat(64), 0),
            )?;
            let parent_path = pull(&cache, &registry, parent)?;
            eprintln!("quantizing {id} to {} …", to.as_str());
            let (path, sha256, report) =
                quantize_into_cache(&cache, &new_id, &parent_path, to, None)?;
            let entry = variant_entry(parent, &new_id, to, &sha256, report.bytes_after);
            let (updated, text) = with_entry(locations, &file, &entry)?;
            write_registry(&file, &text)?;
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
                file.display()
            );
            Ok(())
        }
    }
}

/// `models add`: fetch (for an address or the Hub), describe, check, register.
fn add_model(
    locations: &Locations,
    registry: &Registry,
    cache: &ModelCache,
    target: &str,
    id: Option<String>,
    revision: Option<&str>,
    file: Option<PathBuf>,
) -> Result<()> {
    let source = add::source_of(target, revision)?;
    let id = id.unwrap_or_else(|| add::default_id(&source));
    refuse_taken_id(registry, &id, "--id")?;
    let file = file.unwrap_or_else(|| locations.user_registry_file());
    let (local, sha256) = match Remote::of(&source) {
        Some(remote) => {
            std::fs::create_dir_all(cache.dir()).with_context(|| {
                format!("cannot create the model cache {}", cache.dir().display())
            })?;
            let partial = download_path(cache.dir(), &remote.url);
            let sha256 = download(&remote, &partial, &id)?;
            (partial, sha256)
        }
        None => {
            let Source::Path { path } = &source else {
                unreachable!("models add makes path, url and hf sources")
            };
            eprintln!("hashing {} …", path.display());
            (path.clone(), sha256_file(path, None)?)
        }
    };
    let downloaded = !matches!(source, Source::Path { .. });
    let checked = gguf::inspect(&local).and_then(|summary| {
        add::check_architecture(&summary, &local)?;
        Ok(summary)
    });
    let summary = match checked {
        Ok(summary) => summary,
        Err(error) => {
            if downloaded {
                std::fs::remove_file(&local).ok();
            }
            return Err(error.context(format!("{target} was not added")));
        }
    };
    let size = std::fs::metadata(&local)?.len();
    let entry = add::entry(&id, source, &summary, &sha256, size);
    let (_, text) = with_entry(locations, &file, &add::entry_toml(&entry)?)?;
    if downloaded {
        place_download(cache, &entry, &local)?;
    }
    write_registry(&file, &text)?;
    println!(
        "{id}: {} ({}), {} parameters, {} ({}), context {}, {}\nsha256 {sha256}\n\
         registered in {}; run it with `yardstick run --model {id}`",
        entry.display_name,
        entry.architecture,
        entry.parameters,
        entry.quantization,
        summary.type_mix(),
        summary
            .context_length
            .map_or("unknown".to_string(), |c| format!("{c} tokens")),
        if summary.has_chat_template {
            "has a chat template"
        } else {
            "NO chat template: chat-prompt tasks will fail; use completion tasks"
        },
        file.display()
    );
    Ok(())
}

fn refuse_taken_id(registry: &Registry, id: &str, flag: &str) -> Result<()> {
    if let Ok(existing) = registry.get(id) {
        bail!(
            "the registry already has a model {id:?} (from {}); choose another id with {flag}",
            existing.origin
        );
    }
    Ok(())
}

/// The registry of every layer with `block` appended to `file` (a layer in use, or a new one on
/// top), and that file's new text: nothing is written until the result is known to be valid.
fn with_entry(locations: &Locations, file: &Path, block: &str) -> Result<(Registry, String)> {
    let before = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => NEW_REGISTRY.to_string(),
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", file.display())),
    };
    let text = format!("{before}{block}");
    let mut layers = config::registry_layers(locations)?;
    let same = |origin: &str| {
        let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        canonical(Path::new(origin)) == canonical(file)
    };
    let mut layer = config::file_layer_text(file, text.clone());
    match layers.iter_mut().find(|l| same(&l.origin)) {
        Some(existing) => std::mem::swap(existing, &mut layer),
        None => layers.push(layer),
    }
    let registry = Registry::from_layers(&layers)?;
    Ok((registry, text))
}

fn write_registry(file: &Path, text: &str) -> Result<()> {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    write_atomic(file, text.as_bytes())
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
