/**
 * The agent under faults, against a real kernel in a private network namespace: killed between its
 * transaction and its conntrack check (the restarted agent cuts what the rules in the kernel deny), and
 * its table flushed or deleted by someone else while it runs (repaired in one transaction, reported as
 * `drift`). Needs root, nft and conntrack; skipped otherwise, saying why.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type AgentEvent } from '../../src/agent/agent.js';
import { FileCutRecord } from '../../src/agent/cut-record.js';
import { NftSession } from '../../src/agent/nft-session.js';
import { ManualSource } from './manual-source.js';
import { ProcessConntrack, ProcessNft, type Conntrack } from '../../src/agent/system.js';
import { cluster, pod, policy } from '../builders.js';
import type { PodInfo } from '../../src/model/cluster.js';

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, nftables, conntrack)';
  for (const [tool, pkg] of [
    ['nft', 'nftables'],
    ['conntrack', 'conntrack'],
    ['ip', 'iproute2'],
  ]) {
    if (spawnSync(tool as string, ['--version']).error) return `needs ${tool} (Debian package ${pkg})`;
  }
  return false;
}
const skip = skipReason();
const NS = `netpol-test-faults-${process.pid}`;

/**
 * The real conntrack, except that `list` does not answer until `kill()`: the agent is "killed" while its
 * check runs. `kill()` fails the listing so that the test can stop that agent and its nft children
 * (a process that is really killed leaves none behind; one left running here keeps the test alive).
 */
class Hanging implements Conntrack {
  listed = false;
  private fail: ((e: Error) => void) | undefined;
  list() {
    this.listed = true;
    return new Promise<never>((_resolve, reject) => (this.fail = reject));
  }
  kill(): void {
    this.fail?.(new Error('killed'));
  }
  delete(): Promise<void> {
    throw new Error('not reached');
  }
}

/** Counts the listings of the real conntrack. */
class Counting implements Conntrack {
  lists = 0;
  private readonly inner = new ProcessConntrack(NS);
  list() {
    this.lists++;
    return this.inner.list();
  }
  delete(f: Parameters<Conntrack['delete']>[0]) {
    return this.inner.delete(f);
  }
}

const onNode = (p: PodInfo): PodInfo => ({ ...p, nodeName: 'n1' });
const a = onNode(pod('x/a', { app: 'a' }, { ips: ['10.9.0.1'] }));
const b = onNode(pod('x/b', { app: 'b' }, { ips: ['10.9.0.2'] }));
/** a admits b; then a admits nobody. */
const admitsB = cluster({ pods: [a, b], policies: [policy('x/a-from-b', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }] }] })] });
const admitsNone = cluster({ pods: [a, b], policies: [policy('x/a-from-none', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Ingress'] })] });

const inNs = (cmd: string, ...args: string[]) => execFileSync('ip', ['netns', 'exec', NS, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
/** An established b -> a:80 connection, as conntrack holds it. */
const holdBtoA = () => inNs('conntrack', '-I', '-p', 'tcp', '-s', '10.9.0.2', '-d', '10.9.0.1', '--sport', '40000', '--dport', '80', '--state', 'ESTABLISHED', '-t', '600', '-u', 'SEEN_REPLY,ASSURED');
const tracked = () => inNs('conntrack', '-L').includes('src=10.9.0.2 dst=10.9.0.1 sport=40000 dport=80');
const listing = () => spawnSync('ip', ['netns', 'exec', NS, 'nft', 'list', 'table', 'inet', 'netpol'], { encoding: 'utf8' }).stdout;

async function until(what: () => boolean): Promise<void> {
  while (!what()) await new Promise((r) => setTimeout(r, 10));
}

describe('the agent killed between its transaction and its conntrack check', { skip }, () => {
  let stateDir = '';
  before(() => {
    execFileSync('ip', ['netns', 'add', NS]);
    stateDir = mkdtempSync(join(tmpdir(), 'netpol-state-'));
  });
  after(() => {
    spawnSync('ip', ['netns', 'del', NS]);
    rmSync(stateDir, { recursive: true, force: true });
  });
  const opts = () => ({ node: 'n1', denyAction: 'drop' as const, existingConnections: 'cut' as const, verifyMs: 0, cutRecord: new FileCutRecord(stateDir, 'netpol') });

  test('the restarted agent finds the kernel up to date, and still cuts what the rules deny before reporting', async () => {
    // A checked start: the kernel at "a admits b", the check recorded.
    const first = new Agent(new ManualSource(admitsB), new NftSession({ netns: NS }), new Counting(), opts(), () => {});
    await first.start();
    await first.stop();
    holdBtoA();
    assert.ok(tracked());

    // The revoking change commits; the agent dies while its conntrack child runs.
    const hanging = new Hanging();
    const source = new ManualSource(admitsB);
    const doomedNft = new NftSession({ netns: NS });
    const doomed = new Agent(source, doomedNft, hanging, opts(), () => {});
    await doomed.start();
    void source.push(admitsNone);
    await until(() => hanging.listed);
    assert.match(listing(), /x\/a-from-none/, 'the new rules are committed');
    assert.ok(tracked(), 'and the revoked connection is still tracked');
    hanging.kill();
    await doomed.stop();
    assert.ok(tracked(), 'the killed agent cut nothing');

    // Restart: nothing to apply, but the check runs, and before the snapshot is reported.
    const conntrack = new Counting();
    const events: AgentEvent[] = [];
    const restarted = new Agent(new ManualSource(admitsNone), new NftSession({ netns: NS }), conntrack, opts(), (e) => events.push(e));
    await restarted.start();
    await restarted.stop();
    assert.equal(tracked(), false, 'the revoked connection is cut');
    assert.deepEqual(
      events.map((e) => e.kind),
      ['cut', 'unchanged'],
    );
    assert.match(events[0]?.message ?? '', /TCP 10\.9\.0\.2->10\.9\.0\.1:80/);

    // Once recorded, a further restart on the same rules has nothing to check.
    const again = new Counting();
    const quiet = new Agent(new ManualSource(admitsNone), new NftSession({ netns: NS }), again, opts(), () => {});
    await quiet.start();
    await quiet.stop();
    assert.equal(again.lists, 0);
  });

  test('without a record (first start, lost state directory) the start runs the check', async () => {
    holdBtoA();
    const conntrack = new Counting();
    const events: AgentEvent[] = [];
    const fresh = { ...opts(), cutRecord: new FileCutRecord(join(stateDir, 'elsewhere'), 'netpol') };
    const agent = new Agent(new ManualSource(admitsNone), new NftSession({ netns: NS }), conntrack, fresh, (e) => events.push(e));
    await agent.start();
    await agent.stop();
    assert.equal(conntrack.lists, 1);
    assert.equal(tracked(), false);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['cut', 'unchanged'],
    );
  });
});

describe('someone else changes the table while the agent runs', { skip }, () => {
  before(() => execFileSync('ip', ['netns', 'add', `${NS}-d`]));
  after(() => spawnSync('ip', ['netns', 'del', `${NS}-d`]));
  const ns = `${NS}-d`;
  const nft = (...args: string[]) => execFileSync('ip', ['netns', 'exec', ns, 'nft', ...args], { encoding: 'utf8' });
  const opts = { node: 'n1', denyAction: 'drop' as const, existingConnections: 'cut' as const, cutRecord: undefined };

  for (const [what, tamper] of [
    ['a flushed table', () => nft('flush', 'table', 'inet', 'netpol')],
    ['a deleted table', () => nft('delete', 'table', 'inet', 'netpol')],
    ['a flushed base chain', () => nft('flush', 'chain', 'inet', 'netpol', 'forward')],
    [
      'a deleted set element',
      () => {
        // The set a admits from: it holds b's address alone.
        const set = /set (\S+) \{[^}]*elements = \{ 10\.9\.0\.2 \}/.exec(nft('list', 'table', 'inet', 'netpol'))?.[1];
        assert.ok(set);
        nft('delete', 'element', 'inet', 'netpol', set, '{ 10.9.0.2 }');
      },
    ],
  ] as const) {
    test(`${what} is seen at once (nft monitor) and repaired in one transaction`, async (t) => {
      const events: AgentEvent[] = [];
      // The periodic check is out of the way: only the watch can notice.
      const agent = new Agent(new ManualSource(admitsB), new NftSession({ netns: ns }), new ProcessConntrack(ns), { ...opts, verifyMs: 3_600_000 }, (e) => events.push(e));
      t.after(() => agent.stop());
      await agent.start();
      const good = nft('list', 'table', 'inet', 'netpol');
      // The watch is a separate process that may not have subscribed yet: tamper again until it is seen.
      tamper();
      for (let i = 1; !events.some((e) => e.kind === 'drift'); i++) {
        await new Promise((r) => setTimeout(r, 10));
        if (i % 50 === 0 && nft('list', 'table', 'inet', 'netpol') === good) tamper();
      }
      const drift = events.find((e) => e.kind === 'drift');
      assert.match(drift?.message ?? '', /^drift repaired \(changed by nft \(pid \d+\)/);
      assert.equal(nft('list', 'table', 'inet', 'netpol'), good);
      // The repair is the agent's own change: its commit does not set off another comparison.
      const verifications = agent.counters.verifications;
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(agent.counters.verifications, verifications);
    });
  }

  test('without a watch, the periodic check finds and repairs a flushed table', async (t) => {
    const events: AgentEvent[] = [];
    // ProcessNft has no watch: only the periodic comparison remains.
    const agent = new Agent(new ManualSource(admitsB), new ProcessNft(ns), undefined, { ...opts, verifyMs: 50 }, (e) => events.push(e));
    t.after(() => agent.stop());
    await agent.start();
    const good = nft('list', 'table', 'inet', 'netpol');
    nft('flush', 'table', 'inet', 'netpol');
    await until(() => events.some((e) => e.kind === 'drift'));
    assert.match(events.find((e) => e.kind === 'drift')?.message ?? '', /^drift repaired \(periodic check\): the table differed/);
    assert.equal(nft('list', 'table', 'inet', 'netpol'), good);
    assert.ok(agent.counters.verifications >= 1);
  });
});
