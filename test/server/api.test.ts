/**
 * `netpol serve`'s JSON API against the CLI it mirrors (same sources, same JSON), an edit's diff on the
 * three-tier example, and the server's manners: Host check, JSON-only bounded bodies, CSP, static files.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTENT_SECURITY_POLICY, fileSource, MAX_BODY_BYTES, startServer, type RunningServer } from '../../src/server/index.js';
import { netpol } from '../netpol.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
process.chdir(ROOT);
const THREE_TIER = 'examples/three-tier';

let server: RunningServer;
const assets = mkdtempSync(join(tmpdir(), 'netpol-assets-'));
writeFileSync(join(assets, 'index.html'), '<!doctype html><title>netpol</title>');

before(async () => {
  server = await startServer({ source: fileSource({ filenames: [THREE_TIER], recursive: false }), port: 0, assetsDir: assets });
});
after(() => server.close());

async function get(path: string): Promise<{ status: number; text: string; headers: Headers }> {
  const r = await fetch(new URL(path, server.url));
  return { status: r.status, text: await r.text(), headers: r.headers };
}

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(new URL(path, server.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

/** A raw request, for headers fetch does not let a caller set (Host). */
function raw(path: string, headers: Record<string, string>, method = 'GET', body?: Buffer): Promise<number> {
  const u = new URL(path, server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? resolve(413) : reject(e)));
    req.end(body);
  });
}

describe('netpol serve: the API mirrors the CLI', () => {
  test('GET /api/v1/matrix is the JSON of netpol matrix -o json, byte for byte', async () => {
    for (const [query, flags] of [
      ['', []],
      ['?port=5000&port=3306&protocol=TCP&protocol=UDP', ['--port', '5000', '--port', '3306', '--protocol', 'TCP', '--protocol', 'UDP']],
    ] as const) {
      const cli = await netpol(['matrix', '-f', THREE_TIER, '-o', 'json', ...flags]);
      const api = await get(`/api/v1/matrix${query}`);
      assert.equal(api.status, 200);
      assert.equal(api.text, cli.stdout);
    }
  });

  test('GET /api/v1/check is the JSON of netpol check -o json, for pods, addresses and groups', async () => {
    for (const [from, to, port] of [
      ['three-tier/web', 'three-tier/api', '5000'],
      ['three-tier/web', 'three-tier/db', '3306'],
      ['8.8.8.8', 'three-tier/web', 'http'],
      ['three-tier/role=web', 'three-tier/role=api', '5000'],
    ] as const) {
      const cli = await netpol(['check', '-f', THREE_TIER, '--from', from, '--to', to, '--port', port, '-o', 'json']);
      const api = await get(`/api/v1/check?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&port=${port}`);
      assert.equal(api.status, 200);
      assert.equal(api.text, cli.stdout, `${from} -> ${to}`);
    }
  });

  test('a question the CLI refuses is a 400 with the same message', async () => {
    const cli = await netpol(['check', '-f', THREE_TIER, '--from', 'three-tier/nope', '--to', 'three-tier/db']);
    const api = await get('/api/v1/check?from=three-tier/nope&to=three-tier/db');
    assert.equal(api.status, 400);
    assert.ok(cli.stderr.includes((JSON.parse(api.text) as { error: string }).error));
  });
});

describe('netpol serve: edits', () => {
  test('revoking the api -> db rule shows the connection removed, caused by the db policy', async () => {
    const { documents } = JSON.parse((await get('/api/v1/documents')).text) as { documents: { id: string; text: string; policies: string[] }[] };
    const db = documents.find((d) => d.policies.includes('three-tier/db'))!;
    assert.ok(db.text.includes('role: api'));
    const revoked = db.text.replace(/ingress:[\s\S]*?(?=\n {2}egress:|\n?$)/, 'ingress: []');
    assert.notEqual(revoked, db.text);
    const r = await post('/api/v1/analyze', { edits: [{ document: db.id, text: revoked }], probes: [{ port: 3306, protocol: 'TCP' }] });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.policies, { added: [], changed: ['three-tier/db'], removed: [] });
    const [probe] = r.json.probes as { added: number; removed: number; changes: unknown[] }[];
    assert.equal(probe!.added, 0);
    assert.equal(probe!.removed, 1);
    assert.deepEqual(probe!.changes, [{ from: 'three-tier/api', to: 'three-tier/db', change: 'removed', causes: ['three-tier/db'] }]);
    // The loaded state is untouched: the same question without the edit is still allowed.
    const check = JSON.parse((await get('/api/v1/check?from=three-tier/api&to=three-tier/db&port=3306')).text) as { allowed: boolean };
    assert.equal(check.allowed, true);
    // And with the edit, denied.
    const edited = await post('/api/v1/check', { from: 'three-tier/api', to: 'three-tier/db', port: 3306, edits: [{ document: db.id, text: revoked }] });
    assert.equal(edited.json.allowed, false);
  });

  test('an invalid edit returns its diagnostics at line and column, and no analysis', async () => {
    const r = await post('/api/v1/analyze', {
      edits: [{ document: null, text: 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: three-tier}\nspec:\n  podSelector: {}\n  ingres: []\n' }],
    });
    assert.equal(r.json.invalid, true);
    assert.equal(r.json.probes, undefined);
    assert.deepEqual(
      (r.json.diagnostics as { code: string; file: string; line: number; column: number }[]).map((d) => [d.code, d.file, d.line, d.column]),
      [['UnknownField', 'new:0', 6, 3]],
    );
  });
});

describe('netpol serve: manners', () => {
  test('every response carries the CSP; the page is served, other paths are not', async () => {
    const page = await get('/');
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
    assert.match(CONTENT_SECURITY_POLICY, /script-src 'self';/);
    assert.equal((await get('/assets/../../package.json')).status, 404);
    assert.equal((await get('/api/v1/nothing')).status, 404);
  });

  test('a foreign Host is refused (DNS rebinding); the server own is served', async () => {
    const port = new URL(server.url).port;
    assert.equal(await raw('/api/v1/cluster', { host: `attacker.example:${port}` }), 421);
    assert.equal(await raw('/api/v1/cluster', { host: `127.0.0.1:${port}` }), 200);
    assert.equal(await raw('/api/v1/cluster', { host: `localhost:${port}` }), 200);
  });

  test('POST bodies must be JSON and bounded', async () => {
    const port = new URL(server.url).port;
    const host = `127.0.0.1:${port}`;
    assert.equal(await raw('/api/v1/analyze', { host, 'content-type': 'text/plain' }, 'POST', Buffer.from('{}')), 415);
    assert.equal(await raw('/api/v1/analyze', { host, 'content-type': 'application/json', 'content-length': String(MAX_BODY_BYTES + 1) }, 'POST'), 413);
    assert.equal(await raw('/api/v1/analyze', { host, 'content-type': 'application/json' }, 'POST', Buffer.alloc(MAX_BODY_BYTES + 1024, 32)), 413);
    assert.equal((await post('/api/v1/analyze', [1])).status, 400);
  });
});

describe('netpol serve: addresses outside the cluster', () => {
  test('GET /api/v1/external lists each ipBlock with the pods on each side, as check answers for its address', async () => {
    const s = await startServer({ source: fileSource({ filenames: ['examples/ipblock-except'], recursive: false }), port: 0, assetsDir: assets });
    try {
      const ext = JSON.parse(await (await fetch(new URL('/api/v1/external?port=80', s.url))).text()) as {
        blocks: { label: string; address: string; policies: string[]; reachedFrom: number[]; reaches: number[] }[];
      };
      const reach = JSON.parse(await (await fetch(new URL('/api/v1/reach?port=80', s.url))).text()) as { positions: number[] };
      const { pods } = JSON.parse(await (await fetch(new URL('/api/v1/cluster', s.url))).text()) as { pods: { namespace: string; name: string; ips: string[] }[] };
      assert.equal(ext.blocks.length, 1);
      const [block] = ext.blocks;
      assert.equal(block!.label, '172.17.0.0/16 except 172.17.1.0/24, 172.17.2.0/24, 172.17.3.0/24');
      assert.deepEqual(block!.policies, ['ipblock-except/network-policy']);
      assert.ok(!pods.some((p) => p.ips.includes(block!.address)), 'the address is no pod');
      // Every pod on each side, as `netpol check` says for the block's address.
      for (const [i, p] of pods.entries()) {
        const name = `${p.namespace}/${p.name}`;
        for (const [from, to, list] of [
          [name, block!.address, block!.reachedFrom],
          [block!.address, name, block!.reaches],
        ] as const) {
          const cli = JSON.parse((await netpol(['check', '-f', 'examples/ipblock-except', '--from', from, '--to', to, '--port', '80', '-o', 'json'])).stdout) as { allowed: boolean };
          assert.equal(list.includes(reach.positions[i]!), cli.allowed, `${from} -> ${to}`);
        }
      }
    } finally {
      await s.close();
    }
  });
});
