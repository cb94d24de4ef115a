/**
 * A prototype `NftRunner` that keeps one `nft -i` process open instead of starting `nft -f` for every
 * change (the benchmark compares the two; see docs/benchmarks-enforce.md). Starting nft costs 3-7 ms at
 * the median and tens of ms at the tail on a busy 2-CPU machine, most of an incremental update's budget;
 * a line sent to a running `nft -i` is committed in about half a millisecond.
 *
 * How it keeps the agent's guarantees:
 * - One transaction per update: nft's interactive mode runs each input line as one batch, and an error
 *   anywhere in the line aborts all of it (checked by the kernel test beside this file). The update's
 *   commands are joined into one line with `;` (continuation lines of element lists are folded in).
 * - Knowing when a line is done, and whether it failed: nft prints nothing on success, so each line is
 *   followed by `list table inet <marker>` for a table that does not exist; its error, which names the
 *   marker, closes the reply. Anything nft wrote before it is the update's error.
 * - Changes made by other processes (a restarted agent, `nft -f`): nft revalidates its cache against the
 *   ruleset generation before each command.
 * - Full replacements (the table declared as a block) and very large updates go to `nft -f` as before, as
 *   does `listTable`.
 * Meant to move into src/agent/system.ts once reviewed; it is here because that file is not the
 * benchmark's to change.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ProcessNft, SystemError, type NftRunner } from '../../../src/agent/system.js';

/** Updates larger than this go through `nft -f` (nft reads a long interactive line slowly). */
const MAX_LINE = 16 * 1024;

/** The update as one line of `;`-separated commands, or undefined when it is not in the incremental form. */
export function oneLine(script: string): string | undefined {
  const commands: string[] = [];
  for (const line of script.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    // Element lists continue on lines indented with a tab (render.ts).
    if (line.startsWith('\t') || line.startsWith(' ')) {
      if (commands.length === 0) return undefined;
      commands[commands.length - 1] += ` ${line.trim()}`;
      continue;
    }
    // A block (`table inet netpol {`) is the full form: not for the interactive session.
    if (/\{\s*$/.test(line) || line.startsWith('table ')) return undefined;
    commands.push(line);
  }
  const text = commands.join('; ');
  return text.length > MAX_LINE ? undefined : text;
}

export class NftSession implements NftRunner {
  private child: ChildProcess | undefined;
  private stderr = '';
  private seq = 0;
  private pending: { marker: string; resolve: (err: string) => void; reject: (e: Error) => void } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly fallback: ProcessNft;

  /** `netns`: act on that network namespace (through `ip netns exec`) instead of the process's own. */
  constructor(private readonly netns?: string) {
    this.fallback = new ProcessNft(netns);
  }

  private start(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return this.child;
    const [file, args] = this.netns === undefined ? ['nft', ['-i']] : ['ip', ['netns', 'exec', this.netns, 'nft', '-i']];
    const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.settle();
    });
    child.on('error', (e) => this.fail(new SystemError(`nft -i: ${e.message}`)));
    child.on('exit', (code, signal) => {
      this.child = undefined;
      this.fail(new SystemError(`nft -i exited (${signal ?? code})`));
    });
    child.stdin?.on('error', () => undefined);
    this.child = child;
    return child;
  }

  private fail(e: Error): void {
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
  }

  /** Resolves the pending line once the marker's error (its line and the caret line under it) has arrived. */
  private settle(): void {
    const p = this.pending;
    if (!p) return;
    const lines = this.stderr.split('\n');
    const at = lines.indexOf(`list table inet ${p.marker}`);
    // The marker's reply is three lines: `Error: ...`, the command, the carets (then the final newline).
    if (at < 1 || lines.length < at + 3) return;
    const before = lines.slice(0, at - 1).join('\n');
    this.stderr = lines.slice(at + 2).join('\n');
    this.pending = undefined;
    p.resolve(before);
  }

  apply(script: string): Promise<void> {
    const line = oneLine(script);
    if (line === undefined) return this.serial(() => this.fallback.apply(script));
    return this.serial(async () => {
      const child = this.start();
      const marker = `netpol_sync_${process.pid}_${++this.seq}`;
      const err = await new Promise<string>((resolve, reject) => {
        this.pending = { marker, resolve, reject };
        child.stdin?.write(`${line}\nlist table inet ${marker}\n`);
      });
      if (err.trim() !== '') throw new SystemError(`nft -i failed: ${err.trim()}`);
    });
  }

  listTable(table: string): Promise<unknown | undefined> {
    return this.serial(() => this.fallback.listTable(table));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.child?.stdin?.end();
    this.child?.kill();
    this.child = undefined;
  }
}
