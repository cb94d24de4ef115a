/**
 * The lab's lifecycle: build (namespaces, veths, routes), start the pod processes, start enforcement,
 * probe, and tear down, also on failure and on SIGINT/SIGTERM, never leaving namespaces, interfaces,
 * processes or rules behind.
 *
 * Design choice: everything a lab creates lives inside namespaces named `np-<id>-...`, and a state file
 * (`<stateDir>/lab-<id>.json`, written before anything is created) records the layout, the owner process
 * and whether the lab is meant to outlive it (`labUp`). Teardown therefore needs nothing but the id: kill
 * the processes inside the lab's namespaces (`ip netns pids`), delete the namespaces (their interfaces,
 * rules and conntrack tables go with them), remove the state. That makes it idempotent, lets `labDown`
 * run from another process, and lets `cleanupLabs` find the leftovers of a process that was killed hard.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatDiagnostic } from '../diag/index.js';
import type { Reachability } from '../engine/index.js';
import type { Cluster } from '../model/index.js';
import { allNetns, fabricBatch, netnsAddBatch, netnsDeleteBatch, nodeBatch, nodeSysctls, podBatch } from './commands.js';
import type { Enforcer, LabHandle } from './enforcer.js';
import { LabError, requirePrerequisites, run, runChecked, type ExecOptions, type ExecResult } from './exec.js';
import { stopHostProcesses } from './host.js';
import { isLabId, isLabInterface, labIdOfNetns } from './names.js';
import { planLab, type LabLayout, type LabPlan } from './plan.js';
import { PodClient, startPodProcesses } from './pods.js';
import { runProbes, type ConnectionResult, type LabProbe, type ProbeOptions, type ProbeReport } from './probe.js';

export const DEFAULT_STATE_DIR = '/run/netpol';

export type LabPhase = 'build' | 'servers' | 'enforce' | 'probe' | 'teardown';

export interface LabEvent {
  readonly phase: LabPhase;
  readonly state: 'start' | 'done';
  /** Duration of the phase, on `done`. */
  readonly ms?: number;
}

export interface LabOptions {
  /** Lab nodes (default 1). */
  readonly nodes?: number;
  /** Lab id, 1-6 characters [a-z0-9] (default: random). */
  readonly id?: string;
  /** Enforcement to start once the pods are up (default: none, every connection is allowed). */
  readonly enforcer?: Enforcer;
  /** Where state files and control sockets live (default /run/netpol). */
  readonly stateDir?: string;
  /** Tear down on SIGINT/SIGTERM while the lab is being built or run, then re-raise (default true). */
  readonly handleSignals?: boolean;
  readonly onEvent?: (event: LabEvent) => void;
}

export type LabTimings = Partial<Record<LabPhase, number>>;

/** Persisted as `<stateDir>/lab-<id>.json`. */
export interface LabState {
  readonly version: 1;
  readonly id: string;
  readonly ownerPid: number;
  /** The owner's start time (/proc/<pid>/stat), to tell a live owner from a reused pid. */
  readonly ownerStart?: string;
  /** True for `labUp`: the lab outlives its creator and is not a leftover. */
  readonly persistent: boolean;
  readonly phase: 'building' | 'ready';
  readonly createdAt: string;
  readonly runDir: string;
  readonly enforcer?: string;
  readonly layout: LabLayout;
}

// ---- small helpers -----------------------------------------------------------------------------

function statePath(stateDir: string, id: string): string {
  return join(stateDir, `lab-${id}.json`);
}

function runDirOf(stateDir: string, id: string): string {
  return join(stateDir, `lab-${id}`);
}

function randomId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
}

function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function ownerAlive(state: LabState): boolean {
  const start = processStartTime(state.ownerPid);
  return start !== undefined && (state.ownerStart === undefined || start === state.ownerStart);
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits for `work`, but no longer than `ms`. The timer is cleared when the work ends first: a pending
 * timer would keep the process alive until it fired (`lab run` used to exit 10 s after its result).
 */
async function atMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([work, new Promise((r) => (timer = setTimeout(r, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Names of the existing network namespaces. */
export async function listNetns(ip = 'ip'): Promise<string[]> {
  const r = await runChecked(ip, ['netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

async function netnsPids(ip: string, netns: string): Promise<number[]> {
  const r = await run(ip, ['netns', 'pids', netns]);
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/**
 * Waits until every lab interface in `namespaces` has its carrier. The kernel applies some carrier
 * changes up to a second late, dropping packets meanwhile (commands.ts avoids the usual cause); this is
 * the safety net that keeps a probe from running into a link that is not up yet.
 */
async function waitForCarrier(ip: string, ifPrefix: string, namespaces: readonly string[], timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const listings = await Promise.all(namespaces.map((ns) => runChecked(ip, ['-n', ns, '-o', 'link', 'show'])));
    const down = listings.flatMap((r, k) =>
      r.stdout
        .split('\n')
        .filter((l) => l.includes(`: ${ifPrefix}`) && /NO-CARRIER|state DOWN|qdisc noop/.test(l))
        .map((l) => `${namespaces[k]}/${/^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '?'}`),
    );
    if (down.length === 0) return;
    if (performance.now() > deadline) throw new LabError('command-failed', `links still down ${timeoutMs} ms after the build: ${down.join(', ')}`);
    await sleep(20);
  }
}

async function readState(stateDir: string, id: string): Promise<LabState | undefined> {
  try {
    return JSON.parse(await readFile(statePath(stateDir, id), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

// ---- teardown ----------------------------------------------------------------------------------

export interface TeardownReport {
  readonly id: string;
  /** Namespaces deleted. */
  readonly namespaces: readonly string[];
  /** Processes killed (pod processes, agents: whatever ran inside the lab's namespaces). */
  readonly processes: readonly number[];
}

/**
 * Removes everything lab `id` created: idempotent, needs only the id. Kills the processes inside the
 * lab's namespaces, deletes the namespaces (with their interfaces and rulesets), removes any interface
 * of the lab's found in the caller's namespace, then the run directory and the state file. Throws a
 * LabError if anything is left.
 */
export async function destroyLab(id: string, options: { stateDir?: string; ip?: string; known?: readonly string[] } = {}): Promise<TeardownReport> {
  if (!isLabId(id)) throw new LabError('not-found', `invalid lab id ${JSON.stringify(id)}`);
  const ip = options.ip ?? requirePrerequisites(['ip']).ip!;
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const mine = (ns: string) => labIdOfNetns(ns) === id;
  const namespaces = [...new Set([...(options.known ?? []).filter(mine), ...(await listNetns(ip)).filter(mine)])];

  // 0. What the lab runs outside its namespaces (a control plane, cluster-mode agents).
  const killed: number[] = await stopHostProcesses(runDirOf(stateDir, id));
  // 1. Processes inside the namespaces keep a deleted namespace (and its veths) alive: end them first.
  for (let round = 0; round < 50; round++) {
    const pids = (await Promise.all(namespaces.map((ns) => netnsPids(ip, ns)))).flat();
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        if (!killed.includes(pid)) killed.push(pid);
      } catch {
        // already gone
      }
    }
    await sleep(20);
  }

  // 2. The namespaces, in one batch (-force: keep going past ones already gone).
  if (namespaces.length > 0) await run(ip, ['-force', '-batch', '-'], { input: netnsDeleteBatch(namespaces) });

  // 3. Interfaces are created inside the lab's namespaces, never here; remove any that a failure left.
  const links = await run(ip, ['-o', 'link', 'show']);
  const strays = links.stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined && isLabInterface(n, id));
  for (const dev of strays) await run(ip, ['link', 'del', dev]);

  await rm(runDirOf(stateDir, id), { recursive: true, force: true });
  await rm(statePath(stateDir, id), { force: true });

  const left = (await listNetns(ip)).filter(mine);
  if (left.length > 0) throw new LabError('teardown', `lab ${id}: namespaces left after teardown: ${left.join(', ')}`);
  return { id, namespaces, processes: killed };
}

// ---- signals -----------------------------------------------------------------------------------

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const active = new Set<Lab>();
/** Settles once a signal's teardown is done (and, when the signal is re-raised, never: the process ends). */
let signalHandled: Promise<void> | undefined;

function onSignal(signal: NodeJS.Signals): void {
  if (signalHandled) return; // a second Ctrl-C while tearing down: the teardown is already under way
  const labs = [...active];
  // Behave as if we had not been there: the default action ends the process, unless the program handles
  // the signal itself (then it decides, and the interrupted calls reject with a LabError).
  const reraise = process.listeners(signal).every((l) => l === onSignal);
  signalHandled = Promise.allSettled(labs.map((l) => l.interrupt(signal))).then(() => {
    uninstall();
    signalHandled = undefined;
    if (reraise) process.kill(process.pid, signal);
  });
}

function install(lab: Lab): void {
  if (active.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
  active.add(lab);
}

function release(lab: Lab): void {
  if (!active.delete(lab)) return;
  if (active.size === 0) uninstall();
}

function uninstall(): void {
  active.clear();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
}

// ---- the lab -----------------------------------------------------------------------------------

/** A connection held open from one pod to another (to watch it being cut when a policy changes). */
export interface HeldConnection {
  /** How opening it went; `connected` means it is open. */
  readonly result: ConnectionResult;
  /** Sends a token and waits for its echo: `connected` while the connection carries data. */
  check(timeoutMs?: number): Promise<ConnectionResult>;
  release(): Promise<void>;
}

/** A built, running lab. Create with `Lab.create`; always `destroy()` (idempotent). */
export class Lab implements LabHandle {
  readonly timings: LabTimings = {};
  private readonly abort = new AbortController();
  private readonly children = new Set<ChildProcess>();
  private clients: PodClient[] = [];
  private enforcer: Enforcer | undefined;
  private busy: Promise<unknown> = Promise.resolve();
  private destroying: Promise<TeardownReport> | undefined;
  private interrupted: NodeJS.Signals | undefined;

  private constructor(
    readonly plan: LabPlan,
    readonly tools: Readonly<Record<string, string>>,
    readonly stateDir: string,
    private readonly options: LabOptions,
  ) {}

  get id(): string {
    return this.plan.layout.id;
  }

  get layout(): LabLayout {
    return this.plan.layout;
  }

  /** The lab cluster (pods with lab IPs and lab node names). */
  get cluster(): Cluster {
    return this.plan.cluster;
  }

  get runDir(): string {
    return runDirOf(this.stateDir, this.id);
  }

  /**
   * Plans and builds a lab, starts its pod processes and its enforcer. On any failure (or a signal) it
   * tears down what was built and throws. `persistent` (for `labUp`): the pod processes outlive this
   * process and the lab is not listed as a leftover.
   */
  static async create(cluster: Cluster, options: LabOptions = {}, persistent = false): Promise<Lab> {
    const tools = requirePrerequisites(['ip', ...(options.enforcer?.requires ?? [])]);
    const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
    const id = options.id ?? (await freshId(tools.ip!, stateDir));
    if (!isLabId(id)) throw new LabError('invalid-plan', `invalid lab id ${JSON.stringify(id)}: want 1-6 characters [a-z0-9]`);
    const plan = planLab(cluster, { id, nodes: options.nodes ?? 1 });
    const errors = plan.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0) throw new LabError('invalid-plan', `cannot plan the lab:\n${errors.map((d) => formatDiagnostic(d)).join('\n')}`);
    if ((await listNetns(tools.ip!)).some((ns) => labIdOfNetns(ns) === id) || (await readState(stateDir, id))) {
      throw new LabError('invalid-plan', `lab ${id} already exists (remove it with labDown('${id}'))`);
    }
    const lab = new Lab(plan, tools, stateDir, options);
    if (options.handleSignals ?? true) install(lab);
    try {
      await lab.build(persistent);
      return lab;
    } catch (e) {
      const cause = lab.interrupted ? new LabError('interrupted', `lab ${id}: interrupted by ${lab.interrupted}`) : e;
      await lab.destroy().catch(() => {});
      await lab.settleInterrupt();
      throw cause;
    }
  }

  private async phase<T>(phase: LabPhase, fn: () => Promise<T>): Promise<T> {
    if (this.abort.signal.aborted) throw new LabError('interrupted', `lab ${this.id}: interrupted by ${this.interrupted ?? 'a signal'}`);
    this.options.onEvent?.({ phase, state: 'start' });
    const t0 = performance.now();
    const p = fn();
    this.busy = p.catch(() => {});
    const r = await p;
    const ms = Math.round(performance.now() - t0);
    this.timings[phase] = ms;
    this.options.onEvent?.({ phase, state: 'done', ms });
    return r;
  }

  private async writeState(phase: LabState['phase'], persistent: boolean): Promise<void> {
    const ownerStart = processStartTime(process.pid);
    const state: LabState = {
      version: 1,
      id: this.id,
      ownerPid: process.pid,
      ...(ownerStart !== undefined ? { ownerStart } : {}),
      persistent,
      phase,
      createdAt: new Date().toISOString(),
      runDir: this.runDir,
      ...(this.options.enforcer ? { enforcer: this.options.enforcer.name } : {}),
      layout: this.layout,
    };
    await writeFile(statePath(this.stateDir, this.id), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  }

  private async build(persistent: boolean): Promise<void> {
    const ip = this.tools.ip!;
    const layout = this.layout;
    await mkdir(this.runDir, { recursive: true, mode: 0o700 });
    // The state goes first, so a crash at any later point leaves something that names the leftovers.
    await this.writeState('building', persistent);
    await this.phase('build', async () => {
      await runChecked(ip, ['-batch', '-'], { input: netnsAddBatch(layout) });
      const sysctl = nodeSysctls(layout);
      await mapLimit([...layout.nodes.map((n) => ({ kind: 'node' as const, n })), ...layout.pods.map((p) => ({ kind: 'pod' as const, p }))], 16, (item) =>
        item.kind === 'node' ? this.exec(item.n.netns, ['sysctl', '-q', '-w', ...sysctl]) : runChecked(ip, ['-n', item.p.netns, '-batch', '-'], { input: podBatch(layout, item.p) }),
      );
      await Promise.all(layout.nodes.map((n) => runChecked(ip, ['-n', n.netns, '-batch', '-'], { input: nodeBatch(layout, n) })));
      if (layout.fabric) await runChecked(ip, ['-n', layout.fabric.netns, '-batch', '-'], { input: fabricBatch(layout) });
      await waitForCarrier(ip, layout.ifPrefix, [...layout.nodes.map((n) => n.netns), ...(layout.fabric ? [layout.fabric.netns] : [])]);
    });
    await this.phase('servers', async () => {
      const procs = await startPodProcesses(layout, { ip, runDir: this.runDir, ...(persistent ? {} : { ownerPid: process.pid }) }, () => {});
      this.clients = await Promise.all(procs.map((p) => PodClient.connect(p.pod, p.control)));
    });
    const enforcer = this.options.enforcer;
    if (enforcer) {
      await this.phase('enforce', async () => {
        this.enforcer = enforcer;
        await enforcer.start(this);
      });
    }
    await this.writeState('ready', persistent);
  }

  // LabHandle
  exec(netns: string, argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    this.checkNetns(netns);
    return runChecked(this.tools.ip!, ['netns', 'exec', netns, ...argv], options);
  }

  spawn(netns: string, argv: readonly string[], options: SpawnOptions = {}): ChildProcess {
    this.checkNetns(netns);
    const child = spawn(this.tools.ip!, ['netns', 'exec', netns, ...argv], options);
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  private checkNetns(netns: string): void {
    if (labIdOfNetns(netns) !== this.id) throw new LabError('invalid-plan', `${netns} is not a namespace of lab ${this.id}`);
  }

  /** Probes every ordered pair of pods for each probe. */
  async probe(probes: readonly LabProbe[], options: ProbeOptions = {}): Promise<ProbeReport> {
    return this.phase('probe', () => runProbes(this.layout, this.clients, probes, { ...options, signal: options.signal ?? this.abort.signal }));
  }

  /** Opens a connection from pod `from` to pod `to` (keys `ns/name`) and keeps it open. */
  async hold(from: string, to: string, port: number, protocol: 'TCP' | 'UDP', options: { timeoutMs?: number; family?: 4 | 6 } = {}): Promise<HeldConnection> {
    const source = this.layout.pods.find((p) => p.key === from);
    const destination = this.layout.pods.find((p) => p.key === to);
    if (!source || !destination) throw new LabError('not-found', `no pod ${!source ? from : to} in lab ${this.id}`);
    const family = options.family ?? (source.ips[0]?.includes(':') ? 6 : 4);
    const host = destination.ips.find((a) => a.includes(':') === (family === 6));
    if (!host) throw new LabError('probe', `pod ${to} has no IPv${family} address`);
    const client = this.clients[source.index]!;
    await this.clients[destination.index]!.request({ op: 'listen', listeners: [{ port, protocol }] });
    const r = await client.request({ op: 'hold', host, port, protocol, timeoutMs: options.timeoutMs ?? 1000 });
    const handle = r.handle as number | undefined;
    return {
      result: r.result as ConnectionResult,
      async check(timeoutMs = 1000) {
        if (handle === undefined) return r.result as ConnectionResult;
        return (await client.request({ op: 'check', handle, timeoutMs })).result as ConnectionResult;
      },
      async release() {
        if (handle !== undefined) await client.request({ op: 'release', handle });
      },
    };
  }

  /**
   * After an interruption by a signal: waits for the signal handler to finish, which ends the process when
   * the signal is re-raised, so an interrupted call never reports an error before the process dies.
   */
  async settleInterrupt(): Promise<void> {
    if (this.interrupted && signalHandled) await signalHandled;
  }

  /** Stops probing and tears down (used by the signal handler). */
  async interrupt(signal: NodeJS.Signals): Promise<void> {
    this.interrupted ??= signal;
    this.abort.abort();
    await this.destroy().catch(() => {});
  }

  /** Stops the enforcer and removes everything. Idempotent; concurrent calls share one teardown. */
  destroy(): Promise<TeardownReport> {
    this.destroying ??= this.teardown();
    return this.destroying;
  }

  private async teardown(): Promise<TeardownReport> {
    this.options.onEvent?.({ phase: 'teardown', state: 'start' });
    const t0 = performance.now();
    this.abort.abort();
    // Let an in-flight build step finish, so nothing is created behind the teardown's back.
    await atMost(this.busy, 10_000);
    try {
      if (this.enforcer)
        await atMost(
          this.enforcer.stop().catch(() => {}),
          5_000,
        );
      for (const c of this.clients) c.close();
      for (const child of this.children) child.kill('SIGKILL');
      return await destroyLab(this.id, { stateDir: this.stateDir, ip: this.tools.ip!, known: allNetns(this.layout) });
    } finally {
      const ms = Math.round(performance.now() - t0);
      this.timings.teardown = ms;
      release(this);
      this.options.onEvent?.({ phase: 'teardown', state: 'done', ms });
    }
  }

  /** Forgets the lab without tearing it down (`labUp`): it is left running for `labDown`. */
  detach(): void {
    for (const c of this.clients) c.close();
    release(this);
  }
}

async function freshId(ip: string, stateDir: string): Promise<string> {
  const taken = new Set((await listNetns(ip)).map(labIdOfNetns).filter((x): x is string => x !== undefined));
  for (;;) {
    const id = randomId();
    if (!taken.has(id) && !(await readState(stateDir, id))) return id;
  }
}

// ---- one-shot and interactive use --------------------------------------------------------------

export interface RunLabOptions extends LabOptions, ProbeOptions {
  readonly probes: readonly LabProbe[];
}

export interface LabRunReport extends ProbeReport {
  readonly id: string;
  readonly layout: LabLayout;
  /** The plan's warnings (where the lab may disagree with the engine for reasons other than enforcement). */
  readonly diagnostics: LabPlan['diagnostics'];
  readonly timings: LabTimings;
}

/** Builds a lab, enforces, probes every pair, tears down (always), and returns the full report. */
export async function runLabReport(cluster: Cluster, options: RunLabOptions): Promise<LabRunReport> {
  const lab = await Lab.create(cluster, options);
  let report: ProbeReport;
  try {
    report = await lab.probe(options.probes, options);
  } catch (e) {
    await lab.destroy().catch(() => {});
    await lab.settleInterrupt();
    throw e;
  }
  await lab.destroy();
  return { ...report, id: lab.id, layout: lab.layout, diagnostics: lab.plan.diagnostics, timings: lab.timings };
}

/** `netpol lab run`: the reachability the kernel shows, in exactly the shape of `netpol matrix -o json`. */
export async function runLab(cluster: Cluster, options: RunLabOptions): Promise<Reachability> {
  return (await runLabReport(cluster, options)).reachability;
}

/** Builds a lab and leaves it running (its state in `<stateDir>/lab-<id>.json`); `labDown(id)` removes it. */
export async function labUp(cluster: Cluster, options: LabOptions = {}): Promise<LabState> {
  const lab = await Lab.create(cluster, options, true);
  lab.detach();
  const state = await readState(lab.stateDir, lab.id);
  if (!state) throw new LabError('not-found', `lab ${lab.id}: state file missing after build`);
  return state;
}

/** Tears down a lab by id (from `labUp`, or a leftover). Idempotent. */
export async function labDown(id: string, options: { stateDir?: string } = {}): Promise<TeardownReport> {
  return destroyLab(id, options);
}

/** Probes a running lab (from `labUp`) from this process, through its pods' control sockets. */
export async function labProbe(id: string, probes: readonly LabProbe[], options: ProbeOptions & { stateDir?: string } = {}): Promise<ProbeReport> {
  const state = await readState(options.stateDir ?? DEFAULT_STATE_DIR, id);
  if (!state || state.phase !== 'ready') throw new LabError('not-found', `no running lab ${id}${state ? ' (still building)' : ''}`);
  const clients = await Promise.all(state.layout.pods.map((p) => PodClient.connect(p, join(state.runDir, `p${p.index}.sock`))));
  try {
    return await runProbes(state.layout, clients, probes, options);
  } finally {
    for (const c of clients) c.close();
  }
}

export interface LabListing {
  readonly id: string;
  readonly namespaces: readonly string[];
  readonly state?: LabState;
  /** `running`: its owner process is alive; `persistent`: from `labUp`; `orphaned`: a leftover. */
  readonly status: 'running' | 'persistent' | 'orphaned';
}

/** Every lab on the machine: from state files and from namespaces named like a lab's. */
export async function listLabs(options: { stateDir?: string } = {}): Promise<LabListing[]> {
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const ip = requirePrerequisites(['ip']).ip!;
  const byId = new Map<string, string[]>();
  for (const ns of await listNetns(ip)) {
    const id = labIdOfNetns(ns);
    if (id !== undefined) byId.set(id, [...(byId.get(id) ?? []), ns]);
  }
  let files: string[] = [];
  try {
    files = await readdir(stateDir);
  } catch {
    // no state directory: no state files
  }
  for (const f of files) {
    const id = /^lab-([a-z0-9]{1,6})\.json$/.exec(f)?.[1];
    if (id !== undefined && !byId.has(id)) byId.set(id, []);
  }
  const out: LabListing[] = [];
  for (const [id, namespaces] of [...byId].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const state = await readState(stateDir, id);
    const status = !state ? 'orphaned' : state.persistent ? 'persistent' : ownerAlive(state) ? 'running' : 'orphaned';
    out.push({ id, namespaces: namespaces.sort(), ...(state ? { state } : {}), status });
  }
  return out;
}

/** Removes leftover labs (orphaned ones; with `all`, persistent ones too, but never one whose owner runs). */
export async function cleanupLabs(options: { stateDir?: string; all?: boolean } = {}): Promise<TeardownReport[]> {
  const labs = await listLabs(options);
  const doomed = labs.filter((l) => l.status === 'orphaned' || (options.all === true && l.status === 'persistent'));
  const reports: TeardownReport[] = [];
  for (const l of doomed) reports.push(await destroyLab(l.id, options));
  return reports;
}
