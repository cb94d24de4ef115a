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
    const event = { seq: 1, time: now, lastTime: now, node: MARKUP, action: 'deny', direction: 'egress', chain: MARKUP, policies: [MARKUP], reason: MARKUP, source: { ip: '10.1.0.3', pod: 'shop/api' }, destination: { ip: '198.51.100.1' }, protocol: 'TCP', port: 9, packets: 1 };
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
    assert.deepEqual(requests.filter((u) => !u.startsWith(server.url)), []);
  });
});
