/**
 * Tier classes: the class engine's classes refined by what the cluster-scoped policies can tell apart.
 *
 * Design choice. Two pods of one NetworkPolicy class (same namespace, labels, named ports, ipBlock
 * membership) can still differ for the cluster tiers in three ways, and nothing else:
 * - host network: "host-networked pods are not included in subject selection" nor in `namespaces`/`pods`
 *   peers;
 * - the cluster peers they match: `networks` ("cluster-internal traffic will be checked against the rule
 *   as well": pod addresses) and `nodes` (a pod address that is a node's address) read addresses, which a
 *   NetworkPolicy class does not share unless an ipBlock of the same range exists;
 * - what a `destinationNamedPort`/`namedPort` (or a named probe) resolves to on them.
 * So a tier class is (NetworkPolicy class, host network, matched cluster peers, named container ports).
 * Each tier class knows, per direction, its *tier group*: the cluster policies that select it (an id, 0
 * when none do, which leaves that side to NetworkPolicy alone), and its *peer signature*: which
 * distinct cluster peers (deduplicated across policies) it matches. One side of a verdict then depends
 * only on (tier group of the subject, peer signature of the far end, named ports of the destination)
 * and the NetworkPolicy side, which engine.ts memoises.
 *
 * Selector peers and subjects are matched once per (NetworkPolicy class, host network), address peers
 * once per pod.
 */
import type { ClusterTiers } from '../../engine/index.js';
import type { PodInfo } from '../../model/index.js';
import type { ClusterPeer, ClusterPolicy } from '../../policy/index.js';
import type { ScaleEngine } from '../engine.js';

export interface TierClass {
  readonly id: number;
  /** The NetworkPolicy class (ScaleEngine.classOf). */
  readonly np: number;
  readonly namespace: string;
  readonly pods: PodInfo[];
  /** A pod of the class: every pod of it gets the same verdicts. */
  readonly rep: PodInfo;
  /** Tier group ids; 0: no cluster policy selects the class for that direction. */
  readonly egress: number;
  readonly ingress: number;
  /** Matched cluster peers (interned list) and named container ports (interned text). */
  readonly peerSig: number;
  readonly portSig: number;
}

export interface TierClasses {
  readonly classes: readonly TierClass[];
  readonly byPod: ReadonlyMap<PodInfo, number>;
  readonly peerSigs: number;
  readonly portSigs: number;
  /** Tier groups per direction, including 0 (none). */
  readonly groups: number;
}

/** Interns keys as consecutive numbers from `first`. */
class Interner {
  private readonly ids = new Map<string, number>();
  constructor(private readonly first: number) {}
  id(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.first + this.ids.size;
      this.ids.set(key, id);
    }
    return id;
  }
  get size(): number {
    return this.first + this.ids.size;
  }
}

/** A key equal for peers that match the same endpoints (selectors by their requirements, not their text). */
function peerKey(p: ClusterPeer): string | undefined {
  switch (p.kind) {
    case 'namespaces':
    case 'pods':
      return `s${JSON.stringify([p.namespaces.requirements, p.pods?.requirements ?? null])}`;
    case 'networks':
      return `n${JSON.stringify([...p.cidrs].sort())}`;
    case 'nodes':
      return `o${JSON.stringify(p.nodes.requirements)}`;
    default:
      // domainNames and unknown peers never match a pod.
      return undefined;
  }
}

function isAddressPeer(p: ClusterPeer): boolean {
  return p.kind === 'networks' || p.kind === 'nodes';
}

/** The distinct cluster peers that can match a pod, split by what they read. */
function distinctPeers(policies: readonly ClusterPolicy[]): { selectors: ClusterPeer[]; addresses: ClusterPeer[] } {
  const seen = new Set<string>();
  const selectors: ClusterPeer[] = [];
  const addresses: ClusterPeer[] = [];
  for (const p of policies) {
    for (const rule of [...p.ingressRules, ...p.egressRules]) {
      for (const peer of rule.peers) {
        const key = peerKey(peer);
        if (key === undefined || seen.has(key)) continue;
        seen.add(key);
        (isAddressPeer(peer) ? addresses : selectors).push(peer);
      }
    }
  }
  return { selectors, addresses };
}

function portText(pod: PodInfo): string {
  const named = pod.ports.filter((p) => p.name !== undefined && p.name !== '').map((p) => `${p.name}/${p.protocol}/${p.port}`);
  return named.sort().join(',');
}

export function buildTierClasses(np: ScaleEngine, pods: readonly PodInfo[], tiers: ClusterTiers): TierClasses {
  const { selectors, addresses } = distinctPeers(tiers.policies);
  const groupIds = new Interner(1);
  const sigIds = new Interner(0);
  const portIds = new Interner(0);
  /** Per (NetworkPolicy class, host network): tier groups and matched selector peers. */
  const perNpClass = new Map<string, { egress: number; ingress: number; selectorPeers: number[] }>();
  const byKey = new Map<string, number>();
  const classes: TierClass[] = [];
  const byPod = new Map<PodInfo, number>();
  const group = (pod: PodInfo, direction: 'egress' | 'ingress'): number => {
    const { admin, baseline } = tiers.selecting(pod, direction);
    if (admin.length === 0 && baseline.length === 0) return 0;
    return groupIds.id([...admin, ...baseline].map((p) => p.key).join('\n'));
  };
  for (const pod of pods) {
    const npClass = np.classOf(pod);
    if (npClass === undefined) throw new Error(`pod ${pod.namespace}/${pod.name} is not loaded in the class engine`);
    const host = pod.hostNetwork === true;
    const npKey = `${npClass}|${host ? 1 : 0}`;
    let base = perNpClass.get(npKey);
    if (!base) {
      const endpoint = { kind: 'pod' as const, pod };
      const selectorPeers: number[] = [];
      selectors.forEach((peer, i) => {
        if (tiers.peerMatches(peer, endpoint)) selectorPeers.push(i);
      });
      base = { egress: group(pod, 'egress'), ingress: group(pod, 'ingress'), selectorPeers };
      perNpClass.set(npKey, base);
    }
    let matched = base.selectorPeers;
    if (addresses.length > 0 && pod.ips.length > 0) {
      const endpoint = { kind: 'pod' as const, pod };
      const extra: number[] = [];
      addresses.forEach((peer, i) => {
        if (tiers.peerMatches(peer, endpoint)) extra.push(selectors.length + i);
      });
      if (extra.length > 0) matched = [...matched, ...extra];
    }
    const peerSig = sigIds.id(matched.join(','));
    const portSig = portIds.id(portText(pod));
    const key = `${npKey}|${peerSig}|${portSig}`;
    let id = byKey.get(key);
    if (id === undefined) {
      id = classes.length;
      byKey.set(key, id);
      classes.push({ id, np: npClass, namespace: pod.namespace, pods: [], rep: pod, egress: base.egress, ingress: base.ingress, peerSig, portSig });
    }
    classes[id]!.pods.push(pod);
    byPod.set(pod, id);
  }
  return { classes, byPod, peerSigs: sigIds.size, portSigs: portIds.size, groups: groupIds.size };
}
