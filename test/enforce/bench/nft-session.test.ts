/**
 * The persistent `nft -i` runner against a real kernel, in throw-away namespaces: incremental updates take
 * the kernel exactly to the next ruleset, a failing update changes nothing and says why, changes made by
 * another nft process are seen, and the update is folded into one line correctly. Needs root, nft and ip.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileNode, renderDiff, renderRuleset, rulesetFromNftJson } from '../../../src/nft/index.js';
import { scenarios } from '../../fixtures/nft/scenarios.js';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { kernelSkipReason, nftIn, nftListJson } from '../../fixtures/nft/kernel.js';
import { NftSession, oneLine } from './nft-session.js';

const skip = kernelSkipReason() ?? false;

/** A fresh namespace (`netpol-test-*`) for an async body, deleted whatever happens. */
async function withNetns(fn: (ns: string) => Promise<void>): Promise<void> {
  const ns = `netpol-test-${randomBytes(6).toString('hex')}`;
  const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`ip netns add ${ns}: ${add.stderr}`);
  try {
    await fn(ns);
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

test('an incremental update becomes one line of commands; the full form does not', () => {
  const a = compileNode(scenarios['two policies on the same pods share a chain']!(), { node: 'a' });
  const b = compileNode(scenarios['deny all ingress and egress in x']!(), { node: 'a' });
  const line = oneLine(renderDiff(a, b));
  assert.ok(line !== undefined && !line.includes('\n'));
  assert.ok(line.startsWith('add chain inet netpol egress_x/deny') && line.endsWith('delete set inet netpol peers_y/egress_egress0_v6'), line);
  assert.equal(oneLine(renderRuleset(b)), undefined);
  assert.equal(oneLine('add element inet netpol s { 10.0.0.1,\n\t10.0.0.2 }\n'), 'add element inet netpol s { 10.0.0.1, 10.0.0.2 }');
});

describe('NftSession in a kernel', { skip }, () => {
  test('walks through every scenario by incremental updates and ends exactly at each ruleset', async () => {
    await withNetns(async (ns) => {
      const session = new NftSession(ns);
      try {
        let current = compileNode(scenarios['no policies']!(), { node: 'a', denyAction: 'reject' });
        await session.apply(renderRuleset(current));
        for (const [name, make] of Object.entries(scenarios)) {
          const next = compileNode(make(), { node: 'a', denyAction: 'reject' });
          await session.apply(renderDiff(current, next));
          const back = rulesetFromNftJson(nftListJson(ns));
          assert.ok(back);
          assert.equal(renderDiff(back, next), '', `kernel after ${name}`);
          current = next;
        }
      } finally {
        session.close();
      }
    });
  });

  test('a failing update changes nothing and rejects with nft\'s message; the session goes on', async () => {
    await withNetns(async (ns) => {
      const session = new NftSession(ns);
      try {
        await session.apply('table inet t {\n\tset s {\n\t\ttype ipv4_addr\n\t}\n}\n');
        await assert.rejects(session.apply('add element inet t s { 10.0.0.1 }\nadd element inet t nosuch { 10.0.0.2 }\n'), /nft -i failed: .*No such file or directory/s);
        assert.doesNotMatch(nftIn(ns, ['list', 'set', 'inet', 't', 's']).stdout, /10\.0\.0\.1/);
        // Another process adds a set: the session sees it.
        assert.equal(nftIn(ns, ['-f', '-'], 'add set inet t s2 { type ipv4_addr; }\n').status, 0);
        await session.apply('add element inet t s2 { 10.0.0.3 }\nadd element inet t s { 10.0.0.4 }\n');
        assert.match(nftIn(ns, ['list', 'table', 'inet', 't']).stdout, /10\.0\.0\.3[\s\S]*10\.0\.0\.4|10\.0\.0\.4[\s\S]*10\.0\.0\.3/);
      } finally {
        session.close();
      }
    });
  });
});
