//! `iptables -L` listings: `Chain X (policy P …)` headers, the column line, and one row per
//! rule, with or without `-n`, `-v`, `-x` and `--line-numbers`. Rows are mapped onto the same
//! rule model as saved rules; what a listing does not show (interfaces without `-v`) or shows
//! by name (`anywhere`, `dpt:https`) is flagged or mapped back.

use crate::diag::Diagnostic;
use crate::ext::matches::Match;
use crate::ext::targets::Action;
use crate::ext::{Listed, listed_bang};
use crate::model::values::{Address, Interface, Negatable, Protocol};
use crate::model::{Counters, Header, Origin, Rule, Target};
use crate::text::Span;

/// The columns a listing shows, from its column line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    pub num: bool,
    /// `pkts bytes` and `in out`: the listing was made with `-v`.
    pub verbose: bool,
}

impl Columns {
    /// Reads a column line such as `num pkts bytes target prot opt in out source destination`.
    pub fn parse(line: &str) -> Option<Columns> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let has = |w: &str| words.contains(&w);
        (has("target") && has("prot") && has("source") && has("destination")).then(|| Columns {
            num: has("num"),
            verbose: has("pkts") && has("in"),
        })
    }
}

/// `Chain NAME (policy ACCEPT 36 packets, 3606 bytes)` or `Chain NAME (2 references)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainHeader {
    pub name: String,
    pub policy: Option<String>,
    pub counters: Option<Counters>,
}

impl ChainHeader {
    pub fn parse(line: &str) -> Option<ChainHeader> {
        let rest = line.strip_prefix("Chain ")?;
        let (name, paren) = rest.split_once(" (")?;
        let inside = paren.trim_end().strip_suffix(')')?;
        let words: Vec<&str> = inside.split_whitespace().collect();
        let (policy, counters) = match words.as_slice() {
            ["policy", p] if crate::model::is_policy(p) => (Some(p.to_string()), None),
            // Counters too large to be real are left out; the chain is still read.
            ["policy", p, packets, "packets,", bytes, "bytes"] if crate::model::is_policy(p) => (
                Some(p.to_string()),
                counter(packets)
                    .zip(counter(bytes))
                    .map(|(packets, bytes)| Counters { packets, bytes }),
            ),
            [_, "references" | "reference"] | [_, "references", ..] => (None, None),
            _ => return None,
        };
        crate::model::chain_name_problem(name)
            .is_none()
            .then(|| ChainHeader {
                name: name.to_string(),
                policy,
                counters,
            })
    }
}

/// A counter as `-L -v` prints it: exact, or rounded with a `K`/`M`/`G`/`T` suffix.
pub fn counter(text: &str) -> Option<u64> {
    let mult = match text.as_bytes().last()? {
        b'K' => 1_000,
        b'M' => 1_000_000,
        b'G' => 1_000_000_000,
        b'T' => 1_000_000_000_000,
        _ => 1,
    };
    let digits = if mult == 1 {
        text
    } else {
        text.get(..text.len() - 1)?
    };
    // A counter too large for 64 bits is not one iptables printed.
    digits.parse::<u64>().ok()?.checked_mul(mult)
}

/// Reads one rule row. `line` is the row's text starting at byte `base` of the paste.
pub fn row(
    line: &str,
    base: usize,
    columns: Columns,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Rule> {
    let mut words = words_with_offsets(line);
    // A protocol name as long as its column runs into the opt column (`ipencap--`): two words.
    if let Some(k) = words
        .iter()
        .take(6)
        .position(|(_, w)| glued_opt(w).is_some())
    {
        let (at, w) = words[k];
        if let Some(cut) = glued_opt(w) {
            words[k] = (at, &w[..cut]);
            words.insert(k + 1, (at + cut, &w[cut..]));
        }
    }
    let mut i = 0;
    let span = Span::new(base, base + line.len());
    let take = |i: &mut usize| {
        let w = words.get(*i).copied();
        *i += 1;
        w
    };
    if columns.num {
        take(&mut i)?.1.parse::<usize>().ok()?;
    }
    let mut bad_counters = None;
    let counters = if columns.verbose {
        let (packets, bytes) = (take(&mut i)?.1, take(&mut i)?.1);
        let digits = |t: &str| {
            t.bytes()
                .all(|b| b.is_ascii_digit() || b"KMGT".contains(&b))
        };
        if !digits(packets) || !digits(bytes) {
            return None;
        }
        match (counter(packets), counter(bytes)) {
            (Some(packets), Some(bytes)) => Some(Counters { packets, bytes }),
            _ => {
                bad_counters = Some(format!(
                    "counters `{packets} {bytes}` are too large to be real and were left out"
                ));
                None
            }
        }
    } else {
        None
    };
    // The target column is blank for rules without a target: then the protocol comes first.
    let first = take(&mut i)?.1;
    let second = words.get(i).map(|w| w.1).unwrap_or("");
    let target_name = if is_protocol(first) && is_opt(second) {
        i -= 1;
        None
    } else {
        Some(first)
    };
    // Not a row if the target column cannot name a chain or target.
    if target_name.is_some_and(|t| crate::model::chain_name_problem(t).is_some()) {
        return None;
    }
    let prot = take(&mut i)?.1;
    let opt = take(&mut i)?.1;
    if !is_protocol(prot) || !is_opt(opt) {
        return None;
    }
    let mut header = Header::default();
    let mut problems: Vec<String> = Vec::new();
    if let Some(message) = bad_counters {
        diagnostics.push(Diagnostic::warning("listing-counters", span, message));
    }
    let (neg, p) = listed_bang(prot);
    match Protocol::parse(p) {
        Ok(Protocol(0)) if !neg => {}
        Ok(proto) => header.protocol = Some(Negatable::new(neg, proto)),
        Err(e) => problems.push(e),
    }
    match opt {
        "-f" => header.fragment = Some(false),
        "!f" => header.fragment = Some(true),
        _ => {}
    }
    if columns.verbose {
        for slot in [&mut header.in_iface, &mut header.out_iface] {
            let (neg, name) = listed_bang(take(&mut i)?.1);
            if !matches!(name, "*" | "any") {
                *slot = Some(Negatable::new(neg, Interface(name.to_string())));
            }
        }
    }
    for slot in [0, 1] {
        let (neg, text) = listed_bang(take(&mut i)?.1);
        let mapped = resolved_name(text);
        if let Some(m) = &mapped {
            diagnostics.push(Diagnostic::info(
                "listing-hostname-mapped",
                span,
                format!("`{text}` is a name the listing resolved; read as {m}, the only address it stands for"),
            ));
        }
        let text = mapped.as_deref().unwrap_or(text);
        let address = match text {
            "anywhere" | "0.0.0.0/0" | "::/0" => None,
            _ => Some(match Address::parse(text) {
                Ok(a @ Address::Net(_)) => a,
                Ok(a) => {
                    diagnostics.push(
                        Diagnostic::warning("listing-hostname", span, format!("`{text}` is a host name the listing resolved; its address is unknown"))
                            .with_help("list with `-n` to see addresses"),
                    );
                    a
                }
                // The columns before it made this a row: keep it, with what was read, as a
                // rule that may or may not match.
                Err(e) => {
                    problems.push(format!("`{text}` is not an address ({e})"));
                    continue;
                }
            }),
        };
        if let Some(a) = address {
            let value = Some(Negatable::new(neg, a));
            if slot == 0 {
                header.src = value
            } else {
                header.dst = value
            }
        }
    }
    let rest_start = words.get(i).map_or(line.len(), |w| w.0);
    let mut matches = Vec::new();
    let action = target_name.map(|name| Action::load(name, false));
    let mut target = target_name.map(|name| Target {
        name: name.to_string(),
        goto: false,
        span,
        action: action.unwrap_or(Action::Chain),
    });
    extras(
        &line[rest_start..],
        &mut matches,
        target.as_mut(),
        &mut problems,
    );
    // Listing text can describe what iptables itself refuses (a `tcp dpt:` text on a rule for
    // every protocol): hold listed matches to the same checks as saved ones.
    let ctx = crate::ext::RuleContext {
        protocol: header
            .protocol
            .as_ref()
            .filter(|p| !p.negated)
            .map(|p| p.value.0),
    };
    for m in &mut matches {
        // A listing shows no option names: every option counts as given.
        if let Err(e) = m.check(&|_| true, ctx) {
            let mut words = vec![m.module().to_string()];
            words.extend(m.save_options().split_whitespace().map(str::to_string));
            problems.push(e);
            *m = Match::Unknown {
                module: crate::ext::matches::LISTING_TEXT.into(),
                args: words,
            };
        }
    }
    // A NAT target whose `to:` text was not read has no range: keep it, but as a target whose
    // options are unknown, never as a DNAT to nowhere.
    if let Some(t) = target.as_mut()
        && let Action::Dnat(n) | Action::Snat(n) = &t.action
        && n.addrs.is_none()
        && n.ports.is_none()
    {
        if problems.is_empty() {
            problems.push(format!(
                "the listing does not show where {} translates to",
                t.name
            ));
        }
        t.action = Action::Unknown(Vec::new());
    }
    for p in &problems {
        diagnostics.push(
            Diagnostic::warning("listing-text", span, p.clone())
                .with_help("this part of the row was kept as written and is not evaluated"),
        );
    }
    Some(Rule {
        span,
        counters,
        header,
        matches,
        target,
        complete: problems.is_empty(),
        origin: Origin::Listing {
            interfaces_shown: columns.verbose,
        },
    })
}

fn words_with_offsets(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &line[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &line[s..]));
    }
    out
}

/// The address a name `iptables -L` printed without `-n` stands for, when only one can:
/// `localhost`, the multicast base names, and cloud host names that spell their address
/// (`ip-192-168-0-0.ap-northeast-2.compute.internal`). A `/len` suffix is kept.
fn resolved_name(text: &str) -> Option<String> {
    let (name, len) = match text.split_once('/') {
        Some((n, l)) => (n, Some(l)),
        None => (text, None),
    };
    let addr = match name {
        "localhost" | "localhost.localdomain" => "127.0.0.1".to_string(),
        "ip6-localhost" | "ip6-loopback" => "::1".to_string(),
        "base-address.mcast.net" => "224.0.0.0".to_string(),
        "all-systems.mcast.net" => "224.0.0.1".to_string(),
        "all-routers.mcast.net" => "224.0.0.2".to_string(),
        _ => {
            // AWS: ip-A-B-C-D.REGION.compute.internal (or ec2.internal).
            let host = name.strip_prefix("ip-")?.split('.').next()?;
            let rest = &name[3 + host.len()..];
            if !(rest.ends_with(".compute.internal") || rest == ".ec2.internal") {
                return None;
            }
            let octets: Vec<u8> = host
                .split('-')
                .map(|o| o.parse().ok())
                .collect::<Option<_>>()?;
            if octets.len() != 4 {
                return None;
            }
            format!("{}.{}.{}.{}", octets[0], octets[1], octets[2], octets[3])
        }
    };
    Some(match len {
        Some(l) => format!("{addr}/{l}"),
        None => addr,
    })
}

fn is_protocol(text: &str) -> bool {
    Protocol::parse(listed_bang(text).1).is_ok()
}

fn is_opt(text: &str) -> bool {
    matches!(text, "--" | "-f" | "!f")
}

/// Where the opt column starts in a word that is a protocol glued to it (`ipencap--`).
fn glued_opt(word: &str) -> Option<usize> {
    let cut = word.len().checked_sub(2)?;
    (cut > 0 && word.is_char_boundary(cut) && is_opt(&word[cut..]) && is_protocol(&word[..cut]))
        .then_some(cut)
}

/// Reads the free text after the destination column: each extension's `print` output in turn.
/// What is not understood is kept as an `Unknown` match and reported.
fn extras(
    text: &str,
    matches: &mut Vec<Match>,
    mut target: Option<&mut Target>,
    problems: &mut Vec<String>,
) {
    {
        // Comments first: `/* … */` may hold any text, spaces included (or nothing).
        let mut rest = text.to_string();
        while let Some(open) = rest.find("/*") {
            let Some(close) = rest.get(open + 2..).and_then(|r| r.find("*/")) else {
                break;
            };
            let close = open + 2 + close;
            let comment = rest.get(open + 2..close).unwrap_or("").trim().to_string();
            matches.push(Match::Comment(comment));
            rest = format!(
                "{} {}",
                rest.get(..open).unwrap_or(""),
                rest.get(close + 2..).unwrap_or("")
            );
        }
        let owned: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
        let words: Vec<&str> = owned.iter().map(String::as_str).collect();
        let mut l = Listed::new(&words);
        // A lone `!` negates the match printed after it (`! ctstate RELATED,ESTABLISHED`,
        // `! match-set NAME src`).
        let mut negate_next = false;
        while let Some(word) = l.next() {
            if word == "!" {
                negate_next = true;
                continue;
            }
            let negated = std::mem::take(&mut negate_next);
            // The target's own print form first (`MARK or 0x4000`, `to:…`, `reject-with …`),
            // then the matches', each read back by its extension.
            let result = match target.as_deref_mut() {
                Some(t) if word == "[goto]" => {
                    t.goto = true;
                    t.action = Action::Chain;
                    Some(Ok(()))
                }
                Some(t) if !negated => t.action.listed(word, &mut l),
                _ => None,
            }
            .unwrap_or_else(|| match Match::listed(word, negated, &mut l) {
                Some(m) => m.map(|m| matches.push(m)),
                None => Err(format!(
                    "`{}{word}` in the listing's match text is not understood",
                    if negated { "! " } else { "" }
                )),
            });
            if let Err(e) = result {
                problems.push(e);
                // Keep the rest as written, from the word that was not understood on, so
                // nothing is silently lost.
                let from = words.len() - l.rest().len();
                let kept: Vec<String> = words[from.saturating_sub(1)..]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                matches.push(Match::Unknown {
                    module: crate::ext::matches::LISTING_TEXT.into(),
                    args: kept,
                });
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(line: &str, columns: Columns) -> (Option<Rule>, Vec<Diagnostic>) {
        let mut d = Vec::new();
        (row(line, 0, columns, &mut d), d)
    }

    #[test]
    fn headers_and_columns() {
        assert_eq!(
            ChainHeader::parse("Chain PREROUTING (policy ACCEPT 36 packets, 3606 bytes)"),
            Some(ChainHeader {
                name: "PREROUTING".into(),
                policy: Some("ACCEPT".into()),
                counters: Some(Counters {
                    packets: 36,
                    bytes: 3606
                })
            })
        );
        assert_eq!(
            ChainHeader::parse("Chain KUBE-SERVICES (2 references)").map(|h| h.policy),
            Some(None)
        );
        assert_eq!(
            Columns::parse(
                " pkts bytes target     prot opt in     out     source               destination"
            ),
            Some(Columns {
                num: false,
                verbose: true
            })
        );
        assert_eq!(counter("216K"), Some(216_000));
    }

    #[test]
    fn a_verbose_row_with_names() {
        let (rule, d) = read(
            "    0     0 KUBE-MARK-MASQ  tcp  --  *      *      !10.64.1.0/24         10.32.0.227          /* default/http-svc:http-svc cluster IP */ tcp dpt:8080",
            Columns {
                num: false,
                verbose: true,
            },
        );
        let rule = rule.expect("a rule");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            crate::print::rule(&rule, false),
            "! -s 10.64.1.0/24 -d 10.32.0.227/32 -p tcp -m comment --comment \"default/http-svc:http-svc cluster IP\" -m tcp --dport 8080 -j KUBE-MARK-MASQ"
        );
    }

    #[test]
    fn rows_without_n_map_names_back() {
        let (rule, d) = read(
            "KUBE-MARK-MASQ  udp  -- !172.18.1.0/24        10.0.0.10            /* kube-system/kube-dns:dns cluster IP */ udp dpt:domain",
            Columns::default(),
        );
        assert!(d.is_empty(), "{d:?}");
        let printed = rule.map(|r| crate::print::rule(&r, false));
        assert_eq!(
            printed.as_deref(),
            Some(
                "! -s 172.18.1.0/24 -d 10.0.0.10/32 -p udp -m comment --comment \"kube-system/kube-dns:dns cluster IP\" -m udp --dport 53 -j KUBE-MARK-MASQ"
            )
        );
    }

    #[test]
    fn target_texts() {
        let cols = Columns::default();
        let show = |line: &str| read(line, cols).0.map(|r| crate::print::rule(&r, false));
        assert_eq!(
            show("MARK       all  --  0.0.0.0/0            0.0.0.0/0            MARK or 0x4000")
                .as_deref(),
            Some("-j MARK --set-xmark 0x4000/0x4000")
        );
        assert_eq!(show("DNAT            tcp  --  0.0.0.0/0            0.0.0.0/0            tcp to:172.31.9.52:80").as_deref(), Some("-p tcp -m tcp -j DNAT --to-destination 172.31.9.52:80"));
        assert_eq!(
            show("KUBE-SEP-EA7TYKWK2S6G4PQR  all  --  0.0.0.0/0            0.0.0.0/0            statistic mode random probability 0.14286000002").as_deref(),
            Some("-m statistic --mode random --probability 0.14286000002 -j KUBE-SEP-EA7TYKWK2S6G4PQR")
        );
        assert_eq!(
            show("DOCKER         all  --  0.0.0.0/0           !127.0.0.0/8          ADDRTYPE match dst-type LOCAL").as_deref(),
            Some("! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER")
        );
        // Istio's connection marks, read back by the connmark match and CONNMARK target files.
        assert_eq!(
            show("CONNMARK   tcp  --  0.0.0.0/0            0.0.0.0/0            connmark match  0x1/0xff CONNMARK save mask 0xff").as_deref(),
            Some("-p tcp -m connmark --mark 0x1/0xff -j CONNMARK --save-mark --nfmask 0xff --ctmask 0xff")
        );
        assert_eq!(
            show("CONNMARK   all  --  0.0.0.0/0            0.0.0.0/0            CONNMARK restore")
                .as_deref(),
            Some("-j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff")
        );
        assert_eq!(
            show("MASQUERADE  tcp  --  0.0.0.0/0            0.0.0.0/0            masq ports: 1024-65535 random-fully").as_deref(),
            Some("-p tcp -j MASQUERADE --to-ports 1024-65535 --random-fully")
        );
    }

    #[test]
    fn real_row_shapes() {
        // Rows from real pastes (conformance/real-nodes 14 and 24), each read whole.
        let cols = Columns::default();
        let show = |line: &str| {
            let (rule, d) = read(line, cols);
            assert!(d.is_empty(), "{line}: {d:?}");
            rule.map(|r| crate::print::rule(&r, false))
        };
        // A protocol name as wide as its column runs into `--`.
        assert_eq!(
            show("ACCEPT     ipencap--  anywhere             anywhere             /* cali:1IRlRis1-pHsGnX5 */ /* Allow IPIP packets from Calico hosts */ match-set cali40all-hosts-net src ADDRTYPE match dst-type LOCAL").as_deref(),
            Some("-p ipencap -m comment --comment \"cali:1IRlRis1-pHsGnX5\" -m comment --comment \"Allow IPIP packets from Calico hosts\" -m set --match-set cali40all-hosts-net src -m addrtype --dst-type LOCAL -j ACCEPT")
        );
        // A lone `!` before the match it negates; netbase's service names.
        assert_eq!(
            show("ACCEPT     all  --  anywhere             anywhere             ADDRTYPE match src-type !LOCAL ! ctstate RELATED,ESTABLISHED").as_deref(),
            Some("-m addrtype ! --src-type LOCAL -m conntrack ! --ctstate RELATED,ESTABLISHED -j ACCEPT")
        );
        assert_eq!(
            show(
                "ACCEPT     tcp  --  anywhere             anywhere             multiport dports bgp"
            )
            .as_deref(),
            Some("-p tcp -m multiport --dports 179 -j ACCEPT")
        );
        assert_eq!(
            show("DROP       all  --  anywhere             anywhere             ! match-set weave-local-pods dst").as_deref(),
            Some("-m set ! --match-set weave-local-pods dst -j DROP")
        );
        assert_eq!(
            show("NFLOG      all  --  anywhere             anywhere             /* x */ nflog-group 86").as_deref(),
            Some("-m comment --comment x -j NFLOG --nflog-group 86")
        );
        // Names only one address can stand for are read back as that address.
        let (rule, d) = read(
            "DROP       all  -- !localhost/8          localhost/8          ! ctstate RELATED,ESTABLISHED,DNAT nfacct-name  ct_state_invalid_dropped_pkts",
            cols,
        );
        assert_eq!(
            rule.map(|r| crate::print::rule(&r, false)).as_deref(),
            Some(
                "! -s 127.0.0.0/8 -d 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP"
            )
        );
        assert!(
            d.iter().all(|d| d.code == "listing-hostname-mapped"),
            "{d:?}"
        );
        assert_eq!(
            resolved_name("ip-192-168-0-0.ap-northeast-2.compute.internal/16").as_deref(),
            Some("192.168.0.0/16")
        );
        assert_eq!(resolved_name("k8s-cp/24"), None);
        // A `!` before a match that cannot be negated that way is kept and said.
        let (rule, d) = read(
            "ACCEPT  all  --  0.0.0.0/0  0.0.0.0/0  ! multiport dports 80",
            cols,
        );
        assert!(rule.is_some() && d.len() == 1, "{d:?}");
    }

    #[test]
    fn unknown_text_is_kept_and_reported() {
        let (rule, d) = read(
            "ACCEPT  all  --  0.0.0.0/0  0.0.0.0/0  frobnicate 7",
            Columns::default(),
        );
        assert_eq!(d.len(), 1);
        assert!(rule.is_some_and(|r| !r.complete && matches!(&r.matches[0], Match::Unknown { args, .. } if args == &["frobnicate", "7"])));
    }
}
