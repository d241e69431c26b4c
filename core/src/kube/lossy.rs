//! Rules kube-proxy never writes as printed: an iptables older than the one that wrote them
//! (or iptables-legacy reading what iptables-nft wrote) prints only the matches it knows, so a
//! ClusterIP entry loses its port and KUBE-POSTROUTING's first rule its mark test. Traced as
//! printed they would send every DNS port to the first Service on the address, or masquerade
//! nothing; they are marked incomplete (the simulator leaves them undecided) and said.

use crate::diag::Diagnostic;
use crate::ext::matches::Match;
use crate::ext::targets::Action;
use crate::model::{Origin, Rule};
use crate::parse::Parsed;

/// What kube-proxy writes that the printed rule lacks, if it lacks something.
fn missing(chain: &str, rule: &Rule) -> Option<&'static str> {
    let target = rule.target.as_ref()?;
    let has_port = rule.matches.iter().any(|m| match m {
        Match::Tcp(t) => t.ports.dport.is_some(),
        Match::Udp(p) => p.dport.is_some(),
        Match::Multiport(_) => true,
        Match::Unknown { .. } => true,
        _ => false,
    });
    let protocol = rule
        .header
        .protocol
        .as_ref()
        .is_some_and(|p| !p.negated && matches!(p.value.0, 6 | 17 | 132));
    let entry = rule.comment().is_some_and(|c| {
        c.ends_with(" cluster IP")
            || c.ends_with(" external IP")
            || c.ends_with(" loadbalancer IP")
            || c.ends_with(" external IP port")
    });
    if entry && protocol && !has_port {
        return Some("its port (`--dport`)");
    }
    let bare = rule.matches.iter().all(|m| matches!(m, Match::Comment(_)))
        && rule.header == Default::default();
    if chain == "KUBE-POSTROUTING" && bare && matches!(target.action, Action::Return) {
        return Some("its mark test (`-m mark ! --mark 0x4000/0x4000`)");
    }
    None
}

/// Marks the rules that lost matches as incomplete, with one warning per table.
pub fn flag_lossy(parsed: &mut Parsed) {
    let mut said = Vec::new();
    for table in &mut parsed.ruleset.tables {
        let mut first = None;
        let mut count = 0;
        let mut what = Vec::new();
        for chain in &mut table.chains {
            for rule in &mut chain.rules {
                if rule.origin == Origin::Assumed {
                    continue;
                }
                if let Some(lacks) = missing(&chain.name, rule) {
                    rule.complete = false;
                    count += 1;
                    first.get_or_insert(rule.span);
                    if !what.contains(&lacks) {
                        what.push(lacks);
                    }
                }
            }
        }
        if let Some(at) = first {
            said.push(
                Diagnostic::warning(
                    "lossy-rules",
                    at,
                    format!(
                        "{count} kube-proxy rule{} printed without what kube-proxy always writes ({}): the iptables that printed them does not know every match the rules use, so they are traced as undecided",
                        if count == 1 { " is" } else { "s are" },
                        what.join(", ")
                    ),
                )
                .with_help("paste `iptables-nft-save` (or `iptables-legacy-save`) from the node, the one kube-proxy writes with"),
            );
        }
    }
    parsed.diagnostics.extend(said);
}

#[cfg(test)]
mod tests {
    #[test]
    fn portless_entries_and_a_bare_return_are_incomplete() {
        // conformance/real-nodes/04, as an older iptables printed it.
        let text = "Chain KUBE-POSTROUTING (1 references)\n\
            target     prot opt source               destination\n\
            RETURN     all  --  anywhere             anywhere\n\
            MARK       all  --  anywhere             anywhere             MARK xor 0x4000\n\
            \n\
            Chain KUBE-SERVICES (2 references)\n\
            target     prot opt source               destination\n\
            KUBE-SVC-TCOU7JCQXEZGVUNU  udp  --  anywhere             10.96.0.10           /* kube-system/kube-dns:dns cluster IP */\n\
            KUBE-SVC-ERIFXISQEP7F7OF4  tcp  --  anywhere             10.96.0.10           /* kube-system/kube-dns:dns-tcp cluster IP */ tcp dpt:53\n";
        let parsed = crate::read(text);
        let lossy: Vec<_> = parsed
            .diagnostics
            .iter()
            .filter(|d| d.code == "lossy-rules")
            .collect();
        assert_eq!(lossy.len(), 1, "{:?}", parsed.diagnostics);
        assert!(
            lossy[0].message.starts_with("2 kube-proxy rules"),
            "{}",
            lossy[0].message
        );
        let nat = &parsed.ruleset.tables[0];
        let complete = |chain: &str| -> Vec<bool> {
            nat.chain(chain)
                .map(|c| c.rules.iter().map(|r| r.complete).collect())
                .unwrap_or_default()
        };
        assert_eq!(complete("KUBE-POSTROUTING"), [false, true]);
        assert_eq!(complete("KUBE-SERVICES"), [false, true]);
    }
}
