/**
 * pass-without-networkpolicy: an Admin tier Pass rule whose selected pods have nothing behind it. "Pass:
 * Skips all further ClusterNetworkPolicy rules in the current tier [...] and passes evaluation to the next
 * tier", which is NetworkPolicy; a pod no NetworkPolicy isolates for that direction goes on to the
 * Baseline tier, and when no Baseline policy selects it either, to the default: allowed. A Pass usually
 * means "the namespace owners decide"; for those pods no one does. Reported when some selected pod has
 * neither a NetworkPolicy nor a Baseline tier policy for the rule's direction. An egress Pass whose peers
 * are all pods (`namespaces`, `pods`) is left alone: the destination's ingress side still decides that
 * traffic, through every tier ("an egress Accept does not bypass the destination's ingress evaluation").
 */
import { podKey, type PodInfo } from '../../model/index.js';
import { clusterRulesOf, type Direction } from '../../policy/index.js';
import type { LintContext } from '../context.js';
import type { LintRule, RawFinding } from '../types.js';

function isolated(ctx: LintContext, pod: PodInfo, direction: Direction): boolean {
  return ctx.selecting(pod).some((i) => (direction === 'ingress' ? ctx.policies[i]!.ingress : ctx.policies[i]!.egress));
}

export const passWithoutNetworkPolicy: LintRule = {
  id: 'pass-without-networkpolicy',
  severity: 'warning',
  summary: 'An admin Pass rule for pods that no NetworkPolicy or Baseline policy decides',
  description:
    'A Pass hands traffic to NetworkPolicy. Selected pods that no NetworkPolicy isolates for that direction go on to the Baseline tier; when no Baseline policy selects them either, the traffic the Pass matches is allowed by default, which is rarely what delegating to the namespace owners meant.',
  check(ctx) {
    const out: RawFinding[] = [];
    const baseline = ctx.clusterPolicies.filter((c) => c.policy.tier === 'baseline');
    for (const { info, policy } of ctx.clusterPolicies) {
      if (policy.tier !== 'admin') continue;
      for (const direction of ['ingress', 'egress'] as const) {
        const passes = clusterRulesOf(policy, direction).filter((r) => r.action === 'pass' && (direction === 'ingress' || r.peers.some((p) => p.kind !== 'namespaces' && p.kind !== 'pods')));
        if (passes.length === 0) continue;
        const selected = ctx.clusterSubjects(policy);
        const behind = (pod: PodInfo) => isolated(ctx, pod, direction) || baseline.some((b) => clusterRulesOf(b.policy, direction).length > 0 && ctx.clusterSubjects(b.policy).includes(pod));
        const open = selected.filter((pod) => !behind(pod));
        if (open.length === 0) continue;
        for (const rule of passes) {
          out.push({
            target: { kind: info.kind, object: info },
            path: `spec.${direction}[${rule.index}]`,
            message:
              `Pass hands ${direction} traffic to NetworkPolicy, but for ${open.length} of the ${selected.length} selected pods (e.g. ${podKey(open[0]!)}) ` +
              `no NetworkPolicy isolates them for ${direction} and no Baseline tier policy selects them: what this rule matches is allowed by default`,
          });
        }
      }
    }
    return out;
  },
};
