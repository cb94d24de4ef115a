/**
 * `npm run bench:enforce`: enforcement measured in the lab (root, real kernel, real packets). Prints the
 * figures recorded in docs/benchmarks-enforce.md, each against its target:
 *
 *   load      new connections per second and throughput between two pods on two lab nodes, with no
 *             netpol table, with netpol and no policy, and with policies whose peer sets hold 100,000
 *             addresses (a hash set and an interval set, plus a named-port set); interleaved rounds,
 *             medians; target >= 90% of the no-policy rate
 *   program   a node with 110 local pods and 100,000 peers: compile + render + `nft -f` into an empty
 *             table; target <= 1 s
 *   changes   one change (pod added or removed, a peer's or a local pod's label flipped, a policy's ports
 *             or peers edited) through the agent, from the snapshot to the kernel (compile, diff, nft):
 *             target <= 10 ms p99; with `nft -f` per change and with the persistent
 *             `nft -i` (src/agent/nft-session.ts, the agent's runner)
 *   probe     a policy file rewritten until a probe in the lab sees the new verdict, through real
 *             `netpol agent` processes (--deny-action reject); target <= 50 ms p99
 *
 * Usage: npm run bench:enforce -- [--only load,program,changes,probe] [--rounds 12] [--seconds 1]
 *          [--peers 100000] [--local 110] [--changes 100] [--flips 100] [--json FILE] [--quick]
 * Needs root, ip, nft and conntrack. Everything runs in one lab (id `b` + 5 random characters), torn down
 * at the end, on failure and on Ctrl-C. The 100,000 peers exist only as manifests (they have addresses,
 * and the compiled sets hold them, but they are not built in the lab).
 */
import { randomBytes } from 'node:crypto';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { rename, writeFile } from 'node:fs/promises';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, type AgentEvent } from '../src/agent/agent.js';
import type { ClusterSnapshot } from '../src/agent/source.js';
import { ProcessConntrack, ProcessNft, type NftRunner } from '../src/agent/system.js';
import { agentEnforcer, checkPrerequisites, Lab } from '../src/lab/index.js';
import { NAMESPACE_NAME_LABEL, type Cluster, type NamespaceInfo, type PodInfo, type PolicyInfo } from '../src/model/cluster.js';
import type { NetworkPolicySpec } from '../src/model/k8s.js';
import { compileNode, NodeCompiler, renderRule, renderRuleset, type Ruleset } from '../src/nft/index.js';
import { NftSession } from '../src/agent/nft-session.js';

// ---- options -------------------------------------------------------------------------------------

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'load,program,changes,probe' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    peers: { type: 'string', default: '100000' },
    local: { type: 'string', default: '110' },
    changes: { type: 'string' },
    flips: { type: 'string' },
    json: { type: 'string' },
    quick: { type: 'boolean', default: false },
    child: { type: 'string' },
  },
});
const quick = values.quick === true;
const ROUNDS = Number(values.rounds ?? (quick ? 2 : 12));
const SECONDS = Number(values.seconds ?? 1);
const PEERS = Number(values.peers);
const LOCAL = Number(values.local);
const CHANGES = Number(values.changes ?? (quick ? 20 : 100));
const FLIPS = Number(values.flips ?? (quick ? 20 : 100));
const ONLY = new Set((values.only ?? '').split(',').map((s) => s.trim()));

const CONN_PORT = 5201;
const STREAM_PORT = 5202;
const CONCURRENCY = 32;
const SETTLE_MS = 1000;

// ---- the clusters --------------------------------------------------------------------------------

function v4(n: number): string {
  return `${Math.floor(n / 2 ** 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
/** Peers every other address from 10.96.0.0, so no two are adjacent and interval sets do not merge them. */
const PEER_BASE = 10 * 2 ** 24 + 96 * 2 ** 16;
/** Pods added during the change benchmark, every other address from 10.112.0.0. */
const ADDED_BASE = 10 * 2 ** 24 + 112 * 2 ** 16;
/** Local pods of the program benchmark, from 10.80.1.0. */
const LOCAL_BASE = 10 * 2 ** 24 + 80 * 2 ** 16 + 256;
const HTTP = [{ name: 'http', port: 8080, protocol: 'TCP' as const }];

function ns(name: string, labels: Record<string, string>): NamespaceInfo {
  return { name, labels: { ...labels, [NAMESPACE_NAME_LABEL]: name }, implicit: false };
}
const NAMESPACES = new Map([
  ['bench', ns('bench', { bench: 'app' })],
  ['peers', ns('peers', { bench: 'peers' })],
]);

function peerPods(n: number): PodInfo[] {
  return Array.from({ length: n }, (_, i) => ({
    namespace: 'peers',
    name: `peer-${i}`,
    labels: { role: 'client', shard: `s${i % 10}` },
    ips: [v4(PEER_BASE + 2 * i)],
    ports: HTTP,
    nodeName: `remote-${i % 200}`,
  }));
}

function policy(name: string, spec: NetworkPolicySpec): PolicyInfo {
  return { namespace: 'bench', name, policy: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'bench' }, spec } };
}

const LOAD_PORTS = [{ port: CONN_PORT, endPort: STREAM_PORT }, { port: 'http' }];

/**
 * Every pod of `bench` is isolated both ways. Ingress: the peers (namespace and pod selector) and the pods
 * of `bench`: a hash set of 100,000+ addresses. Egress: an ipBlock with an except, the peers and `bench`:
 * an interval set of 100,000+ addresses. Both admit a port range and the named port `http`, which every
 * pod defines: an `address . port` set of 100,000+ elements. `bench/db` gives the pods labelled
 * `tier: db` a chain of their own (the local label flips move pods between chains).
 */
/**
 * The program benchmark's main case, "100,000 peer elements": only the ingress policy's peers, a plain set
 * of the 100,000 peers and the local pods, with numeric ports (and `bench/db`).
 */
function peerSetPolicies(): PolicyInfo[] {
  const [ingress, , db] = benchPolicies();
  const spec = ingress!.policy.spec;
  return [policy('ingress', { ...spec, ingress: [{ ...spec.ingress![0]!, ports: [{ port: CONN_PORT, endPort: STREAM_PORT }] }] }), db!];
}

function benchPolicies(edit: { ports?: boolean; peers?: boolean } = {}): PolicyInfo[] {
  // The edited peers leave out a tenth of the peers (10,000 elements out of the ingress set).
  const peerSelector = edit.peers ? { matchLabels: { role: 'client' }, matchExpressions: [{ key: 'shard', operator: 'NotIn', values: ['s0'] }] } : { matchLabels: { role: 'client' } };
  return [
    policy('ingress', {
      podSelector: {},
      ingress: [
        { from: [{ namespaceSelector: { matchLabels: { bench: 'peers' } }, podSelector: peerSelector }, { podSelector: {} }], ports: edit.ports ? [...LOAD_PORTS, { port: 9000 }] : LOAD_PORTS },
      ],
    }),
    policy('egress', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '172.16.0.0/12', except: ['172.16.1.0/24'] } }, { namespaceSelector: { matchLabels: { bench: 'peers' } } }, { podSelector: {} }], ports: LOAD_PORTS }],
    }),
    policy('db', { podSelector: { matchLabels: { tier: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'admin' } } }] }] }),
  ];
}

/** The two pods the lab builds: a server on lab node 0, a client on lab node 1. */
function labCluster(): Cluster {
  const pods: PodInfo[] = [
    { namespace: 'bench', name: 'server', labels: { app: 'server' }, ips: ['10.80.0.10'], ports: HTTP, nodeName: 'n0' },
    { namespace: 'bench', name: 'client', labels: { app: 'client' }, ips: ['10.80.0.11'], ports: HTTP, nodeName: 'n1' },
  ];
  return { namespaces: NAMESPACES, pods, policies: [] };
}

/** The program and change benchmarks' node: LOCAL pods here, PEERS elsewhere. */
function programCluster(node: string): Cluster {
  const local: PodInfo[] = Array.from({ length: LOCAL }, (_, i) => ({
    namespace: 'bench',
    name: `local-${i}`,
    labels: { app: `app-${i % 10}`, tier: i % 5 === 0 ? 'db' : 'web' },
    ips: [v4(LOCAL_BASE + i)],
    ports: HTTP,
    nodeName: node,
  }));
  return { namespaces: NAMESPACES, pods: [...local, ...peerPods(PEERS)], policies: benchPolicies() };
}

function elementCount(rs: Ruleset): number {
  return rs.sets.reduce((n, s) => n + s.elements.length, 0);
}

// ---- statistics ----------------------------------------------------------------------------------

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
}
const median = (xs: readonly number[]) => quantile(xs, 0.5);
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '-');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- programs run inside the pods ------------------------------------------------------------------

/** Load server: CONN_PORT answers one byte per request; STREAM_PORT counts bytes and replies the count. */
const SERVER_JS = `
import net from 'node:net';
const conn = net.createServer({ noDelay: true }, (s) => { s.on('error', () => {}); s.on('data', () => s.write('k')); });
const stream = net.createServer((s) => { let n = 0; s.on('error', () => {}); s.on('data', (d) => { n += d.length; }); s.on('end', () => s.end(String(n))); });
let up = 0;
const ready = () => { if (++up === 2) console.log('ready'); };
conn.listen({ port: ${CONN_PORT}, host: '0.0.0.0', backlog: 4096 }, ready);
stream.listen({ port: ${STREAM_PORT}, host: '0.0.0.0' }, ready);
`;

/**
 * Load client. conn: CONCURRENCY loops of connect, one byte each way, close with a reset (no TIME_WAIT, so
 * ports never run out); counts completed exchanges after a 300 ms warm-up. stream: one connection writing
 * 128 KiB chunks for the duration; the server's byte count over the time to its reply.
 */
const CLIENT_JS = `
import net from 'node:net';
const host = process.env.BENCH_HOST, seconds = Number(process.env.BENCH_SECONDS);
const now = () => performance.now();
const kill = (s) => { try { s.resetAndDestroy(); } catch { s.destroy(); } };
if (process.env.BENCH_MODE === 'conn') {
  const port = Number(process.env.BENCH_PORT), concurrency = Number(process.env.BENCH_CONCURRENCY);
  const from = now() + 300, end = from + seconds * 1000;
  let ok = 0, failed = 0, active = 0;
  const one = () => {
    if (now() >= end) { if (--active === 0) console.log(JSON.stringify({ ok, failed, seconds })); return; }
    const s = net.connect({ host, port, noDelay: true });
    let done = false;
    const next = (good) => {
      if (done) return;
      done = true;
      const t = now();
      if (t >= from && t < end) { if (good) ok++; else failed++; }
      kill(s);
      setImmediate(one);
    };
    s.setTimeout(2000, () => next(false));
    s.once('connect', () => s.write('p'));
    s.once('data', () => next(true));
    s.once('error', () => next(false));
  };
  for (let i = 0; i < concurrency; i++) { active++; one(); }
} else {
  const buf = Buffer.alloc(128 * 1024, 97);
  const s = net.connect({ host, port: Number(process.env.BENCH_PORT) });
  let t0 = 0, reply = '';
  s.on('error', (e) => { console.log(JSON.stringify({ error: String(e.code ?? e.message) })); process.exit(1); });
  const pump = () => { while (now() < t0 + seconds * 1000) { if (!s.write(buf)) { s.once('drain', pump); return; } } s.end(); };
  s.once('connect', () => { t0 = now(); pump(); });
  s.on('data', (d) => { reply += d; });
  s.on('end', () => console.log(JSON.stringify({ bytes: Number(reply), seconds: (now() - t0) / 1000 })));
}
`;

/**
 * Prober: on \`await connected|refused\`, opens short TCP connections (1 ms apart) until one gives that
 * result, then prints \`seen <monotonic ns> <attempts>\` (the clock is the machine's CLOCK_MONOTONIC, the
 * same in every process, so the benchmark compares it with its own).
 */
const PROBER_JS = `
import net from 'node:net';
import readline from 'node:readline';
const host = process.env.BENCH_HOST, port = Number(process.env.BENCH_PORT);
const attempt = () => new Promise((resolve) => {
  const s = net.connect({ host, port });
  let done = false;
  const fin = (r) => { if (done) return; done = true; try { s.resetAndDestroy(); } catch { s.destroy(); } resolve(r); };
  s.setTimeout(300, () => fin('timeout'));
  s.once('connect', () => fin('connected'));
  s.once('error', (e) => fin(e.code === 'ECONNREFUSED' ? 'refused' : String(e.code ?? 'error')));
});
readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  const [cmd, expect] = line.split(' ');
  if (cmd === 'once') { console.log('result ' + (await attempt())); return; }
  if (cmd !== 'await') return;
  const deadline = performance.now() + 10000;
  let n = 0;
  console.log('polling');
  for (;;) {
    n++;
    const r = await attempt();
    if (r === expect) { console.log('seen ' + process.hrtime.bigint() + ' ' + n); return; }
    if (performance.now() > deadline) { console.log('timeout ' + n + ' ' + r); return; }
    // A breath between attempts: the agents share the machine's two CPUs with this loop.
    await new Promise((r) => setTimeout(r, 1));
  }
});
console.log('ready');
`;

/** Lines of a child's stdout, as an async queue. */
function lines(child: ChildProcess): { next(timeoutMs?: number): Promise<string> } {
  const queue: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  let ended = false;
  if (child.stdout) {
    createInterface({ input: child.stdout }).on('line', (l) => {
      const w = waiting.shift();
      if (w) w(l);
      else queue.push(l);
    });
  }
  child.on('exit', () => {
    ended = true;
    for (const w of waiting.splice(0)) w('');
  });
  return {
    next(timeoutMs = 30_000) {
      const l = queue.shift();
      if (l !== undefined) return Promise.resolve(l);
      if (ended) return Promise.resolve('');
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no output within ${timeoutMs} ms`)), timeoutMs);
        waiting.push((x) => {
          clearTimeout(timer);
          resolve(x);
        });
      });
    },
  };
}

function nodeArgv(code: string): string[] {
  return [process.execPath, '--input-type=module', '-e', code];
}

// ---- 1. load -------------------------------------------------------------------------------------

type Variant = 'none' | 'empty' | 'policy';

interface LoadResult {
  readonly rounds: { variant: Variant; round: number; connPerSecond: number; connFailed: number; gbitPerSecond: number }[];
  readonly elements: Record<string, number>;
}

/**
 * The three variants as small transactions on one loaded ruleset (the sets, 300,000 elements, stay):
 * `none` has no forward hook (no packet meets netpol), `empty` has the hook and nothing in the dispatch
 * maps (netpol installed, no pod isolated), `policy` has the two pods in the maps (isolated both ways,
 * every new connection looked up in the 100,000-element sets).
 */
function variantScripts(rs: Ruleset): Record<Variant, string> {
  const t = `${rs.family} ${rs.table}`;
  const forward = rs.chains.find((c) => c.name === 'forward')!;
  const base = forward.base!;
  const hook = [
    `add chain ${t} forward { type ${base.type} hook ${base.hook} priority filter; policy ${base.policy}; }`,
    `flush chain ${t} forward`,
    ...forward.rules.map((r) => `add rule ${t} forward ${renderRule(r)!}`),
  ];
  const flushMaps = rs.maps.map((m) => `flush map ${t} ${m.name}`);
  const fillMaps = rs.maps.filter((m) => m.elements.length > 0).map((m) => `add element ${t} ${m.name} { ${m.elements.map(([k, c]) => `${k} : jump ${c}`).join(', ')} }`);
  return {
    none:
      [`add chain ${t} forward { type ${base.type} hook ${base.hook} priority filter; policy ${base.policy}; }`, `flush chain ${t} forward`, `delete chain ${t} forward`, ...flushMaps].join('\n') +
      '\n',
    empty: [...hook, ...flushMaps].join('\n') + '\n',
    policy: [...hook, ...flushMaps, ...fillMaps].join('\n') + '\n',
  };
}

async function benchLoad(lab: Lab): Promise<LoadResult> {
  const server = lab.layout.pods.find((p) => p.key === 'bench/server')!;
  const client = lab.layout.pods.find((p) => p.key === 'bench/client')!;
  const host = server.ips[0]!;
  const withPolicies: Cluster = { namespaces: NAMESPACES, pods: [...lab.cluster.pods, ...peerPods(PEERS)], policies: benchPolicies() };
  const scripts = new Map<string, Record<Variant, string>>();
  const elements: Record<string, number> = {};
  await Promise.all(
    lab.layout.nodes.map(async (node) => {
      const t0 = performance.now();
      const rs = compileNode(withPolicies, { node: node.name });
      elements[node.name] = elementCount(rs);
      scripts.set(node.name, variantScripts(rs));
      const t1 = performance.now();
      await lab.exec(node.netns, ['nft', '-f', '-'], { input: renderRuleset(rs) });
      log(
        `  ${node.name}: ${rs.sets.length} sets, ${elementCount(rs)} elements (${rs.sets
          .filter((x) => x.elements.length > 0)
          .map((x) => `${x.name} ${x.elements.length}`)
          .join(', ')}); compiled in ${f1(t1 - t0)} ms, loaded in ${f1(performance.now() - t1)} ms`,
      );
    }),
  );
  await sleep(SETTLE_MS);
  const srv = lab.spawn(server.netns, nodeArgv(SERVER_JS), { stdio: ['ignore', 'pipe', 'inherit'] });
  if ((await lines(srv).next()) !== 'ready') throw new Error('the load server did not start');

  const apply = async (variant: Variant) => {
    await Promise.all(lab.layout.nodes.map((n) => lab.exec(n.netns, ['nft', '-f', '-'], { input: scripts.get(n.name)![variant] })));
  };
  const flush = () => Promise.all(lab.layout.nodes.map((n) => lab.exec(n.netns, ['conntrack', '-F']).catch(() => undefined)));
  const runClient = async (mode: 'conn' | 'stream'): Promise<Record<string, number>> => {
    const env = {
      ...process.env,
      BENCH_HOST: host,
      BENCH_PORT: String(mode === 'conn' ? CONN_PORT : STREAM_PORT),
      BENCH_SECONDS: String(SECONDS),
      BENCH_MODE: mode,
      BENCH_CONCURRENCY: String(CONCURRENCY),
    };
    const child = lab.spawn(client.netns, nodeArgv(CLIENT_JS), { stdio: ['ignore', 'pipe', 'inherit'], env });
    const line = await lines(child).next(SECONDS * 1000 + 30_000);
    const r = JSON.parse(line || '{}') as Record<string, number>;
    if ('error' in r || Object.keys(r).length === 0) throw new Error(`load client (${mode}) failed: ${line}`);
    return r;
  };

  const rounds: LoadResult['rounds'] = [];
  const variants: Variant[] = ['none', 'empty', 'policy'];
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order so that no variant always runs first (or last) in a round.
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const variant of order) {
      await apply(variant);
      await flush();
      const conn = await runClient('conn');
      await flush();
      const stream = await runClient('stream');
      const r = { variant, round, connPerSecond: conn.ok! / conn.seconds!, connFailed: conn.failed!, gbitPerSecond: (stream.bytes! * 8) / stream.seconds! / 1e9 };
      rounds.push(r);
      log(`  round ${round + 1}/${ROUNDS} ${variant.padEnd(6)} ${f1(r.connPerSecond).padStart(8)} conn/s (${r.connFailed} failed)  ${f2(r.gbitPerSecond).padStart(6)} Gbit/s`);
    }
  }
  srv.kill();
  await Promise.all(lab.layout.nodes.map((n) => lab.exec(n.netns, ['nft', '-f', '-'], { input: 'table inet netpol {}\ndelete table inet netpol\n' })));
  return { rounds, elements };
}

// ---- 2 and 3. program and changes: a child process inside a lab node's namespace -------------------

interface ProgramRound {
  readonly case: string;
  readonly compile: number;
  readonly render: number;
  readonly nft: number;
  readonly total: number;
  readonly elements: number;
  readonly bytes: number;
}

interface ChangeSamples {
  readonly runner: 'nft -f' | 'nft -i';
  readonly type: string;
  /** Snapshot handed to the agent -> the transaction is in the kernel (compile + diff + nft), ms. */
  readonly toKernel: number[];
  /** Of which compile + diff + render (until nft is called), ms. */
  readonly compile: number[];
  /** Of which the nft call, ms. */
  readonly nft: number[];
  /** The agent's whole step, including the conntrack check for connections to cut, ms. */
  readonly total: number[];
  readonly lines: number[];
}

/** Times each apply; `applied` is when the kernel has the transaction. */
class TimedNft implements NftRunner {
  started = 0;
  applied = 0;
  spent = 0;
  lastLines = 0;
  constructor(readonly inner: NftRunner) {}
  async apply(script: string): Promise<void> {
    const t0 = performance.now();
    this.started = t0;
    await this.inner.apply(script);
    this.applied = performance.now();
    this.spent = this.applied - t0;
    this.lastLines = script.split('\n').length - 1;
  }
  listTable(table: string): Promise<unknown> {
    return this.inner.listTable(table);
  }
}

async function childKernel(): Promise<void> {
  const out = (x: unknown) => console.log(`RESULT ${JSON.stringify(x)}`);
  const node = 'bench-node';
  const nft = new ProcessNft();
  const dropTable = () => nft.apply('table inet netpol {}\ndelete table inet netpol\n');
  const base = programCluster(node);

  if (ONLY.has('program')) {
    // Alternating: the 100,000 peer elements of the target, and all three large sets (300,000 elements).
    const cases = { peers: { ...base, policies: peerSetPolicies() }, 'three sets': base };
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, cluster] of Object.entries(cases)) {
        await dropTable();
        const t0 = performance.now();
        const rs = new NodeCompiler({ node, denyAction: 'reject' }).update(cluster);
        const t1 = performance.now();
        const text = renderRuleset(rs);
        const t2 = performance.now();
        await nft.apply(text);
        const t3 = performance.now();
        out({ kind: 'program', round: { case: name, compile: t1 - t0, render: t2 - t1, nft: t3 - t2, total: t3 - t0, elements: elementCount(rs), bytes: text.length } satisfies ProgramRound });
      }
    }
  }

  if (ONLY.has('changes')) {
    for (const runner of ['nft -f', 'nft -i'] as const) {
      await dropTable();
      const session = runner === 'nft -i' ? new NftSession() : undefined;
      const timed = new TimedNft(session ?? new ProcessNft());
      const events: AgentEvent[] = [];
      const agent = new Agent({ start: async () => {}, stop: async () => {} }, timed, new ProcessConntrack(), { node, denyAction: 'reject', existingConnections: 'cut' }, (e) => events.push(e));
      let generation = 0;
      let cluster = base;
      const step = async (next: Cluster): Promise<{ toKernel: number; compile: number; nft: number; total: number; lines: number }> => {
        timed.applied = 0;
        const snapshot: ClusterSnapshot = { cluster: next, diagnostics: [], generation: ++generation };
        const t0 = performance.now();
        await agent.onSnapshot(snapshot);
        const t1 = performance.now();
        const e = events.at(-1);
        if (e?.kind !== 'applied') throw new Error(`change ${generation}: the agent reported ${e?.kind}: ${e?.message}`);
        cluster = next;
        return { toKernel: timed.applied - t0, compile: timed.started - t0, nft: timed.spent, total: t1 - t0, lines: timed.lastLines };
      };
      const first = await step(base);
      out({ kind: 'first-apply', runner, ...first });

      const samples = new Map<string, ChangeSamples>();
      const record = (type: string, r: { toKernel: number; compile: number; nft: number; total: number; lines: number }) => {
        let s = samples.get(type);
        if (!s) samples.set(type, (s = { runner, type, toKernel: [], compile: [], nft: [], total: [], lines: [] }));
        s.toKernel.push(r.toKernel);
        s.compile.push(r.compile);
        s.nft.push(r.nft);
        s.total.push(r.total);
        s.lines.push(r.lines);
      };
      const withPod = (i: number, p: PodInfo): Cluster => {
        const pods = cluster.pods.slice();
        pods[i] = p;
        return { ...cluster, pods };
      };
      let seed = 12345;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      let portsEdited = false;
      let peersEdited = false;
      for (let k = 0; k < CHANGES; k++) {
        // A pod added (a peer: it joins the three large sets), then removed again.
        const added: PodInfo = { namespace: 'peers', name: `added-${k}`, labels: { role: 'client' }, ips: [v4(ADDED_BASE + 2 * k)], ports: HTTP, nodeName: 'remote-0' };
        record('pod added', await step({ ...cluster, pods: [...cluster.pods, added] }));
        // A peer's label flipped: it leaves (or rejoins) the ingress set.
        // (Not in shard s0, which the edited peers leave out: its flips would change nothing then.)
        const n = rand(PEERS);
        const i = LOCAL + (n % 10 === 0 ? (n + 1) % PEERS : n);
        const peer = cluster.pods[i]!;
        record('peer label flipped', await step(withPod(i, { ...peer, labels: { ...peer.labels, role: peer.labels.role === 'client' ? 'gone' : 'client' } })));
        // A local pod's label flipped: it moves to another chain (dispatch map elements).
        const j = rand(LOCAL);
        const mine = cluster.pods[j]!;
        record('local label flipped', await step(withPod(j, { ...mine, labels: { ...mine.labels, tier: mine.labels.tier === 'db' ? 'web' : 'db' } })));
        // A policy edited: a port added or removed (its chain is rewritten, its sets stay).
        portsEdited = !portsEdited;
        record('policy edited (ports)', await step({ ...cluster, policies: benchPolicies({ ports: portsEdited, peers: peersEdited }) }));
        record('pod removed', await step({ ...cluster, pods: cluster.pods.filter((p) => p !== added) }));
        // A policy's peers edited: its set is computed again over every pod (fewer rounds: the slow case).
        if (k % 5 === 0) {
          peersEdited = !peersEdited;
          record('policy edited (peers)', await step({ ...cluster, policies: benchPolicies({ ports: portsEdited, peers: peersEdited }) }));
        }
      }
      for (const s of samples.values()) out({ kind: 'changes', samples: s });
      session?.close();
    }
    await dropTable();
  }
}

async function benchKernel(lab: Lab): Promise<{ program: ProgramRound[]; firstApply: Record<string, unknown>[]; changes: ChangeSamples[] }> {
  const node = lab.layout.nodes[0]!;
  const only = [...ONLY].filter((x) => x === 'program' || x === 'changes').join(',');
  const argv = [
    process.execPath,
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    '--child',
    'kernel',
    '--only',
    only,
    '--rounds',
    String(ROUNDS),
    '--peers',
    String(PEERS),
    '--local',
    String(LOCAL),
    '--changes',
    String(CHANGES),
  ];
  const child = lab.spawn(node.netns, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  const out = lines(child);
  const program: ProgramRound[] = [];
  const firstApply: Record<string, unknown>[] = [];
  const changes: ChangeSamples[] = [];
  for (;;) {
    const line = await out.next(600_000);
    if (line === '') break;
    if (!line.startsWith('RESULT ')) {
      log(`  ${line}`);
      continue;
    }
    const r = JSON.parse(line.slice(7)) as { kind: string; round?: ProgramRound; samples?: ChangeSamples } & Record<string, unknown>;
    if (r.kind === 'program' && r.round) {
      program.push(r.round);
      log(
        `  program (${r.round.case}): compile ${f1(r.round.compile)} ms, render ${f1(r.round.render)} ms, nft -f ${f1(r.round.nft)} ms = ${f1(r.round.total)} ms (${r.round.elements} elements, ${f1(r.round.bytes / 1e6)} MB)`,
      );
    } else if (r.kind === 'first-apply') {
      firstApply.push(r);
      log(`  agent, first snapshot (${String(r.runner)}): ${f1(Number(r.toKernel))} ms to the kernel`);
    } else if (r.kind === 'changes' && r.samples) {
      changes.push(r.samples);
    }
  }
  if (child.exitCode !== 0 && child.exitCode !== null) throw new Error(`the kernel benchmark exited with ${child.exitCode}`);
  return { program, firstApply, changes };
}

// ---- 4. policy change -> probe ---------------------------------------------------------------------

interface ProbeResult {
  /** Rename of the policy file -> the probe sees the new verdict, ms. */
  readonly latencies: number[];
  readonly directions: string[];
  readonly attempts: number[];
  /** From the agents' reports (the server's node): rename -> the agent starts compiling (watch, debounce, reading the files), ms. */
  readonly untilCompile: number[];
  /** The agent's step: compile, nft, conntrack check, ms. */
  readonly agentStep: number[];
}

async function benchProbe(lab: Lab): Promise<ProbeResult> {
  const server = lab.layout.pods.find((p) => p.key === 'bench/server')!;
  const client = lab.layout.pods.find((p) => p.key === 'bench/client')!;
  // The load server (port CONN_PORT) may be gone: start one for the prober to reach.
  const srv = lab.spawn(server.netns, nodeArgv(SERVER_JS), { stdio: ['ignore', 'pipe', 'inherit'] });
  if ((await lines(srv).next()) !== 'ready') throw new Error('the server did not start');
  await Promise.all(lab.layout.nodes.map((n) => lab.exec(n.netns, ['nft', '-f', '-'], { input: 'table inet netpol {}\ndelete table inet netpol\n' })));
  const enforcer = agentEnforcer({ denyAction: 'reject' });
  await enforcer.start(lab);
  const prober = lab.spawn(client.netns, nodeArgv(PROBER_JS), { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, BENCH_HOST: server.ips[0]!, BENCH_PORT: String(CONN_PORT) } });
  const said = lines(prober);
  if ((await said.next()) !== 'ready') throw new Error('the prober did not start');
  const ask = async (line: string) => {
    prober.stdin!.write(`${line}\n`);
    return said.next(15_000);
  };
  if ((await ask('once')) !== 'result connected') throw new Error('the server is not reachable before any policy');

  const spec = (allow: boolean) => ({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'server', namespace: 'bench' },
        spec: { podSelector: { matchLabels: { app: 'server' } }, ingress: allow ? [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }] : [] },
      },
    ],
  });
  const applied = () => enforcer.events.filter((e) => e.kind === 'applied' || e.kind === 'unchanged').length;
  const latencies: number[] = [];
  const directions: string[] = [];
  const attempts: number[] = [];
  const untilCompile: number[] = [];
  const agentStep: number[] = [];
  const serverNode = lab.layout.nodes[server.node]!.name;
  try {
    for (let k = 0; k < FLIPS; k++) {
      const allow = k % 2 === 1;
      const expect = allow ? 'connected' : 'refused';
      const before = applied();
      if ((await ask(`await ${expect}`)) !== 'polling') throw new Error('the prober did not start polling');
      const staged = join(enforcer.dir, '..', 'policies.staged');
      await writeFile(staged, JSON.stringify(spec(allow)));
      const seenEvents = enforcer.events.length;
      const wall = Date.now();
      const t0 = process.hrtime.bigint();
      await rename(staged, join(enforcer.dir, 'policies.yaml'));
      const seen = await said.next(15_000);
      const m = /^seen (\d+) (\d+)$/.exec(seen);
      if (!m) throw new Error(`flip ${k + 1}: the prober said ${JSON.stringify(seen)}`);
      latencies.push(Number(BigInt(m[1]!) - t0) / 1e6);
      attempts.push(Number(m[2]));
      directions.push(allow ? 'deny->allow' : 'allow->deny');
      // Let every agent finish with this change (and its conntrack check) before the next one.
      const deadline = performance.now() + 10_000;
      while (applied() < before + lab.layout.nodes.length && performance.now() < deadline) await sleep(5);
      const e = enforcer.events.slice(seenEvents).find((x) => x.node === serverNode && x.kind === 'applied') as (AgentEvent & { time?: string }) | undefined;
      if (e?.time !== undefined && e.ms !== undefined) {
        untilCompile.push(Date.parse(e.time) - e.ms - wall);
        agentStep.push(e.ms);
      }
      await sleep(40);
    }
  } finally {
    prober.kill();
    srv.kill();
    await enforcer.stop();
  }
  return { latencies, directions, attempts, untilCompile, agentStep };
}

// ---- main ----------------------------------------------------------------------------------------

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

function machine(): Record<string, string> {
  const nftVersion = spawnSync('nft', ['--version'], { encoding: 'utf8' }).stdout.trim();
  return {
    cpus: String(cpus().length),
    cpu: cpus()[0]?.model ?? '?',
    node: process.version,
    kernel: release(),
    nft: nftVersion,
    load: spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.trim(),
  };
}

async function main(): Promise<void> {
  if (values.child === 'kernel') return childKernel();
  const missing = checkPrerequisites(['ip', 'nft', 'conntrack']).missing;
  if (missing.length > 0) {
    log(`bench:enforce needs ${missing.join('; ')}`);
    process.exitCode = 2;
    return;
  }
  const m = machine();
  log(`machine: ${m.cpus} x ${m.cpu}, node ${m.node}, kernel ${m.kernel}, ${m.nft}, load ${m.load}`);
  log(`peers ${PEERS}, local pods ${LOCAL}, rounds ${ROUNDS}, ${SECONDS} s per load run, ${CHANGES} changes per kind, ${FLIPS} policy flips`);
  const id = `b${[...randomBytes(5)].map((b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('')}`;
  const t0 = performance.now();
  const lab = await Lab.create(labCluster(), { id, nodes: 2 });
  log(`lab ${id}: built in ${f1((performance.now() - t0) / 1000)} s`);
  const results: Record<string, unknown> = { machine: m, options: { peers: PEERS, local: LOCAL, rounds: ROUNDS, seconds: SECONDS, changes: CHANGES, flips: FLIPS } };
  const summary: string[] = [];
  try {
    if (ONLY.has('load')) {
      log('\n1. load: conn/s and throughput, bench/client (lab node 1) -> bench/server (lab node 0)');
      const r = await benchLoad(lab);
      results.load = r;
      const of = (v: Variant, k: 'connPerSecond' | 'gbitPerSecond') => r.rounds.filter((x) => x.variant === v).map((x) => x[k]);
      const ratios = (k: 'connPerSecond' | 'gbitPerSecond', base: Variant) =>
        Array.from({ length: ROUNDS }, (_, i) => (r.rounds.find((x) => x.variant === 'policy' && x.round === i)?.[k] ?? NaN) / (r.rounds.find((x) => x.variant === base && x.round === i)?.[k] ?? NaN));
      for (const [k, label] of [
        ['connPerSecond', 'new connections/s'],
        ['gbitPerSecond', 'throughput (Gbit/s)'],
      ] as const) {
        const rn = ratios(k, 'none');
        const line = `${label}: median none ${f2(median(of('none', k)))}, empty ${f2(median(of('empty', k)))}, policy ${f2(median(of('policy', k)))}; policy/none per round: median ${pct(median(rn))} (quartiles ${pct(quantile(rn, 0.25))}-${pct(quantile(rn, 0.75))}), policy/empty median ${pct(median(ratios(k, 'empty')))}  [target >= 90%]`;
        summary.push(line);
        log(`  ${line}`);
      }
    }
    if (ONLY.has('program') || ONLY.has('changes')) {
      log(`\n2-3. program and changes: a node with ${LOCAL} local pods and ${PEERS} peers (child process in ${lab.layout.nodes[0]!.netns})`);
      const r = await benchKernel(lab);
      results.kernel = r;
      for (const name of [...new Set(r.program.map((x) => x.case))]) {
        const rounds = r.program.filter((x) => x.case === name);
        const totals = rounds.map((x) => x.total);
        const line = `program, ${name} (${rounds[0]!.elements} elements, ${f1(rounds[0]!.bytes / 1e6)} MB): compile + render + nft -f first ${f1(totals[0]!)} ms, median ${f1(median(totals))} ms, max ${f1(Math.max(...totals))} ms; medians: compile ${f1(median(rounds.map((x) => x.compile)))} ms, render ${f1(median(rounds.map((x) => x.render)))} ms, nft -f ${f1(median(rounds.map((x) => x.nft)))} ms  [target <= 1000 ms]`;
        summary.push(line);
        log(`  ${line}`);
      }
      for (const s of r.changes) {
        const line = `change ${s.type.padEnd(21)} ${s.runner}: to kernel p50 ${f2(median(s.toKernel))} p99 ${f2(quantile(s.toKernel, 0.99))} max ${f2(Math.max(...s.toKernel))} ms (compile+diff ${f2(median(s.compile))}/${f2(quantile(s.compile, 0.99))}, nft ${f2(median(s.nft))}/${f2(quantile(s.nft, 0.99))}), agent step p50 ${f2(median(s.total))} p99 ${f2(quantile(s.total, 0.99))} ms, n=${s.toKernel.length}, ${median(s.lines)} lines  [target p99 <= 10 ms]`;
        summary.push(line);
        log(`  ${line}`);
      }
    }
    if (ONLY.has('probe')) {
      log('\n4. policy file rewritten -> a probe sees the new verdict (two netpol agents, --deny-action reject)');
      const r = await benchProbe(lab);
      results.probe = r;
      const by = (d: string) => r.latencies.filter((_, i) => r.directions[i] === d);
      const line = `policy change -> probe: p50 ${f1(median(r.latencies))} p99 ${f1(quantile(r.latencies, 0.99))} max ${f1(Math.max(...r.latencies))} ms (allow->deny p50 ${f1(median(by('allow->deny')))}, deny->allow p50 ${f1(median(by('deny->allow')))}), n=${r.latencies.length}; of which file watch + debounce + reading the manifests p50 ${f1(median(r.untilCompile))} p99 ${f1(quantile(r.untilCompile, 0.99))} ms; agent step (compile, nft -i, conntrack check) p50 ${f1(median(r.agentStep))} p99 ${f1(quantile(r.agentStep, 0.99))} ms  [target p99 <= 50 ms]`;
      summary.push(line);
      log(`  ${line}`);
    }
  } finally {
    const down = await lab.destroy();
    log(`\nlab ${id} torn down (${down.namespaces.length} namespaces)`);
  }
  // The figures, on stdout (progress went to stderr).
  console.log(`machine: ${m.cpus} x ${m.cpu}, node ${m.node}, kernel ${m.kernel}, ${m.nft}`);
  for (const line of summary) console.log(line);
  if (values.json) await writeFile(values.json, `${JSON.stringify(results, null, 2)}\n`);
}

main().catch((e: unknown) => {
  log(`bench:enforce: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
});
