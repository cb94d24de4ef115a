/**
 * The node agent: keeps the node's `inet netpol` table equal to what the compiler makes of the current
 * cluster snapshot.
 *
 * - Start: read what the kernel holds (`nft -j list`) and reconcile from it, so a restarted agent never
 *   passes through an empty (allow-all) table. With nothing in the kernel, the first apply is one atomic
 *   transaction creating the whole table.
 * - Each change: one transaction with only the differences (set and map elements, changed chains). The
 *   node's compiler is kept between snapshots (`NodeCompiler`), so a change costs what it touches rather
 *   than a recompile of the cluster.
 * - Existing connections: after a change, conntrack entries of connections the new rules deny are
 *   deleted, so their next packet meets the rules as a new connection and is dropped
 *   (`existingConnections: 'keep'` leaves them alone, the conntrack-only behaviour). A change that only
 *   adds elements to the sets rules accept from can revoke nothing, and skips the check.
 * - A failed apply leaves the kernel as it was (one transaction); the agent reads the kernel again and
 *   retries the latest snapshot on its own, after 1 s, then 2, 4, ... up to 30 s, until it applies or a
 *   newer snapshot arrives.
 * - The cut survives a crash: each completed conntrack check is recorded with the digest of its ruleset
 *   (src/agent/cut-record.ts); a starting agent whose kernel holds a ruleset without such a record runs
 *   the check before reporting its first snapshot applied.
 * - Fail closed: a snapshot the source marks `incomplete` (input it could not read) is not applied; the
 *   kernel keeps the last good rules.
 * - Drift: someone else's change to the table (seen by the runner's `watch`, i.e. `nft monitor`) and a
 *   periodic check (`verifyMs`) compare the kernel with what was applied; a difference is repaired in
 *   one transaction, followed by the conntrack check, and reported as a `drift` event.
 */
import { Engine, externalEndpoint, podEndpoint } from '../engine/index.js';
import type { Endpoint } from '../engine/index.js';
import type { Policy, PolicyMode } from '../policy/index.js';
import { formatIP, parseIP } from '../ip/index.js';
import type { Cluster, PodInfo } from '../model/index.js';
import { diffRuleset, NodeCompiler, renderChange, renderDiff, renderRuleset, rulesetFromNftJson, type CompileNotes, type Ruleset, type RulesetChange } from '../nft/index.js';
import { rulesetDigest, type CutRecord } from './cut-record.js';
import type { ClusterSnapshot, ClusterSource } from './source.js';
import type { Conntrack, Flow, NftRunner } from './system.js';

/** TCP states in which the connection is already ending. */
const CLOSING: ReadonlySet<string> = new Set(['TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'FIN_WAIT']);

export interface AgentOptions {
  readonly node: string;
  readonly denyAction: 'drop' | 'reject';
  readonly existingConnections: 'cut' | 'keep';
  readonly logDenied?: boolean;
  /**
   * `enforce` (default): each policy in its own mode (annotation `netpol.dev/mode`); `audit`: every policy
   * staged, so nothing is dropped and what would be is counted and logged (src/nft/audit.ts).
   */
  readonly mode?: PolicyMode;
  /** Denied (with `logDenied`) and audited packets logged per second and chain at most (nft `limit`; default 10). */
  readonly logRate?: number;
  /** Called with each ruleset that changes the kernel, before it goes in (the drop log starts reading for a staged policy). */
  readonly beforeApply?: (ruleset: Ruleset) => void;
  /** Called when a snapshot has taken effect (`enforced` is new): the drop log builds its lookups then, not at the next record. */
  readonly afterApply?: () => void;
  readonly table?: string;
  /** First delay before retrying a failed apply, in ms (doubles up to {@link MAX_RETRY_MS}). Default 1000. */
  readonly retryMs?: number;
  /** Retry failed applies on its own (default true); without, only the next snapshot tries again. */
  readonly retry?: boolean;
  /**
   * Where completed conntrack checks are recorded (a `FileCutRecord` under `--state-dir`). Without one,
   * every start runs the check.
   */
  readonly cutRecord?: CutRecord;
  /**
   * How often to compare the kernel's table with what was applied, in ms (default 60 s); besides, the
   * runner's `watch` triggers a comparison when another process changes the table. 0: neither.
   */
  readonly verifyMs?: number;
}

const MAX_RETRY_MS = 30_000;

/** What the agent has done since it started: plain numbers for a metrics exporter to read. */
export interface AgentCounters {
  /** Snapshots taken into the kernel (`applied`). */
  applies: number;
  /** Failed attempts (apply, conntrack check, drift check); each is reported as an `error`. */
  failures: number;
  /** Comparisons of the kernel's table with what was applied. */
  verifications: number;
  /** Differences found by them and repaired (`drift` events). */
  driftRepairs: number;
  /** Conntrack checks run, and the connection groups (protocol, addresses, port) they cut. */
  cutChecks: number;
  connectionsCut: number;
}

export interface AgentEvent {
  readonly kind: 'started' | 'applied' | 'unchanged' | 'cut' | 'drift' | 'problem' | 'resolved' | 'error';
  readonly generation?: number;
  readonly message: string;
  /** For `applied`: how long compile + apply took, in milliseconds. */
  readonly ms?: number;
  /** For `applied` and `unchanged`: pods on this node, and how many of them some policy isolates. */
  readonly localPods?: number;
  readonly isolatedPods?: number;
}

export class Agent {
  private current: Ruleset | undefined;
  private reconciled = false;
  /** Keeps what it derived from the last snapshot; dropped after a failure, so the next one starts afresh. */
  private compiler: NodeCompiler | undefined;
  /** The newest snapshot handed in: the one a retry applies. */
  private latest: ClusterSnapshot | undefined;
  /** Applies run one at a time, in order (snapshots from the source and retries alike). */
  private queue: Promise<void> = Promise.resolve();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryDelay: number;
  private stopped = false;
  /** The input problems reported and still present. */
  private problems = new Set<string>();
  /** What the compiler could not enforce, as reported and still true. */
  private enforcementNotes = new Set<string>();
  /** Rules that may revoke connections are in the kernel, and their conntrack check has not run yet. */
  private cutPending = false;
  /** The snapshot whose rules the kernel holds (`current`), and whether a drift check is queued. */
  private applied: ClusterSnapshot | undefined;
  private verifyQueued = false;
  /** Why the last snapshot was incomplete, while it is. */
  private incomplete: string | undefined;
  private verifyTimer: ReturnType<typeof setInterval> | undefined;
  private watch: { close(): void } | undefined;
  private watchTimer: ReturnType<typeof setTimeout> | undefined;
  readonly counters: AgentCounters = { applies: 0, failures: 0, verifications: 0, driftRepairs: 0, cutChecks: 0, connectionsCut: 0 };

  constructor(
    private readonly source: ClusterSource,
    private readonly nft: NftRunner,
    private readonly conntrack: Conntrack | undefined,
    private readonly opts: AgentOptions,
    private readonly report: (e: AgentEvent) => void,
  ) {
    this.retryDelay = opts.retryMs ?? 1000;
  }

  async start(): Promise<void> {
    const every = this.opts.verifyMs ?? 60_000;
    if (every > 0) {
      this.watchTable();
      this.verifyTimer = setInterval(() => void this.requestVerify('periodic check'), every);
    }
    await this.source.start((s) => this.onSnapshot(s));
  }

  /** Stops watching and retrying, and lets go of the nft runner; the rules stay in the kernel. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.verifyTimer);
    clearTimeout(this.watchTimer);
    this.watch?.close();
    await this.source.stop();
    await this.queue;
    this.nft.close?.();
  }

  /**
   * The ruleset the kernel holds, as compiled, and the snapshot it came from: what a drop log line is
   * attributed against (src/agent/drops.ts). Undefined before the first apply.
   */
  get enforced(): { readonly ruleset: Ruleset; readonly cluster: Cluster } | undefined {
    const ruleset = this.current;
    return ruleset?.notes && this.applied ? { ruleset, cluster: this.applied.cluster } : undefined;
  }

  /** One snapshot in: compile, diff against what the kernel holds, apply, cut revoked connections. */
  onSnapshot(s: ClusterSnapshot): Promise<void> {
    this.reportProblems(s);
    // Fail closed: what could not be read is not known to be empty; the kernel keeps the last good rules.
    if (s.incomplete !== undefined) {
      // Said once per cause: a source that cannot read re-reads until it can.
      if (this.incomplete !== s.incomplete) {
        this.report({ kind: 'error', generation: s.generation, message: `input incomplete (${s.incomplete}): not applied; the node keeps the rules it has` });
        this.counters.failures++;
      }
      this.incomplete = s.incomplete;
      return this.queue;
    }
    this.incomplete = undefined;
    this.latest = s;
    clearTimeout(this.retryTimer);
    return this.enqueue(s);
  }

  /**
   * Follows other processes' changes to the table through the runner's watch; one that ends is started
   * again after a second, with a check for what it may have missed.
   */
  private watchTable(): void {
    if (this.stopped || !this.nft.watch) return;
    this.watch = this.nft.watch(
      this.opts.table ?? 'netpol',
      (what) => this.requestVerify(`changed by ${what}`),
      () => {
        this.watch = undefined;
        if (this.stopped) return;
        this.watchTimer = setTimeout(() => {
          this.watchTable();
          this.requestVerify('the table watch restarted');
        }, 1000);
      },
    );
  }

  /** Queues one comparison of the kernel with what was applied (one at a time; requests coalesce). */
  requestVerify(reason: string): Promise<void> {
    if (this.verifyQueued || this.stopped) return this.queue;
    this.verifyQueued = true;
    const run = this.queue.then(async () => {
      this.verifyQueued = false;
      const error = await this.verify(reason);
      if (error !== undefined) this.failed(error, this.latest);
    });
    this.queue = run.catch((e: unknown) => this.report({ kind: 'error', message: String(e) }));
    return this.queue;
  }

  /**
   * Compares the kernel's table with the applied ruleset and repairs a difference in one transaction,
   * then checks conntrack (a flushed table let any connection in). The error's message when that failed.
   */
  private async verify(reason: string): Promise<string | undefined> {
    const s = this.applied;
    // Nothing applied yet, or an apply is failing: the pending apply or its retry reads the kernel anyway.
    if (this.stopped || !s || !this.reconciled || this.current === undefined || this.latest !== s) return undefined;
    try {
      const json = await this.nft.listTable(this.opts.table ?? 'netpol');
      this.counters.verifications++;
      const kernel = json === undefined ? undefined : rulesetFromNftJson(json);
      if (kernel !== undefined && renderDiff(kernel, this.current).trim() === '') return undefined;
      this.current = kernel;
      return await this.apply(s, `drift repaired (${reason}): ${kernel === undefined ? 'the table was missing' : 'the table differed from the rules applied'}`);
    } catch (e) {
      this.reconciled = false;
      return `drift check: ${(e as Error).message}`;
    }
  }

  /**
   * The input's problems, each once: a problem is reported in the first snapshot that has it, and
   * reported `resolved` in the first that no longer does (every change re-reads the input, so repeating
   * them would bury the news).
   */
  private reportProblems(s: ClusterSnapshot): void {
    const texts = s.diagnostics
      .filter((d) => d.severity !== 'info')
      .map((d) => `${d.severity}: ${d.file ?? ''}${d.line ? `:${d.line}:${d.column}` : ''} ${d.object ?? ''} ${d.path ?? ''} ${d.message}`.replace(/\s+/g, ' '));
    this.problems = this.once(s.generation, this.problems, texts);
  }

  /** Reports the texts not in `before` as problems and those of `before` that are gone as resolved. */
  private once(generation: number, before: ReadonlySet<string>, texts: readonly string[]): Set<string> {
    const now = new Set(texts);
    for (const text of now) if (!before.has(text)) this.report({ kind: 'problem', generation, message: text });
    for (const text of before) if (!now.has(text)) this.report({ kind: 'resolved', generation, message: text });
    return now;
  }

  private enqueue(s: ClusterSnapshot): Promise<void> {
    const run = this.queue.then(async () => {
      // A newer snapshot is queued behind this one: it says everything this one would.
      if (this.stopped || this.latest !== s) return;
      const error = await this.apply(s);
      if (error === undefined) this.retryDelay = this.opts.retryMs ?? 1000;
      else this.failed(error, s);
    });
    // Whatever happens to one step, the next ones still run.
    this.queue = run.catch((e: unknown) => this.report({ kind: 'error', generation: s.generation, message: String(e) }));
    return this.queue;
  }

  /** Reports a failed step and retries snapshot `s` after the current delay (doubling up to 30 s). */
  private failed(error: string, s: ClusterSnapshot | undefined): void {
    this.counters.failures++;
    const retry = this.opts.retry !== false && !this.stopped && s !== undefined;
    const delay = this.retryDelay;
    this.report({ kind: 'error', ...(s ? { generation: s.generation } : {}), message: retry ? `${error} (retrying in ${delay} ms)` : error });
    if (!retry || !s) return;
    this.retryDelay = Math.min(delay * 2, MAX_RETRY_MS);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.enqueue(s), delay);
  }

  /**
   * Takes the kernel to snapshot `s`; the error's message when that failed (the kernel keeps what it had).
   * `repair`: this is a drift repair, reported as such.
   */
  private async apply(s: ClusterSnapshot, repair?: string): Promise<string | undefined> {
    const t0 = performance.now();
    try {
      const table = this.opts.table ?? 'netpol';
      // Reading the kernel (at start, after a failure): whether the check of what it holds ran is unknown.
      let fromKernel = false;
      if (!this.reconciled) {
        const json = await this.nft.listTable(table);
        this.current = json === undefined ? undefined : rulesetFromNftJson(json);
        this.reconciled = true;
        fromKernel = true;
      }
      // Each ruleset is only diffed against the one before: set arrays may change in place (no copies).
      this.compiler ??= new NodeCompiler({
        node: this.opts.node,
        denyAction: this.opts.denyAction,
        ...(this.opts.logDenied ? { log: true } : {}),
        ...(this.opts.logRate !== undefined ? { logRate: this.opts.logRate } : {}),
        table,
        reuseArrays: true,
        ...(this.opts.mode ? { mode: this.opts.mode } : {}),
      });
      const next = this.compiler.update(s.cluster);
      const change = this.current === undefined ? undefined : diffRuleset(this.current, next);
      const full = change === undefined || change.full;
      const script = change === undefined ? renderRuleset(next) : renderChange(next, change);
      const changed = script.trim() !== '';
      const cutting = this.conntrack !== undefined && this.opts.existingConnections === 'cut';
      // Before the change: the kernel's rules may have been committed by an agent killed before its check.
      if (cutting && fromKernel && !this.cutPending) this.cutPending = changed || (await this.unchecked(next));
      if (changed) {
        this.opts.beforeApply?.(next);
        await this.nft.apply(script);
        if (cutting && !(change !== undefined && onlyAdmitsMore(change, next))) this.cutPending = true;
      }
      this.current = next;
      this.applied = s;
      this.opts.afterApply?.();
      // Cut before reporting: a snapshot counts as applied once it has fully taken effect. A cut that
      // failed after its rules went in is done by the retry, which finds the kernel already up to date.
      if (this.cutPending) {
        await this.cutRevoked(s.cluster, this.compiler.normalizedPolicies);
        this.cutPending = false;
        await this.recordCut(next);
      }
      const notes = next.notes;
      const counts = notes ? `: ${notes.localPods} local pod${notes.localPods === 1 ? '' : 's'}, ${notes.isolatedPods} isolated` : '';
      const stats = notes ? { localPods: notes.localPods, isolatedPods: notes.isolatedPods } : {};
      const ms = performance.now() - t0;
      if (repair !== undefined) {
        this.counters.driftRepairs++;
        this.report({ kind: 'drift', generation: s.generation, ms, message: repair, ...stats });
      } else if (changed) {
        this.counters.applies++;
        this.report({ kind: 'applied', generation: s.generation, ms, message: `applied generation ${s.generation} (${full ? 'full' : 'incremental'})${counts}`, ...stats });
      } else this.report({ kind: 'unchanged', generation: s.generation, message: 'ruleset unchanged', ...stats });
      if (notes) this.enforcementNotes = this.once(s.generation, this.enforcementNotes, noteTexts(notes));
      return undefined;
    } catch (e) {
      // The kernel still holds the last applied ruleset (each apply is one transaction). The next
      // attempt starts from what the kernel really holds.
      this.reconciled = false;
      this.compiler = undefined;
      return (e as Error).message;
    }
  }

  /** True unless the record says the conntrack check of `ruleset` has run (a record that cannot be read counts as none). */
  private async unchecked(ruleset: Ruleset): Promise<boolean> {
    const recorded = await this.opts.cutRecord?.read().catch(() => undefined);
    return recorded === undefined || recorded !== rulesetDigest(ruleset);
  }

  /** Records that the check of `ruleset` ran; a failed write costs one extra check on restart, so it is only reported. */
  private async recordCut(ruleset: Ruleset): Promise<void> {
    const record = this.opts.cutRecord;
    if (!record) return;
    try {
      await record.write(rulesetDigest(ruleset));
    } catch (e) {
      this.report({ kind: 'problem', message: `cannot record the conntrack check (a restart will run it again): ${(e as Error).message}` });
    }
  }

  /** Deletes the conntrack entries of connections through this node that the cluster now denies. */
  private async cutRevoked(cluster: Cluster, policies: readonly Policy[]): Promise<void> {
    const conntrack = this.conntrack;
    if (!conntrack) return;
    this.counters.cutChecks++;
    const flows = await conntrack.list();
    if (flows.length === 0) return;
    // Only the pods at the ends of tracked connections are looked up: index just their addresses.
    const wanted = new Set<string>();
    for (const f of flows) {
      for (const text of [f.source, f.destination]) {
        const ip = parseIP(text);
        if (ip) wanted.add(formatIP(ip));
      }
    }
    const byIP = new Map<string, PodInfo>();
    for (const p of cluster.pods) for (const ip of p.ips) if (wanted.has(ip)) byIP.set(ip, p);
    // The compiler's normalised policies: normalising them again costs 0.1-0.2 s at 13,700 policies.
    const engine = new Engine(cluster, policies);
    const endpoint = (text: string): Endpoint | undefined => {
      const ip = parseIP(text);
      if (!ip) return undefined;
      const pod = byIP.get(formatIP(ip));
      return pod ? podEndpoint(pod) : externalEndpoint(formatIP(ip));
    };
    const local = (e: Endpoint | undefined) => e?.kind === 'pod' && e.pod.nodeName === this.opts.node;
    // A verdict depends on protocol, addresses and destination port only: one deletion per group.
    const revoked = new Map<string, Flow>();
    for (const f of flows) {
      // A TCP connection already closing carries no more data to cut.
      if (f.state !== undefined && CLOSING.has(f.state)) continue;
      const source = endpoint(f.source);
      const destination = endpoint(f.destination);
      if (!source || !destination || !(local(source) || local(destination))) continue;
      const key = `${f.protocol} ${f.source} ${f.destination} ${f.destinationPort}`;
      if (!revoked.has(key) && !engine.allows({ source, destination, protocol: f.protocol, port: f.destinationPort })) revoked.set(key, f);
    }
    // Each deletion is a conntrack process: run a few at once.
    const groups = [...revoked.values()];
    for (let i = 0; i < groups.length; i += 8) await Promise.all(groups.slice(i, i + 8).map((f) => conntrack.delete(f)));
    this.counters.connectionsCut += groups.length;
    if (groups.length > 0) {
      const shown = groups.slice(0, 20).map((f) => `${f.protocol} ${f.source}->${f.destination}:${f.destinationPort}`);
      this.report({ kind: 'cut', message: `cut connections the new rules deny: ${shown.join(', ')}${groups.length > 20 ? ` and ${groups.length - 20} more` : ''}` });
    }
  }
}

/**
 * True when an incremental update only adds elements to sets that the ruleset uses solely in admitting
 * rules (`accept`, or `return` from a subject chain: that direction allows the packet): it lets more
 * through and can revoke no connection. Dispatch maps are verdict maps, not sets: an address added there
 * isolates a pod, so such an update never counts. Decided from the typed change, not its text.
 */
export function onlyAdmitsMore(change: RulesetChange, next: Ruleset): boolean {
  if (change.full) return false;
  const structural = [change.addedSets, change.addedChains, change.flushedChains, change.recreatedSets, change.filledChains, change.mapElements, change.removedChains, change.removedSets];
  if (structural.some((xs) => xs.length > 0) || change.setElements.length === 0) return false;
  const admitting = new Set<string>();
  const other = new Set<string>();
  for (const chain of next.chains) {
    for (const rule of chain.rules) {
      const admits = rule.verdict?.kind === 'accept' || (rule.verdict?.kind === 'return' && !chain.base);
      for (const m of rule.matches) {
        if (m.kind === 'address' || m.kind === 'daddr-dport') (admits ? admitting : other).add(m.set);
      }
    }
  }
  return change.setElements.every((e) => e.removed.length === 0 && admitting.has(e.set) && !other.has(e.set));
}

/** What the node cannot enforce, in words (src/nft CompileNotes); each line reported once. */
export function noteTexts(n: CompileNotes): string[] {
  const list = (xs: readonly string[]) => `${xs.slice(0, 10).join(', ')}${xs.length > 10 ? ` and ${xs.length - 10} more` : ''}`;
  const out: string[] = [];
  if (n.localPods === 0) out.push(`warning: no pod has spec.nodeName ${n.node}: this node has nothing to enforce`);
  if (n.withoutIP.length > 0) out.push(`warning: local pods without an IP are not enforced (no address to key the rules on): ${list(n.withoutIP)}`);
  if (n.hostNetwork.length > 0) out.push(`warning: local host-network pods are not enforced (their traffic is the node's own): ${list(n.hostNetwork)}`);
  if (n.unscheduled > 0) out.push(`warning: ${n.unscheduled} pod${n.unscheduled === 1 ? ' has' : 's have'} no spec.nodeName: no node enforces their side of a connection`);
  if (n.domainNames && n.domainNames.length > 0) {
    out.push(
      `warning: domainNames peers are not enforced (no DNS tracking): they match no traffic, so what they would accept is decided by the rules after them (docs/nftables.md): ${list(n.domainNames)}`,
    );
  }
  if (n.sharedIPs.length > 0) out.push(`warning: addresses claimed by several pods (the first by namespace/name keys the rules): ${list(n.sharedIPs)}`);
  return out;
}
