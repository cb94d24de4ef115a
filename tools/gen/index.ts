/**
 * Generated clusters as manifest files: the shapes of shapes.ts and mixed.ts written as multi-document
 * YAML, so that benchmarks measure parsing too. Pure: returns file names and texts; scripts/gen.ts
 * writes them to disk. A development tool: tools/ is outside the build and the published package.
 *
 * Design choice: one file per kind and chunk (`namespaces.yaml`, `pods-000.yaml`, `policies-000.yaml`,
 * at most `chunk` objects each), so no single string gets near V8's string limit at 150,000 pods and a
 * loader can stream file by file.
 */
import { NAMESPACE_NAME_LABEL, type Cluster, type NamedPort, type NamespaceInfo, type PodInfo, type PolicyInfo, type Protocol } from '../../src/model/index.js';
import { formatIP, parseIPSloppy } from '../../src/ip/index.js';
import { generateObjects, type GenOptions, type GeneratedObjects, type ShapeName } from './shapes.js';
import { toYamlDocuments } from './yaml.js';

export { GENERATOR_VERSION, SHAPES, SHAPE_DESCRIPTIONS, generateObjects, isShapeName } from './shapes.js';
export type { GenOptions, GeneratedObjects, ShapeName } from './shapes.js';
export { random } from './random.js';
export { generateClusterPolicies } from './cluster-policies.js';
export { ChangeStream } from './changes.js';
export type { Change } from './changes.js';
export type { Random } from './random.js';
export { scalar, toYaml, toYamlDocuments } from './yaml.js';

export interface GeneratedFile {
  readonly name: string;
  readonly text: string;
}

export interface FileOptions {
  /** Objects per file, default 20,000. */
  readonly chunk?: number;
  /**
   * `yaml` (default): multi-document YAML; `json-list`: one `kind: List` per file, indented as
   * `kubectl get -o json` prints it; `json-stream`: one JSON object per line.
   */
  readonly format?: FileFormat;
}

export const FILE_FORMATS = ['yaml', 'json-list', 'json-stream'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

function render(list: readonly object[], format: FileFormat): string {
  if (format === 'json-list') return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: list }, null, 4)}\n`;
  if (format === 'json-stream') return list.map((o) => `${JSON.stringify(o)}\n`).join('');
  return toYamlDocuments(list);
}

/** The objects of a shape as manifest files (YAML, or JSON: see `FileOptions.format`). */
export function toFiles(objects: GeneratedObjects, opts: FileOptions = {}): GeneratedFile[] {
  const chunk = opts.chunk ?? 20_000;
  const format = opts.format ?? 'yaml';
  const ext = format === 'yaml' ? 'yaml' : 'json';
  const files: GeneratedFile[] = [{ name: `namespaces.${ext}`, text: render(objects.namespaces, format) }];
  const chunks = (prefix: string, list: readonly object[]): void => {
    for (let i = 0, k = 0; i < list.length; i += chunk, k++) {
      files.push({ name: `${prefix}-${String(k).padStart(3, '0')}.${ext}`, text: render(list.slice(i, i + chunk), format) });
    }
  };
  chunks('pods', objects.pods);
  chunks('policies', objects.policies);
  return files;
}

/** A shape straight to YAML files. */
export function generateFiles(shape: ShapeName, opts: GenOptions & FileOptions = {}): GeneratedFile[] {
  return toFiles(generateObjects(shape, opts), opts);
}

/**
 * The Cluster the loader builds from these objects, without going through YAML: for tests and for
 * timing the analysis alone. Generated objects are valid and carry no surprises (no workloads, no
 * implicit namespaces), so this mirrors src/load for them; the tests check that it does.
 */
export function toCluster(objects: GeneratedObjects): Cluster {
  const namespaces = new Map<string, NamespaceInfo>();
  for (const n of objects.namespaces) {
    const name = n.metadata.name ?? '';
    namespaces.set(name, { name, labels: { ...n.metadata.labels, [NAMESPACE_NAME_LABEL]: name }, implicit: false });
  }
  const pods: PodInfo[] = objects.pods.map((p) => {
    const ips: string[] = [];
    for (const t of [p.status?.podIP, ...(p.status?.podIPs ?? []).map((x) => x.ip)]) {
      const ip = t === undefined ? undefined : parseIPSloppy(t);
      if (ip && !ips.includes(formatIP(ip))) ips.push(formatIP(ip));
    }
    const ports: NamedPort[] = p.spec.containers.flatMap((c) =>
      (c.ports ?? []).map((cp) => ({ ...(cp.name ? { name: cp.name } : {}), port: cp.containerPort, protocol: (cp.protocol ?? 'TCP') as Protocol })),
    );
    return {
      namespace: p.metadata.namespace ?? 'default',
      name: p.metadata.name ?? '',
      labels: { ...p.metadata.labels },
      ips,
      ports,
      ...(p.spec.nodeName ? { nodeName: p.spec.nodeName } : {}),
    };
  });
  const policies: PolicyInfo[] = objects.policies.map((np) => ({ namespace: np.metadata.namespace ?? 'default', name: np.metadata.name ?? '', policy: np }));
  const sorted = new Map([...namespaces.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { namespaces: sorted, pods, policies };
}
