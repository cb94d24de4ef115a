/**
 * What one change to the cluster changes in reachability: the allowed pairs it adds and removes, per
 * probe, with the object that caused it. Pure: the cluster arrives as changes (from an informer, or
 * anything else), the answer is data; `netpol watch` renders it.
 *
 * Design choice: the class engine (src/scale) is kept across changes and updated in place. A verdict
 * between two pods depends only on the policies selecting its two ends (and on the ends themselves),
 * so a change can only alter pairs with one end among the *touched* pods: the pod itself for a pod
 * change; the pods the policy selects, before or after, for a policy change. Those pods' allowed
 * destinations and sources are compared before and after, exactly. When more than `touchedLimit` pods
 * are touched (a policy selecting a whole large namespace, a namespace's labels, which any
 * namespaceSelector may read), listing pairs would cost pods x pods: the answer is then the exact
 * change in the number of allowed pairs (`net`), marked `exact: false`.
 *
 * Cluster-scoped policies (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy) decide
 * a side before and after NetworkPolicy: while the cluster has any, verdicts come from the tier-aware
 * class engine (src/scale/tiers), built on the NetworkPolicy engine kept above after each change (tier
 * classes are rebuilt; the NetworkPolicy classes are not). The same locality holds: a cluster policy
 * changes only the sides of the pods its subject selects, before or after; a Node only the sides of
 * the subjects of policies with `nodes` peers (which read Node labels and addresses).
 */
import { clusterPolicyKey, podKey, type Cluster, type ClusterPolicyInfo, type NamespaceInfo, type NodeInfo, type PodInfo, type PolicyInfo } from '../model/index.js';
import { clusterRulesOf, inPodScope, modeOf, namespaceLabels, normalizeClusterPolicy, type ClusterPolicy } from '../policy/index.js';
import { ScaleEngine, TieredScaleEngine, type ScaleProbe } from '../scale/index.js';
import { compileSelector, matches } from '../selector/index.js';

export type ObjectChange =
  | { readonly kind: 'Namespace'; readonly key: string; readonly old?: NamespaceInfo; readonly current?: NamespaceInfo }
  | { readonly kind: 'Pod'; readonly key: string; readonly old?: PodInfo; readonly current?: PodInfo }
  | { readonly kind: 'NetworkPolicy'; readonly key: string; readonly old?: PolicyInfo; readonly current?: PolicyInfo }
  | { readonly kind: ClusterPolicyInfo['kind']; readonly key: string; readonly old?: ClusterPolicyInfo; readonly current?: ClusterPolicyInfo }
  | { readonly kind: 'Node'; readonly key: string; readonly old?: NodeInfo; readonly current?: NodeInfo };

export interface ProbeChange {
  readonly port: number | string;
  readonly protocol: string;
  /** Allowed ordered pairs of different pods after the change. */
  readonly allowedPairs: number;
  /** allowedPairs after minus before. */
  readonly net: number;
  /** True when `added` and `removed` list every changed pair. */
  readonly exact: boolean;
  /** `[from, to]`, in no particular order; only when exact. Removed pairs name the pods as they were. */
  readonly added: readonly PodPair[];
  readonly removed: readonly PodPair[];
}

export type PodPair = readonly [PodInfo, PodInfo];

export interface ReachabilityChange {
  /** `Pod ns/name`, `NetworkPolicy ns/name`, `Namespace name`, `AdminNetworkPolicy name` (each cluster-scoped kind), `Node name`. */
  readonly object: string;
  readonly action: 'created' | 'changed' | 'deleted';
  /** What changed in the object, for a pod: `labels`, `addresses`, `ports`, ... */
  readonly fields: readonly string[];
  readonly probes: readonly ProbeChange[];
}

export interface TrackerOptions {
  /** Above this many touched pods, pairs are counted, not listed (default 200). */
  readonly touchedLimit?: number;
}

/** What the tracker asks of an engine: counts, and one pod's ends. */
interface Reach {
  allowedPairs(probe: ScaleProbe): number;
  destinations(pod: PodInfo, probe: ScaleProbe): PodInfo[];
  sources(pod: PodInfo, probe: ScaleProbe): PodInfo[];
}

export class ReachabilityTracker {
  /** NetworkPolicy's class engine, updated in place. */
  private engine: ScaleEngine;
  /** The tier-aware engine over `engine`, while there are cluster policies; built again after a change. */
  private tiered: TieredScaleEngine | undefined;
  private readonly namespaces: Map<string, NamespaceInfo>;
  private readonly pods: Map<string, PodInfo>;
  private readonly policies: Map<string, PolicyInfo>;
  /** By `Kind/name`. */
  private readonly clusterPolicies: Map<string, ClusterPolicyInfo>;
  private readonly nodes: Map<string, NodeInfo>;

  constructor(
    cluster: Cluster,
    readonly probes: readonly ScaleProbe[],
    private readonly opts: TrackerOptions = {},
  ) {
    this.namespaces = new Map(cluster.namespaces);
    this.pods = new Map(cluster.pods.map((p) => [podKey(p), p]));
    this.policies = new Map(cluster.policies.map((p) => [podKey(p), p]));
    this.clusterPolicies = new Map((cluster.clusterPolicies ?? []).map((p) => [clusterPolicyKey(p), p]));
    this.nodes = new Map((cluster.nodes ?? []).map((n) => [n.name, n]));
    this.engine = new ScaleEngine(cluster);
  }

  get podCount(): number {
    return this.pods.size;
  }

  get policyCount(): number {
    return this.policies.size;
  }

  get clusterPolicyCount(): number {
    return this.clusterPolicies.size;
  }

  allowedPairs(probe: ScaleProbe): number {
    return this.reach().allowedPairs(probe);
  }

  /** Applies one change; undefined when it changes nothing the analysis reads. */
  apply(change: ObjectChange): ReachabilityChange | undefined {
    switch (change.kind) {
      case 'Pod':
        return this.podChange(change.key, change.current);
      case 'NetworkPolicy':
        return this.policyChange(change.key, change.current);
      case 'Namespace':
        return this.namespaceChange(change.key, change.current);
      case 'Node':
        return this.nodeChange(change.key, change.current);
      default:
        return this.clusterPolicyChange(change.kind, (change.current ?? change.old)?.name, change.current);
    }
  }

  /** The cluster as it is now (for the engines). */
  private cluster(): Cluster {
    return {
      namespaces: this.namespaces,
      pods: [...this.pods.values()],
      policies: [...this.policies.values()],
      ...(this.clusterPolicies.size > 0 ? { clusterPolicies: [...this.clusterPolicies.values()] } : {}),
      ...(this.nodes.size > 0 ? { nodes: [...this.nodes.values()] } : {}),
    };
  }

  /** The engine that answers now: NetworkPolicy's alone while no cluster policy exists. */
  private reach(): Reach {
    if (this.clusterPolicies.size === 0) return this.engine;
    this.tiered ??= new TieredScaleEngine(this.cluster(), { networkPolicy: this.engine });
    return this.tiered;
  }

  private podChange(key: string, next: PodInfo | undefined): ReachabilityChange | undefined {
    const old = this.pods.get(key);
    if (!old && !next) return undefined;
    const fields = old && next ? podFieldsChanged(old, next) : [];
    if (old && next && fields.length === 0) return undefined;
    return this.measure(`Pod ${key}`, !old ? 'created' : !next ? 'deleted' : 'changed', fields, [old, next], () => {
      if (old) this.engine.removePod(old);
      if (next) {
        this.pods.set(key, next);
        this.engine.addPod(next);
      } else this.pods.delete(key);
    });
  }

  private policyChange(key: string, next: PolicyInfo | undefined): ReachabilityChange | undefined {
    const old = this.policies.get(key);
    if (!old && !next) return undefined;
    const fields = old && next ? policyFields(old, next) : [];
    if (old && next && fields.length === 0) return undefined;
    const touched = new Set<PodInfo>();
    for (const p of [old, next]) {
      if (!p) continue;
      const sel = compileSelector(p.policy.spec.podSelector);
      for (const pod of this.pods.values()) if (pod.namespace === p.namespace && matches(sel, pod.labels)) touched.add(pod);
    }
    return this.measure(`NetworkPolicy ${key}`, !old ? 'created' : !next ? 'deleted' : 'changed', fields, [...touched], () => {
      if (next) {
        this.policies.set(key, next);
        this.engine.upsertPolicy(next);
      } else {
        this.policies.delete(key);
        this.engine.removePolicy(old!.namespace, old!.name);
      }
    });
  }

  private namespaceChange(name: string, next: NamespaceInfo | undefined): ReachabilityChange | undefined {
    const old = this.namespaces.get(name);
    if (old && next && JSON.stringify(old.labels) === JSON.stringify(next.labels)) return undefined;
    if (!old && !next) return undefined;
    // Any namespaceSelector may read these labels: rebuild, and count (never list) what changed.
    return this.measure(`Namespace ${name}`, !old ? 'created' : !next ? 'deleted' : 'changed', next && old ? ['labels'] : [], undefined, () => {
      if (next) this.namespaces.set(name, next);
      else this.namespaces.delete(name);
      this.engine = new ScaleEngine(this.cluster());
    });
  }

  private clusterPolicyChange(kind: ClusterPolicyInfo['kind'], name: string | undefined, next: ClusterPolicyInfo | undefined): ReachabilityChange | undefined {
    if (name === undefined) return undefined;
    const key = clusterPolicyKey({ kind, name });
    const old = this.clusterPolicies.get(key);
    if (!old && !next) return undefined;
    const fields = old && next ? policyFields(old, next) : [];
    if (old && next && fields.length === 0) return undefined;
    // Only the sides of the pods its subject selects, before or after, can change.
    const touched = new Set<PodInfo>();
    for (const p of [old, next]) if (p) for (const pod of this.subjects([normalizeClusterPolicy(p)])) touched.add(pod);
    return this.measure(`${kind} ${name}`, !old ? 'created' : !next ? 'deleted' : 'changed', fields, [...touched], () => {
      if (next) this.clusterPolicies.set(key, next);
      else this.clusterPolicies.delete(key);
    });
  }

  private nodeChange(name: string, next: NodeInfo | undefined): ReachabilityChange | undefined {
    const old = this.nodes.get(name);
    if (!old && !next) return undefined;
    const fields = old && next ? [...(JSON.stringify(old.labels) !== JSON.stringify(next.labels) ? ['labels'] : []), ...(old.addresses.join() !== next.addresses.join() ? ['addresses'] : [])] : [];
    if (old && next && fields.length === 0) return undefined;
    const store = () => {
      if (next) this.nodes.set(name, next);
      else this.nodes.delete(name);
    };
    // Nodes are read only by `nodes` peers: only the sides of those policies' subjects can change.
    const reading = [...this.clusterPolicies.values()]
      .map(normalizeClusterPolicy)
      .filter((p) => (['ingress', 'egress'] as const).some((d) => clusterRulesOf(p, d).some((r) => r.peers.some((peer) => peer.kind === 'nodes'))));
    if (reading.length === 0) {
      store();
      return undefined;
    }
    return this.measure(`Node ${name}`, !old ? 'created' : !next ? 'deleted' : 'changed', fields, this.subjects(reading), store);
  }

  /** The pods the subjects of `policies` select. */
  private subjects(policies: readonly ClusterPolicy[]): PodInfo[] {
    const out: PodInfo[] = [];
    for (const pod of this.pods.values()) {
      const labels = namespaceLabels(this.namespaces, pod.namespace);
      if (policies.some((p) => inPodScope(p.subject, labels, pod))) out.push(pod);
    }
    return out;
  }

  /**
   * Runs `change`, comparing the touched pods' pairs before and after it (or only the counts, when
   * `touched` is undefined or too many).
   */
  private measure(object: string, action: ReachabilityChange['action'], fields: readonly string[], touched: readonly (PodInfo | undefined)[] | undefined, change: () => void): ReachabilityChange {
    const limit = this.opts.touchedLimit ?? 200;
    const ends = touched?.filter((p): p is PodInfo => p !== undefined);
    const exact = ends !== undefined && ends.length <= limit;
    const keys = exact ? [...new Set(ends.map(podKey))] : [];
    const countsBefore = this.probes.map((p) => this.allowedPairs(p));
    const before = exact ? this.probes.map((p) => this.endsOf(keys, p)) : [];
    change();
    // Tier classes read every object: built again on the next question.
    this.tiered = undefined;
    const probes = this.probes.map((probe, i): ProbeChange => {
      const allowedPairs = this.allowedPairs(probe);
      const base = { port: probe.port, protocol: probe.protocol, allowedPairs, net: allowedPairs - countsBefore[i]! };
      if (!exact) return { ...base, exact: false, added: [], removed: [] };
      return { ...base, exact: true, ...diff(keys, before[i]!, this.endsOf(keys, probe)) };
    });
    return { object, action, fields, probes };
  }

  /** For each touched pod (by key) as it is now: the pods it may reach and the pods that may reach it. */
  private endsOf(keys: readonly string[], probe: ScaleProbe): Map<string, Ends> {
    const out = new Map<string, Ends>();
    const reach = this.reach();
    for (const key of keys) {
      const pod = this.pods.get(key);
      if (pod) out.set(key, { pod, destinations: new Set(reach.destinations(pod, probe)), sources: new Set(reach.sources(pod, probe)) });
    }
    return out;
  }
}

interface Ends {
  readonly pod: PodInfo;
  readonly destinations: ReadonlySet<PodInfo>;
  readonly sources: ReadonlySet<PodInfo>;
}

/**
 * Pairs allowed after and not before, and the reverse. Pods compare by identity: a pod change replaces
 * only the touched pod's object (never its own destination or source), a policy change none. A pair
 * between two touched pods is counted once, as its source's destination.
 */
function diff(keys: readonly string[], before: Map<string, Ends>, after: Map<string, Ends>): { added: PodPair[]; removed: PodPair[] } {
  const touched = new Set<PodInfo>();
  for (const m of [before, after]) for (const e of m.values()) touched.add(e.pod);
  const added: PodPair[] = [];
  const removed: PodPair[] = [];
  const none: ReadonlySet<PodInfo> = new Set();
  for (const key of keys) {
    const b = before.get(key);
    const a = after.get(key);
    if (a) for (const d of a.destinations) if (!(b?.destinations ?? none).has(d)) added.push([a.pod, d]);
    if (b) for (const d of b.destinations) if (!(a?.destinations ?? none).has(d)) removed.push([b.pod, d]);
    if (a) for (const s of a.sources) if (!touched.has(s) && !(b?.sources ?? none).has(s)) added.push([s, a.pod]);
    if (b) for (const s of b.sources) if (!touched.has(s) && !(a?.sources ?? none).has(s)) removed.push([s, b.pod]);
  }
  return { added, removed };
}

/** The fields of a pod the analysis reads that differ. */
function podFieldsChanged(a: PodInfo, b: PodInfo): string[] {
  const out: string[] = [];
  if (JSON.stringify(a.labels) !== JSON.stringify(b.labels)) out.push('labels');
  if (a.ips.join() !== b.ips.join()) out.push('addresses');
  if (JSON.stringify(a.ports) !== JSON.stringify(b.ports)) out.push('ports');
  if ((a.hostNetwork ?? false) !== (b.hostNetwork ?? false)) out.push('hostNetwork');
  if (a.nodeName !== b.nodeName) out.push('nodeName');
  return out;
}

/**
 * What of a policy changed that can change a verdict: its spec, and its mode (`netpol.dev/mode`: a policy
 * switched from audit to enforce starts to enforce with the same spec). Other metadata cannot.
 */
function policyFields(old: PolicyInfo | ClusterPolicyInfo, next: PolicyInfo | ClusterPolicyInfo): string[] {
  const spec = JSON.stringify(old.policy.spec) !== JSON.stringify(next.policy.spec);
  return [...(spec ? ['spec'] : []), ...(modeOf(old) !== modeOf(next) ? ['mode'] : [])];
}
