/**
 * The drop log proven with real packets: agents run with --log-denied on two lab nodes, every pair of
 * pods is probed, and the drop events are compared with the engine's verdicts. Every probe the engine
 * denies appears as exactly one event, on the node that enforces the denying side, naming the policies
 * that isolate that side's subject; no allowed probe appears; and the kernel's counters (read through the
 * same parsing /metrics uses) add up to the packets the events report and to the allowed probes that met
 * an admitting rule. Needs root, ip, nft and conntrack; skipped otherwise with the reason.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Engine, podEndpoint } from '../../src/engine/engine.js';
import { cliCommand } from '../../src/lab/index.js';
import type { DropsAnswer } from '../../src/agent/drop-service.js';
import { kernelFamilies, type Family } from '../../src/agent/metrics.js';
import { NF_LOG_ALL_NETNS } from '../../src/agent/drop-service.js';
import type { Protocol } from '../../src/model/cluster.js';
import { agentLabSkip, clusterOf, nftTable, settledDrops, TCP_UDP_80 as PROBES, twoNamespaces, withAgentLab } from './helpers.js';

const skip = agentLabSkip();
if (skip) console.log(`# drop log lab test skipped: ${skip}`);

/** Addresses of their own (10.79/16): the kernel log is the machine's, and other labs' lines must not look like ours. */
const BASE = twoNamespaces(['x/a', 'x/b', 'y/c', 'y/d'], '10.79');

/**
 * a: ingress from b only (a-from-b), and TCP from anyone in y (a-tcp-from-y): its ingress chain has two
 * policies. c: egress to x only. d: not isolated.
 */
const POLICIES = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-from-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-tcp-from-y, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {ns: 'y'}}}], ports: [{protocol: TCP}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: c-to-x, namespace: 'y'}
spec:
  podSelector: {matchLabels: {pod: c}}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {matchLabels: {ns: x}}}]}]
`;

interface Expected {
  readonly key: string;
  readonly node: string;
  readonly direction: 'ingress' | 'egress';
  readonly policies: string[];
}

function sum(families: Family[], name: string, filter: (labels: Readonly<Record<string, string>>) => boolean = () => true): number {
  return (families.find((f) => f.name === name)?.samples ?? []).filter((s) => filter(s.labels ?? {})).reduce((a, s) => a + s.value, 0);
}

describe('the drop log in the lab', { skip }, () => {
  test("every denied probe is exactly one drop event naming the denying side's policies; allowed probes none; counters add up", async () => {
    // Every packet logged: the rate is far above what the probes send; the fixture checks that the sysctl is put back.
    await withAgentLab('dl', clusterOf(BASE, POLICIES), { logDenied: true, logRate: 10_000 }, async (lab, enforcer) => {
      assert.equal(readFileSync(NF_LOG_ALL_NETNS, 'utf8').trim(), '1', 'the lab lets namespaces log while it runs');
      const report = await lab.probe(PROBES);
      const engine = new Engine(lab.cluster);
      const byKey = new Map(lab.cluster.pods.map((p) => [`${p.namespace}/${p.name}`, p]));
      const expected: Expected[] = [];
      let allowedIsolated = 0;
      /** Denied probes whose egress side is isolated and admitted them: every packet met an egress rule first. */
      const admittedThenDenied = new Set<string>();
      for (const o of report.outcomes) {
        if (o.from === o.to) continue;
        const from = byKey.get(o.from)!;
        const to = byKey.get(o.to)!;
        const v = engine.evaluate({ source: podEndpoint(from), destination: podEndpoint(to), protocol: o.protocol as Protocol, port: o.port });
        assert.equal(o.result === 'connected', v.allowed, `${o.from} -> ${o.to} ${o.protocol}: the kernel agrees with the engine`);
        const key = `${o.from} ${o.to} ${o.protocol} ${o.port}`;
        if (v.allowed) {
          // The first packet met an admitting rule once per isolated side.
          allowedIsolated += (v.egress.isolated ? 1 : 0) + (v.ingress.isolated ? 1 : 0);
          continue;
        }
        // The egress side is enforced first (on the source's node); a packet it drops never reaches the other.
        const side = v.egress.allowed ? v.ingress : v.egress;
        if (v.egress.allowed && v.egress.isolated) admittedThenDenied.add(key);
        const subject = side.direction === 'egress' ? from : to;
        expected.push({ key, node: subject.nodeName!, direction: side.direction, policies: side.policies.map((p) => `${p.policy.namespace}/${p.policy.name}`).sort() });
      }
      assert.ok(expected.length >= 4, `the policies deny several probes (${expected.length})`);
      assert.ok(expected.some((e) => e.direction === 'egress') && expected.some((e) => e.policies.length === 2), 'both directions, and a chain of two policies');
      await settledDrops(lab, enforcer, expected.length);
      const order = (a: Expected, b: Expected) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
      const summary = (e: DropsAnswer['events'][number]) => ({
        key: `${e.source.pod} ${e.destination.pod} ${e.protocol} ${e.port}`,
        node: e.node,
        direction: e.direction,
        policies: [...e.policies].sort(),
      });
      assert.deepEqual(enforcer.drops.map(summary).sort(order), [...expected].sort(order), 'exactly one event per denied probe, on the enforcing node, naming the isolating policies');
      // The same events through `netpol drops` against each node's agent (inside the node's namespace).
      const drops = (netns: string, addr: string, ...args: string[]) => spawnSync('ip', ['netns', 'exec', netns, ...cliCommand(), 'drops', '--agent', `http://${addr}`, ...args], { encoding: 'utf8' });
      const served: DropsAnswer['events'][number][] = [];
      for (const n of lab.layout.nodes) {
        const r = drops(n.netns, enforcer.listening(n.name)!, '-o', 'json');
        assert.equal(r.status, 0, r.stderr);
        const answer = JSON.parse(r.stdout) as DropsAnswer;
        assert.equal(answer.node, n.name);
        served.push(...answer.events);
      }
      assert.deepEqual(served.map(summary).sort(order), [...expected].sort(order), 'GET /drops serves the same events');
      for (const e of served) {
        assert.equal(e.action, 'deny');
        assert.ok(e.packets >= 1);
        assert.match(e.time, /^\d{4}-\d\d-\d\dT/);
      }
      // Each event's check line reproduces the verdict against the lab's manifests, naming the same policies.
      const sample = served.find((e) => e.policies.length === 2) ?? served[0]!;
      const node = lab.layout.nodes.find((n) => n.name === sample.node)!;
      const text = drops(node.netns, enforcer.listening(node.name)!).stdout;
      const line = text.split('\n').find((l) => l.includes(`reproduce: netpol check --from ${sample.source.pod} --to ${sample.destination.pod} --port ${sample.port} --protocol ${sample.protocol}`));
      assert.ok(line, text);
      const args = line
        .trim()
        .replace(/^reproduce: netpol /, '')
        .split(' ');
      const check = spawnSync(cliCommand()[0]!, [...cliCommand().slice(1), ...args, '-f', enforcer.dir, '-o', 'json'], { encoding: 'utf8' });
      assert.equal(check.status, 1, `denied: ${check.stderr}`);
      const verdict = JSON.parse(check.stdout) as {
        allowed: boolean;
        ingress: { policies: { policy: { namespace: string; name: string } }[] };
        egress: { policies: { policy: { namespace: string; name: string } }[] };
      };
      assert.equal(verdict.allowed, false);
      assert.deepEqual(verdict[sample.direction].policies.map((p) => `${p.policy.namespace}/${p.policy.name}`).sort(), [...sample.policies].sort());
      // The kernel's counters, read as /metrics reads them, on both nodes.
      const families = lab.layout.nodes.map((n) => kernelFamilies(nftTable(n.netns)));
      const loggedPackets = served.reduce((a, e) => a + e.packets, 0);
      // A chain's deny counter counts a packet once for each policy it names: count each chain once.
      let denied = 0;
      for (const n of lab.layout.nodes) {
        const listing = nftTable(n.netns) as { nftables: { rule?: { comment?: string; expr?: { counter?: { packets: number } }[] } }[] };
        for (const item of listing.nftables) if (item.rule?.comment?.includes(' denied: isolated by ')) denied += item.rule.expr?.find((x) => x.counter)?.counter?.packets ?? 0;
      }
      assert.equal(denied, loggedPackets, "every denied packet was logged, and folded into its probe's event");
      const admitted = families.reduce((a, f) => a + sum(f, 'netpol_rule_admitted_packets_total'), 0);
      const resent = served.filter((e) => admittedThenDenied.has(summary(e).key)).reduce((a, e) => a + e.packets, 0);
      assert.ok(resent > 0, 'some denied probe passed an egress rule first');
      assert.equal(
        admitted,
        allowedIsolated + resent,
        'admitting rules counted the first packet of each allowed probe once per isolated side, and every packet an egress rule let through to a denying ingress',
      );
      assert.ok(sum(families[0]!, 'netpol_policy_denied_packets_total') + sum(families[1]!, 'netpol_policy_denied_packets_total') >= denied);
    });
  });

  test('audit mode: every probe gets through, and the drop log reports exactly the would-be drops as audit events', async () => {
    // Every policy staged (netpol.dev/mode: audit): today nothing is enforced.
    const staged = POLICIES.replace(/metadata: \{name: ([^,]+), namespace: ([^}]+)\}/g, 'metadata: {name: $1, namespace: $2, annotations: {netpol.dev/mode: audit}}');
    assert.equal(staged.split('netpol.dev/mode: audit').length - 1, 3);
    await withAgentLab('da', clusterOf(BASE, staged), { logDenied: true, logRate: 10_000 }, async (lab, enforcer) => {
      const report = await lab.probe(PROBES);
      const today = new Engine(lab.cluster);
      const once = today.withAudit();
      const byKey = new Map(lab.cluster.pods.map((p) => [`${p.namespace}/${p.name}`, p]));
      const expected: Expected[] = [];
      for (const o of report.outcomes) {
        assert.equal(o.result, 'connected', `${o.from} -> ${o.to} ${o.protocol}: audit mode lets it through`);
        if (o.from === o.to) continue;
        const from = byKey.get(o.from)!;
        const to = byKey.get(o.to)!;
        const t = { source: podEndpoint(from), destination: podEndpoint(to), protocol: o.protocol as Protocol, port: o.port };
        assert.equal(today.evaluate(t).allowed, true);
        const then = once.evaluate(t);
        // Each side that would deny logs on its own node: the packet goes on past an audit tail.
        for (const side of [then.egress, then.ingress]) {
          if (side.allowed) continue;
          const subject = side.direction === 'egress' ? from : to;
          expected.push({
            key: `${o.from} ${o.to} ${o.protocol} ${o.port}`,
            node: subject.nodeName!,
            direction: side.direction,
            policies: side.policies.map((p) => `${p.policy.namespace}/${p.policy.name}`).sort(),
          });
        }
      }
      assert.ok(expected.length >= 4, `the staged policies would deny several probes (${expected.length})`);
      await settledDrops(lab, enforcer, expected.length);
      const order = (a: Expected, b: Expected) => (a.key + a.direction < b.key + b.direction ? -1 : a.key + a.direction > b.key + b.direction ? 1 : 0);
      const summary = (e: DropsAnswer['events'][number]) => ({
        key: `${e.source.pod} ${e.destination.pod} ${e.protocol} ${e.port}`,
        node: e.node,
        direction: e.direction,
        policies: [...e.policies].sort(),
      });
      assert.deepEqual(enforcer.drops.map(summary).sort(order), [...expected].sort(order), 'one audit event per would-be denying side, naming its staged policies');
      assert.ok(
        enforcer.drops.every((e) => e.action === 'audit'),
        'audit events, not drops',
      );
      // The connection went through: its first packet is the only one logged.
      assert.ok(enforcer.drops.every((e) => e.packets === 1));
    });
  });
});
