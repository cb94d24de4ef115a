import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManifestReader } from './source.js';

test('ManifestReader: cluster-scoped policies are reported as not enforced, never silently left out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpol-agent-'));
  try {
    writeFileSync(
      join(dir, 'a.yaml'),
      `apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: deny-all}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]
`,
    );
    const s = await new ManifestReader({ paths: [dir], recursive: false }).read();
    const errors = s.diagnostics.filter((d) => d.severity === 'error');
    assert.deepEqual(errors.map((d) => [d.code, d.object, d.line]), [['NotEnforced', 'ClusterNetworkPolicy deny-all', 1]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
