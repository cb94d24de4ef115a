/**
 * cluster-rule-shadowed: a rule of a cluster-scoped policy that an earlier rule of the same policy and
 * direction always decides first. Unlike NetworkPolicy rules (ORed), cluster policy rules are tried in
 * order and the first match decides ("a rule that appears at the top of the ingress rules would take the
 * highest precedence"; docs/semantics.md T2), so a later rule whose every peer is listed in an earlier
 * rule, on ports the earlier one covers, never decides anything; with a different action it is a rule that silently does not do what it says. Judged
 * as written (equal peers, port containment), so it never calls a rule shadowed wrongly.
 */
import { sameValue } from '../../diff/index.js';
import type { ClusterPolicyPeer } from '../../model/index.js';
import { clusterRulesOf, type ClusterPort, type ClusterRule } from '../../policy/index.js';
import type { LintRule, RawFinding } from '../types.js';

function portCovered(a: ClusterPort, by: ClusterPort): boolean {
  if (a.port.kind === 'named' || by.port.kind === 'named') return a.port.kind === 'named' && by.port.kind === 'named' && a.port.name === by.port.name;
  return a.protocol === by.protocol && by.port.from <= a.port.from && a.port.to <= by.port.to;
}

function portsCovered(rule: ClusterRule, by: ClusterRule): boolean {
  if (by.ports === undefined) return true;
  return rule.ports !== undefined && rule.ports.every((p) => by.ports!.some((q) => portCovered(p, q)));
}

const ACTION = { accept: 'Accept', deny: 'Deny', pass: 'Pass' } as const;

export const clusterRuleShadowed: LintRule = {
  id: 'cluster-rule-shadowed',
  severity: 'warning',
  summary: 'A cluster policy rule an earlier rule of the same policy always decides first',
  description:
    'Cluster-scoped policy rules are tried in order and the first match decides. A rule whose peers all appear in an earlier rule of the same direction, on ports that rule covers, never decides anything; with another action it does not do what it says.',
  check(ctx) {
    const out: RawFinding[] = [];
    for (const { info, policy } of ctx.clusterPolicies) {
      const spec = info.policy.spec as { ingress?: { from?: ClusterPolicyPeer[] }[]; egress?: { to?: ClusterPolicyPeer[] }[] };
      for (const direction of ['ingress', 'egress'] as const) {
        const rules = clusterRulesOf(policy, direction);
        const peersOf = (r: ClusterRule): readonly ClusterPolicyPeer[] => {
          const raw = direction === 'ingress' ? spec.ingress?.[r.index]?.from : spec.egress?.[r.index]?.to;
          return raw ?? [];
        };
        rules.forEach((rule, j) => {
          const by = rules.slice(0, j).find((earlier) => {
            // A peer of no known field fails closed: the rule matches nothing (Accept) or everything (Deny, Pass).
            if (earlier.peers.some((p) => p.kind === 'unknown')) return earlier.action !== 'accept';
            if (rule.peers.some((p) => p.kind === 'unknown')) return false;
            const peers = peersOf(earlier);
            return peersOf(rule).every((p) => peers.some((q) => sameValue(p, q))) && portsCovered(rule, earlier);
          });
          if (!by) return;
          const same = by.action === rule.action;
          out.push({
            target: { kind: info.kind, object: info },
            path: `spec.${direction}[${rule.index}]`,
            message:
              `never decides: spec.${direction}[${by.index}] (${ACTION[by.action]}) matches every peer and port this rule (${ACTION[rule.action]}) matches, and the first matching rule decides` +
              (same ? '' : `; this rule's ${ACTION[rule.action]} never applies`),
          });
        });
      }
    }
    return out;
  },
};
