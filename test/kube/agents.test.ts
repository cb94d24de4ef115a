/**
 * `netpol serve --discover-agents` with a real kube-apiserver: the agent pods of the DaemonSet (found by
 * its labels in netpol-system, read on their `metrics` port) are read through the API server's pod
 * proxy, with exactly the rights of deploy/rbac-reader.yaml and rbac-drops-reader.yaml; the drops are folded onto the live
 * cluster's pods. The agent is the real agent HTTP server and drop log (test/server/drops-agent.ts),
 * listening on this machine's own address (the pod proxy refuses loopback addresses), which the agent
 * pod's status names as its podIP, as a kubelet would.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubectlPath } from '../../src/controlplane/index.js';
import { applyCluster, ensureNamespace, KubeClient, loadKubeConfig, resourcePath } from '../../src/kube/index.js';
import { AGENT_NAMESPACE, discoverAgents, liveSource, startServer, type DropsView, type RunningServer } from '../../src/server/index.js';
import { clusterRoleToken, controlPlaneSkip, grantAndToken, until, useControlPlane } from './helpers.js';
import { kernelLine, shop, startShopAgent, WEB_IN, type RunningAgent } from '../server/drops-agent.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** An IPv4 address of this machine that is not loopback (the API server proxies to no loopback address). */
function hostAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

const address = hostAddress();
const skip = controlPlaneSkip() || (address === undefined ? 'needs a non-loopback IPv4 address on this machine for the pod proxy to reach' : false);
if (skip) console.log(`# skipped: agent discovery through the pod proxy ${skip}`);

describe('serve --discover-agents through the pod proxy', { skip }, () => {
  const fx = useControlPlane();
  let agent: RunningAgent;
  let alice: KubeClient;

  before(async () => {
    agent = await startShopAgent(address, 0);
    const port = Number(new URL(agent.url).port);
    await applyCluster(fx.client, shop);
    await ensureNamespace(fx.client, AGENT_NAMESPACE, {});
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'netpol-agent-n1', namespace: AGENT_NAMESPACE, labels: { 'app.kubernetes.io/name': 'netpol', 'app.kubernetes.io/component': 'agent' } },
      spec: { nodeName: 'n1', hostNetwork: true, containers: [{ name: 'agent', image: 'netpol:0.1.0', ports: [{ name: 'metrics', containerPort: port, protocol: 'TCP' }] }] },
    };
    await fx.k(['apply', '-f', '-'], JSON.stringify(pod));
    await fx.k([
      'patch',
      'pod',
      'netpol-agent-n1',
      '-n',
      AGENT_NAMESPACE,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { phase: 'Running', podIP: address, podIPs: [{ ip: address }] } }),
    ]);
    // A pod of the DaemonSet that is not running yet: not read.
    await fx.k(['apply', '-f', '-'], JSON.stringify({ ...pod, metadata: { ...pod.metadata, name: 'netpol-agent-n2' } }));
    for (const file of ['deploy/rbac-reader.yaml', 'deploy/rbac-drops-reader.yaml'])
      execFileSync(kubectlPath(), ['--kubeconfig', fx.cp.kubeconfig, 'apply', '-f', join(ROOT, file)], { stdio: 'pipe' });
    const token = await clusterRoleToken(fx.client, { namespace: 'analysts', account: 'alice', clusterRole: 'netpol-reader' });
    // The pod proxy right, in netpol-system only (as deploy/rbac-drops-reader.yaml's example binding does for a group).
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'alice-drops', namespace: AGENT_NAMESPACE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'netpol-drops-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'alice', namespace: 'analysts' }],
    };
    await fx.k(['apply', '-f', '-'], JSON.stringify(binding));
    const kubeconfig = join(fx.dir, 'alice.kubeconfig');
    await fx.cp.writeTokenKubeconfig(kubeconfig, token, 'alice');
    alice = new KubeClient(await loadKubeConfig({ kubeconfig }));
  });

  after(async () => {
    await agent?.close();
  });

  test('the running agent pods are found and read through the API server with the reader role', async () => {
    agent.push(kernelLine('deny', WEB_IN, '10.1.0.2', '10.1.0.1', 40000, 8080));
    const targets = await discoverAgents(alice);
    assert.deepEqual(
      targets.map((t) => t.name),
      [`pod ${AGENT_NAMESPACE}/netpol-agent-n1`],
    );
    const answer = JSON.parse(await targets[0]!.read(0, AbortSignal.timeout(10_000))) as { node: string; events: { destination: { pod?: string } }[] };
    assert.equal(answer.node, 'n1');
    assert.deepEqual(
      answer.events.map((e) => e.destination.pod),
      ['shop/web'],
    );
  });

  test('serve following the cluster shows the drops of the discovered agents on its pods', async () => {
    let server: RunningServer | undefined;
    try {
      // The cluster is followed with the admin's account (following it is not what this test is about).
      server = await startServer({
        source: liveSource(fx.client, { namespace: 'shop', description: 'test' }),
        port: 0,
        assetsDir: fx.dir,
        defaultNamespace: 'shop',
        drops: { discover: () => discoverAgents(alice), poller: { intervalMs: 100, discoverEveryMs: 200 } },
      });
      agent.push(kernelLine('deny', WEB_IN, '10.1.0.3', '10.1.0.1', 40001, 9090));
      const view = await until('the drops arrived through the pod proxy', async () => {
        const v = (await (await fetch(`${server!.url}api/v1/drops`)).json()) as DropsView;
        return v.kept >= 2 ? v : undefined;
      });
      assert.deepEqual(
        view.agents.map((a) => [a.name, a.node, a.state]),
        [[`pod ${AGENT_NAMESPACE}/netpol-agent-n1`, 'n1', 'ok']],
      );
      assert.deepEqual(view.pairs.map((p) => `${p.from.kind}:${p.from.name} > ${p.to.kind}:${p.to.name} ${p.protocol}/${p.port}`).sort(), [
        'pod:shop/api > pod:shop/web TCP/9090',
        'pod:shop/probe > pod:shop/web TCP/8080',
      ]);

      // A second agent pod starts running: it is read too; deleted: it is dropped from the list.
      const names = async () => ((await (await fetch(`${server!.url}api/v1/drops`)).json()) as DropsView).agents.map((a) => `${a.name} ${a.state}`);
      await fx.k([
        'patch',
        'pod',
        'netpol-agent-n2',
        '-n',
        AGENT_NAMESPACE,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: { phase: 'Running', podIP: address, podIPs: [{ ip: address }] } }),
      ]);
      await until('the new agent pod is read', async () => ((await names()).includes(`pod ${AGENT_NAMESPACE}/netpol-agent-n2 ok`) ? true : undefined));
      await fx.k(['delete', 'pod', 'netpol-agent-n2', '-n', AGENT_NAMESPACE, '--grace-period=0', '--force']);
      await until('the deleted agent pod is gone', async () => ((await names()).join() === `pod ${AGENT_NAMESPACE}/netpol-agent-n1 ok` ? true : undefined));
    } finally {
      await server?.close();
    }
  });

  test('the pod proxy right holds in netpol-system only: the reader roles reach no other pod through it', async () => {
    const PROXY = { prefix: '/api/v1', plural: 'pods', namespaced: true };
    await assert.rejects(
      alice.request('GET', `${resourcePath(PROXY, 'shop', 'web')}:80/proxy/`, { verb: 'get', resource: PROXY, namespace: 'shop', name: 'web' }),
      /cannot get .*pods\/proxy|forbidden/,
    );
  });

  test('without pods/proxy the agent is shown as refused, not read', async () => {
    const token = await grantAndToken(fx.client, { namespace: AGENT_NAMESPACE, account: 'bob', rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] });
    const kubeconfig = join(fx.dir, 'bob.kubeconfig');
    await fx.cp.writeTokenKubeconfig(kubeconfig, token, 'bob');
    const bob = new KubeClient(await loadKubeConfig({ kubeconfig }));
    const [target] = await discoverAgents(bob);
    await assert.rejects(
      target!.read(0, AbortSignal.timeout(10_000)),
      /the API server answered 403: pods "netpol-agent-n1:\d+" is forbidden: User "system:serviceaccount:netpol-system:bob" cannot get resource "pods\/proxy"/,
    );
  });
});
