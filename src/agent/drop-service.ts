/**
 * The agent's drop log as a running service: the kernel log reader feeding a `DropLog`, attributed
 * against what the agent enforces at that moment, and the JSON answer of `GET /drops`.
 *
 * The kernel writes `log` statements of network namespaces other than the initial one only when the
 * host sets sysctl `net.netfilter.nf_log_all_netns=1` (nf_log_syslog: "logging from non-init netns is
 * disabled by default"). An agent acting on another namespace (`--netns`) checks that and reports a
 * problem when it is off; inside such a namespace the sysctl cannot be read, and docs/nftables.md says so.
 */
import { readFileSync } from 'node:fs';
import type { AgentEvent } from './agent.js';
import { DropLog, type DropEvent, type Enforced } from './drops.js';
import { KmsgReader, type KernelLogReader } from './kmsg-reader.js';

export const NF_LOG_ALL_NETNS = '/proc/sys/net/netfilter/nf_log_all_netns';

export interface DropLogServiceOptions {
  readonly node: string;
  readonly enforced: () => Enforced | undefined;
  /** The agent acts on this named network namespace (the lab's nodes). */
  readonly netns?: string | undefined;
  readonly onEvent?: (e: DropEvent) => void;
  readonly report: (e: AgentEvent) => void;
  /** Events kept (default 4096). */
  readonly capacity?: number;
  /** The kernel log (default /dev/kmsg). */
  readonly reader?: KernelLogReader;
}

/** What `GET /drops?since=SEQ` answers. */
export interface DropsAnswer {
  readonly node: string;
  /** The highest sequence number so far: pass it as `since` next time. */
  readonly last: number;
  /** The lowest still kept: a `since` below `oldest - 1` missed events pushed out of the ring. */
  readonly oldest: number;
  readonly events: readonly DropEvent[];
  readonly lost: Readonly<Record<string, number>>;
}

export interface RunningDropLog {
  readonly log: DropLog;
  answer(since: number): DropsAnswer;
  stop(): void;
}

export function startDropLog(opts: DropLogServiceOptions): RunningDropLog {
  const log = new DropLog({ node: opts.node, ...(opts.capacity !== undefined ? { capacity: opts.capacity } : {}) });
  const reader = opts.reader ?? new KmsgReader();
  if (opts.netns !== undefined) {
    let value: string | undefined;
    try {
      value = readFileSync(NF_LOG_ALL_NETNS, 'utf8').trim();
    } catch {
      value = undefined;
    }
    if (value === '0') {
      opts.report({ kind: 'problem', message: `drops in network namespace ${opts.netns} are not logged: the kernel logs from namespaces other than the initial one only with sysctl net.netfilter.nf_log_all_netns=1` });
    }
  }
  let running = false;
  try {
    reader.start(
      (record, wallMs) => {
        const e = log.ingest(record, wallMs, opts.enforced());
        if (e) opts.onEvent?.(e);
      },
      (n) => log.overrun(n),
      (e) => opts.report({ kind: 'problem', message: `reading the kernel log failed (${e.message}): no more drop events` }),
    );
    running = true;
  } catch (e) {
    // Enforcement goes on without the drop log.
    opts.report({ kind: 'problem', message: `cannot read the kernel log (${(e as Error).message}): no drop events` });
  }
  return {
    log,
    answer(since) {
      const events = log.since(since);
      const { oldest, next } = log.bounds;
      return { node: opts.node, last: next - 1, oldest, events, lost: { ...log.counts.lost } };
    },
    stop() {
      if (running) reader.stop();
      running = false;
    },
  };
}
