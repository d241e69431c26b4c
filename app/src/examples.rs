//! The seed fixtures, offered as examples in the paste box.

/// The seed fixtures, offered as examples; the first is what the app opens with.
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "kind-v1.23-iptables-v1.8.4.iptables-save",
        include_str!("../../public/examples/kind-v1.23-iptables-v1.8.4.iptables-save"),
    ),
    (
        "bind-kube-proxy-v1.4.21.iptables-save",
        include_str!("../../public/examples/bind-kube-proxy-v1.4.21.iptables-save"),
    ),
    (
        "bind-manual-dnat-v1.4.21.iptables-save",
        include_str!("../../public/examples/bind-manual-dnat-v1.4.21.iptables-save"),
    ),
    (
        "aliyun-v1.12-nat-listing.iptables-L",
        include_str!("../../public/examples/aliyun-v1.12-nat-listing.iptables-L"),
    ),
    (
        "kube-dns-chains-resolved-names.iptables-L",
        include_str!("../../public/examples/kube-dns-chains-resolved-names.iptables-L"),
    ),
    (
        "tutorial-clusterip-transcript.txt",
        include_str!("../../public/examples/tutorial-clusterip-transcript.txt"),
    ),
    (
        "tutorial-clusterip-fragment.iptables-save",
        include_str!("../../public/examples/tutorial-clusterip-fragment.iptables-save"),
    ),
    (
        "tutorial-clusterip-conntrack.txt",
        include_str!("../../public/examples/tutorial-clusterip-conntrack.txt"),
    ),
    (
        "tutorial-nodeport-transcript.txt",
        include_str!("../../public/examples/tutorial-nodeport-transcript.txt"),
    ),
    (
        "tutorial-nodeport-fragment.iptables-save",
        include_str!("../../public/examples/tutorial-nodeport-fragment.iptables-save"),
    ),
    (
        "tutorial-nodeport-conntrack.txt",
        include_str!("../../public/examples/tutorial-nodeport-conntrack.txt"),
    ),
    (
        "tutorial-nodeport-etp-local-transcript.txt",
        include_str!("../../public/examples/tutorial-nodeport-etp-local-transcript.txt"),
    ),
    (
        "tutorial-nodeport-etp-local-fragment.iptables-save",
        include_str!("../../public/examples/tutorial-nodeport-etp-local-fragment.iptables-save"),
    ),
    (
        "bind-conntrack-count-2500rps.csv",
        include_str!("../../public/examples/bind-conntrack-count-2500rps.csv"),
    ),
];

pub const DEFAULT_EXAMPLE: &str = EXAMPLES[0].1;
