/** Smoke runs of the generator and benchmark scripts at tiny scales (no timing assertions). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const tsx = (script: string, args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, script), ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });

test('gen writes a shape as YAML files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpol-gen-'));
  try {
    const r = tsx('scripts/gen.ts', ['cross-ns', '--scale', '0.002', '--seed', '3', '--out', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(dir).sort(), ['namespaces.yaml', 'pods-000.yaml', 'policies-000.yaml']);
    assert.match(readFileSync(join(dir, 'pods-000.yaml'), 'utf8'), /kind: Pod\n/);
    assert.equal(tsx('scripts/gen.ts', ['no-such-shape']).status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench-scale runs end to end on small shapes and verifies its incremental counts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpol-bench-'));
  try {
    const r = tsx('scripts/bench-scale.ts', ['--shape', 'realistic', '--shape', 'pairs', '--scale', '0.01', '--queries', '200', '--changes', '50', '--dir', dir, '--json', join(dir, 'out.json')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\| realistic \| \d+ \|/);
    assert.match(r.stdout, /\| pairs \| \d+ \|/);
    assert.match(r.stdout, /oracle \(one-ns-overlap, 2000 pods/);
    assert.doesNotMatch(r.stdout, /WARNING|DISAGREEMENT/);
    const json = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as { results: { fastPath: boolean; changeVerified: boolean }[] };
    assert.ok(json.results.every((x) => x.fastPath && x.changeVerified));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
