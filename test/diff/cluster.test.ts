/**
 * `netpol diff cluster FILES` against a real kube-apiserver and etcd: the manifests are applied on top of
 * the live cluster (as `--overlay`), so the diff answers "what will applying them do", with causes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyCluster, clearCluster } from '../../src/kube/index.js';
import { loadCluster } from '../../src/load/index.js';
import { readSources } from '../../src/load/sources.js';
import { netpol } from '../netpol.js';
import { controlPlaneSkip, useControlPlane } from '../kube/helpers.js';

process.chdir(fileURLToPath(new URL('../..', import.meta.url)));

const skip = controlPlaneSkip();

describe('netpol diff against a live cluster', { skip }, () => {
  const fx = useControlPlane();

  test('cluster vs a policy file: the file applied on the cluster, pairs and causes', async () => {
    const { sources } = await readSources(['examples/three-tier'], { recursive: false });
    await clearCluster(fx.client, ['three-tier']);
    await applyCluster(fx.client, loadCluster(sources).cluster);
    // The pull request: web may also reach the db on 3306 (a new policy pair, policies only).
    const pr = join(fx.dir, 'web-to-db.yaml');
    await writeFile(
      pr,
      `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: three-tier}
spec:
  podSelector: {matchLabels: {role: db}}
  ingress: [{from: [{podSelector: {matchLabels: {role: web}}}], ports: [{port: 3306}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-to-db, namespace: three-tier}
spec:
  podSelector: {matchLabels: {role: web}}
  policyTypes: [Egress]
  egress: [{to: [{podSelector: {matchLabels: {role: db}}}], ports: [{port: 3306}]}]
`,
    );
    const r = await netpol(['diff', 'cluster', pr, '--kubeconfig', fx.cp.kubeconfig, '-n', 'three-tier', '--port', '3306', '-o', 'json']);
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual([j.podsOnlyBefore, j.podsOnlyAfter], [[], []], 'the file side is the cluster with the file applied');
    const [probe] = j.probes;
    assert.deepEqual(
      probe.added.map((p: { from: string; to: string }) => `${p.from}>${p.to}`),
      ['three-tier/web>three-tier/db'],
    );
    const causes = probe.added[0].causes.map((c: { policy: string; change: string; direction: string }) => `${c.policy} ${c.change} ${c.direction}`).sort();
    assert.deepEqual(causes, ['three-tier/db-from-web added ingress', 'three-tier/web-to-db added egress']);
    const same = await netpol(['diff', 'cluster', 'examples/three-tier', '--kubeconfig', fx.cp.kubeconfig, '-n', 'three-tier']);
    assert.equal(same.code, 0, `${same.stdout}${same.stderr}`);
    await clearCluster(fx.client, ['three-tier']);
  });
});
