/**
 * The live cluster as a `ClusterSource` (src/model/snapshot.ts): whole snapshots from list + watch
 * (ClusterInformer), for the agent and for anything else that follows a cluster snapshot by snapshot.
 * The agent's reconnect policy is a set of options (src/agent/kube-source.ts); the rules below hold
 * for every user.
 *
 * Fail closed (an enforcer must never see an allow window):
 * - Nothing is delivered until every resource has been listed completely (Namespaces, Pods,
 *   NetworkPolicies, and with `clusterScoped` the cluster-scoped policy kinds and Nodes): a consumer
 *   never sees the pods without the policies. A kind whose CRD is not installed counts as listed,
 *   empty; one the account may not list does not (it is reported and retried).
 * - Losing the API server (or etcd, or the network; a watch answered 410 Gone) delivers nothing: the
 *   last snapshot stays the truth until the watch is back. Losing and regaining it are reported through
 *   `report`, once per outage and resource. A relist replaces a resource's objects in one step, and
 *   the differences it found arrive as one more snapshot.
 * - An object the API server holds that netpol cannot decode, or finds invalid, is not known to be
 *   absent: leaving it out could open the pods it isolates. Such a snapshot is marked `incomplete`
 *   (naming the objects), which the agent does not apply.
 *
 * One snapshot per burst of changes: changes closer together than `debounceMs` (default: the same turn
 * of the event loop) are folded into one, and deliveries are serialised, never concurrent. Unchanged
 * objects, and lists of a kind that did not change, keep their identity from one snapshot to the next,
 * which consumers that compare by identity (the node compiler) rely on.
 */
import type { Cluster, ClusterSnapshot, ClusterSource } from '../model/index.js';
import type { KubeClient } from './client.js';
import { ClusterInformer, type InformerEvent, type InformerOptions, type ObjectKind } from './informer.js';
import type { WatchRestartReason } from './reflector.js';

/** Losing and regaining the API server (once per outage and resource). */
export interface KubeSourceEvent {
  readonly kind: 'problem' | 'resolved';
  readonly message: string;
}

export interface KubeSourceOptions extends InformerOptions {
  /** Changes closer together than this are delivered as one snapshot (default 0: the next turn of the event loop). */
  readonly debounceMs?: number;
  readonly report?: (e: KubeSourceEvent) => void;
  /** Every failure, with the delay before the retry. */
  readonly onError?: (kind: ObjectKind, e: Error, retryInMs: number) => void;
  readonly onWatchRestart?: (kind: ObjectKind, reason: WatchRestartReason) => void;
  /** Every change, as it arrives (before the snapshot that includes it). */
  readonly onEvent?: (e: InformerEvent) => void;
  /** With `clusterScopedMayBeForbidden`: a cluster-scoped kind the account may not list, taken as empty. */
  readonly onForbidden?: (kind: ObjectKind, resource: string, e: Error) => void;
}

/** Per resource (its plural, as in RBAC rules and metrics labels). */
export interface KubeSourceStats {
  /** Watches or lists started again after a failure or an expired resourceVersion. */
  readonly restarts: Readonly<Record<string, number>>;
  /** Relists after 410 Gone. */
  readonly relists: Readonly<Record<string, number>>;
  /** Every resource's watch is up (a kind without its CRD counts as up). */
  readonly connected: boolean;
  /** Every resource has been listed. */
  readonly synced: boolean;
}

/** Objects named in an `incomplete` reason. */
const NAMED = 5;

export class KubeClusterSource implements ClusterSource {
  private readonly informer: ClusterInformer;
  private generation = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private delivering: Promise<void> = Promise.resolve();
  private stopped = false;
  private onSnapshot: ((s: ClusterSnapshot) => void | Promise<void>) | undefined;
  private last: { version: number; cluster: Cluster } | undefined;
  private readonly trouble = new Map<ObjectKind, string>();
  private firstDelivered: () => void = () => {};
  private readonly first = new Promise<void>((resolve) => (this.firstDelivered = resolve));

  constructor(
    client: KubeClient,
    private readonly opts: KubeSourceOptions = {},
  ) {
    this.informer = new ClusterInformer(client, opts, {
      onSynced: () => this.schedule(),
      onEvent: (e) => this.opts.onEvent?.(e),
      onChange: () => this.schedule(),
      onError: (kind, e, ms) => {
        this.opts.onError?.(kind, e, ms);
        this.lost(kind, e, ms);
      },
      onWatching: (kind) => this.recovered(kind),
      onWatchRestart: (kind, reason) => this.opts.onWatchRestart?.(kind, reason),
      onForbidden: (kind, resource, e) => this.opts.onForbidden?.(kind, resource, e),
    });
  }

  /** Starts listing and watching, and resolves at once; snapshots follow once every resource is listed. */
  async start(onSnapshot: (s: ClusterSnapshot) => void | Promise<void>): Promise<void> {
    this.onSnapshot = onSnapshot;
    this.informer.start();
    await Promise.resolve();
  }

  /** Resolves once the first snapshot has been handled (or the source is stopped before that). */
  firstSnapshot(): Promise<void> {
    return this.first;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.onSnapshot = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.firstDelivered();
    await this.informer.stop();
    await this.delivering;
  }

  stats(): KubeSourceStats {
    const all = [...this.informer.reflectors.values()];
    const per = (f: (r: (typeof all)[number]) => number) => Object.fromEntries(all.map((r) => [r.resource.plural, f(r)]));
    return {
      restarts: per((r) => r.restarts),
      relists: per((r) => r.relists),
      connected: all.every((r) => r.watching || r.absent),
      synced: this.informer.isSynced,
    };
  }

  private schedule(): void {
    if (this.stopped || this.timer || !this.informer.isSynced) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.delivering = this.delivering.then(() => this.deliver());
    }, this.opts.debounceMs ?? 0);
  }

  private async deliver(): Promise<void> {
    const cb = this.onSnapshot;
    if (!cb || this.stopped) return;
    const version = this.informer.version;
    if (this.last?.version === version) return;
    const cluster = this.informer.cluster();
    this.last = { version, cluster };
    this.generation++;
    const unread = this.informer.unread();
    const incomplete = unread.length > 0 ? `cannot decode ${unread.slice(0, NAMED).join(', ')}${unread.length > NAMED ? ` and ${unread.length - NAMED} more` : ''}` : undefined;
    try {
      await cb({ cluster, diagnostics: this.informer.diagnostics(), generation: this.generation, ...(incomplete ? { incomplete } : {}) });
    } catch {
      // The consumer reports its own failures; the next change is delivered regardless.
    } finally {
      this.firstDelivered();
    }
  }

  private lost(kind: ObjectKind, e: Error, delay: number): void {
    if (this.trouble.has(kind)) return;
    this.trouble.set(kind, e.message);
    const what = this.informer.isSynced ? 'keeping the rules last applied' : 'nothing is applied until every kind is listed';
    this.opts.report?.({
      kind: 'problem',
      message: `lost the API server (${this.informer.reflectors.get(kind)?.resource.plural ?? kind}): ${e.message}; ${what}; retrying from ${Math.round(delay)} ms`,
    });
  }

  private recovered(kind: ObjectKind): void {
    if (!this.trouble.delete(kind)) return;
    this.opts.report?.({ kind: 'resolved', message: `API server reachable again (${this.informer.reflectors.get(kind)?.resource.plural ?? kind}); watching from where it was` });
  }
}
