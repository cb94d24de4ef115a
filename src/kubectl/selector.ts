/** kubectl's `-l` label selector syntax, read into the API's LabelSelector, and the pods it picks. Pure. */
import type { Cluster, PodInfo, LabelSelector, LabelSelectorRequirement } from '../model/index.js';
import { compileSelector, matches } from '../selector/index.js';

/**
 * Parses a label selector as kubectl's `-l` reads it: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
 * `k notin (a,b)`, `k`, `!k`, comma separated (ANDed). Undefined when it does not parse.
 */
export function parseLabelSelector(text: string): LabelSelector | undefined {
  const reqs: LabelSelectorRequirement[] = [];
  const matchLabels: Record<string, string> = {};
  let i = 0;
  const s = text.trim();
  if (s === '') return {};
  const KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?/;
  const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?/;
  const ws = (): void => {
    while (s[i] === ' ') i++;
  };
  for (;;) {
    ws();
    let negated = false;
    if (s[i] === '!') {
      negated = true;
      i++;
      ws();
    }
    const key = KEY.exec(s.slice(i))?.[0];
    if (!key) return undefined;
    i += key.length;
    ws();
    if (negated) {
      reqs.push({ key, operator: 'DoesNotExist' });
    } else if (s.startsWith('!=', i) || s.startsWith('==', i) || s[i] === '=') {
      const op = s.startsWith('!=', i) ? '!=' : s.startsWith('==', i) ? '==' : '=';
      i += op.length;
      ws();
      const value = VALUE.exec(s.slice(i))?.[0] ?? '';
      i += value.length;
      if (op === '!=') reqs.push({ key, operator: 'NotIn', values: [value] });
      else if (Object.hasOwn(matchLabels, key) && matchLabels[key] !== value) reqs.push({ key, operator: 'In', values: [value] });
      else matchLabels[key] = value;
    } else if (/^(in|notin)\s*\(/.test(s.slice(i))) {
      const notin = s.startsWith('notin', i);
      i = s.indexOf('(', i) + 1;
      const close = s.indexOf(')', i);
      if (close < 0) return undefined;
      const values = s
        .slice(i, close)
        .split(',')
        .map((v) => v.trim());
      if (values.some((v) => VALUE.exec(v)?.[0] !== v)) return undefined;
      reqs.push({ key, operator: notin ? 'NotIn' : 'In', values });
      i = close + 1;
    } else {
      reqs.push({ key, operator: 'Exists' });
    }
    ws();
    if (i >= s.length) break;
    if (s[i] !== ',') return undefined;
    i++;
  }
  return {
    ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
    ...(reqs.length > 0 ? { matchExpressions: reqs } : {}),
  };
}

/** Pods matching a label selector, in one namespace or (undefined) in all. */
export function podsMatching(cluster: Cluster, namespace: string | undefined, selector: LabelSelector): PodInfo[] {
  const sel = compileSelector(selector);
  return cluster.pods.filter((p) => (namespace === undefined || p.namespace === namespace) && matches(sel, p.labels));
}
