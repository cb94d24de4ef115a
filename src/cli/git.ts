/**
 * Manifests as they are in a git revision, `git:REV:PATH`, read from the object database and never
 * checked out: `git cat-file -t` says whether REV:PATH is a file or a directory, `git ls-tree` lists a
 * directory (`-r` with -R, like a directory on disk), `git cat-file --batch` reads every blob in one
 * process. PATH is spelled as git spells `REV:PATH`: relative to the repository's top level, or to the
 * current directory when it starts with `./`. Failures (not a repository, no such revision or path, a
 * file too large) are `ReadError` diagnostics, never exceptions.
 */
import { spawn } from 'node:child_process';
import type { Diagnostic } from '../diag/index.js';
import { DEFAULT_MAX_BYTES, type SourceText } from '../load/node.js';

const EXTENSIONS = ['.yaml', '.yml', '.json'];

interface GitResult {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

function git(cwd: string | undefined, args: readonly string[], input?: string): Promise<GitResult> {
  return new Promise((resolve) => {
    const child = spawn('git', args, { stdio: ['pipe', 'pipe', 'pipe'], ...(cwd !== undefined ? { cwd } : {}) });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', (e) => resolve({ code: 127, stdout: Buffer.alloc(0), stderr: e.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

function firstLine(s: string): string {
  return (
    s
      .trim()
      .split('\n')[0]
      ?.replace(/^fatal: /, '') ?? ''
  );
}

export interface GitSpec {
  readonly rev: string;
  readonly path: string;
}

/** `git:REV:PATH` split at the first colon after `git:` (a revision has no colon; a path may). */
export function parseGitSpec(text: string): GitSpec | undefined {
  if (!text.startsWith('git:')) return undefined;
  const rest = text.slice(4);
  const colon = rest.indexOf(':');
  if (colon <= 0) return undefined;
  return { rev: rest.slice(0, colon), path: rest.slice(colon + 1) };
}

export async function readGitSources(
  spec: GitSpec,
  opts: { readonly recursive: boolean; readonly maxBytes?: number; readonly cwd?: string },
): Promise<{ sources: SourceText[]; diagnostics: Diagnostic[] }> {
  const name = `git:${spec.rev}:${spec.path}`;
  const fail = (message: string) => ({ sources: [], diagnostics: [{ severity: 'error' as const, code: 'ReadError' as const, message, file: name }] });
  // A revision starting with '-' would be read as an option.
  if (spec.rev.startsWith('-')) return fail(`"${spec.rev}" is not a revision`);
  const inRepo = await git(opts.cwd, ['rev-parse', '--git-dir']);
  if (inRepo.code !== 0) return fail(inRepo.code === 127 ? `cannot run git (${inRepo.stderr})` : 'not inside a git repository');
  const rev = await git(opts.cwd, ['rev-parse', '--verify', '--quiet', `${spec.rev}^{commit}`]);
  if (rev.code !== 0) return fail(`unknown revision "${spec.rev}"`);
  const object = `${spec.rev}:${spec.path}`;
  const type = await git(opts.cwd, ['cat-file', '-t', object]);
  if (type.code !== 0) return fail(`no path "${spec.path}" in ${spec.rev} (${firstLine(type.stderr)})`);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;

  let blobs: { file: string; id: string; size: number }[];
  const kind = type.stdout.toString().trim();
  if (kind === 'blob') {
    const size = await git(opts.cwd, ['cat-file', '-s', object]);
    blobs = [{ file: name, id: object, size: Number(size.stdout.toString().trim()) }];
  } else if (kind === 'tree') {
    const listing = await git(opts.cwd, ['ls-tree', '-l', '-z', ...(opts.recursive ? ['-r'] : []), object]);
    if (listing.code !== 0) return fail(firstLine(listing.stderr));
    const prefix = spec.path === '' || spec.path.endsWith('/') ? `git:${spec.rev}:${spec.path}` : `${name}/`;
    blobs = [];
    for (const entry of listing.stdout.toString().split('\0')) {
      // "<mode> SP <type> SP <object> SP <size> TAB <path>"; symlinks (120000) and submodules are skipped.
      const m = /^(\d+) (\w+) ([0-9a-f]+) +(\S+)\t(.*)$/s.exec(entry);
      if (!m || m[2] !== 'blob' || m[1] === '120000') continue;
      const path = m[5]!;
      if (!EXTENSIONS.some((e) => path.endsWith(e))) continue;
      blobs.push({ file: `${prefix}${path}`, id: m[3]!, size: Number(m[4]) });
    }
    blobs.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  } else return fail(`"${spec.path}" is a ${kind}, not a file or directory`);

  const diagnostics: Diagnostic[] = [];
  const wanted = blobs.filter((b) => {
    if (b.size <= maxBytes) return true;
    diagnostics.push({ severity: 'error', code: 'ReadError', message: `larger than ${maxBytes} bytes`, file: b.file });
    return false;
  });
  if (wanted.length === 0) return { sources: [], diagnostics };
  const batch = await git(opts.cwd, ['cat-file', '--batch'], wanted.map((b) => `${b.id}\n`).join(''));
  if (batch.code !== 0) return fail(firstLine(batch.stderr));
  const sources: SourceText[] = [];
  let at = 0;
  for (const b of wanted) {
    // "<object> SP <type> SP <size> LF <contents> LF"
    const eol = batch.stdout.indexOf(10, at);
    const header = batch.stdout.toString('utf8', at, eol).split(' ');
    const size = Number(header[2]);
    if (header[1] !== 'blob' || !Number.isFinite(size)) return fail(`unexpected git output for ${b.file}`);
    sources.push({ file: b.file, text: batch.stdout.toString('utf8', eol + 1, eol + 1 + size) });
    at = eol + 1 + size + 1;
  }
  return { sources, diagnostics };
}
