//! Charts as standalone SVG text, drawn with plotters and shared by the app (shown as is), the
//! CLI and exports: the probability cascade of a Service and the conntrack growth curve, with
//! axis titles and units, and legends with swatches. plotters measures text with a font
//! engine natively and with the page's DOM on wasm32, which a worker has not: [`Measured`]
//! gives it an estimate instead, so the app's worker and the CLI draw the same chart.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_backend as pb;
use plotters_backend::{BackendColor, BackendCoord, DrawingErrorKind};

use crate::conntrack::{Routing, Sample, Series};
use crate::kube::Cascade;

/// The width charts are drawn at unless asked for another (the CLI, exports), and the range a
/// panel may ask for; the height stays.
pub const WIDTH: u32 = 760;
pub const WIDTHS: std::ops::RangeInclusive<u32> = 480..=1600;
const HEIGHT: u32 = 360;
const FONT: &str = "sans-serif";
/// plotters draws a font of size `s` at `s / 1.24` px (its points to pixels); the backend's
/// estimate is asked with the drawn size, the legend's own layout with this.
const PLOTTERS_PX_PER_SIZE: f64 = 1.24;

const BLUE: RGBColor = RGBColor(0x1d, 0x4e, 0xd8);
const AMBER: RGBColor = RGBColor(0x9a, 0x67, 0x00);
const PURPLE: RGBColor = RGBColor(0x82, 0x50, 0xdf);
const RED: RGBColor = RGBColor(0xcf, 0x22, 0x2e);
const GREEN: RGBColor = RGBColor(0x1a, 0x7f, 0x37);
const GREY: RGBColor = RGBColor(0x8c, 0x95, 0x9f);
/// One colour per pool drawn, after the total's blue.
const POOL_COLOURS: [RGBColor; 4] = [
    RGBColor(0x0a, 0x85, 0x9e),
    RGBColor(0xbf, 0x39, 0x89),
    RGBColor(0x6e, 0x77, 0x81),
    RGBColor(0xbc, 0x4c, 0x00),
];
/// How many pools get a curve and a ceiling of their own (the rest are in the total).
const POOLS_DRAWN: usize = 4;

/// A drawing backend that draws with `B` and estimates text sizes itself (0.55 em per
/// character, 1.2 em per line), so no font engine and no DOM is asked.
struct Measured<B>(B);

impl<B: DrawingBackend> DrawingBackend for Measured<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: pb::BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: pb::BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: pb::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_path(path, style)
    }

    fn draw_circle<S: pb::BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: pb::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }

    fn draw_text<S: pb::BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_text(text, style, pos)
    }

    fn estimate_text_size<S: pb::BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        Ok(text_size(text, style.size()))
    }
}

/// The estimated (width, height) of `text` at `size` px.
fn text_size(text: &str, size: f64) -> (u32, u32) {
    let widest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    let lines = text.lines().count().max(1);
    (
        (widest as f64 * size * 0.55).ceil() as u32,
        (lines as f64 * size * 1.2).ceil() as u32,
    )
}

/// Draws into an SVG document of the charts' size, labelled `label` for screen readers; a
/// drawing error (none is expected: the backend writes to a string) leaves what was drawn.
fn svg<T: Default>(
    label: &str,
    width: u32,
    draw: impl FnOnce(&DrawingArea<Measured<SVGBackend>, Shift>) -> Result<T, String>,
) -> (String, T) {
    let mut out = String::new();
    let drawn;
    {
        let root = Measured(SVGBackend::with_string(&mut out, (width, HEIGHT))).into_drawing_area();
        drawn = draw(&root).unwrap_or_default();
        let _ = root.present();
    }
    let svg = out.replacen(
        "<svg ",
        &format!(
            r#"<svg role="img" aria-label="{}" "#,
            super::svg::escape(label)
        ),
        1,
    );
    (svg, drawn)
}

/// Where a chart's plot area is, in the SVG's own units, and the x values at its left and
/// right edges: what a pointer read-out needs to map a position to a value.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlotArea {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
    pub x_from: f64,
    pub x_to: f64,
}

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// A legend of `entries` (label, colour, dashed) with swatches, in one row from `(x, y)`.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    entries: &[(String, RGBColor, bool)],
) -> Result<(), String> {
    let (mut at, mut y) = (x, y);
    let right = area.dim_in_pixel().0 as i32 - 8;
    for (label, colour, dashed) in entries {
        let width = 24 + text_size(label, 14.0 / PLOTTERS_PX_PER_SIZE).0 as i32 + 18;
        // Wrap to a second row rather than run off the chart.
        if at > x && at + width > right {
            (at, y) = (x, y + 18);
        }
        if *dashed {
            for k in 0..3 {
                area.draw(&PathElement::new(
                    vec![(at + k * 7, y), (at + k * 7 + 4, y)],
                    colour.stroke_width(2),
                ))
                .map_err(err)?;
            }
        } else {
            area.draw(&Rectangle::new(
                [(at, y - 5), (at + 18, y + 5)],
                colour.mix(0.8).filled(),
            ))
            .map_err(err)?;
        }
        area.draw(&Text::new(
            label.clone(),
            (at + 24, y - 6),
            (FONT, 14).into_font().color(&BLACK),
        ))
        .map_err(err)?;
        at += width;
    }
    Ok(())
}

/// A short form of `text`, at most `chars` characters (`…` marks the cut).
fn truncate(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars.max(4) {
        text.to_string()
    } else {
        let keep: String = text.chars().take(chars.max(4) - 1).collect();
        format!("{keep}…")
    }
}

/// A nice upper bound for an axis: 1, 2, 2.5 or 5 times a power of ten at or above `v`.
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

/// Effective share of new connections per endpoint as bars, `1/n` as a dashed line; each bar
/// named by its endpoint and its rule's own probability.
pub fn cascade_svg(c: &Cascade) -> String {
    cascade_chart(c, WIDTH).0
}

/// [`cascade_svg`] `width` units wide (clamped to [`WIDTHS`]), labels cut to fit, with where
/// its plot area is: its x runs from 0 to the number of endpoints, one bar each.
pub fn cascade_chart(c: &Cascade, width: u32) -> (String, PlotArea) {
    let width = width.clamp(*WIDTHS.start(), *WIDTHS.end());
    let n = c.steps.len().max(1);
    let top = c
        .steps
        .iter()
        .map(|s| s.probability.max(s.ideal))
        .fold(0.0, f64::max);
    // Shares are at most 100 %: no axis past it.
    let max = nice(top * 1.15).min(1.0).max(top);
    let title = format!(
        "{} — {n} endpoint{}",
        truncate(&c.service, (width as usize - 200) / 10),
        if n == 1 { "" } else { "s" }
    );
    let labels: Vec<String> = c
        .steps
        .iter()
        .map(|s| {
            truncate(
                s.endpoint.as_deref().unwrap_or("(not in the paste)"),
                ((width as usize - 120) / n / 7).max(6),
            )
        })
        .collect();
    // One segment per endpoint; a lone endpoint gets two (plotters cannot map a range of
    // one) and its bar spans both, named in the axis title.
    let (span, k) = if n == 1 { (2, 2) } else { (n, 1) };
    let x_desc = match (n, labels.first()) {
        (1, Some(only)) => format!("endpoint {only}"),
        _ => "endpoint".to_string(),
    };
    svg(
        &format!("probability cascade of {}", c.service),
        width,
        |root| -> Result<PlotArea, String> {
            let mut chart = ChartBuilder::on(root)
                .caption(&title, (FONT, 18))
                .margin(12)
                .margin_top(8)
                .margin_bottom(30)
                .x_label_area_size(46)
                .y_label_area_size(64)
                .build_cartesian_2d((0..span - 1).into_segmented(), 0f64..max)
                .map_err(err)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .y_desc("share of new connections")
                .x_desc(&x_desc)
                .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) if k == 1 => {
                        labels.get(*i).cloned().unwrap_or_default()
                    }
                    _ => String::new(),
                })
                .x_labels(span)
                .label_style((FONT, 13))
                .axis_desc_style((FONT, 14))
                .y_labels(6)
                .light_line_style(TRANSPARENT)
                .bold_line_style(GREY.mix(0.3))
                .draw()
                .map_err(err)?;
            chart
                .draw_series(c.steps.iter().enumerate().map(|(i, s)| {
                    let mut bar = Rectangle::new(
                        [
                            (SegmentValue::Exact(i * k), 0.0),
                            (SegmentValue::Exact((i + 1) * k), s.probability),
                        ],
                        BLUE.mix(0.75).filled(),
                    );
                    bar.set_margin(0, 0, 8, 8);
                    bar
                }))
                .map_err(err)?;
            if let Some(ideal) = c.steps.first().map(|s| s.ideal) {
                chart
                    .draw_series(DashedLineSeries::new(
                        [
                            (SegmentValue::Exact(0), ideal),
                            (SegmentValue::Exact(n * k), ideal),
                        ],
                        6,
                        4,
                        RED.stroke_width(2),
                    ))
                    .map_err(err)?;
            }
            chart
                .draw_series(c.steps.iter().enumerate().map(|(i, s)| {
                    Text::new(
                        format!("{:.4}%", s.probability * 100.0),
                        (
                            if k == 1 {
                                SegmentValue::CenterOf(i)
                            } else {
                                SegmentValue::Exact(1)
                            },
                            s.probability,
                        ),
                        (FONT, 13)
                            .into_font()
                            .color(&BLACK)
                            .pos(Pos::new(HPos::Center, VPos::Bottom)),
                    )
                }))
                .map_err(err)?;
            legend(
                root,
                (90, HEIGHT as i32 - 18),
                &[
                    ("effective share".into(), BLUE, false),
                    (format!("1/n = {:.4}%", 100.0 / n as f64), RED, true),
                ],
            )?;
            root.draw(&Text::new(
                format!("sum {:.12}, spread {:.2e}", c.sum, c.spread),
                (width as i32 - 250, HEIGHT as i32 - 24),
                (FONT, 13).into_font().color(&GREY),
            ))
            .map_err(err)?;
            let (xs, ys) = chart.plotting_area().get_pixel_range();
            Ok(PlotArea {
                width: f64::from(width),
                height: f64::from(HEIGHT),
                left: f64::from(xs.start),
                top: f64::from(ys.start),
                right: f64::from(xs.end),
                bottom: f64::from(ys.end),
                x_from: 0.0,
                x_to: n as f64,
            })
        },
    )
}

/// One SNAT port pool as the conntrack chart draws it: its label (`node → endpoint`) and its
/// ceiling.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolLine {
    pub label: String,
    pub ceiling: f64,
}

/// The pools of a routing as the chart labels them.
pub fn pool_lines(routing: &Routing) -> Vec<PoolLine> {
    routing
        .pools
        .iter()
        .map(|p| PoolLine {
            label: format!(
                "{} → {}",
                p.snat.map_or("node".to_string(), |a| a.to_string()),
                p.endpoint
            ),
            ceiling: f64::from(p.ceiling),
        })
        .collect()
}

/// Conntrack entries over time: the total (and `nf_conntrack_count`, with timed-out entries not
/// yet reaped), each SNAT pool's entries against its own ceiling, refused new flows per second
/// on a second axis, when refusals start, and measured samples as dots (shifted by `offset`
/// seconds).
pub fn conntrack_svg(
    label: &str,
    runs: &[&Series],
    pools: &[PoolLine],
    measured: Option<(&[Sample], f64)>,
) -> String {
    conntrack_chart(label, runs, pools, measured, WIDTH).0
}

/// [`conntrack_svg`], with where its plot area is (for a read-out at the pointer).
pub fn conntrack_chart(
    label: &str,
    runs: &[&Series],
    pools: &[PoolLine],
    measured: Option<(&[Sample], f64)>,
    width: u32,
) -> (String, PlotArea) {
    let width = width.clamp(*WIDTHS.start(), *WIDTHS.end());
    let duration = runs
        .iter()
        .filter_map(|s| s.points.last().map(|p| p.t))
        .fold(1.0, f64::max);
    let drawn = &pools[..pools.len().min(POOLS_DRAWN)];
    let top = runs
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.count.max(p.entries)))
        .chain(drawn.iter().map(|p| p.ceiling))
        .chain(
            measured
                .into_iter()
                .flat_map(|(m, _)| m.iter().map(|s| s.count)),
        )
        .fold(0.0, f64::max);
    let max = nice(top * 1.1);
    let first = runs.first();
    let refused_peak = first
        .map(|r| r.points.iter().map(|p| p.dropped_per_s).fold(0.0, f64::max))
        .unwrap_or(0.0);
    let refused_max = nice(refused_peak * 1.1);
    let title = truncate(label, 90);
    let thousands = |v: &f64| {
        if *v >= 1000.0 {
            format!("{:.0}k", v / 1000.0)
        } else {
            format!("{v:.0}")
        }
    };
    svg(
        &format!("conntrack entries over time: {label}"),
        width,
        |root| -> Result<PlotArea, String> {
            let mut chart = ChartBuilder::on(root)
                .caption(&title, (FONT, 18))
                .margin(12)
                .margin_top(8)
                .margin_bottom(44)
                .x_label_area_size(40)
                .y_label_area_size(64)
                .right_y_label_area_size(if refused_peak > 0.0 { 64 } else { 0 })
                .build_cartesian_2d(0f64..duration, 0f64..max)
                .map_err(err)?
                .set_secondary_coord(0f64..duration, 0f64..refused_max);
            chart
                .configure_mesh()
                .x_desc("time (s)")
                .y_desc("conntrack entries")
                .y_label_formatter(&thousands)
                .x_label_formatter(&|t| format!("{t:.0}"))
                .label_style((FONT, 13))
                .axis_desc_style((FONT, 14))
                .x_labels((width / 110) as usize)
                .y_labels(6)
                .light_line_style(TRANSPARENT)
                .bold_line_style(GREY.mix(0.3))
                .draw()
                .map_err(err)?;
            let mut entries: Vec<(String, RGBColor, bool)> = Vec::new();
            if let Some(run) = first.filter(|_| refused_peak > 0.0) {
                chart
                    .configure_secondary_axes()
                    .y_desc("refused new flows/s")
                    .y_labels(6)
                    .y_label_formatter(&|v| format!("{v:.0}"))
                    .label_style((FONT, 13))
                    .axis_desc_style((FONT, 14))
                    .draw()
                    .map_err(err)?;
                chart
                    .draw_secondary_series(run.points.iter().filter(|p| p.dropped_per_s > 0.0).map(
                        |p| {
                            Rectangle::new(
                                [(p.t - 1.0, 0.0), (p.t, p.dropped_per_s)],
                                RED.mix(0.18).filled(),
                            )
                        },
                    ))
                    .map_err(err)?;
                entries.push((
                    "refused/s (right axis)".into(),
                    RGBColor(0xf0, 0xb4, 0xb8),
                    false,
                ));
            }
            for (k, pool) in drawn.iter().enumerate() {
                let colour = POOL_COLOURS[k % POOL_COLOURS.len()];
                chart
                    .draw_series(DashedLineSeries::new(
                        [(0.0, pool.ceiling), (duration, pool.ceiling)],
                        6,
                        4,
                        colour.stroke_width(1),
                    ))
                    .map_err(err)?;
                if let Some(run) = first {
                    chart
                        .draw_series(LineSeries::new(
                            run.points
                                .iter()
                                .map(|p| (p.t, p.pools.get(k).copied().unwrap_or(0.0))),
                            colour.stroke_width(2),
                        ))
                        .map_err(err)?;
                }
                entries.push((
                    format!(
                        "pool {} (ceiling {:.0})",
                        truncate(&pool.label, 40),
                        pool.ceiling
                    ),
                    colour,
                    false,
                ));
            }
            for (i, run) in runs.iter().enumerate() {
                let colour = if i == 0 { BLUE } else { PURPLE };
                chart
                    .draw_series(LineSeries::new(
                        run.points.iter().map(|p| (p.t, p.entries)),
                        colour.stroke_width(2),
                    ))
                    .map_err(err)?;
                entries.push((format!("all entries ({} model)", run.mode), colour, false));
                if i == 0 {
                    chart
                        .draw_series(DashedLineSeries::new(
                            run.points.iter().map(|p| (p.t, p.count)),
                            4,
                            3,
                            AMBER.stroke_width(2),
                        ))
                        .map_err(err)?;
                    entries.push(("nf_conntrack_count".into(), AMBER, true));
                }
                if let Some(t) = run.first_drop.filter(|_| i == 0) {
                    chart
                        .draw_series(DashedLineSeries::new(
                            [(t, 0.0), (t, max)],
                            5,
                            4,
                            RED.stroke_width(1),
                        ))
                        .map_err(err)?;
                    chart
                        .draw_series(std::iter::once(Text::new(
                            format!(" first refusal {t:.0} s"),
                            (t, max * 0.97),
                            (FONT, 13).into_font().color(&RED),
                        )))
                        .map_err(err)?;
                }
            }
            if let Some((samples, offset)) = measured {
                chart
                    .draw_series(
                        samples
                            .iter()
                            .map(|s| (s.t - offset, s.count))
                            .filter(|(t, _)| (0.0..=duration).contains(t))
                            .map(|p| Circle::new(p, 3, GREEN.filled())),
                    )
                    .map_err(err)?;
                entries.push(("measured".into(), GREEN, false));
            }
            if pools.len() > drawn.len() {
                entries.push((
                    format!("+{} more pools in the total", pools.len() - drawn.len()),
                    GREY,
                    false,
                ));
            }
            legend(root, (80, HEIGHT as i32 - 36), &entries)?;
            let (xs, ys) = chart.plotting_area().get_pixel_range();
            Ok(PlotArea {
                width: f64::from(width),
                height: f64::from(HEIGHT),
                left: f64::from(xs.start),
                top: f64::from(ys.start),
                right: f64::from(xs.end),
                bottom: f64::from(ys.end),
                x_from: 0.0,
                x_to: duration,
            })
        },
    )
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
        // Two bars (the legend's swatch is drawn less transparent).
        assert_eq!(
            svg.matches(r##"opacity="0.75" fill="#1D4ED8""##).count(),
            2,
            "{svg}"
        );
    }
}
