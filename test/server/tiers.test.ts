/**
 * `netpol serve` with cluster-scoped policies (examples/admin-guardrails): every answer goes through the
 * tiers, as the CLI's: the matrix and check JSON byte for byte, the page's relation
 * pair for pair, which policies select each pod, an edit's effect through the tiers, at any size.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileSource, startServer, type RunningServer } from '../../src/server/index.js';
import { netpol } from '../netpol.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
process.chdir(ROOT);
const GUARDRAILS = 'examples/admin-guardrails';
const assets = mkdtempSync(join(tmpdir(), 'netpol-assets-'));
writeFileSync(join(assets, 'index.html'), '<!doctype html><title>netpol</title>');

let server: RunningServer;
before(async () => {
  server = await startServer({ source: fileSource({ filenames: [GUARDRAILS], recursive: false }), port: 0, assetsDir: assets });
});
after(async () => {
  await server.close();
  rmSync(assets, { recursive: true, force: true });
});

async function get(path: string, on = server): Promise<{ status: number; text: string }> {
  const r = await fetch(new URL(path, on.url));
  return { status: r.status, text: await r.text() };
}

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(new URL(path, server.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

/** The page's relation decoded (docs/api.md): may pod i reach pod j. */
function decode(reach: { words: number; positions: number[]; incoming: string }): (i: number, j: number) => boolean {
  const bytes = Buffer.from(reach.incoming, 'base64');
  const rows = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  return (i, j) => i === j || ((rows[reach.positions[j]! * reach.words + (reach.positions[i]! >>> 5)]! >>> (reach.positions[i]! & 31)) & 1) === 1;
}

describe('netpol serve with cluster-scoped policies', () => {
  const PORTS = ['5432', '9090', '80'];

  test('GET /api/v1/matrix is the JSON of netpol matrix -o json, and /api/v1/reach gives the same pairs', async () => {
    const cli = await netpol(['matrix', '-f', GUARDRAILS, '-o', 'json', ...PORTS.flatMap((p) => ['--port', p])]);
    assert.equal(cli.code, 0, cli.stderr);
    const api = await get(`/api/v1/matrix?${PORTS.map((p) => `port=${p}`).join('&')}`);
    assert.equal(api.status, 200);
    assert.equal(api.text, cli.stdout);
    const matrix = JSON.parse(cli.stdout) as { pods: string[]; probes: { port: number; allowed: boolean[][] }[] };
    const summary = JSON.parse((await get('/api/v1/cluster')).text) as { pods: { namespace: string; name: string }[] };
    assert.deepEqual(
      summary.pods.map((p) => `${p.namespace}/${p.name}`),
      matrix.pods,
    );
    let allowed = 0;
    for (const probe of matrix.probes) {
      const reach = decode(JSON.parse((await get(`/api/v1/reach?port=${probe.port}`)).text));
      probe.allowed.forEach((row, i) => row.forEach((a, j) => assert.equal(reach(i, j), a, `${matrix.pods[i]} -> ${matrix.pods[j]} on ${probe.port}`)));
      allowed += probe.allowed.flat().filter(Boolean).length;
    }
    assert.ok(allowed > matrix.pods.length * matrix.probes.length, 'some pairs of different pods are allowed');
  });

  test('GET /api/v1/check is the JSON of netpol check -o json, with the tier decision', async () => {
    for (const [from, to, port, tier] of [
      ['monitoring/prometheus', 'tenant-a/db', '9090', 'admin'],
      ['tenant-a/web', 'tenant-a/db', '5432', 'networkpolicy'],
      ['tenant-b/web', 'tenant-b/db', '80', 'baseline'],
      ['tenant-a/web', 'tenant-b/web', '80', 'admin'],
    ] as const) {
      const cli = await netpol(['check', '-f', GUARDRAILS, '--from', from, '--to', to, '--port', port, '-o', 'json']);
      const api = await get(`/api/v1/check?from=${from}&to=${to}&port=${port}`);
      assert.equal(api.status, 200);
      assert.equal(api.text, cli.stdout, `${from} -> ${to}`);
      const verdict = JSON.parse(api.text) as { ingress: { tiers?: { decisions: { by: { tier: string } }[] } } };
      assert.equal(verdict.ingress.tiers?.decisions[0]?.by.tier, tier, `${from} -> ${to}: ingress decided by the ${tier} tier`);
    }
  });

  test('the summary names the cluster policies selecting each pod', async () => {
    const summary = JSON.parse((await get('/api/v1/cluster')).text) as {
      pods: { namespace: string; name: string; ingressTiers?: string[]; egressTiers?: string[] }[];
      clusterPolicies: { kind: string; name: string }[];
    };
    const db = summary.pods.find((p) => p.namespace === 'tenant-a' && p.name === 'db')!;
    assert.ok(db.ingressTiers?.includes('ClusterNetworkPolicy/allow-monitoring'), String(db.ingressTiers));
    assert.ok(db.egressTiers?.includes('ClusterNetworkPolicy/tenant-egress'), String(db.egressTiers));
    const prometheus = summary.pods.find((p) => p.namespace === 'monitoring')!;
    assert.deepEqual(prometheus.ingressTiers, []);
    assert.ok(summary.clusterPolicies.some((p) => p.name === 'tenant-default-deny'));
  });

  test("an edit of a tenant's NetworkPolicy is analysed through the tiers", async () => {
    const { documents } = JSON.parse((await get('/api/v1/documents')).text) as { documents: { id: string; text: string; policies: string[] }[] };
    const doc = documents.find((d) => d.policies.includes('tenant-a/db-from-web'))!;
    const closed = doc.text.replace(/ingress:[\s\S]*$/, 'ingress: []\n');
    assert.notEqual(closed, doc.text);
    const r = await post('/api/v1/analyze', {
      edits: [{ document: doc.id, text: closed }],
      probes: [
        { port: 5432, protocol: 'TCP' },
        { port: 9090, protocol: 'TCP' },
      ],
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const [postgres, metrics] = r.json.probes as { added: number; removed: number; changes: { from: string; to: string; change: string; causes: string[] }[] }[];
    assert.deepEqual(postgres!.changes, [{ from: 'tenant-a/web', to: 'tenant-a/db', change: 'removed', causes: ['tenant-a/db-from-web'] }]);
    // Prometheus keeps the metrics port: an Admin tier Accept is final, whatever the tenant's policy says.
    assert.equal(metrics!.removed, 0);
    const edited = await post('/api/v1/check', { from: 'monitoring/prometheus', to: 'tenant-a/db', port: 9090, edits: [{ document: doc.id, text: closed }] });
    assert.equal(edited.json.allowed, true);
  });

  test('more pods than the exact engine takes pair by pair: the tier-aware class engine answers, as check does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netpol-tiers-'));
    const n = 2001;
    const pods = Array.from(
      { length: n },
      (_, i) => `apiVersion: v1\nkind: Pod\nmetadata: {name: p${i}, namespace: big, labels: {app: a${i % 3}}}\nspec: {containers: [{name: c, image: x}]}\nstatus: {podIP: 10.${i >> 8}.${i & 255}.1}\n`,
    );
    const banp = `apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: a0}}}}\n  ingress: [{name: deny, action: Deny, from: [{namespaces: {}}]}]\n`;
    writeFileSync(join(dir, 'big.yaml'), ['apiVersion: v1\nkind: Namespace\nmetadata: {name: big}\n', ...pods, banp].join('---\n'));
    const big = await startServer({ source: fileSource({ filenames: [dir], recursive: false }), port: 0, assetsDir: assets });
    try {
      const r = await get('/api/v1/reach?port=80', big);
      assert.equal(r.status, 200, r.text);
      const reach = decode(JSON.parse(r.text));
      const { pods: order } = JSON.parse((await get('/api/v1/cluster', big)).text) as { pods: { name: string }[] };
      const at = (name: string) => order.findIndex((p) => p.name === name);
      // p0 has app=a0 (the baseline denies its ingress); p1 has app=a1 (no policy).
      for (const [from, to] of [
        ['p1', 'p0'],
        ['p0', 'p1'],
        ['p3', 'p1999'],
      ] as const) {
        const check = JSON.parse((await get(`/api/v1/check?from=big/${from}&to=big/${to}&port=80`, big)).text) as { allowed: boolean };
        assert.equal(reach(at(from), at(to)), check.allowed, `${from} -> ${to}`);
      }
      assert.equal(reach(at('p1'), at('p0')), false);
    } finally {
      await big.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
