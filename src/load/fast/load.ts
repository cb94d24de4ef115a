/**
 * A fast path for loading large manifest sets, used by the CLI and the agent (src/load stays the
 * reference loader: this path returns exactly what it would, or hands over to it).
 *
 * Design choice: the reference loader builds the `yaml` package's full node tree (about 0.3 ms per
 * object), which alone takes seconds at 20,000 objects and minutes at 150,000. Generated manifests and
 * `kubectl get -o yaml` dumps use a small, regular subset of YAML: block mappings and sequences,
 * plain and quoted scalars, `|` literals, comments, `---` between documents. This module reads that
 * subset line by line straight into plain values (scalars resolved by the reference loader's own
 * `resolvePlain`, so `on`, `0777`, `1e3` mean what kubectl makes of them), decodes Namespace, Pod and
 * NetworkPolicy (and Lists of them) the way src/load does, and hands *everything* to the reference
 * loader the moment it meets anything else: another syntax (anchors, flow collections, folded or
 * multi-line scalars, tabs, CRLF, duplicate keys), another kind (workloads, Services, ...), a field
 * it does not know or of the wrong type, or any condition the reference loader would report (invalid
 * pod IP or container port, duplicate object). So the fast path either returns exactly what
 * `loadCluster` would, with no diagnostics but the one both make for namespaces used and not declared
 * (src/load/namespaces.ts), or is not taken. Source positions are exact;
 * `locate` re-parses the one document with the reference parser, lazily, when a diagnostic needs a
 * field's position.
 *
 * What keeps it cheap (most of the cost at 20,000 objects is allocation and garbage collection): each
 * document is decoded as soon as it is read, so its plain values die young; the plain values this
 * module built are reused as the decoded objects where the reference decoder would copy them (no
 * nulls to drop); keys and scalars are looked up in a cache by their text before any string is made
 * (`SpanCache`: `apiVersion`, `app`, a namespace's name, a CIDR are read once per load, then handed
 * out as the same string, which also makes them fast property and map keys); lines are scanned with
 * `charCodeAt`, lists are built at their exact size.
 *
 * The parts: subset.ts reads the YAML subset (span-cache.ts remembers its keys and scalars), json.ts
 * finds the values of JSON text for `JSON.parse`; decoder.ts turns documents into the Cluster model with
 * fields.ts, meta.ts, core.ts (Pod, Namespace), network-policy.ts and cluster-policy.ts; yaml-source.ts
 * and json.ts find positions when asked; file-cache.ts keeps decoded files between loads; anything
 * unsupported gives up through unsupported.ts, caught here.
 */
import { loadCluster, type LoadOptions, type LoadResult, type SourceText } from '../load.js';
import { decodeAll } from './decoder.js';
import type { FastLoadCache } from './file-cache.js';
import { jsonStreamAsYaml, looksLikeJson } from './json.js';
import { Unsupported } from './unsupported.js';

export interface FastLoadResult extends LoadResult {
  /** True when the fast path produced the result; false when the reference loader did. */
  readonly fast: boolean;
  /** Why the fast path was not taken (for benchmarks and debugging). */
  readonly fallbackReason?: string;
}

export interface FastLoadOptions extends LoadOptions {
  /** Called after each source (files done, files in all), for progress on a terminal. */
  readonly progress?: (done: number, total: number) => void;
  /**
   * Keeps what each file decoded to, for the next load with the same cache: a file whose text has not
   * changed is not parsed again, and yields the very same objects. For a process that re-reads the same
   * manifests after each edit (the node agent). Use one cache with one `defaultNamespace`.
   */
  readonly cache?: FastLoadCache;
}

/** `loadCluster`, faster on the subset of YAML that generated and kubectl-dumped manifests use. */
export function loadClusterFast(sources: readonly SourceText[], opts: FastLoadOptions = {}): FastLoadResult {
  try {
    return { ...decodeAll(sources, opts.defaultNamespace ?? 'default', opts.progress, opts.cache), fast: true };
  } catch (e) {
    // A stack overflow (input nested deeper than the recursive subset parser goes) hands over too: the
    // reference loader reports the depth limit at the right place.
    if (!(e instanceof Unsupported) && !(e instanceof RangeError)) throw e;
    const { progress: _progress, cache: _cache, ...rest } = opts;
    // The reference loader reads one JSON document per file: a stream gets document markers.
    const texts = sources.map((src) => (looksLikeJson(src.text) ? { ...src, text: jsonStreamAsYaml(src.text) } : src));
    return { ...loadCluster(texts, rest), fast: false, fallbackReason: e instanceof RangeError ? 'nested too deep' : e.message };
  }
}
