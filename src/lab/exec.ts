/**
 * The lab's only way to run programs: spawn with piped input and captured output, and a LabError naming
 * the command and its stderr when it fails. Also the prerequisite check (root, `ip`, `nft`), which turns
 * "permission denied" deep in a build into one clear message before anything is created.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export type LabErrorCode =
  'not-root' | 'missing-tool' | 'command-failed' | 'invalid-plan' | 'interrupted' | 'pod-process' | 'probe' | 'unavailable' | 'not-found' | 'teardown' | 'enforcer' | 'timeout';

/** Every failure of the lab's IO, with a message meant for the user. */
export class LabError extends Error {
  constructor(
    readonly code: LabErrorCode,
    message: string,
    readonly details: { readonly missing?: readonly string[]; readonly stderr?: string; readonly command?: string } = {},
  ) {
    super(message);
    this.name = 'LabError';
  }
}

export interface ExecResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  readonly input?: string;
  /** Kill the program after this long (default 60 s). */
  readonly timeoutMs?: number;
}

export function run(cmd: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new LabError('missing-tool', `cannot run ${cmd}: ${e.message}`, { command: cmd }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => {}); // the program may exit without reading its input; its exit status tells
    child.stdin.end(options.input ?? '');
  });
}

export function commandText(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Runs a program and throws a LabError (with its stderr) unless it exits 0. */
export async function runChecked(cmd: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const r = await run(cmd, args, options);
  if (r.code !== 0) {
    const text = commandText(cmd, args);
    const why = r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
    throw new LabError('command-failed', `${text} failed (${why}): ${r.stderr.trim() || r.stdout.trim() || 'no output'}`, { stderr: r.stderr, command: text });
  }
  return r;
}

const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Absolute path of a program: PATH first, then the usual system directories (`ip`, `nft` live in sbin). */
export function findTool(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SYSTEM_DIRS];
  for (const dir of dirs) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Debian packages that provide the tools the lab runs. */
const PACKAGE_OF: Readonly<Record<string, string>> = { ip: 'iproute2', nft: 'nftables', conntrack: 'conntrack', sysctl: 'procps' };

export interface Prerequisites {
  /** Human-readable list of what is missing (`root`, `nft (Debian package nftables)`), empty when all is there. */
  readonly missing: readonly string[];
  /** Absolute paths of the tools that were found. */
  readonly tools: Readonly<Record<string, string>>;
}

/** What the lab needs: root (network namespaces, veths, nftables) and the given tools. */
export function checkPrerequisites(tools: readonly string[] = ['ip', 'nft']): Prerequisites {
  const missing: string[] = [];
  const found: Record<string, string> = {};
  const uid = process.getuid?.();
  if (uid !== 0) missing.push(`root (running as uid ${uid ?? 'unknown'}; network namespaces, veths and nftables need uid 0)`);
  for (const t of new Set(tools)) {
    const p = findTool(t);
    if (p) found[t] = p;
    else missing.push(`${t} (Debian package ${PACKAGE_OF[t] ?? t}; not found in PATH or ${SYSTEM_DIRS.join(', ')})`);
  }
  return { missing, tools: found };
}

/** Throws a LabError saying what is missing, or returns the tools' paths. */
export function requirePrerequisites(tools: readonly string[] = ['ip', 'nft']): Readonly<Record<string, string>> {
  const p = checkPrerequisites(tools);
  if (p.missing.length > 0) {
    const notRoot = p.missing.some((m) => m.startsWith('root'));
    throw new LabError(notRoot ? 'not-root' : 'missing-tool', `the lab cannot run: missing ${p.missing.join('; ')}`, { missing: p.missing });
  }
  return p.tools;
}
