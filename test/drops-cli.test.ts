/**
 * `netpol drops` against a real agent HTTP server (src/agent/http.ts) serving a real drop log fed kernel
 * records: the events with their policies, the check line, paging with --since, the agent's errors, and
 * hostile names (every control and bidi character) that must not reach the terminal raw.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCluster } from '../src/load/index.js';
import { compileNode } from '../src/nft/index.js';
import { startAgentServer, type AgentServer } from '../src/agent/http.js';
import { DropLog, type DropEvent } from '../src/agent/drops.js';
import { stagesPolicies, startDropLog } from '../src/agent/drop-service.js';
import type { KernelLogReader } from '../src/agent/kmsg-reader.js';
import type { KmsgRecord } from '../src/agent/kmsg.js';
import { checkArgs } from '../src/cli/drops.js';
import { scenarios } from './fixtures/nft/scenarios.js';
import { netpol } from './netpol.js';

const cluster = scenarios['two policies on the same pods share a chain']!();
const ruleset = compileNode(cluster, { node: 'a', log: true });
/** Every policy staged (`--mode audit`): the chains end in audit tails. */
const staged = compileNode(cluster, { node: 'a', mode: 'audit' });

function line(chain: string, source: string, destination: string, sport: number, dport: number): string {
  return `netpol deny ${chain}: IN=v0 OUT=v1 MAC=00 SRC=${source} DST=${destination} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=${sport} DPT=${dport} WINDOW=64240 RES=0x00 SYN URGP=0 `;
}

/** A kernel log that delivers what the test pushes (the agent's reader seam). */
class PushedLog implements KernelLogReader {
  private deliver: ((r: KmsgRecord, wallMs: number) => void) | undefined;
  private seq = 0;
  start(record: (r: KmsgRecord, wallMs: number) => void): void {
    this.deliver = record;
  }
  stop(): void {
    this.deliver = undefined;
  }
  push(message: string): void {
    this.deliver?.({ seq: ++this.seq, usec: 0, message }, Date.UTC(2026, 11, 3, 12, 0, this.seq));
  }
}

async function withAgent(fn: (base: string, log: PushedLog) => Promise<void>): Promise<void> {
  const log = new PushedLog();
  const drops = startDropLog({ node: 'a', enforced: () => ({ ruleset, cluster }), report: () => {}, reader: log });
  const server: AgentServer = await startAgentServer({ host: '127.0.0.1', port: 0 }, { ready: () => true, metrics: async () => [], drops: (since) => drops.answer(since) });
  try {
    await fn(`http://127.0.0.1:${server.address.port}`, log);
  } finally {
    drops.stop();
    await server.close();
  }
}

describe('netpol drops', () => {
  test('text: each event with its policies and the netpol check that reproduces it; json and wide; --since pages', async () => {
    await withAgent(async (base, log) => {
      log.push(line('ingress_x/one_x/two', '10.0.2.4', '10.0.0.1', 40000, 443));
      log.push('eth0: link becomes ready');
      log.push(line('egress_y/egress', '10.0.1.3', '192.0.2.9', 5000, 25));
      const text = await netpol(['drops', '--agent', base]);
      assert.equal(text.code, 0, text.stderr);
      assert.equal(
        text.stdout,
        '2026-12-03T12:00:01.000Z  z/d -> x/a TCP/443 denied: ingress of x/a isolated by x/one, x/two, no rule of the isolating policies admitted it\n' +
          '  reproduce: netpol check --from z/d --to x/a --port 443 --protocol TCP\n' +
          '2026-12-03T12:00:03.000Z  y/c -> 192.0.2.9 TCP/25 denied: egress of y/c isolated by y/egress, no rule of the isolating policies admitted it\n' +
          '  reproduce: netpol check --from y/c --to 192.0.2.9 --port 25 --protocol TCP\n',
      );
      const json = await netpol(['drops', '--agent', base, '-o', 'json']);
      const answer = JSON.parse(json.stdout) as { last: number; events: (DropEvent & { check: string[] })[] };
      assert.equal(answer.last, 2);
      assert.deepEqual(answer.events[0]?.check, ['netpol', 'check', '--from', 'z/d', '--to', 'x/a', '--port', '443', '--protocol', 'TCP']);
      const later = JSON.parse((await netpol(['drops', '--agent', base, '--since', '1', '-o', 'json'])).stdout) as { events: DropEvent[] };
      assert.deepEqual(
        later.events.map((e) => e.seq),
        [2],
      );
      const wide = await netpol(['drops', '--agent', base, '-o', 'wide']);
      assert.match(wide.stdout.split('\n')[0]!, /^TIME\s+NODE\s+ACTION\s+DIRECTION\s+FROM\s+TO\s+PORT\s+PACKETS\s+POLICIES\s+CHAIN\s+CHECK$/);
      assert.match(wide.stdout, /ingress\s+z\/d\s+x\/a\s+TCP\/443\s+1\s+x\/one,x\/two\s+ingress_x\/one_x\/two\s+netpol check --from z\/d/);
    });
  });

  test('the check line runs: against the same manifests it reproduces the denial and names the same policies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netpol-drops-'));
    try {
      const manifests = `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: c}]}
status: {podIP: 10.1.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: probe, namespace: shop, labels: {app: probe}}
spec: {nodeName: n2, containers: [{name: c}]}
status: {podIP: 10.1.0.2}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-api, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 8080}]}]
`;
      writeFileSync(join(dir, 'shop.yaml'), manifests);
      const loaded = loadCluster([{ file: 'shop.yaml', text: manifests }]).cluster;
      const log = new DropLog({ node: 'n1' });
      const rs = compileNode(loaded, { node: 'n1', log: true });
      const e = log.ingest({ seq: 1, usec: 0, message: line('ingress_shop/web-from-api', '10.1.0.2', '10.1.0.1', 41000, 8080) }, 0, { ruleset: rs, cluster: loaded });
      assert.ok(e);
      assert.deepEqual([e.source.pod, e.destination.pod, e.policies], ['shop/probe', 'shop/web', ['shop/web-from-api']]);
      const args = checkArgs(e)!;
      assert.deepEqual(args.slice(0, 2), ['netpol', 'check']);
      const r = await netpol([...args.slice(1), '-f', dir, '-o', 'json']);
      assert.equal(r.code, 1, r.stderr);
      const verdict = JSON.parse(r.stdout) as { allowed: boolean; reason: string; ingress: { policies: { policy: { namespace: string; name: string } }[] } };
      assert.deepEqual([verdict.allowed, verdict.reason], [false, 'denied-by-ingress']);
      assert.deepEqual(
        verdict.ingress.policies.map((p) => `${p.policy.namespace}/${p.policy.name}`),
        e.policies,
      );
      assert.equal(checkArgs({ ...e, protocol: 'ICMP', port: undefined } as unknown as DropEvent), undefined, 'NetworkPolicy has no ICMP port to check');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('errors: no agent, an agent without a drop log, a bad --since or --agent', async () => {
    const none = await netpol(['drops', '--agent', 'http://127.0.0.1:1']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /cannot reach the agent at http:\/\/127\.0\.0\.1:1/);
    const server = await startAgentServer({ host: '127.0.0.1', port: 0 }, { ready: () => true, metrics: async () => [] });
    try {
      const r = await netpol(['drops', '--agent', `http://127.0.0.1:${server.address.port}`]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /answered 404: no drop log: start the agent with --log-denied/);
      const bad = await fetch(`http://127.0.0.1:${server.address.port}/drops?since=x`);
      assert.equal(bad.status, 404, 'no drop log at all: 404 before the query is read');
    } finally {
      await server.close();
    }
    await withAgent(async (base) => {
      assert.equal((await fetch(`${base}/drops?since=-1`)).status, 400);
      assert.equal((await fetch(`${base}/drops?since=1`)).status, 200);
    });
    assert.equal((await netpol(['drops', '--since', 'yesterday'])).code, 2);
    assert.equal((await netpol(['drops', '--agent', 'ftp://x'])).code, 2);
  });

  test('hostile names from a cluster or a forged answer never reach the terminal raw', async () => {
    const controls = [...Array(0x20).keys(), 0x7f, ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i)].map((c) => String.fromCharCode(c));
    const hostile = [...controls, '\u202e', '\u2066'].join('');
    const event = {
      seq: 1,
      time: `2026${hostile}`,
      node: `n${hostile}`,
      action: 'deny',
      direction: 'ingress',
      chain: `c${hostile}`,
      policies: [`x/p${hostile}`],
      reason: `r${hostile}`,
      source: { ip: '10.0.0.2', pod: `x/s${hostile}` },
      destination: { ip: '10.0.0.1', pod: `x/d'${hostile}` },
      protocol: 'TCP',
      port: 80,
      packets: 1,
      lastTime: '',
    };
    const server = createServer((_req, res) => res.end(JSON.stringify({ node: `n${hostile}`, last: 1, oldest: 1, events: [event], lost: { [`r${hostile}`]: 1 } })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      for (const format of ['text', 'wide', 'json']) {
        const r = await netpol(['drops', '--agent', `http://127.0.0.1:${port}`, '-o', format]);
        assert.equal(r.code, 0, r.stderr);
        for (const out of [r.stdout, r.stderr]) {
          // Line feeds separate lines; nothing else from the controls survives.
          // eslint-disable-next-line no-control-regex
          assert.doesNotMatch(out.replace(/\n/g, ''), /[\x00-\x1f\x7f-\x9f\u202e\u2066]/, `${format}: raw control`);
        }
      }
      const text = await netpol(['drops', '--agent', `http://127.0.0.1:${port}`]);
      assert.match(text.stdout, /reproduce: netpol check --from 'x\/s\\x00/, 'a name that is not plain is single-quoted (and escaped)');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

test('without --log-denied the kernel log is read from the first ruleset that stages a policy, and /drops answers from then on', async () => {
  let starts = 0;
  const log = new PushedLog();
  const counting: KernelLogReader = {
    start(record) {
      starts++;
      log.start(record);
    },
    stop: () => log.stop(),
  };
  const drops = startDropLog({ node: 'a', enforced: () => ({ ruleset: staged, cluster }), report: () => {}, reader: counting, start: 'when-staged' });
  const server = await startAgentServer({ host: '127.0.0.1', port: 0 }, { ready: () => true, metrics: async () => [], drops: (since) => (drops.reading ? drops.answer(since) : undefined) });
  const base = `http://127.0.0.1:${server.address.port}`;
  try {
    assert.equal(stagesPolicies(ruleset), false);
    drops.prepare(compileNode(cluster, { node: 'a' }));
    assert.equal(starts, 0, 'nothing staged: the kernel log is not opened');
    const before = await fetch(`${base}/drops`);
    assert.equal(before.status, 404);
    assert.match(await before.text(), /--log-denied, or stage a policy/);
    assert.equal(stagesPolicies(staged), true);
    drops.prepare(staged);
    drops.prepare(staged);
    assert.equal(starts, 1, 'opened once, before the staged ruleset goes in');
    log.push(line('ingress_x/one_x/two', '10.0.2.4', '10.0.0.1', 40000, 443).replace('netpol deny', 'netpol audit'));
    const answer = (await (await fetch(`${base}/drops`)).json()) as { events: DropEvent[] };
    assert.deepEqual(
      answer.events.map((e) => [e.action, e.direction, e.policies]),
      [['audit', 'ingress', ['x/one', 'x/two']]],
    );
  } finally {
    drops.stop();
    await server.close();
  }
});

test('a drop log without a kernel log to read reports the problem and still answers', () => {
  const problems: string[] = [];
  const failing: KernelLogReader = {
    start() {
      throw new Error("EACCES: permission denied, open '/dev/kmsg'");
    },
    stop() {},
  };
  const drops = startDropLog({ node: 'a', enforced: () => undefined, report: (e) => problems.push(e.message), reader: failing });
  assert.match(problems[0] ?? '', /cannot read the kernel log \(EACCES/);
  assert.deepEqual(drops.answer(0).events, []);
  drops.stop();
});
