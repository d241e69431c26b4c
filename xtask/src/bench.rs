//! `cargo xtask bench`: generated kube-proxy dumps of 2,000 and 10,000 Services (3 endpoints
//! each) parsed natively (MB/s, peak memory), by `iptables-xml` on the same files for
//! comparison, and in the browser build in headless Chromium. Prints a table; goals are
//! stated beside the figures, never asserted in tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{bundle, dumps, root, run, serve, setup};

/// 1,000 Services is the largest size `iptables-xml` accepts (it keeps at most 10,240 chains
/// per table), so the comparison has a size where both run.
const SIZES: &[usize] = &[1_000, 2_000, 10_000];

pub fn run_all() -> Result<(), String> {
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut dumps = Vec::new();
    for &n in SIZES {
        let path = dir.join(format!("kube-proxy-{n}-services.txt"));
        std::fs::write(&path, dumps::kube_proxy_dump(n, 3))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        dumps.push((n, path));
    }
    run(
        "cargo",
        &[
            "build",
            "--quiet",
            "--release",
            "-p",
            "chainlens-core",
            "--example",
            "parse_bench",
            "--example",
            "trace_bench",
            "--example",
            "analyze_bench",
            "--example",
            "conntrack_bench",
            "--example",
            "worst_bench",
        ],
    )?;
    let xml = iptables_xml()?;
    let mut rows = Vec::new();
    for (n, path) in &dumps {
        let native = native(path)?;
        let xml_ms = xml
            .as_ref()
            .map(|bin| best_of(3, || time_command(bin, path)));
        rows.push((*n, native, xml_ms));
    }
    setup::web_tools()?;
    setup::browser()?;
    let size = bundle::build()?;
    let browser = browser(&dumps)?;
    println!("\n== parse benchmark (kube-proxy-shaped dumps, 3 endpoints per Service)");
    println!(
        "services   size MB   native ms   native MB/s   peak RSS MB   iptables-xml ms   xml/native   browser ms   wasm memory MB"
    );
    for ((n, native, xml_ms), b) in rows.iter().zip(&browser) {
        let mb = native["bytes"].as_f64().unwrap_or(0.0) / 1e6;
        let ms = native["best_ms"].as_f64().unwrap_or(0.0);
        println!(
            "{n:>8}   {mb:>7.1}   {ms:>9.1}   {:>11.0}   {:>11.1}   {:>15}   {:>10}   {:>10.1}   {:>14.1}",
            native["mb_per_s"].as_f64().unwrap_or(0.0),
            native["peak_rss_kb"].as_f64().unwrap_or(0.0) / 1024.0,
            match xml_ms {
                Some(Ok(x)) => format!("{x:.1}"),
                Some(Err(_)) => "refused".to_string(),
                None => "n/a".to_string(),
            },
            match xml_ms {
                Some(Ok(x)) => format!("{:.1}x", x / ms),
                _ => "-".to_string(),
            },
            b["best_ms"].as_f64().unwrap_or(f64::NAN),
            b["wasm_memory_bytes"].as_f64().unwrap_or(f64::NAN) / 1e6,
        );
    }
    for ((n, _, xml_ms), _) in rows.iter().zip(&browser) {
        if let Some(Err(e)) = xml_ms {
            println!(
                "iptables-xml refused the {n}-Service dump: {}",
                e.lines().next().unwrap_or("")
            );
        }
    }
    if let Some((n, path)) = dumps.first()
        && let Some(ir) = instructions(path)
    {
        let bytes = std::fs::metadata(path).map_or(1, |m| m.len().max(1));
        println!(
            "instructions to parse the {n}-Service dump (callgrind; does not vary with the machine's load): {:.1} M, {:.0} per byte",
            ir as f64 / 1e6,
            ir as f64 / bytes as f64
        );
    }
    println!("goals: native ≥ 100 MB/s; the 10,000-Service dump parsed in the browser in < 400 ms");
    if let Some((n, path)) = dumps.last() {
        let v = example("trace_bench", &[path.as_os_str(), "20".as_ref()])?;
        let dst = v["dst"].as_str().unwrap_or("?");
        let dport = v["dport"].to_string();
        println!(
            "\n== simulator: a packet from outside to the last of {n} Services ({dst}:{dport}), simulator built once in {:.1} ms",
            v["build_ms"].as_f64().unwrap_or(f64::NAN),
        );
        println!(
            "native:  {} outcomes in {:.3} ms per trace, {:.0} outcomes/s",
            v["outcomes"],
            v["best_ms"].as_f64().unwrap_or(f64::NAN),
            v["outcomes_per_s"].as_f64().unwrap_or(f64::NAN)
        );
        let b = node_bench(
            "analysis.mjs",
            &[path.as_os_str(), dst.as_ref(), dport.as_ref()],
        )?;
        let b = b.first().cloned().unwrap_or_default();
        println!(
            "browser: {} outcomes in {:.3} ms per trace, {:.0} outcomes/s",
            b["outcomes"],
            b["trace_ms"].as_f64().unwrap_or(f64::NAN),
            b["outcomes_per_s"].as_f64().unwrap_or(f64::NAN)
        );
        let a = example("analyze_bench", &[path.as_os_str(), "3".as_ref()])?;
        println!(
            "\n== analysis: Services, cascades and findings of the {n}-Service dump (parsed beforehand)"
        );
        println!(
            "native:  {} Service ports, {} findings in {:.1} ms",
            a["services"],
            a["findings"],
            a["best_ms"].as_f64().unwrap_or(f64::NAN)
        );
        println!(
            "browser: {} Service ports in {:.1} ms",
            b["services"],
            b["analyze_ms"].as_f64().unwrap_or(f64::NAN)
        );
    }
    worst_cases()?;
    let c = example("conntrack_bench", &[])?;
    println!("\n== conntrack model (one SNAT pool)");
    println!(
        "analytic: one hour at 100,000 new flows/s in {:.2} ms (goal: < 50 ms)",
        c["analytic_hour_ms"].as_f64().unwrap_or(f64::NAN)
    );
    println!(
        "per flow: {} flows in {:.2} s, {:.0} flows/s",
        c["flows"],
        c["flows_s"].as_f64().unwrap_or(f64::NAN),
        c["flows_per_s"].as_f64().unwrap_or(f64::NAN)
    );
    let app_dumps: Vec<&std::ffi::OsStr> = dumps
        .iter()
        .filter(|(n, _)| *n == 2000 || *n == 10000)
        .map(|(_, p)| p.as_os_str())
        .collect();
    println!(
        "\n== the app: paste to summary, to analysis and to graph; the longest main-thread task and frame gap meanwhile; graph pan and zoom frames"
    );
    println!(
        "services  summary ms  analysed ms  task ms  gap ms  graph ms  nodes  task ms  gap ms  pan p50/p95/max ms  zoom p50/p95/max ms"
    );
    for (row, n) in node_bench("app.mjs", &app_dumps)?.iter().zip([2000, 10000]) {
        let ms = |f: &str| row[f].as_f64().unwrap_or(f64::NAN);
        println!(
            "{n:>8} {:>11.0} {:>12.0} {:>8.0} {:>7.0} {:>9.0} {:>6} {:>8.0} {:>7.0}  {:>6.1}/{:.1}/{:.1}     {:>6.1}/{:.1}/{:.1}",
            ms("summary_ms"),
            ms("analysed_ms"),
            ms("load_longest_task_ms"),
            ms("load_frame_gap_ms"),
            ms("graph_ms"),
            row["graph_nodes"],
            ms("graph_longest_task_ms"),
            ms("graph_frame_gap_ms"),
            ms("pan_p50_ms"),
            ms("pan_p95_ms"),
            ms("pan_max_ms"),
            ms("zoom_p50_ms"),
            ms("zoom_p95_ms"),
            ms("zoom_max_ms"),
        );
    }
    println!(
        "goals: analysed in under 1 s (2,000 Services) and 3 s (10,000); no main-thread task over 50 ms (0: none was), no frame gap over 100 ms; pan and zoom frames near 16.7 ms"
    );
    println!(
        "bundle: {:.0} KB, {:.0} KB gzip (goal: under 800 KB gzip)",
        size.raw as f64 / 1024.0,
        size.gzip as f64 / 1024.0
    );
    if let Some(l) = node_bench("link.mjs", &[])?.first() {
        println!(
            "\n== a share link of {} characters with twenty undecidable rules ahead of a NodePort: traced outcome on screen {:.0} ms after opening it, longest main-thread task {:.0} ms (goals: < 1 s, no task over 50 ms)",
            l["link_chars"],
            l["open_ms"].as_f64().unwrap_or(f64::NAN),
            l["longest_task_ms"].as_f64().unwrap_or(f64::NAN)
        );
    }
    Ok(())
}

/// Hostile inputs at three sizes, each doubling the last: every stage's time and the peak
/// memory, and how the total grows per doubling (1.0 is linear; 2.0 quadratic).
fn worst_cases() -> Result<(), String> {
    const KINDS: &[(&str, usize, &str)] = &[
        ("listing-line", 250_000, "bytes in one -L row"),
        ("bangs", 250_000, "bytes of `! ` in one rule"),
        ("inserts", 12_500, "-I inserts at one chain's head"),
        ("tables", 12_500, "tables"),
        (
            "nested-splits",
            250,
            "nested chains, each split by a probability and an ipset",
        ),
        ("cascade", 2_500, "endpoints in one cascade"),
        ("deep-goto", 25_000, "chains in one goto chain"),
    ];
    println!("\n== worst cases: hostile inputs at n, 2n, 4n (one process each)");
    println!(
        "kind              n         MB   parse ms  analyze ms  trace ms  diff ms  render ms  peak MB  growth per doubling"
    );
    for &(kind, n, what) in KINDS {
        let mut totals = Vec::new();
        for k in [1, 2, 4] {
            let v = example(
                "worst_bench",
                &[kind.as_ref(), (n * k).to_string().as_ref()],
            )?;
            let ms = |f: &str| v[f].as_f64().unwrap_or(f64::NAN);
            let total = ms("parse_ms")
                + ms("analyze_ms")
                + ms("trace_ms")
                + ms("diff_ms")
                + ms("render_ms");
            totals.push(total);
            let growth = match totals.as_slice() {
                [.., a, b] if *a > 0.5 => format!("{:.2}", (b / a).log2()),
                [_, _, ..] => "(too fast to tell)".to_string(),
                _ => String::new(),
            };
            println!(
                "{kind:<14} {:>8} {:>8.1} {:>10.1} {:>11.1} {:>9.1} {:>8.1} {:>10.1} {:>8.0}  {growth}",
                n * k,
                v["bytes"].as_f64().unwrap_or(0.0) / 1e6,
                ms("parse_ms"),
                ms("analyze_ms"),
                ms("trace_ms"),
                ms("diff_ms"),
                ms("render_ms"),
                v["peak_kb"].as_f64().unwrap_or(0.0) / 1024.0,
            );
        }
        println!("               ({what})");
    }
    println!("goal: every growth near 1 (linear), none near 2");
    Ok(())
}

/// Instructions executed by one parse run under callgrind (whole process), when valgrind is
/// installed: a figure that does not move with the machine's load, unlike wall time.
fn instructions(path: &Path) -> Option<u64> {
    let out_file = root().join("target/bench/callgrind.out");
    let bin = root().join("target/release/examples/parse_bench");
    let status = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file"])
        .arg(&out_file)
        .arg(&bin)
        .arg(path)
        .arg("1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    let text = std::fs::read_to_string(&out_file).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("summary: ")?.trim().parse().ok())
}

/// Runs a benchmark example of the core (built in release) and reads its JSON line.
fn example(name: &str, args: &[&std::ffi::OsStr]) -> Result<serde_json::Value, String> {
    let bin = root().join("target/release/examples").join(name);
    let out = Command::new(&bin)
        .args(args)
        .output()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    serde_json::from_slice(&out.stdout).map_err(|e| format!("{name} output: {e}"))
}

fn native(path: &Path) -> Result<serde_json::Value, String> {
    example("parse_bench", &[path.as_os_str(), "5".as_ref()])
}

/// Debian's `iptables-xml`, installed with the `iptables` package when missing (as root).
fn iptables_xml() -> Result<Option<PathBuf>, String> {
    let bin = PathBuf::from("/usr/bin/iptables-xml");
    if bin.exists() {
        return Ok(Some(bin));
    }
    match setup::apt_install(&["iptables"]) {
        Ok(()) => Ok(bin.exists().then_some(bin)),
        Err(e) => {
            eprintln!("xtask: {e}; the iptables-xml comparison is skipped");
            Ok(None)
        }
    }
}

fn time_command(bin: &Path, input: &Path) -> Result<f64, String> {
    let file = std::fs::File::open(input).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let out = Command::new(bin)
        .stdin(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    if out.status.success() {
        Ok(ms)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn best_of(n: usize, mut f: impl FnMut() -> Result<f64, String>) -> Result<f64, String> {
    let mut best = f64::MAX;
    for _ in 0..n {
        best = best.min(f()?);
    }
    Ok(best)
}

fn browser(dumps: &[(usize, PathBuf)]) -> Result<Vec<serde_json::Value>, String> {
    let paths: Vec<&std::ffi::OsStr> = dumps.iter().map(|(_, p)| p.as_os_str()).collect();
    node_bench("parse.mjs", &paths)
}

/// Runs `e2e/bench/SCRIPT` against the release bundle served on loopback; one JSON value per
/// line of its output.
fn node_bench(script: &str, args: &[&std::ffi::OsStr]) -> Result<Vec<serde_json::Value>, String> {
    let (url, _server) = serve::start(0)?;
    let out = Command::new("node")
        .arg(root().join("e2e/bench").join(script))
        .args(args)
        .env("BASE_URL", &url)
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot run node: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "browser bench {script} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).map_err(|e| format!("browser bench output: {e}")))
        .collect()
}
