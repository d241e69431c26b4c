//! The `chainlens` CLI as a user runs it: the built binary on real seed files.

use std::process::Command;

fn chainlens(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_chainlens"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the chainlens binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A seed fixture from `$CHAINLENS_SHARED` (set by `cargo xtask test`), else `shared/` beside
/// the repository.
fn seed(name: &str) -> String {
    let shared = std::env::var("CHAINLENS_SHARED")
        .unwrap_or_else(|_| format!("{}/../../shared", env!("CARGO_MANIFEST_DIR")));
    format!("{shared}/fixtures/seeds/{name}")
}

const KIND: &str = "kind-v1.23-iptables-v1.8.4.iptables-save";

#[test]
fn check_prints_counts() {
    let (code, out) = chainlens(&["check", &seed(KIND)]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.trim_end().ends_with(
            "iptables-save: 3 tables, 46 chains, 71 rules, 0 diagnostics (mangle 7/0, filter 10/13, nat 29/58)"
        ),
        "{out}"
    );
}

#[test]
fn check_json_has_tables_and_positions() {
    let (code, out) = chainlens(&["check", "--json", &seed(KIND)]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["format"], "iptables-save");
    assert_eq!(v["tables"][2]["name"], "nat");
    assert_eq!(v["tables"][2]["chains"], 29);
    assert_eq!(v["tables"][2]["rules"], 58);
}

#[test]
fn errors_exit_1_with_line_and_column() {
    let dir = std::env::temp_dir().join(format!("chainlens-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("bad.rules");
    std::fs::write(
        &file,
        "*filter\n:INPUT ACCEPT [0:0]\n  what is this\nCOMMIT\n",
    )
    .expect("write");
    let path = file.to_string_lossy().into_owned();
    let (code, out) = chainlens(&["check", "--json", &path]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["diagnostics"][0]["code"], "unknown-line");
    assert_eq!(
        (
            v["diagnostics"][0]["line"].as_u64(),
            v["diagnostics"][0]["column"].as_u64()
        ),
        (Some(3), Some(3))
    );
    let (_, text) = chainlens(&["check", &path]);
    assert!(
        text.contains("3 |   what is this\n  |   ^^^^^^^^^^^^"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn trace_json_shows_the_seed_masquerade() {
    let bind = seed("bind-kube-proxy-v1.4.21.iptables-save");
    let (code, out) = chainlens(&[
        "trace",
        &bind,
        "--src",
        "198.51.100.20",
        "--dst",
        "10.5.6.29",
        "--proto",
        "udp",
        "--dport",
        "53",
        "--local-ip",
        "10.5.6.29",
        "--json",
    ]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let o = &v["outcomes"][0];
    assert_eq!(
        (o["probability"].as_f64(), o["verdict"].as_str()),
        (Some(1.0), Some("accept"))
    );
    assert_eq!(
        (o["dnat"].as_str(), o["snat"].as_str()),
        (Some("10.100.13.3:53"), Some("masquerade"))
    );
    let first = &o["path"][0];
    assert_eq!(
        (
            first["table"].as_str(),
            first["chain"].as_str(),
            first["rule"].as_u64()
        ),
        (Some("nat"), Some("PREROUTING"), Some(1))
    );
    assert!(v["assumptions"].as_array().is_some_and(|a| !a.is_empty()));
}

#[test]
fn trace_reply_goes_back_through_the_bindings() {
    let bind = seed("bind-kube-proxy-v1.4.21.iptables-save");
    let (code, out) = chainlens(&[
        "trace",
        &bind,
        "--src",
        "198.51.100.20",
        "--sport",
        "41000",
        "--dst",
        "10.5.6.29",
        "--proto",
        "udp",
        "--dport",
        "53",
        "--local-ip",
        "10.5.6.29",
        "--packet",
        "reply",
        "--json",
    ]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let o = &v["outcomes"][0];
    // The answer from the pod leaves with the externalIP as source, back to the client.
    assert_eq!(
        (o["src"].as_str(), o["dst"].as_str()),
        (Some("10.5.6.29:53"), Some("198.51.100.20:41000"))
    );
    // No nat chain is walked for it.
    let tables: Vec<&str> = o["path"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["table"].as_str())
        .collect();
    assert!(!tables.contains(&"nat"), "{tables:?}");
}

#[test]
fn analyze_json_has_services_and_findings() {
    let (code, out) = chainlens(&[
        "analyze",
        &seed("bind-kube-proxy-v1.4.21.iptables-save"),
        "--json",
    ]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let udp = v["services"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == "default/ares-k29-bindapp:dns-udp-53")
        .expect("the BIND udp Service");
    assert_eq!(udp["protocol"], "udp");
    assert_eq!(udp["cluster_ip"], "10.24.138.29:53");
    assert_eq!(udp["external_ips"][0], "10.5.6.29:53");
    assert_eq!(udp["external_traffic_policy"], "Cluster");
    assert_eq!(udp["endpoints"][0]["address"], "10.100.13.3:53");
    assert_eq!(udp["endpoints"][0]["probability"], 1.0);
    let f = v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["code"] == "external-masquerade")
        .expect("the masquerade finding");
    assert_eq!(f["severity"], "warning");
    assert!(
        f["rules"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["line"] == 36))
    );
}

#[test]
fn diff_names_the_services_and_traces_both() {
    let (code, out) = chainlens(&[
        "diff",
        &seed("bind-kube-proxy-v1.4.21.iptables-save"),
        &seed("bind-manual-dnat-v1.4.21.iptables-save"),
        "--src",
        "198.51.100.20",
        "--dst",
        "10.5.6.29",
        "--proto",
        "udp",
        "--dport",
        "53",
    ]);
    // No interface given: each ruleset's own rules say where traffic comes in (the
    // hand-written DNAT tests `-i eth3`), so the fix is seen working.
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("arrives on `eth3`"), "{out}");
    assert!(
        out.contains("- Service default/ares-k29-bindapp:dns-udp-53"),
        "{out}"
    );
    let traces: Vec<&str> = out.split("\n== ").skip(1).collect();
    assert_eq!(traces.len(), 2, "{out}");
    assert!(traces[0].contains("SNAT masquerade"), "{}", traces[0]);
    assert!(
        traces[1].contains("DNAT to 10.100.13.3:53") && !traces[1].contains("SNAT"),
        "{}",
        traces[1]
    );
}

#[test]
fn explain_says_why_the_hairpin_rule_exists() {
    let (code, out) = chainlens(&[
        "explain",
        &seed("kube-dns-chains-resolved-names.iptables-L"),
        "--chain",
        "KUBE-SEP-V7KWRXXOBQHQVWAT",
        "--rule",
        "1",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Endpoint 172.18.1.5:53"), "{out}");
    assert!(out.contains("#1 (line 31): Hairpin"), "{out}");
    let (code, _) = chainlens(&[
        "explain",
        &seed("kube-dns-chains-resolved-names.iptables-L"),
        "--chain",
        "KUBE-SEP-V7KWRXXOBQHQVWAT",
        "--rule",
        "9",
    ]);
    assert_eq!(code, 2);
}

#[test]
fn conntrack_json_shows_the_seed_pool_filling() {
    let (code, out) = chainlens(&[
        "conntrack",
        &seed("bind-kube-proxy-v1.4.21.iptables-save"),
        "--to",
        "10.5.6.29:53/udp",
        "--rate",
        "2500",
        "--duration",
        "60",
        "--measured",
        &seed("bind-conntrack-count-2500rps.csv"),
        "--json",
    ]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["pools"][0]["endpoint"], "10.100.13.3:53");
    let rate = v["saturation_rate"].as_f64().unwrap_or(0.0);
    assert!((rate - 2150.4).abs() < 0.1, "{rate}");
    let series = v["series"].as_array().cloned().unwrap_or_default();
    assert_eq!(series.len(), 60);
    assert_eq!(series[59]["entries"], 64512.0);
    assert!(
        series[59]["dropped_per_s"].as_f64().unwrap_or(0.0) > 0.0
            || series
                .iter()
                .any(|p| p["dropped_per_s"].as_f64().unwrap_or(0.0) > 0.0)
    );
    assert_eq!(v["measured"]["samples"].as_array().map(Vec::len), Some(37));
    let (code, _) = chainlens(&[
        "conntrack",
        &seed("bind-kube-proxy-v1.4.21.iptables-save"),
        "--to",
        "10.5.6.29",
        "--rate",
        "1",
    ]);
    assert_eq!(code, 2, "an address without a port is refused");
}

#[test]
fn render_writes_svg_mermaid_dot_and_markdown() {
    let kind = seed(KIND);
    let (code, svg) = chainlens(&["render", &kind]);
    assert_eq!(code, 0, "{svg}");
    assert!(
        svg.starts_with("<svg") && svg.contains("KUBE-SERVICES"),
        "{svg}"
    );
    let (code, mermaid) = chainlens(&["render", &kind, "--format", "mermaid"]);
    assert_eq!(code, 0);
    assert!(mermaid.starts_with("flowchart LR"));
    let (code, dot) = chainlens(&["render", &kind, "--format", "dot", "--table", "filter"]);
    assert_eq!(code, 0);
    assert!(dot.starts_with("digraph \"filter\""), "{dot}");
    let (code, cascade) = chainlens(&[
        "render",
        &kind,
        "--view",
        "cascade",
        "--service",
        "kube-system/kube-dns:dns",
    ]);
    assert_eq!(code, 0);
    // Two bars, drawn by plotters (the legend's swatch is less transparent), and its axis.
    assert_eq!(
        cascade
            .matches(r##"opacity="0.75" fill="#1D4ED8""##)
            .count(),
        2,
        "{cascade}"
    );
    assert!(cascade.contains("share of new connections"));
    let (code, md) = chainlens(&["render", &kind, "--view", "analysis", "--format", "md"]);
    assert_eq!(code, 0);
    assert!(
        md.contains("| kube-system/kube-dns:dns | udp | 10.96.0.10:53 |"),
        "{md}"
    );
    let out = std::env::temp_dir().join(format!("chainlens-render-{}.svg", std::process::id()));
    let (code, _) = chainlens(&[
        "render",
        &seed("bind-kube-proxy-v1.4.21.iptables-save"),
        "--view",
        "conntrack",
        "--service",
        "default/ares-k29-bindapp:dns-udp-53",
        "--rate",
        "2500",
        "-o",
        &out.display().to_string(),
    ]);
    assert_eq!(code, 0);
    let written = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    assert!(
        written.contains("pool node → 10.100.13.3:53 (ceiling 64512)"),
        "{written}"
    );
    // What a view cannot be drawn as is said, not guessed.
    let (code, _) = chainlens(&["render", &kind, "--view", "cascade", "--format", "dot"]);
    assert_eq!(code, 2);
    let (code, _) = chainlens(&["render", &kind, "--format", "png"]);
    assert_eq!(code, 2);
}

#[test]
fn share_prints_a_link_that_decodes_to_the_same_text() {
    let kind = seed(KIND);
    let (code, link) = chainlens(&[
        "share",
        &kind,
        "--base",
        "http://127.0.0.1:9/app/",
        "--view",
        "cascade",
        "--service",
        "kube-system/kube-dns:dns",
        "--embed",
        "cascade",
    ]);
    assert_eq!(code, 0, "{link}");
    let (page, fragment) = link.trim().split_once('#').expect("a fragment");
    assert_eq!(page, "http://127.0.0.1:9/app/");
    assert!(!fragment.contains("KUBE"));
    let (state, display) =
        chainlens_core::share::parse_fragment(fragment).expect("a link chainlens reads");
    assert_eq!(
        state.input,
        std::fs::read_to_string(&kind).unwrap_or_default()
    );
    assert_eq!(
        (
            state.view.as_str(),
            state.service.as_deref(),
            display.embed.as_deref()
        ),
        ("cascade", Some("kube-system/kube-dns:dns"), Some("cascade"))
    );
}

#[test]
fn a_full_disk_is_an_error_and_a_closed_pipe_is_not() {
    let kind = seed(KIND);
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // no /dev/full on this system: nothing to write to
    };
    let out = Command::new(env!("CARGO_BIN_EXE_chainlens"))
        .args(["check", &kind])
        .stdout(full)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write the output"));
    // A reader that goes away after one line: the rest ends quietly, no panic.
    let mut child = Command::new(env!("CARGO_BIN_EXE_chainlens"))
        .args(["render", &kind, "--view", "graph", "--format", "dot"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("ends");
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn terminal_escapes_in_a_paste_are_shown_not_obeyed() {
    let dir = std::env::temp_dir().join(format!("chainlens-esc-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join("esc.txt");
    std::fs::write(
        &file,
        "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment \"\u{1b}]0;pwned\u{7}\" -j ACCEPT\n-A INPUT \u{1b}[2J -j DROP\nCOMMIT\n",
    )
    .expect("written");
    let path = file.display().to_string();
    for args in [
        vec!["check", &path],
        vec!["explain", &path, "--chain", "INPUT"],
        vec![
            "trace",
            &path,
            "--src",
            "198.51.100.1",
            "--dst",
            "192.0.2.1",
            "--dport",
            "22",
            "--local-ip",
            "192.0.2.1",
        ],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_chainlens"))
            .args(&args)
            .output()
            .expect("runs");
        let all = [out.stdout, out.stderr].concat();
        assert!(!all.contains(&0x1b), "{args:?} printed an escape");
        assert!(!all.contains(&0x07), "{args:?} printed a bell");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
