/**
 * netpol's own rule, not the API server's (which stores any annotation value): `netpol.dev/mode` is
 * `audit` or `enforce`, on a NetworkPolicy and on a cluster-scoped policy alike. Anything else would leave
 * the policy's mode to a guess, so it is an error, worded as the API server words an unsupported value.
 */
import type { Diagnostic } from '../diag/index.js';
import { annotatedMode, MODE_ANNOTATION, POLICY_MODES } from '../model/index.js';
import { notSupported } from './field.js';

export function validateModeAnnotation(annotations: Readonly<Record<string, string>> | undefined): Diagnostic[] {
  if (annotatedMode(annotations) !== undefined) return [];
  const value = annotations?.[MODE_ANNOTATION] as string;
  return [notSupported(`metadata.annotations[${MODE_ANNOTATION}]`, value, POLICY_MODES)];
}
