/**
 * The agent's persistent `nft -i` runner against a real kernel, in throw-away namespaces: incremental
 * updates take the kernel exactly to the next ruleset, a failing update changes nothing and says why,
 * changes made by another nft process are seen, a session that dies is replaced, one that hangs is
 * dropped for nft -f, and the update is folded into one line correctly. The kernel parts need root, nft
 * and ip.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { compileNode, renderDiff, renderRuleset, rulesetFromNftJson } from '../nft/index.js';
import { scenarios } from '../../test/fixtures/nft/scenarios.js';
import { kernelSkipReason, nftIn, nftListJson, withNetnsAsync } from '../../test/fixtures/nft/kernel.js';
import { NftSession, oneLine } from './nft-session.js';

const skip = kernelSkipReason() ?? false;

const TABLE = 'table inet t {\n\tset s {\n\t\ttype ipv4_addr\n\t}\n}\n';
/** The addresses in set `s` of table `inet t`. */
const elements = (ns: string) => nftIn(ns, ['list', 'set', 'inet', 't', 's']).stdout.match(/\d+\.\d+\.\d+\.\d+/g) ?? [];

test('an incremental update becomes one line of commands; the full form does not', () => {
  const a = compileNode(scenarios['two policies on the same pods share a chain']!(), { node: 'a' });
  const b = compileNode(scenarios['deny all ingress and egress in x']!(), { node: 'a' });
  const line = oneLine(renderDiff(a, b));
  assert.ok(line !== undefined && !line.includes('\n'));
  assert.ok(line.startsWith('add chain inet netpol egress_x/deny') && line.endsWith('delete set inet netpol peers_y/egress_egress0_v6'), line);
  assert.equal(oneLine(renderRuleset(b)), undefined);
  assert.equal(oneLine('add element inet netpol s { 10.0.0.1,\n\t10.0.0.2 }\n'), 'add element inet netpol s { 10.0.0.1, 10.0.0.2 }');
  // Too long for one interactive line: the caller falls back to nft -f.
  const many = Array.from({ length: 2000 }, (_, i) => `10.1.${i >> 8}.${i & 255}`).join(', ');
  assert.equal(oneLine(`add element inet netpol s { ${many} }\n`), undefined);
});

describe('NftSession in a kernel', { skip }, () => {
  test('walks through every scenario by incremental updates and ends exactly at each ruleset', async () => {
    await withNetnsAsync(async (ns) => {
      const session = new NftSession({ netns: ns });
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

  test("a failing update changes nothing and rejects with nft's message; the session goes on", async () => {
    await withNetnsAsync(async (ns) => {
      const session = new NftSession({ netns: ns });
      try {
        await session.apply(TABLE);
        await assert.rejects(session.apply('add element inet t s { 10.0.0.1 }\nadd element inet t nosuch { 10.0.0.2 }\n'), /nft -i failed: .*No such file or directory/s);
        assert.deepEqual(elements(ns), []);
        // Another process adds a set: the session sees it.
        assert.equal(nftIn(ns, ['-f', '-'], 'add set inet t s2 { type ipv4_addr; }\n').status, 0);
        await session.apply('add element inet t s2 { 10.0.0.3 }\nadd element inet t s { 10.0.0.4 }\n');
        assert.match(nftIn(ns, ['list', 'table', 'inet', 't']).stdout, /10\.0\.0\.3[\s\S]*10\.0\.0\.4|10\.0\.0\.4[\s\S]*10\.0\.0\.3/);
      } finally {
        session.close();
      }
    });
  });

  test('a session whose nft dies, or that is closed, is started again by the next update', async () => {
    await withNetnsAsync(async (ns) => {
      const session = new NftSession({ netns: ns });
      try {
        await session.apply(TABLE);
        await session.apply('add element inet t s { 10.0.0.1 }\n');
        // Kill every nft of this namespace from outside (an OOM kill, say).
        const pids = nftPids(ns);
        assert.ok(pids.length > 0, 'a running nft -i in the namespace');
        for (const pid of pids) process.kill(pid, 'SIGKILL');
        await waitFor(() => nftPids(ns).length === 0);
        // Sent before the session noticed the death, the update fails saying so (the agent then retries
        // from what the kernel holds); sent after, it goes to a fresh nft. Either way, never half-applied.
        const second = await session.apply('add element inet t s { 10.0.0.2 }\n').then(
          () => true,
          (e: Error) => (assert.match(e.message, /nft -i exited \(SIGKILL\)/), false),
        );
        await session.apply('add element inet t s { 10.0.0.3 }\n');
        session.close();
        await session.apply('add element inet t s { 10.0.0.4 }\n');
        assert.deepEqual(elements(ns), ['10.0.0.1', ...(second ? ['10.0.0.2'] : []), '10.0.0.3', '10.0.0.4']);
      } finally {
        session.close();
      }
    });
  });

  test('an update nft does not answer in time fails, and later ones go through nft -f', async () => {
    await withNetnsAsync(async (ns) => {
      const session = new NftSession({ netns: ns, timeoutMs: 200 });
      try {
        await session.apply(TABLE);
        await session.apply('add element inet t s { 10.0.0.1 }\n');
        // A stopped nft answers nothing.
        for (const pid of nftPids(ns)) process.kill(pid, 'SIGSTOP');
        await assert.rejects(session.apply('add element inet t s { 10.0.0.2 }\n'), /did not answer within 200 ms; using nft -f from now on/);
        await waitFor(() => nftPids(ns).length === 0);
        await session.apply('add element inet t s { 10.0.0.3 }\n');
        assert.deepEqual(elements(ns), ['10.0.0.1', '10.0.0.3']);
        assert.deepEqual(nftPids(ns), [], 'no nft -i started again');
      } finally {
        session.close();
      }
    });
  });
});

/** Process ids of the `nft` processes running in a namespace. */
function nftPids(ns: string): number[] {
  const out = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
  return out
    .split('\n')
    .filter((pid) => pid !== '' && /^nft\b/.test(readComm(pid)))
    .map(Number);
}

function readComm(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8');
  } catch {
    return '';
  }
}

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not reached within 2 s');
}
