/**
 * Recent drops for the page: the agents' `GET /drops` answers, validated (everything in them came from a
 * cluster or a kernel log), kept in a bounded store (the last `capacity` events of the last `windowMs`),
 * and folded onto what the graph draws: pod pairs of the loaded snapshot, and the address blocks the
 * policies name. Pure: no IO, the clock is the caller's (src/server/agents.ts polls).
 *
 * Design choice: the store keeps the events as the agents sent them and folds them against the current
 * workspace each time the view is asked for (a new snapshot re-folds: a pod that appears is matched,
 * one that goes is an address again). An endpoint is a pod of the snapshot when the agent named it and
 * the snapshot has that pod, else when the snapshot has a pod with its address, else an address block's
 * (the first named block holding it), else a bare address. What `netpol check` is asked about a drop is
 * the pod's name or the address, as `netpol drops` prints it.
 */
import { formatIP, parseIP } from '../ip/index.js';
import type { Workspace } from './workspace.js';
import type { AgentDrop, AgentStatus, DropEnd, DropPair, DropsView, DropView } from './drops-view.js';

export type { AgentDrop, AgentStatus, DropEnd, DropPair, DropsView, DropView };

export interface AgentAnswer {
  readonly node: string;
  readonly last: number;
  readonly oldest: number;
  readonly events: readonly AgentDrop[];
  /** Events left out because they were not well formed. */
  readonly rejected: number;
}

/** Bounds on what an agent may send: longer strings and lists make the event (or answer) invalid. */
const MAX_NAME = 320;
const MAX_TEXT = 1024;
const MAX_POLICIES = 64;
/** Events read from one answer (the agent's ring is 4096 by default). */
export const MAX_EVENTS_PER_ANSWER = 10_000;

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;
const int = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const time = (v: unknown): v is string => str(v, 40) && !Number.isNaN(Date.parse(v));

function endpoint(v: unknown): AgentDrop['source'] | undefined {
  if (!isRec(v) || !str(v.ip, 64) || !parseIP(v.ip)) return undefined;
  if (v.pod === undefined) return { ip: v.ip };
  return str(v.pod, MAX_NAME) && /^[^/]+\/[^/]+$/.test(v.pod) ? { ip: v.ip, pod: v.pod } : undefined;
}

/** One event, or undefined when it is not one the agent would send. */
export function dropOf(v: unknown): AgentDrop | undefined {
  if (!isRec(v)) return undefined;
  const source = endpoint(v.source);
  const destination = endpoint(v.destination);
  if (!source || !destination) return undefined;
  if (!int(v.seq, 1, Number.MAX_SAFE_INTEGER) || !time(v.time) || !str(v.node, MAX_NAME) || !str(v.chain, MAX_NAME) || !str(v.reason, MAX_TEXT) || !str(v.protocol, 16)) return undefined;
  if (v.action !== 'deny' && v.action !== 'audit') return undefined;
  if (v.direction !== 'ingress' && v.direction !== 'egress') return undefined;
  if (!Array.isArray(v.policies) || v.policies.length > MAX_POLICIES || !v.policies.every((p) => str(p, MAX_NAME))) return undefined;
  if (v.port !== undefined && !int(v.port, 0, 65535)) return undefined;
  if (v.icmpType !== undefined && !int(v.icmpType, 0, 255)) return undefined;
  const packets = int(v.packets, 1, Number.MAX_SAFE_INTEGER) ? v.packets : 1;
  const lastTime = time(v.lastTime) ? v.lastTime : v.time;
  return {
    seq: v.seq,
    time: v.time,
    lastTime,
    node: v.node,
    action: v.action,
    direction: v.direction,
    chain: v.chain,
    policies: v.policies as string[],
    reason: v.reason,
    source,
    destination,
    protocol: v.protocol,
    ...(v.port !== undefined ? { port: v.port } : {}),
    ...(v.icmpType !== undefined ? { icmpType: v.icmpType } : {}),
    packets,
  };
}

/** A `/drops` answer, or the reason it is none (the agent's words are not repeated: they are untrusted). */
export function agentAnswerOf(text: string): AgentAnswer | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'the answer is not JSON';
  }
  if (!isRec(v) || !str(v.node, MAX_NAME) || !int(v.last, 0, Number.MAX_SAFE_INTEGER) || !Array.isArray(v.events)) return 'the answer is not a drop log';
  if (v.events.length > MAX_EVENTS_PER_ANSWER) return `the answer holds more than ${MAX_EVENTS_PER_ANSWER} events`;
  const events: AgentDrop[] = [];
  for (const e of v.events) {
    const d = dropOf(e);
    if (d) events.push(d);
  }
  const oldest = int(v.oldest, 0, Number.MAX_SAFE_INTEGER) ? v.oldest : 1;
  return { node: v.node, last: v.last, oldest, events, rejected: v.events.length - events.length };
}

export const LIST_LIMIT = 200;
/** Pairs sent to the page, most recent first. */
export const PAIR_LIMIT = 2000;

export interface DropStoreOptions {
  /** Events kept (default 2000). */
  readonly capacity?: number;
  /** How long an event is kept after its last packet, in ms (default 15 minutes). */
  readonly windowMs?: number;
}

/** The recent events of every agent, bounded by count and age. */
export class DropStore {
  readonly capacity: number;
  readonly windowMs: number;
  /** Oldest first (by arrival). */
  private events: (AgentDrop & { readonly agent: string })[] = [];
  /** Bumped on every change: the view is rebuilt only when it moved. */
  revision = 0;

  constructor(opts: DropStoreOptions = {}) {
    this.capacity = Math.max(1, opts.capacity ?? 2000);
    this.windowMs = opts.windowMs ?? 15 * 60_000;
  }

  add(agent: string, events: readonly AgentDrop[], nowMs: number): void {
    if (events.length === 0) return;
    for (const e of events) this.events.push({ ...e, agent });
    this.prune(nowMs);
    this.revision++;
  }

  /** Drops what is older than the window or beyond the capacity; true when something went. */
  prune(nowMs: number): boolean {
    const before = this.events.length;
    const cutoff = nowMs - this.windowMs;
    this.events = this.events.filter((e) => Date.parse(e.lastTime) >= cutoff);
    if (this.events.length > this.capacity) this.events = this.events.slice(this.events.length - this.capacity);
    if (this.events.length === before) return false;
    this.revision++;
    return true;
  }

  get size(): number {
    return this.events.length;
  }

  /** The events folded onto `ws`'s pods and address blocks. */
  view(ws: Workspace, agents: readonly AgentStatus[]): DropsView {
    let ends = resolvers.get(ws);
    if (!ends) resolvers.set(ws, (ends = new EndResolver(ws)));
    const pairs = new Map<string, DropPair & { denied: number; audited: number; packets: number; ports: string[] }>();
    const views: DropView[] = [];
    const ordered = [...this.events].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    const listed = ordered.length - LIST_LIMIT;
    for (const [i, e] of ordered.entries()) {
      const from = ends.resolve(e.source);
      const to = ends.resolve(e.destination);
      if (i >= listed) views.push({ ...e, from, to });
      const key = `${from.kind}:${from.name}>${to.kind}:${to.name}`;
      const port = e.port !== undefined ? `${e.protocol}/${e.port}` : e.protocol;
      let p = pairs.get(key);
      if (!p) pairs.set(key, (p = { from, to, denied: 0, audited: 0, packets: 0, last: e.time, lastAction: e.action, protocol: e.protocol, ports: [] }));
      if (e.action === 'deny') p.denied++;
      else p.audited++;
      p.packets += e.packets;
      if (!p.ports.includes(port) && p.ports.length < 8) p.ports.push(port);
      const latest = { last: e.time, lastAction: e.action, protocol: e.protocol, ...(e.port !== undefined ? { port: e.port } : {}) };
      if (e.time >= p.last) {
        delete (p as { port?: number }).port;
        Object.assign(p, latest);
      }
    }
    return {
      agents,
      pairs: [...pairs.values()].sort((a, b) => (a.last > b.last ? -1 : a.last < b.last ? 1 : 0)).slice(0, PAIR_LIMIT),
      events: views.reverse(),
      kept: this.events.length,
      windowMs: this.windowMs,
      capacity: this.capacity,
    };
  }
}

/** One resolver per snapshot, kept while the snapshot is. */
const resolvers = new WeakMap<Workspace, EndResolver>();

/** Names an event's ends against one snapshot (remembering the answers: the same ends recur). */
class EndResolver {
  private readonly byName = new Map<string, true>();
  private readonly byIP = new Map<string, string>();
  private readonly known = new Map<string, DropEnd>();

  constructor(private readonly ws: Workspace) {
    for (const p of ws.pods) {
      const key = `${p.namespace}/${p.name}`;
      this.byName.set(key, true);
      for (const ip of p.ips) {
        const parsed = parseIP(ip);
        const canonical = parsed ? formatIP(parsed) : ip;
        if (!this.byIP.has(canonical)) this.byIP.set(canonical, key);
      }
    }
  }

  resolve(e: AgentDrop['source']): DropEnd {
    const key = `${e.ip} ${e.pod ?? ''}`;
    let end = this.known.get(key);
    if (!end) {
      // Bounded: the store keeps a few thousand events, so a few thousand ends matter at a time.
      if (this.known.size >= 20_000) this.known.clear();
      this.known.set(key, (end = this.lookUp(e)));
    }
    return end;
  }

  private lookUp(e: AgentDrop['source']): DropEnd {
    if (e.pod !== undefined && this.byName.has(e.pod)) return { kind: 'pod', name: e.pod, ip: e.ip, check: e.pod };
    const ip = parseIP(e.ip);
    const pod = ip ? this.byIP.get(formatIP(ip)) : undefined;
    if (pod !== undefined) return { kind: 'pod', name: pod, ip: e.ip, check: pod };
    const block = ip ? this.ws.blockOf(ip) : undefined;
    if (block !== undefined) return { kind: 'block', name: block, ip: e.ip, check: e.ip };
    return { kind: 'address', name: e.ip, ip: e.ip, check: e.ip };
  }
}
