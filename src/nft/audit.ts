/**
 * Audit mode in the compiled rules: which policies a subject chain holds, and the audit tail that counts,
 * logs and lets through what the staged policies would drop.
 *
 * The rule (docs/semantics.md, "Audit mode"): "Enforcement is exactly what it would be if audit-mode
 * policies did not exist. A connection is audited when the full set of policies, audit and enforce, would
 * deny it while the enforced ones allow it." Per side, for a subject isolated by enforcing policies E and
 * staged policies A:
 * - E not empty: the side enforces E's rules, then denies. A's rules cannot change the enforced verdict,
 *   and cannot make a would-be denial either: E ∪ A admits everything E admits. So the chain is exactly
 *   the chain of E alone (same name, same rules), as if A did not exist.
 * - E empty: enforced, the side is not isolated and allows everything; with A enforcing it would admit
 *   what A's rules admit. So the chain is A's rules, then the audit tail: count, log (rate-limited), and
 *   fall off the end of the chain, which returns to the base chain. It must not `accept`: that would end
 *   the base chain there and skip the other side (the ingress dispatch after the egress one), which must
 *   still be enforced ("both ends must allow").
 * A connection is allowed today when both sides are; then it is audited exactly when some side's audit
 * tail ran: a side whose enforcing policies allow it also allows it with A included.
 */
import type { Direction, Policy } from '../policy/index.js';
import type { Rule } from './ir.js';
import { logPrefix, MAX_COMMENT, quotable } from './names.js';

/** The policies whose rules a subject chain holds, and whether its tail audits (else it denies). */
export interface ChainPolicies {
  readonly policies: readonly Policy[];
  readonly audit: boolean;
}

/** `isolating`: every policy isolating the subject for the direction (enforcing and staged), sorted by key. */
export function chainPolicies(isolating: readonly Policy[]): ChainPolicies {
  const enforcing = isolating.filter((p) => p.mode === 'enforce');
  return enforcing.length > 0 ? { policies: enforcing, audit: false } : { policies: isolating, audit: true };
}

/**
 * The audit tail of a chain of staged policies: a counter (its comment names the staged ones, or every
 * policy when none is: a chain of a cluster policy's audit view, tiers.ts), then the log; no verdict.
 */
export function auditRules(chain: { readonly name: string; readonly direction: Direction; readonly policies: readonly Policy[] }, logRate: number | undefined): Rule[] {
  const staged = chain.policies.filter((p) => p.mode === 'audit');
  const keys = (staged.length > 0 ? staged : chain.policies).map((p) => p.key).join(', ');
  return [
    { matches: [], counter: true, comment: quotable(`${chain.direction} audit: would be denied by ${keys}`, MAX_COMMENT) },
    { matches: [], limit: { rate: Math.max(1, Math.floor(logRate ?? 10)), per: 'second', burst: 5 }, log: { prefix: logPrefix('audit', chain.name) } },
  ];
}
