/** `netpol check`: one connection (or two groups of pods), the verdict and the explanation behind it. */
import { Engine, podEndpoint } from '../engine/engine.js';
import type { Cluster, PodInfo, Protocol } from '../model/cluster.js';
import { groupReachability, ScaleEngine } from '../scale/index.js';
import { outputFormat, type GlobalFlags } from './args.js';
import { readInput, refusal, reportDiagnostics } from './input.js';
import { EXIT, UsageError, type IO } from './io.js';
import { safeJson, safeText } from './render/escape.js';
import { renderVerdict } from './render/verdict.js';
import { parsePort, parseProtocol, resolveEndpoint, resolveGroup, type Group } from './resolve.js';

export const CHECK_OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  port: { type: 'string', short: 'p' },
  protocol: { type: 'string' },
} as const;

export async function checkCommand(flags: GlobalFlags, values: Record<string, unknown>, io: IO): Promise<number> {
  const format = outputFormat(flags.output, ['text', 'json'] as const, 'text');
  const from = values.from as string | undefined;
  const to = values.to as string | undefined;
  if (from === undefined || to === undefined) throw new UsageError('check needs --from and --to (NS/POD, POD or an IP address)');
  const protocol = parseProtocol(values.protocol as string | undefined);
  const port = values.port === undefined ? undefined : parsePort(values.port as string);

  // Its two ends may be in any namespaces: a cluster is read whole.
  const input = await readInput(flags, io, { clusterScope: 'all' });
  reportDiagnostics(io, input.diagnostics);
  if (input.unreadable || input.invalid) {
    io.stderr(refusal(input));
    return EXIT.ERROR;
  }
  const ns = input.namespace;
  const fromGroup = resolveGroup(input.cluster, from, ns, '--from');
  const toGroup = resolveGroup(input.cluster, to, ns, '--to');
  if (fromGroup || toGroup) {
    const single = (text: string, flag: string): Group => {
      const e = resolveEndpoint(input.cluster, text, ns, flag).endpoint;
      if (e.kind !== 'pod') throw new UsageError(`${flag} ${text}: a group question needs pods on both ends, not an address`);
      return { pods: [e.pod], label: text };
    };
    return checkGroups(input.cluster, fromGroup ?? single(from, '--from'), toGroup ?? single(to, '--to'), protocol, port, format, io);
  }
  const source = resolveEndpoint(input.cluster, from, ns, '--from');
  const destination = resolveEndpoint(input.cluster, to, ns, '--to');
  for (const r of [source, destination]) if (r.note) io.stderr(`Note: ${safeText(r.note)}\n`);

  const verdict = new Engine(input.cluster).evaluate({
    source: source.endpoint,
    destination: destination.endpoint,
    protocol,
    ...(port !== undefined ? { port } : {}),
  });
  if (format === 'json') io.stdout(`${safeJson(verdict, 2)}\n`);
  else io.stdout(renderVerdict(verdict));
  return verdict.allowed ? EXIT.OK : EXIT.NEGATIVE;
}

/**
 * A question about groups (workloads, selectors): how many of the ordered pairs of different pods may
 * connect, answered per class of pods (never pair by pair), with one allowed and one denied pair
 * explained in full. `allowed` is true when every pair is allowed; the exit code follows it.
 */
async function checkGroups(cluster: Cluster, from: Group, to: Group, protocol: Protocol, port: number | string | undefined, format: 'text' | 'json', io: IO): Promise<number> {
  if ((cluster.clusterPolicies?.length ?? 0) > 0) {
    // The class engine answers groups; it does not know cluster-scoped policies, and pairs would be guessing.
    throw new UsageError('group questions (workloads, selectors) are not answered for inputs with cluster-scoped policies yet; ask about one pod on each end, or use netpol matrix');
  }
  const scale = new ScaleEngine(cluster);
  const answer = groupReachability(scale, from.pods, to.pods, { protocol, ...(port !== undefined ? { port } : {}) });
  if (!answer) throw new UsageError('the groups are too large to compare class by class; narrow them or use netpol matrix --summary');
  const engine = new Engine(cluster);
  const explain = (pair: readonly [PodInfo, PodInfo] | undefined) =>
    pair && engine.evaluate({ source: podEndpoint(pair[0]), destination: podEndpoint(pair[1]), protocol, ...(port !== undefined ? { port } : {}) });
  const allowedExample = explain(answer.allowedExample);
  const deniedExample = explain(answer.deniedExample);
  const allowed = answer.pairs > 0 && answer.allowed === answer.pairs;
  if (format === 'json') {
    io.stdout(`${safeJson({ allowed, from: from.label, to: to.label, protocol, port: port ?? null, sources: answer.sources, destinations: answer.destinations, pairs: answer.pairs, allowedPairs: answer.allowed, ...(allowedExample ? { allowedExample } : {}), ...(deniedExample ? { deniedExample } : {}) }, 2)}\n`);
  } else {
    const what = port === undefined ? `${protocol} any port` : `${protocol} port ${port}`;
    const n = (k: number, one: string) => `${k} ${one}${k === 1 ? '' : 's'}`;
    io.stdout(`${allowed ? 'ALLOWED' : answer.allowed === 0 ? 'DENIED' : 'PARTLY ALLOWED'}: ${safeText(from.label)} (${n(answer.sources, 'pod')}) -> ${safeText(to.label)} (${n(answer.destinations, 'pod')}) ${what}: ${answer.allowed} of ${n(answer.pairs, 'pair')} allowed\n`);
    if (deniedExample) io.stdout(`\nfor example, a denied pair:\n${renderVerdict(deniedExample)}`);
    else if (allowedExample) io.stdout(`\nfor example:\n${renderVerdict(allowedExample)}`);
  }
  return allowed ? EXIT.OK : EXIT.NEGATIVE;
}
