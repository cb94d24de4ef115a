/**
 * `npm run bench:faults`: the costs of the agent's fault handling, in private network namespaces on a
 * real kernel. Prints the figures recorded in docs/benchmarks-enforce.md:
 *
 *   drift   an external `nft flush table` / `nft delete table` of the agent's table, until the agent
 *           reports it repaired (`nft monitor` sees it, the table is listed, compared and repaired in
 *           one transaction); target <= 1 s. With a small table and one of `--peers` elements.
 *   start   the conntrack check a starting agent runs when it has no record of one, with `--flows`
 *           tracked connections (UDP, created by sending datagrams; all of them allowed, so the check
 *           lists and judges them and cuts none), against a start that finds its record: what the
 *           record saves.
 *
 * Usage: npm run bench:faults -- [--rounds 10] [--peers 20000] [--flows 100000]
 * Needs root, ip, nft, conntrack and python3 (sends the datagrams).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, type AgentEvent } from '../src/agent/agent.js';
import { FileCutRecord } from '../src/agent/cut-record.js';
import { NftSession } from '../src/agent/nft-session.js';
import type { ClusterSnapshot, ClusterSource } from '../src/agent/source.js';
import { ProcessConntrack } from '../src/agent/system.js';
import { NAMESPACE_NAME_LABEL, type Cluster, type PodInfo } from '../src/model/cluster.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '10' }, peers: { type: 'string', default: '20000' }, flows: { type: 'string', default: '100000' } } });
const ROUNDS = Number(values.rounds);
const PEERS = Number(values.peers);
const FLOWS = Number(values.flows);
const NS = `netpol-bench-faults-${process.pid}`;

const v4 = (n: number) => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const inNs = (cmd: string, args: string[], input?: string) => execFileSync('ip', ['netns', 'exec', NS, cmd, ...args], { encoding: 'utf8', ...(input === undefined ? {} : { input }) });

/** Local pods a (10.9.0.1), b and c (10.9.0.2-3); a admits b, c and `peers` remote pods (every other address from 10.96.0.0). */
function benchCluster(peers: number): Cluster {
  const pod = (namespace: string, name: string, labels: Record<string, string>, ip: string, nodeName: string): PodInfo => ({ namespace, name, labels, ips: [ip], ports: [], nodeName });
  const pods = [pod('x', 'a', { app: 'a' }, '10.9.0.1', 'n1'), pod('x', 'b', { app: 'b' }, '10.9.0.2', 'n1'), pod('x', 'c', { app: 'b' }, '10.9.0.3', 'n1')];
  for (let i = 0; i < peers; i++) pods.push(pod('x', `peer-${i}`, { app: 'b' }, v4(10 * 2 ** 24 + 96 * 2 ** 16 + 2 * i), 'remote'));
  const spec = { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }] }] };
  return {
    namespaces: new Map([['x', { name: 'x', labels: { [NAMESPACE_NAME_LABEL]: 'x' }, implicit: false }]]),
    pods,
    policies: [{ namespace: 'x', name: 'a-from-b', policy: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'a-from-b', namespace: 'x' }, spec } }],
  };
}

const fixed = (c: Cluster): ClusterSource => ({
  start: async (cb: (s: ClusterSnapshot) => void | Promise<void>) => void (await cb({ cluster: c, diagnostics: [], generation: 1 })),
  stop: async () => {},
});

function stats(ms: number[]): string {
  const s = [...ms].sort((x, y) => x - y);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(0);
  return `median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms (${s.length} rounds)`;
}

async function drift(peers: number): Promise<void> {
  const events: AgentEvent[] = [];
  const agent = new Agent(fixed(benchCluster(peers)), new NftSession({ netns: NS }), undefined, { node: 'n1', denyAction: 'drop', existingConnections: 'keep', verifyMs: 3_600_000 }, (e) =>
    events.push(e),
  );
  await agent.start();
  await new Promise((r) => setTimeout(r, 500)); // the watch subscribes
  for (const how of ['flush', 'delete'] as const) {
    const ms: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const before = agent.counters.driftRepairs;
      const t0 = performance.now();
      inNs('nft', [how, 'table', 'inet', 'netpol']);
      while (agent.counters.driftRepairs === before) await new Promise((r) => setTimeout(r, 2));
      ms.push(performance.now() - t0);
    }
    console.log(`drift  ${peers} peers, nft ${how} table -> repaired: ${stats(ms)}`);
  }
  await agent.stop();
  inNs('nft', ['delete', 'table', 'inet', 'netpol']);
}

async function start(): Promise<void> {
  const c = benchCluster(0);
  const state = mkdtempSync(join(tmpdir(), 'netpol-bench-state-'));
  const opts = { node: 'n1', denyAction: 'drop' as const, existingConnections: 'cut' as const, verifyMs: 0, cutRecord: new FileCutRecord(state, 'netpol') };
  try {
    // The table makes conntrack track this namespace; b's datagrams to a's ports make the flows.
    const setup = new Agent(fixed(c), new NftSession({ netns: NS }), new ProcessConntrack(NS), opts, () => {});
    await setup.start();
    await setup.stop();
    inNs('sysctl', ['-qw', 'net.netfilter.nf_conntrack_udp_timeout=600']);
    const perSource = Math.ceil(FLOWS / 2);
    inNs('python3', [
      '-c',
      `import socket
for src in ('10.9.0.2', '10.9.0.3'):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((src, 0))
    for p in range(1, ${perSource} + 1): s.sendto(b'x', ('10.9.0.1', p))`,
    ]);
    const t0 = performance.now();
    const flows = await new ProcessConntrack(NS).list();
    const listMs = performance.now() - t0;
    console.log(`start  ${flows.length} tracked flows; conntrack -L and parse alone: ${listMs.toFixed(0)} ms`);
    for (const record of ['without a record (check runs)', 'with its record (no check)'] as const) {
      if (record.startsWith('without')) rmSync(join(state, 'netpol.cut'), { force: true });
      const ms: number[] = [];
      for (let i = 0; i < Math.min(ROUNDS, 5); i++) {
        if (record.startsWith('without')) rmSync(join(state, 'netpol.cut'), { force: true });
        const agent = new Agent(fixed(c), new NftSession({ netns: NS }), new ProcessConntrack(NS), opts, () => {});
        const t = performance.now();
        await agent.start();
        ms.push(performance.now() - t);
        await agent.stop();
      }
      console.log(`start  ${flows.length} flows, a start ${record}: ${stats(ms)}`);
    }
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

if (process.getuid?.() !== 0) throw new Error('needs root');
console.log(
  `# ${new Date().toISOString()} ${cpus()[0]?.model ?? '?'} x${cpus().length}, Linux ${release()}, node ${process.version}, ${spawnSync('nft', ['--version'], { encoding: 'utf8' }).stdout.trim()}`,
);
execFileSync('ip', ['netns', 'add', NS]);
try {
  inNs('ip', ['link', 'set', 'lo', 'up']);
  for (const ip of ['10.9.0.1', '10.9.0.2', '10.9.0.3']) inNs('ip', ['addr', 'add', `${ip}/32`, 'dev', 'lo']);
  await drift(0);
  await drift(PEERS);
  await start();
} finally {
  spawnSync('ip', ['netns', 'del', NS]);
}
