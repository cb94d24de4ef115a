/**
 * internet-ingress: an ingress rule admits addresses on the internet (0.0.0.0/0 or any public range),
 * either through an ipBlock or through having no `from` at all (which admits every source, inside the
 * cluster and out). Often intended for a front end; worth a look everywhere else.
 */
import type { LintRule, RawFinding } from '../types.js';
import { NON_PUBLIC } from '../context.js';

export const internetIngress: LintRule = {
  id: 'internet-ingress',
  severity: 'warning',
  summary: 'An ingress rule admits connections from internet addresses',
  description:
    'An ingress rule without `from` admits every source, including any address on the internet; an ipBlock that contains public addresses (0.0.0.0/0, ::/0, or any range outside the private ones) does too. Pods it selects are reachable from outside wherever the network lets the traffic in.',
  check(ctx) {
    const out: RawFinding[] = [];
    ctx.policies.forEach((p, i) => {
      const pods = ctx.subjects(i);
      if (pods.length === 0 && ctx.cluster.pods.length > 0) return;
      for (const rule of p.ingressRules) {
        const target = { kind: 'NetworkPolicy' as const, object: ctx.cluster.policies[i]! };
        const who = pods.length ? ` to ${pods.length} pod(s) (e.g. ${pods[0]!.namespace}/${pods[0]!.name})` : ' to the pods it selects';
        if (rule.peers === undefined) {
          out.push({ target, path: `spec.ingress[${rule.index}]`, message: `no from: admits every source, any internet address included,${who}` });
          continue;
        }
        for (const peer of rule.peers) {
          if (peer.kind !== 'ipBlock' || peer.addresses.subtract(NON_PUBLIC).isEmpty()) continue;
          out.push({ target, path: `spec.ingress[${rule.index}].from[${peer.index}].ipBlock`, message: `ipBlock ${peer.cidr} admits public internet addresses${who}` });
        }
      }
    });
    return out;
  },
};
