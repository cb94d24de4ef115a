/**
 * The compiler: the normalised policy model of a cluster -> the nftables ruleset of one node.
 *
 * Design choice: the node enforces the egress side of connections its own pods open and the ingress side
 * of connections to its own pods ("A successful connection between two Pods can only be established when
 * the network policies on both of them permit it"), so a cluster of nodes enforces both ends. Per packet
 * the cost is fixed: a conntrack check, then one verdict-map lookup per direction keyed by the pod's
 * address jumps to the chain of the pod's *set of policies* (pods that the same policies isolate share a
 * chain), whose rules are set lookups. Pod and label changes therefore only change set and map elements;
 * chains change only when policies do. Which pods a policy selects and which peers a rule matches come
 * from the engine and the normalised model, so the kernel and `netpol check` read the same structure.
 *
 * Everything that depends on traffic rather than on the policy is resolved into sets:
 * - a rule's peers, per address family, as one set (pod addresses; ipBlocks as interval sets with the
 *   `except` blocks subtracted);
 * - named ports, per protocol, name and family, as `address . port` sets of every pod that defines the
 *   name, looked up with the packet's destination address: "a name resolves against the destination
 *   pod's container ports" (for egress the destination is the peer, for ingress the subject itself).
 */
import { AddressSet, formatIP, parseIP, type Family, type IP } from '../ip/index.js';
import { podKey, type Cluster, type PodInfo, type Protocol } from '../model/cluster.js';
import { Engine, resolveNamedPort } from '../engine/engine.js';
import { rulesOf, type Direction, type Peer, type Policy, type Rule as PolicyRule } from '../policy/model.js';
import { PortSet } from '../policy/portset.js';
import { matches as selectorMatches } from '../selector/index.js';
import { cidrElement, concatElement } from './elements.js';
import type { Chain, CompileNotes, L4Protocol, Match, NamedSet, Rule, Ruleset, VerdictMap } from './ir.js';
import {
  dispatchMapName,
  MAX_COMMENT,
  MAX_LOG_PREFIX,
  namedPortSetName,
  peerSetName,
  quotable,
  ruleComment,
  subjectChainName,
} from './names.js';

export interface CompileOptions {
  /** The node whose ruleset to build: pods with this `spec.nodeName` are enforced here. */
  readonly node: string;
  /** What happens to denied packets: `drop` (default) or `reject` (TCP reset / ICMP admin-prohibited). */
  readonly denyAction?: 'drop' | 'reject';
  /** Log denied packets (`netpol deny <chain>: `), rate-limited. */
  readonly log?: boolean;
  /** Log rate limit per second (default 10, burst 5). */
  readonly logRate?: number;
  /** Table name in the `inet` family (default `netpol`). */
  readonly table?: string;
}

export const DEFAULT_TABLE = 'netpol';
const FAMILIES: readonly Family[] = [4, 6];
const DIRECTIONS: readonly Direction[] = ['egress', 'ingress'];
const PROTOCOL_ORDER: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];
/** ICMPv6 neighbour discovery a pod sends to its node; never subject to policy (it is not traffic to a peer). */
const ND_TYPES = ['nd-router-solicit', 'nd-neighbor-solicit', 'nd-neighbor-advert'];

function l4(p: Protocol): L4Protocol {
  return p === 'TCP' ? 'tcp' : p === 'UDP' ? 'udp' : 'sctp';
}

/** An address of a pod, parsed once: family, value and canonical text. */
interface Addr {
  readonly ip: IP;
  readonly text: string;
}

interface PodAddrs {
  /** Position in `Pods.list`. */
  readonly index: number;
  readonly pod: PodInfo;
  readonly addrs: readonly Addr[];
}

/** The cluster's pods that have addresses, and every address of each family sorted by value (once). */
interface Pods {
  readonly list: readonly PodAddrs[];
  readonly sorted: Readonly<Record<Family, readonly { readonly addr: Addr; readonly owner: PodAddrs }[]>>;
}

/** A subject chain to build: the direction and the policies (sorted by key) that isolate its pods. */
interface SubjectChain {
  readonly name: string;
  readonly direction: Direction;
  readonly policies: readonly Policy[];
}

interface PeerSetRef {
  readonly policy: Policy;
  readonly rule: PolicyRule;
  readonly family: Family;
}

interface NamedPortRef {
  readonly protocol: Protocol;
  readonly name: string;
  readonly family: Family;
}

/**
 * Whether pods of a namespace are in a selector peer's scope. From the API reference: "If namespaceSelector
 * is also set, then the NetworkPolicyPeer as a whole selects the Pods matching PodSelector in the
 * Namespaces selected by NamespaceSelector. Otherwise it selects the Pods matching PodSelector in the
 * policy's own Namespace"; a namespaceSelector alone "selects all Pods in the Namespaces selected"
 * (the pod selector, when present, is checked by the caller).
 */
function namespaceInScope(engine: Engine, peer: SelectorPeer, policy: Policy, namespace: string): boolean {
  if (peer.namespaces.kind === 'own') return namespace === policy.ref.namespace;
  return selectorMatches(peer.namespaces.selector, engine.namespaceLabels(namespace));
}

type SelectorPeer = Extract<Peer, { kind: 'pods' }>;
type BlockPeer = Extract<Peer, { kind: 'ipBlock' }>;

function byValue(a: Addr, b: Addr): number {
  return a.ip.value < b.ip.value ? -1 : a.ip.value > b.ip.value ? 1 : 0;
}

/**
 * The addresses one rule's peers match, in one family, as sorted set elements. Selector peers contribute
 * pod addresses only ("pod selectors never match an address outside the cluster"). An ipBlock contributes
 * `cidr` minus every `except`, plus every address of a pod that has *some* address in it: the engine
 * matches ipBlocks against pods (implementation-defined; the upstream conformance tests expect it), by any
 * of a dual-stack pod's addresses, so the pod's other-family address must match too.
 */
function peerElements(engine: Engine, policy: Policy, rule: PolicyRule, family: Family, pods: Pods): { elements: string[]; interval: boolean } {
  const peers = rule.peers ?? [];
  const blocks = peers.filter((p): p is BlockPeer => p.kind === 'ipBlock');
  const selectors = peers.filter((p): p is SelectorPeer => p.kind === 'pods');
  // Namespace scopes are decided once per namespace, not once per pod.
  const scopes = selectors.map(() => new Map<string, boolean>());
  const inScope = (i: number, namespace: string): boolean => {
    const cache = scopes[i] as Map<string, boolean>;
    let v = cache.get(namespace);
    if (v === undefined) {
      v = namespaceInScope(engine, selectors[i] as SelectorPeer, policy, namespace);
      cache.set(namespace, v);
    }
    return v;
  };
  const isPeer = new Uint8Array(pods.list.length);
  for (const { index, pod, addrs } of pods.list) {
    if (
      selectors.some((s, i) => inScope(i, pod.namespace) && (s.pods === undefined || selectorMatches(s.pods, pod.labels))) ||
      blocks.some((b) => addrs.some((a) => b.addresses.contains(a.ip)))
    ) {
      isPeer[index] = 1;
    }
  }
  const matched = pods.sorted[family].filter((x) => isPeer[x.owner.index] === 1);
  if (blocks.length === 0) {
    const elements: string[] = [];
    for (const { addr } of matched) if (elements[elements.length - 1] !== addr.text) elements.push(addr.text);
    return { elements, interval: false };
  }
  const intervals: (readonly [bigint, bigint])[] = matched.map(({ addr }) => [addr.ip.value, addr.ip.value] as const);
  for (const b of blocks) intervals.push(...b.addresses.intervals(family));
  return { elements: AddressSet.fromIntervals(family, intervals).toCIDRs().map(cidrElement), interval: true };
}

/** `address . port` of every pod address (one family) whose pod defines the port name for the protocol. */
function namedPortElements(ref: NamedPortRef, pods: Pods): string[] {
  const ports = new Map<PodAddrs, number | undefined>();
  const out: string[] = [];
  for (const { addr, owner } of pods.sorted[ref.family]) {
    let port = ports.get(owner);
    if (!ports.has(owner)) {
      port = resolveNamedPort(owner.pod, ref.name, ref.protocol);
      ports.set(owner, port);
    }
    if (port === undefined) continue;
    const e = concatElement(addr.text, port);
    if (out[out.length - 1] !== e) out.push(e);
  }
  return out;
}

/** nft rules of one policy rule: (peer clause) x (port clause), families kept apart. */
function compileRule(policy: Policy, rule: PolicyRule, peerSets: Map<string, PeerSetRef>, portSets: Map<string, NamedPortRef>): Rule[] {
  const field = rule.direction === 'ingress' ? 'saddr' : 'daddr';
  type Clause = { readonly family?: Family; readonly matches: readonly Match[] };
  // "If this field is empty or missing, this rule matches all sources/destinations."
  let peerClauses: Clause[] = [{ matches: [] }];
  if (rule.peers !== undefined) {
    peerClauses = FAMILIES.map((family) => {
      const set = peerSetName(policy.key, rule.direction, rule.index, family);
      peerSets.set(set, { policy, rule, family });
      return { family, matches: [{ kind: 'address', family, field, set }] };
    });
  }
  // "If this field is empty or missing, this rule matches all ports."
  let portClauses: Clause[] = [{ matches: [] }];
  if (rule.ports !== undefined) {
    portClauses = [];
    for (const protocol of PROTOCOL_ORDER) {
      const specs = rule.ports.filter((s) => s.protocol === protocol);
      if (specs.length === 0) continue;
      const proto: Match = { kind: 'l4proto', protocol: l4(protocol) };
      // "If [port is] not specified, this matches all port names and numbers."
      if (specs.some((s) => s.port.kind === 'all')) {
        portClauses.push({ matches: [proto] });
        continue;
      }
      let numbers = PortSet.EMPTY;
      const names = new Set<string>();
      for (const s of specs) {
        if (s.port.kind === 'range') numbers = numbers.union(PortSet.range(s.port.from, s.port.to));
        else if (s.port.kind === 'named') names.add(s.port.name);
      }
      if (!numbers.isEmpty()) portClauses.push({ matches: [proto, { kind: 'dport', ranges: numbers.ranges }] });
      for (const name of [...names].sort()) {
        for (const family of FAMILIES) {
          const set = namedPortSetName(l4(protocol), name, family);
          portSets.set(set, { protocol, name, family });
          portClauses.push({ family, matches: [proto, { kind: 'daddr-dport', family, set }] });
        }
      }
    }
  }
  const comment = ruleComment(policy.key, rule.direction, rule.index);
  const out: Rule[] = [];
  for (const peer of peerClauses) {
    for (const port of portClauses) {
      if (peer.family !== undefined && port.family !== undefined && peer.family !== port.family) continue;
      out.push({ matches: [...peer.matches, ...port.matches], verdict: { kind: 'return' }, comment });
    }
  }
  return out;
}

function denyRules(chain: SubjectChain, opts: CompileOptions): Rule[] {
  const keys = chain.policies.map((p) => p.key).join(', ');
  const rules: Rule[] = [{ matches: [], counter: true, comment: quotable(`${chain.direction} denied: isolated by ${keys}`, MAX_COMMENT) }];
  if (opts.log) {
    const prefix = `${quotable(`netpol deny ${chain.name}`, MAX_LOG_PREFIX - 2)}: `;
    rules.push({ matches: [], limit: { rate: Math.max(1, Math.floor(opts.logRate ?? 10)), per: 'second', burst: 5 }, log: { prefix } });
  }
  if (opts.denyAction === 'reject') {
    // A TCP reset fails connect() at once and, unlike ICMP errors, is not rate-limited by the kernel.
    rules.push({ matches: [{ kind: 'l4proto', protocol: 'tcp' }], verdict: { kind: 'reject', with: 'tcp-reset' } });
    rules.push({ matches: [], verdict: { kind: 'reject', with: 'icmpx-admin-prohibited' } });
  } else {
    rules.push({ matches: [], verdict: { kind: 'drop' } });
  }
  return rules;
}

function baseChains(): Chain[] {
  const established: Rule = {
    matches: [{ kind: 'ct-state', states: ['established', 'related'] }],
    verdict: { kind: 'accept' },
    comment: 'replies and related packets of allowed connections',
  };
  const dispatch = (direction: Direction, family: Family): Rule => ({
    matches: [],
    verdict: { kind: 'vmap', family, field: direction === 'egress' ? 'saddr' : 'daddr', map: dispatchMapName(direction, family) },
    comment: direction === 'egress' ? 'egress of isolated local pods' : 'ingress to isolated local pods',
  });
  return [
    {
      name: 'forward',
      base: { type: 'filter', hook: 'forward', priority: 0, policy: 'accept' },
      comment: 'pod traffic routed through the node: egress of local pods, then ingress to local pods',
      rules: [
        established,
        { matches: [{ kind: 'ct-state', states: ['invalid'] }], verdict: { kind: 'drop' }, comment: 'invalid conntrack state' },
        dispatch('egress', 4),
        dispatch('egress', 6),
        dispatch('ingress', 4),
        dispatch('ingress', 6),
      ],
    },
    {
      name: 'input',
      base: { type: 'filter', hook: 'input', priority: 0, policy: 'accept' },
      comment: 'traffic from local pods to the node itself: egress only',
      rules: [
        established,
        { matches: [{ kind: 'icmpv6-type', types: ND_TYPES }], verdict: { kind: 'accept' }, comment: 'neighbour discovery' },
        dispatch('egress', 4),
        dispatch('egress', 6),
      ],
    },
  ];
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The ruleset of one node. Pure: the same cluster and options always give the same ruleset. Policies must
 * be valid (see validate/); pass an already built engine to share its work.
 */
export function compileNode(cluster: Cluster, opts: CompileOptions, engine: Engine = new Engine(cluster)): Ruleset {
  const sorted = cluster.pods
    .map((pod) => ({ pod, key: podKey(pod) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((x) => x.pod);
  const list: PodAddrs[] = [];
  const owners = new Map<string, PodInfo[]>();
  for (const pod of sorted) {
    const addrs: Addr[] = [];
    for (const t of pod.ips) {
      const ip = parseIP(t);
      if (!ip) continue;
      // A strictly parsed dotted quad is already canonical; spare the formatting for the common case.
      const text = ip.family === 4 && !t.includes(':') ? t : formatIP(ip);
      if (addrs.some((x) => x.text === text)) continue;
      addrs.push({ ip, text });
      const list = owners.get(text);
      if (list) list.push(pod);
      else owners.set(text, [pod]);
    }
    if (addrs.length > 0) list.push({ index: list.length, pod, addrs });
  }
  const byFamily = (family: Family) =>
    list.flatMap((owner) => owner.addrs.filter((a) => a.ip.family === family).map((addr) => ({ addr, owner }))).sort((a, b) => byValue(a.addr, b.addr));
  const pods: Pods = { list, sorted: { 4: byFamily(4), 6: byFamily(6) } };
  const addressesOf = new Map(list.map((p) => [p.pod, p.addrs]));

  const local = sorted.filter((p) => p.nodeName === opts.node);
  const withoutIP: string[] = [];
  const hostNetwork: string[] = [];
  const chains = new Map<string, SubjectChain>();
  const mapElements = new Map<string, (Addr & { chain: string })[]>();
  const isolated = new Set<PodInfo>();
  for (const pod of local) {
    if (pod.hostNetwork) {
      hostNetwork.push(podKey(pod));
      continue;
    }
    const addrs = addressesOf.get(pod) ?? [];
    if (addrs.length === 0) {
      withoutIP.push(podKey(pod));
      continue;
    }
    const selecting = engine.selecting(pod);
    for (const direction of DIRECTIONS) {
      // "a pod is isolated for ingress if there is any NetworkPolicy that both selects the pod and has
      // "Ingress" in its policyTypes" (likewise egress); a pod that is not isolated is not in the map.
      const policies = [...selecting[direction]].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      if (policies.length === 0) continue;
      const name = subjectChainName(direction, policies.map((p) => p.key));
      if (!chains.has(name)) chains.set(name, { name, direction, policies });
      for (const addr of addrs) {
        if (owners.get(addr.text)?.[0] !== pod) continue;
        const map = dispatchMapName(direction, addr.ip.family);
        const list = mapElements.get(map);
        if (list) list.push({ ...addr, chain: name });
        else mapElements.set(map, [{ ...addr, chain: name }]);
        isolated.add(pod);
      }
    }
  }

  const peerRefs = new Map<string, PeerSetRef>();
  const portRefs = new Map<string, NamedPortRef>();
  const subjectChains: Chain[] = [...chains.values()].sort(byName).map((c) => ({
    name: c.name,
    comment: quotable(`${c.direction} of pods isolated by ${c.policies.map((p) => p.key).join(', ')}`, MAX_COMMENT),
    rules: [...c.policies.flatMap((p) => rulesOf(p, c.direction).flatMap((r) => compileRule(p, r, peerRefs, portRefs))), ...denyRules(c, opts)],
  }));

  const sets: NamedSet[] = [];
  for (const [name, ref] of peerRefs) {
    const { elements, interval } = peerElements(engine, ref.policy, ref.rule, ref.family, pods);
    sets.push({
      name,
      type: ref.family === 4 ? 'ipv4_addr' : 'ipv6_addr',
      interval,
      comment: quotable(`peers of ${ref.policy.key} ${ref.rule.direction}[${ref.rule.index}] (IPv${ref.family})`, MAX_COMMENT),
      elements,
    });
  }
  for (const [name, ref] of portRefs) {
    sets.push({
      name,
      type: ref.family === 4 ? 'ipv4_addr . inet_service' : 'ipv6_addr . inet_service',
      interval: false,
      comment: quotable(`pods' ${ref.protocol} port named ${ref.name} (IPv${ref.family})`, MAX_COMMENT),
      elements: namedPortElements(ref, pods),
    });
  }
  sets.sort(byName);

  const maps: VerdictMap[] = [];
  for (const direction of DIRECTIONS) {
    for (const family of FAMILIES) {
      const name = dispatchMapName(direction, family);
      const elements = (mapElements.get(name) ?? []).sort(byValue);
      maps.push({ name, type: family === 4 ? 'ipv4_addr' : 'ipv6_addr', elements: elements.map((e) => [e.text, e.chain] as const) });
    }
  }
  maps.sort(byName);

  const notes: CompileNotes = {
    node: opts.node,
    localPods: local.length,
    isolatedPods: isolated.size,
    withoutIP,
    hostNetwork,
    unscheduled: cluster.pods.reduce((n, p) => (p.nodeName ? n : n + 1), 0),
    sharedIPs: [...owners]
      .filter(([, list]) => list.length > 1)
      .map(([ip, list]) => `${ip}: ${list.map(podKey).join(', ')}`)
      .sort(),
  };
  return {
    family: 'inet',
    table: opts.table ?? DEFAULT_TABLE,
    comment: quotable(`netpol: NetworkPolicy enforcement on node ${opts.node}`, MAX_COMMENT),
    sets,
    maps,
    chains: [...baseChains(), ...subjectChains],
    notes,
  };
}
