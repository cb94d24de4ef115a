/**
 * The scale features through the CLI: exact allowed-pair counts (`matrix --summary`), the table
 * aggregated by namespace, and `check` on groups (workloads, label selectors). Counts are checked
 * against the dense matrix the same command prints with `-o json`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { generateFiles } from '../tools/gen/index.js';
import { netpol } from './netpol.js';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));

const EXAMPLES = [
  'allow-all',
  'and-vs-or',
  'bookstore',
  'deny-all',
  'internal-egress',
  'internal-egress-dns',
  'ipblock-except',
  'ipblock-except-seed',
  'port-only',
  'three-tier',
  'zero-trust',
].flatMap((d) => ['-f', `examples/${d}`]);
const PROBES = ['--port', '80', '--port', '3306', '--protocol', 'TCP', '--protocol', 'UDP'];

interface Dense {
  pods: string[];
  probes: { port: number | string; protocol: string; allowed: boolean[][] }[];
}

async function dense(args: string[], stdin?: string): Promise<Dense> {
  const r = await netpol(['matrix', ...args, '-o', 'json'], stdin);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Dense;
}

const offDiagonal = (m: boolean[][]) => m.reduce((n, row, i) => n + row.filter((v, j) => v && i !== j).length, 0);

describe('matrix --summary', () => {
  test('-o json prints exactly {pods, probes: [{port, protocol, allowedPairs}]}, equal to the dense counts', async () => {
    const r = await netpol(['matrix', ...EXAMPLES, ...PROBES, '--summary', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(s), ['pods', 'probes']);
    for (const p of s.probes) assert.deepEqual(Object.keys(p), ['port', 'protocol', 'allowedPairs']);
    const d = await dense([...EXAMPLES, ...PROBES]);
    assert.equal(s.pods, d.pods.length);
    assert.deepEqual(
      s.probes.map((p: { allowedPairs: number }) => p.allowedPairs),
      d.probes.map((p) => offDiagonal(p.allowed)),
    );
  });

  test('a generated cluster: --summary equals the dense count; -n restricts both', async () => {
    const files = generateFiles('realistic', { seed: 7, scale: 0.03 });
    const text = files.map((f) => f.text).join('\n---\n');
    const s = JSON.parse((await netpol(['matrix', '-f', '-', '--summary', '-o', 'json', '--port', '80'], text)).stdout);
    const d = await dense(['-f', '-', '--port', '80'], text);
    assert.ok(d.pods.length > 100, `${d.pods.length} pods`);
    assert.equal(s.probes[0].allowedPairs, offDiagonal(d.probes[0]!.allowed));
    const ns = d.pods[0]!.split('/')[0]!;
    const sn = JSON.parse((await netpol(['matrix', '-f', '-', '-n', ns, '--summary', '-o', 'json', '--port', '80'], text)).stdout);
    const dn = await dense(['-f', '-', '-n', ns, '--port', '80'], text);
    assert.ok(dn.pods.every((p) => p.startsWith(`${ns}/`)));
    assert.equal(sn.probes[0].allowedPairs, offDiagonal(dn.probes[0]!.allowed));
  });
});

describe('the table aggregates by namespace', () => {
  test('--by namespace: each cell is allowed/possible pairs between two namespaces, matching the dense matrix', async () => {
    const r = await netpol(['matrix', ...EXAMPLES, '--port', '80', '--by', 'namespace']);
    assert.equal(r.code, 0, r.stderr);
    const d = await dense([...EXAMPLES, '--port', '80']);
    const nsOf = (k: number) => d.pods[k]!.split('/')[0]!;
    const want = new Map<string, [number, number]>();
    d.probes[0]!.allowed.forEach((row, i) =>
      row.forEach((v, j) => {
        if (i === j) return;
        const key = `${nsOf(i)} ${nsOf(j)}`;
        const c = want.get(key) ?? [0, 0];
        want.set(key, [c[0] + (v ? 1 : 0), c[1] + 1]);
      }),
    );
    const lines = r.stdout.split('\n');
    const header = lines[1]!.trim().split(/\s+/);
    for (const line of lines.slice(2).filter((l) => l.trim())) {
      const [from, ...cells] = line.trim().split(/\s+/);
      cells.forEach((cell, k) => {
        const w = want.get(`${from} ${header[k]}`) ?? [0, 0];
        assert.equal(cell, `${w[0]}/${w[1]}`, `${from} -> ${header[k]}`);
      });
    }
  });

  test('more than 100 pods: the default table aggregates and says so', async () => {
    const text = generateFiles('realistic', { seed: 3, scale: 0.03 })
      .map((f) => f.text)
      .join('\n---\n');
    const r = await netpol(['matrix', '-f', '-', '--port', '80'], text);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^TCP\/80: \d+ of \d+ connections between different pods allowed, by namespace/);
    assert.match(r.stderr, /the table counts allowed pairs per namespace/);
  });
});

describe('check on groups', () => {
  test('a label selector and a workload: counts of pairs, with an example explained', async () => {
    const r = await netpol(['check', '-f', 'examples/bookstore', '--from', 'bookstore/app=bookstore', '--to', 'bookstore/deployment/api', '--port', '8080', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout);
    assert.equal(v.allowed, true);
    assert.equal(v.sources, 2);
    assert.equal(v.destinations, 1);
    assert.equal(v.pairs, 1, 'the api pod matches both groups; a pod and itself is not a pair');
    assert.equal(v.allowedExample.allowed, true);
  });

  test('partly allowed: exit 1, a denied pair explained', async () => {
    const r = await netpol(['check', '-f', 'examples/zero-trust', '--from', '*/app in (pod-1,pod-3)', '--to', 'team-one-namespace/pod-2', '--port', '8080']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^PARTLY ALLOWED: all namespaces\/app in \(pod-1,pod-3\) \(2 pods\) -> team-one-namespace\/pod-2 \(1 pod\) TCP port 8080: 1 of 2 pairs allowed$/m);
    assert.match(r.stdout, /^DENIED: team-two-namespace\/pod-3 -> team-one-namespace\/pod-2/m);
  });

  test('errors: unknown workload kind, no matching pods', async () => {
    for (const from of ['bookstore/widget/api', 'bookstore/app=nothing']) {
      const r = await netpol(['check', '-f', 'examples/bookstore', '--from', from, '--to', 'bookstore/api']);
      assert.equal(r.code, 2, from);
      assert.match(r.stderr, /^error: --from /);
    }
  });
});
