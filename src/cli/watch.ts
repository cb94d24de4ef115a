/**
 * `netpol watch`: stays connected to the cluster (list + watch) and prints, after every change of a
 * Namespace, Pod, NetworkPolicy, cluster-scoped policy (ClusterNetworkPolicy, AdminNetworkPolicy,
 * BaselineAdminNetworkPolicy) or Node, what it changed in reachability: allowed pairs added and removed
 * per probe, and the object that caused it. Text (pairs listed up to a few per change) or `-o json`
 * (one JSON object per line, every pair). Runs until interrupted (or `io.signal` aborts).
 *
 * Before the first complete list any failure ends the command (exit 2: wrong cluster, no rights);
 * after it, a lost watch is reported on stderr and retried, the last state kept meanwhile. The cluster
 * comes from src/kube's KubeClusterSource, as the agent's does. A cluster-scoped kind the account may
 * not list is left out with a warning, as the other commands do (the agent, which enforces, waits).
 */
import { KubeClient, KubeClusterSource } from '../kube/index.js';
import type { Probe } from '../engine/index.js';
import { podKey } from '../model/index.js';
import { ReachabilityTracker, type PodPair, type ReachabilityChange } from '../watch/index.js';
import { outputFormat, type GlobalFlags } from './args.js';
import { ClusterReadError, followedCluster, isFatalBeforeSync } from './cluster.js';
import { diagnosticLine } from './input.js';
import { EXIT, UsageError, type IO } from './io.js';
import { safeJson, safeText } from './render/escape.js';
import { probeTitle } from './render/matrix.js';
import { parsePort, parseProtocol } from './resolve.js';

export const WATCH_OPTIONS = {
  port: { type: 'string', short: 'p', multiple: true },
  protocol: { type: 'string', multiple: true },
} as const;

/** Pairs listed per change and direction in text output. */
const SHOWN_PAIRS = 10;

export async function watchCommand(flags: GlobalFlags, values: Record<string, unknown>, io: IO): Promise<number> {
  const format = outputFormat(flags.output, ['text', 'json'] as const, 'text');
  if (flags.filenames.length > 0) throw new UsageError('watch follows a live cluster; -f is not supported (use matrix -f for files)');
  const ports = ((values.port as string[] | undefined) ?? ['80']).map(parsePort);
  const protocols = [...new Set(((values.protocol as string[] | undefined) ?? ['TCP']).map(parseProtocol))];
  const probes: Probe[] = protocols.flatMap((protocol) => ports.map((port) => ({ port, protocol })));

  const { config, namespace } = await followedCluster(flags);
  const client = new KubeClient(config);

  let tracker: ReachabilityTracker | undefined;
  let failure: Error | undefined;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  // The tracker starts from the first snapshot; the changes after it arrive one by one (onEvent), and
  // those before it are part of that snapshot.
  const source: KubeClusterSource = new KubeClusterSource(client, {
    ...(namespace !== undefined ? { namespace } : {}),
    clusterScoped: true,
    clusterScopedMayBeForbidden: true,
    onForbidden: (kind, resource) =>
      io.stderr(`Warning: ${safeText(`your account cannot list ${resource}: ${kind === 'Node' ? 'node addresses (for nodes peers) are' : 'they are'} left out of the analysis`)}\n`),
    onEvent: (e) => {
      const change = tracker?.apply(e);
      if (change) io.stdout(format === 'json' ? `${safeJson({ time: new Date().toISOString(), ...changeJSON(change) })}\n` : renderChange(change));
    },
    onError: (kind, e, retryInMs) => {
      if (!source.stats().synced && isFatalBeforeSync(e)) {
        failure = e;
        finish();
        return;
      }
      io.stderr(`Warning: ${safeText(`watching ${kind}s: ${e.message}`)}; retrying in ${(retryInMs / 1000).toFixed(1)} s\n`);
    },
  });
  io.signal?.addEventListener('abort', () => finish());
  if (io.signal?.aborted) finish();
  await source.start((snapshot) => {
    if (tracker) return;
    tracker = new ReachabilityTracker(snapshot.cluster, probes);
    for (const d of snapshot.diagnostics) io.stderr(`${diagnosticLine(d)}\n`);
    const where = namespace === undefined ? 'all namespaces' : `namespace ${safeText(namespace)}`;
    const counts = probes.map((p) => `${probeTitle(p)}: ${pairs(tracker!.allowedPairs(p))}`).join(', ');
    const clusterPolicies = tracker.clusterPolicyCount;
    if (format === 'json')
      io.stdout(
        `${safeJson({ time: new Date().toISOString(), synced: { namespace: namespace ?? null, pods: tracker.podCount, policies: tracker.policyCount, clusterPolicies, probes: probes.map((p) => ({ ...p, allowedPairs: tracker!.allowedPairs(p) })) } })}\n`,
      );
    else {
      const objects =
        clusterPolicies === 0
          ? `${tracker.podCount} pods and ${tracker.policyCount} NetworkPolicies`
          : `${tracker.podCount} pods, ${tracker.policyCount} NetworkPolicies and ${clusterPolicies} cluster-scoped ${clusterPolicies === 1 ? 'policy' : 'policies'}`;
      io.stdout(`watching ${objects} in ${where} (${counts})\n`);
    }
  });
  await done;
  await source.stop();
  if (failure) throw new ClusterReadError(safeText(failure.message));
  return EXIT.OK;
}

function pairs(n: number): string {
  return `${n} allowed pair${n === 1 ? '' : 's'}`;
}

/** Pairs as `[from, to]` names (`ns/name`), every one. */
function changeJSON(c: ReachabilityChange): Record<string, unknown> {
  const names = (pairs: readonly PodPair[]) => pairs.map(([from, to]) => [podKey(from), podKey(to)]);
  return { ...c, probes: c.probes.map((p) => ({ ...p, added: names(p.added), removed: names(p.removed) })) };
}

function renderChange(c: ReachabilityChange): string {
  const time = new Date().toISOString().slice(11, 23);
  const lines = [`${time} ${safeText(c.object)} ${c.action}${c.fields.length ? ` (${c.fields.join(', ')})` : ''}`];
  for (const p of c.probes) {
    const title = probeTitle({ port: p.port, protocol: p.protocol as Probe['protocol'] });
    if (!p.exact) {
      lines.push(`  ${title}: ${p.net >= 0 ? '+' : ''}${p.net} allowed pairs in total, now ${p.allowedPairs} (too many pods touched to list the pairs)`);
      continue;
    }
    if (p.added.length === 0 && p.removed.length === 0) {
      lines.push(`  ${title}: no change in reachability (${pairs(p.allowedPairs)})`);
      continue;
    }
    lines.push(`  ${title}: +${p.added.length} -${p.removed.length} allowed pairs, now ${p.allowedPairs}`);
    for (const [sign, pairs] of [
      ['+', p.added],
      ['-', p.removed],
    ] as const) {
      for (const [from, to] of pairs.slice(0, SHOWN_PAIRS)) lines.push(`    ${sign} ${safeText(podKey(from))} -> ${safeText(podKey(to))}`);
      if (pairs.length > SHOWN_PAIRS) lines.push(`    ${sign} ... and ${pairs.length - SHOWN_PAIRS} more (-o json lists every pair)`);
    }
  }
  return `${lines.join('\n')}\n`;
}
