/**
 * named-port-undefined: a rule names a port (`port: http`) that no pod it could reach defines. A
 * named port resolves against the destination pod's container ports (name and protocol): for an
 * ingress rule the destinations are the policy's own pods, for an egress rule the pods its peers
 * select. When none of them defines the name, the entry admits nothing.
 */
import type { PodInfo } from '../../model/cluster.js';
import type { LintRule, RawFinding } from '../types.js';

export const namedPortUndefined: LintRule = {
  id: 'named-port-undefined',
  severity: 'error',
  summary: 'A named port that no destination pod defines',
  description:
    'A port name in a rule is resolved against each destination pod\'s container ports, by name and protocol. If no pod the rule can reach defines that name with that protocol, the port entry admits nothing: usually a typo or a protocol mismatch.',
  check(ctx) {
    const out: RawFinding[] = [];
    ctx.policies.forEach((p, i) => {
      for (const rule of [...p.ingressRules, ...p.egressRules]) {
        for (const spec of rule.ports ?? []) {
          if (spec.port.kind !== 'named') continue;
          const name = spec.port.name;
          let destinations: readonly PodInfo[];
          if (rule.direction === 'ingress') destinations = ctx.subjects(i);
          else if (rule.peers === undefined) destinations = ctx.cluster.pods;
          else destinations = [...new Set(rule.peers.flatMap((peer) => ctx.peerPods(i, peer)))];
          if (destinations.length === 0) continue;
          if (destinations.some((pod) => pod.ports.some((c) => c.name === name && c.protocol === spec.protocol))) continue;
          out.push({
            target: { kind: 'NetworkPolicy', object: ctx.cluster.policies[i]! },
            path: `spec.${rule.direction}[${rule.index}].ports[${spec.index}]`,
            message: `port "${name}" (${spec.protocol}) is defined by none of the ${destinations.length} destination pod(s) of this ${rule.direction} rule: the entry admits nothing`,
          });
        }
      }
    });
    return out;
  },
};
