//! Probability cascades (NETFILTER.md §2.4): kube-proxy writes `1/(n−i)` for the i-th of n
//! endpoint rules (`%0.5f` up to v1.16, `%0.10f` since), iptables stores `lround(p · 2^31)`,
//! and the kernel matches with exactly `P32 / 2^31`. The effective share of endpoint i is its
//! rule's probability times the chance that no earlier rule matched.

use serde::Serialize;

use super::ServicePort;
use crate::ext::matches::Statistic;

/// Which kube-proxy wrote the probabilities, read from their values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CascadeForm {
    /// One endpoint: no `statistic` rule at all.
    Single,
    /// `%0.5f` (kube-proxy up to v1.16): `0.33332999982` for 1/3.
    Legacy,
    /// `%0.10f` (v1.17 and later): `0.33333333349` for 1/3.
    Modern,
    /// Not what kube-proxy writes for n endpoints (edited, weighted, or partial).
    Other,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CascadeStep {
    pub endpoint: Option<String>,
    pub chain: String,
    /// As the dump prints it.
    pub shown: Option<String>,
    pub p32: Option<u32>,
    /// The rule's own probability, for connections that reach it.
    pub conditional: f64,
    /// The share of all new connections: exact.
    pub probability: f64,
    /// `1/n`.
    pub ideal: f64,
    /// `probability − 1/n`.
    pub deviation: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cascade {
    pub service: String,
    /// The load-balancing chain (`KUBE-SVC-…` or `KUBE-SVL-…`).
    pub chain: String,
    pub form: CascadeForm,
    pub steps: Vec<CascadeStep>,
    /// The effective probabilities' sum (1 for a complete cascade).
    pub sum: f64,
    /// How far apart the effective probabilities are: largest minus smallest.
    pub spread: f64,
    /// The largest `|probability − 1/n|`.
    pub max_deviation: f64,
    /// Connections that match no endpoint rule.
    pub unmatched: f64,
}

/// P32 for `1/k` as a given kube-proxy printed it (`decimals` 5 or 10).
fn p32_written(k: usize, decimals: usize) -> u32 {
    let written: f64 = format!("{:.*}", decimals, 1.0 / k as f64)
        .parse()
        .unwrap_or(0.0);
    (written * 2_147_483_648.0).round() as u32
}

impl Cascade {
    /// The Service's first cascade (its `KUBE-SVC` chain, else its `KUBE-SVL`).
    pub fn of(service: &ServicePort) -> Cascade {
        Cascade::all(service).into_iter().next().unwrap_or(Cascade {
            service: service.name.clone(),
            chain: String::new(),
            form: CascadeForm::Single,
            steps: Vec::new(),
            sum: 0.0,
            spread: 0.0,
            max_deviation: 0.0,
            unmatched: 0.0,
        })
    }

    /// One cascade per load-balancing chain of the Service, in order.
    pub fn all(service: &ServicePort) -> Vec<Cascade> {
        let mut chains: Vec<&str> = Vec::new();
        for e in &service.endpoints {
            if !chains.contains(&e.rule.chain.as_str()) {
                chains.push(&e.rule.chain);
            }
        }
        chains
            .into_iter()
            .enumerate()
            .map(|(i, chain)| Cascade::of_chain(service, chain, i == 0))
            .collect()
    }

    fn of_chain(service: &ServicePort, chain: &str, first: bool) -> Cascade {
        let endpoints: Vec<&super::Endpoint> = service
            .endpoints
            .iter()
            .filter(|e| e.rule.chain == chain)
            .collect();
        let n = endpoints.len();
        let ideal = if n == 0 { 0.0 } else { 1.0 / n as f64 };
        let steps: Vec<CascadeStep> = endpoints
            .iter()
            .map(|e| CascadeStep {
                endpoint: e.address.clone(),
                chain: e.chain.clone(),
                shown: e.shown.clone(),
                p32: e.p32,
                conditional: e.p32.map_or(1.0, Statistic::probability),
                probability: e.probability,
                ideal,
                deviation: e.probability - ideal,
            })
            .collect();
        let p32s: Vec<Option<u32>> = steps.iter().map(|s| s.p32).collect();
        let written = |decimals: usize| -> Vec<Option<u32>> {
            (0..n)
                .map(|i| (i + 1 < n).then(|| p32_written(n - i, decimals)))
                .collect()
        };
        let form = if n <= 1 && p32s.iter().all(Option::is_none) {
            CascadeForm::Single
        } else if p32s == written(10) {
            CascadeForm::Modern
        } else if p32s == written(5) {
            CascadeForm::Legacy
        } else {
            CascadeForm::Other
        };
        let unmatched = if first {
            service.unmatched
        } else {
            let sum: f64 = steps.iter().map(|s| s.probability).sum();
            (1.0 - sum).max(0.0)
        };
        Cascade {
            service: service.name.clone(),
            chain: chain.to_string(),
            form,
            sum: steps.iter().map(|s| s.probability).sum(),
            spread: if steps.is_empty() {
                0.0
            } else {
                steps.iter().map(|s| s.probability).fold(f64::MIN, f64::max)
                    - steps.iter().map(|s| s.probability).fold(f64::MAX, f64::min)
            },
            max_deviation: steps.iter().map(|s| s.deviation.abs()).fold(0.0, f64::max),
            unmatched,
            steps,
        }
    }
}

/// The Service's first cascade sampled as the kernel runs it: for each of `samples` new connections, each
/// rule draws a 31-bit random number and matches when it is below P32. Returns the share of
/// connections per endpoint (and, last, the share that matched none). Seeded and deterministic.
pub fn monte_carlo(service: &ServicePort, samples: u32, seed: u64) -> Vec<f64> {
    let first = service.endpoints.first().map(|e| e.rule.chain.as_str());
    let endpoints: Vec<&super::Endpoint> = service
        .endpoints
        .iter()
        .filter(|e| Some(e.rule.chain.as_str()) == first)
        .collect();
    let n = endpoints.len();
    let mut counts = vec![0u32; n + 1];
    let mut rng = crate::rng::SplitMix64::new(seed);
    let mut next = || rng.next_u32();
    for _ in 0..samples {
        let hit = endpoints
            .iter()
            .position(|e| e.p32.is_none_or(|p32| (next() & 0x7fff_ffff) < p32));
        counts[hit.unwrap_or(n)] += 1;
    }
    counts
        .into_iter()
        .map(|c| f64::from(c) / f64::from(samples.max(1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_probabilities_match_the_reference_table() {
        // NETFILTER.md §2.4: 1/3 and 1/7 in both kube-proxy forms.
        assert_eq!(p32_written(3, 5), 0x2aaa_8eb4);
        assert_eq!(p32_written(3, 10), 0x2aaa_aaab);
        assert_eq!(p32_written(7, 5), 0x1249_3c8a);
        assert_eq!(p32_written(7, 10), 0x1249_2492);
        assert_eq!(p32_written(2, 5), 0x4000_0000);
    }
}
