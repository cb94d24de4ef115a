/**
 * The fast decoder: each file's documents (YAML subset or JSON) into the Cluster model, Lists expanded,
 * names checked unique, namespaces resolved, as src/load does it; it gives up (unsupported.ts) on
 * anything src/load would report. Each document is decoded as soon as it is read, so its plain values
 * die young, and the plain values are reused as the decoded objects where the reference decoder would
 * copy them.
 */
import type { Diagnostic, ObjectSource } from '../../diag/index.js';
import { NAMESPACE_NAME_LABEL, type Cluster, type ClusterPolicyInfo, type NamespaceInfo, type PodInfo, type PolicyInfo, type ServiceInfo } from '../../model/index.js';
import type { NetworkPolicy } from '../../model/index.js';
import type { SourceText } from '../load.js';
import { withImplicitNamespaces, type NamespaceUse } from '../namespaces.js';
import { clusterPolicy, isClusterPolicyKind } from './cluster-policy.js';
import { namespaceSpecAndStatus, OBJECT_KEYS, PodAddresses, podIPs, podSpec } from './core.js';
import { isRec, onlyKeys, str } from './fields.js';
import type { DecodedEntry, FastLoadCache } from './file-cache.js';
import { jsonDocument, jsonValues, lazyJsonSource, looksLikeJson } from './json.js';
import { meta, metaValidity, type Meta } from './meta.js';
import { NP_KEYS, npSpec } from './network-policy.js';
import { service } from './service.js';
import { ScalarCache } from './span-cache.js';
import { SubsetParser, type FastDocument, type ItemPositions } from './subset.js';
import { give, Unsupported } from './unsupported.js';
import { lazyLines, objectSource, type Located } from './yaml-source.js';

const API_VERSIONS: Readonly<Record<string, string>> = {
  Namespace: 'v1',
  Pod: 'v1',
  NetworkPolicy: 'networking.k8s.io/v1',
  Service: 'v1',
  ClusterNetworkPolicy: 'policy.networking.k8s.io/v1alpha2',
  AdminNetworkPolicy: 'policy.networking.k8s.io/v1alpha1',
  BaselineAdminNetworkPolicy: 'policy.networking.k8s.io/v1alpha1',
};
const MAX_LIST_DEPTH = 8;

export function decodeAll(
  sources: readonly SourceText[],
  defaultNamespace: string,
  progress?: (done: number, total: number) => void,
  cache?: FastLoadCache,
): { cluster: Cluster; diagnostics: Diagnostic[] } {
  const decoder = new Decoder(defaultNamespace, cache !== undefined);
  const decoded = new Map<string, { readonly text: string; readonly entries: readonly DecodedEntry[] }>();
  for (const [k, src] of sources.entries()) {
    if (k > 0) progress?.(k, sources.length);
    const known = cache?.files.get(src.file);
    // A file decodes the same whatever the others hold: replay what it gave last time.
    let entries: readonly DecodedEntry[];
    if (known !== undefined && known.text === src.text) decoder.replay((entries = known.entries));
    else entries = decoder.file(src);
    if (cache) decoded.set(src.file, { text: src.text, entries });
  }
  progress?.(sources.length, sources.length);
  const loaded = decoder.cluster();
  if (cache) {
    cache.files.clear();
    for (const [file, entry] of decoded) cache.files.set(file, entry);
  }
  return loaded;
}

/**
 * What the sources decode to, file by file. (Methods rather than one function: the optimiser compiles
 * the function of a hot loop whole, so small ones are compiled faster, and once.)
 */
class Decoder {
  private readonly declared = new Map<string, NamespaceInfo>();
  private readonly pods: PodInfo[] = [];
  private readonly policies: PolicyInfo[] = [];
  private readonly clusterPolicies: ClusterPolicyInfo[] = [];
  private readonly services: ServiceInfo[] = [];
  /** The pods' addresses, to find one used twice. */
  private readonly addresses = new PodAddresses();
  /** Names seen, by kind and namespace; those of the last kind and namespace seen. */
  private readonly seen = new Map<string, Map<string, Set<string>>>();
  private lastKind = '';
  private lastNamespace = '';
  private lastNames: Set<string> | undefined;
  /** The first object in each namespace used, in source order (for the implicit-namespace warning). */
  private readonly uses = new Map<string, NamespaceUse>();
  /** The namespace of the last object noted there (undefined: none yet). */
  private lastUse: string | undefined;
  private readonly cache = new ScalarCache();
  /** What the file being decoded has added so far (when `keep`: only a cache needs it). */
  private added: DecodedEntry[] = [];

  constructor(
    private readonly defaultNamespace: string,
    private readonly keep: boolean,
  ) {}

  /** Decodes a file into the cluster; returns what it added (nothing unless `keep`). */
  file(src: SourceText): DecodedEntry[] {
    const added: DecodedEntry[] = [];
    this.added = added;
    if (looksLikeJson(src.text)) {
      this.jsonFile(src);
      return added;
    }
    const linesOf = lazyLines(src.text);
    let parser: SubsetParser;
    try {
      parser = new SubsetParser(src.text, this.cache);
    } catch (e) {
      if (e instanceof Unsupported) give(`${src.file}: ${e.message}`);
      throw e;
    }
    // Each document is decoded as soon as it is read, so its plain values die young.
    for (let doc = nextDocument(parser, src.file); doc !== undefined; doc = nextDocument(parser, src.file)) {
      const objects: Located[] = [];
      collect(doc.value, NO_DEFAULTS, 0, doc.line, doc.column, ROOT, objects, parser.items);
      for (const o of objects) this.object(o, objectSource(src.file, linesOf, doc, o));
    }
    return added;
  }

  /** A JSON file: each top-level value parsed by `JSON.parse`, positions found only when asked. */
  private jsonFile(src: SourceText): void {
    const spans = jsonValues(src.text) ?? give(`${src.file}: not a stream of JSON objects`);
    for (const span of spans) {
      let value: unknown;
      try {
        value = JSON.parse(src.text.slice(span.start, span.end));
      } catch {
        give(`${src.file}: invalid JSON`);
      }
      const objects: Located[] = [];
      collect(value, NO_DEFAULTS, 0, span.line, span.column, ROOT, objects, undefined);
      const root = jsonDocument(src.file, src.text, span);
      for (const o of objects) this.object(o, lazyJsonSource(src.file, span, root, o.path));
    }
  }

  /** Adds what a file decoded to before, with the same checks as when it was decoded. */
  replay(entries: readonly DecodedEntry[]): void {
    for (const e of entries) {
      if (e.kind === 'ClusterPolicy') {
        this.unique(e.value.kind, '', e.name);
        this.clusterPolicies.push(e.value);
        continue;
      }
      this.unique(e.kind, e.namespace, e.name);
      if (e.kind === 'Service') this.services.push(e.value);
      else if (e.kind === 'Namespace') this.declared.set(e.name, e.value);
      else {
        this.use(e.namespace, e.kind, e.name, e.value.source);
        if (e.kind === 'Pod') {
          this.pods.push(e.value);
          this.addresses.add(e.value);
        } else this.policies.push(e.value);
      }
    }
  }

  private object(o: Located, source: ObjectSource): void {
    if (isClusterPolicyKind(o.kind)) {
      const info = clusterPolicy(o.kind, o.apiVersion, o.value, source);
      this.unique(info.kind, '', info.name);
      this.clusterPolicies.push(info);
      if (this.keep) this.added.push({ kind: 'ClusterPolicy', namespace: '', name: info.name, value: info });
      return;
    }
    if (o.kind === 'Service') {
      this.service(o, source);
      return;
    }
    // Every kind is decoded strictly, as src/load/kinds.ts declares them.
    onlyKeys(o.value, o.kind === 'NetworkPolicy' ? NP_KEYS : OBJECT_KEYS, o.kind);
    str(o.value, 'apiVersion');
    str(o.value, 'kind');
    const m = meta(o.value.metadata, true);
    const name = m.name || m.generateName;
    if (!name) give('an object without a name');
    const namespaced = o.kind !== 'Namespace';
    // Metadata the API server would refuse is the reference loader's to report.
    if (o.kind === 'Namespace') {
      namespaceSpecAndStatus(o.value);
      if (!metaValidity.namespace(m)) give('invalid metadata');
    } else if (o.kind === 'Pod' && !metaValidity.pod(m)) give('invalid metadata');
    // The reference loader names an object by its metadata as written (`Pod /p` for `namespace: ""`).
    if (namespaced && (m.namespace === '' || m.name === '')) give('an empty name or namespace');
    const namespace = namespaced ? m.namespace || this.defaultNamespace : '';
    this.unique(o.kind, namespace, name);
    if (namespaced) this.use(namespace, o.kind, name, source);
    if (o.kind === 'Namespace') {
      const info: NamespaceInfo = { name, labels: { ...m.labels, [NAMESPACE_NAME_LABEL]: name }, implicit: false, source };
      this.declared.set(name, info);
      if (this.keep) this.added.push({ kind: 'Namespace', namespace: '', name, value: info });
    } else if (o.kind === 'Pod') {
      const spec = podSpec(o.value.spec);
      // The labels map is this module's own, met once: no copy needed.
      const pod: { -readonly [K in keyof PodInfo]: PodInfo[K] } = { namespace, name, labels: m.labels ?? {}, ips: podIPs(o.value.status), ports: spec.ports, source };
      if (spec.nodeName !== undefined) pod.nodeName = spec.nodeName;
      if (spec.hostNetwork !== undefined) pod.hostNetwork = spec.hostNetwork;
      this.pods.push(pod);
      this.addresses.add(pod);
      if (this.keep) this.added.push({ kind: 'Pod', namespace, name, value: pod });
    } else {
      // As `{ ...spec, podSelector: spec.podSelector ?? {} }` and `{ ...m, namespace }`, in place.
      const spec = npSpec(o.value.spec);
      spec.podSelector ??= {};
      const metadata: { -readonly [K in keyof Meta]: Meta[K] } = m;
      metadata.namespace = namespace;
      const policy = { apiVersion: o.apiVersion, kind: 'NetworkPolicy', metadata, spec } as unknown as NetworkPolicy;
      const info: PolicyInfo = { namespace, name, policy, source };
      this.policies.push(info);
      if (this.keep) this.added.push({ kind: 'NetworkPolicy', namespace, name, value: info });
    }
  }

  /** A Service: it implies no namespace (it changes no answer), as in the reference loader. */
  private service(o: Located, source: ObjectSource): void {
    const m = meta(o.value.metadata, true);
    const name = m.name || m.generateName;
    if (!name || m.namespace === '' || m.name === '') give('a Service without a name or namespace');
    const namespace = m.namespace || this.defaultNamespace;
    this.unique('Service', namespace, name);
    const info = service(o.apiVersion, o.value, namespace, name, source);
    this.services.push(info);
    if (this.keep) this.added.push({ kind: 'Service', namespace, name, value: info });
  }

  /** Gives up on a second object of the same kind, namespace and name. */
  private unique(kind: string, namespace: string, name: string): void {
    // Objects come in runs of one kind and namespace: the names of the last one are at hand.
    let names = this.lastNames;
    if (names === undefined || kind !== this.lastKind || namespace !== this.lastNamespace) {
      let byNs = this.seen.get(kind);
      if (!byNs) this.seen.set(kind, (byNs = new Map()));
      let found = byNs.get(namespace);
      if (!found) byNs.set(namespace, (found = new Set()));
      names = found;
      this.lastKind = kind;
      this.lastNamespace = namespace;
      this.lastNames = names;
    }
    const known = names.size;
    names.add(name);
    if (names.size === known) give('a duplicate object');
  }

  /** Notes the first object of each namespace. */
  private use(namespace: string, kind: string, name: string, source: ObjectSource | undefined): void {
    if (namespace === this.lastUse) return;
    this.lastUse = namespace;
    if (!this.uses.has(namespace)) this.uses.set(namespace, { object: { kind, namespace, name }, source });
  }

  /** The cluster, and the warning about namespaces used but not declared (as the reference loader words it). */
  cluster(): { cluster: Cluster; diagnostics: Diagnostic[] } {
    if (this.addresses.shared()) give('pods that share an address');
    const { namespaces, diagnostics } = withImplicitNamespaces(this.declared, this.uses);
    const cluster = {
      namespaces,
      pods: this.pods,
      policies: this.policies,
      ...(this.clusterPolicies.length > 0 ? { clusterPolicies: this.clusterPolicies } : {}),
      ...(this.services.length > 0 ? { services: this.services } : {}),
    };
    return { cluster, diagnostics };
  }
}

function nextDocument(parser: SubsetParser, file: string): FastDocument | undefined {
  try {
    return parser.nextDocument();
  } catch (e) {
    if (e instanceof Unsupported) give(`${file}: ${e.message}`);
    throw e;
  }
}

/** The path of a document's root object, and the defaults it inherits (none); shared by all. */
const ROOT: readonly number[] = Object.freeze([]);
const NO_DEFAULTS: { readonly kind?: string; readonly apiVersion?: string } = Object.freeze({});

/** Objects of a document, Lists expanded, as src/load/objects.ts finds them. */ function collect(
  value: unknown,
  inherited: { readonly kind?: string; readonly apiVersion?: string },
  depth: number,
  line: number,
  column: number,
  path: readonly number[],
  out: Located[],
  /** Positions of list items (YAML); undefined for JSON, whose positions are found when asked. */
  items: ItemPositions | undefined,
): void {
  if (!isRec(value)) give('an object that is not a map');
  const kindV = value.kind;
  const apiV = value.apiVersion;
  const kind = typeof kindV === 'string' && kindV !== '' ? kindV : inherited.kind;
  const apiVersion = typeof apiV === 'string' && apiV !== '' ? apiV : inherited.apiVersion;
  if (kind !== undefined && (kind === 'List' || (kind.endsWith('List') && Object.hasOwn(value, 'items')))) {
    if (depth >= MAX_LIST_DEPTH) give('lists nested too deep');
    const list = value.items;
    if (list === undefined || list === null) return;
    if (!Array.isArray(list)) give('items is not a list');
    const defaults = kind === 'List' ? {} : { kind: kind.slice(0, -'List'.length), ...(apiVersion !== undefined ? { apiVersion } : {}) };
    list.forEach((item, k) => {
      const pos = !isRec(item) ? undefined : items === undefined ? line * 2 ** 20 + column : items.get(item);
      if (pos === undefined) give('a list item that is not a map');
      collect(item, defaults, depth + 1, Math.floor(pos / 2 ** 20), pos % 2 ** 20, [...path, k], out, items);
    });
    return;
  }
  if (kind === undefined || apiVersion === undefined) give('an object without kind or apiVersion');
  if (API_VERSIONS[kind] === undefined) give(`kind ${kind}`);
  if (API_VERSIONS[kind] !== apiVersion) give(`${kind} in ${apiVersion}`);
  out.push({ kind, apiVersion, value, line, column, path });
}
