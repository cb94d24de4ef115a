/**
 * ipblock-covers-pods: an ipBlock contains the addresses of pods of the input. Whether ipBlock applies
 * to pod traffic is up to the network plugin ("ipBlock ... cluster-external IPs"; some plugins match
 * pod IPs, some see them after SNAT or not at all), so such a rule means different things on different
 * clusters. Use pod and namespace selectors for pods, ipBlock (with `except` for the pod CIDR) for the
 * outside world.
 */
import type { LintRule, RawFinding } from '../types.js';

export const ipblockCoversPods: LintRule = {
  id: 'ipblock-covers-pods',
  severity: 'warning',
  summary: 'An ipBlock range holds pod addresses: its meaning depends on the network plugin',
  description:
    'ipBlock is meant for cluster-external addresses. Whether it matches traffic from or to pod IPs is implementation-defined (plugins differ, and SNAT changes source addresses), so a range covering pod IPs behaves differently across clusters. netpol matches pod IPs, as the upstream conformance tests expect.',
  check(ctx) {
    const out: RawFinding[] = [];
    ctx.policies.forEach((p, i) => {
      for (const rule of [...p.ingressRules, ...p.egressRules]) {
        for (const peer of rule.peers ?? []) {
          if (peer.kind !== 'ipBlock') continue;
          const pods = ctx.peerPods(i, peer);
          if (pods.length === 0) continue;
          const field = rule.direction === 'ingress' ? 'from' : 'to';
          out.push({
            target: { kind: 'NetworkPolicy', object: ctx.cluster.policies[i]! },
            path: `spec.${rule.direction}[${rule.index}].${field}[${peer.index}].ipBlock`,
            message: `ipBlock ${peer.cidr}${peer.except.length ? ` (except ${peer.except.join(', ')})` : ''} holds the addresses of ${pods.length} pod(s) (e.g. ${pods[0]!.namespace}/${pods[0]!.name} ${pods[0]!.ips[0] ?? ''}): whether it applies to pod traffic depends on the network plugin`,
          });
        }
      }
    });
    return out;
  },
};
