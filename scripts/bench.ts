/**
 * `npm run bench`: times the engine on a generated cluster (no YAML; loading is timed separately by the
 * scale benchmarks). Prints the figures recorded in docs/benchmarks.md. Usage:
 *   npm run bench -- [--namespaces N] [--pods-per-ns N] [--policies-per-ns N] [--seed N]
 */
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { Engine, podEndpoint } from '../src/engine/engine.js';
import { reachability, sortPods } from '../src/engine/matrix.js';
import { oracleAllows } from '../src/engine/oracle.js';
import { NAMESPACE_NAME_LABEL, type Cluster, type NamespaceInfo, type PodInfo, type PolicyInfo } from '../src/model/cluster.js';
import type { NetworkPolicySpec } from '../src/model/k8s.js';

const { values } = parseArgs({
  options: {
    namespaces: { type: 'string', default: '20' },
    'pods-per-ns': { type: 'string', default: '25' },
    'policies-per-ns': { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
  },
});
const NS = Number(values.namespaces);
const PODS = Number(values['pods-per-ns']);
const POLS = Number(values['policies-per-ns']);
let seed = Number(values.seed);
const rand = (n: number): number => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
};

function generate(): Cluster {
  const namespaces = new Map<string, NamespaceInfo>();
  const pods: PodInfo[] = [];
  const policies: PolicyInfo[] = [];
  for (let n = 0; n < NS; n++) {
    const ns = `ns-${n}`;
    namespaces.set(ns, { name: ns, labels: { [NAMESPACE_NAME_LABEL]: ns, team: `t${n % 5}`, env: n % 2 ? 'prod' : 'dev' }, implicit: false });
    for (let p = 0; p < PODS; p++) {
      pods.push({
        namespace: ns,
        name: `pod-${p}`,
        labels: { app: `app-${p % 7}`, tier: ['web', 'api', 'db'][p % 3]! },
        ips: [`10.${n >> 8}.${n & 255}.${p + 1}`],
        ports: [{ name: 'http', port: 8080 + (p % 3), protocol: 'TCP' }],
      });
    }
    for (let k = 0; k < POLS; k++) {
      const spec: NetworkPolicySpec =
        k === 0
          ? { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }
          : {
              podSelector: { matchLabels: { tier: ['web', 'api', 'db'][rand(3)]! } },
              ingress: [
                {
                  from: [
                    { podSelector: { matchLabels: { app: `app-${rand(7)}` } } },
                    { namespaceSelector: { matchLabels: { team: `t${rand(5)}` } }, podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] } },
                    { ipBlock: { cidr: '10.0.0.0/8', except: [`10.0.${rand(NS)}.0/24`] } },
                  ],
                  ports: [{ port: 'http' }, { port: 80 }, { port: 8000, endPort: 8100 }],
                },
              ],
              egress: [{ to: [{ namespaceSelector: { matchLabels: { env: 'prod' } } }, { podSelector: {} }] }],
              policyTypes: ['Ingress', 'Egress'],
            };
      policies.push({ namespace: ns, name: `np-${k}`, policy: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `np-${k}`, namespace: ns }, spec } });
    }
  }
  return { namespaces, pods, policies };
}

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const cluster = generate();
const pods = sortPods(cluster.pods);
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
console.log(`cluster: ${NS} namespaces, ${pods.length} pods, ${cluster.policies.length} policies`);

let t0 = process.hrtime.bigint();
const engine = new Engine(cluster);
const build = ms(t0);

t0 = process.hrtime.bigint();
const matrix = reachability(engine, pods, [{ port: 80, protocol: 'TCP' }]);
const matrixMs = ms(t0);
const allowed = matrix.probes[0]!.allowed.flat().filter(Boolean).length;

const eps = pods.map(podEndpoint);
const lat: number[] = [];
for (let i = 0; i < 2000; i++) {
  const s = eps[rand(eps.length)]!;
  const d = eps[rand(eps.length)]!;
  const q0 = process.hrtime.bigint();
  engine.evaluate({ source: s, destination: d, protocol: 'TCP', port: 8080 });
  lat.push(ms(q0) * 1000);
}
lat.sort((a, b) => a - b);

// The oracle on a sample of pairs, to compare per-pair cost.
const sample = 20000;
t0 = process.hrtime.bigint();
for (let i = 0; i < sample; i++) oracleAllows(cluster, eps[rand(eps.length)]!, eps[rand(eps.length)]!, 'TCP', 80);
const oraclePerPair = ms(t0) / sample;
const enginePerPair = matrixMs / (pods.length * pods.length);

console.log(`engine build:            ${build.toFixed(1)} ms`);
console.log(`matrix TCP/80:           ${matrixMs.toFixed(0)} ms for ${pods.length * pods.length} pairs (${allowed} allowed), ${(enginePerPair * 1000).toFixed(2)} µs/pair`);
console.log(`oracle:                  ${(oraclePerPair * 1000).toFixed(2)} µs/pair (engine is ${(oraclePerPair / enginePerPair).toFixed(1)}x faster)`);
console.log(`explained query (check): p50 ${lat[lat.length >> 1]!.toFixed(1)} µs, p99 ${lat[Math.floor(lat.length * 0.99)]!.toFixed(1)} µs`);
console.log(`peak RSS:                ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
