/**
 * A small read-mostly Kubernetes API client: paginated lists and watches of raw JSON.
 *
 * Design choice: kubeconfig handling and authentication come from @kubernetes/client-node
 * (`KubeConfig.applyToHTTPSOptions`: TLS material, bearer tokens, exec and OIDC plugins, proxies);
 * the transport is node:https with the JSON kept as JSON. The generated typed client would convert
 * every object through its serializer (dates, renamed fields), which at 100,000 pods costs more than
 * the analysis, and we read a handful of fields only. Lists are paginated (`limit` + `continue`, as
 * kubectl does with `--chunk-size`), so no response holds the whole cluster; watches are newline-
 * delimited JSON events read as they arrive.
 *
 * Errors are values a user can act on: `KubeApiError` (the API server answered no: Forbidden,
 * Unauthorized, Gone, ...) and `KubeUnreachableError` (nothing usable answered).
 */
import { Agent as HttpAgent, request as httpRequest, type Agent, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { ResolvedConfig } from './config.js';

/** A resource netpol reads: where it lives in the API and how kubectl names it in messages. */
export interface Resource {
  /** `/api/v1` or `/apis/networking.k8s.io/v1`. */
  readonly prefix: string;
  /** Plural, as in the URL and in RBAC rules (`pods`). */
  readonly plural: string;
  readonly namespaced: boolean;
}

export const NAMESPACES: Resource = { prefix: '/api/v1', plural: 'namespaces', namespaced: false };
export const PODS: Resource = { prefix: '/api/v1', plural: 'pods', namespaced: true };
export const NETWORK_POLICIES: Resource = { prefix: '/apis/networking.k8s.io/v1', plural: 'networkpolicies', namespaced: true };
export const NODES: Resource = { prefix: '/api/v1', plural: 'nodes', namespaced: false };
export const SERVICES: Resource = { prefix: '/api/v1', plural: 'services', namespaced: true };
/** The cluster-scoped policy kinds (custom resources of kubernetes-sigs/network-policy-api), with their kind. */
export const CLUSTER_POLICY_RESOURCES: readonly (Resource & { readonly kind: 'ClusterNetworkPolicy' | 'AdminNetworkPolicy' | 'BaselineAdminNetworkPolicy' })[] = [
  { prefix: '/apis/policy.networking.k8s.io/v1alpha2', plural: 'clusternetworkpolicies', namespaced: false, kind: 'ClusterNetworkPolicy' },
  { prefix: '/apis/policy.networking.k8s.io/v1alpha1', plural: 'adminnetworkpolicies', namespaced: false, kind: 'AdminNetworkPolicy' },
  { prefix: '/apis/policy.networking.k8s.io/v1alpha1', plural: 'baselineadminnetworkpolicies', namespaced: false, kind: 'BaselineAdminNetworkPolicy' },
];

export function resourcePath(r: Resource, namespace?: string, name?: string): string {
  const ns = r.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${r.prefix}${ns}/${r.plural}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
}

/** What was being done when an error happened, for the message. */
export interface Action {
  readonly verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';
  readonly resource: Resource;
  /** Undefined: cluster-wide (or a cluster-scoped resource). */
  readonly namespace?: string;
  readonly name?: string;
}

/** The API server answered with an error status. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    /** The Status object's `reason` (`Forbidden`, `Unauthorized`, `Expired`, `Gone`, `NotFound`, ...). */
    readonly reason: string,
    readonly serverMessage: string,
    readonly action: Action,
  ) {
    super(describeApiError(status, reason, serverMessage, action));
  }
}

/** No usable answer: connection refused, DNS, TLS, timeout, not an API server. */
export class KubeUnreachableError extends Error {}

function scopeText(a: Action): string {
  if (!a.resource.namespaced) return '';
  return a.namespace === undefined ? ' cluster-wide (all namespaces)' : ` in namespace ${a.namespace}`;
}

function describeApiError(status: number, reason: string, serverMessage: string, a: Action): string {
  const what = a.name !== undefined ? `${a.verb} ${a.resource.plural} ${a.name}` : `${a.verb} ${a.resource.plural}`;
  if (status === 403) return `your account cannot ${what}${scopeText(a)} (Forbidden: ${serverMessage})`;
  if (status === 401) return `the API server did not accept your credentials (Unauthorized) when trying to ${what}${scopeText(a)}`;
  return `the API server refused to ${what}${scopeText(a)}: ${serverMessage || reason || `HTTP ${status}`}`;
}

export interface ListOptions {
  readonly namespace?: string;
  /** Page size (default 500, kubectl's --chunk-size). */
  readonly limit?: number;
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
  /** After each page: items so far and the server's estimate of the total (when it gives one). */
  readonly onPage?: (done: number, total: number | undefined) => void;
  /** Aborting ends the list with a KubeUnreachableError. */
  readonly signal?: AbortSignal;
  /** A page request that receives nothing for this long fails (default 60 s). */
  readonly idleMs?: number;
}

export interface ListResult {
  readonly items: unknown[];
  readonly resourceVersion: string;
}

export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: Record<string, unknown>;
}

export interface WatchOptions {
  readonly namespace?: string;
  readonly resourceVersion: string;
  readonly fieldSelector?: string;
  /** Server-side timeout of the watch (it ends cleanly after it); default 300 s. */
  readonly timeoutSeconds?: number;
  readonly signal?: AbortSignal;
  /** The API server accepted the watch (its response has started): the connection is up. */
  readonly onOpen?: () => void;
}

type Rec = Record<string, unknown>;

export class KubeClient {
  private agent: Agent | undefined;

  constructor(readonly config: ResolvedConfig) {}

  get server(): string {
    return this.config.server;
  }

  /** One request; the parsed JSON body on 2xx, a KubeApiError otherwise. */
  async request(method: string, path: string, action: Action, body?: unknown, contentType = 'application/json'): Promise<Rec> {
    const res = await this.send(method, path, body === undefined ? undefined : { text: JSON.stringify(body), contentType });
    const text = await readBody(res);
    if (res.statusCode === undefined || res.statusCode >= 300) throw apiError(res.statusCode ?? 0, text, action);
    return parseJSON(text, this.server);
  }

  /**
   * A GET whose body is not Kubernetes JSON (a pod's answer through the pod proxy): the status and the
   * text, at most `maxBytes` of it (a larger body rejects).
   */
  async getText(path: string, maxBytes: number, signal?: AbortSignal): Promise<{ status: number; text: string }> {
    const res = await this.send('GET', path, undefined, signal);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        res.destroy();
        throw new Error(`the answer is larger than ${maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    return { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') };
  }

  /** Every item, page by page; the list's resourceVersion is the one to watch from. */
  async list(resource: Resource, opts: ListOptions = {}): Promise<ListResult> {
    let items: unknown[] = [];
    const { resourceVersion } = await this.listEach(resource, { ...opts, onRestart: () => (items = []) }, (x) => items.push(x));
    return { items, resourceVersion };
  }

  /**
   * Every item handed to `each` as its page arrives, so a caller that converts items keeps no raw page
   * beyond the current one (100,000 raw pods would hold about a gigabyte). If the list has to start
   * over, `onRestart` is called first and the items come again.
   */
  async listEach(resource: Resource, opts: ListOptions & { readonly onRestart?: () => void }, each: (item: unknown) => void): Promise<{ count: number; resourceVersion: string }> {
    const action: Action = { verb: 'list', resource, ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}) };
    const base = resourcePath(resource, opts.namespace);
    for (let attempt = 0; ; attempt++) {
      let count = 0;
      let token: string | undefined;
      let resourceVersion = '';
      try {
        do {
          const q = new URLSearchParams({ limit: String(opts.limit ?? 500) });
          if (token) q.set('continue', token);
          if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
          if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
          const res = await this.send('GET', `${base}?${q}`, undefined, opts.signal, opts.idleMs);
          const text = await readBody(res);
          if (res.statusCode === undefined || res.statusCode >= 300) throw apiError(res.statusCode ?? 0, text, action);
          const page = parseJSON(text, this.server);
          const list = Array.isArray(page.items) ? page.items : [];
          for (const x of list) each(x);
          count += list.length;
          const meta = (page.metadata ?? {}) as Rec;
          token = typeof meta.continue === 'string' && meta.continue !== '' ? meta.continue : undefined;
          resourceVersion = typeof meta.resourceVersion === 'string' ? meta.resourceVersion : resourceVersion;
          const remaining = typeof meta.remainingItemCount === 'number' ? meta.remainingItemCount : undefined;
          opts.onPage?.(count, token === undefined ? count : remaining !== undefined ? count + remaining : undefined);
        } while (token !== undefined);
        return { count, resourceVersion };
      } catch (e) {
        // A continue token expires (410 Gone) when the list takes longer than etcd keeps its revision:
        // start over once, as client-go's pager does, then give up.
        if (e instanceof KubeApiError && e.status === 410 && attempt === 0) {
          opts.onRestart?.();
          continue;
        }
        throw e;
      }
    }
  }

  /**
   * Streams watch events to `onEvent` until the server ends the watch (resolves), the signal aborts
   * (resolves), or something fails (rejects: KubeApiError, KubeUnreachableError). An `ERROR` event is
   * turned into a KubeApiError (410 Gone when the resourceVersion is too old).
   */
  async watch(resource: Resource, opts: WatchOptions, onEvent: (e: WatchEvent) => void): Promise<void> {
    const action: Action = { verb: 'watch', resource, ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}) };
    const timeoutSeconds = opts.timeoutSeconds ?? 300;
    const q = new URLSearchParams({ watch: '1', allowWatchBookmarks: 'true', resourceVersion: opts.resourceVersion, timeoutSeconds: String(timeoutSeconds) });
    if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
    // No byte for much longer than the server's own timeout: the connection is dead (a network cut).
    const res = await this.send('GET', `${resourcePath(resource, opts.namespace)}?${q}`, undefined, opts.signal, (timeoutSeconds + 30) * 1000);
    if (res.statusCode === undefined || res.statusCode >= 300) throw apiError(res.statusCode ?? 0, await readBody(res), action);
    opts.onOpen?.();
    let guard: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve, reject) => {
      let pending = '';
      let failed = false;
      const fail = (e: Error): void => {
        if (failed) return;
        failed = true;
        res.destroy();
        reject(e);
      };
      // The server ends every watch after timeoutSeconds; one that outlives it by 15 s is on a
      // connection that a silent network cut left open (bytes may still trickle: a bound, not an idle timer).
      guard = setTimeout(() => fail(new KubeUnreachableError(`the watch of ${resource.plural} on ${this.server} outlived its timeout: the connection is presumed cut`)), (timeoutSeconds + 15) * 1000);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        let nl: number;
        while (!failed && (nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line.trim() === '') continue;
          let event: WatchEvent;
          try {
            event = JSON.parse(line) as WatchEvent;
          } catch {
            fail(new KubeUnreachableError(`the API server at ${this.server} sent a watch event that is not JSON`));
            return;
          }
          if (event.type === 'ERROR') {
            const s = event.object ?? {};
            fail(new KubeApiError(typeof s.code === 'number' ? s.code : 500, String(s.reason ?? ''), String(s.message ?? ''), action));
            return;
          }
          try {
            onEvent(event);
          } catch (e) {
            fail(e as Error);
            return;
          }
        }
      });
      res.on('end', () => {
        if (!failed) resolve();
      });
      res.on('error', (e) => (opts.signal?.aborted ? resolve() : fail(unreachable(this.server, e))));
      res.on('aborted', () => (opts.signal?.aborted ? resolve() : fail(new KubeUnreachableError(`the watch connection to ${this.server} was cut`))));
      opts.signal?.addEventListener('abort', () => {
        failed = true;
        res.destroy();
        resolve();
      });
    }).finally(() => clearTimeout(guard));
  }

  private async send(method: string, path: string, body?: { text: string; contentType: string }, signal?: AbortSignal, idleMs = 60_000): Promise<IncomingMessage> {
    const options: RequestOptions = {};
    try {
      await this.config.kc.applyToHTTPSOptions(options);
    } catch (e) {
      throw new KubeUnreachableError(`cannot authenticate to ${this.server}: ${(e as Error).message}`);
    }
    // One agent for the client, kept alive, so pages of a list and bulk writes reuse connections
    // instead of a TLS handshake per request (client-node makes a fresh agent, without keep-alive).
    this.agent ??= keepAlive(options.agent);
    const url = new URL(this.server.replace(/\/+$/, '') + path);
    const headers: Record<string, string | string[] | number> = { ...(options.headers as Record<string, string>), Accept: 'application/json' };
    if (body) {
      headers['Content-Type'] = body.contentType;
      headers['Content-Length'] = Buffer.byteLength(body.text);
    }
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return await new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(url, { ...options, agent: this.agent ?? options.agent, method, headers, ...(signal ? { signal } : {}) }, (res) => {
        if (res.statusCode === 401) this.agent = undefined;
        resolve(res);
      });
      req.setTimeout(idleMs, () => req.destroy(new KubeUnreachableError(`no answer from ${this.server} within ${Math.round(idleMs / 1000)} s`)));
      req.on('error', (e) => reject(e instanceof KubeUnreachableError ? e : unreachable(this.server, e)));
      if (body) req.write(body.text);
      req.end();
    }).catch((e: unknown) => {
      if (signal?.aborted) throw new KubeUnreachableError('aborted');
      throw e instanceof Error ? e : new Error(String(e));
    });
  }
}

function keepAlive(agent: unknown): Agent | undefined {
  if (agent instanceof HttpsAgent) return new HttpsAgent({ ...agent.options, keepAlive: true });
  if (agent instanceof HttpAgent) return new HttpAgent({ keepAlive: true });
  return agent as Agent | undefined; // a proxy agent: as client-node made it
}

function unreachable(server: string, e: NodeJS.ErrnoException): KubeUnreachableError {
  const code = e.code ? `${e.code}: ` : '';
  return new KubeUnreachableError(`cannot reach the API server at ${server} (${code}${e.message})`);
}

async function readBody(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += chunk as string;
  return text;
}

function parseJSON(text: string, server: string): Rec {
  try {
    const v = JSON.parse(text) as unknown;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Rec;
  } catch {
    // fall through
  }
  throw new KubeUnreachableError(`${server} did not answer with Kubernetes JSON: is it an API server?`);
}

function apiError(status: number, text: string, action: Action): KubeApiError {
  let parsed: Rec | undefined;
  try {
    parsed = JSON.parse(text) as Rec;
  } catch {
    // Not a Status object (a proxy's HTML page, say): its first words, below.
  }
  const reason = typeof parsed?.reason === 'string' ? parsed.reason : '';
  const message = typeof parsed?.message === 'string' ? parsed.message : text.trim().slice(0, 200);
  return new KubeApiError(status, reason, message, action);
}
