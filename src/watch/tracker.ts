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
import { podKey, type Cluster, type NamespaceInfo, type PodInfo, type PolicyInfo } from '../model/cluster.js';
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
  /** `[from, to]` as `ns/name`, sorted; only when exact. */
  readonly added: readonly (readonly [string, string])[];
  readonly removed: readonly (readonly [string, string])[];
}

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
    const keys = exact ? new Set(ends.map(podKey)) : new Set<string>();
    const countsBefore = this.probes.map((p) => this.engine.allowedPairs(p));
    const before = exact ? this.probes.map((p) => this.pairsOf(keys, p)) : [];
    change();
    const probes = this.probes.map((probe, i): ProbeChange => {
      const allowedPairs = this.engine.allowedPairs(probe);
      const base = { port: probe.port, protocol: probe.protocol, allowedPairs, net: allowedPairs - countsBefore[i]! };
      if (!exact) return { ...base, exact: false, added: [], removed: [] };
      const after = this.pairsOf(keys, probe);
      const was = before[i]!;
      return { ...base, exact: true, added: difference(after, was), removed: difference(was, after) };
    });
    return { object, action, fields, probes };
  }

  /** Allowed pairs with one end among the pods now named `keys` (as `from\0to`). */
  private pairsOf(keys: ReadonlySet<string>, probe: ScaleProbe): Set<string> {
    const out = new Set<string>();
    for (const key of keys) {
      const pod = this.pods.get(key);
      if (!pod) continue;
      for (const d of this.engine.destinations(pod, probe)) out.add(`${key}\u0000${podKey(d)}`);
      for (const s of this.engine.sources(pod, probe)) out.add(`${podKey(s)}\u0000${key}`);
    }
    return out;
  }
}

function difference(a: ReadonlySet<string>, b: ReadonlySet<string>): [string, string][] {
  const out: [string, string][] = [];
  for (const x of a) if (!b.has(x)) out.push(x.split('\u0000') as [string, string]);
  return out.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
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
