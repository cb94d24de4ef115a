/**
 * The HTTP side of `netpol serve`: the JSON API (docs/api.md) and the page's static files, with
 * node:http and nothing else.
 *
 * Security: loopback by default; requests whose Host is not the server's own are refused (a web page
 * elsewhere cannot use DNS rebinding to read the API); POST bodies must be JSON (a cross-site form
 * cannot send one without a preflight, which is never granted) and are bounded; every response carries
 * a Content-Security-Policy with no inline scripts or styles and nothing from elsewhere. Names, labels
 * and annotations only ever leave as JSON strings: the page renders them as text.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Probe } from '../engine/index.js';
import { loadCluster } from '../load/index.js';
import { validateCluster } from '../validate/index.js';
import { parseProbes } from '../cli/matrix.js';
import { parsePort, parseProtocol } from '../cli/resolve.js';
import { UsageError } from '../cli/io.js';
import { safeJson } from '../cli/render/escape.js';
import { MAX_EDITS, type Edit } from './edits.js';
import type { Workspace } from './workspace.js';

export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

/** The built page: dist/web beside dist/src (installed package), or dist/web of the checkout (tsx). */
export function defaultAssetsDir(): string {
  for (const rel of ['../../web/', '../../dist/web/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    try {
      if (readdirSync(dir).includes('index.html')) return dir;
    } catch {
      // not this layout
    }
  }
  throw new Error('the web page is not built (run npm run build)');
}

export interface AppOptions {
  /** The current workspace (it changes when a live source sends a new snapshot). */
  readonly workspace: () => Workspace;
  readonly description: string;
  readonly assetsDir: string;
  /** Host header values accepted (`127.0.0.1:8080`); undefined accepts any (a non-loopback address was asked for). */
  readonly hosts: () => readonly string[] | undefined;
  /** Registers a listener for the server's events (first a `hello`); returns the unregister function. */
  readonly subscribe?: (listener: (event: ServerEvent) => void) => () => void;
  /** The recent drops folded onto the current workspace (src/server/drops.ts); absent without agents. */
  readonly drops?: () => unknown;
}

/**
 * What `/api/v1/events` streams: `hello` on connecting (`{version, live, connection, drops}`), `snapshot`
 * when a live source has a new snapshot (`{version, changes}`), `connection` when its link changes
 * state, `drops` when the agents' recent drops or their states change (what `/api/v1/drops` answers).
 */
export interface ServerEvent {
  readonly name: 'hello' | 'snapshot' | 'connection' | 'drops';
  readonly data: unknown;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function createApp(opts: AppOptions): Server {
  const assets = new Map<string, Buffer>();
  for (const name of readdirSync(opts.assetsDir)) assets.set(name, readFileSync(join(opts.assetsDir, name)));

  return createServer((req, res) => {
    handle(req, res, opts, assets).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : e instanceof UsageError ? 400 : 500;
      if (status === 500) process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
      send(res, status, 'application/json', `${JSON.stringify({ error: status === 500 ? 'internal error' : (e as Error).message })}\n`);
    });
  });
}

function headers(res: ServerResponse, type: string): void {
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  headers(res, type);
  res.statusCode = status;
  // A refused request may still be sending its body: close the connection rather than read the rest.
  if (status === 413) res.setHeader('Connection', 'close');
  res.end(body);
}

/** JSON as the CLI prints it (safeJson: DEL, C1 and bidi controls escaped too). */
function json(res: ServerResponse, value: unknown, pretty = false): void {
  send(res, 200, 'application/json', `${safeJson(value, pretty ? 2 : undefined)}\n`);
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: AppOptions, assets: ReadonlyMap<string, Buffer>): Promise<void> {
  const hosts = opts.hosts();
  if (hosts && !hosts.includes(req.headers.host ?? '')) throw new HttpError(421, 'this server answers only to its own address');
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  const q = url.searchParams;
  const method = req.method ?? 'GET';

  if (method === 'GET' && !path.startsWith('/api/')) {
    const name = path === '/' ? 'index.html' : path.startsWith('/assets/') ? path.slice('/assets/'.length) : '';
    const body = assets.get(name);
    if (!body || name.includes('/')) throw new HttpError(404, 'not found');
    send(res, 200, TYPES[extname(name)] ?? 'application/octet-stream', body);
    return;
  }

  const ws = opts.workspace();
  const route = `${method} ${path}`;
  switch (route) {
    case 'GET /api/v1/cluster':
      return send(res, 200, 'application/json', ws.summaryJson(opts.description));
    case 'GET /api/v1/reach': {
      const [probe] = probesOf(q.get('port') ?? undefined, q.get('protocol') ?? undefined);
      const reach = ws.reach(probe!);
      if (!reach) throw new HttpError(422, 'too many classes of pods for the whole relation; use /api/v1/check');
      return json(res, reach);
    }
    case 'GET /api/v1/external': {
      const [probe] = probesOf(q.get('port') ?? undefined, q.get('protocol') ?? undefined);
      const external = ws.external(probe!, q.has('namespace') ? q.getAll('namespace') : undefined);
      if (!external) throw new HttpError(422, 'too many classes of pods for the whole relation; use /api/v1/check');
      return json(res, external);
    }
    case 'GET /api/v1/matrix':
      return send(res, 200, 'application/json', ws.matrix(parseProbes(q.getAll('port'), q.getAll('protocol')), q.get('namespace') ?? undefined));
    case 'GET /api/v1/check':
      return json(res, ws.check(checkQuestion(Object.fromEntries(q), ws)).json, true);
    case 'POST /api/v1/check': {
      const body = await readJson(req);
      return json(res, ws.check(checkQuestion(body, ws), editsOf(body.edits)).json, true);
    }
    case 'GET /api/v1/documents':
      return json(res, { documents: ws.documents() });
    case 'POST /api/v1/validate': {
      const body = await readJson(req);
      if (typeof body.text !== 'string') throw new UsageError('text: a string of YAML or JSON');
      const loaded = loadCluster([{ file: typeof body.file === 'string' ? body.file : 'edit.yaml', text: body.text }], { defaultNamespace: ws.defaultNamespace });
      const diagnostics = [...loaded.diagnostics, ...validateCluster(loaded.cluster)].filter((d) => d.severity !== 'info');
      return json(res, { diagnostics }, true);
    }
    case 'POST /api/v1/analyze': {
      const body = await readJson(req);
      const probes = Array.isArray(body.probes) ? body.probes.map((p: unknown) => probeOf(p)) : probesOf(undefined, undefined);
      if (probes.length === 0 || probes.length > 8) throw new UsageError('probes: 1 to 8 of {port, protocol}');
      return json(res, ws.analyze(editsOf(body.edits), probes, externalOf(body.external)));
    }
    case 'GET /api/v1/drops':
      if (!opts.drops) throw new HttpError(404, 'no agents: start serve with --agent URL or --discover-agents');
      return json(res, opts.drops());
    case 'GET /api/v1/events':
      return events(req, res, opts);
    default:
      throw new HttpError(path.startsWith('/api/') && ['GET', 'POST'].includes(method) ? 404 : 405, `no ${route}`);
  }
}

function probesOf(port: string | undefined, protocol: string | undefined): Probe[] {
  return parseProbes(port === undefined ? undefined : [port], protocol === undefined ? undefined : [protocol]);
}

function probeOf(p: unknown): Probe {
  const o = (p ?? {}) as { port?: unknown; protocol?: unknown };
  return { port: parsePort(String(o.port ?? '80')), protocol: parseProtocol(o.protocol === undefined ? undefined : String(o.protocol)) };
}

function checkQuestion(o: Record<string, unknown>, ws: Workspace) {
  const text = (k: string) => (typeof o[k] === 'string' || typeof o[k] === 'number' ? String(o[k]) : undefined);
  const from = text('from');
  const to = text('to');
  if (from === undefined || to === undefined) throw new UsageError('check needs from and to (NS/POD, POD or an IP address)');
  const port = text('port');
  return { from, to, protocol: parseProtocol(text('protocol')), ...(port !== undefined && port !== '' ? { port: parsePort(port) } : {}), namespace: text('namespace') ?? ws.defaultNamespace };
}

function editsOf(v: unknown): Edit[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > MAX_EDITS) throw new UsageError(`edits: a list of at most ${MAX_EDITS} {document, text}`);
  return v.map((e: { document?: unknown; text?: unknown }, i) => {
    if (typeof e?.text !== 'string' || (e.document !== null && typeof e.document !== 'string')) throw new UsageError(`edits[${i}]: {document: string | null, text: string}`);
    return { document: e.document, text: e.text };
  });
}

function externalOf(v: unknown): readonly string[] | 'all' | undefined {
  if (v === undefined || v === 'all') return v;
  if (Array.isArray(v) && v.every((n) => typeof n === 'string')) return v as string[];
  throw new UsageError('external: "all" or a list of namespaces');
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'send application/json');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new HttpError(400, `the body is not a JSON object: ${(e as Error).message}`);
  }
}

/** Server-sent events (ServerEvent), one JSON line of data each; names in it are JSON strings. */
function events(req: IncomingMessage, res: ServerResponse, opts: AppOptions): void {
  headers(res, 'text/event-stream');
  res.statusCode = 200;
  res.write(': netpol\n\n');
  const stop = opts.subscribe?.((e) => res.write(`event: ${e.name}\ndata: ${safeJson(e.data)}\n\n`));
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 25_000);
  req.on('close', () => {
    clearInterval(keepAlive);
    stop?.();
  });
}
