/**
 * The real nft on this machine (skipped with the reason when nft, ip or root is missing): every rendered
 * ruleset and diff is accepted, what the kernel lists back reads into the same IR (so a restarted agent
 * diffs to nothing), every diff takes the kernel exactly to the next ruleset, and a transaction that
 * fails half-way changes nothing. Each test works in throw-away network namespaces `netpol-test-*`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileNode, renderDiff, renderRuleset, rulesetFromNftJson, type CompileOptions, type Ruleset } from './index.js';
import { scenarios } from '../../test/fixtures/nft/scenarios.js';
import { clusterArb, NODES, tieredClusterArb } from '../../test/fixtures/nft/clusters.js';
import { kernelSkipReason, nftApply, nftIn, nftListJson, withNetns } from '../../test/fixtures/nft/kernel.js';
import type { Cluster } from '../model/index.js';
import { staged } from '../../test/builders.js';

const skip = kernelSkipReason();
if (skip) console.log(`# nft kernel tests skipped: ${skip}`);

const OPTIONS: CompileOptions[] = [{ node: 'a' }, { node: 'a', denyAction: 'reject', log: true }, { node: 'b', denyAction: 'reject' }];

function readBack(ns: string): Ruleset {
  const rs = rulesetFromNftJson(nftListJson(ns));
  assert.ok(rs, 'the listing reads back');
  return rs;
}

/** Loads `old`, applies the diff to `next`, and checks the kernel then holds exactly `next`. */
function checkDiff(old: Ruleset, next: Ruleset): void {
  withNetns((ns) => {
    nftApply(ns, renderRuleset(old));
    const diff = renderDiff(readBack(ns), next);
    assert.equal(diff, renderDiff(old, next), 'the kernel read back diffs like the compiled ruleset');
    if (diff !== '') nftApply(ns, diff);
    assert.equal(renderDiff(readBack(ns), next), '', 'after the diff the kernel holds the next ruleset');
  });
}

describe('nft accepts and reads back every scenario', { skip }, () => {
  for (const [name, make] of Object.entries(scenarios)) {
    test(name, () => {
      withNetns((ns) => {
        for (const opts of OPTIONS) {
          const rs = compileNode(make(), opts);
          const text = renderRuleset(rs);
          const check = nftIn(ns, ['-c', '-f', '-'], text);
          assert.equal(check.status, 0, `nft -c: ${check.stderr}`);
          nftApply(ns, text);
          // Applying twice works too (the full form replaces the table).
          nftApply(ns, text);
          assert.equal(renderDiff(readBack(ns), rs), '', 'the kernel holds what was compiled');
        }
      });
    });
  }
});

describe('diffs between scenarios', { skip }, () => {
  const names = Object.keys(scenarios);
  for (const from of names) {
    test(`from "${from}" to every other scenario`, () => {
      for (const to of names) {
        if (from === to) continue;
        for (const opts of OPTIONS.slice(0, 2)) {
          checkDiff(compileNode(scenarios[from]!(), opts), compileNode(scenarios[to]!(), opts));
        }
      }
    });
  }
  test('from a drop ruleset to a reject ruleset with logging', () => {
    const c = scenarios['two policies on the same pods share a chain']!();
    checkDiff(compileNode(c, { node: 'a' }), compileNode(c, { node: 'a', denyAction: 'reject', log: true }));
  });
  test('to another table name: the full replacement, leaving the old table alone', () => {
    const c = scenarios['deny all ingress and egress in x']!();
    const old = compileNode(c, { node: 'a' });
    const next = compileNode(c, { node: 'a', table: 'netpol2' });
    assert.equal(renderDiff(old, next), renderRuleset(next));
  });
});

/** Small edits of a cluster: a pod's labels flip, a pod goes away, a policy goes away or loses a rule. */
function edits(c: Cluster): Cluster[] {
  const out: Cluster[] = [];
  c.pods.forEach((p, i) => {
    out.push({ ...c, pods: c.pods.map((q, j) => (j === i ? { ...q, labels: { ...q.labels, app: q.labels.app === 'a' ? 'b' : 'a' } } : q)) });
    out.push({ ...c, pods: c.pods.filter((_, j) => j !== i) });
  });
  c.policies.forEach((_, i) => out.push({ ...c, policies: c.policies.filter((__, j) => j !== i) }));
  return out;
}

test('random diffs take the kernel exactly to the next ruleset', { skip }, () => {
  fc.assert(
    fc.property(clusterArb, clusterArb, fc.constantFrom(...NODES), fc.boolean(), (c1, c2, node, reject) => {
      const opts: CompileOptions = { node, ...(reject ? { denyAction: 'reject', log: true } : {}) };
      const old = compileNode(c1, opts);
      checkDiff(old, compileNode(c2, opts));
      for (const e of edits(c1).slice(0, 3)) checkDiff(old, compileNode(e, opts));
    }),
    { numRuns: 12 },
  );
});

test('random diffs with cluster policies (tier chains, goto) take the kernel exactly to the next ruleset', { skip }, () => {
  fc.assert(
    fc.property(tieredClusterArb, tieredClusterArb, fc.constantFrom(...NODES), fc.boolean(), (c1, c2, node, reject) => {
      const opts: CompileOptions = { node, ...(reject ? { denyAction: 'reject', log: true } : {}) };
      checkDiff(compileNode(c1, opts), compileNode(c2, opts));
      checkDiff(compileNode(c1, opts), compileNode({ ...c1, clusterPolicies: (c1.clusterPolicies ?? []).slice(1) }, opts));
    }),
    { numRuns: 12 },
  );
});

test('random diffs switching cluster policies and NetworkPolicies between audit and enforce take the kernel exactly to the next ruleset', { skip }, () => {
  fc.assert(
    fc.property(tieredClusterArb, fc.array(fc.boolean(), { maxLength: 6 }), fc.array(fc.boolean(), { maxLength: 6 }), fc.constantFrom(...NODES), (written, which, whichCluster, node) => {
      const opts: CompileOptions = { node, log: true };
      const stagedCluster = staged(written, which, whichCluster);
      checkDiff(compileNode(stagedCluster, opts), compileNode(written, opts));
      checkDiff(compileNode(written, opts), compileNode(stagedCluster, opts));
    }),
    { numRuns: 12 },
  );
});

test('a transaction that fails half-way changes nothing', { skip }, () => {
  const c = scenarios['two policies on the same pods share a chain']!();
  const old = compileNode(c, { node: 'a' });
  const next = compileNode(scenarios['no policies']!(), { node: 'a' });
  withNetns((ns) => {
    nftApply(ns, renderRuleset(old));
    const before = nftIn(ns, ['list', 'table', 'inet', 'netpol']).stdout;
    const broken = `${renderDiff(old, next)}delete element inet netpol ingress_v4 { 192.0.2.1 }\n`;
    assert.notEqual(nftIn(ns, ['-f', '-'], broken).status, 0);
    assert.equal(nftIn(ns, ['list', 'table', 'inet', 'netpol']).stdout, before);
  });
});

test('the full form leaves other tables alone', { skip }, () => {
  withNetns((ns) => {
    nftApply(ns, 'table inet other {\n\tchain c {\n\t\ttype filter hook forward priority 10; policy accept;\n\t\tcounter\n\t}\n}\n');
    nftApply(ns, renderRuleset(compileNode(scenarios['deny all ingress and egress in x']!(), { node: 'a' })));
    const tables = nftIn(ns, ['list', 'tables']).stdout;
    assert.match(tables, /table inet other/);
    assert.match(tables, /table inet netpol/);
  });
});
