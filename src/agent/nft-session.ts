/**
 * `NftSession`: the agent's nft runner. It keeps one `nft -i` process open and sends each incremental
 * update to it, instead of starting `nft -f` for every change: starting nft costs 3-7 ms at the median and
 * tens of ms at the tail on a busy machine, most of an update's budget, while a line sent to a running
 * `nft -i` is committed in about a millisecond (docs/benchmarks-enforce.md).
 *
 * How it keeps the agent's guarantees:
 * - One transaction per update: nft's interactive mode runs each input line as one batch, and an error
 *   anywhere in the line aborts all of it (src/agent/nft-session.kernel.test.ts checks both). The update's
 *   commands are joined into one line with `;`, continuation lines of element lists folded in.
 * - Knowing when a line is done, and whether it failed: nft prints nothing on success, so each line is
 *   followed by `list table inet <marker>` for a table that does not exist; its error, which names the
 *   marker, closes the reply. Anything nft wrote before it is the update's error.
 * - Changes made by other processes (a restarted agent, an operator's `nft -f`): nft checks its cache
 *   against the ruleset generation before each command.
 * - A session that dies fails its update (the agent reads the kernel again and retries); the next update
 *   starts a fresh `nft -i`. One that stops answering (an nft whose output we do not understand, say) is
 *   killed, its update fails, and from then on every update goes through `nft -f`: slower, never stuck.
 * - Full replacements (the table declared as a block), very large updates and `listTable` go to a fresh
 *   `nft -f` / `nft -j list` as before.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { watchTable } from './nft-monitor.js';
import { inNetns, privileges, ProcessNft, RecentPids, SystemError, type NftRunner } from './system.js';

/** Updates larger than this go through `nft -f` (nft reads a long interactive line slowly). */
const MAX_LINE = 16 * 1024;

/** An update nft has not answered within this long is taken as a hung session. */
const DEFAULT_TIMEOUT_MS = 30_000;

/** The update as one line of `;`-separated commands, or undefined when it is not in the incremental form. */
export function oneLine(script: string): string | undefined {
  const commands: string[] = [];
  for (const line of script.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    // Element lists continue on indented lines (src/nft/render.ts).
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

interface Pending {
  readonly marker: string;
  readonly resolve: (error: string) => void;
  readonly reject: (e: Error) => void;
}

export interface NftSessionOptions {
  /** Act on this network namespace (through `ip netns exec`) instead of the process's own. */
  readonly netns?: string;
  /** How long an update may take before the session is killed and the update fails. */
  readonly timeoutMs?: number;
}

export class NftSession implements NftRunner {
  private child: ChildProcess | undefined;
  private stderr = '';
  private seq = 0;
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly fallback: ProcessNft;
  private readonly timeoutMs: number;
  /** False once a session has stopped answering: updates then go through `nft -f`. */
  private interactive = true;
  /** The `nft -i` processes started: with the fallback's, the commits that are this runner's own. */
  private readonly sessions = new RecentPids(8);

  constructor(private readonly opts: NftSessionOptions = {}) {
    this.fallback = new ProcessNft(opts.netns);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  apply(script: string): Promise<void> {
    const line = this.interactive ? oneLine(script) : undefined;
    if (line === undefined) return this.serial(() => this.fallback.apply(script));
    return this.serial(() => this.send(line));
  }

  listTable(table: string): Promise<unknown | undefined> {
    return this.serial(() => this.fallback.listTable(table));
  }

  watch(table: string, onForeign: (what: string) => void, onLost: (why: string) => void): { close(): void } {
    const own = (pid: number) => this.sessions.has(pid) || this.fallback.started.has(pid);
    return watchTable({ table, netns: this.opts.netns, own, onForeign, onLost });
  }

  /** Ends the `nft -i` process (the next update would start another). */
  close(): void {
    this.end('SIGTERM');
  }

  private end(signal: NodeJS.Signals): void {
    const child = this.child;
    this.child = undefined;
    child?.stdin?.end();
    child?.kill(signal);
  }

  private async send(line: string): Promise<void> {
    const child = this.session();
    const marker = `netpol_sync_${process.pid}_${++this.seq}`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const error = await new Promise<string>((resolve, reject) => {
        this.pending = { marker, resolve, reject };
        timer = setTimeout(() => {
          this.interactive = false;
          this.fail(new SystemError(`nft -i did not answer within ${this.timeoutMs} ms; using nft -f from now on`));
          // A hung (or stopped) process may not act on SIGTERM.
          this.end('SIGKILL');
        }, this.timeoutMs);
        child.stdin?.write(`${line}\nlist table inet ${marker}\n`);
      });
      if (error.trim() !== '') {
        throw privileges('nft', error) ?? new SystemError(`nft -i failed: ${error.trim()}`);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** The running `nft -i`, started when there is none. */
  private session(): ChildProcess {
    if (this.child) return this.child;
    const [file, args] = inNetns('nft', ['-i'], this.opts.netns);
    const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.sessions.add(child.pid);
    this.stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      if (child !== this.child) return;
      this.stderr += d;
      this.settle();
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (child === this.child) this.child = undefined;
      this.fail(new SystemError(e.code === 'ENOENT' ? `${file} not found: install ${file === 'nft' ? 'nftables' : 'iproute2'}` : `nft -i: ${e.message}`));
    });
    child.on('exit', (code, signal) => {
      if (child !== this.child) return;
      this.child = undefined;
      const said = this.stderr.trim();
      this.fail(privileges('nft', said) ?? new SystemError(`nft -i exited (${signal ?? `code ${code}`})${said ? `: ${said}` : ''}`));
    });
    // A session that dies while a line is written: the exit handler reports it.
    child.stdin?.on('error', () => undefined);
    this.child = child;
    return child;
  }

  private fail(e: Error): void {
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
  }

  /** Resolves the pending line once the marker's error (its message, the command, the carets) has arrived. */
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

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
