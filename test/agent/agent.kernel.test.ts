/**
 * The agent against a real kernel, in a private network namespace: first apply as one transaction,
 * restart reconciling with the rules in place (never deleting the table), incremental changes, and an
 * apply that fails without taking enforcement down. Needs root and nft; skipped otherwise, saying why.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { Agent, type AgentEvent } from '../../src/agent/agent.js';
import type { ClusterSnapshot, ClusterSource } from '../../src/agent/source.js';
import { ProcessNft, type NftRunner } from '../../src/agent/system.js';
import { cluster, pod, policy } from '../builders.js';
import type { PodInfo } from '../../src/model/cluster.js';

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces and nftables)';
  if (spawnSync('nft', ['--version']).error) return 'needs nft (Debian package nftables)';
  if (spawnSync('ip', ['-V']).error) return 'needs ip (Debian package iproute2)';
  return false;
}
const skip = skipReason();
const NS = `netpol-test-agent-${process.pid}`;

/** Records every script while applying it for real. */
class Recording implements NftRunner {
  readonly scripts: string[] = [];
  constructor(private readonly inner: NftRunner) {}
  apply(script: string) {
    this.scripts.push(script);
    return this.inner.apply(script);
  }
  listTable(t: string) {
    return this.inner.listTable(t);
  }
}

/** A source the test drives by hand. */
class ManualSource implements ClusterSource {
  private cb: ((s: ClusterSnapshot) => void | Promise<void>) | undefined;
  private generation = 0;
  constructor(private first: ClusterSnapshot['cluster']) {}
  async start(cb: (s: ClusterSnapshot) => void | Promise<void>) {
    this.cb = cb;
    await this.push(this.first);
  }
  async push(c: ClusterSnapshot['cluster']) {
    await this.cb?.({ cluster: c, diagnostics: [], generation: ++this.generation });
  }
  async stop() {}
}

const onNode = (p: PodInfo): PodInfo => ({ ...p, nodeName: 'n1' });
const a = onNode(pod('x/a', { app: 'a' }, { ips: ['10.9.0.1'] }));
const b = onNode(pod('x/b', { app: 'b' }, { ips: ['10.9.0.2'] }));
const c1 = cluster({ pods: [a, b], policies: [policy('x/a-from-b', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }] }] })] });
const c2 = cluster({ pods: [a, b], policies: [policy('x/deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })] });

function listing(): string {
  return execFileSync('ip', ['netns', 'exec', NS, 'nft', 'list', 'table', 'inet', 'netpol'], { encoding: 'utf8' });
}

describe('agent in a network namespace', { skip }, () => {
  before(() => execFileSync('ip', ['netns', 'add', NS]));
  after(() => spawnSync('ip', ['netns', 'del', NS]));

  const opts = { node: 'n1', denyAction: 'drop' as const, existingConnections: 'keep' as const };

  test('first start applies the whole table in one transaction', async () => {
    const nft = new Recording(new ProcessNft(NS));
    const events: AgentEvent[] = [];
    await new Agent(new ManualSource(c1), nft, undefined, opts, (e) => events.push(e)).start();
    assert.equal(nft.scripts.length, 1);
    assert.deepEqual(events.filter((e) => e.kind === 'error'), []);
    assert.match(listing(), /10\.9\.0\.1 : jump /, 'a is dispatched to its ingress chain');
  });

  test('a restarted agent reconciles with the kernel: nothing to apply, the table is never deleted', async () => {
    const nft = new Recording(new ProcessNft(NS));
    const events: AgentEvent[] = [];
    await new Agent(new ManualSource(c1), nft, undefined, opts, (e) => events.push(e)).start();
    assert.deepEqual(nft.scripts, [], 'no script at all: the kernel already holds this ruleset');
    assert.deepEqual(events.map((e) => e.kind), ['unchanged']);
  });

  test('a change is applied incrementally, without deleting the table, and the kernel ends up with the new rules', async () => {
    const nft = new Recording(new ProcessNft(NS));
    const source = new ManualSource(c1);
    const events: AgentEvent[] = [];
    await new Agent(source, nft, undefined, opts, (e) => events.push(e)).start();
    await source.push(c2);
    assert.equal(nft.scripts.length, 1);
    assert.doesNotMatch(nft.scripts[0] ?? '', /delete table/);
    const text = listing();
    assert.match(text, /10\.9\.0\.2 : jump /, 'b is now isolated too');
    assert.match(text, /x\/deny-all/);
    assert.doesNotMatch(text, /x\/a-from-b/);
  });

  test('a failing apply is reported, leaves the kernel as it was, and the next change still applies', async () => {
    const before = listing();
    const failing: NftRunner = { apply: async () => Promise.reject(new Error('simulated nft failure')), listTable: (t) => new ProcessNft(NS).listTable(t) };
    const events: AgentEvent[] = [];
    const source = new ManualSource(c2);
    const agent = new Agent(source, failing, undefined, opts, (e) => events.push(e));
    await agent.start();
    await source.push(c1);
    assert.ok(events.some((e) => e.kind === 'error' && /simulated nft failure/.test(e.message)));
    assert.equal(listing(), before);
    const ok = new Recording(new ProcessNft(NS));
    const source2 = new ManualSource(c1);
    await new Agent(source2, ok, undefined, opts, () => {}).start();
    assert.match(listing(), /x\/a-from-b/);
  });
});
