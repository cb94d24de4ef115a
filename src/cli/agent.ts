/**
 * `netpol agent --node NAME`: enforce NetworkPolicy on this node with nftables, and keep enforcing as the
 * cluster changes. With `-f FILE|DIR` the cluster is the manifests (re-read as files change); without,
 * it is the API server (`--kubeconfig`/`--context`, KUBECONFIG, or the pod's service account), watched
 * with list+watch. Runs until SIGINT/SIGTERM (the rules stay in the kernel: a restarted agent reconciles
 * with them), or with `--once` applies once and exits.
 *
 * `--listen ADDR` serves /healthz, /readyz and /metrics (default 127.0.0.1:9763 when watching a cluster,
 * none for files; `--listen none` turns it off). `--netns NAME` acts on another network namespace's
 * nftables and conntrack (the lab's nodes) while talking to the API server from this one.
 */
import {
  Agent,
  type AgentEvent,
  startAgentServer,
  parseListen,
  type AgentServer,
  agentClusterSource,
  AgentMetrics,
  kernelFamilies,
  type Family,
  FileCutRecord,
  FileClusterSource,
  ManifestReader,
  type ClusterSource,
  NftSession,
  ProcessConntrack,
  ProcessNft,
} from '../agent/index.js';
import { loadKubeConfig } from '../kube/index.js';
import { dropFamilies, startDropLog, type RunningDropLog } from '../agent/index.js';
import { outputFormat, type GlobalFlags } from './args.js';
import { dropSummary } from './drops.js';
import { EXIT, UsageError, type IO } from './io.js';
import { safeJson, safeMessage } from './render/escape.js';

export const AGENT_OPTIONS = {
  node: { type: 'string' },
  mode: { type: 'string' },
  'deny-action': { type: 'string' },
  'existing-connections': { type: 'string' },
  'log-denied': { type: 'boolean' },
  'log-rate': { type: 'string' },
  once: { type: 'boolean' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  listen: { type: 'string' },
  netns: { type: 'string' },
  'state-dir': { type: 'string' },
  'verify-interval': { type: 'string' },
} as const;

export const DEFAULT_LISTEN = '127.0.0.1:9763';

/** One agent event as a line: JSON (`-o json`) or `time kind: message`, the message escaped (it names objects from input). */
export function eventLine(e: AgentEvent, format: 'text' | 'json', time: Date): string {
  if (format === 'json') return safeJson({ time: time.toISOString(), ...e });
  return `${time.toISOString()} ${e.kind}: ${safeMessage(e.message)}${e.ms !== undefined ? ` in ${e.ms.toFixed(1)} ms` : ''}`;
}

/** Where the agent records its completed conntrack checks (tmpfs: gone on reboot, as conntrack is). */
const DEFAULT_STATE_DIR = '/run/netpol';

function choice<T extends string>(flag: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly unknown[]).includes(value)) return value as T;
  throw new UsageError(`--${flag} ${String(value)}: use one of ${allowed.join(', ')}`);
}

/** Delivers the source's first snapshot, then stops it (`--once`). */
function firstOnly(source: ClusterSource): ClusterSource {
  return {
    start: (cb) =>
      new Promise<void>((resolve) => {
        void source.start(async (s) => {
          await cb(s);
          resolve();
        });
      }).then(() => source.stop()),
    stop: () => source.stop(),
  };
}

export async function agentCommand(flags: GlobalFlags, values: Record<string, unknown>, io: IO, signal?: AbortSignal): Promise<number> {
  // NODE_NAME: what the DaemonSet sets from the downward API (spec.nodeName).
  const node = (values.node as string | undefined) ?? process.env.NODE_NAME;
  if (!node) throw new UsageError('agent needs --node NAME or NODE_NAME (the node whose pods this agent enforces)');
  if (flags.filenames.includes('-')) throw new UsageError('agent cannot watch stdin: give files or directories');
  const files = flags.filenames.length > 0;
  if (files && (values.kubeconfig !== undefined || values.context !== undefined)) throw new UsageError('agent reads either -f manifests or the cluster (--kubeconfig/--context), not both');
  const format = outputFormat(flags.output, ['text', 'json'] as const, 'text');
  const listenText = (values.listen as string | undefined) ?? (files ? 'none' : DEFAULT_LISTEN);
  const listen = listenText === 'none' || listenText === '' ? undefined : parseListen(listenText);
  if (listenText !== 'none' && listenText !== '' && !listen) throw new UsageError(`--listen ${listenText}: want HOST:PORT, [IPv6]:PORT, :PORT or none`);
  const netns = values.netns as string | undefined;
  const interval = values['verify-interval'] === undefined ? 60 : Number(values['verify-interval']);
  if (!Number.isFinite(interval) || interval < 0) throw new UsageError(`--verify-interval ${String(values['verify-interval'])}: give seconds (0: never)`);
  const logRateText = values['log-rate'] as string | undefined;
  const logRate = logRateText === undefined ? undefined : Number(logRateText);
  if (logRate !== undefined && !(Number.isInteger(logRate) && logRate >= 1 && logRate <= 1_000_000)) throw new UsageError(`--log-rate ${logRateText}: give packets per second, 1 to 1000000`);
  const opts = {
    node,
    mode: choice('mode', values.mode, ['enforce', 'audit'] as const, 'enforce'),
    denyAction: choice('deny-action', values['deny-action'], ['drop', 'reject'] as const, 'drop'),
    existingConnections: choice('existing-connections', values['existing-connections'], ['cut', 'keep'] as const, 'cut'),
    logDenied: values['log-denied'] === true,
    ...(logRate !== undefined ? { logRate } : {}),
    // One record per network namespace enforced: lab agents act on several from one host namespace.
    cutRecord: new FileCutRecord((values['state-dir'] as string | undefined) ?? DEFAULT_STATE_DIR, netns ? `netpol@${netns}` : 'netpol'),
    verifyMs: interval * 1000,
  };
  const metrics = new AgentMetrics();
  let failed = false;
  const report = (e: AgentEvent & { readonly listen?: string }) => {
    metrics.observe(e);
    if (e.kind === 'error') failed = true;
    (e.kind === 'error' || e.kind === 'problem' ? io.stderr : io.stdout)(`${eventLine(e, format, new Date())}\n`);
  };
  const paths = { paths: flags.filenames, recursive: flags.recursive };
  const kube = files
    ? undefined
    : agentClusterSource(await loadKubeConfig({ ...(values.kubeconfig ? { kubeconfig: values.kubeconfig as string } : {}), ...(values.context ? { context: values.context as string } : {}) }), report);
  const nft = new NftSession(netns ? { netns } : {});
  const conntrack = new ProcessConntrack(netns);

  if (values.once === true) {
    // No retries: a failure is the exit code's to report.
    const source: ClusterSource = kube ? firstOnly(kube) : { start: async (cb) => cb(await new ManifestReader(paths).read()), stop: async () => {} };
    const agent = new Agent(source, nft, conntrack, { ...opts, retry: false, verifyMs: 0 }, report);
    await agent.start();
    await agent.stop();
    return failed ? EXIT.ERROR : EXIT.OK;
  }

  // The drop log: denied packets from the kernel log, attributed against what the agent enforces. Read
  // from the start with --log-denied; otherwise from the first ruleset that stages a policy (its audit
  // lines are logged either way).
  const agent = new Agent(kube ?? new FileClusterSource(paths), nft, conntrack, { ...opts, beforeApply: (ruleset) => drops.prepare(ruleset), afterApply: () => drops.applied() }, report);
  const drops: RunningDropLog = startDropLog({
    node,
    enforced: () => agent.enforced,
    netns,
    onEvent: (e) => io.stdout(`${format === 'json' ? safeJson({ kind: 'drop', ...e }) : `${e.time} drop: ${safeMessage(dropSummary(e))}`}\n`),
    report,
    start: opts.logDenied ? 'now' : 'when-staged',
  });
  let server: AgentServer | undefined;
  if (listen) {
    const kernel = new ProcessNft(netns);
    server = await startAgentServer(listen, {
      ready: () => metrics.ready,
      metrics: async () => {
        const families: Family[] = [...metrics.families(), ...kernelFamilies(await kernel.listTable('netpol')), ...(drops.reading ? dropFamilies(drops.log) : [])];
        const stats = kube?.stats();
        if (stats) {
          const per = (r: Readonly<Record<string, number>>) => Object.entries(r).map(([resource, value]) => ({ labels: { resource }, value }));
          families.push(
            { name: 'netpol_agent_watch_restarts_total', help: 'Lists and watches started again after a failure or an expired resourceVersion.', type: 'counter', samples: per(stats.restarts) },
            { name: 'netpol_agent_watch_relists_total', help: 'Relists after 410 Gone (the watch fell too far behind).', type: 'counter', samples: per(stats.relists) },
            { name: 'netpol_agent_api_connected', help: 'Whether every watch is up (1) or some is retrying (0).', type: 'gauge', samples: [{ value: stats.connected ? 1 : 0 }] },
          );
        }
        return families;
      },
      drops: (since: number) => (drops.reading ? drops.answer(since) : undefined),
    });
  }
  await agent.start();
  const where = files ? flags.filenames.join(', ') : 'the API server';
  const serving = server ? `; serving /healthz, /readyz, /metrics${opts.logDenied ? ', /drops' : ''} on ${server.address.host}:${server.address.port}` : '';
  report({ kind: 'started', message: `watching ${where} for node ${node}${serving}`, ...(server ? { listen: `${server.address.host}:${server.address.port}` } : {}) });
  await new Promise<void>((resolveP) => {
    const done = () => resolveP();
    if (signal) signal.addEventListener('abort', done, { once: true });
    else {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    }
  });
  await agent.stop();
  drops.stop();
  await server?.close();
  return EXIT.OK;
}
