/**
 * The reachability diff: for each probe, the ordered pairs of pods (present on both sides, self pairs
 * excluded) whose verdict changed, each with its causes.
 *
 * Design choice: the cost follows the change, not the cluster. A verdict depends only on its two ends,
 * their namespaces and the policies of those namespaces, so a pair can only change when one end is
 * *touched*: selected (on either side) by a policy that changed, for the direction the policy affects,
 * or itself changed (labels, ports, addresses) or in a namespace whose labels changed. Pods are grouped
 * by their pair of classes (class before, class after, from the class engine): pods of one such joint
 * class get the same verdicts from and to everyone on both sides, so each touched joint class is
 * compared with every joint class once (both engines' admitted ports per protocol), the pairs that
 * differ are explained once per pair of joint classes with the explaining engine, and only then
 * expanded to pods. Pure: no IO.
 */
import { Engine, podEndpoint } from '../engine/index.js';
import type { Verdict } from '../engine/index.js';
import { podKey, type Cluster, type PodInfo, type Protocol } from '../model/index.js';
import { normalizePolicy, policyNormalizer } from '../policy/index.js';
import type { ClassAnalysis } from '../scale/index.js';
import { matches } from '../selector/index.js';
import { attribute, podCause, viewOf, type Cause, type ChangeIndex } from './attribute.js';
import { objectChanges, type ObjectChanges } from './changes.js';
import { clusterPolicyReach } from './tiers.js';

/** One side of the diff: its cluster and a class engine built over it. */
export interface DiffSide {
  readonly cluster: Cluster;
  readonly engine: ClassAnalysis;
}

/** A port number, a port name, or null for "any port" (allowed on at least one port). */
export interface DiffProbe {
  readonly port: number | string | null;
  readonly protocol: Protocol;
}

export interface PairChange {
  readonly from: string;
  readonly to: string;
  readonly causes: readonly Cause[];
}

export interface ProbeDiff extends DiffProbe {
  /** Newly allowed pairs. */
  readonly added: readonly PairChange[];
  /** Newly denied pairs. */
  readonly removed: readonly PairChange[];
}

export interface ReachabilityDiff {
  readonly probes: readonly ProbeDiff[];
  readonly changes: ObjectChanges;
}

interface Joint {
  readonly id: number;
  readonly before: PodInfo[];
  readonly after: PodInfo[];
  readonly keys: string[];
  readonly namespace: string;
  /** Rows (as source) or columns (as destination) may differ. */
  src: boolean;
  dst: boolean;
  /** The pods themselves or their namespace's labels changed. */
  changed: boolean;
}

interface Found {
  readonly s: Joint;
  readonly d: Joint;
  readonly probe: number;
  readonly added: boolean;
}

export function diffReachability(before: DiffSide, after: DiffSide, probes: readonly DiffProbe[]): ReachabilityDiff {
  const changes = objectChanges(before.cluster, after.cluster);
  const joints = jointClasses(before, after);
  markTouched(joints, changes);
  markTouchedByTiers(joints, changes, before.cluster, after.cluster);
  const found = compare(before, after, [...joints.all.values()], probes);
  const index: ChangeIndex = {
    policies: new Map(changes.policies.map((c) => [c.policy, c])),
    clusterPolicies: new Map(changes.clusterPolicies.map((c) => [c.policy, c])),
    pods: new Map(changes.pods.map((c) => [c.pod, c])),
    namespaces: new Map(changes.namespaces.map((c) => [c.namespace, c])),
  };
  // A side of a pair can only differ when its subject is touched for that direction or the far end
  // changed: the explainers hold the policies of those subjects' namespaces only, and the other sides
  // read as not isolated on both sides (no difference, so no cause), which is what they are.
  const namespaces = new Set<string>();
  for (const f of found) {
    if (f.s.src || f.d.changed) namespaces.add(f.s.namespace);
    if (f.d.dst || f.s.changed) namespaces.add(f.d.namespace);
  }
  const explainBefore = explainer(before.cluster, namespaces);
  const explainAfter = explainer(after.cluster, namespaces);
  const out = probes.map((p) => ({ ...p, added: [] as PairChange[], removed: [] as PairChange[] }));
  // One explanation per pair of joint classes and protocol, asked for "any port", answers every numbered
  // probe of that protocol (viewOf); a port name is explained as asked.
  const explained = new Map<string, [Verdict, Verdict]>();
  for (const f of found) {
    const probe = probes[f.probe]!;
    const [i, j] = f.s === f.d ? [0, 1] : [0, 0];
    const ends = { source: f.s.keys[i]!, destination: f.d.keys[j]! };
    const ask = typeof probe.port === 'string' ? probe : { port: null, protocol: probe.protocol };
    const key = `${f.s.id}:${f.d.id}:${ask.protocol}:${ask.port ?? ''}`;
    let pair = explained.get(key);
    if (!pair) {
      pair = [verdict(explainBefore, f.s.before[i]!, f.d.before[j]!, ask), verdict(explainAfter, f.s.after[i]!, f.d.after[j]!, ask)];
      explained.set(key, pair);
    }
    const port = typeof probe.port === 'number' ? probe.port : undefined;
    const causes = attribute(index, ends, viewOf(pair[0], port), viewOf(pair[1], port));
    const list = f.added ? out[f.probe]!.added : out[f.probe]!.removed;
    for (const from of f.s.keys) {
      for (const to of f.d.keys) {
        if (from === to) continue;
        list.push({ from, to, causes: forPair(causes, ends, from, to, index) });
      }
    }
  }
  const order = (a: PairChange, b: PairChange) => cmp(a.from, b.from) || cmp(a.to, b.to);
  for (const p of out) {
    p.added.sort(order);
    p.removed.sort(order);
  }
  return { probes: out, changes };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Pods present on both sides, grouped by (class before, class after). */
function jointClasses(before: DiffSide, after: DiffSide): { all: Map<string, Joint>; byPod: Map<string, { joint: Joint; at: number }>; byNamespace: Map<string, string[]> } {
  const oldPods = new Map(before.cluster.pods.map((p) => [podKey(p), p]));
  const all = new Map<string, Joint>();
  const byPod = new Map<string, { joint: Joint; at: number }>();
  const byNamespace = new Map<string, string[]>();
  for (const q of after.cluster.pods) {
    const key = podKey(q);
    const p = oldPods.get(key);
    if (!p) continue;
    const id = `${before.engine.classOf(p)}:${after.engine.classOf(q)}`;
    let j = all.get(id);
    if (!j) {
      j = { id: all.size, before: [], after: [], keys: [], namespace: q.namespace, src: false, dst: false, changed: false };
      all.set(id, j);
    }
    byPod.set(key, { joint: j, at: j.keys.length });
    j.before.push(p);
    j.after.push(q);
    j.keys.push(key);
    const list = byNamespace.get(q.namespace) ?? [];
    list.push(key);
    byNamespace.set(q.namespace, list);
  }
  return { all, byPod, byNamespace };
}

/** Marks the joint classes whose rows (src) or columns (dst) may have changed. */
function markTouched(joints: ReturnType<typeof jointClasses>, changes: ObjectChanges): void {
  const both = (key: string) => {
    const j = joints.byPod.get(key)?.joint;
    if (j) j.src = j.dst = j.changed = true;
  };
  for (const c of changes.pods) both(c.pod);
  for (const c of changes.namespaces) for (const key of joints.byNamespace.get(c.namespace) ?? []) both(key);
  for (const c of changes.policies) {
    const sides = [c.before, c.after].flatMap((info) => (info ? [normalizePolicy(info)] : []));
    const ingress = sides.some((p) => p.ingress);
    const egress = sides.some((p) => p.egress);
    const ns = (c.before ?? c.after)!.namespace;
    for (const key of joints.byNamespace.get(ns) ?? []) {
      const { joint: j, at } = joints.byPod.get(key)!;
      const [p, q] = [j.before[at]!, j.after[at]!];
      // "The podSelector ... selects the pods to which this policy applies": on either side.
      const selected = (c.before !== undefined && matches(sides[0]!.subject, p.labels)) || (c.after !== undefined && matches(sides[sides.length - 1]!.subject, q.labels));
      if (!selected) continue;
      if (egress) j.src = true;
      if (ingress) j.dst = true;
    }
  }
}

/**
 * Marks the joint classes a cluster-scoped policy change can touch: the pods it selects on either side,
 * for the directions it has rules for. A change to the Node objects (`nodes` peers) touches every side.
 */
function markTouchedByTiers(joints: ReturnType<typeof jointClasses>, changes: ObjectChanges, before: Cluster, after: Cluster): void {
  if (changes.nodes && ((before.clusterPolicies?.length ?? 0) > 0 || (after.clusterPolicies?.length ?? 0) > 0)) {
    for (const j of joints.all.values()) j.src = j.dst = true;
    return;
  }
  for (const c of changes.clusterPolicies) {
    const sides = [
      ...(c.before ? [{ reach: clusterPolicyReach(c.before, before), at: 'before' as const }] : []),
      ...(c.after ? [{ reach: clusterPolicyReach(c.after, after), at: 'after' as const }] : []),
    ];
    const egress = sides.some((s) => s.reach.egress);
    const ingress = sides.some((s) => s.reach.ingress);
    for (const j of joints.all.values()) {
      if ((!egress || j.src) && (!ingress || j.dst)) continue;
      const selected = j.before.some((_, k) => sides.some((s) => s.reach.selects((s.at === 'before' ? j.before : j.after)[k]!)));
      if (!selected) continue;
      if (egress) j.src = true;
      if (ingress) j.dst = true;
    }
  }
}

/** Every (touched joint class, joint class) pair, compared on both sides for every probe. */
function compare(before: DiffSide, after: DiffSide, joints: readonly Joint[], probes: readonly DiffProbe[]): Found[] {
  const found: Found[] = [];
  const protocols = [...new Set(probes.map((p) => p.protocol))];
  const check = (s: Joint, d: Joint): void => {
    if (s === d && s.keys.length < 2) return;
    const j = s === d ? 1 : 0;
    const [os, od, ns, nd] = [s.before[0]!, d.before[j]!, s.after[0]!, d.after[j]!];
    for (const protocol of protocols) {
      const oldPorts = before.engine.admittedPorts(os, od, protocol);
      const newPorts = after.engine.admittedPorts(ns, nd, protocol);
      const same = oldPorts.equals(newPorts);
      probes.forEach((probe, k) => {
        if (probe.protocol !== protocol) return;
        let was: boolean;
        let is: boolean;
        if (probe.port === null) {
          if (same) return;
          was = !oldPorts.isEmpty();
          is = !newPorts.isEmpty();
        } else if (typeof probe.port === 'number') {
          if (same) return;
          was = oldPorts.has(probe.port);
          is = newPorts.has(probe.port);
        } else {
          // A name resolves against the destination, which may define it differently on each side.
          const sp = { port: probe.port, protocol };
          was = before.engine.allows(os, od, sp);
          is = after.engine.allows(ns, nd, sp);
        }
        if (was !== is) found.push({ s, d, probe: k, added: is });
      });
    }
  };
  for (const s of joints) if (s.src) for (const d of joints) check(s, d);
  for (const d of joints) if (d.dst) for (const s of joints) if (!s.src) check(s, d);
  return found;
}

/** An explaining engine holding only the policies of the namespaces involved (normalising 10,000 policies for a few pairs would dominate). */
function explainer(cluster: Cluster, namespaces: ReadonlySet<string>): Engine {
  const normalize = policyNormalizer();
  return new Engine(
    cluster,
    cluster.policies.filter((p) => namespaces.has(p.namespace)).map((p) => normalize(p)),
  );
}

function verdict(engine: Engine, source: PodInfo, destination: PodInfo, probe: DiffProbe): Verdict {
  return engine.evaluate({ source: podEndpoint(source), destination: podEndpoint(destination), protocol: probe.protocol, ...(probe.port !== null ? { port: probe.port } : {}) });
}

/** The causes of one representative pair, with causes naming a representative end renamed to this pair's end. */
function forPair(causes: readonly Cause[], ends: { source: string; destination: string }, from: string, to: string, index: ChangeIndex): readonly Cause[] {
  if (from === ends.source && to === ends.destination) return causes;
  if (!causes.some((c) => c.kind === 'pod')) return causes;
  return causes.map((c) => {
    if (c.kind !== 'pod') return c;
    const actual = c.pod === ends.source ? from : c.pod === ends.destination ? to : undefined;
    const change = actual !== undefined ? index.pods.get(actual) : undefined;
    return change ? podCause(change) : c;
  });
}
