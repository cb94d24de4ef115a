/**
 * The agent's HTTP endpoint (`--listen ADDR`): `/healthz` (the process serves requests), `/readyz` (the
 * first ruleset is in the kernel: before that the node enforces nothing of ours), `/metrics` (Prometheus
 * text format), `/drops` (the drop log as JSON, `?since=SEQ` for the events after SEQ; only with
 * `--log-denied` or once a policy is staged). GET and HEAD only; nothing else is served, and nothing from the cluster is echoed
 * except as escaped label values or JSON strings.
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
  /** The drop log after sequence number `since` (as JSON); absent, or undefined, while the agent reads no drop log. */
  drops?(since: number): unknown;
}

export interface AgentServer {
  /** The address actually bound (port 0 asks for any free port). */
  readonly address: Endpoint;
  close(): Promise<void>;
}

export async function startAgentServer(at: Endpoint, hooks: AgentServerHooks): Promise<AgentServer> {
  const server: Server = createServer((req, res) => {
    const [path, query = ''] = (req.url ?? '/').split('?', 2);
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
    if (path === '/drops') {
      const none = 'no drop log: start the agent with --log-denied, or stage a policy (netpol.dev/mode: audit)\n';
      if (!hooks.drops) return send(404, none);
      const since = new URLSearchParams(query).get('since') ?? '0';
      if (!/^\d{1,15}$/.test(since)) return send(400, 'since: want a sequence number (the "next" of the previous answer)\n');
      const answer = hooks.drops(Number(since));
      if (answer === undefined) return send(404, none);
      return send(200, `${JSON.stringify(answer)}\n`, 'application/json');
    }
    send(404, 'not found: try /healthz, /readyz, /metrics or /drops\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => resolve());
  });
  const a = server.address();
  const address = a && typeof a === 'object' ? { host: a.address, port: a.port } : at;
  return {
    address,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
