/**
 * Audit mode: a policy (a NetworkPolicy or a cluster-scoped policy) staged with `netpol.dev/mode: audit` (or every policy, under the agent's
 * `--mode audit`) enforces nothing and reports what it would deny. From docs/semantics.md:
 *
 *   "Enforcement is exactly what it would be if audit-mode policies did not exist. A connection is
 *   *audited* (a would-be drop) when the full set of policies, audit and enforce, would deny it while the
 *   enforced ones allow it."
 *
 * Design choice: the mode is a field of the normalised policy (`Policy.mode`), read from the annotation
 * once, so the engine, the class engine and the compiler ask the same question the same way: is this
 * policy in the view (`inView`)? The enforced view leaves audit-mode policies out; the view with audit
 * policies included is what the policies as written decide, once the staged ones enforce.
 */
import type { ObjectMeta } from '../model/index.js';
import { annotatedMode, type PolicyMode } from '../model/index.js';

export { MODE_ANNOTATION, POLICY_MODES, type PolicyMode } from '../model/index.js';

/** A policy's mode from its manifest; a value validation rejects reads as `enforce` (fail closed). */
export function modeOf(info: { readonly policy: { readonly metadata: ObjectMeta } }): PolicyMode {
  return annotatedMode(info.policy.metadata.annotations) ?? 'enforce';
}

/**
 * Whether a policy takes part in a view: the enforced view (`includeAudit` false, what the kernel does
 * today) leaves audit-mode policies out as if they did not exist; with `includeAudit` every policy
 * counts, the staged ones enforcing.
 */
export function inView(p: { readonly mode: PolicyMode }, includeAudit: boolean): boolean {
  return includeAudit || p.mode === 'enforce';
}

const audited = new WeakMap<object, object>();

/**
 * `p` under a global mode (the agent's `--mode`): `enforce` leaves each policy its own mode; `audit` puts
 * every policy (NetworkPolicy or cluster-scoped) in audit mode. The audit copy of a policy is made once,
 * so it keeps its identity across updates (the compiler compares policies by identity).
 */
export function underGlobalMode<P extends { readonly mode: PolicyMode }>(p: P, global: PolicyMode): P {
  if (global === 'enforce' || p.mode === 'audit') return p;
  let copy = audited.get(p) as P | undefined;
  if (!copy) audited.set(p, (copy = { ...p, mode: 'audit' }));
  return copy;
}
