/**
 * `netpol serve --agent URL`: the server polls real agents' /drops (the agent's own HTTP server and drop
 * log, fed kernel log lines through the real parser), folds the events onto the snapshot's pod pairs and
 * address blocks, streams them to the page, and explains each with the verdict `netpol check` gives.
 * Agents that cannot be read are shown and retried with backoff; what an agent sends is validated and
 * bounded; the store keeps the last N events of a window of time.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentAnswerOf, DropStore, fileSource, httpTarget, startServer, Workspace, type DropsView, type RunningServer } from '../../src/server/index.js';
import { until } from '../kube/helpers.js';
import { kernelLine, PROBE_OUT, SHOP, shop, startShopAgent, WEB_IN, type RunningAgent } from './drops-agent.js';
import { netpol } from '../netpol.js';

async function drops(server: RunningServer): Promise<DropsView> {
  const res = await fetch(`${server.url}api/v1/drops`);
  assert.equal(res.status, 200);
  return (await res.json()) as DropsView;
}

/** Reads `drops` server-sent events as they come. */
async function dropEvents(url: string): Promise<{ latest: () => DropsView | undefined; close: () => void }> {
  const abort = new AbortController();
  const res = await fetch(`${url}api/v1/events`, { signal: abort.signal });
  let latest: DropsView | undefined;
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value;
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          if (/^event: drops$/m.test(block)) latest = JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as DropsView;
        }
      }
    } catch {
      // aborted
    }
  })();
  return { latest: () => latest, close: () => abort.abort() };
}

describe('serve with agents', () => {
  let dir: string;
  let agent: RunningAgent;
  let server: RunningServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netpol-serve-drops-'));
    writeFileSync(join(dir, 'shop.yaml'), SHOP);
    agent = await startShopAgent();
    server = await startServer({
      source: fileSource({ filenames: [join(dir, 'shop.yaml')], recursive: false }),
      port: 0,
      assetsDir: dir,
      defaultNamespace: 'shop',
      drops: { targets: [httpTarget(new URL(agent.url))], poller: { intervalMs: 50 } },
    });
  });

  after(async () => {
    await server?.close();
    await agent?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('drops are folded onto pod pairs and blocks, streamed, and each reproduces the verdict of netpol check', async () => {
    const stream = await dropEvents(server.url);
    try {
      const first = await until('the agent answered', async () => {
        const v = await drops(server);
        return v.agents[0]?.state === 'ok' ? v : undefined;
      });
      assert.deepEqual(first.agents, [{ name: agent.url, node: 'n1', state: 'ok', missed: 0, rejected: 0 }]);
      assert.deepEqual([first.pairs, first.events], [[], []]);

      agent.push(kernelLine('deny', WEB_IN, '10.1.0.2', '10.1.0.1', 40000, 8080));
      agent.push(kernelLine('deny', WEB_IN, '10.1.0.2', '10.1.0.1', 40000, 8080)); // a SYN retransmit: same attempt
      agent.push(kernelLine('deny', WEB_IN, '10.1.0.2', '10.1.0.1', 40002, 8080));
      agent.push(kernelLine('audit', PROBE_OUT, '10.1.0.2', '203.0.113.7', 40001, 25));
      const view = await until('the drops reached the stream', () => {
        const v = stream.latest();
        return v && v.kept === 3 ? v : undefined;
      });
      assert.deepEqual(await drops(server).then((v) => v.kept), 3);
      const byPair = new Map(view.pairs.map((p) => [`${p.from.name} > ${p.to.name}`, p]));
      const web = byPair.get('shop/probe > shop/web')!;
      assert.deepEqual(
        [web.from.kind, web.to.kind, web.denied, web.audited, web.packets, web.lastAction, web.protocol, web.port, web.ports],
        ['pod', 'pod', 2, 0, 3, 'deny', 'TCP', 8080, ['TCP/8080']],
      );
      const block = byPair.get('shop/probe > 203.0.113.0/24')!;
      assert.deepEqual([block.to.kind, block.to.check, block.denied, block.audited, block.lastAction, block.port], ['block', '203.0.113.7', 0, 1, 'audit', 25]);
      assert.deepEqual(
        view.events.map((e) => [e.action, e.from.check, e.to.check, e.port, e.policies]),
        [
          ['audit', 'shop/probe', '203.0.113.7', 25, ['shop/probe-out']],
          ['deny', 'shop/probe', 'shop/web', 8080, ['shop/web-from-api']],
          ['deny', 'shop/probe', 'shop/web', 8080, ['shop/web-from-api']],
        ],
      );

      // The question the page asks about the drop is the one `netpol check` answers, with the same policies.
      const asked = (await (
        await fetch(`${server.url}api/v1/check`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ from: web.from.check, to: web.to.check, port: web.port, protocol: web.protocol }),
        })
      ).json()) as { allowed: boolean; reason: string; ingress: { policies: { policy: { name: string } }[] } };
      const cli = await netpol(['check', '-f', join(dir, 'shop.yaml'), '--from', web.from.check, '--to', web.to.check, '--port', String(web.port), '--protocol', 'TCP', '-o', 'json']);
      assert.equal(cli.code, 1, cli.stderr);
      assert.deepEqual(asked, JSON.parse(cli.stdout));
      // probe's egress is staged (audit) and counts as enforcing in check's answer: denied on both sides.
      assert.deepEqual([asked.allowed, asked.reason, asked.ingress.policies.map((p) => p.policy.name)], [false, 'denied-by-both', ['web-from-api']]);
      // The audit event: check counts the staged policy as enforcing and says what happens today.
      const audit = (await (await fetch(`${server.url}api/v1/check?from=shop/probe&to=203.0.113.7&port=25&protocol=TCP`)).json()) as { allowed: boolean; audit?: { today: { allowed: boolean } } };
      assert.deepEqual([audit.allowed, audit.audit?.today.allowed], [false, true]);

      // Only new events are read each time (since=last): nothing is counted twice.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal((await drops(server)).kept, 3);
    } finally {
      stream.close();
    }
  });
});

describe('agents that cannot be read', () => {
  test('an agent that is down is shown with its failure and retried with backoff until it answers', async () => {
    // A port that was free a moment ago: nothing listens there yet.
    const probe = await startShopAgent();
    const port = Number(new URL(probe.url).port);
    await probe.close();
    const dir = mkdtempSync(join(tmpdir(), 'netpol-serve-drops-'));
    writeFileSync(join(dir, 'shop.yaml'), SHOP);
    const server = await startServer({
      source: fileSource({ filenames: [join(dir, 'shop.yaml')], recursive: false }),
      port: 0,
      assetsDir: dir,
      drops: { targets: [httpTarget(new URL(`http://127.0.0.1:${port}`))], poller: { intervalMs: 50, backoffMs: 100, maxBackoffMs: 400 } },
    });
    let agent: RunningAgent | undefined;
    try {
      const down = await until('the failure is shown', async () => {
        const a = (await drops(server)).agents[0];
        return a?.state === 'unreachable' ? a : undefined;
      });
      assert.match(down.message!, /cannot reach it: ECONNREFUSED/);
      assert.ok(down.retryInMs !== undefined && down.retryInMs <= 100);
      // Later tries wait longer, up to the cap.
      const later = await until('the backoff grows', async () => {
        const a = (await drops(server)).agents[0];
        return a?.retryInMs !== undefined && a.retryInMs > 200 ? a : undefined;
      });
      assert.ok(later.retryInMs! <= 400);
      agent = await startShopAgent('127.0.0.1', port);
      agent.push(kernelLine('deny', WEB_IN, '10.1.0.2', '10.1.0.1', 40000, 8080));
      const back = await until(
        'the agent is read again',
        async () => {
          const v = await drops(server);
          return v.agents[0]?.state === 'ok' && v.kept === 1 ? v : undefined;
        },
        5000,
      );
      assert.equal(back.agents[0]?.message, undefined);
    } finally {
      await server.close();
      await agent?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('what an agent sends is validated and bounded: malformed events are left out and counted, other answers are failures', async () => {
    const good = {
      seq: 1,
      time: new Date().toISOString(),
      lastTime: new Date().toISOString(),
      node: 'n1',
      action: 'deny',
      direction: 'ingress',
      chain: WEB_IN,
      policies: ['shop/web-from-api'],
      reason: 'r',
      source: { ip: '10.1.0.2', pod: 'shop/probe' },
      destination: { ip: '10.1.0.1', pod: 'shop/web' },
      protocol: 'TCP',
      port: 8080,
      packets: 1,
    };
    const hostile = '<img src=x onerror=alert(1)>\u202e\u001b[31m';
    const answers: Record<string, string> = {
      '/mixed': JSON.stringify({
        node: hostile,
        last: 9,
        oldest: 1,
        events: [
          good,
          { ...good, seq: 2, source: { ip: 'not-an-ip' } },
          { ...good, seq: 3, port: 70000 },
          { ...good, seq: 4, action: 'allow' },
          { ...good, seq: 5, policies: new Array(65).fill('a/b') },
          { ...good, seq: 6, reason: 'x'.repeat(2000) },
          { ...good, seq: 7, destination: { ip: '10.1.0.1', pod: '../../etc' } },
          { ...good, seq: 8, source: { ip: '10.1.0.9', pod: hostile.replace(/[<>]/g, '') + '/x' } },
          'not an event',
        ],
      }),
      '/huge': JSON.stringify({ node: 'n', last: 1, events: [], pad: 'x'.repeat(17 * 1024 * 1024) }),
      '/html': '<html>not json</html>',
    };
    const fakes: Server[] = [];
    const names: Record<string, string> = {};
    for (const [path, body] of [...Object.entries(answers), ['/none', undefined] as const]) {
      const fake = createServer((_, res) => {
        res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
        res.end(body ?? 'no drop log\n');
      });
      await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
      fakes.push(fake);
      names[`http://127.0.0.1:${(fake.address() as { port: number }).port}`] = path;
    }
    const dir = mkdtempSync(join(tmpdir(), 'netpol-serve-drops-'));
    writeFileSync(join(dir, 'shop.yaml'), SHOP);
    const server = await startServer({
      source: fileSource({ filenames: [join(dir, 'shop.yaml')], recursive: false }),
      port: 0,
      assetsDir: dir,
      drops: { targets: Object.keys(names).map((u) => httpTarget(new URL(u))), poller: { intervalMs: 1000 } },
    });
    try {
      const view = await until('every agent was read once', async () => {
        const v = await drops(server);
        return v.agents.every((a) => a.state !== 'waiting') ? v : undefined;
      });
      const state = Object.fromEntries(view.agents.map((a) => [names[a.name], [a.state, a.message ?? a.rejected]]));
      assert.deepEqual(state, {
        '/mixed': ['ok', 7],
        '/huge': ['unreachable', `the answer is larger than ${16 * 1024 * 1024} bytes`],
        '/html': ['unreachable', 'the answer is not JSON'],
        '/none': ['unreachable', 'it has no drop log (404): start the agent with --log-denied'],
      });
      // The two well-formed events are kept; the unknown pod name is an address of no pod.
      assert.deepEqual(view.events.map((e) => [e.seq, e.from.kind, e.from.name]).sort(), [
        [1, 'pod', 'shop/probe'],
        [8, 'address', '10.1.0.9'],
      ]);
      // Names leave only as JSON strings, with control and bidi characters escaped.
      const text = await (await fetch(`${server.url}api/v1/drops`)).text();
      assert.ok(!text.includes('\u202e') && !text.includes('\u001b'), text);
      assert.equal(view.agents.find((a) => names[a.name] === '/mixed')?.node, hostile);
    } finally {
      await server.close();
      for (const fake of fakes) await new Promise<void>((r) => fake.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('serve flags for agents', () => {
  test('--agent wants an http(s) URL and --discover-agents a live cluster: usage errors, exit 2', async () => {
    for (const [args, message] of [
      [['--agent', 'ftp://10.0.0.5:9763'], /^error: --agent ftp:\/\/10\.0\.0\.5:9763: want an http:\/\/ or https:\/\/ URL\n/],
      [['--agent', '10.0.0.5:9763x'], /^error: --agent 10\.0\.0\.5:9763x: want the agent's address as a URL, e\.g\. http:\/\/127\.0\.0\.1:9763\n/],
      [['--discover-agents'], /^error: --discover-agents reads the agent pods of a live cluster: use it without -f/],
    ] as const) {
      const r = await netpol(['serve', '-f', 'examples/three-tier', '--port', '0', ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
    }
  });
});

describe('the drop store', () => {
  const ws = new Workspace({ cluster: shop, diagnostics: [], sources: [], invalid: false }, 'shop');
  const at = (ms: number) => new Date(ms).toISOString();
  const event = (seq: number, ms: number) => {
    const a = agentAnswerOf(
      JSON.stringify({
        node: 'n1',
        last: seq,
        events: [
          {
            seq,
            time: at(ms),
            lastTime: at(ms),
            node: 'n1',
            action: 'deny',
            direction: 'ingress',
            chain: WEB_IN,
            policies: [],
            reason: 'r',
            source: { ip: '10.1.0.2' },
            destination: { ip: '10.1.0.1' },
            protocol: 'TCP',
            port: 8080,
            packets: 1,
          },
        ],
      }),
    );
    assert.ok(typeof a !== 'string');
    return a.events;
  };

  test('keeps the last N events of the window; ends are resolved by address when the agent names no pod', () => {
    const store = new DropStore({ capacity: 3, windowMs: 60_000 });
    const t0 = Date.UTC(2026, 11, 3, 12);
    for (let i = 1; i <= 5; i++) store.add('a', event(i, t0 + i * 1000), t0 + i * 1000);
    assert.equal(store.size, 3);
    const view = store.view(ws, []);
    assert.deepEqual(
      view.events.map((e) => e.seq),
      [5, 4, 3],
    );
    assert.deepEqual([view.pairs.length, view.pairs[0]!.from.name, view.pairs[0]!.to.name, view.pairs[0]!.denied, view.pairs[0]!.last], [1, 'shop/probe', 'shop/web', 3, at(t0 + 5000)]);
    assert.equal(store.prune(t0 + 3000 + 60_000), false);
    assert.equal(store.prune(t0 + 4000 + 60_001), true);
    assert.deepEqual(
      store.view(ws, []).events.map((e) => e.seq),
      [5],
    );
  });
});
