/** `netpol lab` through the CLI: run prints exactly what `matrix -o json` prints; up/probe/down/list. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { netpol as run } from '../netpol.js';
import { checkPrerequisites } from '../../src/lab/index.js';
import { leftovers, NOTHING } from './helpers.js';

process.chdir(fileURLToPath(new URL('../..', import.meta.url)));
const missing = checkPrerequisites(['ip', 'nft', 'conntrack']).missing;
const skip = missing.length > 0 ? `the lab needs ${missing.join('; ')}` : false;

const netpol = (...argv: string[]) => run(argv);

describe('netpol lab', { skip }, () => {
  for (const nodes of ['1', '2']) {
    test(`lab run on ${nodes} node(s) prints what matrix predicts, in the same shape`, async () => {
      const args = ['-f', 'examples/three-tier', '--port', '80', '--port', '5000', '--port', '3306', '--protocol', 'TCP', '--protocol', 'UDP', '-o', 'json'];
      const lab = await netpol('lab', 'run', '--nodes', nodes, ...args);
      assert.equal(lab.code, 0, lab.stderr);
      assert.match(lab.stderr, /kernel and engine agree on all 54 probes/);
      const matrix = await netpol('matrix', ...args);
      assert.deepEqual(JSON.parse(lab.stdout), JSON.parse(matrix.stdout));
    });
  }

  test('lab up, probe, list and down', async () => {
    const up = await netpol('lab', 'up', '-f', 'examples/deny-all', '--nodes', '2', '--id', 'clitst');
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.stdout.trim(), 'clitst');
    try {
      const listed = await netpol('lab', 'list', '-o', 'json');
      assert.ok(JSON.parse(listed.stdout).some((l: { id: string; status: string }) => l.id === 'clitst' && l.status === 'persistent'));
      const probe = await netpol('lab', 'probe', 'clitst', '--port', '80', '-o', 'json');
      assert.equal(probe.code, 0, probe.stderr);
      const matrix = await netpol('matrix', '-f', 'examples/deny-all', '--port', '80', '-o', 'json');
      assert.deepEqual(JSON.parse(probe.stdout), JSON.parse(matrix.stdout));
    } finally {
      const down = await netpol('lab', 'down', 'clitst');
      assert.equal(down.code, 0, down.stderr);
    }
    assert.deepEqual(leftovers('clitst'), NOTHING);
  });

  test('usage errors: unknown action, SCTP probes, bad node count', async () => {
    for (const argv of [
      ['lab', 'fly'],
      ['lab', 'run', '-f', 'examples/deny-all', '--protocol', 'SCTP'],
      ['lab', 'run', '-f', 'examples/deny-all', '--nodes', '0'],
    ]) {
      const r = await netpol(...argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.stderr, /^error: /);
    }
  });
});
