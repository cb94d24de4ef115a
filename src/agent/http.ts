/**
 * The agent's HTTP endpoint (`--listen ADDR`): `/healthz` (the process serves requests), `/readyz` (the
 * first ruleset is in the kernel: before that the node enforces nothing of ours), `/metrics` (Prometheus
 * text format). GET and HEAD only; nothing else is served, and nothing from the cluster is echoed except
 * as escaped label values.
 */
import { createServer, type Server } from 'node:http';
import { renderFamilies, type Family } from './metrics.js';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** `HOST:PORT`, `[V6]:PORT` or `:PORT` (all addresses); undefined when the text is none of these. */
export function parseListen(text: string): Endpoint | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] ?? (m[2] === '' ? '::' : m[2]!);
  return { host, port };
}

export interface AgentServerHooks {
  ready(): boolean;
  /** The families to expose, gathered at scrape time. */
  metrics(): Promise<readonly Family[]>;
}

export interface AgentServer {
  /** The address actually bound (port 0 asks for any free port). */
  readonly address: Endpoint;
  close(): Promise<void>;
}

export async function startAgentServer(at: Endpoint, hooks: AgentServerHooks): Promise<AgentServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    if (path === '/healthz') return send(200, 'ok\n');
    if (path === '/readyz') return hooks.ready() ? send(200, 'ok\n') : send(503, 'the first ruleset is not applied yet\n');
    if (path === '/metrics') {
      hooks.metrics().then(
        (families) => send(200, renderFamilies(families), 'text/plain; version=0.0.4; charset=utf-8'),
        (e: unknown) => send(500, `metrics unavailable: ${(e as Error).message}\n`),
      );
      return;
    }
    send(404, 'not found: try /healthz, /readyz or /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => resolve());
  });
  const a = server.address();
  const address = a && typeof a === 'object' ? { host: a.address, port: a.port } : at;
  return {
    address,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
