//! What a remote call cost: prices per model, so `cost_usd` is on every
//! remote event and in the analytics.
//!
//! A [`PriceTable`] maps model names to [`Pricing`]. A response is priced
//! by the model the server says it served (`gpt-4o-mini-2024-07-18`), else by
//! the configured deployment or model name, matching the longest known
//! prefix, so dated versions and Azure deployments named after their model
//! need no entry of their own. The defaults are Azure OpenAI's list prices
//! for Global Standard deployments of the models the original platform used
//! and their successors (USD per 1,000 tokens, as published for 2025); a
//! contract price or another model is configured with
//! `SWITCHBOARD_MODEL_PRICES` (see [`PriceTable::parse`]).

use std::fmt;

/// Prices in US dollars per 1,000 tokens.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Pricing {
    /// Dollars per 1,000 prompt tokens.
    pub prompt_per_1k: f64,
    /// Dollars per 1,000 completion tokens.
    pub completion_per_1k: f64,
}

impl Pricing {
    /// The cost of one call.
    pub fn cost(&self, prompt_tokens: u32, completion_tokens: u32) -> f64 {
        (f64::from(prompt_tokens) * self.prompt_per_1k
            + f64::from(completion_tokens) * self.completion_per_1k)
            / 1000.0
    }
}

/// Azure OpenAI Global Standard list prices (USD per 1,000 tokens).
const AZURE_LIST_PRICES: [(&str, f64, f64); 5] = [
    ("gpt-4o-mini", 0.000_15, 0.000_6),
    ("gpt-4o", 0.002_5, 0.01),
    ("gpt-4.1-nano", 0.000_1, 0.000_4),
    ("gpt-4.1-mini", 0.000_4, 0.001_6),
    ("gpt-4.1", 0.002, 0.008),
];

/// Model-name prefixes and their prices.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PriceTable {
    entries: Vec<(String, Pricing)>,
}

/// A price specification that cannot be read; names the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "SWITCHBOARD_MODEL_PRICES entry {entry:?}: {problem} (expected model=PROMPT/COMPLETION in USD per 1,000 tokens, e.g. gpt-4o-mini=0.00015/0.0006)"
)]
pub struct PriceSpecError {
    /// The entry as written.
    pub entry: String,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl PriceTable {
    /// No prices: nothing is costed.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Azure OpenAI's list prices for gpt-4o-mini, gpt-4o and the gpt-4.1
    /// family.
    pub fn azure_list_prices() -> Self {
        let mut table = Self::empty();
        for (model, prompt_per_1k, completion_per_1k) in AZURE_LIST_PRICES {
            table.set(
                model,
                Pricing {
                    prompt_per_1k,
                    completion_per_1k,
                },
            );
        }
        table
    }

    /// Sets (or replaces) the price of `model` and the names it prefixes.
    pub fn set(&mut self, model: &str, pricing: Pricing) {
        let model = model.trim().to_ascii_lowercase();
        self.entries.retain(|(m, _)| *m != model);
        self.entries.push((model, pricing));
    }

    /// Adds the entries of `spec` (`model=PROMPT/COMPLETION`, comma
    /// separated, USD per 1,000 tokens) over this table.
    pub fn parse(mut self, spec: &str) -> Result<Self, PriceSpecError> {
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let err = |problem| PriceSpecError {
                entry: entry.to_owned(),
                problem,
            };
            let (model, prices) = entry.split_once('=').ok_or_else(|| err("no `=`"))?;
            let (prompt, completion) = prices.split_once('/').ok_or_else(|| err("no `/`"))?;
            let price = |s: &str| {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|p| p.is_finite() && *p >= 0.0)
                    .ok_or_else(|| err("a price is not a non-negative number"))
            };
            if model.trim().is_empty() {
                return Err(err("no model name"));
            }
            let pricing = Pricing {
                prompt_per_1k: price(prompt)?,
                completion_per_1k: price(completion)?,
            };
            self.set(model, pricing);
        }
        Ok(self)
    }

    /// The price of the first of `names` (most specific first) that some
    /// entry prefixes, by the longest such prefix.
    pub fn price_of(&self, names: &[&str]) -> Option<Pricing> {
        names.iter().find_map(|name| {
            let name = name.to_ascii_lowercase();
            self.entries
                .iter()
                .filter(|(model, _)| name.starts_with(model.as_str()))
                .max_by_key(|(model, _)| model.len())
                .map(|(_, pricing)| *pricing)
        })
    }
}

impl fmt::Display for PriceTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = self
            .entries
            .iter()
            .map(|(m, p)| format!("{m}={}/{}", p.prompt_per_1k, p.completion_per_1k))
            .collect();
        f.write_str(&entries.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_is_priced_per_thousand_tokens() {
        let pricing = Pricing {
            prompt_per_1k: 0.0025,
            completion_per_1k: 0.01,
        };
        let cost = pricing.cost(2000, 500);
        assert!((cost - 0.01).abs() < 1e-12, "{cost}");
        assert_eq!(pricing.cost(0, 0), 0.0);
    }

    #[test]
    fn the_longest_prefix_of_the_served_model_prices_a_call() {
        let table = PriceTable::azure_list_prices();
        let mini = table
            .price_of(&["gpt-4o-mini-2024-07-18", "my-deployment"])
            .expect("dated gpt-4o-mini is priced");
        assert_eq!(mini.prompt_per_1k, 0.000_15);
        let full = table.price_of(&["GPT-4o-2024-11-20"]).expect("gpt-4o");
        assert_eq!(full.completion_per_1k, 0.01);
        let by_deployment = table
            .price_of(&["", "gpt-4.1-mini-prod"])
            .expect("deployment");
        assert_eq!(by_deployment.prompt_per_1k, 0.000_4);
        assert_eq!(table.price_of(&["smollm2", "local"]), None);
    }

    #[test]
    fn a_spec_adds_and_overrides_prices() {
        let table = PriceTable::azure_list_prices()
            .parse(" smollm2=0.001/0.002 , gpt-4o-mini=0.0002/0.0008")
            .expect("valid spec");
        let small = table.price_of(&["smollm2-135m"]).expect("configured");
        assert_eq!(
            (small.prompt_per_1k, small.completion_per_1k),
            (0.001, 0.002)
        );
        let mini = table.price_of(&["gpt-4o-mini"]).expect("overridden");
        assert_eq!(mini.prompt_per_1k, 0.0002);
        assert!(table.to_string().contains("smollm2=0.001/0.002"));
    }

    #[test]
    fn a_bad_spec_names_its_entry() {
        for (spec, problem) in [
            ("gpt-4o", "no `=`"),
            ("gpt-4o=0.1", "no `/`"),
            ("gpt-4o=abc/0.1", "a price is not a non-negative number"),
            ("gpt-4o=-1/0.1", "a price is not a non-negative number"),
            ("=0.1/0.1", "no model name"),
        ] {
            let err = PriceTable::empty().parse(spec).expect_err(spec);
            assert_eq!(err.problem, problem, "{spec}");
            assert!(err.to_string().contains(spec.trim()), "{err}");
        }
    }
}
