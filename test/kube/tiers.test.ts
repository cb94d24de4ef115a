/**
 * Cluster-scoped policies read from a live cluster: a real kube-apiserver (src/controlplane) with the
 * network-policy-api CRDs, the admin-guardrails example applied with kubectl; `netpol matrix -A
 * --kubeconfig` must give the matrix of the example's files, and `check` must name the same deciding
 * rule. Skips, saying why, where no control plane can start.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { netpol } from '../netpol.js';
import { controlPlaneSkip, kubectlRun, useControlPlane } from './helpers.js';

process.chdir(fileURLToPath(new URL('../..', import.meta.url)));
const skip = controlPlaneSkip();
const EX = 'examples/admin-guardrails';

describe('cluster-scoped policies from a live cluster', { skip }, () => {
  const fx = useControlPlane();
  before(async () => {
    for (const args of [
      ['apply', '-f', 'test/apiserver/crds'],
      ['wait', '--for', 'condition=Established', '--timeout', '60s', 'crd', '--all'],
      ['apply', '-f', `${EX}/workloads.yaml`],
      ['apply', '-f', `${EX}/admin-policies.yaml`, '-f', `${EX}/tenant-a-policies.yaml`],
    ]) {
      const r = await kubectlRun(fx.cp.kubeconfig, args);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    }
  });

  test('matrix -A --kubeconfig equals the matrix of the files', async () => {
    const probes = ['--port', '5432', '--port', 'metrics', '--port', '80'];
    const live = await netpol(['matrix', '-A', '--kubeconfig', fx.cp.kubeconfig, ...probes, '-o', 'json']);
    assert.equal(live.code, 0, live.stderr);
    const files = await netpol(['matrix', '-f', EX, ...probes, '-o', 'json']);
    assert.equal(files.code, 0, files.stderr);
    assert.deepEqual(JSON.parse(live.stdout), JSON.parse(files.stdout));
  });

  test('check --kubeconfig names the deciding admin rule', async () => {
    const r = await netpol(['check', '--kubeconfig', fx.cp.kubeconfig, '--from', 'tenant-b/web', '--to', 'tenant-a/web', '--port', '80']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /DENIED by ClusterNetworkPolicy\/tenant-a \(admin tier, priority 20\) rule ingress\[1\] "no-other-tenant": Deny/);
  });
});
