/**
 * `npm run bench:api-kernel`: API change -> kernel, through a real control plane and a real `netpol agent`.
 *
 * Starts etcd + kube-apiserver (src/controlplane), creates a cluster of `--pods` pods over `--nodes`
 * nodes in `--namespaces` namespaces, with one policy per namespace admitting pods labelled `role=peer`
 * from every namespace (so a label flip anywhere changes every node's peer sets), and runs
 * `netpol agent --node node-0 --kubeconfig ... --netns <private netns> -o json` (the CLI, as deployed,
 * in cluster mode). Then `--changes` writes, alternating: a pod's `role` label flipped (a peer set
 * element added or removed), and the port of a policy selecting node-0's pods edited (a chain rule
 * replaced). For each write it takes
 * the time from the API server's answer to the agent's `applied` event (the nft transaction committed,
 * connections the change revokes cut). Prints p50/p90/p99/max against the target (p99 <= 200 ms).
 *
 * Usage: npm run bench:api-kernel -- [--pods 1000] [--nodes 10] [--namespaces 20] [--changes 200] [--json FILE]
 *          [--existing-connections cut|keep]   (keep: no conntrack check after a change, to see its share)
 * Needs root, nft, ip and the control plane binaries (scripts/control-plane/build.sh).
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { cpus, release } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KubeClient, loadKubeConfig, NAMESPACES as NAMESPACE_API, NETWORK_POLICIES as POLICY_API, PODS as POD_API, resourcePath, type Resource } from '../src/kube/index.js';
import { controlPlaneUnavailable, startControlPlane } from '../src/controlplane/index.js';

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '1000' },
    nodes: { type: 'string', default: '10' },
    namespaces: { type: 'string', default: '20' },
    changes: { type: 'string', default: '200' },
    json: { type: 'string' },
    'existing-connections': { type: 'string', default: 'cut' },
  },
});
const PODS = Number(values.pods);
const NODES = Number(values.nodes);
const NAMESPACES = Number(values.namespaces);
const CHANGES = Number(values.changes);

const why = process.getuid?.() !== 0 ? 'needs root' : controlPlaneUnavailable();
if (why) {
  console.error(`bench:api-kernel: ${why}`);
  process.exit(2);
}

const ns = (i: number) => `ns-${i}`;
const policy = (namespace: string, port: number) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'from-peers', namespace },
  spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { role: 'peer' } } }], ports: [{ port }] }] },
});

async function pool<T>(items: readonly T[], n: number, f: (x: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await f(items[next++]!);
    }),
  );
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

const cp = await startControlPlane();
const netns = `netpol-bench-api-kernel-${process.pid}`;
spawnSync('ip', ['netns', 'add', netns]);
const client = new KubeClient(await loadKubeConfig({ kubeconfig: cp.kubeconfig }));
/** One write; `path` is under `resource`, named in an error's message. */
const send = (method: 'POST' | 'PATCH' | 'PUT', resource: Resource, path: string, body: unknown, contentType?: string) =>
  client.request(method, path, { verb: method === 'POST' ? 'create' : method === 'PUT' ? 'update' : 'patch', resource }, body, contentType);
try {
  const t0 = performance.now();
  for (let i = 0; i < NAMESPACES; i++) await send('POST', NAMESPACE_API, resourcePath(NAMESPACE_API), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns(i) } });
  const pods = Array.from({ length: PODS }, (_, i) => ({ i, namespace: ns(i % NAMESPACES), name: `pod-${i}` }));
  await pool(pods, 8, async (p) => {
    await send('POST', POD_API, resourcePath(POD_API, p.namespace), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: p.name, namespace: p.namespace, labels: { app: `app-${p.i % 50}`, role: p.i % 2 === 0 ? 'peer' : 'none' } },
      spec: { nodeName: `node-${p.i % NODES}`, containers: [{ name: 'c', image: 'none', ports: [{ name: 'http', containerPort: 80 }] }] },
    });
    const ip = `10.${100 + Math.floor(p.i / 65536)}.${Math.floor(p.i / 256) % 256}.${p.i % 256}`;
    await send('PATCH', POD_API, `${resourcePath(POD_API, p.namespace, p.name)}/status`, { status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] } }, 'application/merge-patch+json');
  });
  for (let i = 0; i < NAMESPACES; i++) await send('POST', POLICY_API, resourcePath(POLICY_API, ns(i)), policy(ns(i), 80));
  console.error(`created ${PODS} pods, ${NAMESPACES} namespaces and policies in ${Math.round(performance.now() - t0)} ms`);

  const bin = fileURLToPath(new URL('../src/cli/bin.ts', import.meta.url));
  const agent = spawn(
    process.execPath,
    ['--import', 'tsx', bin, 'agent', '--node', 'node-0', '--kubeconfig', cp.kubeconfig, '--netns', netns, '--listen', 'none', '--existing-connections', values['existing-connections'], '-o', 'json'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const waiting: ((e: { kind: string; time: string; ms?: number }) => void)[] = [];
  createInterface({ input: agent.stdout! }).on('line', (line) => {
    const e = JSON.parse(line) as { kind: string; time: string; ms?: number };
    if (process.env.BENCH_DEBUG) console.error(line.slice(0, 200));
    if (e.kind === 'applied' || e.kind === 'unchanged') waiting.shift()?.(e);
  });
  const next = () => new Promise<{ kind: string; time: string; ms?: number }>((resolve) => waiting.push(resolve));
  await next();
  console.error('agent applied the first ruleset');

  const latencies: number[] = [];
  const applyMs: number[] = [];
  let unchanged = 0;
  const local = [...new Set(pods.filter((p) => p.i % NODES === 0).map((p) => p.namespace))];
  const roles = new Map(pods.map((p) => [p.name, p.i % 2 === 0 ? 'peer' : 'none']));
  for (let c = 0; c < CHANGES; c++) {
    const applied = next();
    if (c % 2 === 0) {
      // Every write changes the object (else the API server sends no event): the pod's role toggles.
      const p = pods[(c * 7919) % PODS]!;
      const role = roles.get(p.name) === 'peer' ? 'none' : 'peer';
      roles.set(p.name, role);
      await send('PATCH', POD_API, resourcePath(POD_API, p.namespace, p.name), { metadata: { labels: { role } } }, 'application/merge-patch+json');
    } else {
      // A namespace with pods on node-0: its policy's chain is in node-0's table.
      const n = local[c % local.length]!;
      await send('PUT', POLICY_API, resourcePath(POLICY_API, n, 'from-peers'), policy(n, 1000 + c));
    }
    const written = Date.now();
    const e = await Promise.race([applied, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`change ${c}: no event from the agent within 30 s`)), 30_000).unref())]);
    if (e.kind === 'unchanged') unchanged++;
    latencies.push(Date.parse(e.time) - written);
    if (e.ms !== undefined) applyMs.push(e.ms);
  }
  agent.kill('SIGTERM');
  const result = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, kernel: release(), node: process.version },
    load: { existingConnections: values['existing-connections'], pods: PODS, nodes: NODES, namespaces: NAMESPACES, policies: NAMESPACES, changes: CHANGES, localPods: Math.ceil(PODS / NODES) },
    apiToKernelMs: { p50: pct(latencies, 50), p90: pct(latencies, 90), p99: pct(latencies, 99), max: Math.max(...latencies) },
    agentApplyMs: applyMs.length ? { p50: +pct(applyMs, 50).toFixed(1), p99: +pct(applyMs, 99).toFixed(1) } : undefined,
    unchanged,
    target: 'p99 <= 200 ms',
  };
  console.log(JSON.stringify(result, null, 2));
  console.error(`API answer -> kernel: p50 ${result.apiToKernelMs.p50} ms, p99 ${result.apiToKernelMs.p99} ms (target <= 200 ms) ${result.apiToKernelMs.p99 <= 200 ? 'OK' : 'MISSED'}`);
  if (values.json) await writeFile(values.json, JSON.stringify(result, null, 2));
} finally {
  spawnSync('ip', ['netns', 'delete', netns]);
  await cp.stop();
}
