/**
 * egress-no-dns: a policy restricts its pods' egress and nothing lets those pods reach DNS. Pods look
 * names up before they connect, so "allow egress to the database" without port 53 breaks every
 * connection by name. One finding per policy with Egress in its policyTypes whose selected pods have
 * no egress rule (from any policy selecting them) admitting UDP or TCP port 53.
 */
import type { Rule } from '../../policy/index.js';
import type { LintRule, RawFinding } from '../types.js';

/** Could the rule admit DNS? All ports, port 53 of UDP or TCP, a range holding 53, or a port name spelling dns. */
export function admitsDns(rule: Rule): boolean {
  if (rule.ports === undefined) return true;
  return rule.ports.some((s) => {
    if (s.protocol === 'SCTP') return false;
    if (s.port.kind === 'all') return true;
    if (s.port.kind === 'range') return s.port.from <= 53 && 53 <= s.port.to;
    return s.port.name.includes('dns');
  });
}

export const egressNoDns: LintRule = {
  id: 'egress-no-dns',
  severity: 'warning',
  summary: 'Egress is restricted but no rule allows DNS (UDP/TCP 53)',
  description:
    'A policy with Egress in its policyTypes isolates its pods for egress; if no egress rule of any policy selecting them admits port 53, the pods cannot resolve names and connections by name fail.',
  check(ctx) {
    const out: RawFinding[] = [];
    ctx.policies.forEach((p, i) => {
      if (!p.egress) return;
      const stuck = ctx.subjects(i).filter((pod) => !ctx.selecting(pod).some((j) => ctx.policies[j]!.egress && ctx.policies[j]!.egressRules.some(admitsDns)));
      if (stuck.length === 0) return;
      out.push({
        target: { kind: 'NetworkPolicy', object: ctx.cluster.policies[i]! },
        path: p.egressRules.length > 0 ? 'spec.egress' : 'spec.policyTypes',
        message: `restricts egress of ${stuck.length} pod(s) (e.g. ${stuck[0]!.namespace}/${stuck[0]!.name}) and no egress rule selecting them allows DNS (UDP/TCP port 53): name lookups will fail`,
      });
    });
    return out;
  },
};
