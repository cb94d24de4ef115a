/**
 * `netpol serve -f PATH... [-R] [--address A] [--port N]`: the web page and its JSON API over the
 * loaded manifests, until SIGINT or SIGTERM. Loopback only unless another address is asked for.
 */
import type { AddressInfo } from 'node:net';
import type { GlobalFlags } from '../cli/args.js';
import { diagnosticLine } from '../cli/input.js';
import { EXIT, UsageError, type IO } from '../cli/io.js';
import { safeText } from '../cli/render/escape.js';
import { parseIP } from '../ip/index.js';
import { createApp, defaultAssetsDir } from './http.js';
import { fileSource, type ClusterSource } from './source.js';
import { Workspace } from './workspace.js';

export const SERVE_OPTIONS = {
  address: { type: 'string' },
  port: { type: 'string' },
} as const;

export interface ServeOptions {
  readonly source: ClusterSource;
  readonly address?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly defaultNamespace?: string;
  readonly assetsDir?: string;
}

export interface RunningServer {
  readonly url: string;
  readonly workspace: () => Workspace;
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** Starts the server; resolves once it listens. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const address = opts.address ?? '127.0.0.1';
  let workspace = new Workspace(await opts.source.read(), opts.defaultNamespace);
  let version = 0;
  const listeners = new Set<(v: number) => void>();
  // A live source: each new snapshot replaces the workspace; the page hears of it and reloads its data.
  const unwatch = opts.source.watch?.(() => {
    void opts.source.read().then((s) => {
      workspace = new Workspace(s, opts.defaultNamespace);
      version++;
      for (const l of listeners) l(version);
    });
  });
  let hosts: string[] | undefined;
  const server = createApp({
    workspace: () => workspace,
    description: opts.source.description,
    assetsDir: opts.assetsDir ?? defaultAssetsDir(),
    hosts: () => hosts,
    onSnapshot: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, address, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shown = address.includes(':') ? `[${address}]` : address;
  if (LOOPBACK.test(address)) hosts = [`${shown}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`];
  return {
    url: `http://${shown}:${port}/`,
    workspace: () => workspace,
    close: () =>
      new Promise<void>((resolve) => {
        unwatch?.();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function serveCommand(flags: GlobalFlags, values: Record<string, unknown>, io: IO): Promise<number> {
  if (flags.filenames.length === 0) throw new UsageError('no input: give one or more -f FILE|DIR');
  if (flags.filenames.includes('-')) throw new UsageError('serve reads files and directories, not stdin');
  const address = (values.address as string | undefined) ?? '127.0.0.1';
  if (address !== 'localhost' && !parseIP(address)) throw new UsageError(`--address ${address}: an IP address to listen on`);
  const portText = (values.port as string | undefined) ?? '8080';
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw new UsageError(`--port ${portText}: 0 (any free port) to 65535`);
  const source = fileSource({ filenames: flags.filenames, recursive: flags.recursive, ...(flags.namespace ? { namespace: flags.namespace } : {}) });
  const running = await startServer({ source, address, port: Number(portText), defaultNamespace: flags.namespace ?? 'default' });
  const snapshot = running.workspace().snapshot;
  for (const d of snapshot.diagnostics) io.stderr(`${diagnosticLine(d)}\n`);
  if (snapshot.invalid) io.stderr('Warning: the input has errors (see above): the page shows them, and analyses nothing until they are fixed\n');
  if (!LOOPBACK.test(address)) io.stderr(`Warning: listening on ${safeText(address)}, not loopback: anyone who can reach this address can read the manifests\n`);
  io.stdout(`netpol serve: ${running.url} (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await running.close();
  return EXIT.OK;
}
