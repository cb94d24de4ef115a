/**
 * `netpol serve -f PATH... [-R] [--address A] [--port N]`: the web page and its JSON API over the
 * loaded manifests, until SIGINT or SIGTERM; without `-f`, over the live cluster of the kubeconfig
 * (`--kubeconfig`, `--context`, `-n`/`-A`), followed as it changes. Loopback only unless another address
 * is asked for.
 */
import type { AddressInfo } from 'node:net';
import type { GlobalFlags } from '../cli/args.js';
import { diagnosticLine } from '../cli/input.js';
import { EXIT, UsageError, type IO } from '../cli/io.js';
import { safeText } from '../cli/render/escape.js';
import { parseIP } from '../ip/index.js';
import { createApp, defaultAssetsDir, type ServerEvent } from './http.js';
import { fileSource, type ClusterSource } from './source.js';
import { liveSource } from './live.js';
import { KubeApiError, KubeClient, KubeUnreachableError } from '../kube/index.js';
import { ClusterReadError, followedCluster, usesCluster } from '../cli/cluster.js';
import { Workspace } from './workspace.js';
import { AGENT_NAMESPACE, AgentPoller, discoverAgents, httpTarget, type AgentTarget, type PollerOptions } from './agents.js';
import { DropStore, type DropStoreOptions, type DropsView } from './drops.js';
import { DEFAULT_AGENT_URL } from '../cli/drops.js';

export const SERVE_OPTIONS = {
  address: { type: 'string' },
  port: { type: 'string' },
  agent: { type: 'string', multiple: true },
  'discover-agents': { type: 'boolean' },
} as const;

/** Where the page's recent drops come from (src/server/agents.ts). */
export interface DropSources {
  /** Agents read directly (`--agent URL`). */
  readonly targets?: readonly AgentTarget[];
  /** Agents found in the cluster, re-listed now and then (`--discover-agents`). */
  readonly discover?: () => Promise<AgentTarget[]>;
  readonly poller?: PollerOptions;
  readonly store?: DropStoreOptions;
}

export interface ServeOptions {
  readonly source: ClusterSource;
  readonly address?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly defaultNamespace?: string;
  readonly assetsDir?: string;
  /** Agents whose drop logs the page shows. */
  readonly drops?: DropSources;
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
  const source = opts.source;
  let workspace = new Workspace(await source.read(), opts.defaultNamespace);
  let version = 0;
  const listeners = new Set<(event: ServerEvent) => void>();
  const tell = (e: ServerEvent): void => {
    for (const l of listeners) l(e);
  };
  // A live source: each new snapshot replaces the workspace; the page hears which objects changed and
  // re-reads its data. One build at a time: snapshots that arrive during a build are folded into the
  // next one (the source's latest), with their changes listed together.
  let pending: string[] | undefined;
  let building = false;
  const rebuild = async (): Promise<void> => {
    building = true;
    try {
      while (pending) {
        const changes = pending;
        pending = undefined;
        const snapshot = await source.read();
        version++;
        workspace = new Workspace(snapshot, opts.defaultNamespace, version);
        tell({ name: 'snapshot', data: { version, changes } });
        drops?.changed();
      }
    } catch (e) {
      process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
    } finally {
      building = false;
    }
  };
  const unwatch = source.watch?.({
    snapshot: (changes) => {
      pending = [...(pending ?? []), ...changes];
      if (!building) void rebuild();
    },
    connection: (state) => tell({ name: 'connection', data: state }),
  });
  const drops = opts.drops && recentDrops(opts.drops, () => workspace, tell);
  let hosts: string[] | undefined;
  const server = createApp({
    workspace: () => workspace,
    description: source.description,
    assetsDir: opts.assetsDir ?? defaultAssetsDir(),
    hosts: () => hosts,
    ...(drops ? { drops: () => drops.view() } : {}),
    subscribe: (l) => {
      l({ name: 'hello', data: { version, live: source.watch !== undefined, connection: source.connection?.() ?? { state: 'connected' }, drops: drops !== undefined } });
      listeners.add(l);
      return () => listeners.delete(l);
    },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, address, () => resolve());
    });
  } catch (e) {
    // Not serving: nothing may keep polling the agents or watching the source.
    unwatch?.();
    drops?.stop();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  const shown = address.includes(':') ? `[${address}]` : address;
  if (LOOPBACK.test(address)) hosts = [`${shown}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`];
  return {
    url: `http://${shown}:${port}/`,
    workspace: () => workspace,
    close: async () => {
      unwatch?.();
      drops?.stop();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await source.stop?.();
    },
  };
}

/** Sends the page a fold of the drops at most this often (a burst of events is one message). */
const DROPS_THROTTLE_MS = 500;

/**
 * The agents polled into a store, and the view the page gets: on `/api/v1/drops`, and as a `drops`
 * event (throttled) whenever events arrive, an agent's state changes, old events age out or a new
 * snapshot re-folds them. The fold is cached per workspace and store revision.
 */
function recentDrops(sources: DropSources, workspace: () => Workspace, tell: (e: ServerEvent) => void): { view(): DropsView; changed(): void; stop(): void } {
  const store = new DropStore(sources.store);
  let cached: { ws: Workspace; revision: number; view: DropsView } | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const view = (): DropsView => {
    const ws = workspace();
    if (cached?.ws !== ws || cached.revision !== store.revision) cached = { ws, revision: store.revision, view: store.view(ws, []) };
    return { ...cached.view, agents: poller.status() };
  };
  const changed = (): void => {
    timer ??= setTimeout(() => {
      timer = undefined;
      tell({ name: 'drops', data: view() });
    }, DROPS_THROTTLE_MS);
  };
  const poller = new AgentPoller(store, changed, sources.poller);
  poller.add(sources.targets ?? []);
  if (sources.discover) poller.discover(sources.discover);
  const aging = setInterval(() => {
    if (store.prune(Date.now())) changed();
  }, 30_000);
  aging.unref();
  return {
    view,
    changed,
    stop: () => {
      poller.stop();
      clearInterval(aging);
      clearTimeout(timer);
    },
  };
}

/** The cluster `netpol watch` would follow, as a live source. */
async function clusterSource(flags: GlobalFlags): Promise<{ source: ClusterSource; namespace: string | undefined; client: KubeClient }> {
  const { config, namespace } = await followedCluster(flags);
  const description = `${config.context} (${config.server}, ${namespace === undefined ? 'all namespaces' : `namespace ${namespace}`})`;
  const client = new KubeClient(config);
  return { source: liveSource(client, { description, ...(namespace !== undefined ? { namespace } : {}) }), namespace, client };
}

/** `--agent URL` (repeatable) as targets; a usage error for anything but an http(s) URL. */
export function agentTargets(urls: readonly string[]): AgentTarget[] {
  const seen = new Set<string>();
  return urls.flatMap((text) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new UsageError(`--agent ${text}: want the agent's address as a URL, e.g. ${DEFAULT_AGENT_URL}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--agent ${text}: want an http:// or https:// URL`);
    if (seen.has(url.origin)) return [];
    seen.add(url.origin);
    return [httpTarget(url)];
  });
}

export async function serveCommand(flags: GlobalFlags, values: Record<string, unknown>, io: IO): Promise<number> {
  if (flags.filenames.includes('-')) throw new UsageError('serve reads files and directories, not stdin');
  if (flags.overlay) throw new UsageError('serve shows files (-f) or a live cluster (--kubeconfig, --context), not one overlaid on the other');
  const live = usesCluster(flags);
  const address = (values.address as string | undefined) ?? '127.0.0.1';
  if (address !== 'localhost' && !parseIP(address)) throw new UsageError(`--address ${address}: an IP address to listen on`);
  const portText = (values.port as string | undefined) ?? '8080';
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw new UsageError(`--port ${portText}: 0 (any free port) to 65535`);
  const targets = agentTargets((values.agent as string[] | undefined) ?? []);
  const discover = values['discover-agents'] === true;
  if (discover && !live) throw new UsageError('--discover-agents reads the agent pods of a live cluster: use it without -f (with --kubeconfig or --context, or in a pod)');
  const source = live
    ? await clusterSource(flags)
    : { source: fileSource({ filenames: flags.filenames, recursive: flags.recursive, ...(flags.namespace ? { namespace: flags.namespace } : {}) }), namespace: flags.namespace, client: undefined };
  const client = source.client;
  const drops: DropSources | undefined = targets.length > 0 || discover ? { targets, ...(discover && client ? { discover: () => discoverAgents(client) } : {}) } : undefined;
  let running: RunningServer;
  try {
    running = await startServer({ source: source.source, address, port: Number(portText), defaultNamespace: source.namespace ?? 'default', ...(drops ? { drops } : {}) });
  } catch (e) {
    await source.source.stop?.();
    if (e instanceof KubeApiError || e instanceof KubeUnreachableError) throw new ClusterReadError(safeText(e.message));
    throw e;
  }
  const snapshot = running.workspace().snapshot;
  for (const d of snapshot.diagnostics) io.stderr(`${diagnosticLine(d)}\n`);
  if (snapshot.invalid) io.stderr('Warning: the input has errors (see above): the page shows them, and analyses nothing until they are fixed\n');
  if (live) io.stderr(`following ${safeText(source.source.description)}: the page shows its changes as they happen\n`);
  if (targets.length > 0) io.stderr(`showing the recent drops of ${targets.map((t) => safeText(t.name)).join(', ')}\n`);
  if (discover) io.stderr(`showing the recent drops of the agent pods in namespace ${AGENT_NAMESPACE} (through the API server's pod proxy)\n`);
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
