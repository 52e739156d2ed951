//! `models add`: a GGUF from a path, an address or the Hugging Face Hub, described from its
//! header, hashed, refused when mistral.rs 0.8.1 cannot load its architecture, and turned into a
//! registry entry (written to the user's registry by the command).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::registry::{ModelEntry, Source};
use crate::gguf::GgufSummary;

/// The GGUF architectures mistral.rs 0.8.1's GGUF loader can run.
pub const SUPPORTED_ARCHITECTURES: [&str; 6] =
    ["llama", "qwen2", "qwen3", "phi2", "phi3", "starcoder2"];

/// The source `models add TARGET` registers: `hf://ORG/REPO/PATH/IN/REPO.gguf`, an
/// `http(s)://` address, or a local file (made absolute).
pub fn source_of(target: &str, revision: Option<&str>) -> Result<Source> {
    if let Some(rest) = target.strip_prefix("hf://") {
        let mut parts = rest.splitn(3, '/');
        let (Some(org), Some(name), Some(file)) = (parts.next(), parts.next(), parts.next()) else {
            bail!("{target:?}: write a Hub file as hf://ORG/REPO/FILE.gguf");
        };
        if org.is_empty() || name.is_empty() || file.is_empty() {
            bail!("{target:?}: write a Hub file as hf://ORG/REPO/FILE.gguf");
        }
        return Ok(Source::Hf {
            repo: format!("{org}/{name}"),
            file: file.to_string(),
            revision: revision.unwrap_or("main").to_string(),
        });
    }
    if revision.is_some() {
        bail!("--revision is for hf:// sources only");
    }
    if target.starts_with("http://") || target.starts_with("https://") {
        return Ok(Source::Url {
            url: target.to_string(),
        });
    }
    let path = Path::new(target);
    let path = path.canonicalize().with_context(|| {
        format!("{target}: no such file (give a GGUF file, an http(s):// address or hf://ORG/REPO/FILE.gguf)")
    })?;
    if !path.is_file() {
        bail!("{}: not a file", path.display());
    }
    Ok(Source::Path { path })
}

/// The id a model gets when `--id` is not given: the file name without `.gguf`, lower-case,
/// with characters an id cannot hold replaced by `-`.
pub fn default_id(source: &Source) -> String {
    let name = match source {
        Source::Path { path } => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        Source::Url { url } => url
            .split(['?', '#'])
            .next()
            .and_then(|u| u.rsplit('/').next())
            .unwrap_or_default()
            .to_string(),
        Source::Hf { file, .. } => file.rsplit('/').next().unwrap_or_default().to_string(),
        Source::Pip { .. } | Source::Quantize { .. } => String::new(),
    };
    let stem = name.strip_suffix(".gguf").unwrap_or(&name).to_lowercase();
    if stem.is_empty() {
        "model".into()
    } else {
        crate::files::slug(&stem)
    }
}

/// The file's architecture, or an error naming the ones mistral.rs 0.8.1 can load.
pub fn check_architecture(summary: &GgufSummary, file: &Path) -> Result<String> {
    let Some(architecture) = &summary.architecture else {
        bail!(
            "{}: the GGUF header has no general.architecture; yardstick cannot tell how to load it",
            file.display()
        );
    };
    if !SUPPORTED_ARCHITECTURES.contains(&architecture.as_str()) {
        bail!(
            "{}: architecture {architecture:?} cannot be loaded by mistral.rs 0.8.1's GGUF loader, \
             which runs {}",
            file.display(),
            SUPPORTED_ARCHITECTURES.join(", ")
        );
    }
    Ok(architecture.clone())
}

/// The registry entry of a checked file.
pub fn entry(
    id: &str,
    source: Source,
    summary: &GgufSummary,
    sha256: &str,
    size: u64,
) -> ModelEntry {
    let architecture = summary.architecture.clone().unwrap_or_default();
    ModelEntry {
        id: id.to_string(),
        display_name: summary
            .name
            .clone()
            .map(|n| n.trim_end_matches(" GGUF").to_string())
            .unwrap_or_else(|| id.to_string()),
        family: summary
            .basename
            .as_deref()
            .map(str::to_lowercase)
            .unwrap_or_else(|| architecture.clone()),
        architecture,
        parameters: summary.parameters_label(),
        quantization: summary.quantization(),
        license: summary
            .license
            .clone()
            .unwrap_or_else(|| "unknown (the GGUF states none)".into()),
        size_bytes: size,
        sha256: sha256.to_string(),
        source,
        provider_ids: Vec::new(),
        published: Vec::new(),
        origin: String::new(),
    }
}

/// The entry as a `[[model]]` block of models.toml (the source as an inline table).
pub fn entry_toml(entry: &ModelEntry) -> Result<String> {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let source = toml::Value::try_from(&entry.source).context("the source serializes")?;
    Ok(format!(
        "\n[[model]]\nid = {}\ndisplay_name = {}\nfamily = {}\narchitecture = {}\n\
         parameters = {}\nquantization = {}\nlicense = {}\nsize_bytes = {}\nsha256 = {}\n\
         source = {source}\n",
        quote(&entry.id),
        quote(&entry.display_name),
        quote(&entry.family),
        quote(&entry.architecture),
        quote(&entry.parameters),
        quote(&entry.quantization),
        quote(&entry.license),
        entry.size_bytes,
        quote(&entry.sha256),
    ))
}

/// Where an added model's download is kept until it is checked: one file per address, so an
/// interrupted `models add` resumes.
pub fn download_path(cache_dir: &Path, url: &str) -> PathBuf {
    let digest = crate::files::sha256_reader(url.as_bytes(), None).expect("hashing memory");
    cache_dir.join(format!(".add-{}.gguf.download", &digest[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Registry;

    #[test]
    fn targets_become_sources() {
        match source_of("hf://Org/Repo-GGUF/sub/m-Q4_K_M.gguf", Some("abc123")).unwrap() {
            Source::Hf {
                repo,
                file,
                revision,
            } => {
                assert_eq!(
                    (repo.as_str(), file.as_str()),
                    ("Org/Repo-GGUF", "sub/m-Q4_K_M.gguf")
                );
                assert_eq!(revision, "abc123");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            source_of("https://x/m.gguf", None).unwrap(),
            Source::Url { .. }
        ));
        for bad in ["hf://org/repo", "hf:///repo/m.gguf"] {
            assert!(format!("{:#}", source_of(bad, None).unwrap_err())
                .contains("hf://ORG/REPO/FILE.gguf"));
        }
        assert!(format!(
            "{:#}",
            source_of("https://x/m.gguf", Some("v1")).unwrap_err()
        )
        .contains("--revision"));
        assert!(
            format!("{:#}", source_of("/nonexistent/m.gguf", None).unwrap_err())
                .contains("no such file")
        );
    }

    #[test]
    fn default_ids_come_from_the_file_name() {
        let hf = source_of("hf://o/r/dir/SmolLM2-135M-Instruct.Q4_1.gguf", None).unwrap();
        assert_eq!(default_id(&hf), "smollm2-135m-instruct.q4_1");
        let url = Source::Url {
            url: "https://h/a/My Model+v2.gguf?download=1".into(),
        };
        assert_eq!(default_id(&url), "my-model-v2");
    }

    #[test]
    fn an_entry_written_as_toml_reads_back_as_the_same_entry() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), crate::gguf::synthetic(64)).unwrap();
        let summary = crate::gguf::inspect(file.path()).unwrap();
        assert_eq!(check_architecture(&summary, file.path()).unwrap(), "llama");
        let source = source_of("hf://o/r \"quoted\"/m.gguf", None).unwrap();
        let sha = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
        let made = entry("m", source, &summary, sha, 288);
        let text = format!("default = \"m\"\n{}", entry_toml(&made).unwrap());
        let registry = Registry::parse(&text, Path::new("/")).unwrap();
        let read = registry.get("m").unwrap();
        assert_eq!(read.architecture, "llama");
        assert_eq!(read.quantization, "F32");
        assert_eq!(read.parameters, "0M");
        match &read.source {
            Source::Hf { repo, .. } => assert_eq!(repo, "o/r \"quoted\""),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unsupported_architectures_are_refused_with_the_supported_ones() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let bytes = crate::gguf::synthetic(8);
        let llama = bytes.windows(5).position(|w| w == b"llama").unwrap();
        let mut gemma = bytes.clone();
        gemma[llama..llama + 5].copy_from_slice(b"gemma");
        std::fs::write(file.path(), gemma).unwrap();
        let summary = crate::gguf::inspect(file.path()).unwrap();
        let error = format!(
            "{:#}",
            check_architecture(&summary, file.path()).unwrap_err()
        );
        assert!(
            error.contains("\"gemma\"")
                && error.contains("llama, qwen2, qwen3, phi2, phi3, starcoder2"),
            "{error}"
        );
    }
}
