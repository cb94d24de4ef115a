/**
 * What changed between two clusters, object by object: policies added, removed or edited (and which
 * parts: the podSelector, policyTypes, each rule), pods whose labels, ports, addresses or host network
 * changed, namespaces whose labels changed, pods present on one side only. This is the vocabulary the
 * reachability diff attributes its changed pairs to.
 *
 * Design choice: policies are compared by their specs, key order ignored (a reformatted file changes
 * nothing), and by their mode (the `netpol.dev/mode` annotation: a policy switched from audit to enforce
 * starts to enforce, which is a change of what is enforced even with the spec unchanged); other metadata
 * (labels, other annotations) never changes a verdict and is not compared. Pure: no IO.
 */
import type { Cluster, ClusterPolicyInfo, Labels, NamedPort, PodInfo, PolicyInfo } from '../model/index.js';
import { clusterPolicyKey, MODE_ANNOTATION, podKey } from '../model/index.js';
import { modeOf } from '../policy/index.js';

export type ChangeKind = 'added' | 'removed' | 'edited';

export interface PolicyChange {
  /** `ns/name`. */
  readonly policy: string;
  readonly change: ChangeKind;
  /** For an edit: the parts that differ, as field paths (`spec.podSelector`, `spec.policyTypes`, `spec.ingress[0]`). */
  readonly parts: readonly string[];
  /** The policy as it is on each side (absent on the side it is missing from). */
  readonly before?: PolicyInfo;
  readonly after?: PolicyInfo;
}

export interface ClusterPolicyChange {
  /** `Kind/name`. */
  readonly policy: string;
  readonly change: ChangeKind;
  /** For an edit: the parts that differ (`spec.subject`, `spec.priority`, `spec.tier`, `spec.ingress[0]`). */
  readonly parts: readonly string[];
  readonly before?: ClusterPolicyInfo;
  readonly after?: ClusterPolicyInfo;
}

export type PodAspect = 'labels' | 'ports' | 'addresses' | 'hostNetwork';

export interface PodChange {
  readonly pod: string;
  readonly aspects: readonly PodAspect[];
  readonly before: PodInfo;
  readonly after: PodInfo;
}

export interface NamespaceChange {
  readonly namespace: string;
  readonly before: Labels;
  readonly after: Labels;
}

export interface ObjectChanges {
  readonly policies: readonly PolicyChange[];
  /** Cluster-scoped policies added, removed or edited. */
  readonly clusterPolicies: readonly ClusterPolicyChange[];
  /** The Node objects (what `nodes` peers match) differ. */
  readonly nodes: boolean;
  readonly pods: readonly PodChange[];
  readonly namespaces: readonly NamespaceChange[];
  /** Pods (`ns/name`) on one side only: not part of the pair diff, listed apart. */
  readonly podsRemoved: readonly string[];
  readonly podsAdded: readonly string[];
}

/** Structural equality of decoded JSON values, key order ignored (no strings built: 10,000 policies compare in milliseconds). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let n = 0;
  for (const k in x) {
    if (x[k] === undefined) continue;
    n++;
    if (!sameValue(x[k], y[k])) return false;
  }
  for (const k in y) if (y[k] !== undefined) n--;
  return n === 0;
}

/**
 * The part naming a change of mode, when the mode changed: `metadata.annotations[netpol.dev/mode]
 * audit -> enforce`. Compared as the policy's mode (an absent annotation is `enforce`), so adding
 * `netpol.dev/mode: enforce` to a policy changes nothing.
 */
function modePart(before: { readonly policy: PolicyInfo['policy'] | ClusterPolicyInfo['policy'] }, after: typeof before): string[] {
  const [a, b] = [modeOf(before), modeOf(after)];
  return a === b ? [] : [`metadata.annotations[${MODE_ANNOTATION}] ${a} -> ${b}`];
}

/** The parts of a policy that differ (empty when the specs and modes are equal). */
export function policyParts(before: PolicyInfo, after: PolicyInfo): string[] {
  const a = before.policy.spec;
  const b = after.policy.spec;
  const mode = modePart(before, after);
  if (sameValue(a, b)) return mode;
  const parts: string[] = [...mode];
  if (!sameValue(a.podSelector ?? {}, b.podSelector ?? {})) parts.push('spec.podSelector');
  if (!sameValue(a.policyTypes ?? [], b.policyTypes ?? [])) parts.push('spec.policyTypes');
  for (const dir of ['ingress', 'egress'] as const) {
    const x = a[dir] ?? [];
    const y = b[dir] ?? [];
    for (let i = 0; i < Math.max(x.length, y.length); i++) if (!sameValue(x[i], y[i])) parts.push(`spec.${dir}[${i}]`);
    // `ingress: []` and no `ingress` differ in meaning for the defaulted policyTypes only; say so.
    if (x.length === 0 && y.length === 0 && (a[dir] === undefined) !== (b[dir] === undefined)) parts.push(`spec.${dir}`);
  }
  return parts;
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] === a[k]);
}

function portText(ps: readonly NamedPort[]): string {
  return ps
    .map((p) => `${p.name ?? ''}:${p.port}/${p.protocol}`)
    .sort()
    .join(',');
}

export function podAspects(a: PodInfo, b: PodInfo): PodAspect[] {
  const out: PodAspect[] = [];
  if (!sameLabels(a.labels, b.labels)) out.push('labels');
  if (portText(a.ports) !== portText(b.ports)) out.push('ports');
  if ([...a.ips].sort().join(',') !== [...b.ips].sort().join(',')) out.push('addresses');
  if ((a.hostNetwork ?? false) !== (b.hostNetwork ?? false)) out.push('hostNetwork');
  return out;
}

type Spec = Record<string, unknown> & { ingress?: unknown[]; egress?: unknown[] };

function clusterPolicyParts(before: ClusterPolicyInfo, after: ClusterPolicyInfo): string[] {
  const a = before.policy.spec as Spec;
  const b = after.policy.spec as Spec;
  const mode = modePart(before, after);
  if (sameValue(a, b)) return mode;
  const out: string[] = [...mode];
  for (const field of ['subject', 'priority', 'tier']) if (!sameValue(a[field], b[field])) out.push(`spec.${field}`);
  for (const dir of ['ingress', 'egress'] as const) {
    const x = a[dir] ?? [];
    const y = b[dir] ?? [];
    for (let i = 0; i < Math.max(x.length, y.length); i++) if (!sameValue(x[i], y[i])) out.push(`spec.${dir}[${i}]`);
  }
  return out;
}

export function clusterPolicyChanges(before: Cluster, after: Cluster): ClusterPolicyChange[] {
  const out: ClusterPolicyChange[] = [];
  const key = (p: ClusterPolicyInfo) => clusterPolicyKey(p);
  const old = new Map((before.clusterPolicies ?? []).map((p) => [key(p), p]));
  const now = new Map((after.clusterPolicies ?? []).map((p) => [key(p), p]));
  for (const [k, p] of old) {
    const q = now.get(k);
    if (!q) out.push({ policy: k, change: 'removed', parts: [], before: p });
    else {
      const diff = clusterPolicyParts(p, q);
      if (diff.length > 0) out.push({ policy: k, change: 'edited', parts: diff, before: p, after: q });
    }
  }
  for (const [k, q] of now) if (!old.has(k)) out.push({ policy: k, change: 'added', parts: [], after: q });
  return out.sort((a, b) => (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0));
}

/** Did the Node objects (names, labels, addresses) change? They are what `nodes` peers match. */
function nodesChanged(before: Cluster, after: Cluster): boolean {
  const text = (c: Cluster) => JSON.stringify((c.nodes ?? []).map((n) => [n.name, n.labels, [...n.addresses].sort()]).sort());
  return text(before) !== text(after);
}

export function objectChanges(before: Cluster, after: Cluster): ObjectChanges {
  const policies: PolicyChange[] = [];
  const oldPolicies = new Map(before.policies.map((p) => [podKey(p), p]));
  const newPolicies = new Map(after.policies.map((p) => [podKey(p), p]));
  for (const [key, p] of oldPolicies) {
    const q = newPolicies.get(key);
    if (!q) policies.push({ policy: key, change: 'removed', parts: [], before: p });
    else {
      const parts = policyParts(p, q);
      if (parts.length > 0) policies.push({ policy: key, change: 'edited', parts, before: p, after: q });
    }
  }
  for (const [key, q] of newPolicies) if (!oldPolicies.has(key)) policies.push({ policy: key, change: 'added', parts: [], after: q });

  const pods: PodChange[] = [];
  const oldPods = new Map(before.pods.map((p) => [podKey(p), p]));
  const newKeys = new Set<string>();
  const podsAdded: string[] = [];
  for (const q of after.pods) {
    const key = podKey(q);
    newKeys.add(key);
    const p = oldPods.get(key);
    if (!p) {
      podsAdded.push(key);
      continue;
    }
    const aspects = podAspects(p, q);
    if (aspects.length > 0) pods.push({ pod: key, aspects, before: p, after: q });
  }
  const podsRemoved = [...oldPods.keys()].filter((k) => !newKeys.has(k));

  const namespaces: NamespaceChange[] = [];
  for (const [name, ns] of before.namespaces) {
    const next = after.namespaces.get(name);
    if (next && !sameLabels(ns.labels, next.labels)) namespaces.push({ namespace: name, before: ns.labels, after: next.labels });
  }
  const byText = (a: { policy: string }, b: { policy: string }) => (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0);
  return {
    policies: policies.sort(byText),
    clusterPolicies: clusterPolicyChanges(before, after),
    nodes: nodesChanged(before, after),
    pods,
    namespaces,
    podsRemoved: podsRemoved.sort(),
    podsAdded: podsAdded.sort(),
  };
}

/** `+k=v`, `-k=v`, `k: a -> b` for each label that differs. */
export function labelChanges(before: Labels, after: Labels): string[] {
  const out: string[] = [];
  for (const k of Object.keys(before).sort()) {
    if (!(k in after)) out.push(`-${k}=${before[k]}`);
    else if (after[k] !== before[k]) out.push(`${k}: ${before[k]} -> ${after[k]}`);
  }
  for (const k of Object.keys(after).sort()) if (!(k in before)) out.push(`+${k}=${after[k]}`);
  return out;
}
