/** `netpol matrix -o dot|mermaid|html` through the CLI, on an example whose verdicts its README states. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { netpol } from './netpol.js';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));

test('matrix pictures of three-tier: web -> api on 5000 is the only allowed connection between its pods', async () => {
  const args = ['matrix', '-f', 'examples/three-tier', '--port', '5000'];
  const dot = await netpol([...args, '-o', 'dot']);
  assert.equal(dot.code, 0, dot.stderr);
  assert.match(dot.stdout, /n2 \[label="web"\];/);
  assert.deepEqual(dot.stdout.match(/n\d -> n\d/g), ['n2 -> n0']);
  const mermaid = await netpol([...args, '-o', 'mermaid']);
  assert.deepEqual(mermaid.stdout.match(/n\d --> n\d/g), ['n2 --> n0']);
  const html = await netpol([...args, '-o', 'html']);
  assert.match(html.stdout, /^<!DOCTYPE html>/);
  assert.match(html.stdout, /<title>three-tier\/web → three-tier\/api<\/title>/);
});
