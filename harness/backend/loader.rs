//! Loading registry models from the model cache into mistral.rs, with yardstick's settings.

use std::time::Instant;

use anyhow::{Context, Result};

use super::mistralrs::{LoadPath, MistralRsBackend, MistralRsOptions, MISTRALRS_VERSION};
use super::{Backend, BackendLoader, ComputeDevice, Setup};
use crate::models::{ModelCache, ModelEntry};

/// Loads verified GGUFs from the cache into mistral.rs.
pub struct MistralRsLoader {
    /// Where the verified GGUFs are.
    pub cache: ModelCache,
    options: MistralRsOptions,
}

impl MistralRsLoader {
    /// Loads from `cache`.
    pub fn new(cache: ModelCache) -> Self {
        Self {
            cache,
            options: MistralRsOptions::default(),
        }
    }

    /// The device models are loaded onto.
    pub fn device(&self) -> ComputeDevice {
        self.options.device
    }

    /// Loads onto `device` (default: the CPU).
    pub fn with_device(mut self, device: ComputeDevice) -> Self {
        self.options.device = device;
        self
    }

    /// Loads through `load_path` instead of the default loader.
    pub fn with_load_path(mut self, load_path: LoadPath) -> Self {
        self.options.load_path = load_path;
        self
    }
}

impl BackendLoader for MistralRsLoader {
    fn load(&self, model: &ModelEntry, setup: Setup) -> Result<Box<dyn Backend>> {
        let path = self.cache.verified_path(model)?;
        let started = Instant::now();
        eprintln!(
            "loading {} ({}; {})",
            model.id,
            path.display(),
            setup.describe()
        );
        let options = MistralRsOptions {
            dtype: setup.dtype,
            weights: setup.weights,
            prefix_cache: setup.prefix_cache,
            ..self.options
        };
        let backend = MistralRsBackend::load(&path, options)
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
