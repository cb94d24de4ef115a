/**
 * The agent's HTTP reach into the API server: one paginated LIST and one streaming WATCH, over node:https.
 * The configuration comes from src/kube (`loadKubeConfig`, kubectl's rules); authentication is
 * `KubeConfig.applyToHTTPSOptions` of @kubernetes/client-node.
 *
 * Why not client-node's `ListWatch` informer: it does not ask for bookmarks, says nothing when a list is
 * complete (the agent must not apply anything before it has complete lists of all three kinds), gives up
 * after an error instead of retrying, and puts no bound on a watch that a silent network cut leaves
 * hanging. The reflector in kube-source.ts does those four things on top of these two requests.
 */
import { request, type RequestOptions } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import type { KubeConfig } from '@kubernetes/client-node';

/** An answer other than 200, or a transport failure (status 0). */
export class KubeError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** The Status object's reason (`Expired`, `Gone`, `Forbidden`, ...) when the server sent one. */
    readonly reason?: string,
  ) {
    super(message);
  }

  /** The resource version asked for is older than the server keeps: list again. */
  get expired(): boolean {
    return this.status === 410 || this.reason === 'Expired' || this.reason === 'Gone';
  }
}

export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string; readonly uid?: string; readonly labels?: Record<string, string>; readonly [k: string]: unknown };
  readonly [k: string]: unknown;
}

export interface KubeList {
  readonly items: KubeObject[];
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
}

export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: KubeObject & { readonly code?: number; readonly reason?: string; readonly message?: string };
}

export interface RequestControl {
  readonly signal?: AbortSignal;
  /** No byte for this long ends the request with an error (a silent network cut). */
  readonly idleMs: number;
}

/** Starts a GET; resolves with the response once its status is 200, rejects with a KubeError otherwise. */
async function get(kc: KubeConfig, path: string, control: RequestControl): Promise<IncomingMessage> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeError('no cluster configured', 0);
  const url = new URL(cluster.server.replace(/\/$/, '') + path);
  const opts: RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'http:' ? httpRequest : request;
    const req = send(url, { ...opts, ...(control.signal ? { signal: control.signal } : {}) }, (res) => {
      if (res.statusCode === 200) return resolve(res);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d.length < 4096 ? d : d.slice(0, 4096)));
      res.on('end', () => reject(statusError(res.statusCode ?? 0, body)));
      res.on('error', (e) => reject(new KubeError(e.message, 0)));
    });
    req.setTimeout(control.idleMs, () => req.destroy(new KubeError(`no answer from ${url.host} for ${control.idleMs} ms`, 0)));
    req.on('error', (e) => reject(e instanceof KubeError ? e : new KubeError(`${url.host}: ${e.message}`, 0)));
    req.end();
  });
}

function statusError(status: number, body: string): KubeError {
  try {
    const s = JSON.parse(body) as { message?: string; reason?: string };
    return new KubeError(s.message ?? `HTTP ${status}`, status, s.reason);
  } catch {
    return new KubeError(`HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`, status);
  }
}

/** LIST `path` page by page (`limit`/`continue`); the items of every page and the list's resourceVersion. */
export async function listAll(kc: KubeConfig, path: string, control: RequestControl & { readonly limit?: number }): Promise<KubeList> {
  const items: KubeObject[] = [];
  let next: string | undefined;
  let resourceVersion: string | undefined;
  do {
    const q = new URLSearchParams({ limit: String(control.limit ?? 500) });
    if (next) q.set('continue', next);
    const res = await get(kc, `${path}?${q}`, control);
    res.setEncoding('utf8');
    let text = '';
    for await (const chunk of res) text += chunk as string;
    const page = JSON.parse(text) as KubeList;
    items.push(...(page.items ?? []));
    resourceVersion = page.metadata?.resourceVersion;
    next = page.metadata?.continue || undefined;
  } while (next);
  return { items, metadata: { ...(resourceVersion ? { resourceVersion } : {}) } };
}

/**
 * WATCH `path` from `resourceVersion` with bookmarks; calls `onEvent` per event and resolves when the
 * stream ends (the server's timeout, a cut, or the signal). A stream that ends with an error rejects.
 */
export async function watch(
  kc: KubeConfig,
  path: string,
  resourceVersion: string,
  timeoutSeconds: number,
  control: RequestControl,
  onEvent: (e: WatchEvent) => void,
): Promise<void> {
  const q = new URLSearchParams({ watch: '1', resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: String(timeoutSeconds) });
  const res = await get(kc, `${path}?${q}`, control);
  // An idle watch carries no bytes until the next change or bookmark: only the server's own timeout,
  // plus a margin, bounds it (the request's idle timer is for the headers).
  res.socket.setTimeout(0);
  const guard = setTimeout(() => res.destroy(new KubeError(`watch ${path} outlived its timeout: the connection is presumed cut`, 0)), (timeoutSeconds + 15) * 1000);
  try {
    const lines = createInterface({ input: res, crlfDelay: Infinity });
    const failed = new Promise<never>((_, reject) => res.on('error', (e) => reject(e instanceof KubeError ? e : new KubeError(e.message, 0))));
    failed.catch(() => undefined);
    await Promise.race([
      (async () => {
        for await (const line of lines) {
          if (line.trim() === '') continue;
          onEvent(JSON.parse(line) as WatchEvent);
        }
      })(),
      failed,
    ]);
    if (res.errored) throw res.errored instanceof KubeError ? res.errored : new KubeError(res.errored.message, 0);
  } finally {
    clearTimeout(guard);
    res.destroy();
  }
}
