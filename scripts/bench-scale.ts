/**
 * The scale benchmarks: the class engine on generated shapes (results in docs/benchmarks.md). Usage:
 *   node --import tsx scripts/bench-scale.ts [--shape S ...] [--scale F] [--seed N] [--runs N]
 *        [--format yaml|json-list|json-stream] [--dir DIR] [--json FILE] [--reference-loader] [--no-oracle] [--queries N] [--changes N]
 *        [--strategy S]   (ScaleOptions.strategy, default auto: to compare the counting strategies in one session)
 *
 * For each shape: generates its manifests (once, cached in DIR), then runs one child process per shape
 * and run (so peak memory is the shape's own) that reads and parses the files (the fast loader, which
 * falls back to the reference loader on anything unusual), validates the policies, builds the
 * class-based engine and counts the allowed pairs for two probes (TCP/80 and the named port `http`),
 * times single queries and single changes, and reports peak RSS. Then, on one-ns-overlap at 2,000 pods,
 * the speed-up over the naive oracle, measured in the same run. Prints a Markdown table; --json writes
 * every figure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GENERATOR_VERSION, SHAPES, ChangeStream, generateObjects, isShapeName, random, toCluster, type ShapeName } from '../tools/gen/index.js';
import { ScaleEngine, type ScaleProbe, type Strategy } from '../src/scale/index.js';
import { loadCluster, loadClusterFast } from '../src/load/index.js';
import { validateCluster } from '../src/validate/index.js';
import { oracleAllows } from '../src/engine/oracle.js';
import { podEndpoint } from '../src/engine/engine.js';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', multiple: true },
    scale: { type: 'string', default: '1' },
    format: { type: 'string', default: 'yaml' },
    seed: { type: 'string', default: '1' },
    runs: { type: 'string', default: '1' },
    dir: { type: 'string' },
    json: { type: 'string' },
    'reference-loader': { type: 'boolean', default: false },
    'no-oracle': { type: 'boolean', default: false },
    queries: { type: 'string', default: '10000' },
    changes: { type: 'string', default: '1000' },
    strategy: { type: 'string', default: 'auto' },
    child: { type: 'string' },
    'oracle-child': { type: 'boolean', default: false },
  },
});

const PROBES: ScaleProbe[] = [
  { port: 80, protocol: 'TCP' },
  { port: 'http', protocol: 'TCP' },
];

const seed = Number(values.seed);
const strategy = values.strategy as Strategy;
const scale = Number(values.scale);

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

interface ShapeResult {
  shape: string;
  scale: number;
  seed: number;
  namespaces: number;
  pods: number;
  policies: number;
  files: number;
  mib: number;
  fastPath: boolean;
  fallbackReason?: string;
  /** The machine's 1-minute load average when the run started (others' work slows a run down). */
  load: number;
  readMs: number;
  parseMs: number;
  referenceParseMs?: number;
  validateMs: number;
  buildMs: number;
  countMs: number[];
  analysisMs: number;
  /** CPU time of the process (every thread: GC, compiler) over read, parse and analysis (validate excluded). */
  cpuMs: number;
  allowedPairs: number[];
  classes: number;
  peers: number;
  egressGroups: number;
  ingressGroups: number;
  heapEngineMiB: number;
  peakRssMiB: number;
  queryP50us: number;
  queryP99us: number;
  changeP50ms: number;
  changeP99ms: number;
  changeMaxMs: number;
  changeVerified: boolean;
}

/** One shape, in this (child) process. */
function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function runShape(shape: ShapeName, dir: string): ShapeResult {
  const load = loadavg()[0] ?? NaN;
  let cpu = cpuNow();
  let t = process.hrtime.bigint();
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.json'))
    .sort();
  const sources = names.map((f) => ({ file: join(dir, f), text: readFileSync(join(dir, f), 'utf8') }));
  const readMs = ms(t);
  const mib = sources.reduce((n, s) => n + Buffer.byteLength(s.text), 0) / 2 ** 20;

  t = process.hrtime.bigint();
  const loaded = loadClusterFast(sources);
  const parseMs = ms(t);
  let cpuMs = cpuNow() - cpu;
  const cluster = loaded.cluster;
  let referenceParseMs: number | undefined;
  if (values['reference-loader']) {
    t = process.hrtime.bigint();
    loadCluster(sources);
    referenceParseMs = ms(t);
  }
  t = process.hrtime.bigint();
  const invalid = validateCluster(cluster).filter((d) => d.severity === 'error');
  const validateMs = ms(t);
  if (invalid.length > 0) throw new Error(`${shape}: ${invalid.length} invalid policies`);

  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  cpu = cpuNow();
  t = process.hrtime.bigint();
  const engine = new ScaleEngine(cluster, { strategy });
  const buildMs = ms(t);
  const countMs: number[] = [];
  const allowedPairs: number[] = [];
  for (const p of PROBES) {
    t = process.hrtime.bigint();
    allowedPairs.push(engine.allowedPairs(p));
    countMs.push(ms(t));
  }
  cpuMs += cpuNow() - cpu;
  gc();
  const heapEngineMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  const stats = engine.stats;

  // Single queries: random ordered pairs of pods, alternating the two probes.
  const rng = random(seed + 17);
  const pods = cluster.pods;
  const nq = Number(values.queries);
  const q: number[] = new Array<number>(nq);
  let allowed = 0;
  for (let i = 0; i < nq; i++) {
    const s = pods[rng.int(pods.length)]!;
    const d = pods[rng.int(pods.length)]!;
    const probe = PROBES[i & 1]!;
    const t0 = process.hrtime.bigint();
    if (engine.allows(s, d, probe)) allowed++;
    q[i] = Number(process.hrtime.bigint() - t0) / 1e3;
  }
  q.sort((a, b) => a - b);

  // Single changes, each followed by the (corrected) count for TCP/80.
  const stream = new ChangeStream(cluster, seed + 29);
  const nc = Number(values.changes);
  const c: number[] = [];
  for (let i = 0; i < nc; i++) {
    const change = stream.next();
    const t0 = process.hrtime.bigint();
    engine.apply(change);
    engine.allowedPairs(PROBES[0]!);
    c.push(ms(t0));
  }
  c.sort((a, b) => a - b);
  const after = engine.allowedPairs(PROBES[0]!);
  const fresh = new ScaleEngine({ namespaces: cluster.namespaces, pods: stream.pods, policies: stream.policies }, { strategy }).allowedPairs(PROBES[0]!);

  return {
    shape,
    scale,
    seed,
    namespaces: cluster.namespaces.size,
    pods: cluster.pods.length,
    policies: cluster.policies.length,
    files: sources.length,
    mib,
    fastPath: loaded.fast,
    load,
    ...(loaded.fallbackReason ? { fallbackReason: loaded.fallbackReason } : {}),
    readMs,
    parseMs,
    ...(referenceParseMs !== undefined ? { referenceParseMs } : {}),
    validateMs,
    buildMs,
    countMs,
    analysisMs: buildMs + countMs.reduce((a, b) => a + b, 0),
    cpuMs,
    allowedPairs,
    classes: stats.classes,
    peers: stats.peers,
    egressGroups: stats.egressGroups,
    ingressGroups: stats.ingressGroups,
    heapEngineMiB,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    queryP50us: quantile(q, 0.5),
    queryP99us: quantile(q, 0.99),
    changeP50ms: quantile(c, 0.5),
    changeP99ms: quantile(c, 0.99),
    changeMaxMs: c[c.length - 1] ?? NaN,
    changeVerified: after === fresh && allowed >= 0,
  };
}

interface OracleResult {
  pods: number;
  policies: number;
  scaleMs: number;
  allowedPairs: number;
  sampledPairs: number;
  oracleMsPerPair: number;
  oracleEstimateMs: number;
  speedup: number;
  sampleAgrees: boolean;
}

/** one-ns-overlap at 2,000 pods: the scale engine's whole analysis against the oracle's cost per pair. */
function runOracle(): OracleResult {
  const cluster = toCluster(generateObjects('one-ns-overlap', { seed, scale: 0.2 }));
  const probe = PROBES[0]!;
  let t = process.hrtime.bigint();
  const engine = new ScaleEngine(cluster);
  const allowedPairs = engine.allowedPairs(probe);
  const scaleMs = ms(t);
  const rng = random(seed + 5);
  const n = cluster.pods.length;
  const sample = 2000;
  const pairs: [number, number][] = [];
  while (pairs.length < sample) {
    const a = rng.int(n);
    const b = rng.int(n);
    if (a !== b) pairs.push([a, b]);
  }
  let agrees = true;
  t = process.hrtime.bigint();
  const verdicts = pairs.map(([a, b]) => oracleAllows(cluster, podEndpoint(cluster.pods[a]!), podEndpoint(cluster.pods[b]!), probe.protocol, probe.port));
  const oracleMs = ms(t);
  pairs.forEach(([a, b], i) => {
    if (engine.allows(cluster.pods[a]!, cluster.pods[b]!, probe) !== verdicts[i]) agrees = false;
  });
  const perPair = oracleMs / sample;
  const estimate = perPair * n * (n - 1);
  return {
    pods: n,
    policies: cluster.policies.length,
    scaleMs,
    allowedPairs,
    sampledPairs: sample,
    oracleMsPerPair: perPair,
    oracleEstimateMs: estimate,
    speedup: estimate / scaleMs,
    sampleAgrees: agrees,
  };
}

// --- parent ---------------------------------------------------------------------------------------------

function child(args: string[]): unknown {
  const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=6144', '--import', 'tsx', new URL(import.meta.url).pathname, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`child ${args.join(' ')} failed (${r.status ?? r.signal})`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line);
}

function ensureFiles(shape: ShapeName, dir: string): void {
  const marker = join(dir, '.generated');
  const want = JSON.stringify({ shape, seed, scale, format: values.format, version: GENERATOR_VERSION });
  if (existsSync(marker) && readFileSync(marker, 'utf8') === want) return;
  mkdirSync(dir, { recursive: true });
  const t = process.hrtime.bigint();
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', new URL('./gen.ts', import.meta.url).pathname, shape, '--seed', String(seed), '--scale', String(scale), '--out', dir, '--format', values.format!],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  if (r.status !== 0) throw new Error(`gen ${shape} failed`);
  writeFileSync(marker, want);
  process.stderr.write(`generated ${shape} in ${(ms(t) / 1000).toFixed(1)} s\n`);
}

const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '-');
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '-');

function main(): void {
  if (values.child !== undefined) {
    const shape = values.child as ShapeName;
    process.stdout.write(`${JSON.stringify(runShape(shape, values.dir!))}\n`);
    return;
  }
  if (values['oracle-child']) {
    process.stdout.write(`${JSON.stringify(runOracle())}\n`);
    return;
  }
  const shapes = (values.shape ?? [...SHAPES]).filter((s): s is ShapeName => {
    if (!isShapeName(s)) throw new Error(`unknown shape ${s}`);
    return true;
  });
  const base = values.dir ?? join(tmpdir(), 'netpol-bench');
  const runs = Number(values.runs);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  process.stderr.write(`machine: ${cpus().length} x ${cpu}, node ${process.version}\n`);
  const results: ShapeResult[] = [];
  for (const shape of shapes) {
    const dir = join(base, `${shape}-s${seed}-x${scale}-${values.format}`);
    ensureFiles(shape, dir);
    for (let r = 0; r < runs; r++) {
      const args = ['--child', shape, '--dir', dir, '--seed', String(seed), '--scale', String(scale), '--queries', values.queries!, '--changes', values.changes!, '--strategy', strategy];
      if (values['reference-loader']) args.push('--reference-loader');
      const res = child(args) as ShapeResult;
      results.push(res);
      process.stderr.write(`${shape} run ${r + 1}: parse ${f0(res.parseMs)} ms, analysis ${f0(res.analysisMs)} ms, peak ${f0(res.peakRssMiB)} MiB (load ${f1(res.load)})\n`);
    }
  }
  let oracle: OracleResult | undefined;
  if (!values['no-oracle']) oracle = child(['--oracle-child', '--seed', String(seed)]) as OracleResult;

  const lines: string[] = [];
  lines.push(`machine: ${cpus().length} x ${cpu}, node ${process.version}; seed ${seed}, scale ${scale}`);
  lines.push('');
  lines.push(
    '| shape | pods | policies | classes | load | read+parse ms | validate ms | build ms | count ms (80, http) | analysis ms | read+parse+analysis ms (CPU ms) | peak RSS MiB | engine heap MiB | query p50/p99 µs | change p50/p99 ms |',
  );
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    lines.push(
      `| ${r.shape}${r.fastPath ? '' : ' (reference loader)'} | ${r.pods} | ${r.policies} | ${r.classes} | ${f1(r.load)} | ${f0(r.readMs + r.parseMs)} | ${f0(r.validateMs)} | ${f0(r.buildMs)} | ${r.countMs.map(f0).join(', ')} | ${f0(r.analysisMs)} | ${f0(r.readMs + r.parseMs + r.analysisMs)} (${f0(r.cpuMs)}) | ${f0(r.peakRssMiB)} | ${f0(r.heapEngineMiB)} | ${f1(r.queryP50us)} / ${f1(r.queryP99us)} | ${f2(r.changeP50ms)} / ${f1(r.changeP99ms)} |`,
    );
  }
  if (results.some((r) => r.referenceParseMs !== undefined)) {
    lines.push('');
    for (const r of results) if (r.referenceParseMs !== undefined) lines.push(`reference loader on ${r.shape}: ${f0(r.referenceParseMs)} ms (fast path ${f0(r.parseMs)} ms)`);
  }
  if (oracle) {
    lines.push('');
    lines.push(
      `oracle (one-ns-overlap, ${oracle.pods} pods, ${oracle.policies} policies, TCP/80): scale engine ${f0(oracle.scaleMs)} ms for all ${oracle.pods * (oracle.pods - 1)} pairs; ` +
        `oracle ${f2(oracle.oracleMsPerPair)} ms per pair (${oracle.sampledPairs} sampled pairs, ${oracle.sampleAgrees ? 'all agree' : 'DISAGREEMENT'}), ` +
        `so ~${f0(oracle.oracleEstimateMs / 1000)} s for the matrix: ${f0(oracle.speedup)}x`,
    );
  }
  const bad = results.filter((r) => !r.changeVerified);
  if (bad.length > 0) lines.push(`\nWARNING: incremental counts differ from a fresh count on ${bad.map((r) => r.shape).join(', ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ machine: { cpus: cpus().length, cpu, node: process.version }, results, oracle }, null, 2)}\n`);
}

main();
