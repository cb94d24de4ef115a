/**
 * netpol's validation of cluster-scoped policies against the real thing: a kube-apiserver (built from Go
 * modules, src/controlplane) with the network-policy-api CRDs installed (crds/: ClusterNetworkPolicy
 * v1alpha2 of v0.2.0, AdminNetworkPolicy / BaselineAdminNetworkPolicy v1alpha1 of v0.1.8, experimental
 * channel). Each object of test/fixtures/crd/invalid.yaml is created on its own with strict field
 * validation (`kubectl create --validate=strict`); the API server's `path: message` lines must be the ones
 * `netpol validate` prints. Skips, saying why, where no control plane can start.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { validateCluster } from '../../src/validate/index.js';
import { loadCluster } from '../../src/load/index.js';
import { controlPlaneSkip, kubectlRun, useControlPlane } from '../kube/helpers.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const FIXTURE = join(HERE, '..', 'fixtures', 'crd', 'invalid.yaml');
const skip = controlPlaneSkip();

/**
 * The API server's error, as `path: message` lines (one per cause; `unknown field` errors as they are). The
 * root (`<nil>`) is an empty path, but for BaselineAdminNetworkPolicy's name rule, which netpol places at
 * `metadata.name`.
 */
function serverLines(stderr: string): string[] {
  const unknown = [...stderr.matchAll(/unknown field "([^"]+)"/g)].map((m) => `unknown field "${m[1]}"`);
  if (unknown.length > 0) return unknown.sort();
  const single = /is invalid: (\S.*)$/m.exec(stderr)?.[1];
  const causes =
    single !== undefined
      ? [single]
      : stderr
          .split('\n')
          .filter((l) => l.startsWith('* '))
          .map((l) => l.slice(2));
  return causes
    .map((l) =>
      l
        .trim()
        .replace(/^<nil>: (Invalid value: Only one baseline)/, 'metadata.name: $1')
        .replace(/^<nil>: /, ': '),
    )
    .sort();
}

/** netpol validate's errors for the same object, in the same shape. */
function ourLines(text: string): string[] {
  const { cluster, diagnostics } = loadCluster([{ file: 'x.yaml', text }]);
  return [...diagnostics, ...validateCluster(cluster)]
    .filter((d) => d.severity === 'error')
    .map((d) => (d.code === 'UnknownField' ? d.message : `${d.path ?? ''}: ${d.message}`))
    .sort();
}

describe('cluster-scoped policy validation matches a real kube-apiserver with the CRDs', { skip }, () => {
  const fx = useControlPlane();
  const kubectl = (args: string[]) => kubectlRun(fx.cp.kubeconfig, args);
  before(async () => {
    const r = await kubectl(['apply', '-f', join(HERE, 'crds')]);
    assert.equal(r.code, 0, r.stderr);
    const w = await kubectl(['wait', '--for', 'condition=Established', '--timeout', '60s', 'crd', '--all']);
    assert.equal(w.code, 0, w.stderr);
  });

  test('accepts what netpol accepts: the conformance manifests and the admin-guardrails example (server-side dry run)', async () => {
    for (const house of ['gryffindor', 'slytherin', 'hufflepuff', 'ravenclaw']) {
      const ns = await kubectl(['create', 'namespace', `network-policy-conformance-${house}`]);
      assert.equal(ns.code, 0, ns.stderr);
    }
    const files = [join(HERE, '..', 'conformance', 'manifests'), join(HERE, '..', '..', 'examples', 'admin-guardrails', 'admin-policies.yaml')];
    for (const f of files) {
      const r = await kubectl(['create', '--validate=strict', '--dry-run=server', '-R', '-f', f]);
      assert.equal(r.code, 0, `${f}:\n${r.stderr}`);
      assert.ok((r.stdout.match(/created \(server dry run\)/g) ?? []).length >= 5, r.stdout);
    }
  });

  const docs = parseAllDocuments(readFileSync(FIXTURE, 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
  for (const doc of docs) {
    test(`${doc.kind} ${doc.metadata.name}`, async () => {
      const text = stringify(doc);
      const file = join(fx.dir, `${doc.kind}-${doc.metadata.name}.yaml`);
      writeFileSync(file, text);
      const r = await kubectl(['create', '--validate=strict', '-f', file]);
      assert.notEqual(r.code, 0, `the API server accepted it:\n${r.stdout}`);
      const server = serverLines(r.stderr);
      assert.ok(server.length > 0, `no causes in the API server's answer:\n${r.stderr}`);
      assert.deepEqual(ourLines(text), server, `kubectl said:\n${r.stderr}`);
    });
  }
});
