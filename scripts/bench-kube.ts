/**
 * Reading a live cluster at scale, against a real kube-apiserver and etcd (src/controlplane):
 *
 * 1. writes a generated cluster (shape `max`, scaled to `--pods`: 15 pods and 3 policies per
 *    namespace, 1% cross-namespace policies) into the API server: pods with `spec.nodeName` and
 *    their addresses set through the status subresource, as a kubelet would;
 * 2. `kubectl get pods -A -o json --chunk-size 500` as a baseline: what the API server takes to serve
 *    the pods to its own client;
 * 3. `netpol matrix --kubeconfig K -A --summary` as a child process, `--runs` times: wall time and
 *    peak RSS (from /usr/bin/time); and the same read in-process with its phases (list+convert+
 *    validate, analysis: engine build + the TCP/8080 count);
 * 4. `netpol watch -A --port 8080` as a child process: after it has synced, `--changes` label changes
 *    (a pod's `app` label flipped between web and api) and policy creations/deletions (an allow-all to
 *    one namespace's db pods), each timed from the API server's answer to the write until the watch
 *    prints the change (its reachability diff included).
 *
 * Creating 100,000 pods takes a while: `--keep` leaves the control plane running and prints its
 * kubeconfig; `--kubeconfig K` reuses it (objects already there are skipped).
 *
 * Usage: npm run bench:kube -- [--pods 10000] [--runs 2] [--changes 20] [--keep] [--kubeconfig K] [--only read|watch]
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { startControlPlane, kubectlPath, type ControlPlane } from '../src/controlplane/index.js';
import { generateObjects, toCluster } from '../tools/gen/index.js';
import { applyCluster, createPolicy, KubeClient, loadKubeConfig, NETWORK_POLICIES, PODS, readCluster, resourcePath } from '../src/kube/index.js';
import { ScaleEngine } from '../src/scale/index.js';

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '2' },
    changes: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
    kubeconfig: { type: 'string' },
    'in-process-read': { type: 'boolean', default: false },
    /** `read` (kubectl baseline, matrix, phases) or `watch`; both by default. */
    only: { type: 'string' },
  },
});

const ROOT = new URL('..', import.meta.url).pathname;
/** The built CLI, as users run it (`npm run build` first: no TypeScript loader in the measurement). */
const CLI = [`${ROOT}bin/netpol.js`];

/** `--in-process-read`: the child that measures one read with its phases (fresh process, own peak RSS). */
if (values['in-process-read']) {
  const client = new KubeClient(await loadKubeConfig({ kubeconfig: values.kubeconfig as string }));
  const t0 = performance.now();
  const read = await readCluster(client);
  const t1 = performance.now();
  const engine = new ScaleEngine(read.cluster);
  const allowed = engine.allowedPairs({ port: 8080, protocol: 'TCP' });
  const t2 = performance.now();
  console.log(
    JSON.stringify({ pods: read.cluster.pods.length, policies: read.cluster.policies.length, readMs: t1 - t0, analysisMs: t2 - t1, allowed, maxRssMiB: process.resourceUsage().maxRSS / 1024 }),
  );
  process.exit(0);
}

const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
if (build.status !== 0) throw new Error(`npm run build failed: ${build.stdout}${build.stderr}`);
const podsWanted = Number(values.pods);
const runs = Number(values.runs);
const changes = Number(values.changes);
const log = (s: string) => process.stderr.write(`${s}\n`);
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

let cp: ControlPlane | undefined;
let kubeconfig = values.kubeconfig;
if (!kubeconfig) {
  cp = await startControlPlane();
  kubeconfig = cp.kubeconfig;
  log(`control plane at ${cp.server}, kubeconfig ${kubeconfig}`);
}
const client = new KubeClient(await loadKubeConfig({ kubeconfig }));
const objects = generateObjects('max', { scale: podsWanted / 150_000 });
const cluster = toCluster(objects);
log(`generated: ${cluster.pods.length} pods, ${cluster.policies.length} policies, ${cluster.namespaces.size} namespaces (load ${loadavg()[0]!.toFixed(1)})`);

const existing = (await client.list(PODS, { limit: 5000 })).items.length;
if (existing < cluster.pods.length) {
  const t0 = performance.now();
  let last = 0;
  await applyCluster(client, cluster, {
    skipExisting: existing > 0,
    onProgress: (d, t) => {
      if (performance.now() - last > 10_000) {
        last = performance.now();
        log(`  created ${d}/${t} (${((d * 1000) / (last - t0)).toFixed(0)}/s)`);
      }
    },
  });
  const ms = performance.now() - t0;
  log(`created ${cluster.pods.length} pods (+ status) and ${cluster.policies.length} policies in ${fmt(ms)} (${((cluster.pods.length * 1000) / ms).toFixed(0)} pods/s)`);
} else log(`reusing ${existing} pods already in the API server`);

const results: Record<string, unknown> = {
  pods: cluster.pods.length,
  policies: cluster.policies.length,
  namespaces: cluster.namespaces.size,
  machine: `${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
  node: process.version,
};

const readRuns = values.only === 'watch' ? 0 : runs;
// 2. kubectl's own list, as a baseline.
for (let r = 0; r < readRuns; r++) {
  const t0 = performance.now();
  const k = spawnSync('/usr/bin/time', ['-f', '%M', kubectlPath(), '--kubeconfig', kubeconfig, 'get', 'pods', '-A', '-o', 'json', '--chunk-size', '500'], { maxBuffer: 4 * 2 ** 30, encoding: 'utf8' });
  const ms = performance.now() - t0;
  const rss = Number(k.stderr.trim().split('\n').at(-1)) / 1024;
  log(`kubectl get pods -A -o json: ${fmt(ms)}, peak RSS ${rss.toFixed(0)} MiB, ${(k.stdout.length / 2 ** 20).toFixed(0)} MiB of JSON (load ${loadavg()[0]!.toFixed(1)})`);
  (results.kubectl ??= [] as unknown[]) as unknown[];
  (results.kubectl as unknown[]).push({ ms: Math.round(ms), rssMiB: Math.round(rss), jsonMiB: Math.round(k.stdout.length / 2 ** 20) });
}

// 3. netpol matrix --summary (the command a user runs), and the phases in-process.
results.matrix = [];
results.phases = [];
for (let r = 0; r < readRuns; r++) {
  const load = loadavg()[0]!;
  const t0 = performance.now();
  const m = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...CLI, 'matrix', '--kubeconfig', kubeconfig, '-A', '--summary', '--port', '8080', '-o', 'json'], {
    encoding: 'utf8',
    maxBuffer: 2 ** 28,
  });
  const ms = performance.now() - t0;
  const rss = Number(m.stderr.trim().split('\n').at(-1)) / 1024;
  if (m.status !== 0) throw new Error(`matrix failed: ${m.stderr}`);
  log(`netpol matrix -A --summary: ${fmt(ms)}, peak RSS ${rss.toFixed(0)} MiB (load ${load.toFixed(1)}): ${m.stdout.trim()}`);
  (results.matrix as unknown[]).push({ ms: Math.round(ms), rssMiB: Math.round(rss), load });
  const p = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--in-process-read', '--kubeconfig', kubeconfig], { encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`in-process read failed: ${p.stderr}`);
  const phases = JSON.parse(p.stdout) as { readMs: number; analysisMs: number; maxRssMiB: number };
  log(`  phases: read (list+convert+validate) ${fmt(phases.readMs)}, analysis ${fmt(phases.analysisMs)}, peak RSS ${phases.maxRssMiB.toFixed(0)} MiB`);
  (results.phases as unknown[]).push({ readMs: Math.round(phases.readMs), analysisMs: Math.round(phases.analysisMs), rssMiB: Math.round(phases.maxRssMiB) });
}

// 4. watch: change -> report latency.
if (values.only === 'read') {
  console.log(JSON.stringify(results));
  if (cp && !values.keep) await cp.stop();
  process.exit(0);
}
const watch = spawn(process.execPath, [...CLI, 'watch', '--kubeconfig', kubeconfig, '-A', '--port', '8080'], { stdio: ['ignore', 'pipe', 'inherit'] });
let buffer = '';
const waiters: { prefix: string; resolve: (t: number) => void }[] = [];
let syncedAt = 0;
const started = performance.now();
watch.stdout.setEncoding('utf8');
watch.stdout.on('data', (chunk: string) => {
  const now = performance.now();
  buffer += chunk;
  let nl: number;
  while ((nl = buffer.indexOf('\n')) >= 0) {
    const line = buffer.slice(0, nl);
    buffer = buffer.slice(nl + 1);
    if (line.startsWith('watching ')) syncedAt = now;
    const rest = line.slice(line.indexOf(' ') + 1);
    const i = waiters.findIndex((w) => rest.startsWith(w.prefix));
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(now);
  }
});
const reported = (prefix: string) => new Promise<number>((resolve) => waiters.push({ prefix, resolve }));
while (!syncedAt) await new Promise((r) => setTimeout(r, 50));
log(`netpol watch -A: synced (list + analysis) after ${fmt(syncedAt - started)}`);
results.watchSyncMs = Math.round(syncedAt - started);

const webPods = cluster.pods.filter((p) => p.labels.app === 'web');
const namespaces = [...cluster.namespaces.keys()].filter((n) => n.startsWith('mx-'));
const fromAnswer: number[] = [];
const fromRequest: number[] = [];
const time = async (prefix: string, write: () => Promise<unknown>): Promise<void> => {
  const seen = reported(prefix);
  const t0 = performance.now();
  await write();
  const t1 = performance.now();
  const t2 = await seen;
  fromAnswer.push(t2 - t1);
  fromRequest.push(t2 - t0);
};
for (let i = 0; i < changes; i++) {
  const p = webPods[(i * 7919) % webPods.length]!;
  const patch = (app: string) => () =>
    client.request('PATCH', resourcePath(PODS, p.namespace, p.name), { verb: 'patch', resource: PODS }, { metadata: { labels: { app } } }, 'application/merge-patch+json');
  await time(`Pod ${p.namespace}/${p.name} changed`, patch('api'));
  await time(`Pod ${p.namespace}/${p.name} changed`, patch('web'));
  if (i % 4 === 0) {
    const ns = namespaces[(i * 104729) % namespaces.length]!;
    const name = `bench-open-${i}`;
    await time(`NetworkPolicy ${ns}/${name} created`, () =>
      createPolicy(client, {
        namespace: ns,
        name,
        policy: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec: { podSelector: { matchLabels: { app: 'db' } }, ingress: [{}] } },
      }),
    );
    await time(`NetworkPolicy ${ns}/${name} deleted`, () => client.request('DELETE', resourcePath(NETWORK_POLICIES, ns, name), { verb: 'delete', resource: NETWORK_POLICIES }));
  }
}
watch.kill('SIGTERM');
const summary = (xs: number[]) => ({ n: xs.length, p50: Math.round(pct(xs, 50)), p95: Math.round(pct(xs, 95)), max: Math.round(Math.max(...xs)) });
results.watchLatencyFromAnswerMs = summary(fromAnswer);
results.watchLatencyFromRequestMs = summary(fromRequest);
log(
  `watch: change -> report, from the API server's answer: p50 ${summary(fromAnswer).p50} ms, p95 ${summary(fromAnswer).p95} ms, max ${summary(fromAnswer).max} ms (${fromAnswer.length} changes); from the request: p50 ${summary(fromRequest).p50} ms, max ${summary(fromRequest).max} ms`,
);
console.log(JSON.stringify(results));

if (cp && values.keep) log(`the control plane keeps running: --kubeconfig ${kubeconfig} (its directory: ${cp.dir}; stop its kube-apiserver and etcd processes when done)`);
else await cp?.stop();
