/**
 * Cluster-scoped policies on top of a generated shape, for the tier benchmarks (bench:tiers, the engine;
 * bench:tiers-nft, the nftables compiler): per team, Admin tier ClusterNetworkPolicies (a Pass for the
 * team's own namespaces, an Accept from the ingress namespaces on 80-443, a Deny from every team; egress:
 * Pass to pods, Accept to a /16 on 443, Deny to everything outside), AdminNetworkPolicies (Allow from
 * observability on 9090, Deny from another team) and Baseline tier default denies; half select
 * namespaces, half pods by tier; priorities repeat every 50 policies, as in real clusters. Pure.
 */
import type { Cluster, ClusterPolicyInfo, ClusterScopedPolicy } from '../../src/model/index.js';
import type { Random } from './random.js';

export function generateClusterPolicies(base: Cluster, n: number, r: Random): ClusterPolicyInfo[] {
  const teams = [...new Set([...base.namespaces.values()].map((n) => n.labels.team).filter((t): t is string => t !== undefined))];
  const out: ClusterPolicyInfo[] = [];
  const info = (policy: ClusterScopedPolicy): ClusterPolicyInfo => ({ kind: policy.kind, name: policy.metadata.name ?? '', policy });
  for (let i = 0; i < n; i++) {
    const team = teams[i % teams.length] ?? 'team-0';
    const other = teams[r.int(teams.length)] ?? 'team-1';
    const priority = 10 + (i % 50) * 10;
    const subject = r.chance(0.5)
      ? { namespaces: { matchLabels: { team } } }
      : { pods: { namespaceSelector: { matchLabels: { team } }, podSelector: { matchLabels: { tier: r.pick(['frontend', 'backend', 'data', 'worker']) } } } };
    const kind = i % 4;
    if (kind === 3) {
      out.push(
        info({
          apiVersion: 'policy.networking.k8s.io/v1alpha1',
          kind: 'AdminNetworkPolicy',
          metadata: { name: `anp-${i}` },
          spec: {
            priority,
            subject,
            ingress: [
              { action: 'Allow', from: [{ namespaces: { matchLabels: { purpose: 'observability' } } }], ports: [{ portNumber: { protocol: 'TCP', port: 9090 } }] },
              { action: 'Deny', from: [{ namespaces: { matchLabels: { team: other } } }] },
            ],
          },
        }),
      );
      continue;
    }
    const spec =
      kind === 0
        ? {
            tier: 'Admin' as const,
            priority,
            subject,
            ingress: [
              { action: 'Pass' as const, from: [{ namespaces: { matchLabels: { team } } }] },
              { action: 'Accept' as const, from: [{ namespaces: { matchLabels: { purpose: 'ingress' } } }], protocols: [{ tcp: { destinationPort: { range: { start: 80, end: 443 } } } }] },
              { action: 'Deny' as const, from: [{ namespaces: { matchExpressions: [{ key: 'team', operator: 'Exists' }] } }] },
            ],
          }
        : kind === 1
          ? {
              tier: 'Admin' as const,
              priority,
              subject,
              egress: [
                { action: 'Pass' as const, to: [{ namespaces: {} }] },
                { action: 'Accept' as const, to: [{ networks: [`10.${r.int(200)}.0.0/16`] }], protocols: [{ tcp: { destinationPort: { number: 443 } } }] },
                { action: 'Deny' as const, to: [{ networks: ['0.0.0.0/0', '::/0'] }] },
              ],
            }
          : {
              tier: 'Baseline' as const,
              priority: priority % 100,
              subject,
              ingress: [{ action: 'Deny' as const, from: [{ namespaces: {} }] }],
            };
    out.push(info({ apiVersion: 'policy.networking.k8s.io/v1alpha2', kind: 'ClusterNetworkPolicy', metadata: { name: `cnp-${i}` }, spec }));
  }
  return out;
}
