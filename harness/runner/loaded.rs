//! A model loaded with one setup, warmed up, and — when its prefix cache is on — reloaded once
//! the cache has grown past a memory allowance (mistral.rs 0.8.1 never evicts cached sequences
//! on CPU: every finished request adds its keys and values, about 34 MB for a 1,350-token
//! SmolLM2 sequence).

use std::time::Instant;

use anyhow::{Context, Result};

use crate::backend::{Backend, BackendLoader, GenerationRequest, Sampling, Setup};
use crate::machine::current_rss_bytes;
use crate::models::ModelEntry;
use crate::store::ModelRunRecord;
use crate::tasks::Prompt;

/// Resident memory the prefix cache may add to a freshly loaded model before it is reloaded.
pub const PREFIX_CACHE_ALLOWANCE: u64 = 256 << 20;

/// A loaded backend and what it cost.
pub(super) struct Loaded<'l> {
    loader: &'l dyn BackendLoader,
    model: &'l ModelEntry,
    /// The setup it runs with.
    pub setup: Setup,
    backend: Option<Box<dyn Backend>>,
    /// Resident memory above which it is reloaded (prefix cache on only).
    budget: Option<u64>,
    /// Each load's record, in order.
    pub records: Vec<ModelRunRecord>,
    /// Seconds spent loading and warming up.
    pub setup_seconds: f64,
}

impl<'l> Loaded<'l> {
    /// Loads and warms up `model` with `setup`.
    pub fn load(
        loader: &'l dyn BackendLoader,
        model: &'l ModelEntry,
        setup: Setup,
    ) -> Result<Self> {
        let (backend, record) = load_warm(loader, model, setup)?;
        let mut loaded = Self {
            loader,
            model,
            setup,
            backend: Some(backend),
            budget: None,
            setup_seconds: record.backend.load_seconds + record.warmup_seconds,
            records: vec![record],
        };
        loaded.set_budget();
        Ok(loaded)
    }

    /// The backend.
    pub fn backend(&self) -> &dyn Backend {
        self.backend
            .as_deref()
            .expect("a Loaded always holds a backend between calls")
    }

    /// Between samples: reloads the model (emptying its prefix cache) when resident memory has
    /// passed the budget.
    pub fn bound_memory(&mut self) -> Result<()> {
        // Only with the prefix cache on is there a budget (and a reason to read /proc).
        let Some(budget) = self.budget else {
            return Ok(());
        };
        let Some(resident) = current_rss_bytes() else {
            return Ok(());
        };
        if resident <= budget {
            return Ok(());
        }
        // The old backend goes first: two copies of the model never live at once; and the
        // memory it freed goes back to the system, not only to the allocator.
        drop(self.backend.take());
        // SAFETY: malloc_trim only releases free memory of this process's heap.
        unsafe {
            libc::malloc_trim(0);
        }
        let (backend, record) = load_warm(self.loader, self.model, self.setup)?;
        self.backend = Some(backend);
        self.setup_seconds += record.backend.load_seconds + record.warmup_seconds;
        self.records.push(record);
        self.set_budget();
        Ok(())
    }

    fn set_budget(&mut self) {
        self.budget = self
            .setup
            .prefix_cache
            .then(current_rss_bytes)
            .flatten()
            .map(|resident| resident + PREFIX_CACHE_ALLOWANCE);
    }
}

fn load_warm(
    loader: &dyn BackendLoader,
    model: &ModelEntry,
    setup: Setup,
) -> Result<(Box<dyn Backend>, ModelRunRecord)> {
    let backend = loader
        .load(model, setup)
        .with_context(|| format!("cannot load model {}", model.id))?;
    let warmup_seconds = warm_up(backend.as_ref())?;
    let record = ModelRunRecord {
        model: model.id.clone(),
        backend: backend.info(),
        warmup_seconds,
    };
    Ok((backend, record))
}

/// One tiny generation so one-off costs (allocations, kernel setup) stay out of the timings.
fn warm_up(backend: &dyn Backend) -> Result<f64> {
    let started = Instant::now();
    backend
        .generate(&GenerationRequest {
            prompt: Prompt::Completion {
                text: "Hello".into(),
            },
            max_new_tokens: 2,
            stop: Vec::new(),
            sampling: Sampling::greedy(),
        })
        .context("the warm-up generation failed")?;
    Ok(started.elapsed().as_secs_f64())
}
