/**
 * One connection under audit mode: the verdict of the policies as written (staged ones enforcing), the
 * verdict enforced today (staged ones left out, src/policy/mode.ts), and the staged policies that make
 * the difference. The CLI's `check` renders it; so can anything else, as it is data.
 */
import type { PolicyRef } from '../policy/index.js';
import type { Engine } from './engine.js';
import type { SideResult, Traffic, Verdict } from './types.js';

export interface AuditVerdict {
  /** With audit-mode policies enforcing: what the policies as written decide. */
  readonly verdict: Verdict;
  /** Enforced today: audit-mode policies left out. */
  readonly today: Verdict;
  /**
   * The audit-mode policies that make the difference, empty when the verdicts agree: those isolating a
   * side that would deny what it allows today, or those admitting on a side that denies today.
   */
  readonly by: readonly PolicyRef[];
}

export function auditVerdict(engine: Engine, t: Traffic): AuditVerdict {
  const today = engine.evaluate(t);
  const verdict = engine.withAudit().evaluate(t);
  const by: PolicyRef[] = [];
  if (today.allowed !== verdict.allowed) {
    for (const [once, now] of [[verdict.egress, today.egress], [verdict.ingress, today.ingress]] as const) {
      if (once.allowed === now.allowed) continue;
      by.push(...staged(once, !once.allowed));
    }
  }
  return { verdict, today, by };
}

/** A side's audit-mode policies: every one (`all`, they isolate and none admits), or those that admit. */
function staged(side: SideResult, all: boolean): PolicyRef[] {
  return side.policies.filter((p) => p.mode === 'audit' && (all || p.allows)).map((p) => p.policy);
}
