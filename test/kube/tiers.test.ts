/**
 * Cluster-scoped policies read from a live cluster: a real kube-apiserver (src/controlplane) with the
 * network-policy-api CRDs, the admin-guardrails example applied with kubectl; `netpol matrix -A
 * --kubeconfig` must give the matrix of the example's files, and `check` must name the same deciding
 * rule. Skips, saying why, where no control plane can start.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { controlPlaneUnavailable, kubectlPath, startControlPlane, type ControlPlane } from '../../src/controlplane/index.js';
import { netpol } from '../netpol.js';

process.chdir(fileURLToPath(new URL('../..', import.meta.url)));
const skip = controlPlaneUnavailable();
if (skip) console.log(`# skipped: live-cluster tests need a control plane: ${skip}`);
const EX = 'examples/admin-guardrails';

function kubectl(cp: ControlPlane, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectlPath(), ['--kubeconfig', cp.kubeconfig, ...args], { timeout: 60_000 }, (err, _stdout, stderr) => resolve({ code: err ? 1 : 0, stderr }));
  });
}

describe('cluster-scoped policies from a live cluster', { skip }, () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
    for (const args of [
      ['apply', '-f', 'test/apiserver/crds'],
      ['wait', '--for', 'condition=Established', '--timeout', '60s', 'crd', '--all'],
      ['apply', '-f', `${EX}/workloads.yaml`],
      ['apply', '-f', `${EX}/admin-policies.yaml`, '-f', `${EX}/tenant-a-policies.yaml`],
    ]) {
      const r = await kubectl(cp, args);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    }
  });
  after(async () => {
    await cp?.stop();
  });

  test('matrix -A --kubeconfig equals the matrix of the files', async () => {
    const probes = ['--port', '5432', '--port', 'metrics', '--port', '80'];
    const live = await netpol(['matrix', '-A', '--kubeconfig', cp.kubeconfig, ...probes, '-o', 'json']);
    assert.equal(live.code, 0, live.stderr);
    const files = await netpol(['matrix', '-f', EX, ...probes, '-o', 'json']);
    assert.equal(files.code, 0, files.stderr);
    assert.deepEqual(JSON.parse(live.stdout), JSON.parse(files.stdout));
  });

  test('check --kubeconfig names the deciding admin rule', async () => {
    const r = await netpol(['check', '--kubeconfig', cp.kubeconfig, '--from', 'tenant-b/web', '--to', 'tenant-a/web', '--port', '80']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /DENIED by ClusterNetworkPolicy\/tenant-a \(admin tier, priority 20\) rule ingress\[1\] "no-other-tenant": Deny/);
  });
});
