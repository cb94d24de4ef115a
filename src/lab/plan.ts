/**
 * Lab planning: from a loaded cluster and a node count to a complete, serialisable layout (which pod
 * lives on which node, every namespace and interface name, every address, MAC and route target) plus the
 * *lab cluster*: the input cluster with each pod's lab IPs and lab node name filled in, which is what the
 * enforcers compile and what a differential test should hand the engine.
 *
 * Design choice: planning is pure and deterministic (same cluster, node count and id, same plan), so it
 * is unit-tested without root, and a second process (`labProbe`, `labDown`) can work from the persisted
 * layout alone. Everything that could make the kernel disagree with the engine for reasons other than
 * enforcement is decided here and reported as diagnostics:
 *
 * - A pod without `status.podIP` has no address for the engine, so no ipBlock can match it. Its lab
 *   address is therefore taken outside every ipBlock of every policy (`cidr` minus `except`), and outside
 *   the manifests' pod IPs; when no such address exists, a warning says the kernel will match it.
 * - A named probe port that the destination pod does not define matches, for the engine, only rules that
 *   admit every port of the protocol. The lab probes a stand-in port (`unnamedPort`) that no policy names
 *   by number or range and no pod declares, so exactly those rules admit it in the kernel too.
 */
import type { Diagnostic } from '../diag/index.js';
import { sortPods } from '../engine/index.js';
import { AddressSet, formatIP, parseCIDR, parseIP, type Family, type IP } from '../ip/index.js';
import { podKey, type Cluster, type NamedPort, type PodInfo } from '../model/index.js';
import { normalizePolicy } from '../policy/index.js';
import { labMac, labNames, MAC_ROLE, MAX_INDEX } from './names.js';

/** More nodes than a lab needs to show cross-node enforcement; also bounds the fabric /24. */
export const MAX_NODES = 64;

export interface PlanOptions {
  /** Lab id (see names.ts): 1-6 characters [a-z0-9]. */
  readonly id: string;
  /** Number of lab nodes, 1..MAX_NODES (default 1). */
  readonly nodes?: number;
}

export interface LayoutPod {
  /** Position in `layout.pods`: the matrix order (sortPods). */
  readonly index: number;
  /** `namespace/name`, as in the matrix. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  /** Index of the node the pod lives on. */
  readonly node: number;
  readonly netns: string;
  /** The pod's interface (in `netns`). */
  readonly ifName: string;
  readonly mac: string;
  /** The node's end of the pod's veth (in the node's namespace). */
  readonly nodeIfName: string;
  readonly nodeMac: string;
  /** The pod's addresses, canonical text, IPv4 first. */
  readonly ips: readonly string[];
  /** True when the manifests gave no IP and the lab assigned `ips`. */
  readonly assignedIps: boolean;
  /** Container ports (for named-port probes and listeners). */
  readonly ports: readonly NamedPort[];
}

export interface LayoutUplink {
  /** In the node's namespace. */
  readonly ifName: string;
  readonly mac: string;
  /** The other end, enslaved to the fabric bridge. */
  readonly fabricIfName: string;
  readonly fabricMac: string;
  readonly ipv4?: string;
  /** Link-local, used as next hop for IPv6 routes. */
  readonly ipv6?: string;
}

export interface LayoutNode {
  readonly index: number;
  /** The lab node name: pods of the lab cluster carry it as `nodeName`, enforcers compile for it. */
  readonly name: string;
  readonly netns: string;
  /** The manifests' `spec.nodeName`s mapped onto this node. */
  readonly manifestNodeNames: readonly string[];
  /** Indexes of the pods on this node. */
  readonly pods: readonly number[];
  /** Present when the lab has more than one node. */
  readonly uplink?: LayoutUplink;
}

export interface LabLayout {
  readonly version: 1;
  readonly id: string;
  readonly netnsPrefix: string;
  readonly ifPrefix: string;
  /** Address families in use. */
  readonly families: readonly Family[];
  /** The pods' default gateway, held by the node's end of every pod veth. */
  readonly gateway: { readonly ipv4?: string; readonly ipv6?: string };
  /** The bridge namespace connecting the nodes (more than one node only). */
  readonly fabric?: { readonly netns: string; readonly bridge: string; readonly prefixLength4: number };
  readonly nodes: readonly LayoutNode[];
  readonly pods: readonly LayoutPod[];
  /**
   * The stand-in for a named port that a destination pod does not define: no policy mentions it by number
   * or range and no pod declares it. Undefined when every port is taken (then such probes are refused).
   */
  readonly unnamedPort?: number;
}

export interface LabPlan {
  readonly layout: LabLayout;
  /** The input cluster with each pod's lab IPs and lab node name (`spec.nodeName`) filled in. */
  readonly cluster: Cluster;
  /** Errors make the plan unusable; warnings say where the lab may disagree with the engine. */
  readonly diagnostics: readonly Diagnostic[];
}

export function labNodeName(index: number): string {
  return `lab-node-${index}`;
}

/** Link-local gateway of every pod (each pod veth is a link of its own, so one address serves all). */
export const POD_GATEWAY6 = 'fe80::1';

function uplinkAddress6(node: number): string {
  return `fe80::ff:${(node + 1).toString(16)}`;
}

const V4_POOLS = ['10.244.0.0/16', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '0.0.0.0/0'];
const V6_POOLS = ['fd00:10:244::/64', 'fd00::/8', '::/0'];
/** Never handed to a pod: unspecified, loopback, link-local (the lab's own infrastructure), multicast and up. */
const V4_SPECIAL = ['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/3'];
const V6_SPECIAL = ['::/127', '::ffff:0:0/96', 'fe80::/10', 'ff00::/8'];

function setOf(cidrs: readonly string[]): AddressSet {
  return AddressSet.unionAll(
    cidrs.map((c) => {
      const parsed = parseCIDR(c);
      if (!parsed) throw new Error(`bad built-in CIDR ${c}`);
      return AddressSet.fromCIDR(parsed);
    }),
  );
}

/** The first `count` addresses of `family` in the pools, in pool order, outside `forbidden`. */
function takeAddresses(family: Family, count: number, forbidden: AddressSet): IP[] {
  const out: IP[] = [];
  if (count === 0) return out;
  const pools = family === 4 ? V4_POOLS : V6_POOLS;
  const special = setOf(family === 4 ? V4_SPECIAL : V6_SPECIAL);
  let taken = forbidden.union(special);
  for (const pool of pools) {
    const poolSet = setOf([pool]);
    const available = poolSet.subtract(taken);
    for (const [lo, hi] of available.intervals(family)) {
      for (let v = lo; v <= hi && out.length < count; v++) if (!looksSpecial(family, v)) out.push({ family, value: v });
      if (out.length === count) return out;
    }
    taken = taken.union(poolSet);
  }
  return out;
}

/** `10.244.7.0`, `10.244.7.255`, `fd00::` are legal /32 and /128 hosts, but read like network or broadcast addresses. */
function looksSpecial(family: Family, v: bigint): boolean {
  return family === 4 ? (v & 0xffn) === 0n || (v & 0xffn) === 0xffn : (v & 0xffffn) === 0n;
}

function diag(severity: Diagnostic['severity'], code: Diagnostic['code'], message: string, object?: string): Diagnostic {
  return { severity, code, message, ...(object !== undefined ? { object } : {}) };
}

/** The stand-in port: the highest port from 65000 down (then the rest) that no policy or pod uses. */
function chooseUnnamedPort(cluster: Cluster): number | undefined {
  const used = new Uint8Array(65536);
  for (const p of cluster.pods) for (const port of p.ports) used[port.port] = 1;
  for (const info of cluster.policies) {
    const policy = normalizePolicy(info);
    for (const rule of [...policy.ingressRules, ...policy.egressRules]) {
      for (const spec of rule.ports ?? []) {
        if (spec.port.kind !== 'range') continue;
        for (let n = spec.port.from; n <= spec.port.to; n++) used[n] = 1;
      }
    }
  }
  for (let n = 65000; n >= 1; n--) if (!used[n]) return n;
  for (let n = 65001; n <= 65535; n++) if (!used[n]) return n;
  return undefined;
}

/** Every address some ipBlock peer of some policy matches (`cidr` minus `except`). */
function ipBlockAddresses(cluster: Cluster): AddressSet {
  const sets: AddressSet[] = [];
  for (const info of cluster.policies) {
    const policy = normalizePolicy(info);
    for (const rule of [...policy.ingressRules, ...policy.egressRules]) {
      for (const peer of rule.peers ?? []) if (peer.kind === 'ipBlock') sets.push(peer.addresses);
    }
  }
  return AddressSet.unionAll(sets);
}

/**
 * Node of each pod (indexes into `sorted`): a pod whose manifest names a node goes where that node name
 * maps (distinct names sorted, the i-th onto lab node i mod K); the others round-robin in matrix order.
 */
function assignNodes(sorted: readonly PodInfo[], k: number): { nodeOf: number[]; manifestNames: string[][] } {
  const names = [...new Set(sorted.map((p) => p.nodeName).filter((n): n is string => n !== undefined && n !== ''))].sort();
  const nameIndex = new Map(names.map((n, i) => [n, i % k]));
  const manifestNames: string[][] = Array.from({ length: k }, () => []);
  names.forEach((n, i) => manifestNames[i % k]!.push(n));
  let next = 0;
  const nodeOf = sorted.map((p) => {
    const mapped = p.nodeName ? nameIndex.get(p.nodeName) : undefined;
    if (mapped !== undefined) return mapped;
    const n = next;
    next = (next + 1) % k;
    return n;
  });
  return { nodeOf, manifestNames };
}

/** Plans a lab. Never throws on bad input: problems are error diagnostics (and the layout is then partial). */
export function planLab(cluster: Cluster, options: PlanOptions): LabPlan {
  const diagnostics: Diagnostic[] = [];
  const names = labNames(options.id);
  const k = options.nodes ?? 1;
  if (!Number.isInteger(k) || k < 1 || k > MAX_NODES) {
    diagnostics.push(diag('error', 'LabNodeCount', `the number of nodes must be an integer from 1 to ${MAX_NODES}, not ${k}`));
  }
  const nodeCount = Number.isInteger(k) && k >= 1 && k <= MAX_NODES ? k : 1;
  const sorted = sortPods(cluster.pods);
  if (sorted.length > MAX_INDEX + 1) {
    diagnostics.push(diag('error', 'LabTooManyPods', `a lab holds at most ${MAX_INDEX + 1} pods, the input has ${sorted.length}`));
  }

  // Manifest addresses: kept as given (canonical text), checked for duplicates.
  const owner = new Map<string, string>();
  const manifestIPs: IP[] = [];
  const manifestFamilies = new Set<Family>();
  const parsedIPs = sorted.map((p) => {
    const ips: IP[] = [];
    for (const text of p.ips) {
      const ip = parseIP(text);
      if (!ip) {
        diagnostics.push(diag('error', 'LabBadPodIP', `pod IP ${JSON.stringify(text)} is not an IP address`, `Pod ${podKey(p)}`));
        continue;
      }
      const canonical = formatIP(ip);
      const prior = owner.get(canonical);
      if (prior !== undefined) {
        diagnostics.push(diag('error', 'LabDuplicatePodIP', `pod IP ${canonical} is also the IP of pod ${prior}; a lab cannot route both`, `Pod ${podKey(p)}`));
        continue;
      }
      if (ips.some((x) => x.family === ip.family)) {
        diagnostics.push(
          diag('warning', 'LabExtraPodIP', `pod has more than one IPv${ip.family} address; the lab uses the first, ${formatIP(ips.find((x) => x.family === ip.family)!)}`, `Pod ${podKey(p)}`),
        );
        continue;
      }
      owner.set(canonical, podKey(p));
      manifestIPs.push(ip);
      manifestFamilies.add(ip.family);
      ips.push(ip);
    }
    return ips;
  });

  // Addresses for pods without one: every family the manifests use (IPv4 when they use none).
  const assignFamilies: Family[] = manifestFamilies.size === 0 ? [4] : ([4, 6] as const).filter((f) => manifestFamilies.has(f));
  const needing = sorted.map((_, i) => parsedIPs[i]!.length === 0);
  const needCount = needing.filter(Boolean).length;
  const manifestSet = AddressSet.unionAll(manifestIPs.map((ip) => AddressSet.fromIP(ip)));
  const blocks = ipBlockAddresses(cluster);
  const assigned = new Map<Family, IP[]>();
  for (const family of assignFamilies) {
    let list = takeAddresses(family, needCount, manifestSet.union(blocks));
    if (list.length < needCount) {
      // Every address is matched by some ipBlock: fall back to avoiding only the manifests' pod IPs.
      list = takeAddresses(family, needCount, manifestSet);
      if (list.length === needCount) {
        diagnostics.push(
          diag(
            'warning',
            'LabIPInIPBlock',
            `every IPv${family} address is inside some ipBlock: pods without status.podIP get lab addresses that ipBlock peers match in the kernel, while the engine (which sees no address) does not match them`,
          ),
        );
      }
    }
    if (list.length < needCount) {
      diagnostics.push(diag('error', 'LabNoAddressSpace', `no IPv${family} addresses left for ${needCount} pods without status.podIP`));
    }
    assigned.set(family, list);
  }
  let cursor = 0;
  const podIPs: IP[][] = sorted.map((_, i) => {
    if (!needing[i]) return [...parsedIPs[i]!].sort((a, b) => a.family - b.family);
    const ips = assignFamilies.map((f) => assigned.get(f)![cursor]).filter((x): x is IP => x !== undefined);
    cursor++;
    return ips;
  });
  const families = ([4, 6] as const).filter((f) => podIPs.some((ips) => ips.some((ip) => ip.family === f)));
  const only = (f: Family) => podIPs.findIndex((ips) => ips.length > 0 && ips.every((ip) => ip.family === f));
  const only4 = only(4);
  const only6 = only(6);
  if (only4 >= 0 && only6 >= 0) {
    diagnostics.push(
      diag(
        'warning',
        'LabNoCommonFamily',
        `some pods have only IPv4 addresses (${podKey(sorted[only4]!)}) and some only IPv6 (${podKey(sorted[only6]!)}): such pairs cannot connect at all, and the lab reports them denied`,
      ),
    );
  }

  // Infrastructure addresses: link-local space, away from every pod address.
  const allPodSet = AddressSet.unionAll(podIPs.flat().map((ip) => AddressSet.fromIP(ip)));
  const gateway4 = families.includes(4) ? firstFree(allPodSet, 0xa9fe0101n, 0xa9fe01fen) : undefined; // 169.254.1.1..254
  const fabric4 = families.includes(4) && nodeCount > 1 ? chooseFabric4(allPodSet) : undefined;
  if (families.includes(4) && (gateway4 === undefined || (nodeCount > 1 && fabric4 === undefined))) {
    diagnostics.push(diag('error', 'LabNoAddressSpace', 'the pods use all of 169.254.0.0/16, which the lab needs for its gateways and node links'));
  }

  const { nodeOf, manifestNames } = assignNodes(sorted, nodeCount);
  for (const p of sorted) {
    if (p.hostNetwork) {
      diagnostics.push(diag('info', 'LabHostNetworkPod', 'hostNetwork pod: the lab gives it a network namespace of its own, like any pod (as the engine treats it)', `Pod ${podKey(p)}`));
    }
  }

  const pods: LayoutPod[] = sorted.map((p, i) => ({
    index: i,
    key: podKey(p),
    namespace: p.namespace,
    name: p.name,
    node: nodeOf[i]!,
    netns: names.podNetns(i),
    ifName: names.podIf,
    mac: labMac(MAC_ROLE.podSide, i),
    nodeIfName: names.nodePodIf(i),
    nodeMac: labMac(MAC_ROLE.nodePodSide, i),
    ips: podIPs[i]!.map(formatIP),
    assignedIps: needing[i]!,
    ports: p.ports.map((port) => ({ ...port })),
  }));
  const nodes: LayoutNode[] = Array.from({ length: nodeCount }, (_, n) => ({
    index: n,
    name: labNodeName(n),
    netns: names.nodeNetns(n),
    manifestNodeNames: manifestNames[n]!,
    pods: pods.filter((p) => p.node === n).map((p) => p.index),
    ...(nodeCount > 1
      ? {
          uplink: {
            ifName: names.uplinkIf,
            mac: labMac(MAC_ROLE.uplink, n),
            fabricIfName: names.fabricPortIf(n),
            fabricMac: labMac(MAC_ROLE.fabricPort, n),
            ...(fabric4 !== undefined ? { ipv4: formatIP({ family: 4, value: fabric4 + BigInt(n + 1) }) } : {}),
            ...(families.includes(6) ? { ipv6: uplinkAddress6(n) } : {}),
          },
        }
      : {}),
  }));

  const unnamedPort = chooseUnnamedPort(cluster);
  const layout: LabLayout = {
    version: 1,
    id: names.id,
    netnsPrefix: names.netnsPrefix,
    ifPrefix: names.ifPrefix,
    families,
    gateway: {
      ...(gateway4 !== undefined ? { ipv4: formatIP({ family: 4, value: gateway4 }) } : {}),
      ...(families.includes(6) ? { ipv6: POD_GATEWAY6 } : {}),
    },
    ...(nodeCount > 1 ? { fabric: { netns: names.fabricNetns, bridge: names.bridgeIf, prefixLength4: 24 } } : {}),
    nodes,
    pods,
    ...(unnamedPort !== undefined ? { unnamedPort } : {}),
  };

  const labPods: PodInfo[] = sorted.map((p, i) => ({ ...p, ips: pods[i]!.ips, nodeName: nodes[nodeOf[i]!]!.name }));
  // Cluster-scoped policies and Node objects (for `nodes` peers) as given: the lab keeps manifest pod IPs.
  const labCluster: Cluster = {
    namespaces: cluster.namespaces,
    pods: labPods,
    policies: cluster.policies,
    ...(cluster.clusterPolicies ? { clusterPolicies: cluster.clusterPolicies } : {}),
    ...(cluster.nodes ? { nodes: cluster.nodes } : {}),
  };
  return { layout, cluster: labCluster, diagnostics };
}

function firstFree(taken: AddressSet, from: bigint, to: bigint): bigint | undefined {
  for (let v = from; v <= to; v++) if (!taken.contains({ family: 4, value: v })) return v;
  return undefined;
}

/** Base of a free /24 in 169.254.0.0/16 (169.254.1.0/24 holds the gateway), for the node links. */
function chooseFabric4(taken: AddressSet): bigint | undefined {
  for (let third = 0n; third < 256n; third++) {
    if (third === 1n) continue;
    const base = 0xa9fe0000n + (third << 8n);
    const block = AddressSet.fromCIDR({ family: 4, base, prefix: 24 });
    if (block.intersect(taken).isEmpty()) return base;
  }
  return undefined;
}
