/**
 * Audit mode for cluster-scoped policies, with real packets: agents (one per lab node) enforce manifests
 * in which an AdminNetworkPolicy Deny (ingress) and a BaselineAdminNetworkPolicy Deny (egress) are staged
 * (`netpol.dev/mode: audit`), beside an enforced NetworkPolicy. Every probe gets through; the audit
 * counters of the staged rules count exactly the probes the engine says that side would deny once they
 * enforce (one packet per probe: the first of the connection), and the drop log reports exactly one audit
 * event per such probe and side, naming the staged policy and its rule. Switching them to enforce is one
 * incremental transaction and drops exactly the probes that were audited. The agent's `--mode audit`
 * stages them (and the NetworkPolicy) when their manifests say enforce: nothing is dropped, the same
 * would-be denials are counted. Needs root, ip, nft and
 * conntrack; skipped otherwise with the reason.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, podEndpoint, reachability, sortPods, type Probe, type SideResult } from '../../src/engine/index.js';
import { agentEnforcer, checkPrerequisites, Lab } from '../../src/lab/index.js';
import { loadCluster } from '../../src/load/index.js';
import type { Cluster } from '../../src/model/index.js';
import { kernelFamilies } from '../../src/agent/metrics.js';
import { leftovers, nftTable, NOTHING, testLabId, twoNamespaces } from './helpers.js';

const missing = checkPrerequisites(['ip', 'nft', 'conntrack']).missing;
const skip = missing.length > 0 ? `needs ${missing.join('; ')}` : false;
if (skip) console.log(`# skipping the lab test of staged cluster policies: ${skip}`);

/** Addresses of their own (10.81/16): the kernel log is the machine's, and other labs' lines must not look like ours. */
const BASE = twoNamespaces(['x/a', 'x/b', 'y/c', 'y/d'], '10.81');

/**
 * Staged (or enforced): nothing from y reaches a on TCP 80 (admin tier), and y may not reach b (baseline
 * tier, egress). Enforced throughout: b's NetworkPolicy admits everyone (it does not change y's egress,
 * which no NetworkPolicy isolates, so the baseline tier decides it).
 */
function policies(stage: boolean): string {
  const mode = stage ? '\n  annotations: {netpol.dev/mode: audit}' : '';
  return `apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata:
  name: no-y-to-a${mode}
spec:
  priority: 10
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {pod: a}}}}
  ingress:
  - {name: from-y, action: Deny, from: [{namespaces: {matchLabels: {ns: 'y'}}}], ports: [{portNumber: {protocol: TCP, port: 80}}]}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata:
  name: default${mode}
spec:
  subject: {namespaces: {matchLabels: {ns: 'y'}}}
  egress:
  - {name: not-b, action: Deny, to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {pod: b}}}}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-open, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  ingress: [{}]
`;
}

const PROBES: Probe[] = [
  { port: 80, protocol: 'TCP' },
  { port: 80, protocol: 'UDP' },
];

function clusterWith(text: string): Cluster {
  const { cluster, diagnostics } = loadCluster([
    { file: 'base.yaml', text: BASE },
    { file: 'policies.yaml', text },
  ]);
  assert.deepEqual(
    diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  return cluster;
}

/** The lab's own cluster (lab addresses, lab nodes) with these policies. */
function withPolicies(lab: Lab, text: string): Cluster {
  const c = clusterWith(text);
  return { ...lab.cluster, policies: c.policies, ...(c.clusterPolicies ? { clusterPolicies: c.clusterPolicies } : {}) };
}

/** One audit event as the drop log reports it, in the terms the engine gives. */
interface AuditEvent {
  readonly probe: string;
  readonly node: string;
  readonly direction: string;
  readonly policies: readonly string[];
}

/**
 * The engine's audited probes (a side that allows today and would deny once the staged policies enforce),
 * the audit events they make (one per probe and audited side, naming the cluster policy whose rule would
 * deny), and the packets each staged rule counts, as `node Kind name direction[i]`.
 */
function expectedAudits(c: Cluster): { counts: Map<string, number>; audited: Set<string>; events: AuditEvent[] } {
  const engine = new Engine(c);
  const once = engine.withAudit();
  const counts = new Map<string, number>();
  const audited = new Set<string>();
  const events: AuditEvent[] = [];
  const add = (node: string | undefined, side: SideResult, today: SideResult, probe: string) => {
    if (!today.allowed || side.allowed) return;
    const by = side.tiers?.decisions.find((d) => !d.allowed)?.by;
    assert.ok(by && (by.tier === 'admin' || by.tier === 'baseline'), `${probe}: a cluster policy's rule would deny it`);
    const key = `${node} ${by.policy.kind} ${by.policy.name} ${side.direction}[${by.rule}]`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    audited.add(probe);
    events.push({ probe, node: node!, direction: side.direction, policies: [`${by.policy.kind}/${by.policy.name}`] });
  };
  for (const s of c.pods) {
    for (const d of c.pods) {
      if (s === d) continue;
      for (const p of PROBES) {
        const t = { source: podEndpoint(s), destination: podEndpoint(d), protocol: p.protocol, port: p.port };
        const probe = `${s.namespace}/${s.name} -> ${d.namespace}/${d.name} ${p.protocol}/${p.port}`;
        const now = engine.evaluate(t);
        const then = once.evaluate(t);
        add(s.nodeName, then.egress, now.egress, probe);
        add(d.nodeName, then.ingress, now.ingress, probe);
      }
    }
  }
  return { counts, audited, events };
}

/**
 * Packets counted by each staged rule's audit counter in the kernel, as `node Kind name direction[i]`
 * (non-zero only), read as the agent's /metrics reads them (`netpol_cluster_rule_audited_packets_total`).
 */
function kernelAudits(lab: Lab): Map<string, number> {
  const out = new Map<string, number>();
  for (const node of lab.layout.nodes) {
    const family = kernelFamilies(nftTable(node.netns)).find((f) => f.name === 'netpol_cluster_rule_audited_packets_total');
    for (const { labels, value } of family?.samples ?? []) {
      if (value === 0 || !labels) continue;
      const key = `${node.name} ${labels.kind} ${labels.policy} ${labels.direction}[${labels.rule}]`;
      out.set(key, (out.get(key) ?? 0) + value);
    }
  }
  return out;
}

/** Probes the kernel denied, named as `expectedAudits` names them. */
function denied(r: { pods: readonly string[]; probes: readonly { protocol: string; port: number | string; allowed: readonly (readonly boolean[])[] }[] }): Set<string> {
  const out = new Set<string>();
  for (const p of r.probes) p.allowed.forEach((row, i) => row.forEach((ok, j) => !ok && out.add(`${r.pods[i]} -> ${r.pods[j]} ${p.protocol}/${p.port}`)));
  return out;
}

const sorted = (m: Map<string, number>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
const byProbe = (a: AuditEvent, b: AuditEvent) => (`${a.probe} ${a.direction}` < `${b.probe} ${b.direction}` ? -1 : 1);

describe('audit mode for cluster-scoped policies in the lab', { skip }, () => {
  test('a staged ANP Deny and BANP Deny: every probe passes, audit counters and events are exactly the would-be denials, enforcing drops exactly those', async () => {
    const id = testLabId('ac');
    // With the drop log read (every packet logged: the rate is far above what the probes send).
    const enforcer = agentEnforcer({ logDenied: true, logRate: 10_000 });
    const lab = await Lab.create(clusterWith(policies(true)), { id, nodes: 2, enforcer });
    try {
      const staged = withPolicies(lab, policies(true));
      const first = await lab.probe(PROBES);
      assert.deepEqual(denied(first.reachability), new Set(), 'every probe gets through');
      const { counts, audited, events } = expectedAudits(staged);
      assert.ok(events.some((e) => e.direction === 'ingress') && events.some((e) => e.direction === 'egress'), 'the scenario audits both tiers, on both sides');
      assert.deepEqual(sorted(kernelAudits(lab)), sorted(counts));
      // The drop log: one audit event per audited probe and side, on that side's node, naming the staged
      // cluster policy; one packet each (the connection's first); no deny event.
      const deadline = Date.now() + 5000;
      while (enforcer.drops.length < events.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      const reported = enforcer.drops.map((e) => ({ probe: `${e.source.pod} -> ${e.destination.pod} ${e.protocol}/${e.port}`, node: e.node, direction: e.direction, policies: [...e.policies] }));
      assert.deepEqual(reported.sort(byProbe), [...events].sort(byProbe));
      assert.deepEqual([...new Set(enforcer.drops.map((e) => `${e.action} ${e.packets}`))], ['audit 1']);

      await enforcer.setPolicies(policies(false));
      assert.ok(
        enforcer.events.some((e) => e.kind === 'applied' && /incremental/.test(e.message)),
        'the switch was applied incrementally',
      );
      const enforced = withPolicies(lab, policies(false));
      const second = await lab.probe(PROBES);
      assert.deepEqual(second.reachability, reachability(new Engine(enforced), sortPods(enforced.pods), PROBES));
      assert.deepEqual(denied(second.reachability), audited, 'enforcing drops exactly the probes that were audited');
    } finally {
      await lab.destroy();
    }
    assert.deepEqual(leftovers(id), NOTHING);
  });

  test('--mode audit: the same policies enforcing in their manifests, every one staged by the agent, drop nothing and audit the same', async () => {
    const id = testLabId('ad');
    const enforcer = agentEnforcer({ mode: 'audit' });
    const lab = await Lab.create(clusterWith(policies(false)), { id, nodes: 2, enforcer });
    try {
      const first = await lab.probe(PROBES);
      assert.deepEqual(denied(first.reachability), new Set());
      // b-open, staged too, would deny nothing: the audits are the cluster policies' as in the first test.
      assert.deepEqual(sorted(kernelAudits(lab)), sorted(expectedAudits(withPolicies(lab, policies(true))).counts));
    } finally {
      await lab.destroy();
    }
    assert.deepEqual(leftovers(id), NOTHING);
  });
});
