/**
 * `npm run bench:serve`: the page of `netpol serve` in Debian's Chromium, on the three-tier example and
 * on the realistic shape (5,346 pods; generated into --dir unless it is there). Reports:
 * - server ready: reading the sources and building the engines, until the URL is printed;
 * - page interactive: from navigation until the page has drawn its first view (graph), fresh page each run;
 * - edit re-analysed: from sending an edit (after the editor's 250 ms debounce) until its diff is drawn,
 *   over alternating edits that change one policy's port, p50 and p95.
 * Usage: node --import tsx scripts/bench-serve.ts [--runs 5] [--edits 20] [--dir DIR]
 */
import { existsSync } from 'node:fs';
import { loadavg, tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { fileSource, startServer } from '../src/server/index.js';
import { chromiumMissing, launch } from '../test/web/chromium.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, edits: { type: 'string', default: '20' }, dir: { type: 'string', default: join(tmpdir(), 'netpol-bench-serve') } } });
const runs = Number(values.runs);
const edits = Number(values.edits);
const missing = chromiumMissing();
if (missing) {
  console.error(`error: ${missing}`);
  process.exit(2);
}
if (spawnSync(process.execPath, [join(root, 'scripts/build-web.mjs')], { stdio: 'inherit' }).status !== 0) process.exit(2);
const realistic = join(values.dir, 'realistic');
if (!existsSync(realistic)) spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/gen.ts'), 'realistic', '--out', realistic], { stdio: 'inherit', cwd: root });

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

interface Case {
  readonly name: string;
  readonly source: string;
  /** The policy edited, and two versions of a line of it that the edits alternate between. */
  readonly policy: string;
  readonly from: string;
  readonly to: string;
  /** The probe the page shows while editing (where the edit changes something). */
  readonly port: string;
}

const CASES: Case[] = [
  { name: 'three-tier', source: join(root, 'examples/three-tier'), policy: 'three-tier/db', from: 'port: 3306', to: 'port: 3307', port: '3306' },
  { name: 'realistic', source: realistic, policy: 'team-0-prod-0/allow-cart-0-lwm8', from: 'port: http', to: 'port: 8080', port: '8080' },
];

console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, node ${process.version}, load ${loadavg()[0]!.toFixed(1)}`);
for (const c of CASES) {
  const t0 = performance.now();
  const server = await startServer({ source: fileSource({ filenames: [c.source], recursive: true }), port: 0 });
  const ready = performance.now() - t0;
  const browser = await launch();
  const interactive: number[] = [];
  for (let i = 0; i < runs; i++) {
    const page = await browser.context.newPage();
    const t = performance.now();
    await page.goto(`${server.url}#graph`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    interactive.push(performance.now() - t);
    await page.close();
  }
  const page = await browser.context.newPage();
  await page.goto(`${server.url}#editor?port=${c.port}`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.fill('.doc-pane input', c.policy);
  await page.locator('.doc-list button', { hasText: c.policy }).first().click();
  const original = await page.inputValue('textarea');
  if (!original.includes(c.from)) throw new Error(`${c.policy} has no "${c.from}"`);
  const times: number[] = [];
  const diffs = new Set<string>();
  for (let i = 0; i < edits; i++) {
    await page.evaluate(`document.getElementById('diff').removeAttribute('data-ms')`);
    await page.fill('textarea', i % 2 === 0 ? original.replace(c.from, c.to) : original.replace(c.from, `${c.from} `));
    await page.waitForSelector('#diff[data-ms]', { timeout: 60_000 });
    times.push(Number(await page.getAttribute('#diff', 'data-ms')));
    diffs.add((await page.locator('#diff p').first().textContent()) ?? '');
  }
  await browser.close();
  await server.close();
  console.log(
    `${c.name}: server ready ${ready.toFixed(0)} ms; page interactive p50 ${pct(interactive, 50).toFixed(0)} ms, max ${Math.max(...interactive).toFixed(0)} ms (${runs} fresh pages); ` +
      `edit re-analysed and drawn p50 ${pct(times, 50)} ms, p95 ${pct(times, 95)} ms (${edits} edits on ${c.port}/TCP; diffs: ${[...diffs].join(' | ')})`,
  );
}
