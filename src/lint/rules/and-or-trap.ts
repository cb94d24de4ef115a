/**
 * and-or-trap: one rule lists a peer with only a namespaceSelector and another with only a
 * podSelector. Two list entries are ORed: the namespaceSelector entry admits every pod of the
 * selected namespaces. Usually one dash too many: `- namespaceSelector: ...` and `  podSelector: ...`
 * in one entry would have meant "these pods in those namespaces" (AND).
 */
import type { LintRule, RawFinding } from '../types.js';
import { rulesOf } from './peers.js';

export const andOrTrap: LintRule = {
  id: 'and-or-trap',
  severity: 'warning',
  summary: 'Separate namespaceSelector and podSelector peers (OR) where one entry (AND) was likely meant',
  description:
    'In a from/to list, a peer with both namespaceSelector and podSelector selects those pods in those namespaces (AND); two separate entries are ORed, so the namespaceSelector-only entry admits every pod of the matching namespaces.',
  check(ctx) {
    const out: RawFinding[] = [];
    for (const info of ctx.cluster.policies) {
      for (const rule of rulesOf(info)) {
        const peers = rule.peers ?? [];
        const podOnly = peers.findIndex((p) => p.podSelector !== undefined && p.namespaceSelector === undefined && p.ipBlock === undefined);
        if (podOnly < 0) continue;
        peers.forEach((p, k) => {
          if (p.namespaceSelector === undefined || p.podSelector !== undefined) return;
          out.push({
            target: { kind: 'NetworkPolicy', object: info },
            path: `${rule.path}.${rule.peersField}[${k}]`,
            message: `only a namespaceSelector here and ${rule.peersField}[${podOnly}] only a podSelector: as separate entries they are ORed, so every pod of the selected namespaces is admitted; put both selectors in one entry to mean "these pods in those namespaces"`,
          });
        });
      }
    }
    return out;
  },
};
