/**
 * `netpol agent` in cluster mode, from the command line: usage errors are exit 2 with a message, and an
 * agent watching a real API server (`--kubeconfig`, `--once`) applies the cluster's rules to a network
 * namespace (`--netns`). The second part needs root, nft and the control plane; skipped otherwise.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { netpol } from '../netpol.js';
import { controlPlaneSkip, createPod, useControlPlane } from '../kube/helpers.js';

test('agent usage errors: no node, files and cluster together, a bad --listen', async () => {
  const saved = process.env.NODE_NAME;
  delete process.env.NODE_NAME;
  try {
    const none = await netpol(['agent', '--kubeconfig', '/nonexistent']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--node NAME or NODE_NAME/);
  } finally {
    if (saved !== undefined) process.env.NODE_NAME = saved;
  }
  const both = await netpol(['agent', '--node', 'n', '-f', 'examples/three-tier', '--kubeconfig', 'k']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /either -f manifests or the cluster/);
  const listen = await netpol(['agent', '--node', 'n', '-f', 'examples/three-tier', '--listen', 'nowhere']);
  assert.equal(listen.code, 2);
  assert.match(listen.stderr, /--listen nowhere: want HOST:PORT/);
  const missing = await netpol(['agent', '--node', 'n', '--kubeconfig', '/nonexistent/kubeconfig', '--once']);
  assert.equal(missing.code, 2);
  assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace');
});

const root = process.getuid?.() === 0 && !spawnSync('nft', ['--version']).error;
const skip = !root ? 'needs root and nft' : controlPlaneSkip();

describe('netpol agent --kubeconfig --once --netns', { skip }, () => {
  const fx = useControlPlane();
  const ns = `netpol-test-cli-${process.pid}`;
  before(() => {
    execFileSync('ip', ['netns', 'add', ns]);
  });
  after(() => {
    spawnSync('ip', ['netns', 'delete', ns]);
  });

  test("applies the API server's cluster to the namespace and exits 0", async () => {
    const k = fx.k;
    await k(['create', 'namespace', 'web']);
    await createPod(k, 'web', 'front', { app: 'front' }, 'node-a', '10.9.0.1');
    await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny', namespace: 'web' }, spec: { podSelector: {} } }));
    const r = await netpol(['agent', '--node', 'node-a', '--kubeconfig', fx.cp.kubeconfig, '--netns', ns, '--once', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; localPods?: number; isolatedPods?: number });
    assert.deepEqual(
      events.filter((e) => e.kind === 'applied').map((e) => [e.localPods, e.isolatedPods]),
      [[1, 1]],
    );
    const table = execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'netpol'], { encoding: 'utf8' });
    assert.match(table, /10\.9\.0\.1 : jump ingress_web\/deny/);
  });
});
