/**
 * Where the agent's view of the cluster comes from. `ClusterSource` (src/model/snapshot.ts) is the
 * seam: this file's `FileClusterSource` watches manifests on disk; src/kube's `KubeClusterSource`
 * follows the API server through the same interface.
 *
 * Safety rule: a bad edit never takes down enforcement of what was valid. A file that stops parsing
 * keeps its last good content; a NetworkPolicy that becomes invalid keeps its last valid version (or,
 * if it never had one, is left out, as the API server would have refused it). Each such fallback is
 * reported loudly as an error diagnostic.
 *
 * Losing the input is not an edit either (fail closed): a file or directory that cannot be read (gone,
 * no permission) keeps its last good content, and so does a file emptied in place (a truncation, a
 * failed write); with nothing to stand in for it (at start), the snapshot is marked `incomplete` and not
 * applied. What does count as an edit: a file deleted from a readable directory, and a directory that
 * is readable and empty, once it has stayed empty for `emptyHoldMs` (so that `rm -rf DIR; mkdir DIR;
 * cp ...` never passes through "no policies"). That is how all policies are removed deliberately.
 */
import { normalize, sep } from 'node:path';
import { PathWatcher } from './watch.js';
import { validateCluster } from '../validate/index.js';
import { about, ObjectMap, objectLabel, type Diagnostic, type ObjectRef, type ObjectSource } from '../diag/index.js';
import { readSources, STDIN_NAME, type SourceText } from '../load/node.js';
import type { Cluster, ClusterPolicyInfo, ClusterSnapshot, ClusterSource, NodeInfo, PodInfo, PolicyInfo } from '../model/index.js';
import { FastLoadCache, loadClusterFast } from '../load/index.js';

export type { ClusterSnapshot, ClusterSource } from '../model/index.js';

export interface FileSourceOptions {
  readonly paths: readonly string[];
  readonly recursive: boolean;
  /** Changes closer together than this are taken as one (editors write files in several steps). */
  readonly debounceMs?: number;
  /** How long a directory that had manifests must stay empty before that counts (default 2 s). */
  readonly emptyHoldMs?: number;
  /** How often paths are looked at again (replaced watches, input still failing), in ms (default 1 s). */
  readonly rescanMs?: number;
  /** The clock, in ms (default `Date.now`). */
  readonly now?: () => number;
}

const DEFAULT_EMPTY_HOLD_MS = 2000;

/** Problems that make a whole file unusable (as opposed to one object in it). */
const FATAL: ReadonlySet<string> = new Set(['YAMLSyntax', 'DuplicateKey', 'YAMLAliasLimit']);

/** Reads manifests once: the snapshot logic of FileClusterSource without the watching. */
export class ManifestReader {
  private readonly lastGoodText = new Map<string, string>();
  /** The last valid version of each policy, by object (kind, namespace, name). */
  private readonly lastValidPolicy = new ObjectMap<PolicyInfo | ClusterPolicyInfo>();
  private generation = 0;
  private readonly interner = new Interner();
  /** What each file decoded to: an unchanged file is not parsed again. */
  private readonly parsed = new FastLoadCache();
  /** The last read: its input and what came of it. */
  private last: { sources: readonly SourceText[]; cluster: Cluster; diagnostics: readonly Diagnostic[]; clean: boolean } | undefined;
  /** The files each path contributed when it was last read (substitutes included). */
  private readonly lastFiles = new Map<string, readonly string[]>();
  /** Since when each directory that had manifests has been seen empty. */
  private readonly emptySince = new Map<string, number>();
  private degraded = false;

  constructor(private readonly opts: Pick<FileSourceOptions, 'paths' | 'recursive' | 'emptyHoldMs' | 'now'>) {}

  /** True when the last read stood in for input it could not use (or held an empty directory): read again soon. */
  get pending(): boolean {
    return this.degraded;
  }

  async read(): Promise<ClusterSnapshot> {
    const got = await readSources(this.opts.paths, { recursive: this.opts.recursive });
    this.generation++;
    const read = this.keepLastGood(got.sources, got.diagnostics);
    // Nothing changed (an editor's swap file, a touch): the same snapshot again, without loading.
    const last = this.last;
    // (Not after a read that stood in for input: its diagnostics say so, and no longer hold.)
    if (last?.clean && sameSources(last.sources, read.sources) && read.diagnostics.length === 0) {
      return { cluster: last.cluster, diagnostics: last.diagnostics, generation: this.generation };
    }
    const diagnostics: Diagnostic[] = [...read.diagnostics];
    // A file that does not parse keeps its last good content.
    // The fast loader returns exactly what the reference loader would, or hands over to it.
    let loaded = loadClusterFast(read.sources, { cache: this.parsed });
    const unparsable = new Set(loaded.diagnostics.filter((d) => d.severity === 'error' && FATAL.has(d.code) && d.file !== undefined).map((d) => d.file as string));
    const substitutes = read.sources.filter((s) => unparsable.has(s.file) && this.lastGoodText.has(s.file));
    for (const s of read.sources) if (!unparsable.has(s.file)) this.lastGoodText.set(s.file, s.text);
    if (substitutes.length > 0) {
      this.degraded = true;
      loaded = loadClusterFast(
        read.sources.map((s) => (unparsable.has(s.file) && this.lastGoodText.has(s.file) ? { file: s.file, text: this.lastGoodText.get(s.file) as string } : s)),
        { cache: this.parsed },
      );
      for (const s of substitutes) {
        diagnostics.push({ severity: 'error', code: 'KeptLastGood', message: `${s.file} does not parse; enforcing its last good content until it is fixed`, file: s.file });
      }
    }
    diagnostics.push(...loaded.diagnostics);
    const validation = validateCluster(loaded.cluster);
    diagnostics.push(...validation);
    // An invalid policy of any kind: its last valid version, or nothing (the API server would refuse it).
    const invalid = ObjectMap.of(validation);
    const policies = this.lastValid(loaded.cluster.policies, (p) => ({ kind: 'NetworkPolicy', namespace: p.namespace, name: p.name }), invalid, diagnostics);
    const clusterPolicies = this.lastValid(loaded.cluster.clusterPolicies ?? [], (p) => ({ kind: p.kind, name: p.name }), invalid, diagnostics);
    // Diagnostics are all made above, from this read's objects; from here on, objects equal to the last
    // read's are that read's objects.
    const unchanged = new Set<string>();
    const before = new Map((last?.sources ?? []).map((x) => [x.file, x.text]));
    for (const x of read.sources) if (before.get(x.file) === x.text) unchanged.add(x.file);
    const cluster = this.interner.intern({ ...loaded.cluster, policies, ...(loaded.cluster.clusterPolicies ? { clusterPolicies } : {}) }, unchanged);
    this.last = { sources: read.sources, cluster, diagnostics, clean: read.diagnostics.length === 0 };
    return { cluster, diagnostics, generation: this.generation, ...(read.incomplete ? { incomplete: read.incomplete } : {}) };
  }

  /** Each object as read when valid, else its last valid version (or nothing), saying which. */
  private lastValid<T extends PolicyInfo | ClusterPolicyInfo>(objects: readonly T[], refOf: (x: T) => ObjectRef, invalid: ObjectMap<ObjectRef>, diagnostics: Diagnostic[]): T[] {
    const out: T[] = [];
    for (const p of objects) {
      const ref = refOf(p);
      if (!invalid.has(ref)) {
        this.lastValidPolicy.set(ref, p);
        out.push(p);
        continue;
      }
      const previous = this.lastValidPolicy.get(ref) as T | undefined;
      const label = objectLabel(ref.kind, ref.namespace, ref.name);
      const problem: Diagnostic = {
        severity: 'error',
        code: previous ? 'KeptLastValid' : 'SkippedInvalid',
        message: previous ? `${label} is invalid; enforcing its last valid version until it is fixed` : `${label} is invalid and was never valid; it is not enforced (the API server would refuse it)`,
        ...(p.source ? { file: p.source.file, line: p.source.line, column: p.source.column } : {}),
      };
      diagnostics.push(about(problem, ref));
      if (previous) out.push(previous);
    }
    return out;
  }

  /**
   * The input with what could not be used replaced by its last good content: unreadable paths (their
   * files as last read), files emptied in place, and a directory that became empty until it has stayed
   * so for `emptyHoldMs`. Says what is missing when nothing can stand in for it.
   */
  private keepLastGood(sources: readonly SourceText[], readDiagnostics: readonly Diagnostic[]): { sources: SourceText[]; diagnostics: Diagnostic[]; incomplete?: string } {
    const now = (this.opts.now ?? Date.now)();
    const diagnostics: Diagnostic[] = [...readDiagnostics];
    const out: SourceText[] = sources.filter((x) => x.file === STDIN_NAME);
    const missing: string[] = [];
    this.degraded = false;
    const failed = readDiagnostics.filter((d) => d.code === 'ReadError' && d.file !== undefined).map((d) => normalize(d.file as string));
    const lastGood = (file: string): SourceText[] => {
      const text = this.lastGoodText.get(file);
      return text === undefined ? [] : [{ file, text }];
    };
    const kept = (file: string, why: string): Diagnostic => ({ severity: 'error', code: 'KeptLastGood', message: `${file} ${why}; enforcing its last good content until it is fixed`, file });
    for (const root of this.opts.paths.filter((p) => p !== '-').map((p) => normalize(p))) {
      const files = sources.filter((x) => within(x.file, root));
      const before = this.lastFiles.get(root) ?? [];
      const lost = failed.filter((f) => within(f, root));
      const used: SourceText[] = [];
      for (const x of files) {
        // Emptied in place: a truncation or a failed write, not a decision (deleting the file is one).
        const good = x.text.trim() === '' ? lastGood(x.file).filter((g) => g.text.trim() !== '') : [];
        if (good.length > 0) diagnostics.push(kept(x.file, 'is empty'));
        used.push(...(good.length > 0 ? good : [x]));
      }
      for (const f of lost) {
        // What the unreadable path held when last read, as it was then.
        const stand = before.filter((file) => within(file, f) && !files.some((x) => x.file === file)).flatMap(lastGood);
        if (stand.length === 0) missing.push(f);
        for (const x of stand) diagnostics.push(kept(x.file, `cannot be read (${f})`));
        used.push(...stand);
      }
      let holding = false;
      if (lost.length === 0 && files.length === 0 && before.length > 0) {
        const since = this.emptySince.get(root) ?? now;
        const holdMs = this.opts.emptyHoldMs ?? DEFAULT_EMPTY_HOLD_MS;
        holding = now - since < holdMs;
        if (holding) {
          this.emptySince.set(root, since);
          used.push(...before.flatMap(lastGood));
          diagnostics.push({ severity: 'warning', code: 'HeldEmpty', message: `${root} has no manifests; keeping its last good content unless it stays empty for ${holdMs} ms`, file: root });
        }
      }
      if (!holding) this.emptySince.delete(root);
      if (holding || used.some((x) => !files.includes(x))) this.degraded = true;
      // In the order the files are read in (byte-wise names), as if they had been read.
      used.sort((x, y) => Buffer.compare(Buffer.from(x.file), Buffer.from(y.file)));
      out.push(...used);
      if (!holding)
        this.lastFiles.set(
          root,
          used.map((x) => x.file),
        );
    }
    if (missing.length > 0) this.degraded = true;
    return { sources: out, diagnostics, ...(missing.length > 0 ? { incomplete: `cannot read ${missing.join(', ')}` } : {}) };
  }
}

/** True when `file` is `dir` or inside it. */
function within(file: string, dir: string): boolean {
  const f = normalize(file);
  return f === dir || f.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

function sameSources(a: readonly SourceText[], b: readonly SourceText[]): boolean {
  return a.length === b.length && a.every((s, i) => s.file === b[i]?.file && s.text === b[i]?.text);
}

/**
 * Keeps object identity across reads: a pod, policy or namespace equal to one of the previous snapshot
 * (same kind, namespace and name, same content, same place in the files) is handed out as that same
 * object, and a list whose members are all the previous ones, in order, as the previous list. Consumers
 * that keep state between snapshots (the node compiler) compare by identity, so re-reading every file
 * after one edit costs them what the edit touched instead of a rebuild.
 *
 * An interned object keeps the previous read's `source.locate`: it points into the previous text, which
 * may differ from the current one outside the object, so diagnostics must be made before interning
 * (ManifestReader does).
 */
class Interner {
  private pods = new Map<string, PodInfo>();
  private policies = new Map<string, PolicyInfo>();
  private clusterPolicies = new Map<string, ClusterPolicyInfo>();
  private nodes = new Map<string, NodeInfo>();
  private last: Cluster | undefined;

  /** `unchanged`: files whose text is the same as in the previous read. */
  intern(c: Cluster, unchanged: ReadonlySet<string>): Cluster {
    const last = this.last;
    const pods = internList(c.pods, last?.pods, this.pods, unchanged, (p) => `${p.workload?.kind ?? 'Pod'} ${p.namespace}/${p.name}`);
    const policies = internList(c.policies, last?.policies, this.policies, unchanged, (p) => `${p.namespace}/${p.name}`);
    let namespaces = c.namespaces;
    if (last && last.namespaces.size === namespaces.size && [...namespaces].every(([k, v]) => sameData(last.namespaces.get(k), v))) namespaces = last.namespaces;
    // Cluster-scoped policies and Nodes stay absent when the input has none.
    const clusterPolicies = c.clusterPolicies && internList(c.clusterPolicies, last?.clusterPolicies, this.clusterPolicies, unchanged, (p) => `${p.kind}/${p.name}`);
    const nodes = c.nodes && internList(c.nodes, last?.nodes, this.nodes, unchanged, (n) => n.name);
    const same = last && pods === last.pods && policies === last.policies && namespaces === last.namespaces && clusterPolicies === last.clusterPolicies && nodes === last.nodes;
    const out = same ? last : { namespaces, pods, policies, ...(clusterPolicies ? { clusterPolicies } : {}), ...(nodes ? { nodes } : {}) };
    this.last = out;
    return out;
  }
}

function internList<T extends { readonly source?: ObjectSource }>(
  next: readonly T[],
  prev: readonly T[] | undefined,
  byKey: Map<string, T>,
  unchanged: ReadonlySet<string>,
  key: (x: T) => string,
): readonly T[] {
  const seen = new Map<string, T>();
  let allPrevious = prev !== undefined && prev.length === next.length;
  const out = next.map((x, i) => {
    const k = key(x);
    const old = byKey.get(k);
    // The same text at the same place decodes to the same object: no need to compare the contents.
    const kept = old !== undefined && ((x.source !== undefined && unchanged.has(x.source.file) && samePlace(old.source, x.source)) || sameData(old, x)) ? old : x;
    seen.set(k, kept);
    if (kept !== prev?.[i]) allPrevious = false;
    return kept;
  });
  byKey.clear();
  for (const [k, v] of seen) byKey.set(k, v);
  return allPrevious && prev ? prev : out;
}

/** Deep equality of decoded manifest data; a `source` compares by file and position (not its locator). */
function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameData(x, b[i]));
  if (Array.isArray(b)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = Object.keys(ra);
  if (keys.length !== Object.keys(rb).length) return false;
  for (const k of keys) {
    if (!(k in rb)) return false;
    if (k === 'source' ? !samePlace(ra[k] as ObjectSource | undefined, rb[k] as ObjectSource | undefined) : !sameData(ra[k], rb[k])) return false;
  }
  return true;
}

function samePlace(a: ObjectSource | undefined, b: ObjectSource | undefined): boolean {
  return a?.file === b?.file && a?.line === b?.line && a?.column === b?.column;
}

/**
 * Watches the manifests and delivers a snapshot per change. Besides the watches (src/agent/watch.ts), a
 * tick every `rescanMs` checks that each path is still the one watched and reads again while the input
 * is failing or an emptied directory is held, so that a fix is picked up even if no event announced it.
 */
export class FileClusterSource implements ClusterSource {
  private readonly reader: ManifestReader;
  private watchers: PathWatcher[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private tick: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: FileSourceOptions) {
    this.reader = new ManifestReader(opts);
  }

  async start(onSnapshot: (s: ClusterSnapshot) => void | Promise<void>): Promise<void> {
    const deliver = async () => {
      if (this.stopped) return;
      // Watch what the paths are now (a directory recreated or swapped since), then read.
      await this.checkPaths();
      await onSnapshot(await this.reader.read());
    };
    this.watchers = this.opts.paths.filter((p) => p !== '-').map((p) => new PathWatcher(p, this.opts.recursive, () => this.schedule(deliver)));
    await this.checkPaths();
    this.tick = setInterval(() => {
      void this.checkPaths().then((replaced) => {
        if (replaced || this.reader.pending) this.schedule(deliver);
      });
    }, this.opts.rescanMs ?? 1000);
    await deliver();
  }

  /** True when some path is no longer what was watched (it is watched anew). */
  private async checkPaths(): Promise<boolean> {
    const changed = await Promise.all(this.watchers.map((w) => w.check()));
    return changed.some(Boolean);
  }

  private schedule(deliver: () => Promise<void>): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // Serialise deliveries: a change arriving while one is applied is applied after it.
      this.running = this.running.then(deliver, deliver);
    }, this.opts.debounceMs ?? 15);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    clearInterval(this.tick);
    for (const w of this.watchers) w.close();
    this.watchers = [];
    await this.running.catch(() => undefined);
  }
}
