//! Named columns of text or numbers, and their Parquet form (polars): the one table layout the
//! history and the leaderboard exports are written in.

use anyhow::Result;
use polars::prelude::{Column as FrameColumn, DataFrame, NamedFrom, ParquetWriter, Series};

/// A column's values.
pub enum Values {
    /// Text.
    Text(Vec<String>),
    /// Numbers; `None` when unknown.
    Number(Vec<Option<f64>>),
}

/// A named column of the leaderboard table.
pub struct Column {
    /// Header.
    pub name: String,
    /// One value per row.
    pub values: Values,
}

/// The columns as a polars DataFrame.
pub fn data_frame(columns: Vec<Column>) -> Result<DataFrame> {
    let height = columns.first().map_or(0, |c| match &c.values {
        Values::Text(v) => v.len(),
        Values::Number(v) => v.len(),
    });
    let series: Vec<FrameColumn> = columns
        .into_iter()
        .map(|c| match c.values {
            Values::Text(values) => Series::new(c.name.into(), values).into(),
            Values::Number(values) => Series::new(c.name.into(), values).into(),
        })
        .collect();
    Ok(DataFrame::new(height, series)?)
}

/// Parquet bytes of `frame`.
pub fn parquet_bytes(frame: &mut DataFrame) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes).finish(frame)?;
    Ok(bytes)
}
