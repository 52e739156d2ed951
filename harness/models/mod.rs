//! Models: the registry (`models.toml`), the local cache of verified GGUF files, pulling, and
//! registering a user's own GGUF (`models add`).

pub mod add;
mod cache;
pub mod download;
mod pull;
pub mod quantize;
mod registry;

pub use cache::{ModelCache, ModelStatus};
pub(crate) use pull::place_download;
pub use pull::{pull, pull_using, quantize_into_cache};
pub use registry::{ModelEntry, PublishedScore, Registry, RegistryLayer, Source, WheelPart};
