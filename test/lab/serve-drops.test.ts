/**
 * `netpol serve` showing real drops: agents with --log-denied enforce a policy on two lab nodes, real
 * TCP probes are denied by the kernel, and serve (reading each node's agent) folds every denied probe
 * onto its pod pair, and none of the allowed ones; each pair's question to /api/v1/check is denied,
 * naming the policy the event names. The agents listen inside their nodes' network namespaces, so serve
 * reads them through `netpol drops -o json` run there (an AgentTarget; the answer is /drops with each
 * event's check line added). Needs root, ip, nft and conntrack; skipped otherwise with the reason.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Engine, podEndpoint } from '../../src/engine/engine.js';
import { agentEnforcer, checkPrerequisites, cliCommand, Lab } from '../../src/lab/index.js';
import { loadCluster } from '../../src/load/index.js';
import { fileSource, startServer, type AgentTarget, type DropsView } from '../../src/server/index.js';
import { until } from '../kube/helpers.js';
import { leftovers, NOTHING, testLabId } from './helpers.js';

const missing = checkPrerequisites(['ip', 'nft', 'conntrack']).missing;
const skip = missing.length > 0 ? `needs ${missing.join('; ')}` : false;
if (skip) console.log(`# serve drops lab test skipped: ${skip}`);

/** Addresses of their own (10.76/16): the kernel log is the machine's. web admits only app=api, on 80. */
const CLUSTER = `apiVersion: v1
kind: Namespace
metadata: {name: sd}
${[
  ['web', 0],
  ['api', 1],
  ['probe', 1],
]
  .map(
    ([name, node], i) => `---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: sd, labels: {app: ${name}}}
spec: {nodeName: node-${node}, containers: [{name: c, ports: [{containerPort: 80}]}]}
status: {podIP: 10.76.0.${i + 1}}`,
  )
  .join('\n')}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-api, namespace: sd}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 80}]}]
`;

/** One node's agent, read by running `netpol drops -o json` in the node's network namespace. */
function inNamespace(netns: string, address: () => string | undefined, name: string): AgentTarget {
  return {
    name,
    read: (since, signal) =>
      new Promise((resolve, reject) => {
        const at = address();
        if (!at) return reject(new Error('the agent does not listen yet'));
        const child = spawn('ip', ['netns', 'exec', netns, ...cliCommand(), 'drops', '--agent', `http://${at}`, '--since', String(since), '-o', 'json'], { signal, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err.trim() || `exit ${code}`))));
      }),
  };
}

describe('serve with the agents of a lab', { skip }, () => {
  test('every probe the kernel denied is a drop pair on the page, each denied by check as the event says; no allowed probe is one', async () => {
    const id = testLabId('sd');
    const { cluster, diagnostics } = loadCluster([{ file: 'sd.yaml', text: CLUSTER }]);
    assert.deepEqual(
      diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    const enforcer = agentEnforcer({ logDenied: true, logRate: 10_000 });
    const lab = await Lab.create(cluster, { id, nodes: 2, enforcer });
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      await until('every agent listens', () => (lab.layout.nodes.every((n) => enforcer.listening(n.name)) ? true : undefined), 20_000);
      server = await startServer({
        source: fileSource({ filenames: [enforcer.dir], recursive: false }),
        port: 0,
        assetsDir: enforcer.dir,
        defaultNamespace: 'sd',
        drops: { targets: lab.layout.nodes.map((n) => inNamespace(n.netns, () => enforcer.listening(n.name), n.name)), poller: { intervalMs: 300 } },
      });
      const report = await lab.probe([{ port: 80, protocol: 'TCP' }]);
      const engine = new Engine(lab.cluster);
      const byKey = new Map(lab.cluster.pods.map((p) => [`${p.namespace}/${p.name}`, p]));
      const denied = new Set<string>();
      for (const o of report.outcomes) {
        if (o.from === o.to) continue;
        const v = engine.evaluate({ source: podEndpoint(byKey.get(o.from)!), destination: podEndpoint(byKey.get(o.to)!), protocol: 'TCP', port: 80 });
        assert.equal(o.result === 'connected', v.allowed, `${o.from} -> ${o.to}: the kernel agrees with the engine`);
        if (!v.allowed) denied.add(`${o.from} > ${o.to}`);
      }
      assert.deepEqual([...denied].sort(), ['sd/probe > sd/web']);
      const url = server.url;
      const view = await until(
        'the denied probes reached serve',
        async () => {
          const v = (await (await fetch(`${url}api/v1/drops`)).json()) as DropsView;
          return v.pairs.length >= denied.size && v.agents.every((a) => a.state === 'ok') ? v : undefined;
        },
        30_000,
      );
      assert.deepEqual(view.agents.map((a) => [a.name, a.node, a.state]).sort(), lab.layout.nodes.map((n) => [n.name, n.name, 'ok']).sort());
      assert.deepEqual(view.pairs.map((p) => `${p.from.name} > ${p.to.name}`).sort(), [...denied].sort(), 'one pair per denied probe, none for allowed ones');
      for (const p of view.pairs) {
        assert.deepEqual([p.from.kind, p.to.kind, p.denied, p.audited, p.protocol, p.port], ['pod', 'pod', 1, 0, 'TCP', 80]);
        const event = view.events.find((e) => e.from.name === p.from.name && e.to.name === p.to.name)!;
        assert.equal(event.node, byKey.get(p.to.name)!.nodeName, "the ingress side dropped it, on the destination's node");
        const answer = (await (await fetch(`${url}api/v1/check?from=${p.from.check}&to=${p.to.check}&port=${p.port}&protocol=${p.protocol}`)).json()) as {
          allowed: boolean;
          ingress: { policies: { policy: { namespace: string; name: string } }[] };
        };
        assert.equal(answer.allowed, false);
        assert.deepEqual(
          answer.ingress.policies.map((x) => `${x.policy.namespace}/${x.policy.name}`),
          [...event.policies],
        );
      }
    } finally {
      await server?.close();
      await lab.destroy();
    }
    assert.deepEqual(leftovers(id), NOTHING);
  });
});
