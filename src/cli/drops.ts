/**
 * `netpol drops [--agent URL] [--since SEQ] [-o text|wide|json]`: the recent drop events of one node's
 * agent (`GET /drops` on its `--listen` address, default http://127.0.0.1:9763; the agent runs with
 * `--log-denied`), each with the policies that isolate the subject and a ready-to-run `netpol check`
 * that reproduces the verdict with its explanation.
 *
 * Design choice: a top-level command rather than `netpol agent drops`, so it reads the same as a kubectl
 * plugin (`kubectl netpol drops`); the agent is a long-running process and this is a client of it.
 * Everything in an event came from a cluster or the kernel log: every name is escaped before it reaches
 * the terminal, and names that are not plain are single-quoted in the command line.
 */
import type { DropEvent } from '../agent/index.js';
import type { DropsAnswer } from '../agent/index.js';
import { outputFormat, type GlobalFlags } from './args.js';
import { EXIT, UsageError, type IO } from './io.js';
import { safeJson, safeText } from './render/escape.js';

export const DROPS_OPTIONS = {
  agent: { type: 'string' },
  since: { type: 'string' },
} as const;

export const DEFAULT_AGENT_URL = 'http://127.0.0.1:9763';

function endpointText(e: DropEvent['source']): string {
  return e.pod ?? e.ip;
}

/** A word for a POSIX shell: as is when plain, else single-quoted. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9._/:@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The `netpol check` that asks the engine about this connection (argv), or undefined for traffic the
 * API has no port for (ICMP: NetworkPolicy names TCP, UDP and SCTP only).
 */
export function checkArgs(e: DropEvent): string[] | undefined {
  if (e.protocol !== 'TCP' && e.protocol !== 'UDP' && e.protocol !== 'SCTP') return undefined;
  return ['netpol', 'check', '--from', endpointText(e.source), '--to', endpointText(e.destination), ...(e.port !== undefined ? ['--port', String(e.port)] : []), '--protocol', e.protocol];
}

/** The check command as one line to paste (escaped for a terminal). */
export function checkLine(e: DropEvent): string {
  const args = checkArgs(e);
  return args ? safeText(args.map(shellWord).join(' ')) : '';
}

function portText(e: DropEvent): string {
  if (e.port !== undefined) return `${e.protocol}/${e.port}`;
  if (e.icmpType !== undefined) return `${e.protocol} type ${e.icmpType}`;
  return e.protocol;
}

/** One line: who, to whom, what, and which policies (not escaped: the caller escapes for its output). */
export function dropSummary(e: DropEvent): string {
  const verb = e.action === 'audit' ? 'would be denied (audit)' : 'denied';
  const subject = e.direction === 'ingress' ? endpointText(e.destination) : endpointText(e.source);
  const policies = e.policies.length > 0 ? e.policies.join(', ') : e.chain;
  return `${endpointText(e.source)} -> ${endpointText(e.destination)} ${portText(e)} ${verb}: ${e.direction} of ${subject} isolated by ${policies}, ${e.reason}${e.packets > 1 ? ` (${e.packets} packets)` : ''}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
          .join('   ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** The answer as text: one block per event (summary, then the check command), or a wide table. */
export function renderDrops(answer: DropsAnswer, format: 'text' | 'wide'): string {
  if (answer.events.length === 0) return `No drop events on node ${safeText(answer.node)}.\n`;
  if (format === 'wide') {
    const rows = [['TIME', 'NODE', 'ACTION', 'DIRECTION', 'FROM', 'TO', 'PORT', 'PACKETS', 'POLICIES', 'CHAIN', 'CHECK']];
    for (const e of answer.events) {
      rows.push(
        [e.time, e.node, e.action, e.direction, endpointText(e.source), endpointText(e.destination), portText(e), String(e.packets), e.policies.join(',') || '-', e.chain, checkLine(e) || '-'].map(
          safeText,
        ),
      );
    }
    return table(rows);
  }
  const out: string[] = [];
  for (const e of answer.events) {
    out.push(`${safeText(e.time)}  ${safeText(dropSummary(e))}`);
    const check = checkLine(e);
    if (check) out.push(`  reproduce: ${check}`);
  }
  return `${out.join('\n')}\n`;
}

export async function dropsCommand(flags: GlobalFlags, values: Record<string, unknown>, io: IO): Promise<number> {
  const format = outputFormat(flags.output, ['text', 'wide', 'json'] as const, 'text');
  const base = (values.agent as string | undefined) ?? DEFAULT_AGENT_URL;
  let url: URL;
  try {
    url = new URL('/drops', base);
  } catch {
    throw new UsageError(`--agent ${base}: want the agent's address as a URL, e.g. ${DEFAULT_AGENT_URL}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--agent ${base}: want an http:// or https:// URL`);
  const since = (values.since as string | undefined) ?? '0';
  if (!/^\d{1,15}$/.test(since)) throw new UsageError(`--since ${since}: want a sequence number (an event's seq; 0 for all kept)`);
  url.searchParams.set('since', since);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    io.stderr(`error: cannot reach the agent at ${safeText(url.origin)}: ${safeText((e as Error).message)} (is it running with --listen and --log-denied?)\n`);
    return EXIT.ERROR;
  }
  const body = await res.text();
  if (!res.ok) {
    io.stderr(`error: the agent at ${safeText(url.origin)} answered ${res.status}: ${safeText(body.trim())}\n`);
    return EXIT.ERROR;
  }
  let answer: DropsAnswer;
  try {
    answer = JSON.parse(body) as DropsAnswer;
    if (!Array.isArray(answer.events) || typeof answer.node !== 'string') throw new Error('not a drop log');
  } catch (e) {
    io.stderr(`error: the agent at ${safeText(url.origin)} sent no drop log: ${safeText((e as Error).message)}\n`);
    return EXIT.ERROR;
  }
  const missed = Number(since) > 0 ? answer.oldest - 1 - Number(since) : 0;
  if (missed > 0) io.stderr(`Warning: ${missed} events after ${since} were pushed out of the agent's ring before this read\n`);
  for (const [reason, n] of Object.entries(answer.lost ?? {})) if (n > 0) io.stderr(`Warning: ${n} drop events lost (${safeText(reason)}) since the agent started\n`);
  if (format === 'json') io.stdout(`${safeJson({ ...answer, events: answer.events.map((e) => ({ ...e, check: checkArgs(e) })) }, 2)}\n`);
  else io.stdout(renderDrops(answer, format));
  return EXIT.OK;
}
