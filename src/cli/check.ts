/** `netpol check`: one connection, its verdict and the explanation behind it. */
import { Engine } from '../engine/engine.js';
import { outputFormat, type GlobalFlags } from './args.js';
import { readInput, reportDiagnostics } from './input.js';
import { EXIT, UsageError, type IO } from './io.js';
import { renderVerdict } from './render/verdict.js';
import { parsePort, parseProtocol, resolveEndpoint } from './resolve.js';

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

  const input = await readInput(flags, io);
  reportDiagnostics(io, input.diagnostics);
  if (input.unreadable || input.invalid) {
    io.stderr('error: the input has errors (see above); the API server would reject it, so it is not analysed\n');
    return EXIT.ERROR;
  }
  const ns = flags.namespace ?? 'default';
  const source = resolveEndpoint(input.cluster, from, ns, '--from');
  const destination = resolveEndpoint(input.cluster, to, ns, '--to');
  for (const r of [source, destination]) if (r.note) io.stderr(`Note: ${r.note}\n`);

  const verdict = new Engine(input.cluster).evaluate({
    source: source.endpoint,
    destination: destination.endpoint,
    protocol,
    ...(port !== undefined ? { port } : {}),
  });
  if (format === 'json') io.stdout(`${JSON.stringify(verdict, null, 2)}\n`);
  else io.stdout(renderVerdict(verdict));
  return verdict.allowed ? EXIT.OK : EXIT.NEGATIVE;
}
