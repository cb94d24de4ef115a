import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileClusterSource, ManifestReader, type ClusterSnapshot } from './source.js';

const policy = (name: string, body: string) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ${name}, namespace: app}
spec:
${body}
`;
const DENY = policy('deny', '  podSelector: {}\n  policyTypes: [Ingress]');
const ALLOW_80 = policy('allow', '  podSelector: {}\n  ingress:\n  - ports: [{port: 80}]');
const ALLOW_BAD = policy('allow', '  podSelector: {}\n  ingress:\n  - ports: [{port: 80, endPort: 10}]');

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netpol-agent-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const names = (s: ClusterSnapshot) => s.cluster.policies.map((p) => p.name).sort();
const codes = (s: ClusterSnapshot) => s.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);

describe('ManifestReader: a bad edit never takes down enforcement of what was valid', () => {
  test(
    'a policy that becomes invalid keeps its last valid version, loudly',
    withDir(async (dir) => {
      writeFileSync(join(dir, 'a.yaml'), `${DENY}---\n${ALLOW_80}`);
      const reader = new ManifestReader({ paths: [dir], recursive: false });
      assert.deepEqual(names(await reader.read()), ['allow', 'deny']);
      writeFileSync(join(dir, 'a.yaml'), `${DENY}---\n${ALLOW_BAD}`);
      const s = await reader.read();
      assert.deepEqual(names(s), ['allow', 'deny']);
      assert.ok(codes(s).includes('KeptLastValid'));
      const kept = s.cluster.policies.find((p) => p.name === 'allow');
      assert.equal(kept?.policy.spec.ingress?.[0]?.ports?.[0]?.endPort, undefined, 'the last valid version, not the new one');
    }),
  );

  test(
    'a policy that was never valid is left out, as the API server would refuse it',
    withDir(async (dir) => {
      writeFileSync(join(dir, 'a.yaml'), `${DENY}---\n${ALLOW_BAD}`);
      const s = await new ManifestReader({ paths: [dir], recursive: false }).read();
      assert.deepEqual(names(s), ['deny']);
      assert.ok(codes(s).includes('SkippedInvalid'));
    }),
  );

  test(
    'a file that stops parsing keeps its last good content',
    withDir(async (dir) => {
      writeFileSync(join(dir, 'a.yaml'), DENY);
      const reader = new ManifestReader({ paths: [dir], recursive: false });
      assert.deepEqual(names(await reader.read()), ['deny']);
      writeFileSync(join(dir, 'a.yaml'), `${DENY}\n  : [unbalanced`);
      const s = await reader.read();
      assert.deepEqual(names(s), ['deny']);
      assert.ok(codes(s).includes('KeptLastGood'));
      writeFileSync(join(dir, 'a.yaml'), ALLOW_80);
      assert.deepEqual(names(await reader.read()), ['allow'], 'once fixed, the new content counts');
    }),
  );
});

test(
  'FileClusterSource delivers a snapshot at start and one after a change',
  withDir(async (dir) => {
    writeFileSync(join(dir, 'a.yaml'), DENY);
    const seen: string[][] = [];
    let changed: () => void = () => {};
    const next = new Promise<void>((r) => (changed = r));
    const source = new FileClusterSource({ paths: [dir], recursive: false, debounceMs: 5 });
    await source.start((s) => {
      seen.push(names(s));
      if (seen.length === 2) changed();
    });
    try {
      writeFileSync(join(dir, 'b.yaml'), ALLOW_80);
      await Promise.race([next, new Promise((_, reject) => setTimeout(() => reject(new Error('no snapshot after the change within 5 s')), 5000))]);
      assert.deepEqual(seen[0], ['deny']);
      assert.deepEqual(seen[1], ['allow', 'deny']);
    } finally {
      await source.stop();
    }
  }),
);

describe('ManifestReader keeps the objects of what did not change', () => {
  const pod = (name: string, app: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: app, labels: {app: ${app}}}
spec: {nodeName: n1, containers: [{name: c, image: i}]}
status: {podIP: 10.0.0.${name.charCodeAt(0)}}
`;
  const ns = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n';

  test(
    'nothing changed: the same cluster; one pod edited: a new object for it alone, the rest as before',
    withDir(async (dir) => {
      writeFileSync(join(dir, 'ns.yaml'), ns);
      writeFileSync(join(dir, 'pods.yaml'), [pod('a', 'web'), pod('b', 'web'), pod('c', 'db')].join('---\n'));
      writeFileSync(join(dir, 'policies.yaml'), `${DENY}---\n${ALLOW_80}`);
      const reader = new ManifestReader({ paths: [dir], recursive: false });
      const s1 = await reader.read();
      const s2 = await reader.read();
      assert.equal(s2.cluster, s1.cluster);
      assert.ok(s2.generation > s1.generation);

      writeFileSync(join(dir, 'pods.yaml'), [pod('a', 'web'), pod('b', 'api'), pod('c', 'db')].join('---\n'));
      const s3 = await reader.read();
      const [a1, b1, c1] = s1.cluster.pods;
      const [a3, b3, c3] = s3.cluster.pods;
      assert.equal(a3, a1);
      assert.equal(c3, c1);
      assert.notEqual(b3, b1);
      assert.deepEqual(b3?.labels, { app: 'api' });
      assert.equal(s3.cluster.policies, s1.cluster.policies, 'another file: the same list');
      assert.equal(s3.cluster.namespaces, s1.cluster.namespaces);

      // The policies rewritten with the same content: the same objects and list.
      writeFileSync(join(dir, 'policies.yaml'), `${DENY}---\n${ALLOW_80}`.replace('metadata: {name: deny, namespace: app}', 'metadata: {namespace: app, name: deny}'));
      const s4 = await reader.read();
      assert.equal(s4.cluster.policies, s1.cluster.policies);
      // Moved within its file: a new object (its position is part of it), equal otherwise.
      writeFileSync(join(dir, 'policies.yaml'), `${ALLOW_80}---\n${DENY}`);
      const s5 = await reader.read();
      const deny1 = s1.cluster.policies.find((p) => p.name === 'deny');
      const deny5 = s5.cluster.policies.find((p) => p.name === 'deny');
      assert.notEqual(deny5, deny1);
      assert.deepEqual(deny5?.policy, deny1?.policy);
      assert.notEqual(deny5?.source?.line, deny1?.source?.line);
    }),
  );
});
