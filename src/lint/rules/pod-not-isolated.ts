/**
 * pod-not-isolated: exposure. A pod that no policy selects for ingress accepts connections from every
 * pod of the cluster and every address; one no policy selects for egress may connect anywhere. Listed
 * as notes, one per pod and direction, so a reviewer sees what default-deny would change.
 */
import type { LintRule, RawFinding } from '../types.js';

export const podNotIsolated: LintRule = {
  id: 'pod-not-isolated',
  severity: 'note',
  summary: 'A pod that no policy isolates (open to or from everything)',
  description:
    'A pod is isolated for ingress (or egress) only when some NetworkPolicy selects it with that direction in its policyTypes. Otherwise all traffic in that direction is allowed: every pod in every namespace and every address can connect to it.',
  check(ctx) {
    const out: RawFinding[] = [];
    for (const pod of ctx.cluster.pods) {
      if (pod.hostNetwork) continue;
      const selecting = ctx.selecting(pod).map((i) => ctx.policies[i]!);
      const open = (['ingress', 'egress'] as const).filter((d) => !selecting.some((p) => p[d]));
      if (open.length === 0) continue;
      out.push({
        target: { kind: 'Pod', object: pod },
        message: `no policy isolates this pod for ${open.join(' or ')}: ${open.includes('ingress') ? 'every pod and address can connect to it' : ''}${open.length === 2 ? ', and ' : ''}${open.includes('egress') ? 'it can connect anywhere' : ''}`,
      });
    }
    return out;
  },
};
