/** `netpol check`: one connection (or two groups of pods), the verdict and the explanation behind it. */
import { Engine, podEndpoint } from '../engine/engine.js';
import type { Verdict } from '../engine/types.js';
import type { Cluster, PodInfo, Protocol } from '../model/cluster.js';
import { groupReachability, ScaleEngine } from '../scale/index.js';
import { outputFormat, type GlobalFlags } from './args.js';
import { readInput, reportDiagnostics } from './input.js';
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
    io.stderr('error: the input has errors (see above); the API server would reject it, so it is not analysed\n');
    return EXIT.ERROR;
  }
  const answer = checkAnswer(input.cluster, { from, to, protocol, ...(port !== undefined ? { port } : {}), namespace: input.namespace });
  for (const note of answer.notes) io.stderr(`Note: ${safeText(note)}\n`);
  if (format === 'json') io.stdout(`${safeJson(answer.json, 2)}\n`);
  else io.stdout(answer.text());
  return answer.allowed ? EXIT.OK : EXIT.NEGATIVE;
}

export interface CheckQuestion {
  readonly from: string;
  readonly to: string;
  readonly protocol: Protocol;
  readonly port?: number | string;
  /** The namespace of names without `NS/`. */
  readonly namespace: string;
}

export interface CheckAnswer {
  readonly allowed: boolean;
  /** What `-o json` prints (through safeJson): a Verdict, or a group answer. */
  readonly json: Verdict | GroupJson;
  /** `Note:` lines (an address that belongs to a pod). */
  readonly notes: readonly string[];
  /** What `-o text` prints. */
  text(): string;
}

/** The answer of `netpol check` for a loaded cluster; UsageError for endpoints that do not resolve. */
export function checkAnswer(cluster: Cluster, q: CheckQuestion): CheckAnswer {
  const { from, to, protocol, port, namespace: ns } = q;
  const fromGroup = resolveGroup(cluster, from, ns, '--from');
  const toGroup = resolveGroup(cluster, to, ns, '--to');
  if (fromGroup || toGroup) {
    const single = (text: string, flag: string): Group => {
      const e = resolveEndpoint(cluster, text, ns, flag).endpoint;
      if (e.kind !== 'pod') throw new UsageError(`${flag} ${text}: a group question needs pods on both ends, not an address`);
      return { pods: [e.pod], label: text };
    };
    return checkGroups(cluster, fromGroup ?? single(from, '--from'), toGroup ?? single(to, '--to'), protocol, port);
  }
  const source = resolveEndpoint(cluster, from, ns, '--from');
  const destination = resolveEndpoint(cluster, to, ns, '--to');
  const verdict = new Engine(cluster).evaluate({
    source: source.endpoint,
    destination: destination.endpoint,
    protocol,
    ...(port !== undefined ? { port } : {}),
  });
  const notes = [source.note, destination.note].filter((n): n is string => n !== undefined);
  return { allowed: verdict.allowed, json: verdict, notes, text: () => renderVerdict(verdict) };
}

/** The JSON of a group question. */
export interface GroupJson {
  readonly allowed: boolean;
  readonly from: string;
  readonly to: string;
  readonly protocol: Protocol;
  readonly port: number | string | null;
  readonly sources: number;
  readonly destinations: number;
  readonly pairs: number;
  readonly allowedPairs: number;
  readonly allowedExample?: Verdict;
  readonly deniedExample?: Verdict;
}

/**
 * A question about groups (workloads, selectors): how many of the ordered pairs of different pods may
 * connect, answered per class of pods (never pair by pair), with one allowed and one denied pair
 * explained in full. `allowed` is true when every pair is allowed; the exit code follows it.
 */
function checkGroups(cluster: Cluster, from: Group, to: Group, protocol: Protocol, port: number | string | undefined): CheckAnswer {
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
  const json: GroupJson = { allowed, from: from.label, to: to.label, protocol, port: port ?? null, sources: answer.sources, destinations: answer.destinations, pairs: answer.pairs, allowedPairs: answer.allowed, ...(allowedExample ? { allowedExample } : {}), ...(deniedExample ? { deniedExample } : {}) };
  const text = (): string => {
    const what = port === undefined ? `${protocol} any port` : `${protocol} port ${port}`;
    const n = (k: number, one: string) => `${k} ${one}${k === 1 ? '' : 's'}`;
    let out = `${allowed ? 'ALLOWED' : answer.allowed === 0 ? 'DENIED' : 'PARTLY ALLOWED'}: ${safeText(from.label)} (${n(answer.sources, 'pod')}) -> ${safeText(to.label)} (${n(answer.destinations, 'pod')}) ${what}: ${answer.allowed} of ${n(answer.pairs, 'pair')} allowed\n`;
    if (deniedExample) out += `\nfor example, a denied pair:\n${renderVerdict(deniedExample)}`;
    else if (allowedExample) out += `\nfor example:\n${renderVerdict(allowedExample)}`;
    return out;
  };
  return { allowed, json, notes: [], text };
}
