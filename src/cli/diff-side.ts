/**
 * The two sides of `netpol diff`, each resolved to a loaded, validated cluster through one function,
 * `loadSide`: a file or directory (`-R` to descend), `-` for standard input, `git:REV:PATH` for a
 * revision of the repository the command runs in. `cluster` (a live cluster) is the seam for the
 * cluster reader: it is recognised here and refused until that reader exists.
 */
import { readSources } from '../load/sources.js';
import type { GlobalFlags } from './args.js';
import { parseGitSpec, readGitSources } from './git.js';
import { inputFromSources, type Input } from './input.js';
import { UsageError, type IO } from './io.js';

export type SideSpec =
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'git'; readonly rev: string; readonly path: string }
  | { readonly kind: 'cluster' };

export function parseSide(text: string): SideSpec {
  if (text === 'cluster') return { kind: 'cluster' };
  if (text.startsWith('git:')) {
    const g = parseGitSpec(text);
    if (!g) throw new UsageError(`${text}: a git side is git:REV:PATH (e.g. git:main:deploy/, git:HEAD~1:policy.yaml)`);
    return { kind: 'git', ...g };
  }
  return { kind: 'path', path: text };
}

export function sideName(s: SideSpec): string {
  return s.kind === 'path' ? s.path : s.kind === 'git' ? `git:${s.rev}:${s.path}` : 'cluster';
}

/** Reads one side into a cluster, with its diagnostics (as `readInput` does for -f). */
export async function loadSide(side: SideSpec, flags: GlobalFlags, io: IO): Promise<Input> {
  switch (side.kind) {
    case 'cluster':
      throw new UsageError('cluster: reading a live cluster is not available yet; export it (kubectl get ... -o yaml) and diff the file');
    case 'git': {
      const read = await readGitSources(side, { recursive: flags.recursive });
      return inputFromSources(read, [sideName(side)], flags, io);
    }
    default: {
      const read = await readSources([side.path], { recursive: flags.recursive, ...(io.stdin ? { stdin: io.stdin } : {}) });
      return inputFromSources(read, [side.path], flags, io);
    }
  }
}
