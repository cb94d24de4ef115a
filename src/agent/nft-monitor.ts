/**
 * Who changed the table: a running `nft monitor` prints every change the kernel commits, each
 * transaction followed by `# new generation N by process PID (COMM)`. A transaction that touched the
 * agent's table and was not committed by one of the agent's own nft processes is someone else's change
 * (an operator's `nft flush`, another tool): the agent then compares the table with what it applied and
 * repairs the difference. This is the cheap half of drift detection: listing a table of 75,000 elements
 * costs about 0.6 s, so the full comparison runs only when someone else touched the table, and
 * periodically as a safety net (src/agent/agent.ts).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { inNetns } from './system.js';

/**
 * Reads `nft monitor` output line by line; `line` returns a description of a foreign change when a
 * transaction that touched `table` ends and was not committed by an `own` process.
 */
export class MonitorReader {
  /** The first change of the transaction in progress that touched the table. */
  private touched: string | undefined;
  private readonly mention: RegExp;

  constructor(
    table: string,
    private readonly own: (pid: number) => boolean,
  ) {
    this.mention = new RegExp(`\\binet ${table.replace(/[^A-Za-z0-9_]/g, '\\$&')}(?:\\s|$)`);
  }

  line(text: string): string | undefined {
    const generation = /^# new generation \d+ by process (\d+) \(([^)]*)\)/.exec(text);
    if (!generation) {
      if (this.touched === undefined && this.mention.test(text)) this.touched = text.trim();
      return undefined;
    }
    const what = this.touched;
    this.touched = undefined;
    if (what === undefined || this.own(Number(generation[1]))) return undefined;
    return `${generation[2]} (pid ${generation[1]}): ${what.length > 120 ? `${what.slice(0, 117)}...` : what}`;
  }
}

export interface WatchOptions {
  readonly table: string;
  readonly netns?: string | undefined;
  /** True for the pid of a process whose commits are the watcher's own. */
  readonly own: (pid: number) => boolean;
  readonly onForeign: (what: string) => void;
  /** The monitor ended (or could not start): changes may have been missed from then on. */
  readonly onLost: (why: string) => void;
}

/** Starts `nft monitor` (in `netns` when given) and reports foreign changes of `table` until closed. */
export function watchTable(opts: WatchOptions): { close(): void } {
  const [file, args] = inNetns('nft', ['monitor'], opts.netns);
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const reader = new MonitorReader(opts.table, opts.own);
  let closed = false;
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-500)));
  if (child.stdout) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const what = reader.line(line);
      if (what !== undefined && !closed) opts.onForeign(what);
    });
  }
  let lost = false;
  const lose = (why: string) => {
    if (closed || lost) return;
    lost = true;
    opts.onLost(why);
  };
  child.on('error', (e: NodeJS.ErrnoException) => lose(e.code === 'ENOENT' ? `${file} not found` : `nft monitor: ${e.message}`));
  child.on('exit', (code, signal) => lose(`nft monitor exited (${signal ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
  return {
    close() {
      closed = true;
      child.kill('SIGTERM');
    },
  };
}
