//! Every paste the tests know: the seeds, the conformance data (real nodes, real and
//! iptables' own dumps, chain families, kube-proxy's cases, nftables listings), the fuzz
//! findings, and hand-made hostile inputs. `CHAINLENS_WRITE_CORPUS=DIR` writes them all into
//! DIR as files, to seed the fuzzers (`fuzz/README.md`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use super::shared;

fn files(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> Vec<(String, String)> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = read
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && keep(p))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_default();
            (
                p.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        })
        .collect()
}

/// Real and conformance pastes, by path.
pub fn pastes() -> Vec<(String, String)> {
    let c = shared().join("conformance");
    let not_docs = |p: &Path| {
        !p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("README") || n == "INDEX.md")
    };
    let mut out = files(&shared().join("fixtures/seeds"), &not_docs);
    out.extend(files(&c.join("real-nodes"), &not_docs));
    out.extend(files(&c.join("real-dumps"), &|p| {
        p.extension().is_some_and(|e| e == "txt")
    }));
    out.extend(files(&c.join("iptables-dumps"), &not_docs));
    out.extend(files(&c.join("chain-families"), &|p| {
        p.extension().is_some_and(|e| e == "txt")
    }));
    out.extend(files(&c.join("kube-proxy-nftables"), &|p| {
        p.extension().is_some_and(|e| e == "txt")
    }));
    for case in super::kube_proxy_cases() {
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&case).unwrap_or_default())
                .unwrap_or_default();
        if let Some(dump) = json["iptables_save"].as_str() {
            out.push((case.display().to_string(), dump.to_string()));
        }
    }
    out.extend(files(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions"),
        &|_| true,
    ));
    out
}

/// A kube-proxy-shaped nat table whose NodePort is reached only after `n` rules that each
/// test a different ipset (undecidable) and do not end the walk.
pub fn undecidable_before_node_port(n: usize) -> String {
    let mut d = String::from(
        "*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n\
         :KUBE-NODEPORTS - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n:KUBE-POSTROUTING - [0:0]\n\
         :KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]\n:KUBE-SEP-BBBBBBBBBBBBBBBB - [0:0]\n:SETS - [0:0]\n\
         -A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n\
         -A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n\
         -A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n\
         -A KUBE-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE\n\
         -A KUBE-SERVICES -j SETS\n",
    );
    for i in 0..n {
        d.push_str(&format!(
            "-A SETS -m set --match-set guard-{i} src -j LOG\n"
        ));
    }
    d.push_str(
        "-A KUBE-SERVICES -d 198.51.100.10/32 -p tcp -m comment --comment \"default/web:http cluster IP\" -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA\n\
         -A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n\
         -A KUBE-NODEPORTS -p tcp -m comment --comment \"default/web:http\" -m tcp --dport 30080 -j KUBE-MARK-MASQ\n\
         -A KUBE-NODEPORTS -p tcp -m comment --comment \"default/web:http\" -m tcp --dport 30080 -j KUBE-SVC-AAAAAAAAAAAAAAAA\n\
         -A KUBE-SVC-AAAAAAAAAAAAAAAA -m comment --comment \"default/web:http\" -j KUBE-SEP-BBBBBBBBBBBBBBBB\n\
         -A KUBE-SEP-BBBBBBBBBBBBBBBB -p tcp -m comment --comment \"default/web:http\" -m tcp -j DNAT --to-destination 203.0.113.10:8080\n\
         COMMIT\n",
    );
    d
}

/// Inputs made to hurt: the shapes that panicked, looped or exploded before.
pub fn hostile() -> Vec<(String, String)> {
    let listing = |rows: &str| {
        format!(
            "Chain KUBE-SERVICES (2 references)\ntarget     prot opt source               destination\n{rows}\n"
        )
    };
    let mut nested = String::from("*filter\n:FORWARD ACCEPT [0:0]\n");
    for i in 0..300 {
        nested.push_str(&format!(":C{i} - [0:0]\n"));
    }
    nested.push_str("-A FORWARD -j C0\n");
    for i in 0..300 {
        nested.push_str(&format!(
            "-A C{i} -m statistic --mode random --probability 0.5 -j MARK --or-mark {:#x}\n",
            1u32 << (i % 32)
        ));
        nested.push_str(&format!("-A C{i} -m set --match-set s{i} dst -j LOG\n"));
        if i + 1 < 300 {
            nested.push_str(&format!("-A C{i} -j C{}\n", i + 1));
        }
    }
    nested.push_str("COMMIT\n");
    let cases: Vec<(&str, String)> = vec![
        (
            "empty-comment-row",
            listing("KUBE-SVC-X  tcp  --  0.0.0.0/0            10.96.0.1            /* */ tcp dpt:443"),
        ),
        (
            "bare-multiport-row",
            listing("ACCEPT  tcp  --  0.0.0.0/0            10.96.0.1            multiport"),
        ),
        (
            "huge-counters",
            "Chain INPUT (policy ACCEPT 99999999999T packets, 5 bytes)\n pkts bytes target     prot opt in     out     source               destination\n99999999999T 99999999999T ACCEPT all -- * * 0.0.0.0/0 0.0.0.0/0\n".into(),
        ),
        (
            "bad-mask-row",
            listing("ACCEPT  tcp  --  0.0.0.0/0            10.96.0.1/33\nDROP  tcp  --  0.0.0.0/0            10.96.0.2"),
        ),
        (
            "mode-twice",
            "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m statistic --mode random --probability 0.5 --mode random -j DROP\nCOMMIT\n".into(),
        ),
        (
            "one-nul",
            "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j DROP\0\n-A PREROUTING -x bad\nCOMMIT\n".into(),
        ),
        ("twenty-undecidable-before-a-node-port", undecidable_before_node_port(20)),
        ("nested-random-and-undecidable", nested),
        (
            "jump-loop",
            "*filter\n:FORWARD ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n-A FORWARD -j A\n-A A -j B\n-A B -j A\nCOMMIT\n".into(),
        ),
        (
            "goto-loop",
            "*nat\n:PREROUTING ACCEPT [0:0]\n:A - [0:0]\n-A PREROUTING -g A\n-A A -g A\nCOMMIT\n".into(),
        ),
        (
            "html-chain",
            "*filter\n:INPUT ACCEPT [0:0]\n:<img/src/onerror=alert(1)> - [0:0]\n-A INPUT -j <img/src/onerror=alert(1)>\nCOMMIT\n".into(),
        ),
        (
            "mermaid-directive",
            "*%%{init:{'theme':'dark'}}%%\n:INPUT ACCEPT [0:0]\n:%%{init}%% - [0:0]\n-A INPUT -j %%{init}%%\nCOMMIT\n".into(),
        ),
        (
            "xml-invalid-characters",
            "*filter\n:INPUT ACCEPT [0:0]\n:A\u{fffe}B\u{ffff} - [0:0]\n-A INPUT -m comment --comment \"x\u{fffe}\" -j A\u{fffe}B\u{ffff}\nCOMMIT\n".into(),
        ),
        (
            "terminal-escapes",
            "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment \"\u{1b}]0;pwned\u{7}\u{1b}[2J\" -j ACCEPT\n-A INPUT \u{1b}[31m\nCOMMIT\n".into(),
        ),
        (
            "ipset-list-with-rules",
            "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT\n-A FORWARD -m set ! --match-set weave-x src -j DROP\nCOMMIT\nName: KUBE-CLUSTER-IP\nType: hash:ip,port\nRevision: 5\nHeader: family inet hashsize 1024 maxelem 65536\nNumber of entries: 3\nMembers:\n10.96.0.1,tcp:443\n10.96.0.10,udp:53\n\ncreate weave-x hash:net family inet\nadd weave-x 10.32.0.0/12\nadd weave-x 10.40.0.0/16 nomatch\nadd weave-x 10.1.2.3,eth0\n".into(),
        ),
        (
            "ipvsadm-with-rules",
            "$ ipvsadm -Ln\nIP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  10.96.0.1:443 rr\n  -> 192.0.2.10:6443              Masq    1      3          0\nUDP  10.96.0.10:53 rr persistent 10800\n  -> 203.0.113.2:53               Masq    0      0          0\n-A -t 10.96.0.20:80 -s wrr\n-a -t 10.96.0.20:80 -r 203.0.113.9:8080 -m -w 4294967295\n-a -u 10.96.0.99:1 -r 203.0.113.9:1 -m\n".into(),
        ),
        (
            "a-line-of-bangs",
            format!("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT {}-j DROP\nCOMMIT\n", "! ".repeat(20_000)),
        ),
    ];
    cases
        .into_iter()
        .map(|(n, t)| (format!("hostile/{n}"), t))
        .collect()
}

/// Writes every paste into `CHAINLENS_WRITE_CORPUS`, if set.
pub fn write_corpus(all: &[(String, String)]) {
    let Some(dir) = std::env::var_os("CHAINLENS_WRITE_CORPUS") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let _ = std::fs::create_dir_all(&dir);
    for (i, (name, text)) in all.iter().enumerate() {
        let base: String = name
            .rsplit('/')
            .next()
            .unwrap_or("paste")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let _ = std::fs::write(dir.join(format!("{i:03}-{base}")), text);
    }
}
