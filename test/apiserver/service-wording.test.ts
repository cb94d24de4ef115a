/**
 * netpol's Service validation against the real thing: each Service of test/fixtures/service/invalid.yaml
 * is created on its own in a kube-apiserver (src/controlplane) with strict field validation and a server
 * dry run; the API server's `path: message` lines must be the ones netpol reports. A valid Service is
 * accepted by both. Skips, saying why, where no control plane can start.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { controlPlaneUnavailable, kubectlPath, startControlPlane, type ControlPlane } from '../../src/controlplane/index.js';
import { loadCluster } from '../../src/load/index.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const FIXTURE = join(HERE, '..', 'fixtures', 'service', 'invalid.yaml');
const unavailable = controlPlaneUnavailable();
if (unavailable) console.log(`skipping the kube-apiserver comparison of Service validation: ${unavailable}`);

function kubectl(cp: ControlPlane, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectlPath(), ['--kubeconfig', cp.kubeconfig, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The API server's error as `path: message` lines (one per cause; `unknown field` errors as they are). */
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
  return causes.map((l) => l.trim()).sort();
}

function ourLines(text: string): string[] {
  return loadCluster([{ file: 'x.yaml', text }])
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => (d.code === 'UnknownField' ? d.message : `${d.path ?? ''}: ${d.message}`))
    .sort();
}

describe('Service validation matches a real kube-apiserver', { skip: unavailable }, () => {
  let cp: ControlPlane;
  let dir: string;
  before(async () => {
    cp = await startControlPlane();
    dir = mkdtempSync(join(tmpdir(), 'netpol-svc-'));
    const ns = await kubectl(cp, ['create', 'namespace', 'shop']);
    assert.equal(ns.code, 0, ns.stderr);
  });
  after(async () => {
    await cp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('each invalid Service: the same fields and messages', async () => {
    const docs = parseAllDocuments(readFileSync(FIXTURE, 'utf8')).map((d) => d.toJSON() as { metadata: { name: string } });
    assert.ok(docs.length >= 8);
    for (const doc of docs) {
      const text = stringify(doc);
      const file = join(dir, `${doc.metadata.name}.yaml`);
      writeFileSync(file, text);
      const r = await kubectl(cp, ['create', '--validate=strict', '--dry-run=server', '-f', file]);
      assert.notEqual(r.code, 0, `${doc.metadata.name}: the API server accepted it`);
      const ours = ourLines(text);
      assert.ok(ours.length > 0, `${doc.metadata.name}: netpol accepted it`);
      assert.deepEqual(ours, serverLines(r.stderr), doc.metadata.name);
    }
  });

  test('a valid Service (named targetPort, headless, ExternalName) is accepted by both', async () => {
    const text = `apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\nspec: {selector: {app: api}, ports: [{name: http, port: 80, targetPort: http}, {name: dns, port: 53, protocol: UDP}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: shop}\nspec: {clusterIP: None, selector: {app: db}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: ext, namespace: shop}\nspec: {type: ExternalName, externalName: db.example.com.}\n`;
    const file = join(dir, 'valid.yaml');
    writeFileSync(file, text);
    const r = await kubectl(cp, ['create', '--validate=strict', '--dry-run=server', '-f', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ourLines(text), []);
  });
});
