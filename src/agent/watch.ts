/**
 * Follows one `-f` path through whatever replaces it: a directory deleted and created again, renamed
 * away and back, or swapped whole by renaming a symlink over it (ConfigMap volumes, `ln -sfn` deploys,
 * git checkouts). An `fs.watch` watches an inode: once the directory it watches is gone it is deaf
 * forever. So each path has two watches: the path itself (a directory, recursively with `-R`; for a file,
 * its directory) and the directory the path lives in, which sees the path's own deletion, creation and
 * renames. On any event, and on the source's periodic tick, `check` compares the path's identity
 * (resolved path, device, inode) with the watched one and watches again when it changed.
 */
import { watch, type FSWatcher } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export class PathWatcher {
  private target: FSWatcher | undefined;
  private parent: FSWatcher | undefined;
  /** What the target and parent watches watch: `missing` when the path does not exist. */
  private identity: string | undefined;
  private parentIdentity: string | undefined;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly recursive: boolean,
    private readonly onEvent: () => void,
  ) {}

  /** Watches the path as it is now; true when that is not what was watched before (read again). */
  async check(): Promise<boolean> {
    if (this.closed) return false;
    const info = await stat(this.path).catch(() => undefined);
    const real = info ? await realpath(this.path).catch(() => this.path) : undefined;
    const identity = info ? `${real} ${info.dev}:${info.ino}` : 'missing';
    const parentDir = dirname(resolve(this.path));
    const parentInfo = await stat(parentDir).catch(() => undefined);
    const parentIdentity = parentInfo ? `${parentInfo.dev}:${parentInfo.ino}` : 'missing';
    if (parentIdentity !== this.parentIdentity || !this.parent) {
      this.dropTarget();
      this.parent?.close();
      this.parent = parentInfo ? this.open(parentDir, false) : undefined;
      this.parentIdentity = parentIdentity;
    }
    if (identity === this.identity && (this.target || !info)) return false;
    const changed = this.identity !== undefined && identity !== this.identity;
    this.identity = identity;
    this.dropTarget();
    // A file is watched through its directory (editors replace files by renaming): the parent watch.
    if (info?.isDirectory()) this.target = this.open(this.path, this.recursive);
    else if (info) this.target = this.parent;
    return changed;
  }

  private open(dir: string, recursive: boolean): FSWatcher | undefined {
    try {
      const w = watch(dir, { recursive }, () => this.onEvent());
      // A watch that fails (its directory removed, say) is replaced at the next check.
      w.on('error', () => {
        w.close();
        if (this.target === w) this.target = undefined;
        if (this.parent === w) this.parent = undefined;
        this.onEvent();
      });
      return w;
    } catch {
      return undefined;
    }
  }

  private dropTarget(): void {
    if (this.target !== this.parent) this.target?.close();
    this.target = undefined;
  }

  close(): void {
    this.closed = true;
    this.dropTarget();
    this.parent?.close();
    this.target = undefined;
    this.parent = undefined;
  }
}
