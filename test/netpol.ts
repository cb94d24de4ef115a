/**
 * The CLI run in-process, as every test uses it: `run(argv, io)` with captured streams. `netpol` runs a
 * command to its end (optionally with stdin, colour or a terminal's stderr); `startNetpol` starts one
 * that runs until stopped (`watch`) and hands its output line by line as it comes.
 */
import { Readable } from 'node:stream';
import { run } from '../src/cli/main.js';
import type { IO } from '../src/cli/io.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** What a test may set of the command's IO besides the captured streams. */
export interface RunOptions {
  readonly stdin?: string | Buffer;
  readonly color?: boolean;
  readonly stderrIsTTY?: boolean;
  readonly signal?: AbortSignal;
}

function io(o: RunOptions, stdout: (s: string) => void, stderr: (s: string) => void): IO {
  return {
    stdout,
    stderr,
    ...(o.stdin !== undefined ? { stdin: Readable.from([o.stdin]) } : {}),
    ...(o.color !== undefined ? { color: o.color } : {}),
    ...(o.stderrIsTTY !== undefined ? { stderrIsTTY: o.stderrIsTTY } : {}),
    ...(o.signal !== undefined ? { signal: o.signal } : {}),
  };
}

/** Runs one command to its end; `input` is its stdin (a string or bytes) or more options. */
export async function netpol(argv: readonly string[], input?: string | Buffer | RunOptions): Promise<CliResult> {
  const o: RunOptions = typeof input === 'string' || Buffer.isBuffer(input) ? { stdin: input } : (input ?? {});
  let stdout = '';
  let stderr = '';
  const code = await run(
    [...argv],
    io(
      o,
      (s) => (stdout += s),
      (s) => (stderr += s),
    ),
  );
  return { code, stdout, stderr };
}

/** Lines a running command writes, and a way to wait for one. */
export class Lines {
  readonly all: string[] = [];
  private partial = '';
  private waiters: { test: (l: string) => boolean; resolve: (l: string) => void }[] = [];

  readonly write = (s: string): void => {
    this.partial += s;
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      const line = this.partial.slice(0, nl);
      this.partial = this.partial.slice(nl + 1);
      this.all.push(line);
      this.waiters = this.waiters.filter((w) => (w.test(line) ? (w.resolve(line), false) : true));
    }
  };

  /** The first line (already written or to come) for which `test` holds; rejects after `timeoutMs`. */
  next(test: (l: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
    const seen = this.all.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got:\n${this.all.join('\n')}`)), timeoutMs);
      this.waiters.push({ test, resolve: (l) => (clearTimeout(t), resolve(l)) });
    });
  }

  toString(): string {
    return [...this.all, this.partial].join('\n');
  }
}

export interface RunningCommand {
  readonly stdout: Lines;
  readonly stderr: Lines;
  /** Ends the command (as an interrupt would) and resolves with its exit code. */
  stop(): Promise<number>;
}

/** Starts a command that runs until interrupted (`watch`). */
export function startNetpol(argv: readonly string[], o: Omit<RunOptions, 'signal'> = {}): RunningCommand {
  const stdout = new Lines();
  const stderr = new Lines();
  const abort = new AbortController();
  const exit = run([...argv], io({ ...o, signal: abort.signal }, stdout.write, stderr.write));
  return {
    stdout,
    stderr,
    stop: () => {
      abort.abort();
      return exit;
    },
  };
}
