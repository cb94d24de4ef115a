/** `netpol serve` as a process: prints its URL when ready, answers, and exits 0 on SIGINT and SIGTERM. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { netpol } from '../netpol.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`serve prints its loopback URL, serves the page's API, and exits 0 on ${signal}`, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'serve', '-f', 'examples/three-tier', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
        if (m) resolve(m[0]);
      });
      child.on('exit', () => reject(new Error(`exited before ready: ${err}`)));
    });
    const cluster = (await (await fetch(`${url}api/v1/cluster`)).json()) as { pods: unknown[] };
    assert.equal(cluster.pods.length, 3);
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill(signal);
    });
    assert.equal(code, 0, err);
  });
}

test('serve refuses what it cannot do, with exit code 2', async () => {
  assert.equal((await netpol(['serve'])).code, 2);
  assert.equal((await netpol(['serve', '-f', '-'])).code, 2);
  assert.match((await netpol(['serve', '-f', 'examples/three-tier', '--port', '70000'])).stderr, /--port 70000/);
  assert.match((await netpol(['serve', '-f', 'examples/three-tier', '--address', 'example.com'])).stderr, /--address example.com/);
});

test('serve without -f follows the cluster of the kubeconfig; one it cannot reach is exit 2 with the reason, before anything listens', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpol-serve-'));
  try {
    const kubeconfig = join(dir, 'config');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: ctx, context: {cluster: c, user: u, namespace: team}}]
current-context: ctx
`,
    );
    const r = await netpol(['serve', '--kubeconfig', kubeconfig, '--port', '0']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /127\.0\.0\.1:1/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    const both = await netpol(['serve', '-f', 'examples/three-tier', '--kubeconfig', kubeconfig]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /use one/);
    assert.match((await netpol(['serve', '-f', 'examples/three-tier', '--overlay'])).stderr, /not one overlaid on the other/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
