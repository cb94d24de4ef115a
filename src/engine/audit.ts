/**
 * One connection under audit mode: the verdict of the policies as written (staged ones enforcing), the
 * verdict enforced today (staged ones left out, src/policy/mode.ts), and the staged policies, namespaced
 * or cluster-scoped, that make the difference. The CLI's `check` renders it; so can anything else, as it
 * is data.
 */
import type { ClusterPolicyRef, PolicyRef } from '../policy/index.js';
import type { Engine } from './engine.js';
import type { SideResult, TierDecider, Traffic, Verdict } from './types.js';

/** A staged policy: a NetworkPolicy (`namespace`/`name`) or a cluster-scoped one (`kind`/`name`). */
export type StagedRef = PolicyRef | ClusterPolicyRef;

/** `ns/name` or `Kind/name`, as output names a policy. */
export function stagedRefText(p: StagedRef): string {
  return 'kind' in p ? `${p.kind}/${p.name}` : `${p.namespace}/${p.name}`;
}

export interface AuditVerdict {
  /** With audit-mode policies enforcing: what the policies as written decide. */
  readonly verdict: Verdict;
  /** Enforced today: audit-mode policies left out. */
  readonly today: Verdict;
  /**
   * The audit-mode policies that make the difference, empty when the verdicts agree: those isolating a
   * side that would deny what it allows today, or those admitting on a side that denies today.
   */
  readonly by: readonly StagedRef[];
}

export function auditVerdict(engine: Engine, t: Traffic): AuditVerdict {
  const today = engine.evaluate(t);
  const verdict = engine.withAudit().evaluate(t);
  const by: StagedRef[] = [];
  if (today.allowed !== verdict.allowed) {
    for (const [once, now] of [
      [verdict.egress, today.egress],
      [verdict.ingress, today.ingress],
    ] as const) {
      if (once.allowed === now.allowed) continue;
      for (const p of [...stagedClusterPolicies(once), ...staged(once, !once.allowed)]) if (!by.some((q) => sameRef(p, q))) by.push(p);
    }
  }
  return { verdict, today, by };
}

function sameRef(a: StagedRef, b: StagedRef): boolean {
  return stagedRefText(a) === stagedRefText(b) && 'kind' in a === 'kind' in b;
}

/**
 * A side's audit-mode NetworkPolicies: every one (`all`, they isolate and none admits), or those that
 * admit. With tiers, only when NetworkPolicy decided the side's verdict (an admin rule may have decided).
 */
function staged(side: SideResult, all: boolean): PolicyRef[] {
  if (side.tiers && !side.tiers.decisions.some((d) => d.by.tier === 'networkpolicy' && d.allowed === side.allowed)) return [];
  return side.policies.filter((p) => p.mode === 'audit' && (all || p.allows)).map((p) => p.policy);
}

/**
 * A side's audit-mode cluster policies that make its verdict: the staged rules that decided it (a Deny
 * for a side that denies, an Accept for one that allows), and the staged Pass rules that handed the
 * decision on to a later tier.
 */
function stagedClusterPolicies(side: SideResult): ClusterPolicyRef[] {
  if (!side.tiers) return [];
  const out: ClusterPolicyRef[] = [];
  const add = (by: TierDecider): void => {
    if ((by.tier === 'admin' || by.tier === 'baseline') && by.mode === 'audit' && !out.some((p) => p.kind === by.policy.kind && p.name === by.policy.name)) out.push(by.policy);
  };
  for (const d of side.tiers.decisions) if (d.allowed === side.allowed) add(d.by);
  for (const d of side.tiers.passes) add(d.by);
  return out;
}
