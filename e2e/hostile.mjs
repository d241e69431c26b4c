// Hostile inputs shared by the e2e suite and the browser benchmarks: rules that would make the
// simulator's branches multiply, and links that carry them.
import { deflateRawSync } from 'node:zlib';

/** kube-proxy-shaped rules whose NodePort is reached only after `n` undecidable ipset tests. */
export function undecidableBeforeNodePort(n) {
  let d = '*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n'
    + ':KUBE-MARK-MASQ - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]\n:KUBE-SEP-BBBBBBBBBBBBBBBB - [0:0]\n:SETS - [0:0]\n'
    + '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n'
    + '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING\n'
    + '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n'
    + '-A KUBE-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE\n-A KUBE-SERVICES -j SETS\n';
  for (let i = 0; i < n; i++) d += `-A SETS -m set --match-set guard-${i} src -j LOG\n`;
  return d
    + '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n'
    + '-A KUBE-NODEPORTS -p tcp -m comment --comment "default/web:http" -m tcp --dport 30080 -j KUBE-MARK-MASQ\n'
    + '-A KUBE-NODEPORTS -p tcp -m comment --comment "default/web:http" -m tcp --dport 30080 -j KUBE-SVC-AAAAAAAAAAAAAAAA\n'
    + '-A KUBE-SVC-AAAAAAAAAAAAAAAA -m comment --comment "default/web:http" -j KUBE-SEP-BBBBBBBBBBBBBBBB\n'
    + '-A KUBE-SEP-BBBBBBBBBBBBBBBB -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 203.0.113.10:8080\nCOMMIT\n';
}

/** The state of a link that traces a packet from outside to the NodePort of those rules. */
export function nodePortTrace(n) {
  return {
    input: undecidableBeforeNodePort(n),
    view: 'trace',
    trace: { from: 'outside', src: '203.0.113.77', dst: '192.0.2.1', proto: 'tcp', dport: '30080', local_ips: '192.0.2.1', which: 'first' },
  };
}

/** `#s=1.…`: the state deflated and base64url-encoded, as the app writes links. */
export function linkTo(state) {
  const b64 = deflateRawSync(Buffer.from(JSON.stringify(state))).toString('base64')
    .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `#s=1.${b64}`;
}
