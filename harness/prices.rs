//! Public provider prices for open-weight models (the vendored `prices/` snapshot): which
//! providers offer a model, and the lowest and median price they charge per 1M tokens.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::metrics::cost::blended;
use crate::metrics::percentile;

/// One provider's offering of one model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProviderOffer {
    /// Provider id, e.g. `openrouter`.
    pub provider_id: String,
    /// Provider display name.
    pub provider_name: String,
    /// The provider's model id.
    pub model_id: String,
    /// USD per 1M input tokens.
    pub usd_per_mtok_input: f64,
    /// USD per 1M output tokens.
    pub usd_per_mtok_output: f64,
}

impl ProviderOffer {
    /// 3:1 blended price.
    pub fn blended(&self) -> f64 {
        blended(self.usd_per_mtok_input, self.usd_per_mtok_output)
    }
}

/// What providers charge for one model, blended 3:1, USD per 1M tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderPriceSummary {
    /// Paid offerings counted (free tiers are left out: they are not a price).
    pub offers: usize,
    /// Cheapest blended price.
    pub lowest: f64,
    /// Who charges it.
    pub lowest_provider: String,
    /// Median blended price.
    pub median: f64,
}

/// A provider price list.
#[derive(Debug, Clone, Default)]
pub struct ProviderPrices {
    offers: Vec<ProviderOffer>,
}

impl ProviderPrices {
    /// Reads a CSV with the snapshot's columns; a missing file gives an empty list (prices are
    /// optional context, not needed to rank models).
    pub fn load(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Ok(Self::default());
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read provider prices {}", path.display()))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses CSV text with the snapshot's columns; errors name `origin` and the line.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let mut offers = Vec::new();
        for (row, record) in reader.deserialize().enumerate() {
            let offer: ProviderOffer = record.with_context(|| {
                format!(
                    "{origin} line {}: not a price row (expected provider_id, provider_name, \
                     model_id, …, usd_per_mtok_input, usd_per_mtok_output)",
                    row + 2
                )
            })?;
            offers.push(offer);
        }
        Ok(Self { offers })
    }

    /// Offers whose model id is one of `model_ids` (case-insensitive).
    pub fn offers_for<'a>(
        &'a self,
        model_ids: &'a [String],
    ) -> impl Iterator<Item = &'a ProviderOffer> {
        self.offers.iter().filter(move |offer| {
            model_ids
                .iter()
                .any(|id| id.eq_ignore_ascii_case(&offer.model_id))
        })
    }

    /// Lowest and median paid blended price over the offers matching `model_ids`.
    pub fn summary_for(&self, model_ids: &[String]) -> Option<ProviderPriceSummary> {
        let paid: Vec<&ProviderOffer> = self
            .offers_for(model_ids)
            .filter(|o| o.blended() > 0.0)
            .collect();
        let cheapest = paid
            .iter()
            .min_by(|a, b| a.blended().total_cmp(&b.blended()))?;
        let blended: Vec<f64> = paid.iter().map(|o| o.blended()).collect();
        Some(ProviderPriceSummary {
            offers: paid.len(),
            lowest: cheapest.blended(),
            lowest_provider: cheapest.provider_name.clone(),
            median: percentile(&blended, 50.0)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn lowest_and_median_of_paid_offers() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            file,
            "provider_id,provider_name,model_id,model_name,family,context_window,\
             usd_per_mtok_input,usd_per_mtok_output,usd_per_mtok_cache_read\n\
             a,A,org/M-7B,M 7B,m,4096,0.1,0.5,\n\
             b,B,m-7b,M 7B,m,4096,0.3,0.3,0.1\n\
             c,C,org/m-7b,M 7B,m,4096,0.0,0.0,\n\
             d,D,other,Other,m,4096,0.01,0.01,"
        )
        .unwrap();
        let prices = ProviderPrices::load(file.path()).unwrap();
        let ids = vec!["org/m-7b".to_string(), "M-7B".to_string()];
        assert_eq!(prices.offers_for(&ids).count(), 3);
        let summary = prices.summary_for(&ids).unwrap();
        assert_eq!(summary.offers, 2, "the free offer is not a price");
        assert!((summary.lowest - 0.2).abs() < 1e-12);
        assert_eq!(summary.lowest_provider, "A");
        assert!((summary.median - 0.25).abs() < 1e-12);
        assert!(prices.summary_for(&["nothing".to_string()]).is_none());
    }

    #[test]
    fn a_bad_row_names_its_line() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            file,
            "provider_id,provider_name,model_id,model_name,family,context_window,\
             usd_per_mtok_input,usd_per_mtok_output,usd_per_mtok_cache_read\n\
             a,A,m,M,m,1,0.1,0.1,\n\
             b,B,m,M,m,1,cheap,0.1,"
        )
        .unwrap();
        let err = format!("{:#}", ProviderPrices::load(file.path()).unwrap_err());
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn the_vendored_snapshot_reads() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("prices/open_weights_provider_prices.csv");
        let prices = ProviderPrices::load(&path).unwrap();
        assert!(prices.offers.len() > 2_000);
    }
}
