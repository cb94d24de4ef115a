/**
 * `netpol diff OLD NEW`: what a change does to reachability. Each side is a file or directory, `-`
 * (stdin, one side only) or `git:REV:PATH`; both are loaded and validated like `-f` input, analysed by
 * the class engine (tier-aware with cluster-scoped policies), and compared pair by pair for each probe (src/diff). Exit codes follow
 * `git diff --exit-code`: 0 unchanged, 1 changed, 2 error.
 */
import { defaultProbes, diffReachability, type DiffProbe } from '../diff/index.js';
import type { Protocol } from '../model/index.js';
import { classAnalysis } from '../scale/index.js';
import { outputFormat, type GlobalFlags } from './args.js';
import { loadSides, parseSide, sideName } from './diff-side.js';
import { reportDiagnostics } from './input.js';
import { EXIT, UsageError, type IO } from './io.js';
import { progressLine } from './progress.js';
import { hasChanges, renderDiffJson, renderDiffMarkdown, renderDiffText } from './render/diff.js';
import { parsePort, parseProtocol } from './resolve.js';

export const DIFF_OPTIONS = {
  port: { type: 'string', short: 'p', multiple: true },
  protocol: { type: 'string', multiple: true },
} as const;

const FORMATS = ['text', 'json', 'md'] as const;

export async function diffCommand(flags: GlobalFlags, values: Record<string, unknown>, io: IO, positionals: string[]): Promise<number> {
  const format = outputFormat(flags.output, FORMATS, 'text');
  if (positionals.length !== 2) throw new UsageError('diff takes two sides: netpol diff OLD NEW (a file, a directory, -, or git:REV:PATH)');
  if (flags.filenames.length > 0) throw new UsageError('diff reads its two sides from its arguments, not -f');
  const sides = positionals.map(parseSide);
  if (positionals[0] === '-' && positionals[1] === '-') throw new UsageError('only one side can be - (stdin)');
  const ports = (values.port as string[] | undefined)?.map(parsePort);
  const protocolList = (values.protocol as string[] | undefined)?.map(parseProtocol);
  const protocols = protocolList ? [...new Set(protocolList)] : undefined;

  const inputs = await loadSides([sides[0]!, sides[1]!], flags, io);
  for (const [k, input] of inputs.entries()) {
    reportDiagnostics(io, input.diagnostics);
    if (input.unreadable || input.invalid) {
      io.stderr(`error: ${sideName(sides[k]!)} has errors (see above); the API server would reject it, so it is not analysed\n`);
      return EXIT.ERROR;
    }
  }
  const [before, after] = inputs as [(typeof inputs)[0], (typeof inputs)[0]];
  const probes: DiffProbe[] = ports
    ? (protocols ?? (['TCP'] as Protocol[])).flatMap((protocol) => ports.map((port) => ({ port, protocol })))
    : defaultProbes([before.cluster, after.cluster], protocols ? new Set(protocols) : undefined);
  const progress = progressLine(io);
  const engines = [before, after].map((input, k) => classAnalysis(input.cluster, { progress: (phase, d, t) => progress.update(`analysing ${k === 0 ? 'old' : 'new'} ${phase}`, d, t) }));
  progress.done();
  const diff = diffReachability({ cluster: before.cluster, engine: engines[0]! }, { cluster: after.cluster, engine: engines[1]! }, probes);
  const names = { before: positionals[0]!, after: positionals[1]! };
  io.stdout(format === 'json' ? renderDiffJson(diff, names) : format === 'md' ? renderDiffMarkdown(diff, names) : renderDiffText(diff, names));
  return hasChanges(diff) ? EXIT.NEGATIVE : EXIT.OK;
}
