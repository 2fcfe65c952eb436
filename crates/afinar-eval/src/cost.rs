//! Rough request prices for the estimate `afinar eval` prints before sending: OpenAI's
//! list prices (US dollars per million tokens, 2025) for the models people fine-tune,
//! base and fine-tuned. Other models (Azure deployments, open models) have no price
//! here and get a token count only.

/// US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
}

/// (model prefix, base price, fine-tuned price); longer prefixes first.
const PRICES: &[(&str, Price, Price)] = &[
    (
        "gpt-4.1-mini",
        Price {
            input: 0.40,
            output: 1.60,
        },
        Price {
            input: 0.80,
            output: 3.20,
        },
    ),
    (
        "gpt-4.1-nano",
        Price {
            input: 0.10,
            output: 0.40,
        },
        Price {
            input: 0.20,
            output: 0.80,
        },
    ),
    (
        "gpt-4.1",
        Price {
            input: 2.00,
            output: 8.00,
        },
        Price {
            input: 3.00,
            output: 12.00,
        },
    ),
    (
        "gpt-4o-mini",
        Price {
            input: 0.15,
            output: 0.60,
        },
        Price {
            input: 0.30,
            output: 1.20,
        },
    ),
    (
        "gpt-4o",
        Price {
            input: 2.50,
            output: 10.00,
        },
        Price {
            input: 3.75,
            output: 15.00,
        },
    ),
];

/// The price of `model`: `ft:BASE:org:suffix:id` at the fine-tuned price of BASE.
pub fn price(model: &str) -> Option<Price> {
    let (name, tuned) = match model.strip_prefix("ft:") {
        Some(rest) => (rest.split(':').next().unwrap_or(rest), true),
        None => (model, false),
    };
    PRICES
        .iter()
        .find(|(prefix, _, _)| name.starts_with(prefix))
        .map(|(_, base, ft)| if tuned { *ft } else { *base })
}

/// Dollars for these token counts.
pub fn cost(price: Price, input_tokens: u64, output_tokens: u64) -> f64 {
    (input_tokens as f64 * price.input + output_tokens as f64 * price.output) / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fine_tuned_names_get_the_fine_tuned_price() {
        assert_eq!(
            price("gpt-4.1-mini-2025-04-14").map(|p| p.input),
            Some(0.40)
        );
        assert_eq!(
            price("ft:gpt-4.1-mini-2025-04-14:contabil:faq:AbC123").map(|p| p.output),
            Some(3.20)
        );
        assert_eq!(price("gpt-4.1").map(|p| p.input), Some(2.00));
        assert_eq!(price("gpt-4o-mini").map(|p| p.input), Some(0.15));
        assert_eq!(price("qwen2.5-7b-faq"), None);
        let p = Price {
            input: 1.0,
            output: 2.0,
        };
        assert!((cost(p, 1_000_000, 500_000) - 2.0).abs() < 1e-12);
    }
}
