/**
 * Probing: one real connection per ordered pair of pods, per probe (port, protocol), per address family
 * the two pods share, and the result in exactly the shape of `netpol matrix -o json`.
 *
 * Planning the probes is pure (`planProbes`): it resolves each probe's port per destination pod and
 * collects the listeners each destination needs, so every probed port has a listener and "denied" never
 * means "nothing listening". Named ports follow the engine (engine.ts): a name resolves against the
 * destination pod's container ports, name and protocol both matching; when the destination does not define
 * it, the engine lets only rules that admit every port of the protocol through, and the lab probes the
 * layout's stand-in port (plan.ts), which only those rules admit in the kernel.
 *
 * A pod reaching itself connects to its own address inside its namespace, over loopback: it never
 * reaches the node, so it is allowed whatever the rules say (the engine's "self" verdict).
 * A pair is allowed when the probe succeeds in every family the two pods share (a pair with no shared
 * family cannot connect at all, and is reported as `no-common-family`).
 */
import type { Reachability } from '../engine/index.js';
import type { Protocol } from '../model/index.js';
import { LabError } from './exec.js';
import type { LabLayout, LayoutPod } from './plan.js';
import type { Listener, PodClient } from './pods.js';

export interface LabProbe {
  /** A number, or a port name resolved against each destination pod. */
  readonly port: number | string;
  readonly protocol: Protocol;
}

export type ConnectionResult = 'connected' | 'refused' | 'unreachable' | 'timeout' | 'no-echo' | 'closed' | 'error' | 'no-common-family';

/** One connection attempt (or the reason none was made). */
export interface ProbeOutcome {
  /** Index into the probes asked for. */
  readonly probe: number;
  readonly from: string;
  readonly to: string;
  readonly protocol: Protocol;
  /** The port number connected to. */
  readonly port: number;
  /** True when the probe's port name is not defined by the destination and the stand-in port was probed. */
  readonly standIn?: boolean;
  readonly family?: 4 | 6;
  /** The destination address. */
  readonly host?: string;
  readonly result: ConnectionResult;
  /** Time to the result, in milliseconds. */
  readonly ms?: number;
  /** The socket error code, when there was one (ECONNREFUSED, EHOSTUNREACH, ...). */
  readonly code?: string;
}

export interface ProbeReport {
  /** Exactly `netpol matrix -o json`. */
  readonly reachability: Reachability;
  readonly outcomes: readonly ProbeOutcome[];
}

export interface ProbeOptions {
  /** Default 1000 ms: an allowed connection between namespaces takes well under a millisecond. */
  readonly tcpTimeoutMs?: number;
  /** Default 1500 ms (the datagram is re-sent every 250 ms meanwhile). */
  readonly udpTimeoutMs?: number;
  /** Connections in flight at once (default 512). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
}

export interface ProbeTask {
  readonly probe: number;
  readonly from: number;
  readonly to: number;
  readonly protocol: Protocol;
  readonly port: number;
  readonly standIn: boolean;
  readonly family?: 4 | 6;
  readonly host?: string;
}

export interface ProbePlan {
  readonly tasks: readonly ProbeTask[];
  /** Listeners each destination pod needs (by pod index). */
  readonly listeners: ReadonlyMap<number, readonly Listener[]>;
}

function familyOf(ip: string): 4 | 6 {
  return ip.includes(':') ? 6 : 4;
}

/** "name and protocol must both match", as the engine resolves named ports. */
function resolveNamed(pod: LayoutPod, name: string, protocol: Protocol): number | undefined {
  return pod.ports.find((p) => p.name === name && p.protocol === protocol)?.port;
}

/** The port a probe connects to on a destination pod. Throws a LabError when the probe cannot be made. */
export function probePort(layout: LabLayout, probe: LabProbe, destination: LayoutPod): { port: number; standIn: boolean } {
  if (typeof probe.port === 'number') {
    if (!Number.isInteger(probe.port) || probe.port < 1 || probe.port > 65535) {
      throw new LabError('probe', `port ${probe.port} is not a port number (1-65535)`);
    }
    return { port: probe.port, standIn: false };
  }
  const n = resolveNamed(destination, probe.port, probe.protocol);
  if (n !== undefined) return { port: n, standIn: false };
  if (layout.unnamedPort === undefined) {
    throw new LabError('probe', `pod ${destination.key} has no ${probe.protocol} port named ${probe.port}, and the policies leave no port free to stand in for it`);
  }
  return { port: layout.unnamedPort, standIn: true };
}

export function planProbes(layout: LabLayout, probes: readonly LabProbe[]): ProbePlan {
  if (probes.some((p) => p.protocol === 'SCTP')) {
    throw new LabError('probe', 'the lab probes TCP and UDP only (this kernel has no SCTP sockets; SCTP rules are checked with nft -c)');
  }
  const tasks: ProbeTask[] = [];
  const listeners = new Map<number, Map<string, Listener>>();
  probes.forEach((probe, k) => {
    for (const to of layout.pods) {
      const { port, standIn } = probePort(layout, probe, to);
      const l = listeners.get(to.index) ?? new Map<string, Listener>();
      l.set(`${probe.protocol}/${port}`, { port, protocol: probe.protocol });
      listeners.set(to.index, l);
      for (const from of layout.pods) {
        const fromFamilies = new Set(from.ips.map(familyOf));
        const shared = to.ips.filter((ip) => fromFamilies.has(familyOf(ip)));
        if (shared.length === 0) {
          tasks.push({ probe: k, from: from.index, to: to.index, protocol: probe.protocol, port, standIn });
          continue;
        }
        for (const host of shared) tasks.push({ probe: k, from: from.index, to: to.index, protocol: probe.protocol, port, standIn, family: familyOf(host), host });
      }
    }
  });
  return { tasks, listeners: new Map([...listeners].map(([i, m]) => [i, [...m.values()]])) };
}

/** Assembles the matrix from outcomes: a pair is allowed when each of its connections connected. */
export function reachabilityOf(layout: LabLayout, probes: readonly LabProbe[], tasks: readonly ProbeTask[], results: readonly ConnectionResult[]): Reachability {
  const n = layout.pods.length;
  const allowed = probes.map(() => Array.from({ length: n }, () => Array.from({ length: n }, () => ({ any: false, all: true }))));
  tasks.forEach((t, i) => {
    const cell = allowed[t.probe]![t.from]![t.to]!;
    const ok = results[i] === 'connected';
    cell.any ||= ok;
    cell.all &&= ok;
  });
  return {
    pods: layout.pods.map((p) => p.key),
    probes: probes.map((p, k) => ({
      port: p.port,
      protocol: p.protocol,
      allowed: allowed[k]!.map((row) => row.map((c) => c.any && c.all)),
    })),
  };
}

/** Runs every probe through the source pods' processes, at most `concurrency` at a time. */
export async function runProbes(layout: LabLayout, clients: readonly PodClient[], probes: readonly LabProbe[], options: ProbeOptions = {}): Promise<ProbeReport> {
  const plan = planProbes(layout, probes);
  await Promise.all([...plan.listeners].map(([i, listeners]) => clients[i]!.request({ op: 'listen', listeners })));
  const tcpTimeoutMs = options.tcpTimeoutMs ?? 1000;
  const udpTimeoutMs = options.udpTimeoutMs ?? 1500;
  const outcomes: ProbeOutcome[] = new Array(plan.tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < plan.tasks.length) {
      if (options.signal?.aborted) throw new LabError('interrupted', 'probing was interrupted');
      const i = next++;
      const t = plan.tasks[i]!;
      const base = {
        probe: t.probe,
        from: layout.pods[t.from]!.key,
        to: layout.pods[t.to]!.key,
        protocol: t.protocol,
        port: t.port,
        ...(t.standIn ? { standIn: true } : {}),
      };
      if (t.host === undefined) {
        outcomes[i] = { ...base, result: 'no-common-family' };
        continue;
      }
      const r = await clients[t.from]!.request({
        op: 'probe',
        host: t.host,
        port: t.port,
        protocol: t.protocol,
        timeoutMs: t.protocol === 'UDP' ? udpTimeoutMs : tcpTimeoutMs,
      });
      outcomes[i] = {
        ...base,
        family: t.family!,
        host: t.host,
        result: r.result as ConnectionResult,
        ...(typeof r.ms === 'number' ? { ms: r.ms } : {}),
        ...(typeof r.code === 'string' ? { code: r.code } : {}),
      };
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 512, plan.tasks.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return {
    reachability: reachabilityOf(
      layout,
      probes,
      plan.tasks,
      outcomes.map((o) => o.result),
    ),
    outcomes,
  };
}
