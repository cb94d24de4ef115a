/**
 * What `netpol diff` costs on a generated cluster: one policy added, edited or removed per round
 * (drawn by the seeded ChangeStream), both sides' class engines built, then the diff itself
 * (`diffReachability`: object changes, touched classes, both engines compared, causes explained) over
 * the default probes (every port any policy names, plus "any port"). The end-to-end CLI run (read and
 * validate both directories, build both engines, diff, render) is timed once on top.
 *
 * Usage: npm run bench:diff -- [--shape realistic] [--scale 1] [--rounds 12] [--seed 1]
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { run } from '../src/cli/main.js';
import { defaultProbes, diffReachability } from '../src/diff/index.js';
import { ChangeStream, generateFiles, isShapeName, toYamlDocuments } from '../tools/gen/index.js';
import type { Cluster, PolicyInfo } from '../src/model/cluster.js';
import { loadClusterFast } from '../src/load/index.js';
import { ScaleEngine } from '../src/scale/index.js';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: 'realistic' },
    scale: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '12' },
    seed: { type: 'string', default: '1' },
  },
});
const shape = values.shape;
if (!isShapeName(shape)) throw new Error(`unknown shape ${shape}`);
const rounds = Number(values.rounds);
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const range = (xs: readonly number[]) => `median ${median(xs).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
/** Wall time and this process's CPU time (user + system): on a shared machine the CPU time is the steadier figure. */
const time = <T>(fn: () => T): [T, number, number] => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const out = fn();
  const c = process.cpuUsage(c0);
  return [out, performance.now() - t0, (c.user + c.system) / 1000];
};

const files = generateFiles(shape, { scale: Number(values.scale), seed: Number(values.seed) });
const before = loadClusterFast(files.map((f) => ({ file: f.name, text: f.text }))).cluster;
console.log(
  `${shape} x${values.scale}: ${before.pods.length} pods, ${before.policies.length} policies; machine ${cpus().length} x ${cpus()[0]?.model.trim() ?? '?'}, ` +
    `node ${process.version}, load ${loadavg()[0]!.toFixed(1)}`,
);
const [engineBefore, build] = time(() => new ScaleEngine(before));
engineBefore.allowedPairs({ port: 80, protocol: 'TCP' });
console.log(`build one side ${build.toFixed(0)} ms`);

const stream = new ChangeStream(before, Number(values.seed));
const diffs: number[] = [];
const cpuTimes: number[] = [];
const builds: number[] = [];
let firstEdited: Cluster | undefined;
for (let r = 0; r < rounds;) {
  const c = stream.next();
  if (c.kind !== 'upsertPolicy' && c.kind !== 'removePolicy') continue;
  r++;
  const policies: PolicyInfo[] = before.policies.filter((p) =>
    c.kind === 'removePolicy' ? !(p.namespace === c.namespace && p.name === c.name) : !(p.namespace === c.policy.namespace && p.name === c.policy.name),
  );
  if (c.kind === 'upsertPolicy') policies.push(c.policy);
  const after: Cluster = { ...before, policies };
  firstEdited ??= after;
  const [engineAfter, b] = time(() => new ScaleEngine(after));
  builds.push(b);
  const probes = defaultProbes([before, after]);
  const [d, t, cpu] = time(() => diffReachability({ cluster: before, engine: engineBefore }, { cluster: after, engine: engineAfter }, probes));
  diffs.push(t);
  cpuTimes.push(cpu);
  const changed = d.probes.reduce((n, p) => n + p.added.length + p.removed.length, 0);
  const what = c.kind === 'removePolicy' ? `remove ${c.namespace}/${c.name}` : `upsert ${c.policy.namespace}/${c.policy.name}`;
  console.log(`  ${what}: ${probes.length} probes, ${changed} changed (pair, probe)s, diff ${t.toFixed(0)} ms (CPU ${cpu.toFixed(0)} ms)`);
}
console.log(`one policy changed, ${rounds} rounds: diff ${range(diffs)} (CPU ${range(cpuTimes)}); building the other side's engine ${range(builds)}`);

// End to end: two directories on disk, one policy edited, as a user runs it.
const dir = mkdtempSync(join(tmpdir(), 'netpol-bench-diff-'));
try {
  for (const [side, cluster] of [
    ['old', before],
    ['new', firstEdited!],
  ] as const) {
    mkdirSync(join(dir, side));
    for (const f of files) if (!f.name.startsWith('policies')) writeFileSync(join(dir, side, f.name), f.text);
    writeFileSync(join(dir, side, 'policies.yaml'), toYamlDocuments(cluster.policies.map((p) => p.policy)));
  }
  let out = 0;
  const t0 = performance.now();
  const code = await run(['diff', join(dir, 'old'), join(dir, 'new'), '-o', 'json'], { stdout: (s) => (out += s.length), stderr: () => undefined });
  console.log(`end to end (netpol diff DIR DIR -o json: read, validate, build both engines, diff, render): ${(performance.now() - t0).toFixed(0)} ms, exit ${code}, ${out} bytes`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
