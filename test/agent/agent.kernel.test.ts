/**
 * The agent against a real kernel, in a private network namespace, through its own runner (a persistent
 * `nft -i`): first apply as one transaction, restart reconciling with the rules in place (never deleting
 * the table), incremental changes, an apply that fails without taking enforcement down and is retried on
 * the agent's own, and the conntrack check skipped for changes that can revoke nothing. Needs root and
 * nft; skipped otherwise, saying why.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { Agent, onlyAdmitsMore, type AgentEvent } from '../../src/agent/agent.js';
import { NftSession } from '../../src/agent/nft-session.js';
import { ManualSource } from './manual-source.js';
import { ProcessConntrack, ProcessNft, type Conntrack, type NftRunner } from '../../src/agent/system.js';
import { compileNode, diffRuleset } from '../../src/nft/index.js';
import { cluster, pod, policy } from '../builders.js';
import type { PodInfo } from '../../src/model/cluster.js';
import type { Diagnostic } from '../../src/diag/diagnostic.js';

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
  close() {
    this.inner.close?.();
  }
}

/** The real runner, made to fail its first `failures` applies (a fault injected in front of it). */
class Flaky extends Recording {
  constructor(
    inner: NftRunner,
    private failures: number,
  ) {
    super(inner);
  }
  override apply(script: string) {
    if (this.failures-- > 0) return Promise.reject(new Error('injected nft failure'));
    return super.apply(script);
  }
}

/** The real conntrack, counting how often the agent looks at it; the first `failures` listings fail. */
class CountingConntrack implements Conntrack {
  lists = 0;
  constructor(
    private readonly inner: Conntrack,
    private failures = 0,
  ) {}
  list() {
    this.lists++;
    if (this.failures-- > 0) return Promise.reject(new Error('injected conntrack failure'));
    return this.inner.list();
  }
  delete(f: Parameters<Conntrack['delete']>[0]) {
    return this.inner.delete(f);
  }
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
    const nft = new Recording(new NftSession({ netns: NS }));
    const events: AgentEvent[] = [];
    const agent = new Agent(new ManualSource(c1), nft, undefined, opts, (e) => events.push(e));
    await agent.start();
    await agent.stop();
    assert.equal(nft.scripts.length, 1);
    assert.deepEqual(
      events.filter((e) => e.kind === 'error'),
      [],
    );
    assert.match(listing(), /10\.9\.0\.1 : jump /, 'a is dispatched to its ingress chain');
  });

  test('a restarted agent reconciles with the kernel: nothing to apply, the table is never deleted', async () => {
    const nft = new Recording(new NftSession({ netns: NS }));
    const events: AgentEvent[] = [];
    const agent = new Agent(new ManualSource(c1), nft, undefined, opts, (e) => events.push(e));
    await agent.start();
    await agent.stop();
    assert.deepEqual(nft.scripts, [], 'no script at all: the kernel already holds this ruleset');
    assert.deepEqual(
      events.map((e) => e.kind),
      ['unchanged'],
    );
  });

  test('a change is applied incrementally, without deleting the table, and the kernel ends up with the new rules', async () => {
    const nft = new Recording(new NftSession({ netns: NS }));
    const source = new ManualSource(c1);
    const events: AgentEvent[] = [];
    const agent = new Agent(source, nft, undefined, opts, (e) => events.push(e));
    await agent.start();
    await source.push(c2);
    await agent.stop();
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
    const agent = new Agent(source, failing, undefined, { ...opts, retry: false }, (e) => events.push(e));
    await agent.start();
    await source.push(c1);
    await agent.stop();
    assert.ok(events.some((e) => e.kind === 'error' && /simulated nft failure/.test(e.message)));
    assert.equal(listing(), before);
    const ok = new Recording(new NftSession({ netns: NS }));
    const source2 = new ManualSource(c1);
    const agent2 = new Agent(source2, ok, undefined, opts, () => {});
    await agent2.start();
    await agent2.stop();
    assert.match(listing(), /x\/a-from-b/);
  });

  test('a failed apply is retried by the agent itself, with growing delays, until the kernel holds the snapshot', async () => {
    const nft = new Flaky(new NftSession({ netns: NS }), 2);
    const source = new ManualSource(c1);
    const events: AgentEvent[] = [];
    const agent = new Agent(source, nft, undefined, { ...opts, retryMs: 20 }, (e) => events.push(e));
    await agent.start();
    await source.push(c2);
    for (let i = 0; i < 100 && !events.some((e) => e.kind === 'applied'); i++) await new Promise((r) => setTimeout(r, 10));
    await agent.stop();
    assert.deepEqual(
      events.filter((e) => e.kind === 'error').map((e) => e.message),
      ['injected nft failure (retrying in 20 ms)', 'injected nft failure (retrying in 40 ms)'],
    );
    assert.deepEqual(events.at(-1)?.kind, 'applied');
    assert.equal(nft.scripts.length, 1, 'one apply went through: the retry of the latest snapshot');
    assert.match(listing(), /x\/deny-all/);
  });

  test('a newer snapshot replaces a pending retry', async (t) => {
    const nft = new Flaky(new NftSession({ netns: NS }), 1);
    const source = new ManualSource(c1);
    const events: AgentEvent[] = [];
    const agent = new Agent(source, nft, undefined, { ...opts, retryMs: 60_000 }, (e) => events.push(e));
    t.after(() => agent.stop());
    // The kernel holds c2: the first apply fails and a retry waits a minute; the next snapshot goes at once.
    await agent.start();
    await source.push(c1);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['error', 'applied'],
    );
    assert.match(listing(), /x\/a-from-b/);
  });

  test('conntrack is read after a change that may revoke, not after one that only admits more', async (t) => {
    const conntrack = new CountingConntrack(new ProcessConntrack(NS));
    const source = new ManualSource(c1);
    const agent = new Agent(source, new NftSession({ netns: NS }), conntrack, { ...opts, existingConnections: 'cut' }, () => {});
    t.after(() => agent.stop());
    await agent.start();
    // Without a record of a completed check, the start runs one for what the kernel holds.
    assert.equal(conntrack.lists, 1);
    const c = onNode(pod('x/c', { app: 'b' }, { ips: ['10.9.0.3'] }));
    const d = onNode(pod('x/d', { app: 'b' }, { ips: ['10.9.0.4'] }));
    // Another peer b: joins the set a admits from.
    await source.push({ ...c1, pods: [a, b, c] });
    assert.equal(conntrack.lists, 1);
    // A peer relabelled away from it: may revoke.
    await source.push({ ...c1, pods: [a, b, { ...c, labels: { app: 'other' } }] });
    assert.equal(conntrack.lists, 2);
    // A new pod a: joins the dispatch map, isolated from now on: may revoke.
    await source.push({ ...c1, pods: [a, b, { ...c, labels: { app: 'other' } }, { ...d, labels: { app: 'a' } }] });
    assert.equal(conntrack.lists, 3);
  });

  test('a conntrack check that fails after its rules went in is run again by the retry', async (t) => {
    // The kernel at c1 first, so that c2 is a change that may revoke.
    const setup = new Agent(new ManualSource(c1), new NftSession({ netns: NS }), undefined, opts, () => {});
    await setup.start();
    await setup.stop();
    const conntrack = new CountingConntrack(new ProcessConntrack(NS), 1);
    const events: AgentEvent[] = [];
    const agent = new Agent(new ManualSource(c2), new NftSession({ netns: NS }), conntrack, { ...opts, existingConnections: 'cut', retryMs: 20 }, (e) => events.push(e));
    t.after(() => agent.stop());
    await agent.start();
    for (let i = 0; i < 200 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(
      events.map((e) => `${e.kind}${e.kind === 'error' ? `: ${e.message}` : ''}`),
      ['error: injected conntrack failure (retrying in 20 ms)', 'unchanged'],
      'the rules went in at once; the retry finds nothing to apply and runs the check',
    );
    assert.equal(conntrack.lists, 2);
    assert.match(listing(), /x\/deny-all/);
  });
  test('what the node cannot enforce is said once, and the applied event counts local and isolated pods', async (t) => {
    const events: AgentEvent[] = [];
    const source = new ManualSource(c1);
    const agent = new Agent(source, new NftSession({ netns: NS }), undefined, opts, (e) => events.push(e));
    t.after(() => agent.stop());
    await agent.start();
    const noIP = onNode(pod('x/no-ip', { app: 'a' }));
    const host = { ...onNode(pod('x/host', { app: 'a' }, { ips: ['10.9.0.9'] })), hostNetwork: true };
    const elsewhere = pod('x/unscheduled', { app: 'b' }, { ips: ['10.9.0.8'] });
    await source.push({ ...c2, pods: [a, b, noIP, host, elsewhere] });
    await source.push({ ...c2, pods: [a, b, noIP, host, elsewhere, onNode(pod('x/e', {}, { ips: ['10.9.0.5'] }))] });
    await source.push({ ...c2, pods: [a, b] });
    // From generation 2 on: the first depends on what the kernel held before.
    const said = events.filter((e) => (e.generation ?? 0) >= 2).map((e) => `${e.kind}: ${e.message}`);
    assert.deepEqual(said, [
      'applied: applied generation 2 (incremental): 4 local pods, 2 isolated',
      'problem: warning: local pods without an IP are not enforced (no address to key the rules on): x/no-ip',
      "problem: warning: local host-network pods are not enforced (their traffic is the node's own): x/host",
      'problem: warning: 1 pod has no spec.nodeName: no node enforces their side of a connection',
      'applied: applied generation 3 (incremental): 5 local pods, 3 isolated',
      'applied: applied generation 4 (incremental): 2 local pods, 2 isolated',
      'resolved: warning: local pods without an IP are not enforced (no address to key the rules on): x/no-ip',
      "resolved: warning: local host-network pods are not enforced (their traffic is the node's own): x/host",
      'resolved: warning: 1 pod has no spec.nodeName: no node enforces their side of a connection',
    ]);
  });
});

test('input problems are reported once, and reported resolved when they go away', async (t) => {
  // Only the reports are looked at: the runner's applies fail without touching any kernel.
  const nft: NftRunner = { apply: async () => Promise.reject(new Error('not applied')), listTable: async () => undefined };
  const source = new ManualSource(c1);
  const events: AgentEvent[] = [];
  const agent = new Agent(source, nft, undefined, { node: 'n1', denyAction: 'drop', existingConnections: 'keep', retry: false }, (e) => events.push(e));
  t.after(() => agent.stop());
  await agent.start();
  const broken: Diagnostic = { severity: 'error', code: 'KeptLastGood', message: 'p.yaml does not parse; enforcing its last good content until it is fixed', file: 'p.yaml' };
  const implicit: Diagnostic = { severity: 'warning', code: 'ImplicitNamespace', message: 'namespace "x" is not declared', file: 'pods.yaml', line: 3, column: 5 };
  const info: Diagnostic = { severity: 'info', code: 'UnknownKind', message: 'ignored: kind Service' };
  await source.push(c1, [broken, info]);
  await source.push(c1, [broken, implicit]);
  await source.push(c1, [implicit, implicit]);
  await source.push(c1, []);
  const said = events.filter((e) => e.kind === 'problem' || e.kind === 'resolved').map((e) => `${e.generation} ${e.kind} ${e.message}`);
  assert.deepEqual(said, [
    '2 problem error: p.yaml p.yaml does not parse; enforcing its last good content until it is fixed',
    '3 problem warning: pods.yaml:3:5 namespace "x" is not declared',
    '4 resolved error: p.yaml p.yaml does not parse; enforcing its last good content until it is fixed',
    '5 resolved warning: pods.yaml:3:5 namespace "x" is not declared',
  ]);
});

test('onlyAdmitsMore: element additions to accepting sets only', () => {
  const c = onNode(pod('x/c', { app: 'b' }, { ips: ['10.9.0.3'] }));
  const before = compileNode(c1, { node: 'n1' });
  const more = compileNode({ ...c1, pods: [a, b, c] }, { node: 'n1' });
  const change = diffRuleset(before, more);
  assert.ok(!change.full);
  assert.deepEqual(
    change.setElements.map((e) => [e.removed, e.added]),
    [[[], ['10.9.0.3']]],
  );
  assert.equal(onlyAdmitsMore(change, more), true);
  assert.equal(onlyAdmitsMore(diffRuleset(more, before), before), false, 'removing the element');
  const other = compileNode(c2, { node: 'n1' });
  assert.equal(onlyAdmitsMore(diffRuleset(before, other), other), false, 'another policy');
  assert.equal(onlyAdmitsMore(diffRuleset(more, more), more), false, 'no change');
  assert.equal(onlyAdmitsMore({ full: true }, more), false, 'a replaced table');
});
