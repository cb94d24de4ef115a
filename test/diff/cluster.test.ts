/**
 * `netpol diff cluster FILES` against a real kube-apiserver and etcd: the manifests are applied on top of
 * the live cluster (as `--overlay`), so the diff answers "what will applying them do", with causes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlPlaneUnavailable, startControlPlane, type ControlPlane } from '../../src/controlplane/index.js';
import { applyCluster, clearCluster, KubeClient, loadKubeConfig } from '../../src/kube/index.js';
import { loadCluster } from '../../src/load/index.js';
import { readSources } from '../../src/load/sources.js';
import { netpol } from '../netpol.js';

process.chdir(fileURLToPath(new URL('../..', import.meta.url)));

const skip = controlPlaneUnavailable();
if (skip) console.log(`# skipped: diff against a live cluster needs a control plane: ${skip}`);

describe('netpol diff against a live cluster', { skip }, () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let tmp: string;
  before(async () => {
    cp = await startControlPlane();
    client = new KubeClient(loadKubeConfig({ kubeconfig: cp.kubeconfig }));
    tmp = await mkdtemp(join(tmpdir(), 'netpol-diff-kube-'));
  });
  after(async () => {
    await cp?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test('cluster vs a policy file: the file applied on the cluster, pairs and causes', async () => {
    const { sources } = await readSources(['examples/three-tier'], { recursive: false });
    await clearCluster(client, ['three-tier']);
    await applyCluster(client, loadCluster(sources).cluster);
    // The pull request: web may also reach the db on 3306 (a new policy pair, policies only).
    const pr = join(tmp, 'web-to-db.yaml');
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
    const r = await netpol(['diff', 'cluster', pr, '--kubeconfig', cp.kubeconfig, '-n', 'three-tier', '--port', '3306', '-o', 'json']);
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual([j.podsOnlyBefore, j.podsOnlyAfter], [[], []], 'the file side is the cluster with the file applied');
    const [probe] = j.probes;
    assert.deepEqual(probe.added.map((p: { from: string; to: string }) => `${p.from}>${p.to}`), ['three-tier/web>three-tier/db']);
    const causes = probe.added[0].causes.map((c: { policy: string; change: string; direction: string }) => `${c.policy} ${c.change} ${c.direction}`).sort();
    assert.deepEqual(causes, ['three-tier/db-from-web added ingress', 'three-tier/web-to-db added egress']);
    const same = await netpol(['diff', 'cluster', 'examples/three-tier', '--kubeconfig', cp.kubeconfig, '-n', 'three-tier']);
    assert.equal(same.code, 0, `${same.stdout}${same.stderr}`);
    await clearCluster(client, ['three-tier']);
  });
});
