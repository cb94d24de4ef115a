import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManifestReader } from './source.js';

const DENY_ALL = `apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: deny-all}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]
`;
const NODE = `apiVersion: v1
kind: Node
metadata: {name: n1, labels: {role: control}}
status: {addresses: [{type: InternalIP, address: 10.9.0.1}]}
`;

test('ManifestReader: cluster-scoped policies and Nodes reach the compiler; an invalid one keeps its last valid version', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpol-agent-'));
  try {
    writeFileSync(join(dir, 'a.yaml'), DENY_ALL);
    writeFileSync(join(dir, 'n.yaml'), NODE);
    const reader = new ManifestReader({ paths: [dir], recursive: false });
    const first = await reader.read();
    assert.deepEqual(
      first.diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    assert.deepEqual(
      first.cluster.clusterPolicies?.map((p) => `${p.kind}/${p.name}`),
      ['ClusterNetworkPolicy/deny-all'],
    );
    assert.deepEqual(
      first.cluster.nodes?.map((n) => [n.name, n.addresses]),
      [['n1', ['10.9.0.1']]],
    );
    // Unchanged input: the same objects (the compiler compares them by identity).
    const again = await reader.read();
    assert.equal(again.cluster.clusterPolicies?.[0], first.cluster.clusterPolicies?.[0]);

    // Priority out of range: the API server would refuse it, so the last valid version stays enforced.
    writeFileSync(join(dir, 'a.yaml'), DENY_ALL.replace('priority: 1', 'priority: 5000'));
    const edited = await reader.read();
    const errors = edited.diagnostics.filter((d) => d.severity === 'error');
    assert.ok(
      errors.some((d) => d.code === 'KeptLastValid' && d.object === 'ClusterNetworkPolicy deny-all' && d.line === 1),
      JSON.stringify(errors),
    );
    assert.equal(edited.cluster.clusterPolicies?.[0], first.cluster.clusterPolicies?.[0]);

    // Never valid: left out, and said so.
    writeFileSync(join(dir, 'b.yaml'), DENY_ALL.replace('deny-all', 'other').replace('priority: 1', 'priority: -3'));
    const more = await reader.read();
    assert.ok(more.diagnostics.some((d) => d.code === 'SkippedInvalid' && d.object === 'ClusterNetworkPolicy other'));
    assert.deepEqual(
      more.cluster.clusterPolicies?.map((p) => p.name),
      ['deny-all'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ManifestReader: input without cluster-scoped policies looks as it always did', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpol-agent-'));
  try {
    writeFileSync(join(dir, 'p.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {nodeName: n1}\nstatus: {podIP: 10.0.0.1}\n');
    const s = await new ManifestReader({ paths: [dir], recursive: false }).read();
    assert.equal(s.cluster.clusterPolicies, undefined);
    assert.equal(s.cluster.nodes, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
