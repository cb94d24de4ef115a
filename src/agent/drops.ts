/**
 * The drop log: kernel log lines of denied packets (src/agent/kmsg.ts) become structured events, each
 * naming the subject chain and the policies that isolate its pods, kept in a bounded ring for `GET
 * /drops` and `netpol drops`. Pure: the records come in through `ingest`, the clock is the caller's.
 *
 * Design choice: the kernel says which chain dropped the packet (the log prefix) and the packet's
 * addresses; everything else is read from what the agent enforces right now: the compiled ruleset's
 * notes map the chain to its policies (the prefix may be cut short, a chain name may be a hash), its
 * dispatch maps say which chain the subject's address jumps to, and the snapshot names the pods behind
 * the addresses. A subject chain drops exactly the packets that no rule of its policies admitted, so
 * that is the event's reason.
 *
 * - Connections, not packets: repeats of one attempt (TCP SYN retransmits, the same UDP flow) within a
 *   minute count on the first event (`packets`) instead of filling the ring.
 * - Only this node's pods: /dev/kmsg is the whole machine's log, and lab nodes share one kernel; a line
 *   whose subject (destination for ingress, source for egress) is not a pod of this node is another
 *   node's, and is counted as such.
 * - Lost events are counted by cause: ring overflow (pushed out before anyone could read them), kernel
 *   log records overwritten before the agent read them, and the kernel rate limiter's reports.
 */
import type { Cluster } from '../model/index.js';
import { parseTierRuleLogName, type Ruleset } from '../nft/index.js';
import { formatIP, parseIP } from '../ip/index.js';
import { isCanonicalIPv4, parseLogLine, type KmsgRecord, type LogAction } from './kmsg.js';

export type Direction = 'ingress' | 'egress';

export interface DropEndpoint {
  readonly ip: string;
  /** `namespace/name` of the pod with this address, when the snapshot has one. */
  readonly pod?: string;
}

export interface DropEvent {
  /** Position in this agent's log: `GET /drops?since=SEQ` returns the events after it. */
  readonly seq: number;
  /** When the kernel logged the first packet (ISO 8601). */
  readonly time: string;
  readonly node: string;
  /** `deny`: dropped; `audit`: a policy in audit mode would have dropped it, and it went through. */
  readonly action: LogAction;
  readonly direction: Direction;
  readonly chain: string;
  /**
   * The policies isolating the subject (`namespace/name`), none of whose rules admitted the packet; for a
   * Deny rule of a cluster-scoped policy, that policy (`Kind/name`), and `reason` names the rule.
   */
  readonly policies: readonly string[];
  readonly reason: string;
  readonly source: DropEndpoint;
  readonly destination: DropEndpoint;
  /** `TCP`, `UDP`, `SCTP`, `ICMP`, `ICMPv6` or the IP protocol number. */
  readonly protocol: string;
  /** Destination port (TCP, UDP); absent for protocols the kernel log does not decode. */
  readonly port?: number;
  readonly sourcePort?: number;
  readonly icmpType?: number;
  /** Packets of this attempt logged so far (retransmits and repeats within a minute), and when the last was. */
  packets: number;
  lastTime: string;
}

export const REASON = 'no rule of the isolating policies admitted it';

/** What the agent enforces now, for attribution: the compiled ruleset and the snapshot it came from. */
export interface Enforced {
  readonly ruleset: Ruleset;
  readonly cluster: Cluster;
}

/** The lookups attribution needs, built once per ruleset. */
class View {
  /** `direction address` -> chain, from the dispatch maps. */
  readonly dispatch = new Map<string, string>();
  readonly pods = new Map<string, string>();
  readonly local = new Set<string>();

  constructor(
    readonly enforced: Enforced,
    node: string,
  ) {
    for (const map of enforced.ruleset.maps) {
      const direction = map.name.startsWith('ingress_') ? 'ingress' : map.name.startsWith('egress_') ? 'egress' : undefined;
      if (!direction) continue;
      for (const [address, chain] of map.elements) this.dispatch.set(`${direction} ${canonical(address)}`, chain);
    }
    // Several pods claiming one address: the first by namespace/name, as the compiler keys its maps. One
    // pass (no sort): names are compared only where addresses collide, so a snapshot of 100,000 pods
    // costs one map insertion each.
    for (const pod of enforced.cluster.pods) {
      if (pod.hostNetwork) continue;
      const name = `${pod.namespace}/${pod.name}`;
      for (const ip of pod.ips) {
        const key = canonical(ip);
        const claimed = this.pods.get(key);
        if (claimed === undefined || name < claimed) this.pods.set(key, name);
        if (pod.nodeName === node) this.local.add(key);
      }
    }
  }

  policiesOf(chain: string): readonly string[] | undefined {
    return subjectChain(this.enforced, chain)?.policies;
  }
}

/** The compiler's note on a chain (own keys only: the name comes from a log line). */
function subjectChain(enforced: Enforced, chain: string): { readonly direction: Direction; readonly policies: readonly string[] } | undefined {
  const chains = enforced.ruleset.notes?.subjectChains;
  return chains && Object.prototype.hasOwnProperty.call(chains, chain) ? chains[chain] : undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** An address, with the pod that has it when the snapshot knows one. */
function endpoint(view: View | undefined, ip: string): DropEndpoint {
  const pod = view?.pods.get(ip);
  return pod === undefined ? { ip } : { ip, pod };
}

function canonical(text: string): string {
  if (isCanonicalIPv4(text)) return text;
  const ip = parseIP(text);
  return ip ? formatIP(ip) : text;
}

/**
 * The policies a chain name spells (`ingress_ns/a_ns/b`) when it is not a hash: Kubernetes names have no
 * `_`, so the parts are the keys. Undefined when the name does not decode that way.
 */
export function policiesFromChainName(chain: string): { direction: Direction; policies: string[] } | undefined {
  const [direction, ...keys] = chain.split('_');
  if ((direction !== 'ingress' && direction !== 'egress') || keys.length === 0) return undefined;
  if (!keys.every((k) => /^[a-z0-9.-]+\/[a-z0-9.-]+$/.test(k))) return undefined;
  return { direction, policies: keys };
}

export interface DropLogOptions {
  readonly node: string;
  /** Events kept (default 4096). */
  readonly capacity?: number;
  /** How long repeats of one attempt count on its event, in ms (default 60 s). */
  readonly repeatWindowMs?: number;
}

/** Counters for /metrics. */
export interface DropCounts {
  /** Events per action, direction and policy (an event counts for each policy it names). */
  readonly events: Map<string, { action: LogAction; direction: Direction; policy: string; count: number }>;
  /** Log lines of ours: `event` (new), `repeat` (counted on an event), `other-node` (not this node's pod). */
  readonly lines: Record<'event' | 'repeat' | 'other-node', number>;
  /**
   * `ring-overflow`: pushed out of the ring before any reader fetched them; `kernel-log-overrun`: kernel
   * log records overwritten before the agent read them (any source's); `kernel-suppressed`: messages the
   * kernel's rate limiter reported suppressing (any source's); `unparsed`: our prefix, not a kernel line.
   */
  readonly lost: Record<'ring-overflow' | 'kernel-log-overrun' | 'kernel-suppressed' | 'unparsed', number>;
}

export class DropLog {
  private readonly ring: DropEvent[] = [];
  /** The repeat key of each event in the ring, at the same index. */
  private readonly keys: string[] = [];
  private head = 0;
  private nextSeq = 1;
  /** The highest sequence number handed to a reader: events pushed out above it were never seen. */
  private served = 0;
  private view: View | undefined;
  /** Events still in the ring by repeat key, with when their last packet was logged (Unix ms). */
  private readonly recent = new Map<string, { event: DropEvent; lastMs: number }>();
  private readonly capacity: number;
  private readonly window: number;
  readonly counts: DropCounts = {
    events: new Map(),
    lines: { event: 0, repeat: 0, 'other-node': 0 },
    lost: { 'ring-overflow': 0, 'kernel-log-overrun': 0, 'kernel-suppressed': 0, unparsed: 0 },
  };

  constructor(private readonly opts: DropLogOptions) {
    this.capacity = Math.max(1, opts.capacity ?? 4096);
    this.window = opts.repeatWindowMs ?? 60_000;
  }

  /**
   * Builds the lookups for what is enforced now, unless built for it already (by identity: the agent hands
   * out a new ruleset or snapshot only on a change). `ingest` does it on demand; the agent calls it as
   * each snapshot takes effect, so that the first record after a change does not wait for it.
   */
  attributeTo(enforced: Enforced): void {
    if (this.view?.enforced.ruleset !== enforced.ruleset || this.view.enforced.cluster !== enforced.cluster) this.view = new View(enforced, this.opts.node);
  }

  /** Records overwritten before they were read (sequence gaps): they may have been ours. */
  overrun(records: number): void {
    this.counts.lost['kernel-log-overrun'] += records;
  }

  /**
   * One kernel log record, logged at `wallMs` (Unix ms), attributed against what is enforced now. The new
   * event, or undefined (not ours, a repeat, another node's).
   */
  ingest(record: KmsgRecord, wallMs: number, enforced: Enforced | undefined): DropEvent | undefined {
    if (!record.message.startsWith('netpol ') && !record.message.includes('callbacks suppressed')) return undefined;
    const line = parseLogLine(record.message);
    if (!line) {
      if (/^netpol (deny|audit) /.test(record.message)) this.counts.lost.unparsed++;
      return undefined;
    }
    if (line.kind === 'suppressed') {
      this.counts.lost['kernel-suppressed'] += line.count;
      return undefined;
    }
    const named = line.truncated ? undefined : line.chain;
    if (enforced) this.attributeTo(enforced);
    // The direction: what the ruleset says of the chain, else its name's first part (subjectChainName).
    const known = named !== undefined && enforced ? subjectChain(enforced, named)?.direction : undefined;
    const direction: Direction | undefined = known ?? (line.chain.startsWith('egress_') ? 'egress' : line.chain.startsWith('ingress_') ? 'ingress' : undefined);
    if (direction === undefined) {
      this.counts.lost.unparsed++;
      return undefined;
    }
    const subject = direction === 'ingress' ? line.destination : line.source;
    const view = enforced ? this.view : undefined;
    if (view && !view.local.has(subject)) {
      this.counts.lines['other-node']++;
      return undefined;
    }
    // The chain the subject jumps to now; the prefix's own name wins when complete (the kernel used it).
    const mapped = view?.dispatch.get(`${direction} ${subject}`);
    const chain = named ?? (mapped !== undefined && mapped.startsWith(line.chain) ? mapped : line.chain);
    // A Deny rule of a cluster-scoped policy names itself instead of a chain (tierRuleLogName).
    const tierRule = parseTierRuleLogName(chain);
    const policies = tierRule ? [tierRule.policy] : (view?.policiesOf(chain) ?? policiesFromChainName(chain)?.policies ?? []);
    const port = line.destinationPort;
    const sport = line.sourcePort ?? line.icmpId;
    const key = `${line.action} ${chain} ${line.protocol} ${line.source} ${sport ?? ''} ${line.destination} ${port ?? line.icmpType ?? ''}`;
    const time = new Date(wallMs).toISOString();
    const seen = this.recent.get(key);
    if (seen && wallMs - seen.lastMs <= this.window) {
      seen.event.packets++;
      seen.event.lastTime = time;
      seen.lastMs = wallMs;
      this.counts.lines.repeat++;
      return undefined;
    }
    const protocol = line.protocol === '132' ? 'SCTP' : line.protocol;
    // Built field by field (no closures, no conditional spreads: this runs for every new attempt), in the
    // order the JSON has always had.
    const event: Mutable<DropEvent> = {
      seq: this.nextSeq++,
      time,
      node: this.opts.node,
      action: line.action,
      direction,
      chain,
      policies,
      reason: tierRule ? `${line.action === 'audit' ? 'would be denied' : 'denied'} by ${tierRule.policy} ${tierRule.direction}[${tierRule.index}] (a Deny rule of a cluster-scoped policy)` : REASON,
      source: endpoint(view, line.source),
      destination: endpoint(view, line.destination),
      protocol,
    } as Mutable<DropEvent>;
    if (port !== undefined) event.port = port;
    if (line.sourcePort !== undefined) event.sourcePort = line.sourcePort;
    if (line.icmpType !== undefined) event.icmpType = line.icmpType;
    event.packets = 1;
    event.lastTime = time;
    this.push(event, key, wallMs);
    this.counts.lines.event++;
    for (const policy of policies.length > 0 ? policies : ['']) {
      const id = `${event.action} ${direction} ${policy}`;
      const c = this.counts.events.get(id);
      if (c) c.count++;
      else this.counts.events.set(id, { action: event.action, direction, policy, count: 1 });
    }
    return event;
  }

  private push(event: DropEvent, key: string, wallMs: number): void {
    if (this.ring.length < this.capacity) {
      this.ring.push(event);
      this.keys.push(key);
    } else {
      const old = this.ring[this.head] as DropEvent;
      const oldKey = this.keys[this.head] as string;
      if (old.seq > this.served) this.counts.lost['ring-overflow']++;
      if (this.recent.get(oldKey)?.event === old) this.recent.delete(oldKey);
      this.ring[this.head] = event;
      this.keys[this.head] = key;
      this.head = (this.head + 1) % this.capacity;
    }
    this.recent.set(key, { event, lastMs: wallMs });
  }

  /** Events with `seq` above `since` (all kept when undefined), oldest first. */
  since(since = 0): DropEvent[] {
    const ordered = [...this.ring.slice(this.head), ...this.ring.slice(0, this.head)];
    const out = ordered.filter((e) => e.seq > since);
    this.served = Math.max(this.served, this.nextSeq - 1);
    return out;
  }

  /** The lowest sequence number still kept (events below it were pushed out), and the next to be given. */
  get bounds(): { oldest: number; next: number } {
    const oldest = this.ring.length < this.capacity ? 1 : (this.ring[this.head] as DropEvent).seq;
    return { oldest, next: this.nextSeq };
  }
}
