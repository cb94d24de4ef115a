/**
 * endport-support: a port range (`endPort`). Stable since Kubernetes 1.25, but enforcement is the
 * plugin's: a plugin that does not support endPort ignores the field and admits the single `port`
 * only, or rejects the policy. A note, to check against the cluster's plugin.
 */
import type { LintRule, RawFinding } from '../types.js';
import { rulesOf } from './peers.js';

export const endportSupport: LintRule = {
  id: 'endport-support',
  severity: 'note',
  summary: 'endPort needs a network plugin that supports port ranges',
  description:
    'endPort makes a port entry a range. The API server accepts it (stable in Kubernetes 1.25), but only plugins that implement it enforce the range; others admit only `port` or ignore the entry.',
  check(ctx) {
    const out: RawFinding[] = [];
    for (const info of ctx.cluster.policies) {
      for (const rule of rulesOf(info)) {
        (rule.ports ?? []).forEach((port, k) => {
          if (port.endPort === undefined) return;
          out.push({
            target: { kind: 'NetworkPolicy', object: info },
            path: `${rule.path}.ports[${k}].endPort`,
            message: `port range ${String(port.port)}-${port.endPort}: enforced only by network plugins that support endPort; others admit port ${String(port.port)} alone or ignore the entry`,
          });
        });
      }
    }
    return out;
  },
};
