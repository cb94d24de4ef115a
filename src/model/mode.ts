/**
 * netpol's own annotation on a NetworkPolicy: `netpol.dev/mode: audit` stages a policy (what it would deny
 * is counted and logged, and accepted); `enforce` or no annotation enforces it. The model keeps the
 * annotation's name and values here, below validation (which rejects other values) and the policy model
 * (which reads the mode, src/policy/mode.ts).
 */
export const MODE_ANNOTATION = 'netpol.dev/mode';

export type PolicyMode = 'enforce' | 'audit';

export const POLICY_MODES: readonly PolicyMode[] = ['audit', 'enforce'];

/** The annotation's mode: `enforce` when absent, undefined for a value that is not a mode. */
export function annotatedMode(annotations: Readonly<Record<string, string>> | undefined): PolicyMode | undefined {
  const value = annotations?.[MODE_ANNOTATION];
  if (value === undefined) return 'enforce';
  return (POLICY_MODES as readonly string[]).includes(value) ? (value as PolicyMode) : undefined;
}
