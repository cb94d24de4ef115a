/**
 * named-port-undefined: a rule names a port (`port: http`) that no pod it could reach defines. A
 * named port resolves against the destination pod's container ports (name and protocol): for an
 * ingress rule the destinations are the policy's own pods, for an egress rule the pods its peers
 * select. When none of them defines the name, the entry admits nothing.
 */
import type { PodInfo } from '../../model/index.js';
import type { LintRule, RawFinding } from '../types.js';

export const namedPortUndefined: LintRule = {
  id: 'named-port-undefined',
  severity: 'error',
  summary: 'A named port that no destination pod defines',
  description:
    "A port name in a rule is resolved against each destination pod's container ports, by name and protocol. If no pod the rule can reach defines that name with that protocol, the port entry admits nothing: usually a typo or a protocol mismatch.",
  check(ctx) {
    const out: RawFinding[] = [];
    ctx.policies.forEach((p, i) => {
      for (const rule of [...p.ingressRules, ...p.egressRules]) {
        for (const spec of rule.ports ?? []) {
          if (spec.port.kind !== 'named') continue;
          const name = spec.port.name;
          const defining = ctx.podsWithPort(name, spec.protocol);
          let destinations: readonly (readonly PodInfo[])[];
          if (rule.direction === 'ingress') destinations = [ctx.subjects(i)];
          else if (rule.peers === undefined) destinations = [ctx.cluster.pods];
          else destinations = rule.peers.map((peer) => ctx.peerPods(i, peer));
          if (destinations.every((pods) => pods.length === 0)) continue;
          if (defining.size > 0 && destinations.some((pods) => pods.some((pod) => defining.has(pod)))) continue;
          const count = new Set(destinations.flat()).size;
          out.push({
            target: { kind: 'NetworkPolicy', object: ctx.cluster.policies[i]! },
            path: `spec.${rule.direction}[${rule.index}].ports[${spec.index}]`,
            message: `port "${name}" (${spec.protocol}) is defined by none of the ${count} destination pod(s) of this ${rule.direction} rule: the entry admits nothing`,
          });
        }
      }
    });
    return out;
  },
};
