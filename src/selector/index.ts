/**
 * Label selectors, compiled once into a flat list of requirements so that matching and explaining a
 * mismatch use the same data. `matchLabels: {k: v}` becomes the requirement `k In (v)`, which is how the
 * API defines it: "A single {key,value} in the matchLabels map is equivalent to an element of
 * matchExpressions, whose key field is "key", the operator is "In", and the values array contains only
 * "value". The requirements are ANDed."
 */
import type { LabelSelector, Labels } from '../model/index.js';

export type Operator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  readonly values: readonly string[];
}

export interface Selector {
  /** Empty = selects everything in its scope ("An empty label selector matches all objects"). */
  readonly requirements: readonly Requirement[];
  /** kubectl-style text, e.g. `app=db,tier in (a,b),!legacy`; `{}` when empty. */
  readonly text: string;
}

const OPERATORS: ReadonlySet<string> = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

/**
 * Compiles a selector that has passed validation. An unknown operator cannot survive validation; if one
 * reaches here anyway the requirement matches nothing, the safe reading for an allow-list.
 */
export function compileSelector(sel: LabelSelector | undefined): Selector {
  const reqs: Requirement[] = [];
  for (const key of Object.keys(sel?.matchLabels ?? {}).sort()) {
    reqs.push({ key, operator: 'In', values: [sel?.matchLabels?.[key] ?? ''] });
  }
  for (const e of sel?.matchExpressions ?? []) {
    const operator = (OPERATORS.has(e.operator) ? e.operator : 'In') as Operator;
    const values = OPERATORS.has(e.operator) ? [...(e.values ?? [])].sort() : [];
    reqs.push({ key: e.key, operator, values });
  }
  return { requirements: reqs, text: selectorText(reqs) };
}

export const EVERYTHING: Selector = { requirements: [], text: '{}' };

export function requirementMatches(r: Requirement, labels: Labels): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.operator) {
    case 'In':
      return has && r.values.includes(labels[r.key] as string);
    // "NotIn" and "DoesNotExist" match objects that do not have the key at all.
    case 'NotIn':
      return !has || !r.values.includes(labels[r.key] as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

export function matches(sel: Selector, labels: Labels): boolean {
  for (const r of sel.requirements) if (!requirementMatches(r, labels)) return false;
  return true;
}

/** The requirements that the labels fail (empty when the selector matches). */
export function unmetRequirements(sel: Selector, labels: Labels): Requirement[] {
  return sel.requirements.filter((r) => !requirementMatches(r, labels));
}

export function requirementText(r: Requirement): string {
  switch (r.operator) {
    case 'In':
      return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
    case 'NotIn':
      return r.values.length === 1 ? `${r.key}!=${r.values[0]}` : `${r.key} notin (${r.values.join(',')})`;
    case 'Exists':
      return r.key;
    case 'DoesNotExist':
      return `!${r.key}`;
  }
}

function selectorText(reqs: readonly Requirement[]): string {
  return reqs.length === 0 ? '{}' : reqs.map(requirementText).join(',');
}

export function labelsText(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? '(no labels)' : keys.map((k) => `${k}=${labels[k]}`).join(',');
}
