/**
 * Recent drops on the page, in real Chromium (Debian's, headless), from a real agent's drop log (the
 * agent's HTTP server and DropLog fed kernel log lines through the real parser): the dropped pair is a
 * red arrow with its count and time, the audit event an amber dashed one to its address block, clicking
 * the red arrow explains the connection with the verdict `netpol check` gives, a drop the loaded
 * policies allow says so plainly, an agent that cannot be reached is shown, and markup from an agent
 * stays text.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { fileSource, httpTarget, startServer, type RunningServer } from '../../src/server/index.js';
import { kernelLine, PROBE_OUT, SHOP, startShopAgent, WEB_IN, type RunningAgent } from '../server/drops-agent.js';
import { chromiumMissing, launch } from './chromium.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const missing = chromiumMissing();
if (missing) console.log(`# skipped: the drops page tests need Chromium: ${missing}`);

const MARKUP = '<img src=x onerror=window.__xss=1>';

describe('recent drops on the page', { skip: missing }, () => {
  let dir: string;
  let agent: RunningAgent;
  let hostile: Server;
  let server: RunningServer;
  let browser: { context: BrowserContext; close: () => Promise<void> };
  let page: Page;
  const requests: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netpol-drops-page-'));
    const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build-web.mjs'), join(dir, 'web')], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    writeFileSync(join(dir, 'shop.yaml'), SHOP);
    agent = await startShopAgent();
    // An agent that sends markup where names go.
    const now = new Date().toISOString();
    const event = {
      seq: 1,
      time: now,
      lastTime: now,
      node: MARKUP,
      action: 'deny',
      direction: 'egress',
      chain: MARKUP,
      policies: [MARKUP],
      reason: MARKUP,
      source: { ip: '10.1.0.3', pod: 'shop/api' },
      destination: { ip: '198.51.100.1' },
      protocol: 'TCP',
      port: 9,
      packets: 1,
    };
    hostile = createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ node: MARKUP, last: 1, oldest: 1, events: [event] }));
    });
    await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', r));
    // A port nothing listens on (the agent just freed it).
    const gone = await startShopAgent();
    const goneUrl = gone.url;
    await gone.close();
    server = await startServer({
      source: fileSource({ filenames: [join(dir, 'shop.yaml')], recursive: false }),
      port: 0,
      assetsDir: join(dir, 'web'),
      defaultNamespace: 'shop',
      drops: { targets: [agent.url, `http://127.0.0.1:${(hostile.address() as { port: number }).port}`, goneUrl].map((u) => httpTarget(new URL(u))), poller: { intervalMs: 100 } },
    });
    browser = await launch();
    page = await browser.context.newPage();
    page.on('request', (r) => requests.push(r.url()));
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await agent?.close();
    await new Promise<void>((r) => (hostile ? hostile.close(() => r()) : r()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('a drop is a red arrow with its count and time; clicking it explains the denial as netpol check does', async () => {
    await page.goto(`${server.url}#graph?port=8080`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForSelector('#drops li.agent[data-state="ok"]');
    agent.push(kernelLine('deny', WEB_IN, '10.1.0.2', '10.1.0.1', 40000, 8080));
    agent.push(kernelLine('deny', WEB_IN, '10.1.0.2', '10.1.0.1', 40002, 8080));
    agent.push(kernelLine('audit', PROBE_OUT, '10.1.0.2', '203.0.113.7', 40001, 25));
    await page.waitForSelector('body[data-drops="4"]');
    await page.waitForSelector('#drops li.drop[data-action="audit"]');

    const red = (await page.evaluate(`window.netpol.dropEdge('pod:shop/probe', 'pod:shop/web') ?? null`)) as { x: number; y: number; audit: boolean; label: string } | null;
    assert.ok(red, 'probe -> web is drawn as a drop');
    assert.equal(red.audit, false);
    assert.match(red.label, /^2 dropped · \d\d:\d\d:\d\d$/);
    const amber = (await page.evaluate(`window.netpol.dropEdge('pod:shop/probe', 'block:203.0.113.0/24') ?? null`)) as { audit: boolean; label: string } | null;
    assert.ok(amber, 'the audit event to the address block is drawn');
    assert.equal(amber.audit, true);
    assert.match(amber.label, /^1 audit · /);

    await page.mouse.click(red.x, red.y);
    const note = page.locator('#explain .drop-note');
    await note.waitFor();
    assert.equal(await note.getAttribute('data-reproduced'), 'true');
    assert.match((await note.textContent()) ?? '', /shop\/probe → shop\/web TCP\/8080 2 denied on TCP\/8080/);
    assert.match((await note.textContent()) ?? '', /netpol check --from shop\/probe --to shop\/web --port 8080 --protocol TCP gives the same verdict/);
    const headline = page.locator('#explain [data-verdict]').first();
    assert.equal(await headline.getAttribute('data-verdict'), 'denied');
    assert.match((await page.locator('#explain').textContent()) ?? '', /shop\/web-from-api/);

    // The audit event: check's verdict is the policies' as written (denied), and today's is allowed.
    await page.locator('#drops li.drop[data-action="audit"] button').click();
    const audit = page.locator('#explain .drop-note.audit[data-reproduced="true"]');
    await audit.waitFor();
    assert.match((await audit.textContent()) ?? '', /Audit mode: allowed today; shop\/probe-out would change that when enforced/);
    assert.match((await audit.textContent()) ?? '', /netpol check --from shop\/probe --to 203\.0\.113\.7 --port 25 --protocol TCP gives the same verdict/);
  });

  test('a drop that the loaded policies allow says so; an unreachable agent is shown; markup from an agent stays text', async () => {
    // api -> web on 8080 is allowed by the files: as if the cluster had changed since.
    agent.push(kernelLine('deny', WEB_IN, '10.1.0.3', '10.1.0.1', 41000, 8080));
    const item = page.locator('#drops li.drop[data-from="shop/api"][data-to="shop/web"]');
    await item.waitFor();
    await item.locator('button').click();
    const note = page.locator('#explain .drop-note');
    await page.waitForSelector('#explain .drop-note[data-reproduced="false"]');
    assert.match((await note.textContent()) ?? '', /The loaded policies ALLOW this connection/);
    assert.equal(await page.locator('#explain [data-verdict]').first().getAttribute('data-verdict'), 'allowed');

    const down = page.locator('#drops li.agent[data-state="unreachable"]');
    await down.waitFor();
    assert.match((await down.textContent()) ?? '', /unreachable: cannot reach it: ECONNREFUSED; retrying in \d+ s/);

    const odd = page.locator('#drops li.drop[data-to="198.51.100.1"]');
    await odd.waitFor();
    assert.match((await odd.textContent()) ?? '', /<img src=x onerror=window.__xss=1>/);
    assert.match((await page.locator('#drops .agents').textContent()) ?? '', /node <img src=x/);
    assert.equal(await page.evaluate('window.__xss ?? null'), null);
    assert.equal(await page.locator('#drops img').count(), 0);
    assert.deepEqual(
      requests.filter((u) => !u.startsWith(server.url)),
      [],
    );
  });

  test("above 300 pods, drops between closed namespace boxes are one arrow with the counts summed; opening a box shows its pods' arrows", async () => {
    // Two namespaces of 160 pods; an agent reports drops from two pods of a to one pod of b.
    const pods = ['a', 'b'].flatMap((ns, n) =>
      Array.from(
        { length: 160 },
        (_, i) => `---\napiVersion: v1\nkind: Pod\nmetadata: {name: p${i}, namespace: ${ns}, labels: {app: p}}\nspec: {containers: [{name: c, image: none}]}\nstatus: {podIP: 10.60.${n}.${i + 1}}\n`,
      ),
    );
    const policy = `---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: closed, namespace: b}\nspec: {podSelector: {}}\n`;
    writeFileSync(join(dir, 'big.yaml'), `apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n${pods.join('')}${policy}`);
    const now = Date.now();
    const event = (seq: number, from: string, ip: string) => ({
      seq,
      time: new Date(now - seq * 1000).toISOString(),
      lastTime: new Date(now).toISOString(),
      node: 'n1',
      action: 'deny',
      direction: 'ingress',
      chain: 'ingress_b/closed',
      policies: ['b/closed'],
      reason: 'no rule of the isolating policies admitted it',
      source: { ip, pod: from },
      destination: { ip: '10.60.1.1', pod: 'b/p0' },
      protocol: 'TCP',
      port: 80,
      packets: 1,
    });
    const fake = createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ node: 'n1', last: 3, oldest: 1, events: [event(1, 'a/p0', '10.60.0.1'), event(2, 'a/p1', '10.60.0.2'), event(3, 'a/p1', '10.60.0.2')] }));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const big = await startServer({
      source: fileSource({ filenames: [join(dir, 'big.yaml')], recursive: false }),
      port: 0,
      assetsDir: join(dir, 'web'),
      drops: { targets: [httpTarget(new URL(`http://127.0.0.1:${(fake.address() as { port: number }).port}`))] },
    });
    try {
      await page.goto(`${big.url}#graph?port=80`);
      await page.waitForSelector('body[data-ready="true"]');
      await page.waitForSelector('body[data-drops="3"]');
      const boxes = (await page.evaluate(`window.netpol.dropEdge('ns:a', 'ns:b') ?? null`)) as { x: number; y: number; label: string } | null;
      assert.ok(boxes, 'a -> b is one drop arrow between the boxes');
      assert.match(boxes.label, /^3 dropped · /);
      // Open b: the arrow now ends at b/p0 (a is still a box).
      const at = (await page.evaluate(`window.netpol.nodePosition('ns:b')`)) as { x: number; y: number };
      await page.mouse.click(at.x, at.y);
      await page.waitForFunction(`window.netpol.dropEdge('ns:a', 'pod:b/p0') !== undefined`);
      assert.match(((await page.evaluate(`window.netpol.dropEdge('ns:a', 'pod:b/p0')`)) as { label: string }).label, /^3 dropped/);
    } finally {
      await big.close();
      await new Promise<void>((r) => fake.close(() => r()));
    }
  });
});
