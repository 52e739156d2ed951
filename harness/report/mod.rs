//! Reports read only what the store wrote. For now: the terminal summary table.

pub mod table;
