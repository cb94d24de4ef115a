/**
 * Incremental updates and reading the kernel back, without a kernel: what each kind of change turns into,
 * in an order nft accepts, and stored `nft -j list` outputs (test/fixtures/nft/listing-*.json, made by
 * make-listings.ts) read into the IR the compiler produces.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cluster, pod, policy } from '../../test/builders.js';
import { onNode } from '../../test/fixtures/nft/clusters.js';
import { basePods, scenarios } from '../../test/fixtures/nft/scenarios.js';
import { LISTINGS } from '../../test/fixtures/nft/make-listings.js';
import { compileNode, renderDiff, renderRuleset, rulesetFromNftJson, type Ruleset } from './index.js';
import type { Cluster } from '../model/index.js';

const base = (): Cluster => scenarios['two policies on the same pods share a chain']!();
const lines = (text: string) => text.split('\n').filter((l) => l !== '');

function readListing(file: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../test/fixtures/nft/${file}`, import.meta.url), 'utf8')) as unknown;
}

describe('renderDiff', () => {
  test('nothing changed: the empty string', () => {
    assert.equal(renderDiff(compileNode(base(), { node: 'a' }), compileNode(base(), { node: 'a' })), '');
  });

  test('a pod appears: only set and map elements are added', () => {
    const c = base();
    const next = { ...c, pods: [...c.pods, onNode('a', pod('x/new', { app: 'a' }, { ips: ['10.0.0.9'] }))] };
    assert.deepEqual(lines(renderDiff(compileNode(c, { node: 'a' }), compileNode(next, { node: 'a' }))), [
      'add element inet netpol peers_x/one_ingress0_v4 { 10.0.0.9 }',
      'add element inet netpol peers_y/egress_egress0_v4 { 10.0.0.9 }',
      'add element inet netpol ingress_v4 { 10.0.0.9 : jump ingress_x/one_x/two }',
    ]);
  });

  test('a pod on another node appears: only peer elements change here', () => {
    const c = base();
    const next = { ...c, pods: [...c.pods, onNode('b', pod('y/far', { app: 'c' }, { ips: ['10.0.3.1'] }))] };
    assert.deepEqual(lines(renderDiff(compileNode(c, { node: 'a' }), compileNode(next, { node: 'a' }))), [
      'add element inet netpol peers_x/two_ingress0_v4 { 10.0.3.1 }',
      'add element inet netpol peers_y/egress_egress0_v4 { 10.0.3.1 }',
    ]);
  });

  test('a label flip moves a pod to another chain: new chains exist before the map points at them, unused ones go after', () => {
    const c = cluster({
      pods: basePods(),
      policies: [policy('x/one', { podSelector: {}, ingress: [{}] }), policy('x/two', { podSelector: { matchLabels: { app: 'b' } }, ingress: [] })],
    });
    const flipped = { ...c, pods: c.pods.map((p) => (p.name === 'a' ? { ...p, labels: { app: 'b' } } : p)) };
    assert.deepEqual(lines(renderDiff(compileNode(c, { node: 'a' }), compileNode(flipped, { node: 'a' }))), [
      'flush chain inet netpol ingress_x/one',
      'delete element inet netpol ingress_v4 { 10.0.0.1 }',
      'add element inet netpol ingress_v4 { 10.0.0.1 : jump ingress_x/one_x/two }',
      'delete element inet netpol ingress_v6 { fd00::1 }',
      'add element inet netpol ingress_v6 { fd00::1 : jump ingress_x/one_x/two }',
      'delete chain inet netpol ingress_x/one',
    ]);
    const back = lines(renderDiff(compileNode(flipped, { node: 'a' }), compileNode(c, { node: 'a' })));
    assert.equal(back[0], 'add chain inet netpol ingress_x/one { comment "ingress of pods isolated by x/one"; }');
    const filled = back.indexOf('add rule inet netpol ingress_x/one counter return comment "x/one ingress[0]"');
    const pointed = back.indexOf('add element inet netpol ingress_v4 { 10.0.0.1 : jump ingress_x/one }');
    assert.ok(filled > 0 && filled < pointed, back.join('\n'));
  });

  test('a policy edit flushes and refills the chains that use it; sets of removed rules go last', () => {
    const c = base();
    const edited = { ...c, policies: c.policies.map((p) => (p.name === 'two' ? policy('x/two', { podSelector: {}, ingress: [{ ports: [{ port: 443 }] }] }) : p)) };
    const diff = lines(renderDiff(compileNode(c, { node: 'a' }), compileNode(edited, { node: 'a' })));
    assert.equal(diff[0], 'flush chain inet netpol ingress_x/one_x/two');
    assert.ok(diff.includes('add rule inet netpol ingress_x/one_x/two meta l4proto tcp th dport 443 counter return comment "x/two ingress[0]"'));
    assert.deepEqual(diff.slice(-2), ['delete set inet netpol peers_x/two_ingress0_v4', 'delete set inet netpol peers_x/two_ingress0_v6']);
  });

  test('a set whose flags change is declared again while no chain refers to it', () => {
    // An older netpol kept a rule's pods and ipBlocks in one interval set; the pods' set is plain now.
    const c = cluster({ pods: basePods(), policies: [policy('x/p', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] })] });
    const next = compileNode(c, { node: 'a' });
    const old: Ruleset = { ...next, sets: next.sets.map((s) => (s.name === 'peers_x/p_ingress0_v4' ? { ...s, interval: true } : s)) };
    const diff = lines(renderDiff(old, next));
    const flush = diff.indexOf('flush chain inet netpol ingress_x/p');
    const del = diff.indexOf('delete set inet netpol peers_x/p_ingress0_v4');
    const add = diff.findIndex((l) => l.startsWith('add set inet netpol peers_x/p_ingress0_v4 { type ipv4_addr; comment'));
    const refill = diff.findIndex((l) => l.startsWith('add rule inet netpol ingress_x/p '));
    assert.ok(flush >= 0 && flush < del && del < add && add < refill, diff.join('\n'));
  });

  test('another table, or a different base chain: the full replacement', () => {
    const old = compileNode(base(), { node: 'a' });
    assert.equal(renderDiff(old, compileNode(base(), { node: 'a', table: 'other' })), renderRuleset(compileNode(base(), { node: 'a', table: 'other' })));
    const noInput: Ruleset = { ...old, chains: old.chains.filter((ch) => ch.name !== 'input') };
    assert.equal(renderDiff(noInput, old), renderRuleset(old));
  });
});

describe('rulesetFromNftJson', () => {
  for (const [file, { scenario, options }] of Object.entries(LISTINGS)) {
    test(`${file}: reads back into what the compiler produces`, () => {
      const parsed = rulesetFromNftJson(readListing(file));
      assert.ok(parsed);
      const compiled = compileNode(scenarios[scenario]!(), options);
      assert.equal(renderDiff(parsed, compiled), '');
      assert.deepEqual(parsed.sets, compiled.sets);
      assert.deepEqual(parsed.maps, compiled.maps);
      assert.deepEqual(
        parsed.chains.map((c) => c.rules),
        compiled.chains.map((c) => c.rules),
      );
    });
  }

  test('a rule netpol does not model makes its chain be rewritten', () => {
    const json = readListing('listing-shared-chain.json') as { nftables: Record<string, unknown>[] };
    const extra = {
      rule: { family: 'inet', table: 'netpol', chain: 'ingress_x/one_x/two', handle: 999, expr: [{ match: { op: '==', left: { meta: { key: 'mark' } }, right: 1 } }, { accept: null }] },
    };
    const parsed = rulesetFromNftJson({ nftables: [...json.nftables, extra] });
    assert.ok(parsed);
    const diff = lines(renderDiff(parsed, compileNode(scenarios['two policies on the same pods share a chain']!(), { node: 'a', denyAction: 'reject' })));
    assert.equal(diff[0], 'flush chain inet netpol ingress_x/one_x/two');
    assert.ok(diff.length > 1);
  });

  test('an element changed behind our back is put right', () => {
    const json = readListing('listing-ipblocks.json') as { nftables: { set?: { name: string; elem?: unknown[] } }[] };
    const copy = structuredClone(json);
    const set = copy.nftables.find((x) => x.set?.name === 'blocks_x/blocks_ingress0_v4')?.set;
    assert.ok(set?.elem);
    set.elem = [...set.elem.slice(1), '192.0.2.7'];
    const diff = lines(renderDiff(rulesetFromNftJson(copy)!, compileNode(scenarios['ipBlocks with except, IPv4 and IPv6']!(), { node: 'a' })));
    assert.deepEqual(diff, ['delete element inet netpol blocks_x/blocks_ingress0_v4 { 192.0.2.7 }', 'add element inet netpol blocks_x/blocks_ingress0_v4 { 10.0.0.4/30 }']);
  });

  test('elements it cannot read are replaced: the set is declared again, a map falls back to the full form', () => {
    const compiled = compileNode(scenarios['ipBlocks with except, IPv4 and IPv6']!(), { node: 'a' });
    const json = readListing('listing-ipblocks.json') as { nftables: { set?: { name: string; elem?: unknown[] }; map?: { name: string; elem?: unknown[] } }[] };
    const odd = structuredClone(json);
    const set = odd.nftables.find((x) => x.set?.name === 'blocks_x/blocks_ingress0_v4')?.set;
    assert.ok(set?.elem);
    set.elem.push({ weird: true });
    const diff = lines(renderDiff(rulesetFromNftJson(odd)!, compiled));
    assert.ok(diff.includes('delete set inet netpol blocks_x/blocks_ingress0_v4'));
    assert.ok(diff.indexOf('flush chain inet netpol ingress_x/blocks') < diff.indexOf('delete set inet netpol blocks_x/blocks_ingress0_v4'));
    const oddMap = structuredClone(json);
    const map = oddMap.nftables.find((x) => x.map?.name === 'ingress_v4')?.map;
    assert.ok(map?.elem);
    map.elem.push([{ weird: true }, { accept: null }]);
    assert.equal(renderDiff(rulesetFromNftJson(oddMap)!, compiled), renderRuleset(compiled));
  });

  test('input that is not a listing of the table gives undefined', () => {
    assert.equal(rulesetFromNftJson(undefined), undefined);
    assert.equal(rulesetFromNftJson({ nftables: 'x' }), undefined);
    assert.equal(rulesetFromNftJson({ nftables: [{ metainfo: {} }] }), undefined);
    assert.equal(rulesetFromNftJson(readListing('listing-ipblocks.json'), 'other'), undefined);
  });
});
