/**
 * The diff across tiers: which cluster-scoped policies (ClusterNetworkPolicy, AdminNetworkPolicy,
 * BaselineAdminNetworkPolicy) changed, which pods' sides a change can touch, and the causes of a flipped
 * side that a cluster policy decided.
 *
 * Design choice: a side's verdict depends only on the cluster policies selecting its subject (and on
 * NetworkPolicy), so a changed cluster policy touches the sides of the pods it selects, before or after,
 * for the directions it has rules for; Node objects feed `nodes` peers, so a change to them touches every
 * side. A flipped side is attributed to the tier decisions that differ between the two worlds: the rule
 * that accepts where the pair is allowed, the rule that denies where it is denied, and a Pass that hands
 * the traffic on in one world only. When the tiers decided nothing differently (NetworkPolicy or the
 * default decided both times) the NetworkPolicy attribution (attribute.ts) applies. Pure: no IO.
 */
import type { PortDecision, TierDecider, TierResult } from '../engine/index.js';
import { clusterPolicyKey, type Cluster, type ClusterPolicyInfo, type PodInfo } from '../model/index.js';
import { namespaceLabels, normalizeClusterPolicy, type PodScope } from '../policy/index.js';
import type { Direction } from '../policy/index.js';
import { matches } from '../selector/index.js';
import type { ChangeKind, ClusterPolicyChange } from './changes.js';

export type TierEffect = 'accepts' | 'no-longer-accepts' | 'denies' | 'no-longer-denies' | 'passes' | 'no-longer-passes';

/** A cause naming a cluster policy's rule (see `Cause` in attribute.ts). */
export interface ClusterPolicyCause {
  readonly kind: 'clusterPolicy';
  /** `Kind/name`. */
  readonly policy: string;
  readonly change: ChangeKind | 'unchanged';
  readonly tier: 'admin' | 'baseline';
  readonly direction: Direction;
  readonly effect: TierEffect;
  readonly rule: number;
  /** For an edit: the part of the policy that made the difference. */
  readonly part?: string;
}

/** For one side of a change: does the policy select the pod there, and for which directions has it rules. */
export function clusterPolicyReach(info: ClusterPolicyInfo, cluster: Cluster): { readonly egress: boolean; readonly ingress: boolean; selects(pod: PodInfo): boolean } {
  const p = normalizeClusterPolicy(info);
  const labels = (ns: string) => namespaceLabels(cluster.namespaces, ns);
  const inScope = (s: PodScope, pod: PodInfo) => !pod.hostNetwork && matches(s.namespaces, labels(pod.namespace)) && (s.pods === undefined || matches(s.pods, pod.labels));
  return { egress: p.egressRules.length > 0, ingress: p.ingressRules.length > 0, selects: (pod) => inScope(p.subject, pod) };
}

/** The tier decisions of one side for one probe: those covering `port`, or all of them (any port). */
export function tierView(t: TierResult | undefined, port: number | undefined): { decisions: readonly PortDecision[]; passes: readonly PortDecision[]; anyPort: boolean } | undefined {
  if (!t) return undefined;
  if (port === undefined) return { decisions: t.decisions, passes: t.passes, anyPort: true };
  const covers = (d: PortDecision) => d.ports.length === 0 || d.ports.some(([a, b]) => a <= port && port <= b);
  return { decisions: t.decisions.filter(covers), passes: t.passes.filter(covers), anyPort: false };
}

function ruleOf(by: TierDecider): { tier: 'admin' | 'baseline'; policy: string; rule: number; direction?: never } | undefined {
  return by.tier === 'admin' || by.tier === 'baseline' ? { tier: by.tier, policy: clusterPolicyKey(by.policy), rule: by.rule } : undefined;
}

/**
 * The cluster-policy causes of one flipped side (`gained`: allowed after), from the tier decisions of each
 * world; empty when the tiers decided nothing differently.
 */
export function tierCauses(
  changes: ReadonlyMap<string, ClusterPolicyChange>,
  direction: Direction,
  gained: boolean,
  before: ReturnType<typeof tierView>,
  after: ReturnType<typeof tierView>,
): ClusterPolicyCause[] {
  const out: ClusterPolicyCause[] = [];
  // For one port, a rule deciding it in both worlds decided alike. For any port of a protocol, the ports
  // a rule decides are part of its decision: a Deny of 50-80 that becomes a Deny of every port is a change.
  const anyPort = before?.anyPort === true || after?.anyPort === true;
  const key = (d: PortDecision) => JSON.stringify(anyPort ? [d.by, d.allowed, d.ports] : [d.by, d.allowed]);
  const [allowedIn, deniedIn] = gained ? [after, before] : [before, after];
  const push = (d: PortDecision, effect: TierEffect) => {
    const r = ruleOf(d.by);
    if (!r) return;
    const c = changes.get(r.policy);
    const path = `spec.${direction}[${r.rule}]`;
    const part = c?.change === 'edited' ? (c.parts.includes(path) ? path : c.parts[0]) : undefined;
    out.push({ kind: 'clusterPolicy', policy: r.policy, change: c?.change ?? 'unchanged', tier: r.tier, direction, effect, rule: r.rule, ...(part !== undefined ? { part } : {}) });
  };
  const only = (mine: readonly PortDecision[] | undefined, theirs: readonly PortDecision[] | undefined) => {
    const other = new Set((theirs ?? []).map(key));
    return (mine ?? []).filter((d) => !other.has(key(d)));
  };
  for (const d of only(allowedIn?.decisions, deniedIn?.decisions)) if (d.allowed) push(d, gained ? 'accepts' : 'no-longer-accepts');
  for (const d of only(deniedIn?.decisions, allowedIn?.decisions)) if (!d.allowed) push(d, gained ? 'no-longer-denies' : 'denies');
  for (const d of only(after?.passes, before?.passes)) push(d, 'passes');
  for (const d of only(before?.passes, after?.passes)) push(d, 'no-longer-passes');
  // A rule that now accepts what it denied (or the reverse) is one cause, said as it is now.
  const now = new Set(out.filter((c) => c.effect === 'accepts' || c.effect === 'denies').map((c) => `${c.policy}#${c.rule}`));
  return out.filter((c) => !((c.effect === 'no-longer-accepts' || c.effect === 'no-longer-denies') && now.has(`${c.policy}#${c.rule}`)));
}

export function clusterCauseText(c: ClusterPolicyCause): string {
  const what = c.change === 'unchanged' ? '' : ` ${c.change}`;
  const part = c.part !== undefined ? ` (${c.part})` : '';
  const effect = c.effect.replace(/-/g, ' ');
  const passes = c.effect === 'passes' ? ' on to the next tier' : '';
  return `${c.policy}${what}${part}: ${c.tier} tier ${c.direction} rule ${c.rule} ${effect}${passes}`;
}
