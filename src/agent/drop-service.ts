/**
 * The agent's drop log as a running service: the kernel log reader feeding a `DropLog`, attributed
 * against what the agent enforces at that moment, and the JSON answer of `GET /drops`.
 *
 * The kernel writes `log` statements of network namespaces other than the initial one only when the
 * host sets sysctl `net.netfilter.nf_log_all_netns=1` (nf_log_syslog: "logging from non-init netns is
 * disabled by default"). An agent acting on another namespace (`--netns`) checks that and reports a
 * problem when it is off; inside such a namespace the sysctl cannot be read, and docs/nftables.md says so.
 *
 * When to read: with `--log-denied` from the start; without it, from the first ruleset that stages a
 * policy (audit mode, by annotation or `--mode audit`). The audit tail logs whether or not the drop log
 * is on (reporting what would be dropped is what staging is for), so an operator staging a policy gets
 * its would-be drops in `netpol drops` and /metrics without turning on the logging of every real drop.
 * The reader starts before that ruleset is applied, so no audit line of it comes before the reader, and
 * then reads until the agent stops. An agent that stages nothing never opens the kernel log (a
 * DaemonSet without access to /dev/kmsg has nothing to complain about).
 */
import { readFileSync } from 'node:fs';
import type { Ruleset } from '../nft/index.js';
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
  /** `now` (default: `--log-denied`), or at the first ruleset that stages a policy (see `prepare`). */
  readonly start?: 'now' | 'when-staged';
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
  /** Whether the kernel log is being read (`answer` and the metrics mean something). */
  readonly reading: boolean;
  /** Called with each ruleset before it is applied: starts reading when it stages a policy. */
  prepare(ruleset: Ruleset): void;
  /** Called when a snapshot has taken effect: builds the attribution lookups now, off the records' path. */
  applied(): void;
  answer(since: number): DropsAnswer;
  stop(): void;
}

/**
 * Whether a ruleset stages a policy: some rule logs with the audit prefix (a subject chain's audit tail,
 * src/nft/audit.ts, or a staged cluster-scoped policy's rule).
 */
export function stagesPolicies(ruleset: Ruleset): boolean {
  return ruleset.chains.some((chain) => chain.rules.some((rule) => rule.log?.prefix.startsWith('netpol audit ') === true));
}

export function startDropLog(opts: DropLogServiceOptions): RunningDropLog {
  const log = new DropLog({ node: opts.node, ...(opts.capacity !== undefined ? { capacity: opts.capacity } : {}) });
  const reader = opts.reader ?? new KmsgReader();
  let running = false;
  let started = false;
  const start = () => {
    started = true;
    if (opts.netns !== undefined) {
      let value: string | undefined;
      try {
        value = readFileSync(NF_LOG_ALL_NETNS, 'utf8').trim();
      } catch {
        value = undefined;
      }
      if (value === '0') {
        opts.report({
          kind: 'problem',
          message: `drops in network namespace ${opts.netns} are not logged: the kernel logs from namespaces other than the initial one only with sysctl net.netfilter.nf_log_all_netns=1`,
        });
      }
    }
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
  };
  if ((opts.start ?? 'now') === 'now') start();
  return {
    log,
    get reading() {
      return running;
    },
    prepare(ruleset) {
      // Tried once: a kernel log that cannot be opened is reported once, not at every change.
      if (!started && stagesPolicies(ruleset)) start();
    },
    applied() {
      const enforced = opts.enforced();
      if (running && enforced) log.attributeTo(enforced);
    },
    answer(since) {
      const events = log.since(since);
      const { oldest, next } = log.bounds;
      return { node: opts.node, last: next - 1, oldest, events, lost: { ...log.counts.lost } };
    },
    stop() {
      if (running) reader.stop();
      running = false;
      started = true;
    },
  };
}
