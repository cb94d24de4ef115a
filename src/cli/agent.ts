/**
 * `netpol agent --node NAME -f DIR`: enforce the manifests' policies on this node with nftables, and keep
 * enforcing them as the files change. Runs until SIGINT/SIGTERM (the rules stay in the kernel: a
 * restarted agent reconciles with them), or with `--once` applies once and exits.
 */
import { Agent, type AgentEvent } from '../agent/agent.js';
import { FileCutRecord } from '../agent/cut-record.js';
import { FileClusterSource, ManifestReader } from '../agent/source.js';
import { NftSession } from '../agent/nft-session.js';
import { ProcessConntrack } from '../agent/system.js';
import { outputFormat, type GlobalFlags } from './args.js';
import { EXIT, UsageError, type IO } from './io.js';

export const AGENT_OPTIONS = {
  node: { type: 'string' },
  'deny-action': { type: 'string' },
  'existing-connections': { type: 'string' },
  'log-denied': { type: 'boolean' },
  once: { type: 'boolean' },
  'state-dir': { type: 'string' },
  'verify-interval': { type: 'string' },
} as const;

/** Where the agent records its completed conntrack checks (tmpfs: gone on reboot, as conntrack is). */
const DEFAULT_STATE_DIR = '/run/netpol';

function choice<T extends string>(flag: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly unknown[]).includes(value)) return value as T;
  throw new UsageError(`--${flag} ${String(value)}: use one of ${allowed.join(', ')}`);
}

export async function agentCommand(flags: GlobalFlags, values: Record<string, unknown>, io: IO, signal?: AbortSignal): Promise<number> {
  const node = values.node as string | undefined;
  if (!node) throw new UsageError('agent needs --node NAME (the node whose pods this agent enforces)');
  if (flags.filenames.length === 0) throw new UsageError('agent needs -f FILE|DIR (the manifests to enforce)');
  if (flags.filenames.includes('-')) throw new UsageError('agent cannot watch stdin: give files or directories');
  const format = outputFormat(flags.output, ['text', 'json'] as const, 'text');
  const interval = values['verify-interval'] === undefined ? 60 : Number(values['verify-interval']);
  if (!Number.isFinite(interval) || interval < 0) throw new UsageError(`--verify-interval ${String(values['verify-interval'])}: give seconds (0: never)`);
  const opts = {
    node,
    denyAction: choice('deny-action', values['deny-action'], ['drop', 'reject'] as const, 'drop'),
    existingConnections: choice('existing-connections', values['existing-connections'], ['cut', 'keep'] as const, 'cut'),
    logDenied: values['log-denied'] === true,
    cutRecord: new FileCutRecord((values['state-dir'] as string | undefined) ?? DEFAULT_STATE_DIR, 'netpol'),
    verifyMs: interval * 1000,
  };
  let failed = false;
  const report = (e: AgentEvent) => {
    if (e.kind === 'error') failed = true;
    const line = format === 'json' ? JSON.stringify({ time: new Date().toISOString(), ...e }) : `${new Date().toISOString()} ${e.kind}: ${e.message}${e.ms !== undefined ? ` in ${e.ms.toFixed(1)} ms` : ''}`;
    (e.kind === 'error' || e.kind === 'problem' ? io.stderr : io.stdout)(`${line}\n`);
  };
  const paths = { paths: flags.filenames, recursive: flags.recursive };

  if (values.once === true) {
    // No retries: a failure is the exit code's to report.
    const agent = new Agent({ start: async (cb) => cb(await new ManifestReader(paths).read()), stop: async () => {} }, new NftSession(), new ProcessConntrack(), { ...opts, retry: false, verifyMs: 0 }, report);
    await agent.start();
    await agent.stop();
    return failed ? EXIT.ERROR : EXIT.OK;
  }

  const agent = new Agent(new FileClusterSource(paths), new NftSession(), new ProcessConntrack(), opts, report);
  await agent.start();
  report({ kind: 'started', message: `watching ${flags.filenames.join(', ')} for node ${node}` });
  await new Promise<void>((resolveP) => {
    const done = () => resolveP();
    if (signal) signal.addEventListener('abort', done, { once: true });
    else {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    }
  });
  await agent.stop();
  return EXIT.OK;
}
