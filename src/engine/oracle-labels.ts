/**
 * The oracles' label matching, spelled out from the API reference (shared by oracle.ts and
 * oracle-tiers.ts, and by nothing in the engine).
 */
import type { Cluster, Labels, LabelSelector } from '../model/index.js';
import { NAMESPACE_NAME_LABEL } from '../model/index.js';

export function selectorMatches(sel: LabelSelector, labels: Labels): boolean {
  // "matchLabels is a map of {key,value} pairs ... The requirements are ANDed."
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const e of sel.matchExpressions ?? []) {
    const has = k(labels, e.key);
    const value = labels[e.key];
    const values = e.values ?? [];
    if (e.operator === 'In' && !(has && values.includes(value as string))) return false;
    if (e.operator === 'NotIn' && has && values.includes(value as string)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) return false;
  }
  return true;
}

function k(labels: Labels, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(labels, key);
}

export function nsLabels(cluster: Cluster, ns: string): Labels {
  return cluster.namespaces.get(ns)?.labels ?? { [NAMESPACE_NAME_LABEL]: ns };
}

