/**
 * `npm run bench:serve-live`: `netpol serve` following a real kube-apiserver (src/controlplane), with the
 * page open in Debian's Chromium. A generated cluster (shape `max` scaled to --pods: 15 pods and 3
 * policies per namespace) is created in the API server; then, one at a time, a policy is created and
 * deleted (an allow-all-ingress for one namespace's `db` pods). Latency = from the API server's answer
 * to the write until the page lists the change under "Cluster changes", its graph and counts redrawn
 * (server: watch event, debounce, workspace build; page: summary, relation, redraw). Also: server ready
 * (first complete list + workspace) and page interactive.
 * Usage: node --import tsx scripts/bench-serve-live.ts [--pods 1000] [--changes 10]
 */
import { cpus, loadavg } from 'node:os';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { startControlPlane } from '../src/controlplane/index.js';
import { generateObjects, toCluster } from '../tools/gen/index.js';
import { applyCluster, createPolicy, KubeClient, loadKubeConfig, NETWORK_POLICIES, resourcePath } from '../src/kube/index.js';
import { liveSource, startServer } from '../src/server/index.js';
import { chromiumMissing, launch } from '../test/web/chromium.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { pods: { type: 'string', default: '1000' }, changes: { type: 'string', default: '10' } } });
const missing = chromiumMissing();
if (missing) {
  console.error(`error: ${missing}`);
  process.exit(2);
}
if (spawnSync(process.execPath, [join(root, 'scripts/build-web.mjs')], { stdio: 'inherit' }).status !== 0) process.exit(2);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, node ${process.version}, load ${loadavg()[0]!.toFixed(1)}`);
const cp = await startControlPlane();
try {
  const client = new KubeClient(await loadKubeConfig({ kubeconfig: cp.kubeconfig }));
  const cluster = toCluster(generateObjects('max', { scale: Number(values.pods) / 150_000 }));
  let t = performance.now();
  await applyCluster(client, cluster);
  console.log(`created ${cluster.pods.length} pods and ${cluster.policies.length} policies in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  t = performance.now();
  const server = await startServer({ source: liveSource(client, { description: 'bench' }), port: 0 });
  console.log(`server ready (first list + workspace): ${Math.round(performance.now() - t)} ms`);
  const browser = await launch();
  const page = await browser.context.newPage();
  t = performance.now();
  await page.goto(`${server.url}#graph?port=8080`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.waitForSelector('#live[data-state="connected"]');
  console.log(`page interactive: ${Math.round(performance.now() - t)} ms`);

  const namespaces = [...cluster.namespaces.keys()];
  const latencies: number[] = [];
  const changes = Number(values.changes);
  for (let i = 0; i < changes; i++) {
    const ns = namespaces[(i * 104729) % namespaces.length]!;
    const name = `bench-open-${i}`;
    for (const [what, write] of [
      [
        'created',
        () =>
          createPolicy(client, {
            namespace: ns,
            name,
            policy: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec: { podSelector: { matchLabels: { app: 'db' } }, ingress: [{}] } },
          }),
      ],
      ['deleted', () => client.request('DELETE', resourcePath(NETWORK_POLICIES, ns, name), { verb: 'delete', resource: NETWORK_POLICIES })],
    ] as const) {
      const line = page.locator('#changes li', { hasText: `NetworkPolicy ${ns}/${name} ${what}` });
      await write();
      const answered = performance.now();
      await line.waitFor({ timeout: 60_000 });
      latencies.push(performance.now() - answered);
    }
  }
  console.log(
    `change -> page: p50 ${Math.round(pct(latencies, 50))} ms, p95 ${Math.round(pct(latencies, 95))} ms, max ${Math.round(Math.max(...latencies))} ms (${latencies.length} changes, load ${loadavg()[0]!.toFixed(1)})`,
  );
  await browser.close();
  await server.close();
} finally {
  await cp.stop();
}
