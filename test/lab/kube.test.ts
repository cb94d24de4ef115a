/**
 * The lab with a real control plane (`--control-plane`): the cluster lives in kube-apiserver + etcd, one
 * cluster-mode agent per node watches it as deploy/'s ServiceAccount, and changes made through the API
 * (labels, policy create/update/delete) are enforced: real packets agree with the engine's answer for
 * the cluster the API server holds. Killing kube-apiserver or etcd changes nothing in the kernel, and
 * the next change is enforced once they are back. Needs root, ip, nft, conntrack and the control plane
 * binaries; skipped otherwise with the reason.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadKubeConfig } from '../../src/kube/index.js';
import { agentClusterSource } from '../../src/agent/kube-source.js';
import type { ClusterSnapshot } from '../../src/agent/source.js';
import { Engine } from '../../src/engine/engine.js';
import { reachability, sortPods, type Reachability } from '../../src/engine/matrix.js';
import { kubeEnforcer, type Lab } from '../../src/lab/index.js';
import { loadCluster } from '../../src/load/index.js';
import { controlPlaneSkip, kubectl } from '../kube/helpers.js';
import { agentLabSkip, withLab } from './helpers.js';

const skip = agentLabSkip() || controlPlaneSkip();

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
${['client', 'server', 'other']
  .map(
    (name, i) => `---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: shop, labels: {app: ${name}}}
spec: {nodeName: node-${i % 2}, containers: [{name: c, ports: [{name: http, containerPort: 80}]}]}`,
  )
  .join('\n')}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: server-ingress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress: [{from: [{podSelector: {matchLabels: {role: client}}}], ports: [{port: http}]}]
`;

const PROBES = [{ port: 80, protocol: 'TCP' as const }];

function policy(name: string, spec: object): string {
  return JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'shop' }, spec });
}

/** The cluster as the API server holds it, read the way the agent reads it. */
async function apiCluster(kubeconfig: string): Promise<ClusterSnapshot['cluster']> {
  const source = agentClusterSource(await loadKubeConfig({ kubeconfig }));
  const first = new Promise<ClusterSnapshot>((resolve) => void source.start((s) => resolve(s)));
  const s = await first;
  await source.stop();
  return s.cluster;
}

function predicted(cluster: ClusterSnapshot['cluster']): Reachability {
  return reachability(new Engine(cluster), sortPods(cluster.pods), PROBES);
}

/** Probes until the kernel shows `want` (the agents apply asynchronously); the time it took, in ms. */
async function enforced(lab: Lab, want: Reachability, what: string, ms = 5_000): Promise<number> {
  const t0 = Date.now();
  let got: Reachability | undefined;
  while (Date.now() - t0 < ms) {
    got = (await lab.probe(PROBES)).reachability;
    if (JSON.stringify(got) === JSON.stringify(want)) return Date.now() - t0;
  }
  assert.deepEqual(got, want, `${what}: not enforced within ${ms} ms`);
  return ms;
}

function rulesets(lab: Lab): string[] {
  return lab.layout.nodes.map((n) =>
    execFileSync('ip', ['netns', 'exec', n.netns, 'nft', 'list', 'table', 'inet', 'netpol'], { encoding: 'utf8' }).replace(/counter packets \d+ bytes \d+/g, 'counter'),
  );
}

describe('the lab with a real control plane', { skip }, () => {
  test("labels and policies changed through the API are enforced; the agents run as deploy/'s ServiceAccount", async () => {
    const { cluster, diagnostics } = loadCluster([{ file: 'shop.yaml', text: MANIFESTS }]);
    assert.deepEqual(
      diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    await withLab('kc', cluster, kubeEnforcer({ denyAction: 'reject' }), async (lab, enforcer) => {
      const info = enforcer.info!;
      assert.match(readFileSync(`${lab.runDir}/agent.kubeconfig`, 'utf8'), /user: system:serviceaccount:netpol-system:netpol-agent/);
      const k = kubectl(info.kubeconfig);
      const check = async (what: string) => {
        const want = predicted(await apiCluster(info.kubeconfig));
        const ms = await enforced(lab, want, what);
        console.log(`# ${what}: enforced (probed) within ${ms} ms`);
        return want;
      };
      const first = await check('initial');
      assert.equal(first.probes[0]?.allowed[0]?.[2], false, 'client -> server denied: client lacks role=client');
      // The denied probes are in the kernel's counters, and in the agents' /metrics, per policy.
      const scrapes = await Promise.all(info.agents.map(async (a) => (await fetch(a.metrics)).text()));
      const drops = scrapes.flatMap((t) => [...t.matchAll(/^netpol_policy_denied_packets_total\{namespace="shop",policy="server-ingress",direction="ingress"\} (\d+)$/gm)].map((m) => Number(m[1])));
      assert.ok(drops.length === 1 && drops[0]! > 0, `server-ingress drop counter in /metrics: ${JSON.stringify(drops)}`);
      assert.ok(scrapes.every((t) => /^netpol_agent_ready 1$/m.test(t) && /^netpol_agent_api_connected 1$/m.test(t)));
      await k(['label', 'pod', 'client', '-n', 'shop', 'role=client']);
      assert.equal((await check('label added')).probes[0]?.allowed[0]?.[2], true);
      await k(['apply', '-f', '-'], policy('server-ingress', { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'admin' } } }] }] }));
      assert.equal((await check('policy updated')).probes[0]?.allowed[0]?.[2], false);
      await k(['apply', '-f', '-'], policy('deny-other', { podSelector: { matchLabels: { app: 'other' } }, policyTypes: ['Ingress', 'Egress'] }));
      const denied = await check('policy created');
      assert.equal(denied.probes[0]?.allowed[0]?.[1], false, 'client -> other denied');
      await k(['delete', 'networkpolicy', '--all', '-n', 'shop']);
      const open = await check('policies deleted');
      assert.ok(open.probes[0]?.allowed.every((row) => row.every(Boolean)));
    });
  });

  test('kube-apiserver and etcd killed and restarted: the kernel keeps its rules, the next change is enforced', async () => {
    const { cluster } = loadCluster([{ file: 'shop.yaml', text: MANIFESTS }]);
    await withLab('kr', cluster, kubeEnforcer({ denyAction: 'reject' }), async (lab, enforcer) => {
      const info = enforcer.info!;
      const cp = enforcer.controlPlane!;
      const k = kubectl(info.kubeconfig);
      const before = predicted(await apiCluster(info.kubeconfig));
      await enforced(lab, before, 'initial');
      const rules = rulesets(lab);
      for (const [what, restart] of [
        ['kube-apiserver', () => cp.restartApiServer()],
        ['etcd', () => cp.restartEtcd()],
      ] as const) {
        let polls = 0;
        let outage = true;
        const watcher = (async () => {
          // The kernel, while the part is down and coming back: the same rules, every time.
          while (outage) {
            assert.deepEqual(rulesets(lab), rules, `the kernel changed while ${what} was down`);
            polls++;
            await new Promise((r) => setTimeout(r, 50));
          }
        })();
        const probing = lab.probe(PROBES);
        await restart();
        assert.deepEqual((await probing).reachability, before, `enforcement while ${what} restarts`);
        outage = false;
        await watcher;
        assert.ok(polls > 0);
      }
      const log = lab.layout.nodes.map((n) => readFileSync(`${lab.runDir}/agent-${n.name}.log`, 'utf8')).join('');
      assert.match(log, /lost the API server/, 'the outage is reported');
      await k(['label', 'pod', 'client', '-n', 'shop', 'role=client']);
      const after = predicted(await apiCluster(info.kubeconfig));
      assert.notDeepEqual(after, before);
      const ms = await enforced(lab, after, 'label added after the restarts');
      console.log(`# change after the restarts enforced (probed) within ${ms} ms`);
    });
  });
});
