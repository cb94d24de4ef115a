/**
 * Regenerates the screenshots of `netpol serve` in README.md and docs/serve.md (docs/images/*.png):
 * the page over every valid example, in Debian's Chromium at 1280 x 800.
 * Usage: node --import tsx scripts/screenshots.ts [NAME...] (builds the page into dist/web first; names
 * choose some of the shots: graph, matrix, explain, explain-tiers, editor, drops)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileSource, httpTarget, startServer } from '../src/server/index.js';
import { chromiumMissing, launch } from '../test/web/chromium.js';
import { kernelLine, PROBE_OUT, SHOP, startShopAgent, WEB_IN } from '../test/server/drops-agent.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'docs/images');
const missing = chromiumMissing();
if (missing) {
  console.error(`error: ${missing}`);
  process.exit(2);
}
mkdirSync(out, { recursive: true });
if (spawnSync(process.execPath, [join(root, 'scripts/build-web.mjs')], { stdio: 'inherit' }).status !== 0) process.exit(2);
process.chdir(root);
const examples = readdirSync('examples', { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'broken')
  .map((d) => `examples/${d.name}`);
const server = await startServer({ source: fileSource({ filenames: examples, recursive: false }), port: 0 });
const browser = await launch();
const page = await browser.context.newPage();

const shots: [string, string, (() => Promise<void>)?][] = [
  [
    'graph',
    '#graph?port=80',
    async () => {
      // Select one pod with the keyboard: its arrows stay bright, the rest fade.
      await page.focus('#graph');
      for (let i = 0; i < 60 && (await page.evaluate(`document.querySelector('#explain h3')?.textContent`)) !== 'bookstore/api'; i++) await page.keyboard.press('ArrowRight');
    },
  ],
  [
    'matrix',
    '#matrix?port=80',
    async () => {
      await page.mouse.move(420, 420);
    },
  ],
  ['explain', '#check?from=three-tier/web&to=three-tier/db&port=3306'],
  ['explain-tiers', '#check?from=monitoring/prometheus&to=tenant-a/db&port=9090'],
  [
    'editor',
    '#editor?port=3306',
    async () => {
      await page.fill('.doc-pane input', 'three-tier/db');
      await page.locator('.doc-list button', { hasText: 'three-tier/db' }).click();
      const text = await page.inputValue('textarea');
      await page.fill('textarea', text.replace('port: 3306', 'port: 3307').replace('role: api', 'role: apis'));
      await page.locator('#diff li[data-change]').first().waitFor();
    },
  ],
];
const only = process.argv.slice(2);
for (const [name, hash, act] of shots) {
  if (only.length > 0 && !only.includes(name)) continue;
  await page.goto(`${server.url}${hash}`);
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  if (name.startsWith('explain')) await page.locator('#explain [data-verdict]').first().waitFor();
  await act?.();
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(out, `${name}.png`) });
  console.log(`docs/images/${name}.png`);
}
await server.close();

// Recent drops: the shop cluster with its agent's drop log (test/server/drops-agent.ts), a few drops.
if (only.length === 0 || only.includes('drops')) {
  const dir = mkdtempSync(join(tmpdir(), 'netpol-shots-'));
  writeFileSync(join(dir, 'shop.yaml'), SHOP);
  const agent = await startShopAgent();
  const shop = await startServer({
    source: fileSource({ filenames: [join(dir, 'shop.yaml')], recursive: false }),
    port: 0,
    defaultNamespace: 'shop',
    drops: { targets: [httpTarget(new URL(agent.url))], poller: { intervalMs: 100 } },
  });
  for (let i = 0; i < 3; i++) agent.push(kernelLine('deny', WEB_IN, '10.1.0.2', '10.1.0.1', 40000 + i, 8080));
  agent.push(kernelLine('audit', PROBE_OUT, '10.1.0.2', '203.0.113.7', 41000, 25));
  await page.goto(`${shop.url}#graph?port=8080`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.waitForSelector('body[data-drops="4"]');
  await page.waitForTimeout(300);
  const red = (await page.evaluate(`window.netpol.dropEdge('pod:shop/probe', 'pod:shop/web')`)) as { x: number; y: number };
  await page.mouse.click(red.x, red.y);
  await page.locator('#explain .drop-note').waitFor();
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(out, 'drops.png') });
  console.log('docs/images/drops.png');
  await shop.close();
  await agent.close();
  rmSync(dir, { recursive: true, force: true });
}
await browser.close();
