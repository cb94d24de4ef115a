/**
 * Audit mode proven with real packets: agents (one per lab node) enforce manifests in which some policies
 * are staged (`netpol.dev/mode: audit`). Every probe gets through; each subject chain's audit counter
 * counts exactly the probes the engine says that side would deny once the staged policies enforce (one
 * packet per probe: the first of the connection, every other is established), and the drop log reports
 * exactly one audit event per such probe and side, naming the staged policies; a staged policy next to an
 * enforcing one on the same pods changes nothing. Switching the staged policies to enforce is applied as
 * one incremental transaction and drops exactly the probes that were audited. The same manifests under
 * `--mode audit` (every policy staged) let everything through too. Needs root, ip, nft and conntrack;
 * skipped otherwise with the reason.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, podEndpoint } from '../../src/engine/engine.js';
import { reachability, sortPods } from '../../src/engine/matrix.js';
import type { SideResult } from '../../src/engine/types.js';
import type { Lab } from '../../src/lab/index.js';
import { kernelFamilies } from '../../src/agent/metrics.js';
import type { Cluster } from '../../src/model/cluster.js';
import { subjectChainName } from '../../src/nft/index.js';
import { agentLabSkip, clusterOf, nftTable, settledDrops, TCP_UDP_80 as PROBES, twoNamespaces, withAgentLab } from './helpers.js';

const skip = agentLabSkip();

const BASE = twoNamespaces(['x/a', 'x/b', 'y/c', 'y/d'], '10.78');

/**
 * Staged: a accepts only b; c may only talk within y. Enforcing: b accepts everyone, with a staged
 * deny-all beside it that must change nothing (the enforcing policy alone decides b's side).
 */
function policies(stage: boolean): string {
  const mode = stage ? '\n  annotations: {netpol.dev/mode: audit}' : '';
  return `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: a-from-b
  namespace: x${mode}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: c-within-y
  namespace: 'y'${mode}
spec:
  podSelector: {matchLabels: {pod: c}}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {matchLabels: {ns: 'y'}}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-open, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  ingress: [{}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: b-closed
  namespace: x
  annotations: {netpol.dev/mode: audit}
spec:
  podSelector: {matchLabels: {pod: b}}
  policyTypes: [Ingress]
`;
}

const clusterWith = (text: string): Cluster => clusterOf(BASE, text);

/** The lab's own cluster (lab addresses, lab nodes) with these policies. */
function withPolicies(lab: Lab, text: string): Cluster {
  return { ...lab.cluster, policies: clusterWith(text).policies };
}

/** One audit event as the drop log reports it, in the terms the engine gives. */
interface AuditEvent {
  readonly probe: string;
  readonly node: string;
  readonly direction: string;
  readonly policies: readonly string[];
}

/**
 * The engine's audited probes, per node and chain (a side that allows today and would deny once staged
 * policies enforce), and the audit events they make: one per probe and audited side.
 */
function expectedAudits(c: Cluster): { counts: Map<string, number>; audited: Set<string>; events: AuditEvent[] } {
  const engine = new Engine(c);
  const once = engine.withAudit();
  const counts = new Map<string, number>();
  const audited = new Set<string>();
  const events: AuditEvent[] = [];
  const add = (node: string | undefined, side: SideResult, today: SideResult, probe: string) => {
    if (!today.allowed || side.allowed) return;
    const policies = side.policies.map((p) => `${p.policy.namespace}/${p.policy.name}`);
    const chain = subjectChainName(side.direction, policies);
    counts.set(`${node} ${chain}`, (counts.get(`${node} ${chain}`) ?? 0) + 1);
    audited.add(probe);
    events.push({ probe, node: node!, direction: side.direction, policies: [...policies].sort() });
  };
  for (const s of c.pods) {
    for (const d of c.pods) {
      if (s === d) continue;
      for (const p of PROBES) {
        const t = { source: podEndpoint(s), destination: podEndpoint(d), protocol: p.protocol, port: p.port };
        const now = engine.evaluate(t);
        const then = once.evaluate(t);
        const probe = `${s.namespace}/${s.name} -> ${d.namespace}/${d.name} ${p.protocol}/${p.port}`;
        add(s.nodeName, then.egress, now.egress, probe);
        add(d.nodeName, then.ingress, now.ingress, probe);
      }
    }
  }
  return { counts, audited, events };
}

interface NftRule {
  readonly chain: string;
  readonly comment?: string;
  readonly expr: readonly Record<string, unknown>[];
}

/** Packets counted by each audit rule in the kernel, as `node chain` -> packets (non-zero only). */
function kernelAudits(lab: Lab): Map<string, number> {
  const out = new Map<string, number>();
  for (const node of lab.layout.nodes) {
    const json = nftTable(node.netns) as { nftables: { rule?: NftRule }[] };
    for (const { rule } of json.nftables) {
      if (!rule?.comment?.includes(' audit: would be denied by ')) continue;
      const counter = rule.expr.find((e) => 'counter' in e)?.counter as { packets: number } | undefined;
      if (counter && counter.packets > 0) out.set(`${node.name} ${rule.chain}`, counter.packets);
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

describe('audit mode in the lab', { skip }, () => {
  test('staged policies: every probe passes, audit counters and audit events are exactly the would-be denials, enforcing drops exactly those', async () => {
    // With the drop log read (every packet logged: the rate is far above what the probes send).
    await withAgentLab('au', clusterWith(policies(true)), { logDenied: true, logRate: 10_000 }, async (lab, enforcer) => {
      const staged = withPolicies(lab, policies(true));
      const first = await lab.probe(PROBES);
      assert.deepEqual(denied(first.reachability), new Set(), 'every probe gets through');
      const { counts, audited, events } = expectedAudits(staged);
      assert.ok(audited.size > 0 && counts.size >= 2, 'the scenario audits on both sides');
      assert.deepEqual(sorted(kernelAudits(lab)), sorted(counts));
      // The drop log: one audit event per audited probe and side, on the node of that side, naming the
      // staged policies; one packet each (the connection's first); no deny event.
      await settledDrops(lab, enforcer, events.length);
      const reported = enforcer.drops.map((e) => ({
        probe: `${e.source.pod} -> ${e.destination.pod} ${e.protocol}/${e.port}`,
        node: e.node,
        direction: e.direction,
        policies: [...e.policies].sort(),
      }));
      assert.deepEqual(reported.sort(byProbe), [...events].sort(byProbe));
      assert.deepEqual([...new Set(enforcer.drops.map((e) => `${e.action} ${e.packets}`))], ['audit 1']);
      // /metrics: the audit counters per staged policy (each counts every audited probe of its chains).
      const perPolicy = new Map<string, number>();
      for (const e of events) for (const p of e.policies) perPolicy.set(`${p} ${e.direction}`, (perPolicy.get(`${p} ${e.direction}`) ?? 0) + 1);
      const exported = new Map<string, number>();
      for (const node of lab.layout.nodes) {
        for (const sample of kernelFamilies(nftTable(node.netns)).find((f) => f.name === 'netpol_policy_audited_packets_total')?.samples ?? []) {
          const key = `${sample.labels?.namespace}/${sample.labels?.policy} ${sample.labels?.direction}`;
          exported.set(key, (exported.get(key) ?? 0) + sample.value);
        }
      }
      assert.deepEqual(sorted(exported), sorted(perPolicy));

      await enforcer.setPolicies(policies(false));
      assert.ok(
        enforcer.events.some((e) => e.kind === 'applied' && /incremental/.test(e.message)),
        'the switch was applied incrementally',
      );
      const enforced = withPolicies(lab, policies(false));
      const second = await lab.probe(PROBES);
      assert.deepEqual(second.reachability, reachability(new Engine(enforced), sortPods(enforced.pods), PROBES));
      assert.deepEqual(denied(second.reachability), audited, 'enforcing drops exactly the probes that were audited');
    });
  });

  test('--mode audit: the same policies, every one staged, drop nothing; the audit events come without --log-denied', async () => {
    await withAgentLab('am', clusterWith(policies(false)), { mode: 'audit', logRate: 10_000 }, async (lab, enforcer) => {
      const first = await lab.probe(PROBES);
      assert.deepEqual(denied(first.reachability), new Set());
      // What they would deny is what they deny when enforced (the previous test), now counted instead.
      const all = withPolicies(lab, policies(false));
      const stagedAll = { ...all, policies: all.policies.map((p) => ({ ...p, policy: { ...p.policy, metadata: { ...p.policy.metadata, annotations: { 'netpol.dev/mode': 'audit' } } } })) };
      const { counts, events } = expectedAudits(stagedAll);
      assert.deepEqual(sorted(kernelAudits(lab)), sorted(counts));
      // The agents read the kernel log because policies are staged, not because drops are logged.
      await settledDrops(lab, enforcer, events.length);
      const reported = enforcer.drops.map((e) => ({
        probe: `${e.source.pod} -> ${e.destination.pod} ${e.protocol}/${e.port}`,
        node: e.node,
        direction: e.direction,
        policies: [...e.policies].sort(),
      }));
      assert.deepEqual(reported.sort(byProbe), [...events].sort(byProbe));
    });
  });
});
