/**
 * redundant-rule: a rule that another rule of the same policy and direction already covers: every peer
 * it lists is listed there too (or the other rule admits every peer), and every port it admits is
 * admitted there. Removing it changes nothing; often it is a leftover of an edit that meant something
 * else. Judged as written (equal peers, port containment), so it never claims a rule redundant wrongly.
 */
import type { Direction, Policy, PortSpec, Rule } from '../../policy/index.js';
import { sameValue } from '../../diff/index.js';
import type { LintRule, RawFinding } from '../types.js';
import { rulesOf as writtenRules } from './peers.js';

function portCovered(a: PortSpec, by: PortSpec): boolean {
  if (a.protocol !== by.protocol) return false;
  if (by.port.kind === 'all') return true;
  if (a.port.kind === 'range' && by.port.kind === 'range') return by.port.from <= a.port.from && a.port.to <= by.port.to;
  return a.port.kind === 'named' && by.port.kind === 'named' && a.port.name === by.port.name;
}

export const redundantRule: LintRule = {
  id: 'redundant-rule',
  severity: 'warning',
  summary: 'A rule already covered by another rule of the same policy',
  description:
    'Rules are ORed. A rule whose peers all appear in another rule of the same direction (or that rule admits every peer) and whose ports that rule also admits adds nothing; it is often an edit that did not do what was meant.',
  check(ctx) {
    const out: RawFinding[] = [];
    ctx.policies.forEach((p: Policy, i) => {
      const info = ctx.cluster.policies[i]!;
      const written = writtenRules(info);
      for (const dir of ['ingress', 'egress'] as Direction[]) {
        const rules: readonly Rule[] = dir === 'ingress' ? p.ingressRules : p.egressRules;
        const raw = written.filter((r) => r.direction === dir);
        rules.forEach((rule, j) => {
          const by = rules.findIndex((other, k) => {
            if (k === j) return false;
            const peersCovered = other.peers === undefined || (rule.peers !== undefined && (raw[j]!.peers ?? []).every((peer) => (raw[k]!.peers ?? []).some((q) => sameValue(peer, q))));
            const portsCovered = other.ports === undefined || (rule.ports !== undefined && rule.ports.every((s) => other.ports!.some((t) => portCovered(s, t))));
            if (!peersCovered || !portsCovered) return false;
            // Two equal rules cover each other: report the later one only.
            const mutual =
              (rule.peers === undefined || other.peers !== undefined) && sameValue(raw[j]!.peers ?? null, raw[k]!.peers ?? null) && sameValue(raw[j]!.ports ?? null, raw[k]!.ports ?? null);
            return !mutual || k < j;
          });
          if (by < 0) return;
          // An empty rule among others is hidden-allow-all's finding.
          if (rules[by]!.peers === undefined && rules[by]!.ports === undefined) return;
          out.push({ target: { kind: 'NetworkPolicy', object: info }, path: `spec.${dir}[${j}]`, message: `covered by spec.${dir}[${by}]: every peer and port this rule admits, that one admits too` });
        });
      }
    });
    return out;
  },
};
