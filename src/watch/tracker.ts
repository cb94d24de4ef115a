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
 */
import { podKey, type Cluster, type NamespaceInfo, type PodInfo, type PolicyInfo } from '../model/index.js';
import { ScaleEngine, type ScaleProbe } from '../scale/index.js';
import { compileSelector, matches } from '../selector/index.js';

export type ObjectChange =
  | { readonly kind: 'Namespace'; readonly key: string; readonly old?: NamespaceInfo; readonly current?: NamespaceInfo }
  | { readonly kind: 'Pod'; readonly key: string; readonly old?: PodInfo; readonly current?: PodInfo }
  | { readonly kind: 'NetworkPolicy'; readonly key: string; readonly old?: PolicyInfo; readonly current?: PolicyInfo };

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
  /** `Pod ns/name`, `NetworkPolicy ns/name`, `Namespace name`. */
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

export class ReachabilityTracker {
  private engine: ScaleEngine;
  private readonly namespaces: Map<string, NamespaceInfo>;
  private readonly pods: Map<string, PodInfo>;
  private readonly policies: Map<string, PolicyInfo>;

  constructor(
    cluster: Cluster,
    readonly probes: readonly ScaleProbe[],
    private readonly opts: TrackerOptions = {},
  ) {
    this.namespaces = new Map(cluster.namespaces);
    this.pods = new Map(cluster.pods.map((p) => [podKey(p), p]));
    this.policies = new Map(cluster.policies.map((p) => [podKey(p), p]));
    this.engine = new ScaleEngine(cluster);
  }

  get podCount(): number {
    return this.pods.size;
  }

  get policyCount(): number {
    return this.policies.size;
  }

  allowedPairs(probe: ScaleProbe): number {
    return this.engine.allowedPairs(probe);
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
    }
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
    if (old && next && JSON.stringify(old.policy.spec) === JSON.stringify(next.policy.spec)) return undefined;
    const touched = new Set<PodInfo>();
    for (const p of [old, next]) {
      if (!p) continue;
      const sel = compileSelector(p.policy.spec.podSelector);
      for (const pod of this.pods.values()) if (pod.namespace === p.namespace && matches(sel, pod.labels)) touched.add(pod);
    }
    return this.measure(`NetworkPolicy ${key}`, !old ? 'created' : !next ? 'deleted' : 'changed', next && old ? ['spec'] : [], [...touched], () => {
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
      this.engine = new ScaleEngine({ namespaces: this.namespaces, pods: [...this.pods.values()], policies: [...this.policies.values()] });
    });
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
    const countsBefore = this.probes.map((p) => this.engine.allowedPairs(p));
    const before = exact ? this.probes.map((p) => this.endsOf(keys, p)) : [];
    change();
    const probes = this.probes.map((probe, i): ProbeChange => {
      const allowedPairs = this.engine.allowedPairs(probe);
      const base = { port: probe.port, protocol: probe.protocol, allowedPairs, net: allowedPairs - countsBefore[i]! };
      if (!exact) return { ...base, exact: false, added: [], removed: [] };
      return { ...base, exact: true, ...diff(keys, before[i]!, this.endsOf(keys, probe)) };
    });
    return { object, action, fields, probes };
  }

  /** For each touched pod (by key) as it is now: the pods it may reach and the pods that may reach it. */
  private endsOf(keys: readonly string[], probe: ScaleProbe): Map<string, Ends> {
    const out = new Map<string, Ends>();
    for (const key of keys) {
      const pod = this.pods.get(key);
      if (pod) out.set(key, { pod, destinations: new Set(this.engine.destinations(pod, probe)), sources: new Set(this.engine.sources(pod, probe)) });
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
