//! Charts as standalone SVG text, shared by the app (shown as is), the CLI and exports: the
//! probability cascade of a Service and the conntrack growth curve. Every piece of user text
//! is escaped. Written by hand rather than with plotters: its text layout needs a font engine
//! natively (font-kit or ab_glyph with an embedded font) and the canvas in the browser, while
//! these two charts only need axes, bars, lines and labels.

use std::fmt::Write as _;

use super::svg::escape;
use crate::conntrack::{Sample, Series};
use crate::kube::Cascade;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 64.0;

fn open(out: &mut String, label: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{}" font-family="ui-monospace, monospace" font-size="11">"#,
        escape(label)
    );
    out.push_str(
        "<style>.axis{stroke:#8c959f;stroke-width:1}.grid{stroke:#8c959f;stroke-opacity:.25}.t{fill:#57606a}\
         .bar{fill:#1d4ed8;fill-opacity:.75}.ideal{stroke:#cf222e;stroke-dasharray:5 4;stroke-width:1.5}\
         .live{fill:none;stroke:#1d4ed8;stroke-width:2}.count{fill:none;stroke:#9a6700;stroke-width:1.5;stroke-dasharray:4 3}\
         .flows{fill:none;stroke:#8250df;stroke-width:1.5}.ceiling{stroke:#cf222e;stroke-width:1.5;stroke-dasharray:6 4}\
         .drop{fill:#cf222e;fill-opacity:.18}.measured{fill:#1a7f37}\
         @media (prefers-color-scheme: dark){.t{fill:#9198a1}.bar{fill:#4493f8}}</style>",
    );
}

/// A y axis from 0 to `max` with 5 grid lines, labelled by `label(value)`.
fn y_axis(out: &mut String, max: f64, label: &dyn Fn(f64) -> String) {
    let plot_h = HEIGHT - TOP - BOTTOM;
    for k in 0..=5 {
        let v = max * f64::from(k) / 5.0;
        let y = HEIGHT - BOTTOM - plot_h * f64::from(k) / 5.0;
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/><text class="t" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            escape(&label(v))
        );
    }
    let _ = write!(
        out,
        r#"<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{:.1}"/><line class="axis" x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/>"#,
        HEIGHT - BOTTOM,
        HEIGHT - BOTTOM,
        WIDTH - RIGHT,
        HEIGHT - BOTTOM
    );
}

fn title(out: &mut String, text: &str) {
    let _ = write!(
        out,
        r#"<text x="{LEFT}" y="16" font-size="12" font-weight="600">{}</text>"#,
        escape(text)
    );
}

/// A nice upper bound for an axis: 1, 2 or 5 times a power of ten at or above `v`.
fn nice(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * p)
}

/// Effective probability per endpoint as bars, `1/n` as a dashed line, each bar labelled with
/// its endpoint and its rule's own probability.
pub fn cascade_svg(c: &Cascade) -> String {
    let mut out = String::new();
    open(&mut out, &format!("probability cascade of {}", c.service));
    title(
        &mut out,
        &format!(
            "{} — {} endpoint{}, effective share per endpoint (dashed: 1/n)",
            c.service,
            c.steps.len(),
            if c.steps.len() == 1 { "" } else { "s" }
        ),
    );
    let top = c
        .steps
        .iter()
        .map(|s| s.probability.max(s.ideal))
        .fold(0.0, f64::max);
    let max = nice(top * 1.15);
    y_axis(&mut out, max, &|v| format!("{:.0}%", v * 100.0));
    let n = c.steps.len().max(1) as f64;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / n;
    let y = |v: f64| HEIGHT - BOTTOM - plot_h * v / max;
    for (i, s) in c.steps.iter().enumerate() {
        let x = LEFT + slot * i as f64 + slot * 0.15;
        let w = slot * 0.7;
        let endpoint = s
            .endpoint
            .clone()
            .unwrap_or_else(|| "(not in paste)".into());
        let _ = write!(
            out,
            r#"<rect class="bar" x="{x:.1}" y="{:.1}" width="{w:.1}" height="{:.1}"><title>{}: {:.6}% of connections (rule {}; 1/n = {:.6}%)</title></rect>"#,
            y(s.probability),
            (HEIGHT - BOTTOM - y(s.probability)).max(0.0),
            escape(&endpoint),
            s.probability * 100.0,
            escape(s.shown.as_deref().unwrap_or("takes the rest")),
            s.ideal * 100.0
        );
        let cx = x + w / 2.0;
        let _ = write!(
            out,
            r#"<text class="t" x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text><text class="t" x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text><text x="{cx:.1}" y="{:.1}" text-anchor="middle" font-size="10">{:.4}%</text>"#,
            HEIGHT - BOTTOM + 16.0,
            escape(&truncate(&endpoint, (slot / 6.6) as usize)),
            HEIGHT - BOTTOM + 30.0,
            escape(s.shown.as_deref().unwrap_or("rest")),
            y(s.probability) - 4.0,
            s.probability * 100.0
        );
    }
    if let Some(ideal) = c.steps.first().map(|s| s.ideal) {
        let _ = write!(
            out,
            r#"<line class="ideal" x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/>"#,
            y(ideal),
            WIDTH - RIGHT,
            y(ideal)
        );
    }
    let _ = write!(
        out,
        r#"<text class="t" x="{LEFT}" y="{:.1}">spread {:.2e}; sum {:.12}; per-rule probability under each endpoint</text></svg>"#,
        HEIGHT - 8.0,
        c.spread,
        c.sum
    );
    out
}

fn truncate(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars.max(4) {
        text.to_string()
    } else {
        let keep: String = text.chars().take(chars.max(4) - 1).collect();
        format!("{keep}…")
    }
}

/// Live entries (and the count with unreaped entries) over time, the pools' ceiling, refused
/// flows as shaded bars, and measured samples as dots (shifted by `offset` seconds).
pub fn conntrack_svg(
    label: &str,
    runs: &[&Series],
    ceiling: Option<f64>,
    measured: Option<(&[Sample], f64)>,
) -> String {
    let mut out = String::new();
    open(&mut out, &format!("conntrack entries over time: {label}"));
    title(&mut out, label);
    let duration = runs
        .iter()
        .filter_map(|s| s.points.last().map(|p| p.t))
        .fold(1.0, f64::max);
    let top = runs
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.count.max(p.entries)))
        .chain(ceiling)
        .chain(
            measured
                .into_iter()
                .flat_map(|(m, _)| m.iter().map(|s| s.count)),
        )
        .fold(0.0, f64::max);
    let max = nice(top * 1.1);
    y_axis(&mut out, max, &|v| {
        if v >= 1000.0 {
            format!("{:.0}k", v / 1000.0)
        } else {
            format!("{v:.0}")
        }
    });
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |t: f64| LEFT + plot_w * (t / duration).clamp(0.0, 1.0);
    let y = |v: f64| HEIGHT - BOTTOM - plot_h * (v / max).clamp(0.0, 1.0);
    for k in 0..=5 {
        let t = duration * f64::from(k) / 5.0;
        let _ = write!(
            out,
            r#"<text class="t" x="{:.1}" y="{:.1}" text-anchor="middle">{t:.0} s</text>"#,
            x(t),
            HEIGHT - BOTTOM + 16.0
        );
    }
    if let Some(run) = runs.first() {
        // Refused flows: a shaded bar per second, scaled to the plot's height by the rate.
        let peak = run
            .points
            .iter()
            .map(|p| p.accepted_per_s + p.dropped_per_s)
            .fold(1.0, f64::max);
        let w = plot_w / duration;
        for p in run.points.iter().filter(|p| p.dropped_per_s > 0.0) {
            let h = plot_h * p.dropped_per_s / peak;
            let _ = write!(
                out,
                r#"<rect class="drop" x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}"><title>{:.0} s: {:.0} new flows/s refused</title></rect>"#,
                x(p.t - 1.0),
                HEIGHT - BOTTOM - h,
                w.max(1.0),
                p.t,
                p.dropped_per_s
            );
        }
    }
    if let Some(c) = ceiling {
        let _ = write!(
            out,
            r#"<line class="ceiling" x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}"><title>SNAT pool ceiling: {c:.0} ports</title></line><text class="t" x="{:.1}" y="{:.1}" text-anchor="end">pool ceiling {c:.0}</text>"#,
            y(c),
            WIDTH - RIGHT,
            y(c),
            WIDTH - RIGHT,
            y(c) - 4.0
        );
    }
    for (i, run) in runs.iter().enumerate() {
        let path = |f: &dyn Fn(&crate::conntrack::Point) -> f64| {
            let mut d = String::new();
            for (k, p) in run.points.iter().enumerate() {
                let _ = write!(
                    d,
                    "{}{:.1},{:.1}",
                    if k == 0 { "M" } else { " L" },
                    x(p.t),
                    y(f(p))
                );
            }
            d
        };
        let class = if i == 0 { "live" } else { "flows" };
        let _ = write!(
            out,
            r#"<path class="{class}" d="{}"><title>live entries ({} mode)</title></path>"#,
            path(&|p| p.entries),
            run.mode
        );
        if i == 0 {
            let _ = write!(
                out,
                r#"<path class="count" d="{}"><title>nf_conntrack_count (with timed-out entries not yet reaped)</title></path>"#,
                path(&|p| p.count)
            );
        }
        if let Some(t) = run.first_drop {
            let _ = write!(
                out,
                r#"<line class="ceiling" x1="{:.1}" y1="{TOP}" x2="{:.1}" y2="{:.1}"/><text x="{:.1}" y="{:.1}" font-size="10">first refusal {t:.0} s</text>"#,
                x(t),
                x(t),
                HEIGHT - BOTTOM,
                x(t) + 4.0,
                TOP + 12.0
            );
        }
    }
    if let Some((samples, offset)) = measured {
        for s in samples {
            let t = s.t - offset;
            if t < 0.0 || t > duration {
                continue;
            }
            let _ = write!(
                out,
                r#"<circle class="measured" cx="{:.1}" cy="{:.1}" r="2.5"><title>measured {:.0} at {t:.0} s</title></circle>"#,
                x(t),
                y(s.count),
                s.count
            );
        }
    }
    let _ = write!(
        out,
        r#"<text class="t" x="{LEFT}" y="{:.1}">blue: live entries; dashed: nf_conntrack_count; red: pool ceiling; shaded: refused/s; dots: measured</text></svg>"#,
        HEIGHT - 8.0
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::{Cascade, decode};

    #[test]
    fn cascade_chart_escapes_user_text() {
        let dump = "*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-AAAA - [0:0]\n\
            -A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment \"ns/x<img src=x onerror=alert(1)>:p cluster IP\" -m tcp --dport 80 -j KUBE-SVC-AAAA\n\
            -A KUBE-SVC-AAAA -m comment --comment \"<script>alert(1)</script> -> 10.0.0.1:80\" -m statistic --mode random --probability 0.5 -j KUBE-SEP-A\n\
            -A KUBE-SVC-AAAA -j KUBE-SEP-B\nCOMMIT\n";
        let services = decode(&crate::parse(dump).ruleset);
        let svg = cascade_svg(&Cascade::of(&services[0]));
        assert!(!svg.contains("<img") && !svg.contains("<script"), "{svg}");
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 2);
    }
}
