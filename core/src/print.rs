//! Model → canonical `iptables-save` text, in the form iptables-save itself prints
//! (NETFILTER.md §2, §3.1): header options first, then each `-m` match, then the target.

use crate::ext::matches::{LISTING_TEXT, Match};
use crate::ext::{save_string, save_word};
use crate::model::values::Address;
use crate::model::{Header, Origin, Rule, Ruleset, Table};

/// A whole ruleset as `iptables-save` would print it (tables in model order, chains as read).
pub fn ruleset(ruleset: &Ruleset) -> String {
    let mut out = String::new();
    // A table that is all assumed (`kube::complete`) was not pasted.
    for table in ruleset.tables.iter().filter(|t| !t.assumed()) {
        out.push_str(&self::table(table, ruleset.ipv6));
    }
    out
}

pub fn table(table: &Table, v6: bool) -> String {
    let mut out = format!("*{}\n", table.name);
    // What was assumed for a fragment is not printed: the print is what was pasted.
    for chain in table.chains.iter().filter(|c| !c.assumed) {
        let policy = chain.policy.as_deref().unwrap_or("-");
        let counters = chain.counters.map_or((0, 0), |c| (c.packets, c.bytes));
        out.push_str(&format!(
            ":{} {policy} [{}:{}]\n",
            chain.name, counters.0, counters.1
        ));
    }
    for chain in &table.chains {
        for rule in chain.rules.iter().filter(|r| r.origin != Origin::Assumed) {
            if let Some(c) = rule.counters {
                out.push_str(&format!("[{}:{}] ", c.packets, c.bytes));
            }
            out.push_str(&format!("-A {}", chain.name));
            let args = self::rule(rule, v6);
            if !args.is_empty() {
                out.push(' ');
                out.push_str(&args);
            }
            out.push('\n');
        }
    }
    out.push_str("COMMIT\n");
    out
}

/// A rule's options as iptables-save prints them after `-A CHAIN`.
pub fn rule(rule: &Rule, v6: bool) -> String {
    let mut parts: Vec<String> = Vec::new();
    header(&rule.header, &mut parts);
    for m in &rule.matches {
        // Listing text chainlens could not read has no iptables-save form; it is printed as a
        // comment saying so, rather than as words that would read back as options.
        if let Match::Unknown { module, args } = m
            && module == LISTING_TEXT
        {
            let text = format!("not understood in the listing: {}", args.join(" "));
            parts.push(format!("-m comment --comment {}", save_string(&text)));
            continue;
        }
        let options = m.save_options();
        parts.push(format!("-m {}", save_word(m.module())));
        if !options.is_empty() {
            parts.push(options);
        }
    }
    if let Some(t) = &rule.target {
        parts.push(format!("{} {}", if t.goto { "-g" } else { "-j" }, t.name));
        let options = t.action.save_options(v6);
        if !options.is_empty() {
            parts.push(options);
        }
    }
    parts.join(" ")
}

fn header(h: &Header, parts: &mut Vec<String>) {
    for (flag, addr) in [("-s", &h.src), ("-d", &h.dst)] {
        if let Some(a) = addr {
            // `-s 0.0.0.0/0` matches everything and is not printed unless negated.
            let any = matches!(&a.value, Address::Net(c) if c.is_any());
            if a.negated || !any {
                parts.push(format!(
                    "{}{flag} {}",
                    a.bang(),
                    save_word(&a.value.to_string())
                ));
            }
        }
    }
    for (flag, iface) in [("-i", &h.in_iface), ("-o", &h.out_iface)] {
        if let Some(i) = iface.as_ref().filter(|i| i.negated || !i.value.is_any()) {
            parts.push(format!("{}{flag} {}", i.bang(), save_word(&i.value.0)));
        }
    }
    if let Some(p) = h.protocol.as_ref().filter(|p| p.negated || p.value.0 != 0) {
        parts.push(format!("{}-p {}", p.bang(), p.value));
    }
    if let Some(negated) = h.fragment {
        parts.push(if negated { "! -f".into() } else { "-f".into() });
    }
}
