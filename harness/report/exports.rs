//! Leaderboard exports: one column set, written as CSV, Markdown and Parquet (polars).

use anyhow::Result;

use crate::leaderboard::{Leaderboard, ModelRow};
use crate::store::columns::{data_frame, parquet_bytes, Column, Values};

/// The leaderboard as columns, rows in leaderboard order.
pub fn columns(board: &Leaderboard) -> Vec<Column> {
    let text = |name: &str, f: &dyn Fn(&ModelRow) -> String| Column {
        name: name.into(),
        values: Values::Text(board.rows.iter().map(f).collect()),
    };
    let number = |name: String, f: &dyn Fn(&ModelRow) -> Option<f64>| Column {
        name,
        values: Values::Number(board.rows.iter().map(f).collect()),
    };
    let mut columns = vec![
        text("model", &|r| r.id.clone()),
        text("name", &|r| r.display_name.clone()),
        text("parameters", &|r| r.parameters.clone()),
        text("quantization", &|r| r.quantization.clone()),
        number("quality_index".into(), &|r| {
            r.quality.as_ref().map(|q| q.value)
        }),
        number("quality_ci_low".into(), &|r| {
            r.quality.as_ref().map(|q| q.ci_low)
        }),
        number("quality_ci_high".into(), &|r| {
            r.quality.as_ref().map(|q| q.ci_high)
        }),
        text("quality_preliminary", &|r| {
            r.quality
                .as_ref()
                .map_or(String::new(), |q| q.preliminary.to_string())
        }),
    ];
    for suite in &board.suites {
        let score = |r: &ModelRow| r.suites.get(suite).cloned();
        columns.push(number(format!("suite_{suite}_score"), &|r| {
            score(r).map(|s| s.value)
        }));
        columns.push(number(format!("suite_{suite}_ci_low"), &|r| {
            score(r).map(|s| s.ci_low)
        }));
        columns.push(number(format!("suite_{suite}_ci_high"), &|r| {
            score(r).map(|s| s.ci_high)
        }));
    }
    columns.extend([
        number("output_tokens_per_second".into(), &|r| {
            r.output_tokens_per_second
        }),
        number("time_to_first_token_s".into(), &|r| r.time_to_first_token_s),
        number("prefill_tokens_per_second".into(), &|r| {
            r.prefill_tokens_per_second
        }),
        number("self_hosted_usd_per_mtok_input".into(), &|r| {
            r.self_hosted.map(|c| c.input)
        }),
        number("self_hosted_usd_per_mtok_output".into(), &|r| {
            r.self_hosted.map(|c| c.output)
        }),
        number("self_hosted_usd_per_mtok_blended".into(), &|r| {
            r.self_hosted.map(|c| c.blended)
        }),
        number("provider_usd_per_mtok_lowest".into(), &|r| {
            r.provider.as_ref().map(|p| p.lowest)
        }),
        number("provider_usd_per_mtok_median".into(), &|r| {
            r.provider.as_ref().map(|p| p.median)
        }),
    ]);
    columns.push(text("hardware", &|r| {
        r.hardware
            .as_ref()
            .map_or(String::new(), |h| h.name.clone())
    }));
    columns.push(text("run_id", &|r| r.run_id.clone()));
    columns.push(text("notes", &|r| r.notes.join("; ")));
    columns
}

fn cell(column: &Column, row: usize) -> String {
    match &column.values {
        Values::Text(values) => values[row].clone(),
        Values::Number(values) => values[row].map_or(String::new(), |v| format!("{v}")),
    }
}

/// CSV with a header line.
pub fn csv(board: &Leaderboard) -> Result<String> {
    let columns = columns(board);
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    writer.write_record(columns.iter().map(|c| c.name.as_str()))?;
    for row in 0..board.rows.len() {
        writer.write_record(columns.iter().map(|c| cell(c, row)))?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

/// A GitHub-flavoured Markdown table (cells escaped: `|` and line breaks cannot end a cell).
pub fn markdown(board: &Leaderboard) -> String {
    let columns = columns(board);
    let escape = |text: String| {
        text.replace('\\', "\\\\")
            .replace('|', "\\|")
            .replace(['\n', '\r'], " ")
            .replace('<', "&lt;")
    };
    let rounded = |column: &Column, row: usize| match &column.values {
        Values::Number(values) => values[row].map_or("—".into(), |v| format!("{v:.3}")),
        Values::Text(_) => escape(cell(column, row)),
    };
    let mut out = format!(
        "| {} |\n|{}|\n",
        columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        columns.iter().map(|_| "---").collect::<Vec<_>>().join("|")
    );
    for row in 0..board.rows.len() {
        let cells: Vec<String> = columns.iter().map(|c| rounded(c, row)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// The leaderboard as Parquet.
pub fn parquet(board: &Leaderboard) -> Result<Vec<u8>> {
    parquet_bytes(&mut data_frame(columns(board))?)
}
