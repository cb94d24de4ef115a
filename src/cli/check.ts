/** `netpol check`: one connection (or two groups of pods), the verdict and the explanation behind it. */
import { auditVerdict, Engine, podEndpoint } from '../engine/index.js';
import type { Cluster, PodInfo, Protocol } from '../model/index.js';
import { classAnalysis, groupReachability } from '../scale/index.js';
import { outputFormat, type GlobalFlags } from './args.js';
import { readInput, refusal, reportDiagnostics } from './input.js';
import { SKIP_INVALID_OPTION, skipInvalid } from './skip.js';
import { EXIT, UsageError, type IO } from './io.js';
import { colourVerdicts } from './render/colour.js';
import { safeText, structured } from './render/escape.js';
import { renderVerdict } from './render/verdict.js';
import { kubectlReference, namesService, parsePort, parseProtocol, resolveEndpoint, resolveGroup, serviceTargetPort, type Group } from './resolve.js';

export const CHECK_OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  port: { type: 'string', short: 'p' },
  protocol: { type: 'string' },
  ...SKIP_INVALID_OPTION,
} as const;

export async function checkCommand(flags: GlobalFlags, values: Record<string, unknown>, ioIn: IO): Promise<number> {
  const io: IO = ioIn.color ? { ...ioIn, stdout: (s) => ioIn.stdout(colourVerdicts(s)) } : ioIn;
  const format = outputFormat(flags.output, ['text', 'json', 'yaml'] as const, 'text');
  const from = values.from as string | undefined;
  const to = values.to as string | undefined;
  if (from === undefined || to === undefined) throw new UsageError('check needs --from and --to (NS/POD, POD or an IP address)');
  const protocol = parseProtocol(values.protocol as string | undefined);
  const port = values.port === undefined ? undefined : parsePort(values.port as string);

  // Its two ends may be in any namespaces: a cluster is read whole.
  const read = await readInput(flags, io, { clusterScope: 'all', services: namesService(from) || namesService(to) });
  const input = values['skip-invalid'] === true ? skipInvalid(read) : read;
  reportDiagnostics(io, input.diagnostics);
  if (input.unreadable || input.invalid) {
    io.stderr(refusal(input));
    return EXIT.ERROR;
  }
  return answerCheck(input.cluster, { from, to, protocol, ...(port !== undefined ? { port } : {}), namespace: input.namespace }, format, io);
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
  /** Exactly what `netpol check -o json` prints for the question, parsed. */
  readonly json: unknown;
  /** The `Note:` lines `netpol check` prints on stderr (e.g. an address that belongs to a pod). */
  readonly notes: readonly string[];
  /** What `-o text` prints. */
  text(): string;
}

/**
 * The answer of `netpol check` for a loaded cluster, for embedders (the web server): the command's own
 * code run with its output captured, so the JSON and text cannot differ from the CLI's. UsageError for
 * endpoints that do not resolve.
 */
export function checkAnswer(cluster: Cluster, q: CheckQuestion): CheckAnswer {
  const run = (format: 'json' | 'text') => {
    let out = '';
    const notes: string[] = [];
    const code = answerCheck(cluster, q, format, {
      stdout: (s) => void (out += s),
      stderr: (s) =>
        void notes.push(
          ...s
            .split('\n')
            .filter((l) => l.startsWith('Note: '))
            .map((l) => l.slice('Note: '.length)),
        ),
      stderrIsTTY: false,
    });
    return { code, out, notes };
  };
  const json = run('json');
  return { allowed: json.code === EXIT.OK, json: JSON.parse(json.out) as unknown, notes: json.notes, text: () => run('text').out };
}

/** The question asked of a loaded cluster, answered on `io` in `format`; the exit code. */
function answerCheck(cluster: Cluster, q: CheckQuestion, format: 'text' | 'json' | 'yaml', io: IO): number {
  const { protocol, namespace: ns } = q;
  const from = kubectlReference(cluster, q.from, ns);
  const to = kubectlReference(cluster, q.to, ns);
  const fromGroup = resolveGroup(cluster, from, ns, '--from');
  const toGroup = resolveGroup(cluster, to, ns, '--to');
  let port = q.port;
  if (toGroup?.service) {
    // A connection to a Service reaches a pod on the Service's targetPort: that is what policies see.
    const target = serviceTargetPort(toGroup.service, protocol, port);
    port = target.port;
    if (target.note) io.stderr(`Note: ${safeText(target.note)}\n`);
  }
  if (fromGroup || toGroup) {
    const single = (text: string, flag: string): Group => {
      const e = resolveEndpoint(cluster, text, ns, flag).endpoint;
      if (e.kind !== 'pod') throw new UsageError(`${flag} ${text}: a group question needs pods on both ends, not an address`);
      return { pods: [e.pod], label: text };
    };
    return checkGroups(cluster, fromGroup ?? single(from, '--from'), toGroup ?? single(to, '--to'), protocol, port, format, io);
  }
  const source = resolveEndpoint(cluster, from, ns, '--from');
  const destination = resolveEndpoint(cluster, to, ns, '--to');
  for (const r of [source, destination]) if (r.note) io.stderr(`Note: ${safeText(r.note)}\n`);

  const engine = new Engine(cluster);
  const traffic = { source: source.endpoint, destination: destination.endpoint, protocol, ...(port !== undefined ? { port } : {}) };
  // With audit-mode policies the answer is the policies' as written (staged ones enforcing), and the
  // verdict enforced today goes with it (docs/cli.md, "Audit mode").
  const audit = engine.hasAudit ? auditVerdict(engine, traffic) : undefined;
  const verdict = audit ? audit.verdict : engine.evaluate(traffic);
  const caveats = hostNetworkCaveats([source.endpoint, destination.endpoint].flatMap((e) => (e.kind === 'pod' ? [e.pod] : [])));
  if (format !== 'text') {
    const auditData = audit && { audit: { by: audit.by, today: audit.today } };
    io.stdout(structured({ ...verdict, ...(caveats.length ? { caveats } : {}), ...auditData }, format, 2));
  } else io.stdout(`${renderVerdict(verdict, audit)}${caveats.map((c) => `Caveat: ${safeText(c)}\n`).join('')}`);
  return verdict.allowed ? EXIT.OK : EXIT.NEGATIVE;
}

/**
 * "Host-network pods" (docs/semantics.md): the policies' answer, which most plugins (and netpol agent) do
 * not enforce for pods sharing their node's network namespace.
 */
export function hostNetworkCaveats(pods: readonly PodInfo[]): string[] {
  const host = [...new Set(pods.filter((p) => p.hostNetwork === true))];
  if (host.length === 0) return [];
  const names =
    host
      .slice(0, 3)
      .map((p) => `${p.namespace}/${p.name}`)
      .join(', ') + (host.length > 3 ? ` and ${host.length - 3} more` : '');
  return [
    `${names} ${host.length === 1 ? 'runs' : 'run'} on the host network; most network plugins (and netpol agent) do not isolate host-network pods, so their traffic is the node's and may be allowed whatever this says`,
  ];
}

/**
 * A question about groups (workloads, selectors): how many of the ordered pairs of different pods may
 * connect, answered per class of pods (never pair by pair), with one allowed and one denied pair
 * explained in full. `allowed` is true when every pair is allowed; the exit code follows it.
 */
function checkGroups(cluster: Cluster, from: Group, to: Group, protocol: Protocol, port: number | string | undefined, format: 'text' | 'json' | 'yaml', io: IO): number {
  // As for one connection, the policies as written: audit-mode ones count as enforcing.
  const plain = new Engine(cluster);
  const engine = plain.withAudit();
  if (plain.hasAudit) io.stderr('Note: audit-mode policies count as enforcing in this answer (they only report today); netpol matrix shows what is enforced today\n');
  // The class engine answers groups, tier-aware when the input has cluster-scoped policies.
  const scale = classAnalysis(cluster, { includeAudit: true });
  const answer = groupReachability(scale, from.pods, to.pods, { protocol, ...(port !== undefined ? { port } : {}) });
  if (!answer) throw new UsageError('the groups are too large to compare class by class; narrow them or use netpol matrix --summary');
  const explain = (pair: readonly [PodInfo, PodInfo] | undefined) =>
    pair && engine.evaluate({ source: podEndpoint(pair[0]), destination: podEndpoint(pair[1]), protocol, ...(port !== undefined ? { port } : {}) });
  const allowedExample = explain(answer.allowedExample);
  const deniedExample = explain(answer.deniedExample);
  if (answer.pairs === 0) {
    // The same single pod on both sides: there is no pair of different pods, and a pod reaches itself.
    const only = from.pods.find((p) => to.pods.includes(p));
    const self = only && engine.evaluate({ source: podEndpoint(only), destination: podEndpoint(only), protocol, ...(port !== undefined ? { port } : {}) });
    const message = `${from.label} and ${to.label} are the same single pod${only ? ` (${only.namespace}/${only.name})` : ''}: there is no pair of different pods to check, and a pod may always talk to itself`;
    if (format !== 'text')
      io.stdout(
        structured(
          {
            allowed: true,
            from: from.label,
            to: to.label,
            protocol,
            port: port ?? null,
            sources: answer.sources,
            destinations: answer.destinations,
            pairs: 0,
            allowedPairs: 0,
            note: message,
            ...(self ? { allowedExample: self } : {}),
          },
          format,
          2,
        ),
      );
    else io.stdout(`ALLOWED: ${safeText(message)}\n`);
    return EXIT.OK;
  }
  const allowed = answer.allowed === answer.pairs;
  if (format !== 'text') {
    io.stdout(
      structured(
        {
          allowed,
          from: from.label,
          to: to.label,
          protocol,
          port: port ?? null,
          sources: answer.sources,
          destinations: answer.destinations,
          pairs: answer.pairs,
          allowedPairs: answer.allowed,
          ...(allowedExample ? { allowedExample } : {}),
          ...(deniedExample ? { deniedExample } : {}),
        },
        format,
        2,
      ),
    );
  } else {
    const what = port === undefined ? `${protocol} any port` : `${protocol} port ${port}`;
    const n = (k: number, one: string) => `${k} ${one}${k === 1 ? '' : 's'}`;
    io.stdout(
      `${allowed ? 'ALLOWED' : answer.allowed === 0 ? 'DENIED' : 'PARTLY ALLOWED'}: ${safeText(from.label)} (${n(answer.sources, 'pod')}) -> ${safeText(to.label)} (${n(answer.destinations, 'pod')}) ${what}: ${answer.allowed} of ${n(answer.pairs, 'pair')} allowed\n`,
    );
    if (deniedExample) io.stdout(`\nfor example, a denied pair:\n${renderVerdict(deniedExample)}`);
    else if (allowedExample) io.stdout(`\nfor example:\n${renderVerdict(allowedExample)}`);
    for (const c of hostNetworkCaveats([...from.pods, ...to.pods])) io.stdout(`Caveat: ${safeText(c)}\n`);
  }
  return allowed ? EXIT.OK : EXIT.NEGATIVE;
}
