/**
 * hidden-allow-all: a rule that admits everything where it is easy to miss. An empty rule (`- {}`) among
 * other rules makes them all pointless; `from: []` / `to: []` reads like "nobody" but means "every
 * peer" ("If this field is empty or missing, this rule matches all sources"). A policy whose only rule
 * is `{}` says what it does and is left alone.
 */
import type { LintRule, RawFinding } from '../types.js';
import { rulesOf } from './peers.js';

export const hiddenAllowAll: LintRule = {
  id: 'hidden-allow-all',
  severity: 'warning',
  summary: 'A rule that admits everything: an empty rule among others, or an empty from/to list',
  description:
    'An ingress or egress rule with no from/to and no ports matches all traffic, so the other rules of the same direction add nothing. An explicitly empty `from: []` or `to: []` matches every peer, not none.',
  check(ctx) {
    const out: RawFinding[] = [];
    for (const info of ctx.cluster.policies) {
      const rules = rulesOf(info);
      for (const rule of rules) {
        const siblings = rules.filter((r) => r.direction === rule.direction).length;
        const allPeers = rule.peers === undefined || rule.peers.length === 0;
        const allPorts = rule.ports === undefined || rule.ports.length === 0;
        const target = { kind: 'NetworkPolicy' as const, object: info };
        if (allPeers && allPorts && siblings > 1) {
          out.push({ target, path: rule.path, message: `an empty rule admits all ${rule.direction} traffic, so the other ${siblings - 1} ${rule.direction} rule(s) of this policy add nothing` });
        } else if (rule.peers !== undefined && rule.peers.length === 0) {
          out.push({
            target,
            path: `${rule.path}.${rule.peersField}`,
            message: `${rule.peersField}: [] matches every ${rule.direction === 'ingress' ? 'source' : 'destination'} (an empty list means all, not none)`,
          });
        }
      }
    }
    return out;
  },
};
