/**
 * `netpol lint -f PATH...`: the classic NetworkPolicy mistakes (src/lint), as text, JSON or SARIF.
 * Exit 1 when an error-level finding remains, 0 otherwise, 2 when the input cannot be read or is
 * invalid (validate first: lint reads what the API server would store).
 */
import { lint, RULES, sourceReader } from '../lint/index.js';
import { readSources } from '../load/node.js';
import { outputFormat, type GlobalFlags } from './args.js';
import { inputFromSources, reportDiagnostics } from './input.js';
import { EXIT, UsageError, type IO } from './io.js';
import { lintCounts, renderLintJson, renderLintText, renderSarif } from './render/lint.js';

export const LINT_OPTIONS = {
  disable: { type: 'string', multiple: true },
} as const;

const FORMATS = ['text', 'json', 'sarif'] as const;

export async function lintCommand(flags: GlobalFlags, values: Record<string, unknown>, io: IO, version: string): Promise<number> {
  const format = outputFormat(flags.output, FORMATS, 'text');
  const disable = ((values.disable as string[] | undefined) ?? []).flatMap((s) => s.split(',')).map((s) => s.trim());
  for (const id of disable) if (!RULES.some((r) => r.id === id)) throw new UsageError(`--disable ${id}: no such rule (rules: ${RULES.map((r) => r.id).join(', ')})`);
  if (flags.filenames.length === 0) throw new UsageError('no input: give one or more -f FILE|DIR|- (use -f - for stdin)');
  const read = await readSources(flags.filenames, { recursive: flags.recursive, ...(io.stdin ? { stdin: io.stdin } : {}) });
  const input = inputFromSources(read, flags.filenames, flags, io);
  reportDiagnostics(io, input.diagnostics);
  if (input.unreadable || input.invalid) {
    io.stderr('error: the input has errors (see above); the API server would reject it, so it is not linted\n');
    return EXIT.ERROR;
  }
  const result = lint(input.cluster, { disable, textOf: sourceReader(read.sources) });
  const out =
    format === 'json'
      ? renderLintJson(result.findings, result.suppressed)
      : format === 'sarif'
        ? renderSarif(
            result.findings,
            RULES.filter((r) => !disable.includes(r.id)),
            version,
          )
        : renderLintText(result.findings, result.suppressed);
  io.stdout(out);
  return lintCounts(result.findings).error > 0 ? EXIT.NEGATIVE : EXIT.OK;
}
