/**
 * One resource kept current from the API server: list, then watch from the list's resourceVersion,
 * again and again (the reflector of client-go's informers). Every list+watch of netpol goes through
 * this class: `netpol watch`, the agent and the server's live source.
 *
 * - LIST is paginated; its items are converted as pages arrive (100,000 raw pods would hold gigabytes)
 *   into a list of their own, which replaces the copy in one step when the list is complete: a list
 *   in progress, or one that fails halfway, changes nothing. The changes it brings are handed on as
 *   changes (none on the first list).
 * - WATCH asks for bookmarks (they keep the resourceVersion fresh while nothing changes) and for a
 *   server-side timeout drawn from [t, 2t) (default t = 240 s), so that many clients do not reconnect
 *   at once; when it ends it is resumed from the last resourceVersion seen.
 * - 410 Gone (the server no longer has the history from that version): list again at once.
 * - Any other failure (API server or etcd down, network cut, 5xx, 403): retried with exponential
 *   backoff and jitter, from `backoff.firstMs` doubling to `backoff.maxMs`. The copy is kept meanwhile,
 *   never emptied. A resource whose CRD is not installed (404 on the list) has no objects; with
 *   `absentRecheckMs` it is listed again after that long, so a CRD installed later is picked up.
 *
 * An object whose converted form did not change (a pod's status conditions, a Node's heartbeat) keeps
 * its converted object and raises no change; objects keep their place in the copy, so consumers that
 * compare by identity and order (the node compiler) pay only for real changes.
 */
import type { Diagnostic } from '../diag/index.js';
import { KubeApiError, type KubeClient, type Resource, type WatchEvent } from './client.js';
import { objectKey, resourceVersionOf, type Converted } from './convert.js';

/** Why a watch was started again. */
export type WatchRestartReason = 'timeout' | 'gone' | 'error';

export interface Backoff {
  readonly firstMs: number;
  readonly maxMs: number;
}

/** `netpol watch`'s default: 0.5 s doubling to 30 s. */
export const DEFAULT_BACKOFF: Backoff = { firstMs: 500, maxMs: 30_000 };

export interface ReflectorOptions<T> {
  readonly resource: Resource;
  readonly convert: (o: unknown) => Converted<T>;
  readonly namespace?: string;
  readonly fieldSelector?: string;
  readonly pageSize?: number;
  /** The watch's server-side timeout is drawn from [this, 2 × this) seconds (default 240). */
  readonly watchTimeoutSeconds?: number;
  /** A list page that receives nothing for this long fails (default 60 s). */
  readonly requestTimeoutMs?: number;
  readonly backoff?: Backoff;
  /** A 404 on the list means "no such resource" (a CRD not installed): listed, empty. */
  readonly mayBeAbsent?: boolean;
  /**
   * A 403 on the list means the account may not read the resource: listed, empty, and said through
   * `onForbidden` (for an analysis that reads it when it can; never for an enforcer, which must not take
   * an unreadable resource for an empty one). Looked for again like an absent one.
   */
  readonly mayBeForbidden?: boolean;
  /** For such a resource: how long before looking for it again (default: never). */
  readonly absentRecheckMs?: number;
}

export interface ReflectorHandlers<T> {
  /** A list has replaced the copy (the changes it brought came first). */
  readonly onList: () => void;
  /** The copy changed (both values undefined: only the diagnostics of an object left out changed). */
  readonly onChange: (key: string, old: T | undefined, current: T | undefined, resourceVersion: string | undefined) => void;
  /** A failure; it is retried after `retryInMs`. */
  readonly onError: (e: Error, retryInMs: number) => void;
  /** The watch is up (after a list, or again after failures). */
  readonly onWatching?: () => void;
  /** The watch ended or restarted. */
  readonly onWatchRestart?: (reason: WatchRestartReason) => void;
  /** With `mayBeForbidden`: the list was refused (403), and the resource counts as empty. Once per refusal after a readable list. */
  readonly onForbidden?: (e: Error) => void;
}

interface Entry<T> {
  readonly value?: T;
  readonly resourceVersion: string;
  readonly diagnostics: readonly Diagnostic[];
}

export class Reflector<T> {
  readonly store = new Map<string, Entry<T>>();
  /** Bumped on every change of the copy. */
  version = 0;
  /** A complete list has arrived. */
  listed = false;
  /** The watch is up. */
  watching = false;
  /** The resource does not exist on the server (its CRD is not installed), or may not be read (`mayBeForbidden`). */
  absent = false;
  /** The last list was refused (with `mayBeForbidden`). */
  private forbidden = false;
  /** Watches or lists started again after a failure or expiry, and relists after 410 Gone. */
  restarts = 0;
  relists = 0;
  private resourceVersion = '';
  private stopped = false;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private cachedValues: { version: number; values: T[] } | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: ReflectorOptions<T>,
    private readonly handlers: ReflectorHandlers<T>,
  ) {}

  get resource(): Resource {
    return this.opts.resource;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.loop;
  }

  /** Every value in the copy, in the copy's order; the same array while nothing changed. */
  values(): T[] {
    if (this.cachedValues?.version === this.version) return this.cachedValues.values;
    const values: T[] = [];
    for (const e of this.store.values()) if (e.value !== undefined) values.push(e.value);
    this.cachedValues = { version: this.version, values };
    return values;
  }

  diagnostics(): Diagnostic[] {
    const out: Diagnostic[] = [];
    for (const e of this.store.values()) for (const d of e.diagnostics) out.push(d);
    return out;
  }

  /** Keys of objects the server holds that could not be converted (an error, not a left-out object). */
  unread(): string[] {
    const out: string[] = [];
    for (const [key, e] of this.store) if (e.value === undefined && e.diagnostics.some((d) => d.severity === 'error')) out.push(key);
    return out;
  }

  private async run(): Promise<void> {
    const backoff = this.opts.backoff ?? DEFAULT_BACKOFF;
    let delay = backoff.firstMs;
    let needList = true;
    const signal = this.abort.signal;
    while (!this.stopped) {
      try {
        if (needList) {
          const found = await this.relist();
          needList = false;
          if (!found) {
            // No such resource: nothing to watch. Look again later (a CRD installed since), or never.
            delay = backoff.firstMs;
            if (this.opts.absentRecheckMs === undefined) return;
            needList = true;
            await sleep(this.opts.absentRecheckMs, signal);
            continue;
          }
        }
        const min = this.opts.watchTimeoutSeconds ?? 240;
        const timeoutSeconds = min + Math.floor(Math.random() * min);
        await this.client.watch(
          this.opts.resource,
          {
            resourceVersion: this.resourceVersion,
            signal,
            timeoutSeconds,
            ...(this.opts.namespace !== undefined ? { namespace: this.opts.namespace } : {}),
            ...(this.opts.fieldSelector !== undefined ? { fieldSelector: this.opts.fieldSelector } : {}),
            // Up once the API server has accepted the watch, not when it is asked for: a retry against
            // a server still unreachable is not a recovery.
            onOpen: () => {
              this.watching = true;
              delay = backoff.firstMs;
              this.handlers.onWatching?.();
            },
          },
          (e) => this.onEvent(e),
        );
        this.watching = false;
        if (!this.stopped) this.handlers.onWatchRestart?.('timeout');
      } catch (e) {
        this.watching = false;
        if (this.stopped) break;
        this.restarts++;
        if (e instanceof KubeApiError && (e.status === 410 || e.reason === 'Expired' || e.reason === 'Gone')) {
          // "The requested watch operations fail because the historical version of that resource is
          // not available": list again (API concepts, Efficient detection of changes).
          this.relists++;
          needList = true;
          this.handlers.onWatchRestart?.('gone');
          continue;
        }
        this.handlers.onWatchRestart?.('error');
        const wait = Math.round(delay * (0.8 + 0.4 * Math.random()));
        this.handlers.onError(e instanceof Error ? e : new Error(String(e)), wait);
        await sleep(wait, signal);
        delay = Math.min(backoff.maxMs, delay * 2);
      }
    }
  }

  /** Lists, then replaces the copy with the list in one step. False when the resource does not exist. */
  private async relist(): Promise<boolean> {
    let items = new Map<string, unknown>();
    let result;
    try {
      result = await this.client.listEach(
        this.opts.resource,
        {
          signal: this.abort.signal,
          ...(this.opts.requestTimeoutMs !== undefined ? { idleMs: this.opts.requestTimeoutMs } : {}),
          ...(this.opts.namespace !== undefined ? { namespace: this.opts.namespace } : {}),
          ...(this.opts.fieldSelector !== undefined ? { fieldSelector: this.opts.fieldSelector } : {}),
          ...(this.opts.pageSize !== undefined ? { limit: this.opts.pageSize } : {}),
          onRestart: () => (items = new Map()),
        },
        (o) => {
          const key = objectKey(o);
          if (key === undefined) return;
          // Converted as each page arrives (unless unchanged): the list holds converted objects only.
          items.set(key, this.entryFor(key, o));
        },
      );
    } catch (e) {
      const forbidden = this.opts.mayBeForbidden === true && e instanceof KubeApiError && e.status === 403;
      if (!forbidden && !(this.opts.mayBeAbsent && e instanceof KubeApiError && e.status === 404)) throw e;
      // "The server could not find the requested resource": its CRD is not installed, so none exist.
      // Or the account may not read it, and the caller said to go on without it.
      if (forbidden && !this.forbidden) this.handlers.onForbidden?.(e);
      this.forbidden = forbidden;
      this.absent = true;
      this.replace(new Map());
      this.resourceVersion = '';
      this.listed = true;
      this.handlers.onList();
      return false;
    }
    this.absent = false;
    this.forbidden = false;
    this.replace(items as Map<string, Entry<T>>);
    this.resourceVersion = result.resourceVersion;
    this.listed = true;
    this.handlers.onList();
    return true;
  }

  /** The copy becomes `next`: changed and removed objects keep their place, new ones come last. */
  private replace(next: ReadonlyMap<string, Entry<T>>): void {
    for (const key of [...this.store.keys()]) if (!next.has(key)) this.remove(key, undefined);
    for (const [key, entry] of next) this.set(key, entry);
  }

  private onEvent(e: WatchEvent): void {
    const rv = resourceVersionOf(e.object);
    if (e.type !== 'BOOKMARK') {
      const key = objectKey(e.object);
      if (key !== undefined) {
        if (e.type === 'DELETED') this.remove(key, rv);
        else this.set(key, this.entryFor(key, e.object));
      }
    }
    if (rv) this.resourceVersion = rv;
  }

  /** The object as an entry; the current entry when the resourceVersion did not change. */
  private entryFor(key: string, o: unknown): Entry<T> {
    const rv = resourceVersionOf(o) ?? '';
    const old = this.store.get(key);
    if (old && old.resourceVersion === rv && rv !== '') return old;
    const c = this.opts.convert(o);
    return { ...(c.value !== undefined ? { value: c.value } : {}), resourceVersion: rv, diagnostics: c.diagnostics };
  }

  private set(key: string, entry: Entry<T>): void {
    const old = this.store.get(key);
    if (old === entry) return;
    if (old && sameContent(old, entry)) {
      // The same converted object under a new resourceVersion: nothing a consumer sees changed.
      this.store.set(key, { ...old, resourceVersion: entry.resourceVersion });
      return;
    }
    this.store.set(key, entry);
    this.version++;
    this.handlers.onChange(key, old?.value, entry.value, entry.resourceVersion || undefined);
  }

  private remove(key: string, rv: string | undefined): void {
    const old = this.store.get(key);
    if (!old) return;
    this.store.delete(key);
    this.version++;
    this.handlers.onChange(key, old.value, undefined, rv);
  }
}

/** Same converted value and diagnostics (converted objects are small plain data). */
function sameContent<T>(a: Entry<T>, b: Entry<T>): boolean {
  return JSON.stringify([a.value, a.diagnostics]) === JSON.stringify([b.value, b.diagnostics]);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
