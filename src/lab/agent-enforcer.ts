/**
 * Enforcement by real agents: one `netpol agent --node <lab node>` process per lab node, started inside
 * the node's network namespace, watching a directory that holds the lab cluster as manifests. This is
 * the configuration the proofs call for: what runs in the lab is the same agent an operator runs.
 *
 * The directory holds `cluster.json` (namespaces, Nodes and pods, with lab IPs and lab node names) and
 * `policies.yaml` (NetworkPolicies and cluster-scoped policies). `setPolicies(text)` replaces the policies
 * atomically (written in a staging directory no agent watches, then renamed into it) and resolves once every agent has
 * reported a snapshot taken after the rename; agents report JSON events on stdout (`-o json`), which is
 * how readiness is known.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AgentEvent, DropEvent } from '../agent/index.js';
import { NF_LOG_ALL_NETNS } from '../agent/index.js';
import type { Enforcer, LabHandle } from './enforcer.js';
import { LabError } from './exec.js';
import { labManifests } from './manifests.js';
import type { LayoutNode } from './plan.js';

export interface AgentEnforcerOptions {
  readonly denyAction?: 'drop' | 'reject';
  /** The agents' `--mode` (default enforce: each policy as its `netpol.dev/mode` annotation says). */
  readonly mode?: 'enforce' | 'audit';
  readonly existingConnections?: 'cut' | 'keep';
  /** How long to wait for every agent to apply a change (default 20 s). */
  readonly timeoutMs?: number;
  /** The agents' environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Run the agents with `--log-denied` (and `--log-rate`): their drop events are collected in `drops`.
   * The lab's nodes are network namespaces, whose `log` statements the kernel writes only with sysctl
   * net.netfilter.nf_log_all_netns=1: it is set while the agents run (also for `mode: 'audit'`, whose
   * audit events the agents report without `--log-denied`) and put back on stop.
   */
  readonly logDenied?: boolean;
  /** `--log-rate`: denied (with `logDenied`) and audited packets logged per second and chain. */
  readonly logRate?: number;
}

export interface NodeAgentEvent extends AgentEvent {
  readonly node: string;
}

export interface AgentEnforcer extends Enforcer {
  /** The directory the agents watch (inside the lab's run directory). */
  readonly dir: string;
  /** Every event the agents reported, in arrival order. */
  readonly events: readonly NodeAgentEvent[];
  /** Every drop event the agents reported (with `logDenied`), in arrival order, as first reported. */
  readonly drops: readonly DropEvent[];
  /** With `logDenied`: where a node's agent serves /metrics and /drops (HOST:PORT inside the node's namespace). */
  listening(node: string): string | undefined;
  /** Replaces the policies; resolves once every agent has taken them into account. */
  setPolicies(text: string): Promise<void>;
  /** Kills one node's agent (SIGKILL, no goodbye) and starts a new one; resolves once it has reconciled. */
  restart(node: string): Promise<void>;
}

/** How to start this very CLI in a child process: the built JavaScript, or the TypeScript source under tsx. */
export function cliCommand(): string[] {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return [process.execPath, '--import', 'tsx', fileURLToPath(new URL('../cli/bin.ts', here))];
  return [process.execPath, fileURLToPath(new URL('../cli/bin.js', here))];
}

interface Running {
  readonly node: LayoutNode;
  child: ChildProcess;
  /** Highest snapshot generation this agent process has reported. */
  generation: number;
  waiters: { after: number; resolve: () => void; reject: (e: Error) => void }[];
}

/** What `policies.yaml` holds: NetworkPolicies and the cluster-scoped policies. */
const POLICY_KINDS: ReadonlySet<string> = new Set(['NetworkPolicy', 'ClusterNetworkPolicy', 'AdminNetworkPolicy', 'BaselineAdminNetworkPolicy']);

export function agentEnforcer(opts: AgentEnforcerOptions = {}): AgentEnforcer {
  let lab: LabHandle | undefined;
  let dir = '';
  const events: NodeAgentEvent[] = [];
  const drops: DropEvent[] = [];
  const listens = new Map<string, string>();
  /** The sysctl's value before the lab set it, to put back. */
  let logAllNetns: string | undefined;
  const running = new Map<string, Running>();
  const timeoutMs = opts.timeoutMs ?? 20_000;

  const settle = (r: Running) => {
    r.waiters = r.waiters.filter((w) => {
      if (r.generation <= w.after) return true;
      w.resolve();
      return false;
    });
  };

  /** Resolves when agent `r` reports a snapshot with generation > `after`. */
  const reported = (r: Running, after: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new LabError('timeout', `the agent of ${r.node.name} did not apply the change within ${timeoutMs} ms`)), timeoutMs);
      r.waiters.push({
        after,
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      settle(r);
    });

  const startAgent = (node: LayoutNode): Running => {
    if (!lab) throw new LabError('unavailable', 'the agent enforcer is not started');
    // Each node's agent keeps its record of conntrack checks apart (they share this host's /run).
    const stateDir = join(lab.runDir, 'agent-state', node.name);
    const argv = [
      ...cliCommand(),
      'agent',
      '--node',
      node.name,
      '-f',
      dir,
      '-o',
      'json',
      '--deny-action',
      opts.denyAction ?? 'drop',
      '--existing-connections',
      opts.existingConnections ?? 'cut',
      '--mode',
      opts.mode ?? 'enforce',
      '--state-dir',
      stateDir,
      ...(opts.logDenied ? ['--log-denied', '--listen', '127.0.0.1:0'] : []),
      ...(opts.logDenied || opts.logRate !== undefined ? ['--log-rate', String(opts.logRate ?? 10)] : []),
    ];
    const child = lab.spawn(node.netns, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.env ? { env: opts.env } : {}) });
    const r: Running = { node, child, generation: 0, waiters: [] };
    const raw: string[] = [];
    const onLine = (line: string) => {
      let e: AgentEvent;
      try {
        e = JSON.parse(line) as AgentEvent;
        if ((e as { kind: string }).kind === 'drop') {
          drops.push(e as unknown as DropEvent);
          return;
        }
      } catch {
        // Not an event: keep the first lines to explain an unexpected exit.
        if (raw.length < 30) raw.push(line);
        return;
      }
      events.push({ ...e, node: node.name });
      const listen = (e as { listen?: unknown }).listen;
      if (e.kind === 'started' && typeof listen === 'string') listens.set(node.name, listen);
      if (e.kind === 'error') for (const w of r.waiters.splice(0)) w.reject(new LabError('enforcer', `agent of ${node.name}: ${e.message}`));
      if ((e.kind === 'applied' || e.kind === 'unchanged') && e.generation !== undefined) {
        r.generation = Math.max(r.generation, e.generation);
        settle(r);
      }
    };
    if (child.stdout) createInterface({ input: child.stdout }).on('line', onLine);
    if (child.stderr) createInterface({ input: child.stderr }).on('line', onLine);
    child.on('exit', (code, signal) => {
      const said = raw.length > 0 ? `: ${raw.join('\n')}` : '';
      for (const w of r.waiters.splice(0)) w.reject(new LabError('enforcer', `the agent of ${node.name} exited (${signal ?? code}) before applying${said}`));
    });
    return r;
  };

  const all = async (after: Map<string, number>) => {
    await Promise.all([...running.values()].map((r) => reported(r, after.get(r.node.name) ?? 0)));
  };
  const generations = () => new Map([...running.values()].map((r) => [r.node.name, r.generation]));

  return {
    name: 'agent',
    requires: ['nft', 'conntrack'],
    get dir() {
      return dir;
    },
    events,
    drops,
    listening: (node) => listens.get(node),
    async start(handle) {
      lab = handle;
      // The kernel log is read with --log-denied, and for staged policies (--mode audit stages them all).
      if (opts.logDenied || opts.mode === 'audit') {
        const before = (await readFile(NF_LOG_ALL_NETNS, 'utf8')).trim();
        if (before !== '1') {
          await writeFile(NF_LOG_ALL_NETNS, '1\n');
          logAllNetns = before;
        }
      }
      dir = join(handle.runDir, 'manifests');
      await mkdir(dir, { recursive: true });
      await mkdir(join(dir, '..', 'staging'), { recursive: true });
      const cluster = labManifests({ cluster: handle.cluster });
      const isPolicy = (i: { kind: string }) => POLICY_KINDS.has(i.kind);
      await writeFile(join(dir, 'cluster.json'), JSON.stringify({ ...cluster, items: cluster.items.filter((i) => !isPolicy(i)) }));
      await writeFile(join(dir, 'policies.yaml'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: cluster.items.filter(isPolicy) }));
      for (const node of handle.layout.nodes) running.set(node.name, startAgent(node));
      await all(new Map());
    },
    async setPolicies(text) {
      const before = generations();
      // Staged in a directory of its own: the agents watch the manifests directory and its parent (to
      // follow the directory itself), so a file written in either would start a read of the old
      // manifests, whose generation would pass for the new one's.
      const staged = join(dir, '..', 'staging', 'policies.staged');
      await writeFile(staged, text);
      await rename(staged, join(dir, 'policies.yaml'));
      await all(before);
    },
    async restart(nodeName) {
      const r = running.get(nodeName);
      if (!r) throw new LabError('unavailable', `no agent for node ${nodeName}`);
      await new Promise<void>((resolve) => {
        if (r.child.exitCode !== null || r.child.signalCode !== null) return resolve();
        r.child.once('exit', () => resolve());
        r.child.kill('SIGKILL');
      });
      const fresh = startAgent(r.node);
      running.set(nodeName, fresh);
      await reported(fresh, 0);
    },
    async stop() {
      await Promise.all(
        [...running.values()].map(
          (r) =>
            new Promise<void>((resolve) => {
              if (r.child.exitCode !== null || r.child.signalCode !== null) return resolve();
              r.child.once('exit', () => resolve());
              r.child.kill('SIGTERM');
            }),
        ),
      );
      running.clear();
      if (logAllNetns !== undefined) await writeFile(NF_LOG_ALL_NETNS, `${logAllNetns}\n`);
      logAllNetns = undefined;
    },
  };
}
