/** `netpol serve` as a process: prints its URL when ready, answers, and exits 0 on SIGINT and SIGTERM. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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
