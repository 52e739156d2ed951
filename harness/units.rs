//! Units as type aliases, so signatures say what they carry.

/// A duration in seconds.
pub type Seconds = f64;
/// A rate in tokens per second.
pub type TokensPerSecond = f64;
/// A size in bytes.
pub type Bytes = u64;
