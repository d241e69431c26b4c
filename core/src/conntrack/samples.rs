//! Measured samples to lay over the model: the seed's log (`DATE : count / max`), plain counts
//! one per line, CSV with a header (a time column and a count column, by name), and
//! `conntrack -L` output grouped into SNAT pools.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::parse::conntrack::ConntrackEntry;

/// One measurement: seconds from the first sample, and the count.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Sample {
    pub t: f64,
    pub count: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Samples {
    pub samples: Vec<Sample>,
    /// `conntrack_max`, when the log carries it.
    pub max: Option<f64>,
    /// Lines not understood, with their 1-based numbers: shown, never silently dropped.
    pub skipped: Vec<(usize, String)>,
}

/// Seconds since the epoch for `YYYY-MM-DDTHH:MM:SS[.f][Z|±HH:MM]` (or a space for `T`);
/// only differences matter, so the offset is applied and the calendar is proleptic Gregorian.
fn timestamp(text: &str) -> Option<f64> {
    let text = text.trim();
    let (date, rest) = text.split_at_checked(10)?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let rest = rest.strip_prefix(['T', ' '])?;
    let (clock, zone) = match rest.find(['Z', '+', '-']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let mut c = clock.split(':');
    let h: f64 = c.next()?.parse().ok()?;
    let min: f64 = c.next()?.parse().ok()?;
    let sec: f64 = c.next().unwrap_or("0").parse().ok()?;
    let offset = match zone {
        "" | "Z" => 0.0,
        z => {
            let sign = if z.starts_with('-') { -1.0 } else { 1.0 };
            let (zh, zm) = z[1..].split_once(':').unwrap_or((&z[1..], "0"));
            sign * (zh.parse::<f64>().ok()? * 3600.0 + zm.parse::<f64>().ok()? * 60.0)
        }
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days as f64 * 86400.0 + h * 3600.0 + min * 60.0 + sec - offset)
}

/// Reads measured samples in any of the supported forms.
pub fn parse_samples(text: &str) -> Samples {
    let mut out = Samples {
        samples: Vec::new(),
        max: None,
        skipped: Vec::new(),
    };
    let mut raw: Vec<(Option<f64>, f64)> = Vec::new();
    let mut columns: Option<(Option<usize>, usize, Option<usize>)> = None;
    // Dates are made relative to the first sample; plain seconds are not.
    let mut relative = true;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // `DATE : count / max`
        if let Some((date, rest)) = line.rsplit_once(" : ")
            && let Some((count, max)) = rest.split_once('/')
            && let (Ok(count), Ok(max)) = (count.trim().parse::<f64>(), max.trim().parse::<f64>())
        {
            raw.push((timestamp(date).or_else(|| loose_date(date)), count));
            out.max = Some(max);
            continue;
        }
        if line.contains(',') {
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            if columns.is_none()
                && cells
                    .iter()
                    .any(|c| c.parse::<f64>().is_err() && timestamp(c).is_none())
            {
                let find = |names: &[&str]| {
                    cells.iter().position(|c| {
                        let c = c.to_ascii_lowercase();
                        names.iter().any(|n| c.contains(n))
                    })
                };
                let count = find(&["count", "entries"]).unwrap_or(1.min(cells.len() - 1));
                columns = Some((
                    find(&["time", "t_s", "date", "second"]),
                    count,
                    find(&["max"]),
                ));
                continue;
            }
            let (time, count, max) = columns.unwrap_or((Some(0), 1, None));
            let value = cells.get(count).and_then(|c| c.parse::<f64>().ok());
            let Some(value) = value else {
                out.skipped.push((n + 1, line.to_string()));
                continue;
            };
            let cell = time.and_then(|i| cells.get(i));
            if let Some(seconds) = cell.and_then(|c| c.parse::<f64>().ok()) {
                // Plain seconds are kept as they are (a run's own clock).
                relative = false;
                raw.push((Some(seconds), value));
                continue;
            }
            let t = cell.and_then(|c| timestamp(c));
            if let Some(m) = max.and_then(|i| cells.get(i)).and_then(|c| c.parse().ok()) {
                out.max = Some(m);
            }
            raw.push((t, value));
            continue;
        }
        match line.parse::<f64>() {
            Ok(count) => raw.push((None, count)),
            Err(_) => out.skipped.push((n + 1, line.to_string())),
        }
    }
    let first = if relative {
        raw.iter().find_map(|(t, _)| *t)
    } else {
        Some(0.0)
    };
    out.samples = raw
        .iter()
        .enumerate()
        .map(|(i, (t, count))| Sample {
            // Without times, one sample a second.
            t: match (t, first) {
                (Some(t), Some(f)) => t - f,
                _ => i as f64,
            },
            count: *count,
        })
        .collect();
    out
}

/// `Fri May 19 13:52:34 KST 2017`-style dates, as `date` prints them: only the clock is used.
fn loose_date(text: &str) -> Option<f64> {
    let clock = text
        .split_whitespace()
        .find(|w| w.matches(':').count() == 2)?;
    let mut c = clock.split(':').map(|p| p.parse::<f64>().ok());
    Some(c.next()?? * 3600.0 + c.next()?? * 60.0 + c.next()??)
}

/// SNAT pools seen in `conntrack -L` entries: the reply tuple's (endpoint address:port, SNAT
/// address, protocol) with how many entries hold a port of it.
pub fn pool_occupancy(entries: &[ConntrackEntry]) -> Vec<(String, usize)> {
    let mut pools: BTreeMap<String, usize> = BTreeMap::new();
    for e in entries.iter().filter(|e| e.snat()) {
        let endpoint = match e.reply.sport {
            Some(p) => std::net::SocketAddr::new(e.reply.src, p).to_string(),
            None => e.reply.src.to_string(),
        };
        *pools
            .entry(format!("{} → {endpoint}/{}", e.reply.dst, e.protocol))
            .or_default() += 1;
    }
    pools.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_reads() {
        let log = "Fri May 19 13:52:34 KST 2017 : 33 / 4194304\nFri May 19 13:52:36 KST 2017 : 149 / 4194304\n";
        let s = parse_samples(log);
        assert_eq!(
            s.samples,
            [
                Sample {
                    t: 0.0,
                    count: 33.0
                },
                Sample {
                    t: 2.0,
                    count: 149.0
                }
            ]
        );
        assert_eq!(s.max, Some(4_194_304.0));
        let plain = parse_samples("10\n20\nnot a number\n30\n");
        assert_eq!(plain.samples.len(), 3);
        assert_eq!(
            plain.samples[2],
            Sample {
                t: 2.0,
                count: 30.0
            }
        );
        assert_eq!(plain.skipped, [(3, "not a number".to_string())]);
        let csv = parse_samples(
            "timestamp_kst,conntrack_count,conntrack_max\n2017-05-19T13:52:34+09:00,33,4194304\n2017-05-19T13:52:40+09:00,266,4194304\n",
        );
        assert_eq!(
            csv.samples[1],
            Sample {
                t: 6.0,
                count: 266.0
            }
        );
        assert_eq!(csv.max, Some(4_194_304.0));
        let kernel =
            parse_samples("t_s,conntrack_count,insert_failed_total\n1.0,2405,0\n2.0,4906,0\n");
        assert_eq!(
            kernel.samples[1],
            Sample {
                t: 2.0,
                count: 4906.0
            }
        );
    }
}

/// A measured rise fitted with the model's shape for fresh client ports: a baseline, then
/// `rate` new entries a second from `start` until they begin to time out after `lifetime`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Fit {
    pub start: f64,
    pub rate: f64,
    pub baseline: f64,
    pub lifetime: f64,
    /// Root-mean-square distance of the samples from the fitted curve.
    pub rms: f64,
    /// The time of the highest sample: the fit uses the samples up to it.
    pub peak: f64,
}

impl Fit {
    pub fn at(&self, t: f64) -> f64 {
        self.baseline + self.rate * (t - self.start).clamp(0.0, self.lifetime)
    }
}

/// Fits start and rate to the samples up to the highest one (grid search: rates in steps of
/// 100/s then 5/s, starts in steps of at least 1 s then a quarter of that); the baseline is the
/// first sample. The work is bounded whatever the samples: a fixed grid, scored on at most
/// 500 of the rising samples.
pub fn fit(samples: &[Sample], lifetime: f64) -> Option<Fit> {
    let peak = samples
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.count.total_cmp(&b.1.count))?
        .0;
    let all = &samples[..=peak];
    let baseline = all.first()?.count;
    let (first, last) = (all.first()?.t, all[peak].t);
    let every = all.len().div_ceil(500).max(1);
    let rising: Vec<&Sample> = all.iter().step_by(every).collect();
    let score = |start: f64, rate: f64| {
        let f = Fit {
            start,
            rate,
            baseline,
            lifetime,
            rms: 0.0,
            peak: last,
        };
        let sq: f64 = rising.iter().map(|s| (s.count - f.at(s.t)).powi(2)).sum();
        Fit {
            rms: (sq / rising.len() as f64).sqrt(),
            ..f
        }
    };
    if !(first.is_finite() && last.is_finite() && lifetime.is_finite()) {
        return None;
    }
    // Coarse (100/s over 100–50,000/s; starts in at most 200 steps, at least 1 s apart),
    // then fine (5/s, a quarter of the coarse step) around the best: a fixed number of
    // trials whatever the samples' times (a sample at 1e17 s, two samples 1e9 s apart).
    let mut best: Option<Fit> = None;
    let grid = |rates: (f64, f64, u32), starts: (f64, f64, u32), best: &mut Option<Fit>| {
        for i in 0..=rates.2 {
            let rate = rates.0 + (rates.1 - rates.0) * f64::from(i) / f64::from(rates.2.max(1));
            for j in 0..=starts.2 {
                let start =
                    starts.0 + (starts.1 - starts.0) * f64::from(j) / f64::from(starts.2.max(1));
                let f = score(start, rate);
                if best.is_none_or(|b| f.rms < b.rms) {
                    *best = Some(f);
                }
            }
        }
    };
    let span = last - (first - lifetime);
    let steps = span.clamp(1.0, 200.0) as u32;
    let step = span / f64::from(steps.max(1));
    grid(
        (100.0, 50_000.0, 499),
        (first - lifetime, last, steps),
        &mut best,
    );
    let coarse = best?;
    grid(
        ((coarse.rate - 100.0).max(5.0), coarse.rate + 100.0, 40),
        (coarse.start - step, coarse.start + step, 8),
        &mut best,
    );
    best
}
