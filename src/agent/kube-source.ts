/**
 * `KubeClusterSource`: the agent's view of a live cluster, from the API server, through the same
 * `ClusterSource` seam as the file source.
 *
 * Requests, kubeconfig and conversion are src/kube's (KubeClient, loadKubeConfig, toPod...); what is
 * the agent's own here is the fail-closed delivery and the reconnect policy its metrics describe.
 *
 * One reflector per kind (Namespaces, Pods, NetworkPolicies): LIST (paginated), then WATCH from the list's
 * resourceVersion with bookmarks (so an idle watch's resourceVersion stays recent), again and again.
 * - 410 Gone / "too old resource version": list again at once; the new list replaces the kind's objects
 *   in one step (a list in progress changes nothing).
 * - Any other failure (API server down, etcd down, network cut, 5xx, 403): retry with exponential
 *   backoff and jitter (250 ms doubling to 3 s), watching again from the last resourceVersion seen. The
 *   cap is low on purpose: an API server that comes back is seen again within about 4 s.
 * - A watch ends after a random 4-8 min (the server's `timeoutSeconds`) and is restarted from where it
 *   was; one that outlives that by 15 s is taken as cut.
 *
 * Fail closed (no allow window): no snapshot is delivered before all three kinds have been listed
 * completely; while a watch is down, nothing is delivered, so the kernel keeps the last applied rules.
 * Losing and regaining the API server are reported (`problem` / `resolved`), once per outage.
 *
 * Objects whose resourceVersion did not change keep their converted object across relists, and the
 * pods keep their order, so the node compiler (which compares by identity) pays only for real changes.
 */
import type { Diagnostic } from '../diag/index.js';
import type { Cluster, NamespaceInfo, PodInfo, PolicyInfo } from '../model/index.js';
import { KubeApiError, KubeClient, NAMESPACES, NETWORK_POLICIES, PODS, toNamespace, toPod, toPolicy, type Converted, type ResolvedConfig, type Resource, type WatchEvent } from '../kube/index.js';
import type { ClusterSnapshot, ClusterSource } from './source.js';

export type KubeKind = 'namespaces' | 'pods' | 'networkpolicies';

const RESOURCES: Record<KubeKind, Resource> = { namespaces: NAMESPACES, pods: PODS, networkpolicies: NETWORK_POLICIES };

type KubeObject = { readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string } };

export interface KubeSourceEvent {
  readonly kind: 'problem' | 'resolved';
  readonly message: string;
}

export interface KubeSourceOptions {
  /** The cluster, as src/kube's `loadKubeConfig` resolved it. */
  readonly kubeConfig: ResolvedConfig;
  /** Losing and regaining the API server, once per outage and kind. */
  readonly report?: (e: KubeSourceEvent) => void;
  /** The server-side watch timeout is drawn from [min, 2 min] seconds (default 240). */
  readonly watchTimeoutSeconds?: number;
  /** A request that receives nothing for this long fails (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** First retry delay after a failure (default 250 ms; doubles up to `maxBackoffMs`, default 3 s). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Items per LIST page (default 500). */
  readonly pageSize?: number;
}

export interface KubeSourceStats {
  /** Watches or lists started again after a failure or an expiry, per kind. */
  readonly restarts: Readonly<Record<KubeKind, number>>;
  /** Relists after 410 Gone, per kind. */
  readonly relists: Readonly<Record<KubeKind, number>>;
  /** Every kind has been listed and its watch is up. */
  readonly connected: boolean;
  readonly synced: boolean;
}

interface Entry<T> {
  readonly resourceVersion: string | undefined;
  /** Undefined for an object that contributes nothing (a finished pod, a policy the decoder refuses). */
  readonly value: T | undefined;
  /** What the conversion found wrong with the object (named by `object`); reported by the agent. */
  readonly diagnostics: readonly Diagnostic[];
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

function keyOf(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

class Reflector<T> {
  /** In arrival order; a changed object keeps its place. */
  readonly entries = new Map<string, Entry<T>>();
  synced = false;
  watching = false;
  restarts = 0;
  relists = 0;
  /** Bumped on every change to `entries`. */
  version = 0;
  private resourceVersion = '';
  private trouble: string | undefined;

  constructor(
    readonly kind: KubeKind,
    private readonly convert: (o: KubeObject) => Converted<T>,
    private readonly client: KubeClient,
    private readonly opts: KubeSourceOptions,
    private readonly changed: () => void,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    const first = this.opts.backoffMs ?? 250;
    let delay = first;
    const control = { signal, idleMs: this.opts.requestTimeoutMs ?? 30_000 };
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === '') await this.list(control);
        const min = this.opts.watchTimeoutSeconds ?? 240;
        const timeout = min + Math.floor(Math.random() * min);
        this.watching = true;
        this.recovered();
        delay = first;
        await this.client.watch(RESOURCES[this.kind], { resourceVersion: this.resourceVersion, timeoutSeconds: timeout, signal }, (e) => this.onEvent(e));
      } catch (e) {
        this.watching = false;
        if (signal.aborted) return;
        this.restarts++;
        if (e instanceof KubeApiError && (e.status === 410 || e.reason === 'Expired' || e.reason === 'Gone')) {
          // "410 Gone": the server no longer has the history from our resourceVersion. List again now.
          this.relists++;
          this.resourceVersion = '';
          continue;
        }
        this.lost(e, delay);
        await sleep(delay * (0.8 + Math.random() * 0.4), signal);
        delay = Math.min(delay * 2, this.opts.maxBackoffMs ?? 3_000);
      }
      this.watching = false;
    }
  }

  private async list(control: { signal: AbortSignal; idleMs: number }): Promise<void> {
    const list = await this.client.list(RESOURCES[this.kind], { ...control, ...(this.opts.pageSize ? { limit: this.opts.pageSize } : {}) });
    // The whole list replaces the kind's objects in one step; unchanged objects keep their entries.
    const seen = new Set<string>();
    for (const o of list.items as KubeObject[]) {
      const key = keyOf(o);
      seen.add(key);
      this.put(key, o);
    }
    for (const key of [...this.entries.keys()]) if (!seen.has(key)) this.entries.delete(key);
    this.resourceVersion = list.resourceVersion;
    this.synced = true;
    this.version++;
    this.changed();
  }

  private put(key: string, o: KubeObject): void {
    const rv = o.metadata?.resourceVersion;
    const before = this.entries.get(key);
    if (before && rv !== undefined && before.resourceVersion === rv) return;
    const c = this.convert(o);
    this.entries.set(key, { resourceVersion: rv, value: c.value, diagnostics: c.diagnostics });
  }

  /** (An ERROR event reaches the run loop as a KubeApiError from KubeClient.watch.) */
  private onEvent(e: WatchEvent): void {
    const o = e.object as KubeObject;
    const rv = o.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (e.type === 'BOOKMARK') return;
    const key = keyOf(o);
    if (e.type === 'DELETED') this.entries.delete(key);
    else this.put(key, o);
    this.version++;
    this.changed();
  }

  private lost(e: unknown, delay: number): void {
    const message = e instanceof Error ? e.message : String(e);
    if (this.trouble !== undefined) return;
    this.trouble = message;
    const what = this.synced ? 'keeping the rules last applied' : 'nothing is applied until every kind is listed';
    this.opts.report?.({ kind: 'problem', message: `lost the API server (${this.kind}): ${message}; ${what}; retrying from ${Math.round(delay)} ms` });
  }

  private recovered(): void {
    if (this.trouble === undefined) return;
    this.opts.report?.({ kind: 'resolved', message: `API server reachable again (${this.kind}); watching from where it was` });
    this.trouble = undefined;
  }

  values(): T[] {
    const out: T[] = [];
    for (const e of this.entries.values()) if (e.value !== undefined) out.push(e.value);
    return out;
  }

  /** Objects the API server holds that could not be converted (an error, not a field netpol ignores). */
  undecodable(): string[] {
    const out: string[] = [];
    for (const [key, e] of this.entries) if (e.value === undefined && e.diagnostics.some((d) => d.severity === 'error')) out.push(key);
    return out;
  }

  diagnostics(): Diagnostic[] {
    const out: Diagnostic[] = [];
    for (const e of this.entries.values()) out.push(...e.diagnostics);
    return out;
  }
}

export class KubeClusterSource implements ClusterSource {
  private readonly namespaces: Reflector<NamespaceInfo>;
  private readonly pods: Reflector<PodInfo>;
  private readonly policies: Reflector<PolicyInfo>;
  private readonly abort = new AbortController();
  private runs: Promise<void>[] = [];
  private generation = 0;
  private last: { cluster: Cluster; versions: readonly number[] } | undefined;
  private onSnapshot: ((s: ClusterSnapshot) => void | Promise<void>) | undefined;
  private scheduled = false;
  private delivering: Promise<void> | undefined;

  constructor(opts: KubeSourceOptions) {
    const changed = () => this.schedule();
    const client = new KubeClient(opts.kubeConfig);
    // src/kube's conversion, the loader's rules: a policy its strict decoder refuses is left out and
    // reported (as `problem` events), never enforced half-read.
    this.namespaces = new Reflector('namespaces', toNamespace, client, opts, changed);
    this.pods = new Reflector('pods', toPod, client, opts, changed);
    this.policies = new Reflector('networkpolicies', toPolicy, client, opts, changed);
  }

  /** Starts listing and watching; snapshots follow once all three kinds are listed. Resolves at once. */
  async start(onSnapshot: (s: ClusterSnapshot) => void | Promise<void>): Promise<void> {
    this.onSnapshot = onSnapshot;
    this.runs = [this.namespaces, this.pods, this.policies].map((r) => r.run(this.abort.signal));
    await Promise.resolve();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.onSnapshot = undefined;
    await Promise.all(this.runs);
    await this.delivering;
  }

  stats(): KubeSourceStats {
    const all = [this.namespaces, this.pods, this.policies];
    const per = (f: (r: Reflector<unknown>) => number) => Object.fromEntries(all.map((r) => [r.kind, f(r as Reflector<unknown>)])) as Record<KubeKind, number>;
    return { restarts: per((r) => r.restarts), relists: per((r) => r.relists), connected: all.every((r) => r.watching), synced: all.every((r) => r.synced) };
  }

  /** Coalesces the changes of one turn of the event loop (a list's items, a burst of events) into one snapshot. */
  private schedule(): void {
    if (this.scheduled || this.abort.signal.aborted) return;
    this.scheduled = true;
    setImmediate(() => {
      const previous = this.delivering ?? Promise.resolve();
      this.delivering = previous.then(() => this.deliver());
    });
  }

  private async deliver(): Promise<void> {
    this.scheduled = false;
    const cb = this.onSnapshot;
    // Fail closed: until every kind is listed, a snapshot would lack objects (an allow window).
    if (!cb || !this.namespaces.synced || !this.pods.synced || !this.policies.synced) return;
    const before = this.last?.cluster;
    const cluster = this.snapshot();
    if (cluster === before) return;
    this.generation++;
    try {
      // Fail closed: a policy (or pod) the API server stored but netpol cannot read is not known to be
      // absent; leaving it out could open the pods it isolates. The agent keeps its rules until it reads.
      const unread = [...this.pods.undecodable().map((k) => `pod ${k}`), ...this.policies.undecodable().map((k) => `NetworkPolicy ${k}`)];
      const incomplete = unread.length > 0 ? `cannot decode ${unread.slice(0, 5).join(', ')}${unread.length > 5 ? ` and ${unread.length - 5} more` : ''}` : undefined;
      await cb({
        cluster,
        diagnostics: [...this.namespaces.diagnostics(), ...this.pods.diagnostics(), ...this.policies.diagnostics()],
        generation: this.generation,
        ...(incomplete ? { incomplete } : {}),
      });
    } catch {
      // The consumer reports its own failures; the next change is delivered regardless.
    }
  }

  /** The cluster now; parts that did not change since the last snapshot are the same objects. */
  private snapshot(): Cluster {
    const versions = [this.namespaces.version, this.pods.version, this.policies.version];
    const last = this.last;
    if (last && versions.every((v, i) => v === last.versions[i])) return last.cluster;
    const same = (i: number) => last !== undefined && last.versions[i] === versions[i];
    const cluster: Cluster = {
      namespaces: same(0) && last ? last.cluster.namespaces : new Map(this.namespaces.values().map((n) => [n.name, n])),
      pods: same(1) && last ? last.cluster.pods : this.pods.values(),
      policies: same(2) && last ? last.cluster.policies : this.policies.values(),
    };
    this.last = { cluster, versions };
    return cluster;
  }
}
