/**
 * List + watch against a real kube-apiserver: `netpol watch` reports a label change and a policy
 * created and deleted, each with the pairs it changed, and so for an AdminNetworkPolicy (the
 * network-policy-api CRDs installed); an account that may not list the cluster-scoped kinds is warned
 * and watches the rest. KubeClusterSource delivers whole snapshots only after the first complete list,
 * one per change, and carries on after the API server restarts.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyCluster, createPolicy, KubeClusterSource, NETWORK_POLICIES, PODS, resourcePath } from '../../src/kube/index.js';
import type { ClusterSnapshot } from '../../src/agent/source.js';
import { loadCluster } from '../../src/load/index.js';
import { readSources } from '../../src/load/sources.js';
import { startNetpol } from '../netpol.js';
import { policy } from '../builders.js';
import { join } from 'node:path';
import { clusterRoleToken, controlPlaneSkip, kubectlRun, useControlPlane } from './helpers.js';

const skip = controlPlaneSkip();

describe('watching a live cluster', { skip }, () => {
  const fx = useControlPlane();
  before(async () => {
    const { sources } = await readSources(['examples/three-tier'], { recursive: false });
    await applyCluster(fx.client, loadCluster(sources).cluster);
  });
  test('netpol watch reports a label change and a policy created and deleted', async () => {
    const watching = startNetpol(['watch', '--kubeconfig', fx.cp.kubeconfig, '-n', 'three-tier', '--port', '5000', '-o', 'json']);
    const out = watching.stdout;
    let exit: Promise<number> | undefined;
    try {
      const synced = JSON.parse(await out.next((l) => l.includes('"synced"'), 'the first list')) as { synced: { pods: number; policies: number; probes: { allowedPairs: number }[] } };
      assert.equal(synced.synced.pods, 3);
      assert.equal(synced.synced.policies, 3);
      assert.equal(synced.synced.probes[0]?.allowedPairs, 1, 'web -> api on 5000');

      // web loses its role label: its policy no longer selects it, and api no longer admits it.
      await fx.client.request('PATCH', resourcePath(PODS, 'three-tier', 'web'), { verb: 'patch', resource: PODS }, { metadata: { labels: { role: null } } }, 'application/merge-patch+json');
      const relabel = JSON.parse(await out.next((l) => l.includes('"Pod three-tier/web"'), 'the label change')) as Change;
      assert.equal(relabel.action, 'changed');
      assert.deepEqual(relabel.fields, ['labels']);
      assert.deepEqual(relabel.probes[0]?.removed, [['three-tier/web', 'three-tier/api']]);
      assert.equal(relabel.probes[0]?.allowedPairs, 0);

      // A policy letting anything in the namespace reach api on 5000.
      await createPolicy(fx.client, policy('three-tier/api-open', { podSelector: { matchLabels: { role: 'api' } }, ingress: [{ from: [{ podSelector: {} }] }] }));
      const created = JSON.parse(await out.next((l) => l.includes('"NetworkPolicy three-tier/api-open"'), 'the policy creation')) as Change;
      assert.equal(created.action, 'created');
      // Only web may still send anywhere (db and api are egress-isolated to other ports).
      assert.deepEqual(created.probes[0]?.added, [['three-tier/web', 'three-tier/api']]);

      await fx.client.request('DELETE', resourcePath(NETWORK_POLICIES, 'three-tier', 'api-open'), { verb: 'delete', resource: NETWORK_POLICIES });
      const deleted = JSON.parse(await out.next((l) => l.includes('"NetworkPolicy three-tier/api-open"') && l.includes('"deleted"'), 'the policy deletion')) as Change;
      assert.deepEqual(deleted.probes[0]?.removed, [['three-tier/web', 'three-tier/api']]);
    } finally {
      exit = watching.stop();
    }
    assert.equal(await exit, 0, watching.stderr.toString());
  });

  test('netpol watch follows AdminNetworkPolicies: created and deleted, with the pairs they change; without the right to list them, a warning', async () => {
    for (const args of [
      ['apply', '-f', 'test/apiserver/crds'],
      ['wait', '--for', 'condition=Established', '--timeout', '60s', 'crd', '--all'],
    ]) {
      const r = await kubectlRun(fx.cp.kubeconfig, args);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    }
    const tiers = { name: 'tiers', labels: {}, implicit: false };
    const pods = ['a', 'b'].map((name, i) => ({ namespace: 'tiers', name, labels: { app: name }, ips: [`10.9.1.${i + 1}`], ports: [] }));
    await applyCluster(fx.client, { namespaces: new Map([['tiers', tiers]]), pods, policies: [] });
    const watching = startNetpol(['watch', '--kubeconfig', fx.cp.kubeconfig, '-n', 'tiers', '-o', 'json']);
    const out = watching.stdout;
    let exit: Promise<number> | undefined;
    const closed = {
      apiVersion: 'policy.networking.k8s.io/v1alpha1',
      kind: 'AdminNetworkPolicy',
      metadata: { name: 'b-closed' },
      spec: { priority: 1, subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'b' } } } }, ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }] },
    };
    try {
      const synced = JSON.parse(
        await out.next((l) => l.includes('"synced"'), 'the first list').catch((e: Error) => Promise.reject(new Error(`${e.message}\nstderr: ${watching.stderr.toString()}`))),
      ) as { synced: { pods: number; clusterPolicies: number; probes: { allowedPairs: number }[] } };
      assert.deepEqual([synced.synced.pods, synced.synced.clusterPolicies, synced.synced.probes[0]?.allowedPairs], [2, 0, 2]);
      const created = await kubectlRun(fx.cp.kubeconfig, ['apply', '-f', '-'], JSON.stringify(closed));
      assert.equal(created.code, 0, created.stderr);
      const denied = JSON.parse(await out.next((l) => l.includes('"AdminNetworkPolicy b-closed"'), 'the policy creation')) as Change;
      assert.equal(denied.action, 'created');
      assert.deepEqual(denied.probes[0]?.removed, [['tiers/a', 'tiers/b']]);
      assert.equal(denied.probes[0]?.allowedPairs, 1);
      const deleted = await kubectlRun(fx.cp.kubeconfig, ['delete', 'adminnetworkpolicy', 'b-closed']);
      assert.equal(deleted.code, 0, deleted.stderr);
      const reopened = JSON.parse(await out.next((l) => l.includes('"AdminNetworkPolicy b-closed"') && l.includes('"deleted"'), 'the policy deletion')) as Change;
      assert.deepEqual(reopened.probes[0]?.added, [['tiers/a', 'tiers/b']]);
    } finally {
      exit = watching.stop();
    }
    assert.equal(await exit, 0, watching.stderr.toString());

    // An account that may read Namespaces, Pods and NetworkPolicies only: warned, and watching.
    const role = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'namespaced-kinds' },
      rules: [
        { apiGroups: [''], resources: ['namespaces', 'pods'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch'] },
      ],
    };
    const granted = await kubectlRun(fx.cp.kubeconfig, ['apply', '-f', '-'], JSON.stringify(role));
    assert.equal(granted.code, 0, granted.stderr);
    const token = await clusterRoleToken(fx.client, { namespace: 'tiers', account: 'watcher', clusterRole: 'namespaced-kinds' });
    const kubeconfig = join(fx.dir, 'watcher.kubeconfig');
    await fx.cp.writeTokenKubeconfig(kubeconfig, token, 'watcher');
    const limited = startNetpol(['watch', '--kubeconfig', kubeconfig, '-n', 'tiers']);
    let first: string;
    try {
      first = await limited.stdout.next((l) => l.startsWith('watching'), 'the first list').catch((e: Error) => Promise.reject(new Error(`${e.message}\nstderr: ${limited.stderr.toString()}`)));
    } finally {
      exit = limited.stop();
    }
    assert.equal(await exit, 0, limited.stderr.toString());
    assert.match(first, /^watching 2 pods and 0 NetworkPolicies in namespace tiers \(TCP\/80: 2 allowed pairs\)/);
    const warnings = limited.stderr.toString();
    for (const resource of ['adminnetworkpolicies', 'baselineadminnetworkpolicies', 'clusternetworkpolicies'])
      assert.match(warnings, new RegExp(`Warning: your account cannot list ${resource}: they are left out of the analysis`));
    assert.match(warnings, /Warning: your account cannot list nodes: node addresses \(for nodes peers\) are left out of the analysis/);
  });

  test('KubeClusterSource: a first whole snapshot, one per change, and it carries on after an API server restart', async () => {
    const snapshots: ClusterSnapshot[] = [];
    let waiting: (() => void) | undefined;
    const errors: string[] = [];
    const source = new KubeClusterSource(fx.client, { onError: (kind, e) => errors.push(`${kind}: ${e.message}`) });
    await source.start((s) => {
      snapshots.push(s);
      waiting?.();
    });
    await source.firstSnapshot();
    const until = async (test: (s: ClusterSnapshot) => boolean, what: string): Promise<ClusterSnapshot> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const found = snapshots.find(test);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no snapshot with ${what}; errors: ${errors.join('; ')}`);
        await new Promise<void>((r) => {
          waiting = r;
          setTimeout(r, 200);
        });
      }
    };
    try {
      assert.equal(snapshots.length, 1, 'firstSnapshot resolves after the first snapshot');
      const first = snapshots[0]!;
      assert.equal(first.cluster.pods.filter((p) => p.namespace === 'three-tier').length, 3);
      assert.ok(first.cluster.policies.length >= 3);
      assert.equal(first.cluster.namespaces.get('three-tier')?.labels['kubernetes.io/metadata.name'], 'three-tier');

      await fx.client.request('PATCH', resourcePath(PODS, 'three-tier', 'db'), { verb: 'patch', resource: PODS }, { metadata: { labels: { extra: 'yes' } } }, 'application/merge-patch+json');
      const relabelled = await until((s) => s.cluster.pods.some((p) => p.name === 'db' && p.labels.extra === 'yes'), 'the new label');
      // Unchanged objects keep their identity across snapshots.
      assert.equal(
        relabelled.cluster.pods.find((p) => p.name === 'api'),
        first.cluster.pods.find((p) => p.name === 'api'),
      );

      await fx.cp.restartApiServer();
      await fx.client.request('PATCH', resourcePath(PODS, 'three-tier', 'db'), { verb: 'patch', resource: PODS }, { metadata: { labels: { extra: 'after-restart' } } }, 'application/merge-patch+json');
      await until((s) => s.cluster.pods.some((p) => p.name === 'db' && p.labels.extra === 'after-restart'), 'the label set after the restart');
      const generations = snapshots.map((s) => s.generation);
      assert.deepEqual(
        generations,
        [...generations].sort((a, b) => a - b),
      );
      assert.ok(
        snapshots.every((s) => s.cluster.pods.filter((p) => p.namespace === 'three-tier').length === 3),
        'never a partial list',
      );
    } finally {
      await source.stop();
    }
  });
});

interface Change {
  object: string;
  action: string;
  fields: string[];
  probes: { added: [string, string][]; removed: [string, string][]; allowedPairs: number }[];
}

describe('a watch whose resourceVersion is compacted away (410 Gone)', { skip }, () => {
  // No watch cache (watches go to etcd) and compaction every second: old versions vanish quickly.
  const fx = useControlPlane({ apiServerArgs: ['--watch-cache=false', '--etcd-compaction-interval=1s'] });

  test('the informer lists again after 410 Gone and carries on: nothing is lost', async () => {
    const quiet = { name: 'quiet', labels: {}, implicit: false };
    const busy = { name: 'busy', labels: {}, implicit: false };
    await applyCluster(fx.client, {
      namespaces: new Map([
        ['quiet', quiet],
        ['busy', busy],
      ]),
      pods: [{ namespace: 'quiet', name: 'a', labels: {}, ips: ['10.9.0.1'], ports: [] }],
      policies: [],
    });
    const restarts: string[] = [];
    const snapshots: ClusterSnapshot[] = [];
    // Watches of one second, resumed from the last version seen; nothing happens in `quiet`, so its
    // pod watch resumes from an ever older version until etcd has compacted it.
    const source = new KubeClusterSource(fx.client, { namespace: 'quiet', watchTimeoutSeconds: 1, onWatchRestart: (kind, reason) => restarts.push(`${kind} ${reason}`) });
    await source.start((s) => {
      snapshots.push(s);
    });
    try {
      for (let i = 0; i < 8 && !restarts.some((r) => r.endsWith('gone')); i++) {
        await applyCluster(fx.client, { namespaces: new Map(), pods: [{ namespace: 'busy', name: `b${i}`, labels: {}, ips: [], ports: [] }], policies: [] });
        await new Promise((r) => setTimeout(r, 1000));
      }
      assert.ok(
        restarts.some((r) => r.endsWith('gone')),
        `a 410 Gone was met: ${restarts.join(', ')}`,
      );
      await applyCluster(fx.client, { namespaces: new Map(), pods: [{ namespace: 'quiet', name: 'late', labels: {}, ips: ['10.9.0.2'], ports: [] }], policies: [] });
      const deadline = Date.now() + 15_000;
      while (!snapshots.at(-1)?.cluster.pods.some((p) => p.name === 'late') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(
        snapshots
          .at(-1)
          ?.cluster.pods.map((p) => p.name)
          .sort(),
        ['a', 'late'],
      );
    } finally {
      await source.stop();
    }
  });
});
