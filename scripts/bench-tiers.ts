/**
 * `npm run bench:tiers`: the explaining engine with cluster-scoped policies on top of a generated shape
 * (default `realistic`: 5,346 pods, 600 namespaces, 13,701 NetworkPolicies) plus N ClusterNetworkPolicies
 * and AdminNetworkPolicies (default 1,000: per team an Admin tier isolation with a Pass for its own
 * namespaces, monitoring Accepts, egress guardrails with networks, Baseline tier default denies; priorities
 * repeat, as in real clusters). Times validation, normalisation, single verdicts (`allows`), explained
 * verdicts (`evaluate`) and the exact pair-by-pair matrix of one namespace (what `matrix -n NS` does for
 * such input). Prints the figures recorded in docs/benchmarks.md. Usage:
 *   npm run bench:tiers -- [--shape realistic] [--policies 1000] [--queries 5000] [--seed 1] [--out FILE]
 * `--out FILE` also writes the cluster-scoped policies as YAML (to time `netpol check` end to end on
 * `npm run gen -- realistic --out DIR` plus that file).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { cpus, loadavg } from 'node:os';
import { validateCluster } from '../src/validate/index.js';
import { Engine, podEndpoint } from '../src/engine/engine.js';
import { ExactReachability } from '../src/engine/matrix.js';
import { generateClusterPolicies, generateObjects, isShapeName, random, toCluster } from '../tools/gen/index.js';
import type { Cluster } from '../src/model/index.js';
import { ScaleEngine, TieredScaleEngine } from '../src/scale/index.js';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: 'realistic' },
    policies: { type: 'string', default: '1000' },
    queries: { type: 'string', default: '5000' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});
if (!isShapeName(values.shape)) throw new Error(`unknown shape ${values.shape}`);
const N = Number(values.policies);
const QUERIES = Number(values.queries);
const r = random(Number(values.seed));

/** Wall time and the process's CPU time (user + system; what a loaded machine inflates less). */
function time<T>(f: () => T): { result: T; ms: number; cpu: number } {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const result = f();
  const c = process.cpuUsage(c0);
  return { result, ms: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}

const both = (t: { ms: number; cpu: number }) => `${t.ms.toFixed(0)} ms (CPU ${t.cpu.toFixed(0)} ms)`;

const base = toCluster(generateObjects(values.shape));
const cluster: Cluster = { ...base, clusterPolicies: generateClusterPolicies(base, N, r) };
if (values.out) writeFileSync(values.out, cluster.clusterPolicies!.map((p) => stringify(p.policy)).join('---\n'));
const validation = time(() => validateCluster({ ...cluster, policies: [] }));
const errors = validation.result.filter((d) => d.severity === 'error');
if (errors.length > 0) throw new Error(`generated policies do not validate: ${JSON.stringify(errors.slice(0, 3))}`);
const built = time(() => new Engine(cluster));
const engine = built.result;
const pods = cluster.pods;
const pairs = Array.from({ length: QUERIES }, () => [podEndpoint(pods[r.int(pods.length)]!), podEndpoint(pods[r.int(pods.length)]!)] as const);
const first = time(() => pairs.map(([s, d]) => engine.allows({ source: s, destination: d, protocol: 'TCP', port: 80 })));
const again = time(() => pairs.map(([s, d]) => engine.allows({ source: s, destination: d, protocol: 'TCP', port: 443 })));
const explained = time(() => pairs.slice(0, 500).map(([s, d]) => engine.evaluate({ source: s, destination: d, protocol: 'TCP', port: 80 })));
const byNs = new Map<string, number>();
for (const p of pods) byNs.set(p.namespace, (byNs.get(p.namespace) ?? 0) + 1);
const [bigNs, bigCount] = [...byNs].sort((a, b) => b[1] - a[1])[0]!;
const nsMatrix = time(() =>
  new ExactReachability(
    engine,
    pods.filter((p) => p.namespace === bigNs),
  ).allowedPairs({ port: 80, protocol: 'TCP' }),
);

// The tier-aware class engine: the whole relation (what `matrix --summary`, `--by namespace` and diff use).
const plain = time(() => new ScaleEngine(base));
const plainCount = time(() => plain.result.allowedPairs({ port: 80, protocol: 'TCP' }));
const scaleBuilt = time(() => new TieredScaleEngine(cluster));
const scale = scaleBuilt.result;
const scaleCount = time(() => scale.allowedPairs({ port: 80, protocol: 'TCP' }));
const scaleCount443 = time(() => scale.allowedPairs({ port: 443, protocol: 'TCP' }));
const scaleByNs = time(() => scale.namespaceCounts({ port: 9090, protocol: 'TCP' }));
const spot = pairs.slice(0, 1000).every(([s, d], k) => s.kind !== 'pod' || d.kind !== 'pod' || scale.allows(s.pod, d.pod, { port: 80, protocol: 'TCP' }) === first.result[k]);

const allowed = first.result.filter(Boolean).length;
const deciders = new Map<string, number>();
for (const v of explained.result) for (const side of [v.egress, v.ingress]) for (const d of side.tiers?.decisions ?? []) deciders.set(d.by.tier, (deciders.get(d.by.tier) ?? 0) + 1);
const mem = process.memoryUsage();
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, Node ${process.version}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log(
  `cluster: shape ${values.shape}, ${pods.length} pods, ${cluster.namespaces.size} namespaces, ${cluster.policies.length} NetworkPolicies, ${cluster.clusterPolicies!.length} cluster-scoped policies`,
);
console.log(`validate (cluster-scoped policies): ${validation.ms.toFixed(0)} ms, ${validation.result.length} warnings/notes`);
console.log(`engine (normalise both kinds): ${built.ms.toFixed(0)} ms`);
console.log(`allows, first ${QUERIES} random pairs TCP/80 (selection cached as it goes): ${first.ms.toFixed(0)} ms (${((first.ms * 1000) / QUERIES).toFixed(1)} us/query), ${allowed} allowed`);
console.log(`allows, the same pairs TCP/443: ${again.ms.toFixed(0)} ms (${((again.ms * 1000) / QUERIES).toFixed(1)} us/query)`);
console.log(`evaluate (full explanation), 500 pairs: ${explained.ms.toFixed(0)} ms (${(explained.ms / 500).toFixed(2)} ms/query); deciders: ${JSON.stringify(Object.fromEntries(deciders))}`);
console.log(`exact matrix of namespace ${bigNs} (${bigCount} pods, ${bigCount * (bigCount - 1)} pairs): ${nsMatrix.ms.toFixed(0)} ms, ${nsMatrix.result} allowed`);
console.log(`class engine without the cluster policies: build ${both(plain)}, ${plain.result.stats.classes} classes; allowedPairs TCP/80 ${both(plainCount)} (${plainCount.result} pairs)`);
console.log(`tier-aware class engine: build ${both(scaleBuilt)}, ${scale.stats.classes} tier classes (${scale.networkPolicy.stats.classes} NetworkPolicy classes)`);
console.log(
  `  allowedPairs TCP/80: ${both(scaleCount)} (${scaleCount.result} of ${pods.length * (pods.length - 1)} pairs); TCP/443: ${both(scaleCount443)} (${scaleCount443.result}); namespaceCounts TCP/9090: ${both(scaleByNs)} (${scaleByNs.result.cells.length} cells)`,
);
console.log(`  agrees with the explaining engine on the first 1,000 random pairs TCP/80: ${spot}`);
console.log(`heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB, rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB`);
