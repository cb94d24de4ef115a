/**
 * Where the agent's view of the cluster comes from. `ClusterSource` is the seam: this file's
 * `FileClusterSource` watches manifests on disk; a live Kubernetes source (informers) implements the
 * same interface later without touching the agent.
 *
 * Safety rule: a bad edit never takes down enforcement of what was valid. A file that stops parsing
 * keeps its last good content; a NetworkPolicy that becomes invalid keeps its last valid version (or,
 * if it never had one, is left out, as the API server would have refused it). Each such fallback is
 * reported loudly as an error diagnostic.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { validateCluster } from '../analysis.js';
import type { Diagnostic } from '../diag/diagnostic.js';
import { readSources } from '../load/sources.js';
import type { Cluster, PolicyInfo } from '../model/cluster.js';
import { loadClusterFast } from '../scale/fastload.js';

export interface ClusterSnapshot {
  readonly cluster: Cluster;
  /** Problems in the input, including which fallbacks were taken. */
  readonly diagnostics: readonly Diagnostic[];
  /** Increases with every snapshot. */
  readonly generation: number;
}

export interface ClusterSource {
  /** Delivers a first snapshot, then one per change, until stopped. */
  start(onSnapshot: (s: ClusterSnapshot) => void | Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

export interface FileSourceOptions {
  readonly paths: readonly string[];
  readonly recursive: boolean;
  /** Changes closer together than this are taken as one (editors write files in several steps). */
  readonly debounceMs?: number;
}

/** Problems that make a whole file unusable (as opposed to one object in it). */
const FATAL: ReadonlySet<string> = new Set(['YAMLSyntax', 'DuplicateKey', 'YAMLAliasLimit']);

function policyKey(p: { namespace: string; name: string }): string {
  return `${p.namespace}/${p.name}`;
}

/** Reads manifests once: the snapshot logic of FileClusterSource without the watching. */
export class ManifestReader {
  private readonly lastGoodText = new Map<string, string>();
  private readonly lastValidPolicy = new Map<string, PolicyInfo>();
  private generation = 0;

  constructor(private readonly opts: Pick<FileSourceOptions, 'paths' | 'recursive'>) {}

  async read(): Promise<ClusterSnapshot> {
    const read = await readSources(this.opts.paths, { recursive: this.opts.recursive });
    const diagnostics: Diagnostic[] = [...read.diagnostics];
    // A file that does not parse keeps its last good content.
    // The fast loader returns exactly what the reference loader would, or hands over to it.
    let loaded = loadClusterFast(read.sources);
    const unparsable = new Set(loaded.diagnostics.filter((d) => d.severity === 'error' && FATAL.has(d.code) && d.file !== undefined).map((d) => d.file as string));
    const substitutes = read.sources.filter((s) => unparsable.has(s.file) && this.lastGoodText.has(s.file));
    for (const s of read.sources) if (!unparsable.has(s.file)) this.lastGoodText.set(s.file, s.text);
    if (substitutes.length > 0) {
      loaded = loadClusterFast(read.sources.map((s) => (unparsable.has(s.file) && this.lastGoodText.has(s.file) ? { file: s.file, text: this.lastGoodText.get(s.file) as string } : s)));
      for (const s of substitutes) {
        diagnostics.push({ severity: 'error', code: 'KeptLastGood', message: `${s.file} does not parse; enforcing its last good content until it is fixed`, file: s.file });
      }
    }
    diagnostics.push(...loaded.diagnostics);
    const validation = validateCluster(loaded.cluster);
    diagnostics.push(...validation);
    const invalid = new Set(validation.filter((d) => d.severity === 'error' && d.object).map((d) => (d.object ?? '').replace(/^NetworkPolicy /, '')));
    const policies: PolicyInfo[] = [];
    for (const p of loaded.cluster.policies) {
      const key = policyKey(p);
      if (!invalid.has(key)) {
        this.lastValidPolicy.set(key, p);
        policies.push(p);
        continue;
      }
      const previous = this.lastValidPolicy.get(key);
      diagnostics.push({
        severity: 'error',
        code: previous ? 'KeptLastValid' : 'SkippedInvalid',
        message: previous
          ? `NetworkPolicy ${key} is invalid; enforcing its last valid version until it is fixed`
          : `NetworkPolicy ${key} is invalid and was never valid; it is not enforced (the API server would refuse it)`,
        object: `NetworkPolicy ${key}`,
        ...(p.source ? { file: p.source.file, line: p.source.line, column: p.source.column } : {}),
      });
      if (previous) policies.push(previous);
    }
    this.generation++;
    return { cluster: { ...loaded.cluster, policies }, diagnostics, generation: this.generation };
  }
}

export class FileClusterSource implements ClusterSource {
  private readonly reader: ManifestReader;
  private watchers: FSWatcher[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: FileSourceOptions) {
    this.reader = new ManifestReader(opts);
  }

  async start(onSnapshot: (s: ClusterSnapshot) => void | Promise<void>): Promise<void> {
    const deliver = async () => {
      if (this.stopped) return;
      await onSnapshot(await this.reader.read());
    };
    for (const p of this.opts.paths) {
      if (p === '-') continue;
      const isDir = (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
      // Watch directories, not files: editors and `kubectl`-style tools replace files by renaming.
      const dir = isDir ? p : dirname(resolve(p));
      const w = watch(dir, { recursive: isDir && this.opts.recursive }, () => this.schedule(deliver));
      w.on('error', () => this.schedule(deliver));
      this.watchers.push(w);
    }
    await deliver();
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
    for (const w of this.watchers) w.close();
    this.watchers = [];
    await this.running.catch(() => undefined);
  }
}
