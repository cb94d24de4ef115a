/**
 * The page in real Chromium (Debian's, headless): the graph shows every pod, clicking an arrow shows
 * the engine's verdict, an edit that revokes a connection appears as removed in the diff, markup in
 * annotations stays text, and no request leaves 127.0.0.1. Few and quick on purpose.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { fileSource, startServer, type RunningServer } from '../../src/server/index.js';
import { chromiumMissing, launch } from './chromium.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const missing = chromiumMissing();
if (missing) console.log(`# skipped: the browser tests need Chromium: ${missing}`);

const MARKUP = '<img src=x onerror=window.__xss=1>';
const XSS = `apiVersion: v1
kind: Namespace
metadata: {name: xss}
---
apiVersion: v1
kind: Pod
metadata:
  name: victim
  namespace: xss
  labels: {app: victim}
  annotations: {note: "${MARKUP}"}
spec: {containers: [{name: c, image: nginx}]}
status: {podIP: 10.9.0.1}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: guard
  namespace: xss
  annotations: {description: "${MARKUP}<script>window.__xss=2</script>"}
spec:
  podSelector: {}
  ingress: [{from: [{podSelector: {}}]}]
`;

describe('the page in Chromium', { skip: missing }, () => {
  let dir: string;
  let server: RunningServer;
  let browser: { context: BrowserContext; close: () => Promise<void> };
  let page: Page;
  const requests: string[] = [];
  const origins: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netpol-page-'));
    const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build-web.mjs'), join(dir, 'web')], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    cpSync(join(ROOT, 'examples/three-tier'), join(dir, 'in/three-tier'), { recursive: true });
    writeFileSync(join(dir, 'in/xss.yaml'), XSS);
    server = await startServer({ source: fileSource({ filenames: [join(dir, 'in')], recursive: true }), port: 0, assetsDir: join(dir, 'web') });
    origins.push(new URL(server.url).origin);
    browser = await launch();
    page = await browser.context.newPage();
    page.on('request', (r) => requests.push(r.url()));
    page.on('dialog', (d) => void d.dismiss());
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(hash: string): Promise<void> {
    await page.goto(`${server.url}${hash}`);
    await page.waitForSelector('body[data-ready="true"]');
  }

  test('the graph shows every pod; clicking the web -> api arrow shows ALLOWED with its reason', async () => {
    await open('#graph?port=5000');
    const shown = (await page.evaluate('window.netpol.shownPods()')) as string[];
    assert.deepEqual([...shown].sort(), ['three-tier/api', 'three-tier/db', 'three-tier/web', 'xss/victim']);
    const at = (await page.evaluate(`window.netpol.edgePosition('three-tier/web', 'three-tier/api')`)) as { x: number; y: number } | undefined;
    assert.ok(at, 'the web -> api arrow is drawn');
    await page.mouse.click(at.x, at.y);
    const headline = page.locator('#explain [data-verdict]').first();
    await headline.waitFor();
    assert.equal(await headline.getAttribute('data-verdict'), 'allowed');
    assert.match((await page.locator('#explain .traffic').textContent()) ?? '', /three-tier\/web → three-tier\/api TCP port 5000/);
    // The db is not reachable from web: no arrow, and asking says why.
    assert.equal(await page.evaluate(`window.netpol.edgePosition('three-tier/web', 'three-tier/db') ?? null`), null);
  });

  test('an edit that revokes api -> db shows the connection removed in the diff', async () => {
    await open('#editor?port=3306');
    await page.fill('.doc-pane input', 'three-tier/db');
    await page.locator('.doc-list button', { hasText: 'three-tier/db' }).click();
    const text = await page.inputValue('textarea');
    const revoked = text.replace(/ingress:[\s\S]*?(?=\n {2}egress:|\n?$)/, 'ingress: []');
    assert.notEqual(revoked, text);
    await page.fill('textarea', revoked);
    const removed = page.locator('#diff li[data-change="removed"]');
    await removed.first().waitFor();
    assert.deepEqual(await removed.allTextContents(), ['− three-tier/api → three-tier/db (three-tier/db)']);
    assert.match((await page.locator('#diff').textContent()) ?? '', /\+0 added · −1 removed/);
  });

  test('markup in annotations is shown as text and never runs (label values cannot hold it: validation refuses them)', async () => {
    await open('#editor');
    await page.fill('.doc-pane input', 'xss/guard');
    await page.locator('.doc-list button', { hasText: 'xss/guard' }).click();
    assert.ok((await page.inputValue('textarea')).includes(MARKUP));
    await page.click('#tab-graph');
    await page.focus('#graph');
    // Arrow keys walk the pods until the victim's panel shows its label.
    const panel = async () => (await page.evaluate(`document.getElementById('explain').textContent`)) as string;
    for (let i = 0; i < 4 && !(await panel()).includes('xss/victim'); i++) await page.keyboard.press('ArrowRight');
    assert.ok(((await page.locator('#explain').textContent()) ?? '').includes('app=victim'));
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.evaluate('typeof window.__xss'), 'undefined');
  });

  test('with cluster-scoped policies the graph is drawn through the tiers and the panel shows the tier decision', async () => {
    const tiered = await startServer({ source: fileSource({ filenames: [join(ROOT, 'examples/admin-guardrails')], recursive: false }), port: 0, assetsDir: join(dir, 'web') });
    origins.push(new URL(tiered.url).origin);
    try {
      await page.goto(`${tiered.url}#graph?port=5432`);
      await page.waitForSelector('body[data-ready="true"]');
      assert.ok(await page.evaluate(`window.netpol.edgePosition('tenant-a/web', 'tenant-a/db')`), 'tenant-a web -> db: passed to its NetworkPolicy, which allows it');
      assert.equal(await page.evaluate(`window.netpol.edgePosition('tenant-a/web', 'tenant-b/db') ?? null`), null, 'across tenants: denied by the admin tier');
      await page.goto(`${tiered.url}#check?from=monitoring/prometheus&to=tenant-a/db&port=9090`);
      const ingress = page.locator('#explain .side.tiered', { hasText: 'Ingress to tenant-a/db' });
      await ingress.waitFor();
      assert.match((await ingress.locator('.tier-decision').textContent()) ?? '', /^allowed by ClusterNetworkPolicy\/allow-monitoring \(admin tier, priority 10\) rule ingress\[0\]/);
      assert.equal(await page.locator('#explain [data-verdict]').first().getAttribute('data-verdict'), 'allowed');
    } finally {
      await tiered.close();
    }
  });

  /** Polls `expression` in the page until it is truthy (page.waitForFunction would evaluate a string, which the CSP forbids). */
  async function until<T>(expression: string, what: string): Promise<T> {
    for (let i = 0; i < 400; i++) {
      const v = (await page.evaluate(expression)) as T;
      if (v) return v;
      await new Promise((r) => setTimeout(r, 25));
    }
    return assert.fail(`timed out waiting for ${what}`);
  }

  const shownCount = (n: number) => until(`window.netpol.shownPods().length === ${n}`, `${n} pods shown`);

  /** A server over `input` (a directory or file), for one test. */
  async function another(input: string): Promise<RunningServer> {
    const s = await startServer({ source: fileSource({ filenames: [input], recursive: false }), port: 0, assetsDir: join(dir, 'web') });
    origins.push(new URL(s.url).origin);
    return s;
  }

  test('address blocks are nodes: an arrow from the ipBlock to the pods it may reach, explained for its address', async () => {
    const s = await another(join(ROOT, 'examples/ipblock-except'));
    try {
      await page.goto(`${s.url}#graph?port=80`);
      await page.waitForSelector('body[data-ready="true"]');
      const block = '172.17.0.0/16 except 172.17.1.0/24, 172.17.2.0/24, 172.17.3.0/24';
      // The blocks come after the first drawing (they never delay it).
      await until(`window.netpol.nodePosition(${JSON.stringify(`block:${block}`)})`, 'the block drawn as a node');
      // The pods' egress is not isolated: no arrow from them to the block is drawn (they talk freely).
      assert.equal(await page.evaluate(`window.netpol.externalEdgePosition('ipblock-except/server', ${JSON.stringify(block)}, true) ?? null`), null);
      const at = (await page.evaluate(`window.netpol.externalEdgePosition('ipblock-except/server', ${JSON.stringify(block)}, false)`)) as { x: number; y: number } | undefined;
      assert.ok(at, 'block -> server is drawn');
      await page.mouse.click(at.x, at.y);
      const headline = page.locator('#explain [data-verdict]').first();
      await headline.waitFor();
      assert.equal(await headline.getAttribute('data-verdict'), 'allowed');
      assert.match((await page.locator('#explain .traffic').textContent()) ?? '', /^172\.17\.0\.0 → ipblock-except\/server TCP port 80/);
    } finally {
      await s.close();
    }
  });

  test('above 300 pods a namespace box expands into its pods in place, and collapses back', async () => {
    const big = Array.from(
      { length: 300 },
      (_, i) => `apiVersion: v1\nkind: Pod\nmetadata: {name: p${i}, namespace: big}\nspec: {containers: [{name: c, image: x}]}\nstatus: {podIP: 10.1.${i >> 8}.${i & 255}}\n`,
    );
    const small = ['a', 'b'].map(
      (n, i) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${n}, namespace: small, labels: {app: ${n}}}\nspec: {containers: [{name: c, image: x}]}\nstatus: {podIP: 10.2.0.${i + 1}}\n`,
    );
    const guard = `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: b-from-a, namespace: small}\nspec:\n  podSelector: {matchLabels: {app: b}}\n  ingress: [{from: [{podSelector: {matchLabels: {app: a}}}]}]\n`;
    writeFileSync(join(dir, 'many.yaml'), [...big, ...small, guard].join('---\n'));
    const s = await another(join(dir, 'many.yaml'));
    try {
      await page.goto(`${s.url}#graph`);
      await page.waitForSelector('body[data-ready="true"]');
      assert.deepEqual(await page.evaluate('window.netpol.shownPods()'), []);
      // Where the big namespace is drawn within the graph's box.
      const where = `(() => { const p = window.netpol.nodePosition('ns:big'); const r = document.getElementById('graph').getBoundingClientRect(); return { x: Math.round(p.x - r.left), y: Math.round(p.y - r.top) }; })()`;
      const bigBox = await page.evaluate(where);
      const box = (await page.evaluate(`window.netpol.nodePosition('ns:small')`)) as { x: number; y: number };
      await page.mouse.click(box.x, box.y);
      await shownCount(2);
      assert.deepEqual(await page.evaluate('window.netpol.shownPods()'), ['small/a', 'small/b']);
      assert.ok(await page.evaluate(`window.netpol.edgePosition('small/a', 'small/b')`), 'a -> b is drawn inside the opened namespace');
      assert.deepEqual(await page.evaluate(where), bigBox, 'the other namespaces stay where they were');
      // Clicking a pod selects it and leaves the namespace open.
      const a = (await page.evaluate(`window.netpol.nodePosition('pod:small/a')`)) as { x: number; y: number };
      await page.mouse.click(a.x, a.y);
      await page.locator('#explain h3', { hasText: 'small/a' }).waitFor();
      assert.equal(((await page.evaluate('window.netpol.shownPods()')) as string[]).length, 2);
      const open = (await page.evaluate(`window.netpol.nodePosition('ns:small')`)) as { x: number; y: number };
      await page.mouse.click(open.x, open.y);
      await shownCount(0);
    } finally {
      await s.close();
    }
  });

  test('no request leaves 127.0.0.1', () => {
    assert.ok(requests.length > 5);
    assert.deepEqual(
      requests.filter((u) => !origins.some((o) => u.startsWith(`${o}/`))),
      [],
    );
  });
});
