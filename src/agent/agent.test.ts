/**
 * The agent's own logic through its seams, without a kernel: retries, the conntrack check (which
 * connections are cut), the record of completed checks, incomplete input and drift repair. Fakes stand
 * in for nft and conntrack here; test/agent/*.kernel.test.ts hold the same logic to the real tools.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cluster, pod, policy } from '../../test/builders.js';
import { ManualSource } from '../../test/agent/manual-source.js';
import type { PodInfo } from '../model/index.js';
import { Agent, type AgentEvent, type AgentOptions } from './agent.js';
import type { CutRecord } from './cut-record.js';
import type { Conntrack, Flow, NftRunner } from './system.js';

/** Applies nothing anywhere: records scripts, fails the first `failures`, and holds no table. */
class FakeNft implements NftRunner {
  readonly scripts: string[] = [];
  constructor(private failures = 0) {}
  async apply(script: string) {
    if (this.failures-- > 0) throw new Error('injected nft failure');
    this.scripts.push(script);
  }
  async listTable() {
    return undefined;
  }
}

class FakeConntrack implements Conntrack {
  lists = 0;
  readonly deleted: string[] = [];
  constructor(private readonly flows: Flow[] = []) {}
  async list() {
    this.lists++;
    return this.flows;
  }
  async delete(f: Pick<Flow, 'protocol' | 'source' | 'destination' | 'destinationPort'>) {
    this.deleted.push(`${f.protocol} ${f.source}->${f.destination}:${f.destinationPort}`);
  }
}

class MemoryRecord implements CutRecord {
  writes: string[] = [];
  constructor(
    private digest?: string,
    private readonly failWrites = false,
  ) {}
  async read() {
    return this.digest;
  }
  async write(digest: string) {
    if (this.failWrites) throw new Error('read-only file system');
    this.writes.push(digest);
    this.digest = digest;
  }
}

const local = (p: PodInfo): PodInfo => ({ ...p, nodeName: 'n1' });
const a = local(pod('x/a', { app: 'a' }, { ips: ['10.9.0.1'] }));
const b = local(pod('x/b', { app: 'b' }, { ips: ['10.9.0.2'] }));
const remote = { ...pod('x/r', { app: 'r' }, { ips: ['10.9.1.1'] }), nodeName: 'n2' };
/** a admits b on TCP 80 only. */
const c1 = cluster({
  pods: [a, b, remote],
  policies: [policy('x/a-from-b', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }], ports: [{ port: 80 }] }] })],
});
const opts: AgentOptions = { node: 'n1', denyAction: 'drop', existingConnections: 'cut', verifyMs: 0 };

const tcp = (source: string, destination: string, destinationPort: number, state = 'ESTABLISHED', sourcePort = 40000): Flow => ({
  protocol: 'TCP',
  source,
  destination,
  sourcePort,
  destinationPort,
  state,
});

async function until(what: () => boolean): Promise<void> {
  while (!what()) await new Promise((r) => setTimeout(r, 1));
}

describe('retries', () => {
  test('a failed apply is retried with doubling delays until it goes in', async () => {
    const nft = new FakeNft(3);
    const events: AgentEvent[] = [];
    const agent = new Agent(new ManualSource(c1), nft, undefined, { ...opts, retryMs: 1 }, (e) => events.push(e));
    await agent.start();
    await until(() => events.some((e) => e.kind === 'applied'));
    await agent.stop();
    assert.deepEqual(
      events.map((e) => `${e.kind} ${e.kind === 'error' ? e.message : ''}`.trim()),
      ['error injected nft failure (retrying in 1 ms)', 'error injected nft failure (retrying in 2 ms)', 'error injected nft failure (retrying in 4 ms)', 'applied'],
    );
    assert.equal(nft.scripts.length, 1);
    assert.deepEqual({ applies: agent.counters.applies, failures: agent.counters.failures }, { applies: 1, failures: 3 });
  });

  test('without retries (--once), a failure is reported once and nothing else happens', async () => {
    const events: AgentEvent[] = [];
    const agent = new Agent(new ManualSource(c1), new FakeNft(1), undefined, { ...opts, retry: false, retryMs: 1 }, (e) => events.push(e));
    await agent.start();
    await new Promise((r) => setTimeout(r, 20));
    await agent.stop();
    assert.deepEqual(
      events.map((e) => `${e.kind} ${e.message}`),
      ['error injected nft failure'],
    );
  });
});

describe('the conntrack check', () => {
  test('cuts each denied group once, and leaves allowed, closing and non-local connections alone', async () => {
    const conntrack = new FakeConntrack([
      tcp('10.9.0.2', '10.9.0.1', 80),
      tcp('10.9.0.2', '10.9.0.1', 81),
      tcp('10.9.0.2', '10.9.0.1', 81, 'ESTABLISHED', 40001),
      tcp('10.9.0.2', '10.9.0.1', 82, 'TIME_WAIT'),
      tcp('10.9.1.1', '10.9.0.1', 80),
      tcp('10.9.1.1', '192.0.2.1', 443),
      tcp('not-an-address', '10.9.0.1', 80),
      { protocol: 'UDP', source: '10.9.0.2', destination: '10.9.0.1', sourcePort: 5000, destinationPort: 80 },
    ]);
    const events: AgentEvent[] = [];
    const agent = new Agent(new ManualSource(c1), new FakeNft(), conntrack, opts, (e) => events.push(e));
    await agent.start();
    await agent.stop();
    assert.deepEqual(conntrack.deleted.sort(), ['TCP 10.9.0.2->10.9.0.1:81', 'TCP 10.9.1.1->10.9.0.1:80', 'UDP 10.9.0.2->10.9.0.1:80']);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['cut', 'applied'],
    );
    assert.deepEqual({ cutChecks: agent.counters.cutChecks, connectionsCut: agent.counters.connectionsCut }, { cutChecks: 1, connectionsCut: 3 });
  });

  test('keep: conntrack is never read', async () => {
    const conntrack = new FakeConntrack([tcp('10.9.0.2', '10.9.0.1', 81)]);
    const agent = new Agent(new ManualSource(c1), new FakeNft(), conntrack, { ...opts, existingConnections: 'keep' }, () => {});
    await agent.start();
    await agent.stop();
    assert.equal(conntrack.lists, 0);
  });

  test('a completed check is recorded; a start that applies a change checks whatever the record says', async () => {
    const record = new MemoryRecord('digest of some other ruleset');
    const conntrack = new FakeConntrack();
    const agent = new Agent(new ManualSource(c1), new FakeNft(), conntrack, { ...opts, cutRecord: record }, () => {});
    await agent.start();
    await agent.stop();
    assert.equal(conntrack.lists, 1);
    assert.equal(record.writes.length, 1);
    assert.match(record.writes[0] ?? '', /^[0-9a-f]{64}$/);
    // The same record, the same snapshot, but the (fake) kernel holds no table: a change, so a check.
    const again = new FakeConntrack();
    const second = new Agent(new ManualSource(c1), new FakeNft(), again, { ...opts, cutRecord: record }, () => {});
    await second.start();
    await second.stop();
    assert.equal(again.lists, 1);
    assert.deepEqual(record.writes[1], record.writes[0], 'the same ruleset, the same digest');
  });

  test('a record that cannot be written is a problem, not a failure: the snapshot counts as applied', async () => {
    const events: AgentEvent[] = [];
    const agent = new Agent(new ManualSource(c1), new FakeNft(), new FakeConntrack(), { ...opts, cutRecord: new MemoryRecord(undefined, true) }, (e) => events.push(e));
    await agent.start();
    await agent.stop();
    assert.deepEqual(
      events.map((e) => `${e.kind}${e.kind === 'problem' ? `: ${e.message}` : ''}`),
      ['problem: cannot record the conntrack check (a restart will run it again): read-only file system', 'applied'],
    );
  });
});

test('an incomplete snapshot is not applied, said once per cause; the next complete one is', async () => {
  const nft = new FakeNft();
  const events: AgentEvent[] = [];
  const source = new ManualSource(c1);
  const agent = new Agent(source, nft, undefined, opts, (e) => events.push(e));
  await agent.start();
  const empty = cluster({});
  await source.push(empty, [], 'cannot read /etc/netpol');
  await source.push(empty, [], 'cannot read /etc/netpol');
  assert.equal(nft.scripts.length, 1, 'only the first, complete snapshot went in');
  await source.push({ ...c1, pods: [a, remote] });
  await agent.stop();
  assert.deepEqual(
    events.map((e) => `${e.kind} ${e.generation}`),
    ['applied 1', 'error 2', 'applied 4'],
  );
  assert.match(events[1]?.message ?? '', /input incomplete \(cannot read \/etc\/netpol\): not applied/);
  assert.equal(nft.scripts.length, 2);
});

test('a drift check that finds the table gone puts it back in one transaction and reports it', async () => {
  const nft = new FakeNft();
  const events: AgentEvent[] = [];
  const agent = new Agent(new ManualSource(c1), nft, undefined, opts, (e) => events.push(e));
  await agent.start();
  // The fake kernel holds no table: as if it had been deleted.
  await agent.requestVerify('test');
  await agent.stop();
  assert.deepEqual(
    events.map((e) => `${e.kind}: ${e.message.replace(/:.*/, '')}`),
    ['applied: applied generation 1 (full)', 'drift: drift repaired (test)'],
  );
  assert.equal(nft.scripts.length, 2);
  assert.equal(nft.scripts[1], nft.scripts[0], 'the whole table again, as one script');
  assert.deepEqual({ verifications: agent.counters.verifications, driftRepairs: agent.counters.driftRepairs }, { verifications: 1, driftRepairs: 1 });
});
