/**
 * Why one pair's verdict changed: the explaining engine's verdicts on both sides, read side by side.
 *
 * Design choice: a connection is allowed when both its egress side and its ingress side allow it, so a
 * change is attributed per side whose verdict flipped. On that side, let A be the world where it is
 * allowed and D the one where it is denied (D is isolated: nothing is denied otherwise). If A does not
 * isolate the subject, the cause is each policy that isolates it in D (added, removed, edited, or
 * unchanged while the subject's labels changed). If A isolates it, the cause is each rule that admits
 * the traffic in A ("policies are additive": no rule admits it in D): its policy was added or removed,
 * the rule itself was edited, the policy's podSelector now (no longer) selects the subject, or, with
 * policy and rule unchanged, something about the ends changed (labels, ports, addresses, namespace
 * labels). Pure: no IO.
 */
import type { Verdict, SideResult } from '../engine/index.js';
import type { Direction } from '../policy/index.js';
import type { ChangeKind, ClusterPolicyChange, NamespaceChange, PodAspect, PodChange, PolicyChange } from './changes.js';
import { labelChanges } from './changes.js';
import { clusterCauseText, tierCauses, tierView, type ClusterPolicyCause } from './tiers.js';

export type PolicyEffect = 'admits' | 'no-longer-admits' | 'isolates' | 'no-longer-isolates';

export type Cause =
  | {
      readonly kind: 'policy';
      /** `ns/name`. */
      readonly policy: string;
      readonly change: ChangeKind | 'unchanged';
      readonly direction: Direction;
      readonly effect: PolicyEffect;
      /** The rule (index in spec.ingress / spec.egress) that admits, or admitted, the traffic. */
      readonly rule?: number;
      /** For an edit: the part of the policy that made the difference. */
      readonly part?: string;
    }
  | { readonly kind: 'pod'; readonly pod: string; readonly aspects: readonly PodAspect[]; readonly labels: readonly string[] }
  | { readonly kind: 'namespace'; readonly namespace: string; readonly labels: readonly string[] }
  | ClusterPolicyCause
  | { readonly kind: 'unexplained' };

export interface ChangeIndex {
  readonly policies: ReadonlyMap<string, PolicyChange>;
  /** By `Kind/name`. */
  readonly clusterPolicies: ReadonlyMap<string, ClusterPolicyChange>;
  readonly pods: ReadonlyMap<string, PodChange>;
  readonly namespaces: ReadonlyMap<string, NamespaceChange>;
}

/** Either end of the pair, as `ns/name`. */
interface Ends {
  readonly source: string;
  readonly destination: string;
}

export function podCause(c: PodChange): Cause {
  return { kind: 'pod', pod: c.pod, aspects: c.aspects, labels: c.aspects.includes('labels') ? labelChanges(c.before.labels, c.after.labels) : [] };
}

function namespaceOf(key: string): string {
  return key.slice(0, key.indexOf('/'));
}

/**
 * One side of a verdict as attribution reads it, for one probe: whether the subject is isolated, whether
 * the side allows the probe, the ports it admits (a signature, to compare), and for each isolating
 * policy the rules that admit the probe.
 */
export interface SideView {
  readonly isolated: boolean;
  readonly allowed: boolean;
  readonly admits: string;
  readonly policies: readonly { readonly key: string; readonly matchedRules: readonly number[] }[];
  /** With cluster-scoped policies: the tier decisions and passes for the probe (`tierView`). */
  readonly tiers?: ReturnType<typeof tierView>;
}

export interface VerdictView {
  readonly allowed: boolean;
  readonly egress: SideView;
  readonly ingress: SideView;
}

/**
 * The view of an explained verdict for one probe. An explanation asked for "any port" carries, for each
 * rule, whether its peer matched and which ports it admits, which answers every numbered port of the
 * protocol at once; `port` undefined takes the verdict as it is (asked for that probe).
 */
export function viewOf(v: Verdict, port?: number): VerdictView {
  if (port === undefined) {
    const side = (s: SideResult): SideView => ({
      isolated: s.isolated,
      allowed: s.allowed,
      admits: JSON.stringify(s.admits),
      policies: s.policies.map((p) => ({ key: `${p.policy.namespace}/${p.policy.name}`, matchedRules: p.rules.filter((r) => r.matched).map((r) => r.index) })),
      ...(s.tiers ? { tiers: tierView(s.tiers, undefined) } : {}),
    });
    return { allowed: v.allowed, egress: side(v.egress), ingress: side(v.ingress) };
  }
  const has = (ranges: readonly (readonly [number, number])[]) => ranges.some(([a, b]) => a <= port && port <= b);
  const side = (s: SideResult): SideView => {
    const policies = s.policies.map((p) => ({ key: `${p.policy.namespace}/${p.policy.name}`, matchedRules: p.rules.filter((r) => r.peerMatched && has(r.admits)).map((r) => r.index) }));
    const tiers = tierView(s.tiers, port);
    // With tiers, the decision covering the port is the side's verdict; else NetworkPolicy's rules are.
    const allowed = tiers ? tiers.decisions.some((d) => d.allowed) : !s.isolated || policies.some((p) => p.matchedRules.length > 0);
    return { isolated: s.isolated, allowed, admits: String(allowed), policies, ...(tiers ? { tiers } : {}) };
  };
  const egress = side(v.egress);
  const ingress = side(v.ingress);
  return { allowed: egress.allowed && ingress.allowed, egress, ingress };
}

/** The causes of a verdict that differs between `before` and `after` (the same traffic on both sides). */
export function attribute(index: ChangeIndex, ends: Ends, before: VerdictView, after: VerdictView): Cause[] {
  const out: Cause[] = [];
  const gained = after.allowed;
  // The sides whose verdict flipped; when none did, each side allowed some port on both sides and the
  // ports they have in common changed: the sides whose admitted ports changed.
  let sides = (['egress', 'ingress'] as const).filter((dir) => before[dir].allowed !== after[dir].allowed);
  if (sides.length === 0) sides = (['egress', 'ingress'] as const).filter((dir) => before[dir].admits !== after[dir].admits);
  for (const dir of sides) {
    // A cluster policy that decided differently is the cause; when the tiers decided alike, NetworkPolicy's attribution applies.
    const tiers = tierCauses(index.clusterPolicies, dir, gained, before[dir].tiers, after[dir].tiers);
    out.push(...tiers);
    if (tiers.length === 0) out.push(...sideCauses(index, ends, dir, gained, before[dir], after[dir]));
    else if (tiers.every((c) => c.change === 'unchanged')) out.push(...endChanges(index, ends));
  }
  const seen = new Set<string>();
  const unique = out.filter((c) => {
    const k = JSON.stringify(c);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return unique.length > 0 ? unique : [{ kind: 'unexplained' }];
}

function sideCauses(index: ChangeIndex, ends: Ends, dir: Direction, gained: boolean, before: SideView, after: SideView): Cause[] {
  const allowedIn = gained ? after : before;
  const deniedIn = gained ? before : after;
  const subject = dir === 'egress' ? ends.source : ends.destination;
  const other = dir === 'egress' ? ends.destination : ends.source;
  const out: Cause[] = [];
  const subjectChange = index.pods.get(subject);

  if (!allowedIn.isolated) {
    // Nothing isolates the subject where it is allowed: the isolating policies of the other world are the cause.
    for (const p of deniedIn.policies) {
      const pc = index.policies.get(p.key);
      const effect: PolicyEffect = gained ? 'no-longer-isolates' : 'isolates';
      if (pc) out.push(policyCause(pc, dir, effect, undefined, selectionPart(pc)));
      else if (subjectChange) out.push(podCause(subjectChange));
    }
    return out;
  }

  const isolatingInDenied = new Set(deniedIn.policies.map((p) => p.key));
  for (const p of allowedIn.policies) {
    const pc = index.policies.get(p.key);
    for (const rule of p.matchedRules) {
      const effect: PolicyEffect = gained ? 'admits' : 'no-longer-admits';
      const rulePath = `spec.${dir}[${rule}]`;
      if (pc && (pc.change !== 'edited' || pc.parts.includes(rulePath))) {
        out.push(policyCause(pc, dir, effect, rule, pc.change === 'edited' ? rulePath : undefined));
      } else if (!isolatingInDenied.has(p.key)) {
        // The rule is the same, but the policy did not select the subject in the other world.
        if (pc) out.push(policyCause(pc, dir, effect, rule, selectionPart(pc)));
        else if (subjectChange) out.push(podCause(subjectChange));
      } else {
        // Policy and rule unchanged: the ends changed (peer labels, addresses, namespace labels, named ports).
        const otherChange = index.pods.get(other);
        if (otherChange) out.push(podCause(otherChange));
        const nsChange = index.namespaces.get(namespaceOf(other));
        if (nsChange) out.push({ kind: 'namespace', namespace: nsChange.namespace, labels: labelChanges(nsChange.before, nsChange.after) });
        if (subjectChange && subjectChange.aspects.includes('ports')) out.push(podCause(subjectChange));
      }
    }
  }
  return out;
}

/** The changes of either end of the pair and of their namespaces (what an unchanged rule can newly match). */
function endChanges(index: ChangeIndex, ends: Ends): Cause[] {
  const out: Cause[] = [];
  for (const key of [ends.source, ends.destination]) {
    const pod = index.pods.get(key);
    if (pod) out.push(podCause(pod));
    const ns = index.namespaces.get(namespaceOf(key));
    if (ns) out.push({ kind: 'namespace', namespace: ns.namespace, labels: labelChanges(ns.before, ns.after) });
  }
  return out;
}

function policyCause(pc: PolicyChange, direction: Direction, effect: PolicyEffect, rule: number | undefined, part: string | undefined): Cause {
  return {
    kind: 'policy',
    policy: pc.policy,
    change: pc.change,
    direction,
    effect,
    ...(rule !== undefined ? { rule } : {}),
    ...(part !== undefined ? { part } : {}),
  };
}

/** Which edited part decides whether the policy selects (isolates) the subject. */
function selectionPart(pc: PolicyChange): string | undefined {
  if (pc.change !== 'edited') return undefined;
  return pc.parts.find((p) => p === 'spec.podSelector' || p === 'spec.policyTypes') ?? pc.parts[0];
}

/** One line for a cause, raw (renderers escape it). Pairs with the same text are grouped together. */
export function causeText(c: Cause): string {
  switch (c.kind) {
    case 'policy': {
      const what = c.change === 'unchanged' ? '' : ` ${c.change}`;
      const part = c.part !== undefined ? ` (${c.part})` : '';
      const rule = c.rule !== undefined ? `${c.direction} rule ${c.rule}` : '';
      switch (c.effect) {
        case 'admits':
          return `policy ${c.policy}${what}${part}: ${rule} admits`;
        case 'no-longer-admits':
          return `policy ${c.policy}${what}${part}: ${rule} no longer admits`;
        case 'isolates':
          return `policy ${c.policy}${what}${part}: isolates for ${c.direction}`;
        default:
          return `policy ${c.policy}${what}${part}: no longer isolates for ${c.direction}`;
      }
    }
    case 'pod':
      return `pod ${c.pod} changed ${c.aspects.map((a) => (a === 'labels' ? `labels (${c.labels.join(', ')})` : a)).join(', ')}`;
    case 'namespace':
      return `namespace ${c.namespace} changed labels (${c.labels.join(', ')})`;
    case 'clusterPolicy':
      return clusterCauseText(c);
    default:
      return 'unexplained';
  }
}
