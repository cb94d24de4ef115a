/**
 * pod-selector-no-pods: a policy's spec.podSelector selects no pod of its namespace, so the policy
 * protects nothing (a typo in a label, or a policy in the wrong namespace). Only judged when the input
 * holds pods at all: a directory of policies alone says nothing about which pods exist.
 */
import type { LintRule, RawFinding } from '../types.js';

export const podSelectorNoPods: LintRule = {
  id: 'pod-selector-no-pods',
  severity: 'warning',
  summary: "The policy's podSelector selects no pod",
  description:
    "spec.podSelector selects the pods of the policy's namespace that the policy applies to. When it selects none, the policy has no effect: often a label typo, a label the workloads do not carry, or the policy placed in another namespace than its pods.",
  check(ctx) {
    const out: RawFinding[] = [];
    if (ctx.cluster.pods.length === 0) return out;
    ctx.policies.forEach((p, i) => {
      if (ctx.subjects(i).length > 0) return;
      const inNs = ctx.podsIn(p.ref.namespace).length;
      out.push({
        target: { kind: 'NetworkPolicy', object: ctx.cluster.policies[i]! },
        path: 'spec.podSelector',
        message: `podSelector ${p.subject.text} selects none of the ${inNs} pod(s) of namespace ${p.ref.namespace}: the policy has no effect`,
      });
    });
    return out;
  },
};
