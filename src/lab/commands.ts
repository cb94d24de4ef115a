/**
 * The `ip` commands that build a lab's topology, as text for `ip -batch -` / `ip -n NS -batch -`. Pure:
 * the IO layer (lab.ts) only pipes these into `ip`, so what the lab builds is reviewable and
 * unit-tested here.
 *
 * The design, per node: the node's namespace is its router. Each pod is a namespace with one veth to the
 * node; the pod holds its addresses as /32 (/128) and a default route to a gateway address that the
 * node's end of every pod veth carries (169.254.1.1, fe80::1), so all pod traffic, same-node traffic
 * included, is forwarded by the node and passes its `forward` hook. The node has a host route per local
 * pod. With more than one node, each node has an uplink veth into a bridge namespace (the fabric) and a
 * host route per remote pod via that pod's node. Every neighbour entry is written as permanent (the MACs
 * are planned), so no packet ever waits for ARP/NDP and no first probe is lost to resolution.
 *
 * Interface indexes are set explicitly so that the two ends of a veth never have the same index (each
 * in its own namespace). When they do, the kernel's link watcher treats the carrier change as
 * non-urgent and may apply it up to a second later, and until then the link drops every packet; with
 * the pod ends at index 2, the node ends of pod veths from 100 and the uplinks at 2 with their fabric
 * ends from 100, that never happens.
 */

/** Index of the pod's interface in its namespace, and of a node's uplink in the node's namespace. */
export const POD_IFINDEX = 2;
export const UPLINK_IFINDEX = 2;
/** First index of the node ends of pod veths (node namespace) and of the fabric ports (fabric namespace). */
export const PEER_IFINDEX_BASE = 100;
import type { LabLayout, LayoutNode, LayoutPod } from './plan.js';

function hostPrefix(ip: string): string {
  return ip.includes(':') ? `${ip}/128` : `${ip}/32`;
}

function v4(ips: readonly string[]): string | undefined {
  return ips.find((ip) => !ip.includes(':'));
}

function v6(ips: readonly string[]): string | undefined {
  return ips.find((ip) => ip.includes(':'));
}

/** Creates every namespace of the lab (run with plain `ip -batch -`). */
export function netnsAddBatch(layout: LabLayout): string {
  return allNetns(layout)
    .map((ns) => `netns add ${ns}\n`)
    .join('');
}

/** Deletes every namespace of the lab (run with `ip -force -batch -`: missing ones are not an error). */
export function netnsDeleteBatch(names: readonly string[]): string {
  return names.map((ns) => `netns delete ${ns}\n`).join('');
}

export function allNetns(layout: LabLayout): string[] {
  return [...layout.nodes.map((n) => n.netns), ...layout.pods.map((p) => p.netns), ...(layout.fabric ? [layout.fabric.netns] : [])];
}

/**
 * Sysctls of a node namespace: a router that does not filter by reverse path, and does not rate-limit the
 * ICMP errors a `reject` rule sends (else a burst of rejected probes to one pod turns into timeouts).
 */
export function nodeSysctls(layout: LabLayout): string[] {
  const s = ['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0', 'net.ipv4.icmp_ratelimit=0'];
  if (layout.families.includes(6)) s.push('net.ipv6.conf.all.forwarding=1', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.icmp.ratelimit=0');
  return s;
}

/** Run in the pod's namespace: creates the veth (node end straight into the node namespace) and the pod side. */
export function podBatch(layout: LabLayout, pod: LayoutPod): string {
  const node = layout.nodes[pod.node]!;
  const lines = [
    'link set lo up',
    `link add ${pod.ifName} index ${POD_IFINDEX} address ${pod.mac} type veth peer name ${pod.nodeIfName} index ${PEER_IFINDEX_BASE + pod.index} address ${pod.nodeMac} netns ${node.netns}`,
  ];
  const a4 = v4(pod.ips);
  const a6 = v6(pod.ips);
  if (a4) lines.push(`addr add ${hostPrefix(a4)} dev ${pod.ifName}`);
  if (a6) lines.push(`addr add ${hostPrefix(a6)} dev ${pod.ifName} nodad`);
  lines.push(`link set ${pod.ifName} up`);
  if (a4 && layout.gateway.ipv4) {
    lines.push(`neigh replace ${layout.gateway.ipv4} lladdr ${pod.nodeMac} dev ${pod.ifName} nud permanent`);
    lines.push(`route add default via ${layout.gateway.ipv4} dev ${pod.ifName} onlink`);
  }
  if (a6 && layout.gateway.ipv6) {
    lines.push(`neigh replace ${layout.gateway.ipv6} lladdr ${pod.nodeMac} dev ${pod.ifName} nud permanent`);
    lines.push(`route add default via ${layout.gateway.ipv6} dev ${pod.ifName}`);
  }
  return lines.map((l) => `${l}\n`).join('');
}

/** Run in the node's namespace after every pod batch: node ends of the pod veths, the uplink, routes. */
export function nodeBatch(layout: LabLayout, node: LayoutNode): string {
  const lines = ['link set lo up'];
  for (const i of node.pods) {
    const pod = layout.pods[i]!;
    const dev = pod.nodeIfName;
    const a4 = v4(pod.ips);
    const a6 = v6(pod.ips);
    if (layout.gateway.ipv4) lines.push(`addr add ${layout.gateway.ipv4}/32 dev ${dev}`);
    if (layout.gateway.ipv6) lines.push(`addr add ${layout.gateway.ipv6}/64 dev ${dev} nodad`);
    lines.push(`link set ${dev} up`);
    for (const ip of [a4, a6]) {
      if (!ip) continue;
      lines.push(`neigh replace ${ip} lladdr ${pod.mac} dev ${dev} nud permanent`);
      lines.push(`route add ${hostPrefix(ip)} dev ${dev}`);
    }
  }
  const up = node.uplink;
  if (up && layout.fabric) {
    lines.push(
      `link add ${up.ifName} index ${UPLINK_IFINDEX} address ${up.mac} type veth peer name ${up.fabricIfName} index ${PEER_IFINDEX_BASE + node.index} address ${up.fabricMac} netns ${layout.fabric.netns}`,
    );
    if (up.ipv4) lines.push(`addr add ${up.ipv4}/${layout.fabric.prefixLength4} dev ${up.ifName}`);
    if (up.ipv6) lines.push(`addr add ${up.ipv6}/64 dev ${up.ifName} nodad`);
    lines.push(`link set ${up.ifName} up`);
    for (const other of layout.nodes) {
      if (other.index === node.index || !other.uplink) continue;
      const via = other.uplink;
      if (via.ipv4) lines.push(`neigh replace ${via.ipv4} lladdr ${via.mac} dev ${up.ifName} nud permanent`);
      if (via.ipv6) lines.push(`neigh replace ${via.ipv6} lladdr ${via.mac} dev ${up.ifName} nud permanent`);
      for (const i of other.pods) {
        const pod = layout.pods[i]!;
        const a4 = v4(pod.ips);
        const a6 = v6(pod.ips);
        if (a4 && via.ipv4) lines.push(`route add ${hostPrefix(a4)} via ${via.ipv4} dev ${up.ifName}`);
        if (a6 && via.ipv6) lines.push(`route add ${hostPrefix(a6)} via ${via.ipv6} dev ${up.ifName}`);
      }
    }
  }
  return lines.map((l) => `${l}\n`).join('');
}

/** Run in the fabric namespace after every node batch: the bridge and its ports. */
export function fabricBatch(layout: LabLayout): string {
  if (!layout.fabric) return '';
  const br = layout.fabric.bridge;
  const lines = ['link set lo up', `link add ${br} type bridge`, `link set ${br} up`];
  for (const node of layout.nodes) {
    if (!node.uplink) continue;
    lines.push(`link set ${node.uplink.fabricIfName} master ${br}`, `link set ${node.uplink.fabricIfName} up`);
  }
  return lines.map((l) => `${l}\n`).join('');
}
