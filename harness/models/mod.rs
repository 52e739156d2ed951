//! Models: the registry (`models.toml`), the local cache of verified GGUF files, and pulling.

mod cache;
mod pull;
mod registry;

pub use cache::{ModelCache, ModelStatus};
pub use pull::{pull, pull_using};
pub use registry::{ModelEntry, Registry, Source, WheelPart};
