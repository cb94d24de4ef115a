/**
 * host-network-selected: a policy selects a pod with `hostNetwork: true`. Such a pod shares its node's
 * network namespace; "NetworkPolicy behavior for hostNetwork pods is undefined" and most plugins do
 * not enforce policies on them, so the policy probably protects nothing there.
 */
import type { LintRule, RawFinding } from '../types.js';

export const hostNetworkSelected: LintRule = {
  id: 'host-network-selected',
  severity: 'warning',
  summary: 'The policy selects host-network pods, which most plugins do not isolate',
  description:
    "Pods with hostNetwork: true use the node's network namespace. The Kubernetes documentation leaves NetworkPolicy behaviour for them undefined; most plugins cannot tell their traffic from the node's and do not enforce the policy.",
  check(ctx) {
    const out: RawFinding[] = [];
    ctx.policies.forEach((_, i) => {
      const host = ctx.subjects(i).filter((pod) => pod.hostNetwork === true);
      if (host.length === 0) return;
      out.push({
        target: { kind: 'NetworkPolicy', object: ctx.cluster.policies[i]! },
        path: 'spec.podSelector',
        message: `selects ${host.length} host-network pod(s) (${host
          .slice(0, 3)
          .map((p) => `${p.namespace}/${p.name}`)
          .join(', ')}): NetworkPolicy behaviour for hostNetwork pods is undefined and usually not enforced`,
      });
    });
    return out;
  },
};
