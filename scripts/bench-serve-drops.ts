/**
 * `npm run bench:serve-drops`: what showing the agents' recent drops costs `netpol serve`, on the
 * realistic shape (5,346 pods; generated into --dir unless it is there) with N real agent HTTP servers
 * (src/agent/http.ts + drop log, each ring full: 4,096 events fed as kernel log lines through the real
 * parser, addresses of the shape's pods, so serve resolves every end by address), in this process.
 * Reports:
 * - first round: from the poller's start until every agent's full ring was read, validated and stored;
 * - fold: one `/api/v1/drops` view of the kept events (2,000) against the workspace, cold (first after a
 *   change: resolving ends, building the address blocks) and warm (p50 over 20: a new event each time);
 * - steady CPU: this process's CPU time per second (serve and the agents together, an upper bound for
 *   serve) over --seconds with every agent polled every 2 s, idle and with --rate new events/s in all;
 * - heap after the run.
 * Usage: node --import tsx scripts/bench-serve-drops.ts [--agents 20] [--seconds 10] [--rate 100] [--dir DIR]
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startAgentServer, type AgentServer } from '../src/agent/http.js';
import { startDropLog, type RunningDropLog } from '../src/agent/drop-service.js';
import type { KmsgRecord } from '../src/agent/kmsg.js';
import { AgentPoller, DropStore, fileSource, httpTarget, Workspace } from '../src/server/index.js';
import { kernelLine } from '../test/server/drops-agent.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '10' },
    rate: { type: 'string', default: '100' },
    dir: { type: 'string', default: join(tmpdir(), 'netpol-bench-serve') },
  },
});
const AGENTS = Number(values.agents);
const SECONDS = Number(values.seconds);
const RATE = Number(values.rate);
const realistic = join(values.dir, 'realistic');
if (!existsSync(realistic)) spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/gen.ts'), 'realistic', '--out', realistic], { stdio: 'inherit', cwd: root });

console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, node ${process.version}, load ${loadavg()[0]!.toFixed(1)}`);
const ws = new Workspace(await fileSource({ filenames: [realistic], recursive: true }).read());
const ips = ws.pods.flatMap((p) => p.ips).filter((ip) => ip.includes('.'));
console.log(`realistic: ${ws.pods.length} pods, ${ips.length} addresses; ${AGENTS} agents`);

/** One agent: its HTTP server and drop log, and a way to log a kernel line now. */
interface Agent {
  readonly server: AgentServer;
  readonly drops: RunningDropLog;
  push(line: string): void;
}
let sport = 1024;
const line = (i: number) => kernelLine('deny', 'ingress_ns/pol', ips[i % ips.length]!, ips[(i * 7919 + 1) % ips.length]!, (sport = sport >= 65000 ? 1024 : sport + 1), 80);
const agents: Agent[] = [];
for (let a = 0; a < AGENTS; a++) {
  let deliver: ((r: KmsgRecord, wallMs: number) => void) | undefined;
  let seq = 0;
  const drops = startDropLog({ node: `n${a}`, enforced: () => undefined, report: () => undefined, reader: { start: (r) => void (deliver = r), stop: () => undefined } });
  const server = await startAgentServer({ host: '127.0.0.1', port: 0 }, { ready: () => true, metrics: async () => [], drops: (since) => drops.answer(since) });
  const agent = { server, drops, push: (l: string) => deliver?.({ seq: ++seq, usec: 0, message: l }, Date.now()) };
  for (let i = 0; i < 4096; i++) agent.push(line(a * 4096 + i));
  agents.push(agent);
}

const store = new DropStore();
let changes = 0;
const poller = new AgentPoller(store, () => changes++, { intervalMs: 2000 });
const t0 = performance.now();
poller.add(agents.map((a) => httpTarget(new URL(`http://127.0.0.1:${a.server.address.port}`))));
while (poller.status().some((s) => s.state !== 'ok')) await new Promise((r) => setTimeout(r, 5));
console.log(`first round: ${(performance.now() - t0).toFixed(0)} ms to read ${AGENTS} x 4,096 events (kept ${store.size})`);

const timed = (f: () => void) => {
  const s = performance.now();
  f();
  return performance.now() - s;
};
console.log(`fold cold: ${timed(() => store.view(ws, [])).toFixed(1)} ms`);
const warm: number[] = [];
for (let i = 0; i < 20; i++) {
  agents[0]!.push(line(i));
  store.add('x', [], Date.now());
  warm.push(timed(() => store.view(ws, [])));
}
console.log(`fold warm: p50 ${[...warm].sort((a, b) => a - b)[10]!.toFixed(1)} ms`);

async function cpuPerSecond(rate: number): Promise<number> {
  const start = process.cpuUsage();
  const wall = performance.now();
  const feed = rate > 0 ? setInterval(() => agents[Math.floor(Math.random() * AGENTS)]!.push(line(Math.floor(Math.random() * 1e6))), 1000 / rate) : undefined;
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  clearInterval(feed);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / ((performance.now() - wall) / 1000);
}
console.log(`steady, idle: ${(await cpuPerSecond(0)).toFixed(1)} ms CPU per second`);
console.log(`steady, ${RATE} events/s: ${(await cpuPerSecond(RATE)).toFixed(1)} ms CPU per second (kept ${store.size}, ${changes} changes announced)`);
console.log(`heap: ${(process.memoryUsage().heapUsed / 1024 / 1024).toFixed(0)} MiB`);
poller.stop();
for (const a of agents) {
  a.drops.stop();
  await a.server.close();
}
