//! `chainlens render` (the app's views as files for static docs) and `chainlens share` (a link
//! that opens the same analysis in the app).

use std::path::PathBuf;
use std::process::ExitCode;

use chainlens_core::kube::{Analysis, Cascade};
use chainlens_core::render::chart::{cascade_svg, conntrack_svg, pool_lines};
use chainlens_core::render::graph::ChainGraph;
use chainlens_core::render::{svg, text};
use chainlens_core::share::{Display, LONG_LINK, ShareState, fragment};
use chainlens_core::sim::NodeFacts;
use chainlens_core::{Ruleset, read};

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The rules; `-` reads standard input.
    pub file: PathBuf,
    /// graph, cascade, conntrack or analysis (Services, cascades and findings).
    #[arg(long, value_parser = ["graph", "cascade", "conntrack", "analysis"], default_value = "graph")]
    view: String,
    /// svg, mermaid, dot or md; png is not drawn natively (export it from the app).
    #[arg(long, default_value = "svg")]
    format: String,
    /// The table of the graph (default nat, else the first).
    #[arg(long)]
    table: Option<String>,
    /// The Service of the cascade or of the conntrack plan (default: the first with more
    /// than one endpoint).
    #[arg(long)]
    service: Option<String>,
    /// New flows/s for the conntrack view.
    #[arg(long, default_value_t = 2500.0)]
    rate: f64,
    /// Write here instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ShareArgs {
    /// The rules; `-` reads standard input.
    pub file: PathBuf,
    /// Where the app is served.
    #[arg(long, default_value = "http://127.0.0.1:8080/")]
    base: String,
    /// The view the link opens: overview, services, graph, cascade, trace, conntrack, compare.
    #[arg(long, default_value = "overview")]
    view: String,
    #[arg(long)]
    service: Option<String>,
    /// Show only this view, for an <iframe> in documentation.
    #[arg(long)]
    embed: Option<String>,
    /// light or dark (default: follow the reader's system).
    #[arg(long, value_parser = ["light", "dark"])]
    theme: Option<String>,
}

fn fail(message: String) -> ExitCode {
    warn!("{message}");
    ExitCode::from(2)
}

fn pick_service<'a>(
    analysis: &'a Analysis,
    name: Option<&str>,
) -> Result<&'a chainlens_core::kube::ServicePort, String> {
    match name {
        Some(n) => analysis
            .services
            .iter()
            .find(|s| s.name == n)
            .ok_or_else(|| {
                format!(
                    "no Service `{n}` in the paste; there are: {}",
                    analysis
                        .services
                        .iter()
                        .take(10)
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }),
        None => analysis
            .services
            .iter()
            .find(|s| s.endpoints.len() > 1)
            .or(analysis.services.first())
            .ok_or_else(|| "the paste holds no Services".to_string()),
    }
}

/// The chain graph of `table` (nat by default), each node with what it stands for in
/// Kubernetes words.
fn graph_of(
    ruleset: &Ruleset,
    analysis: &Analysis,
    table: Option<&str>,
) -> Result<ChainGraph, String> {
    let name = table
        .map(str::to_string)
        .or_else(|| ruleset.table("nat").map(|t| t.name.clone()))
        .or_else(|| ruleset.tables.first().map(|t| t.name.clone()))
        .ok_or("the paste holds no tables")?;
    let words = chainlens_core::kube::owners::service_words(&analysis.services);
    ruleset
        .table(&name)
        .map(|t| {
            ChainGraph::of(t).with_words(&|c| chainlens_core::kube::owners::chain_words(&words, c))
        })
        .ok_or_else(|| format!("no table `{name}` in the paste"))
}

pub fn render(text_in: &str, name: &str, args: &RenderArgs) -> ExitCode {
    let parsed = read(text_in);
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let analysis = Analysis::of(&parsed.ruleset, &facts);
    let out = match (args.view.as_str(), args.format.as_str()) {
        (_, "png") => Err("PNG is drawn by the browser: export it from the app, or render svg here and convert it".to_string()),
        ("graph", "svg") => graph_of(&parsed.ruleset, &analysis, args.table.as_deref()).map(|g| svg::chain_graph(&g)),
        ("graph", "mermaid") => graph_of(&parsed.ruleset, &analysis, args.table.as_deref()).map(|g| text::mermaid(&g)),
        ("graph", "dot") => graph_of(&parsed.ruleset, &analysis, args.table.as_deref()).map(|g| text::dot(&g)),
        ("cascade", "svg") => {
            pick_service(&analysis, args.service.as_deref()).map(|s| cascade_svg(&Cascade::of(s)))
        }
        ("conntrack", "svg") => conntrack(&parsed.ruleset, &facts, &analysis, args),
        ("analysis", "md") | (_, "md") => Ok(text::markdown(name, &analysis)),
        (view, format) => Err(format!(
            "the {view} view has no {format} form: graph takes svg, mermaid or dot; cascade and conntrack svg; any view md"
        )),
    };
    let out = match out {
        Ok(o) => o,
        Err(message) => return fail(message),
    };
    match &args.output {
        Some(path) => match std::fs::write(path, out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(format!("{}: {e}", path.display())),
        },
        None => {
            say!("{}", out.trim_end());
            ExitCode::SUCCESS
        }
    }
}

fn conntrack(
    ruleset: &Ruleset,
    facts: &NodeFacts,
    analysis: &Analysis,
    args: &RenderArgs,
) -> Result<String, String> {
    use chainlens_core::conntrack::{Profile, Traffic, analytic, pools};
    let s = pick_service(analysis, args.service.as_deref())?;
    let target = s
        .external_ips
        .iter()
        .chain(&s.load_balancer_ips)
        .chain(&s.cluster_ip)
        .find_map(|a| a.parse::<std::net::SocketAddr>().ok())
        .ok_or_else(|| format!("{} has no address to send traffic to", s.name))?;
    let protocol = s
        .protocol
        .unwrap_or(chainlens_core::model::values::Protocol::TCP);
    let routing = pools(
        ruleset,
        facts,
        target,
        protocol,
        std::net::IpAddr::from([198, 51, 100, 10]),
        chainlens_core::sim::Entry::Outside,
        chainlens_core::sim::Limits::default(),
    );
    let pools = pool_lines(&routing);
    let traffic = Traffic::new(routing, protocol, Profile::Constant(args.rate));
    let series = analytic(&traffic);
    Ok(conntrack_svg(
        &format!("{} new flows/s to {target}/{protocol}", args.rate),
        &[&series],
        &pools,
        None,
    ))
}

pub fn share(text_in: &str, args: &ShareArgs) -> ExitCode {
    let state = ShareState {
        input: text_in.to_string(),
        view: args.view.clone(),
        service: args.service.clone(),
        ..ShareState::default()
    };
    let display = Display {
        embed: args.embed.clone(),
        theme: args.theme.clone(),
    };
    let link = format!(
        "{}#{}",
        args.base.split('#').next().unwrap_or(&args.base),
        fragment(&state, &display)
    );
    if link.len() > LONG_LINK {
        warn!(
            "the link is {} characters; chat tools may cut links over {} — the app can also save the analysis as a file",
            link.len(),
            LONG_LINK
        );
    }
    say!("{link}");
    ExitCode::SUCCESS
}
