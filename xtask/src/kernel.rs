//! The simulator against the real kernel: each scenario in `xtask/kernel/` (kube-proxy-shaped
//! rules on documentation addresses, and packets) is loaded by `shared/tools/ktrace.py` into
//! network namespaces of its own, each packet is sent several times, and every path the kernel
//! took must be one of the simulator's branches, rule for rule, with the same DNAT, SNAT and
//! verdict. Needs root and namespaces; says so plainly when it cannot run.

use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

use chainlens_core::model::values::{Cidr, Protocol};
use chainlens_core::sim::{Entry, Limits, NodeFacts, Packet, Simulator, Verdict};

use crate::{output, root};

/// ktrace.py's default topology: the node's addresses and its pod network.
const NODE_IPS: &[&str] = &["192.0.2.1", "203.0.113.1"];
const POD_CIDR: &str = "203.0.113.0/24";

/// `Ok(Err(reason))` when this machine cannot run it.
pub fn differential(shared: &Path) -> Result<Result<(usize, usize), String>, String> {
    if output("id", &["-u"]).is_none_or(|u| u.trim() != "0") {
        return Ok(Err("not root, so no network namespaces".into()));
    }
    let missing: Vec<&str> = ["python3", "ip", "conntrack", "iptables-legacy-restore"]
        .into_iter()
        .filter(|t| output("sh", &["-c", &format!("command -v {t}")]).is_none())
        .collect();
    if !missing.is_empty() {
        crate::setup::apt_install(&["iproute2", "iptables", "conntrack"])?;
    }
    let ktrace = shared.join("tools/ktrace.py");
    let dir = root().join("xtask/kernel");
    let mut scenarios: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .collect();
    scenarios.sort();
    let (mut passed, mut failed) = (0, 0);
    for rules in scenarios {
        let packets = rules.with_extension("packets.json");
        let out = root().join("target").join(format!(
            "ktrace-{}.json",
            rules.file_stem().unwrap_or_default().to_string_lossy()
        ));
        eprintln!(
            "$ ktrace.py {} --packets {}",
            rules.display(),
            packets.display()
        );
        // A scenario with sets has them in `NAME.ipsets` (`ipset save` text): the wrapper makes
        // them in ktrace's node namespace before the rules load, and chainlens reads them pasted
        // after the rules, as a user would paste them.
        let sets = rules.with_extension("ipsets");
        let mut command = Command::new("python3");
        if sets.exists() {
            if output("sh", &["-c", "command -v ipset"]).is_none() {
                crate::setup::apt_install(&["ipset"])?;
            }
            command
                .arg(dir.join("with-ipsets.py"))
                .arg(&ktrace)
                .arg(&sets);
        } else {
            command.arg(&ktrace);
        }
        let status = command
            .arg(&rules)
            .arg("--packets")
            .arg(&packets)
            .arg("--out")
            .arg(&out)
            .status()
            .map_err(|e| format!("cannot run ktrace.py: {e}"))?;
        if !status.success() {
            return Ok(Err(format!(
                "ktrace.py could not trace here ({status}); see its message above"
            )));
        }
        let mut text = std::fs::read_to_string(&rules).map_err(|e| e.to_string())?;
        if sets.exists() {
            text.push_str(&std::fs::read_to_string(&sets).map_err(|e| e.to_string())?);
        }
        let traces: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        let (p, f) = compare(
            &text,
            traces.as_array().map_or(&[][..], |v| v),
            sets.exists(),
        );
        passed += p;
        failed += f;
    }
    Ok(Ok((passed, failed)))
}

/// The kernel's `recent` lists outlive each packet (ktrace flushes conntrack, not them), so the
/// entries the kernel's earlier packets set are carried into the simulator's node facts for the
/// next ones, in the order the packets were sent. With the sets pasted (`decided`), every match
/// is decided, so the simulator must give the kernel's path as its only outcome.
fn compare(rules: &str, traces: &[serde_json::Value], decided: bool) -> (usize, usize) {
    let parsed = chainlens_core::parse(rules);
    // Every path its own outcome: the kernel's path must be one of them, rule for rule.
    let simulator = Simulator::new(&parsed.ruleset).with_limits(Limits::exhaustive());
    let mut facts = NodeFacts {
        local_ips: NODE_IPS.iter().filter_map(|a| a.parse().ok()).collect(),
        pod_cidr: Cidr::parse(POD_CIDR).ok(),
        ipsets: parsed.ruleset.ipsets.clone(),
        ..NodeFacts::default()
    };
    let (mut passed, mut failed) = (0, 0);
    for t in traces {
        let p = &t["packet"];
        let ip = |k: &str| {
            p[k].as_str()
                .and_then(|s| s.parse::<IpAddr>().ok())
                .unwrap_or(IpAddr::from([0, 0, 0, 0]))
        };
        let entry = match p["from"].as_str() {
            Some("local") => Entry::Local,
            Some("pod") => Entry::Pod,
            _ => Entry::Outside,
        };
        let protocol =
            Protocol::parse(p["proto"].as_str().unwrap_or("tcp")).unwrap_or(Protocol::TCP);
        let mut packet = Packet::new(
            ip("src"),
            ip("dst"),
            protocol,
            p["dport"].as_u64().unwrap_or(0) as u16,
            entry,
        );
        packet.sport = p["sport"].as_u64().unwrap_or(40000) as u16;
        let sim = simulator.run(&packet, &facts);
        let kernel_path: Vec<(String, String, String)> = t["path"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                (
                    s["table"].as_str().unwrap_or("").to_string(),
                    s["chain"].as_str().unwrap_or("").to_string(),
                    s["rule"].to_string().trim_matches('"').to_string(),
                )
            })
            .collect();
        let kernel_dnat = t["dnat"].as_str();
        // The address the kernel's SNAT chose (its port depends on what else is in the table).
        let kernel_snat_ip = t["snat"]
            .as_str()
            .and_then(|s| s.parse::<std::net::SocketAddr>().ok())
            .map(|a| a.ip());
        let kernel_snat = !t["snat"].is_null();
        let kernel_dropped = t["verdict"].as_str() != Some("ACCEPT");
        let alone = !decided || sim.outcomes.len() == 1;
        let agrees = sim.outcomes.iter().filter(|_| alone).find(|o| {
            let path: Vec<(String, String, String)> = o
                .path
                .iter()
                .map(|s| {
                    (
                        s.table.to_string(),
                        s.chain.to_string(),
                        s.rule.map_or("policy".to_string(), |r| r.to_string()),
                    )
                })
                .collect();
            path == kernel_path
                && o.dnat.map(|d| d.to_string()).as_deref() == kernel_dnat
                && o.snat.is_some() == kernel_snat
                && kernel_snat_ip.is_none_or(|ip| o.src.ip() == ip)
                && (o.verdict != Verdict::Accept) == kernel_dropped
        });
        if let Some(o) = agrees {
            facts
                .recent
                .extend(o.recent_set.iter().map(|(l, a)| (l.to_string(), *a)));
            passed += 1;
        } else {
            failed += 1;
            println!(
                "kernel and simulator differ for {}:\n  kernel:    {kernel_path:?} dnat={kernel_dnat:?} snat={kernel_snat} dropped={kernel_dropped}",
                t["id"]
            );
            for o in &sim.outcomes {
                let path: Vec<String> = o
                    .path
                    .iter()
                    .map(|s| {
                        format!(
                            "{}:{}:{}",
                            s.table,
                            s.chain,
                            s.rule.map_or("policy".to_string(), |r| r.to_string())
                        )
                    })
                    .collect();
                println!(
                    "  simulator: {path:?} dnat={:?} snat={} {:?}",
                    o.dnat,
                    o.snat.is_some(),
                    o.verdict
                );
            }
        }
    }
    (passed, failed)
}
