/**
 * `npm run bench:tiers-nft`: the nftables compiler with cluster-scoped policies. The `realistic` shape
 * (5,346 pods on 55 nodes, 13,701 NetworkPolicies) plus N generated cluster-scoped policies (default
 * 1,000; tools/gen/cluster-policies.ts, the same as bench:tiers), compiled for one node (default node-0,
 * 98 local pods): compile time fresh and incremental (a pod's labels flipped, one cluster policy edited,
 * one removed, as the agent's NodeCompiler sees them), the ruleset's size (chains, rules, sets, elements,
 * rendered text), the longest chain walk a new connection's first packet can take per direction, and,
 * as root with nft, `nft -f` of the whole table into a fresh network namespace. Prints the figures
 * recorded in docs/benchmarks.md. Usage:
 *   npm run bench:tiers-nft -- [--shape realistic] [--policies 1000] [--node node-0] [--rounds 5] [--seed 1]
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { generateClusterPolicies, generateObjects, isShapeName, random, toCluster } from '../tools/gen/index.js';
import type { Cluster } from '../src/model/cluster.js';
import { compileNode, NodeCompiler, renderRuleset, type Ruleset } from '../src/nft/index.js';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: 'realistic' },
    policies: { type: 'string', default: '1000' },
    node: { type: 'string', default: 'node-0' },
    rounds: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
  },
});
if (!isShapeName(values.shape)) throw new Error(`unknown shape ${values.shape}`);
const ROUNDS = Number(values.rounds);
const node = values.node;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timed<T>(f: () => T): { result: T; ms: number } {
  const t0 = performance.now();
  const result = f();
  return { result, ms: performance.now() - t0 };
}

/** The most rules a first packet can be matched against in one direction: the dispatch chain, then its goto targets. */
function longestWalk(rs: Ruleset, direction: 'ingress' | 'egress'): number {
  const chains = new Map(rs.chains.map((c) => [c.name, c]));
  const walk = (name: string, seen: Set<string>): number => {
    const c = chains.get(name);
    if (!c || seen.has(name)) return 0;
    seen.add(name);
    const targets = new Set(c.rules.flatMap((r) => (r.verdict?.kind === 'goto' ? [r.verdict.chain] : [])));
    return c.rules.length + Math.max(0, ...[...targets].map((t) => walk(t, seen)));
  };
  const starts = new Set(rs.maps.filter((m) => m.name.startsWith(direction)).flatMap((m) => m.elements.map(([, c]) => c)));
  return Math.max(0, ...[...starts].map((s) => walk(s, new Set())));
}

function size(rs: Ruleset) {
  const tierChains = rs.chains.filter((c) => /_(admin|baseline)_/.test(c.name));
  return {
    chains: rs.chains.length,
    tierChains: tierChains.length,
    rules: rs.chains.reduce((n, c) => n + c.rules.length, 0),
    tierRules: tierChains.reduce((n, c) => n + c.rules.length, 0),
    sets: rs.sets.length,
    elements: rs.sets.reduce((n, s) => n + s.elements.length, 0),
    mapElements: rs.maps.reduce((n, m) => n + m.elements.length, 0),
    walkIngress: longestWalk(rs, 'ingress'),
    walkEgress: longestWalk(rs, 'egress'),
  };
}

const base = toCluster(generateObjects(values.shape));
const withTiers: Cluster = { ...base, clusterPolicies: generateClusterPolicies(base, Number(values.policies), random(Number(values.seed))) };
const local = base.pods.filter((p) => p.nodeName === node).length;

const fresh = (c: Cluster) => {
  const ms: number[] = [];
  let rs: Ruleset | undefined;
  for (let i = 0; i < ROUNDS; i++) {
    const t = timed(() => compileNode(c, { node }));
    ms.push(t.ms);
    rs = t.result;
  }
  return { ms: median(ms), rs: rs! };
};
const plain = fresh(base);
const tiered = fresh(withTiers);
const render = timed(() => renderRuleset(tiered.rs));

// Incremental: the agent's compiler, one change at a time (each a new cluster object, as a source hands out).
function incremental(start: Cluster) {
  const nc = new NodeCompiler({ node, reuseArrays: true });
  nc.update(start);
  const localPods = start.pods.map((p, i) => [p, i] as const).filter(([p]) => p.nodeName === node);
  const flips: number[] = [];
  const edits: number[] = [];
  let current = start;
  for (let k = 0; k < 20; k++) {
    const [p, i] = localPods[k % localPods.length]!;
    const pods = current.pods.map((q, j) => (j === i ? { ...p, labels: { ...p.labels, tier: p.labels.tier === 'frontend' ? 'backend' : 'frontend' } } : q));
    current = { ...current, pods };
    flips.push(timed(() => nc.update(current)).ms);
    const cps = current.clusterPolicies;
    if (!cps) continue;
    const at = (k * 37) % cps.length;
    const edited = cps.map((c, j) => {
      if (j !== at) return c;
      const spec = { ...(c.policy.spec as object), priority: ((c.policy.spec as { priority?: number }).priority ?? 0) + 1 };
      return { ...c, policy: { ...c.policy, spec } as typeof c.policy };
    });
    current = { ...current, clusterPolicies: edited };
    edits.push(timed(() => nc.update(current)).ms);
  }
  const removed = current.clusterPolicies ? timed(() => nc.update({ ...current, clusterPolicies: current.clusterPolicies!.slice(1) })).ms : 0;
  return { flips, edits, removed };
}
const plainChanges = incremental(base);
const tieredChanges = incremental(withTiers);

// The kernel: the whole table in one `nft -f`, into a fresh namespace.
function kernelLoad(rs: Ruleset): string {
  if (process.getuid?.() !== 0 || spawnSync('nft', ['--version']).status !== 0) return 'not measured (needs root, ip and nft)';
  const ns = `netpol-bench-${randomBytes(4).toString('hex')}`;
  spawnSync('ip', ['netns', 'add', ns]);
  try {
    const text = renderRuleset(rs);
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: text, encoding: 'utf8', maxBuffer: 1 << 28 });
      runs.push(performance.now() - t0);
      if (r.status !== 0) throw new Error(`nft -f failed: ${r.stderr.slice(0, 500)}`);
    }
    return `${median(runs).toFixed(0)} ms median of 3 (${runs.map((x) => x.toFixed(0)).join(', ')})`;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}
const kernelPlain = kernelLoad(plain.rs);
const kernelTiered = kernelLoad(tiered.rs);

const mem = process.memoryUsage();
const f = (ms: number) => `${ms.toFixed(1)} ms`;
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, Node ${process.version}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log(
  `cluster: shape ${values.shape}, ${base.pods.length} pods, ${base.policies.length} NetworkPolicies, ${withTiers.clusterPolicies!.length} cluster-scoped policies; node ${node} with ${local} local pods`,
);
console.log(`compile, fresh, median of ${ROUNDS}: without cluster policies ${f(plain.ms)}, with ${f(tiered.ms)}`);
console.log(`size without: ${JSON.stringify(size(plain.rs))}`);
console.log(`size with:    ${JSON.stringify(size(tiered.rs))}`);
console.log(`render (whole table): ${f(render.ms)}, ${(render.result.length / 2 ** 20).toFixed(2)} MiB of nft text`);
const changes = (c: ReturnType<typeof incremental>) =>
  `a local pod's labels flipped: median ${f(median(c.flips))}, max ${f(Math.max(...c.flips))}` +
  (c.edits.length > 0 ? `; one cluster policy's priority edited: median ${f(median(c.edits))}, max ${f(Math.max(...c.edits))}; one removed: ${f(c.removed)}` : '');
console.log(`NodeCompiler.update without cluster policies: ${changes(plainChanges)}`);
console.log(`NodeCompiler.update with: ${changes(tieredChanges)}`);
console.log(`nft -f of the whole table into an empty namespace: without ${kernelPlain}; with ${kernelTiered}`);
console.log(`heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB, rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB`);
