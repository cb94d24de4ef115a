/**
 * List + watch, the informer pattern: a local copy of the cluster's Namespaces, Pods and
 * NetworkPolicies kept current from the API server, and an event per change.
 *
 * One `Reflector` per resource: a paginated list gives every object and a resourceVersion; a watch
 * from that version (with bookmarks, which keep the version fresh while nothing changes) gives every
 * change after it. When the watch ends (the server's timeout) it is resumed from the last version
 * seen; when that version is too old (410 Gone, or an ERROR event saying so) the list is made again
 * and compared with the copy, so the changes missed are delivered as events too. Errors (the API
 * server restarting, a network cut, Forbidden) are reported and retried with exponential backoff
 * (0.5 s doubling to 30 s, with jitter); the copy is kept meanwhile, never emptied.
 *
 * Objects are stored converted (PodInfo, not the API's JSON): 100,000 raw pods would hold gigabytes.
 * `ClusterInformer` joins three reflectors; it reports `synced` once all three lists have arrived,
 * and no event before that.
 */
import type { Diagnostic } from '../diag/index.js';
import type { Cluster, NamespaceInfo, PodInfo, PolicyInfo } from '../model/index.js';
import { validateNetworkPolicy } from '../validate/index.js';
import { KubeApiError, NAMESPACES, NETWORK_POLICIES, PODS, type KubeClient, type Resource, type WatchEvent } from './client.js';
import { objectKey, resourceVersionOf, toNamespace, toPod, toPolicy, UNFINISHED_PODS, type Converted } from './convert.js';
import { assemble } from './read.js';

export type ObjectKind = 'Namespace' | 'Pod' | 'NetworkPolicy';

/** One change of one object, after conversion (a pod that finished is `deleted`). */
export type InformerEvent =
  | { readonly kind: 'Namespace'; readonly key: string; readonly old?: NamespaceInfo; readonly current?: NamespaceInfo; readonly resourceVersion?: string }
  | { readonly kind: 'Pod'; readonly key: string; readonly old?: PodInfo; readonly current?: PodInfo; readonly resourceVersion?: string }
  | { readonly kind: 'NetworkPolicy'; readonly key: string; readonly old?: PolicyInfo; readonly current?: PolicyInfo; readonly resourceVersion?: string };

interface Entry<T> {
  readonly value?: T;
  readonly resourceVersion: string;
  readonly diagnostics: readonly Diagnostic[];
}

export interface ReflectorOptions<T> {
  readonly resource: Resource;
  readonly kind: ObjectKind;
  readonly convert: (o: unknown) => Converted<T>;
  readonly namespace?: string;
  readonly fieldSelector?: string;
  readonly pageSize?: number;
  /** Server-side watch timeout (default 300 s). */
  readonly watchTimeoutSeconds?: number;
}

export interface ReflectorHandlers<T> {
  /** The first list arrived (or a relist replaced the copy; the events of what it changed come first). */
  readonly onList: () => void;
  readonly onChange: (key: string, old: T | undefined, current: T | undefined, resourceVersion: string | undefined) => void;
  /** A failure; it is retried after `retryInMs`. */
  readonly onError: (e: Error, retryInMs: number) => void;
  /** The watch ended or restarted (for metrics: restarts). */
  readonly onWatchRestart?: (reason: 'timeout' | 'gone' | 'error') => void;
}

const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 30_000;

export class Reflector<T> {
  readonly store = new Map<string, Entry<T>>();
  private resourceVersion = '';
  private stopped = false;
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: ReflectorOptions<T>,
    private readonly handlers: ReflectorHandlers<T>,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    await this.loop;
  }

  /** Every value in the copy. */
  values(): T[] {
    const out: T[] = [];
    for (const e of this.store.values()) if (e.value !== undefined) out.push(e.value);
    return out;
  }

  diagnostics(): Diagnostic[] {
    const out: Diagnostic[] = [];
    for (const e of this.store.values()) for (const d of e.diagnostics) out.push(d);
    return out;
  }

  private async run(): Promise<void> {
    let needList = true;
    let backoff = BACKOFF_START_MS;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        await this.client.watch(
          this.opts.resource,
          {
            resourceVersion: this.resourceVersion,
            signal: this.abort.signal,
            ...(this.opts.namespace !== undefined ? { namespace: this.opts.namespace } : {}),
            ...(this.opts.fieldSelector !== undefined ? { fieldSelector: this.opts.fieldSelector } : {}),
            ...(this.opts.watchTimeoutSeconds !== undefined ? { timeoutSeconds: this.opts.watchTimeoutSeconds } : {}),
          },
          (e) => {
            this.onEvent(e);
            backoff = BACKOFF_START_MS;
          },
        );
        if (!this.stopped) this.handlers.onWatchRestart?.('timeout');
      } catch (e) {
        if (this.stopped) break;
        const gone = e instanceof KubeApiError && (e.status === 410 || e.reason === 'Expired' || e.reason === 'Gone');
        if (gone) {
          // "The requested watch operations fail because the historical version of that resource is
          // not available": list again (API concepts, Efficient detection of changes).
          needList = true;
          this.handlers.onWatchRestart?.('gone');
          continue;
        }
        this.handlers.onWatchRestart?.('error');
        const wait = Math.round(backoff * (0.8 + 0.4 * Math.random()));
        this.handlers.onError(e as Error, wait);
        await this.sleep(wait);
        backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Lists, then delivers the differences with the copy as changes (none on the first list). */
  private async relist(): Promise<void> {
    let seen = new Set<string>();
    const list = await this.client.listEach(
      this.opts.resource,
      {
        ...(this.opts.namespace !== undefined ? { namespace: this.opts.namespace } : {}),
        ...(this.opts.fieldSelector !== undefined ? { fieldSelector: this.opts.fieldSelector } : {}),
        ...(this.opts.pageSize !== undefined ? { limit: this.opts.pageSize } : {}),
        onRestart: () => (seen = new Set()),
      },
      // Converted as each page arrives: the copy holds converted objects only.
      (o) => {
        const key = objectKey(o);
        if (key === undefined) return;
        seen.add(key);
        this.put(key, o);
      },
    );
    for (const key of [...this.store.keys()]) if (!seen.has(key)) this.remove(key, undefined);
    this.resourceVersion = list.resourceVersion;
    this.handlers.onList();
  }

  private onEvent(e: WatchEvent): void {
    const rv = resourceVersionOf(e.object);
    if (e.type === 'BOOKMARK') {
      if (rv) this.resourceVersion = rv;
      return;
    }
    const key = objectKey(e.object);
    if (key !== undefined) {
      if (e.type === 'DELETED') this.remove(key, rv);
      else this.put(key, e.object);
    }
    if (rv) this.resourceVersion = rv;
  }

  private put(key: string, o: unknown): void {
    const rv = resourceVersionOf(o) ?? '';
    const old = this.store.get(key);
    if (old && old.resourceVersion === rv && rv !== '') return;
    const c = this.opts.convert(o);
    this.store.set(key, { ...(c.value !== undefined ? { value: c.value } : {}), resourceVersion: rv, diagnostics: c.diagnostics });
    if (old?.value !== undefined || c.value !== undefined) this.handlers.onChange(key, old?.value, c.value, rv);
  }

  private remove(key: string, rv: string | undefined): void {
    const old = this.store.get(key);
    if (!old) return;
    this.store.delete(key);
    if (old.value !== undefined) this.handlers.onChange(key, old.value, undefined, rv);
  }
}

/** A NetworkPolicy the API server's validation would refuse is left out, with the reasons. */
function toValidPolicy(o: unknown): Converted<PolicyInfo> {
  const c = toPolicy(o);
  if (!c.value) return c;
  const object = `NetworkPolicy ${c.value.namespace}/${c.value.name}`;
  const problems = validateNetworkPolicy(c.value.policy).map((d) => ({ ...d, object }));
  if (problems.some((d) => d.severity === 'error')) return { diagnostics: [...c.diagnostics, ...problems] };
  return { value: c.value, diagnostics: [...c.diagnostics, ...problems] };
}

export interface InformerOptions {
  /** One namespace, or undefined for the whole cluster. */
  readonly namespace?: string;
  readonly pageSize?: number;
  readonly watchTimeoutSeconds?: number;
}

export interface InformerHandlers {
  /** All three lists have arrived: the copy is complete. Called once. */
  readonly onSynced: () => void;
  /** One object changed (only after onSynced). */
  readonly onEvent: (e: InformerEvent) => void;
  readonly onError: (kind: ObjectKind, e: Error, retryInMs: number) => void;
  readonly onWatchRestart?: (kind: ObjectKind, reason: 'timeout' | 'gone' | 'error') => void;
}

export class ClusterInformer {
  private readonly namespaces: Reflector<NamespaceInfo>;
  private readonly pods: Reflector<PodInfo>;
  private readonly policies: Reflector<PolicyInfo>;
  private listed = new Set<ObjectKind>();
  private synced = false;
  private readonly scoped: boolean;

  constructor(client: KubeClient, opts: InformerOptions, private readonly handlers: InformerHandlers) {
    this.scoped = opts.namespace !== undefined;
    const common = {
      ...(opts.pageSize !== undefined ? { pageSize: opts.pageSize } : {}),
      ...(opts.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: opts.watchTimeoutSeconds } : {}),
    };
    const scoped = { ...common, ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}) };
    this.namespaces = new Reflector(
      client,
      // In one namespace, only that namespace object (a field selector on its name).
      { ...common, resource: NAMESPACES, kind: 'Namespace', convert: toNamespace, ...(opts.namespace !== undefined ? { fieldSelector: `metadata.name=${opts.namespace}` } : {}) },
      this.handlersFor('Namespace'),
    );
    this.pods = new Reflector(client, { ...scoped, resource: PODS, kind: 'Pod', convert: toPod, fieldSelector: UNFINISHED_PODS }, this.handlersFor('Pod'));
    this.policies = new Reflector(client, { ...scoped, resource: NETWORK_POLICIES, kind: 'NetworkPolicy', convert: toValidPolicy }, this.handlersFor('NetworkPolicy'));
  }

  private handlersFor<T>(kind: ObjectKind): ReflectorHandlers<T> {
    return {
      onList: () => {
        this.listed.add(kind);
        if (!this.synced && this.listed.size === 3) {
          this.synced = true;
          this.handlers.onSynced();
        }
      },
      onChange: (key, old, current, resourceVersion) => {
        if (!this.synced) return;
        this.handlers.onEvent({ kind, key, ...(old !== undefined ? { old } : {}), ...(current !== undefined ? { current } : {}), ...(resourceVersion ? { resourceVersion } : {}) } as InformerEvent);
      },
      onError: (e, ms) => {
        this.handlers.onError(kind, e, ms);
        // In one namespace, an account that may not read the namespace object still gets an analysis
        // (its labels assumed, as readCluster does); the reflector keeps trying.
        if (kind === 'Namespace' && this.scoped && e instanceof KubeApiError && e.status === 403 && !this.listed.has(kind)) this.handlersFor('Namespace').onList();
      },
      onWatchRestart: (reason) => this.handlers.onWatchRestart?.(kind, reason),
    };
  }

  start(): void {
    this.namespaces.start();
    this.pods.start();
    this.policies.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.namespaces.stop(), this.pods.stop(), this.policies.stop()]);
  }

  get isSynced(): boolean {
    return this.synced;
  }

  /** The whole copy as a Cluster (only meaningful once synced). */
  cluster(): Cluster {
    return assemble(this.namespaces.values(), this.pods.values(), this.policies.values());
  }

  diagnostics(): Diagnostic[] {
    return [...this.namespaces.diagnostics(), ...this.pods.diagnostics(), ...this.policies.diagnostics()];
  }
}
