/**
 * The two sides of `netpol diff`, each resolved to a loaded, validated cluster through one function,
 * `loadSides`: a file or directory (`-R` to descend), `-` for standard input, `git:REV:PATH` for a
 * revision of the repository the command runs in, or `cluster`, the live cluster of the kubeconfig
 * (`--kubeconfig`, `--context`; namespaces from `-n`/`-A` as kubectl). Diffing manifests against the
 * cluster asks "what will applying them do": the manifests side is the cluster with the manifests
 * applied on top (as `--overlay`), so pods that only the cluster holds are compared too.
 */
import { hasErrors } from '../diag/index.js';
import { overlayCluster } from '../kube/index.js';
import { readSources } from '../load/node.js';
import type { GlobalFlags } from './args.js';
import { readClusterInput } from './cluster.js';
import { parseGitSpec, readGitSources } from './git.js';
import { inputFromSources, readFiles, type Input } from './input.js';
import { UsageError, type IO } from './io.js';

export type SideSpec = { readonly kind: 'path'; readonly path: string } | { readonly kind: 'git'; readonly rev: string; readonly path: string } | { readonly kind: 'cluster' };

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

/** Both sides, loaded and validated; a manifests side diffed against `cluster` is applied on top of it. */
export async function loadSides(sides: readonly [SideSpec, SideSpec], flags: GlobalFlags, io: IO): Promise<[Input, Input]> {
  if (sides[0].kind === 'cluster' && sides[1].kind === 'cluster') throw new UsageError('both sides are the cluster: give manifests on one side');
  if (sides.every((s) => s.kind !== 'cluster') && (flags.kubeconfig !== undefined || flags.context !== undefined)) {
    throw new UsageError('--kubeconfig and --context choose the cluster of a `cluster` side; neither side is `cluster`');
  }
  const [a, b] = [await loadSide(sides[0], flags, io), await loadSide(sides[1], flags, io)];
  if (sides[0].kind === 'cluster') return [a, onto(a, b)];
  if (sides[1].kind === 'cluster') return [onto(b, a), b];
  return [a, b];
}

/** Manifests applied on top of the cluster: the cluster as it would be. */
function onto(live: Input, files: Input): Input {
  const merged = overlayCluster(live.cluster, files.cluster);
  const diagnostics = [...files.diagnostics, ...merged.diagnostics];
  return { ...files, cluster: merged.cluster, diagnostics, invalid: files.invalid || hasErrors(merged.diagnostics) };
}

/** Reads one side into a cluster, with its diagnostics (as `readInput` does for -f). */
async function loadSide(side: SideSpec, flags: GlobalFlags, io: IO): Promise<Input> {
  switch (side.kind) {
    case 'cluster':
      return readClusterInput({ ...flags, filenames: [], overlay: false }, io, 'flags', readFiles);
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
