/**
 * Manifest texts -> the Cluster model, with diagnostics. Pure: no IO (sources.ts reads the files).
 *
 * Design choice: the loader behaves like an API server receiving the manifests: an object it would
 * refuse to decode (unknown field, wrong type, unserved apiVersion) is reported and left out of the
 * cluster, as is the second of two objects with the same kind, namespace and name. What the cluster
 * would add on its own is added here too (the namespace name label, the `default` namespace of objects
 * without one, namespaces that objects use but no manifest declares), each guess visible as a warning.
 * NetworkPolicies are decoded, not validated: src/validate does the API server's validation.
 */
import { attachSource, hasErrors, objectLabel, type ObjectRef } from '../diag/index.js';
import type { Diagnostic, ObjectSource } from '../diag/index.js';
import { automaticLabels, PROTOCOLS, podKey } from '../model/index.js';
import type {
  Cluster,
  ClusterPolicyInfo,
  Labels,
  NamedPort,
  NamespaceInfo,
  NodeInfo,
  PodInfo,
  PolicyInfo,
  Protocol,
  WorkloadRef,
  Container,
  Node,
  PodSpec,
  PodStatus,
  Service,
  ServiceInfo,
} from '../model/index.js';
import { formatIP, parseIPSloppy } from '../ip/index.js';
import { validateNamespaceMeta, validateNamespacedMeta, validateService, validateTemplateMeta } from '../validate/index.js';
import { decodeKind, isClusterScopedKind, isKnownKind, knownKindIgnoringCase } from './kinds.js';
import { withImplicitNamespaces, type NamespaceUse } from './namespaces.js';
import { collectObjects, metadataString } from './objects.js';
import type { RawObject } from './objects.js';
import { parseDocuments } from './yaml.js';

export interface SourceText {
  /** File name as the user gave it (`<stdin>` for standard input). */
  readonly file: string;
  readonly text: string;
}

export interface LoadOptions {
  /** Namespace of namespaced objects that do not say (kubectl's `-n`). Default `default`. */
  readonly defaultNamespace?: string;
  /** Alias expansion bound per YAML document, see {@link parseDocuments}. */
  readonly maxAliasCount?: number;
}

export interface LoadResult {
  readonly cluster: Cluster;
  /** Ordered by file (in the order of `sources`), then line, then column. */
  readonly diagnostics: Diagnostic[];
}

export function loadCluster(sources: readonly SourceText[], opts: LoadOptions = {}): LoadResult {
  const defaultNamespace = opts.defaultNamespace ?? 'default';
  const diagnostics: Diagnostic[] = [];
  const objects: RawObject[] = [];
  for (const src of sources) {
    const parsed = parseDocuments(src.file, src.text, opts.maxAliasCount !== undefined ? { maxAliasCount: opts.maxAliasCount } : {});
    diagnostics.push(...parsed.diagnostics);
    for (const root of parsed.documents) {
      const r = collectObjects(src.file, root);
      diagnostics.push(...r.diagnostics);
      objects.push(...r.objects);
    }
  }

  const declared = new Map<string, NamespaceInfo>();
  const pods: PodInfo[] = [];
  const policies: PolicyInfo[] = [];
  const clusterPolicies: ClusterPolicyInfo[] = [];
  const nodes: NodeInfo[] = [];
  const services: ServiceInfo[] = [];
  const firstDefinition = new Map<string, ObjectSource>();
  /** First object using each namespace, for the implicit-namespace warning. */
  const references = new Map<string, NamespaceUse>();

  for (const raw of objects) {
    const { kind, apiVersion, node, source } = raw;
    const namespaced = !isClusterScopedKind(kind);
    const metaName = metadataString(node, 'name') ?? metadataString(node, 'generateName');
    const metaNamespace = metadataString(node, 'namespace');
    const shownNamespace = namespaced ? (metaNamespace ?? (isKnownKind(kind) ? defaultNamespace : undefined)) : undefined;
    const object: ObjectRef = { kind, ...(shownNamespace !== undefined ? { namespace: shownNamespace } : {}), name: metaName ?? '<unnamed>' };
    const label = objectLabel(kind, shownNamespace, object.name);
    const report = (d: Diagnostic): void => {
      diagnostics.push(attachSource(d, object, source));
    };

    if (!isKnownKind(kind)) {
      const meant = knownKindIgnoringCase(kind, apiVersion);
      // The API server's kinds are case-sensitive: `networkpolicy` in networking.k8s.io/v1 is no kind at all.
      if (meant)
        report({
          severity: 'error',
          code: 'NoKindMatch',
          message: `no matches for kind ${JSON.stringify(kind)} in version ${JSON.stringify(apiVersion)} (did you mean ${JSON.stringify(meant)}?)`,
          path: 'kind',
        });
      else report({ severity: 'info', code: 'UnknownKind', message: `ignored: netpol does not read kind ${JSON.stringify(kind)} (${apiVersion})` });
      continue;
    }
    // The same object twice is reported even when a copy fails to decode (the name is read as it is).
    const rawKey = metaName !== undefined ? `${kind}\u0000${namespaced ? metaNamespace || defaultNamespace : ''}\u0000${metaName}` : undefined;
    const { decoded, diagnostics: decodeDiagnostics } = decodeKind(kind, apiVersion, node);
    decodeDiagnostics.forEach(report);
    // Every problem, not only the first: metadata is validated even when another field failed to decode
    // (not when a metadata field did: its absence would be reported as a second, made-up problem).
    const metadataDecoded = !decodeDiagnostics.some((d) => d.severity === 'error' && d.code === 'FieldValueTypeInvalid' && /(^|\.)metadata\./.test(d.path ?? ''));
    if (decoded && metadataDecoded) metadataProblems(decoded).forEach(report);
    if (!decoded || hasErrors(decodeDiagnostics)) {
      if (rawKey !== undefined) {
        const first = firstDefinition.get(rawKey);
        if (first) report({ severity: 'error', code: 'Duplicate', message: `${label} is already defined at ${first.file}:${first.line}:${first.column}` });
        else firstDefinition.set(rawKey, source);
      }
      continue;
    }

    const meta = decoded.object.metadata;
    // With only generateName the server picks the name; its prefix stands for it here.
    let name = meta.name || meta.generateName;
    if (!name) {
      if (decoded.kind === 'Node' || decoded.kind === 'ClusterPolicy') {
        report({ severity: 'error', code: 'FieldValueRequired', message: 'Required value: name or generateName is required', path: 'metadata.name' });
      }
      // Other kinds: reported by the metadata validation above, as the API server words it.
      if (decoded.kind !== 'NetworkPolicy') continue;
      name = ''; // src/validate reports it, as the API server would.
    }
    // "An empty namespace is equivalent to the "default" namespace" (ObjectMeta.namespace); kubectl fills in `-n`.
    const namespace = namespaced ? meta.namespace || defaultNamespace : '';

    if (name !== '') {
      const key = `${kind}\u0000${namespace}\u0000${name}`;
      const first = firstDefinition.get(key);
      if (first) {
        report({
          severity: 'error',
          code: 'Duplicate',
          message: `${label} is already defined at ${first.file}:${first.line}:${first.column}`,
        });
        continue;
      }
      firstDefinition.set(key, source);
    }
    // A Service changes no answer (it only names pods on the command line), so it implies no namespace.
    if (namespaced && decoded.kind !== 'Service' && !references.has(namespace)) references.set(namespace, { object, source });

    switch (decoded.kind) {
      case 'Namespace': {
        // "The Kubernetes control plane sets an immutable label kubernetes.io/metadata.name on all
        // namespaces. The value of the label is the namespace name." (Namespaces concept page)
        const labels: Labels = { ...meta.labels, ...automaticLabels(name) };
        declared.set(name, { name, labels, implicit: false, source });
        break;
      }
      case 'Pod': {
        const pod = decoded.object;
        pods.push({
          namespace,
          name,
          labels: { ...meta.labels },
          ips: podIPs(pod.status, report),
          ...podSpecInfo(pod.spec, 'spec', report),
          source,
        });
        break;
      }
      case 'Workload': {
        const w = decoded.object;
        if (!w.template) {
          report({ severity: 'warning', code: 'MissingPodTemplate', message: `no pod template at ${w.templatePath}: the workload contributes no pods`, path: w.templatePath });
          break;
        }
        const workload: WorkloadRef = { kind: w.kind, name, ...(w.replicas !== undefined ? { replicas: w.replicas } : {}) };
        pods.push({
          namespace,
          name,
          labels: { ...w.template.metadata.labels },
          ips: [],
          ...podSpecInfo(w.template.spec, `${w.templatePath}.spec`, report),
          workload,
          source,
        });
        break;
      }
      case 'ClusterPolicy':
        clusterPolicies.push({ kind: decoded.object.kind, name, policy: decoded.object, source });
        break;
      case 'Service':
        services.push(serviceInfo(decoded.object, namespace, name, source));
        break;
      case 'Node':
        nodes.push({ name, labels: { ...meta.labels }, addresses: nodeAddresses(decoded.object, report), source });
        break;
      case 'NetworkPolicy': {
        // The API server stores the namespace it created the object in.
        const policy = { ...decoded.object, metadata: { ...decoded.object.metadata, namespace } };
        policies.push({ namespace, name, policy, source });
        break;
      }
    }
  }

  // Pods from different kinds (a Pod and a Deployment, say) can share a name; consumers key pods by it.
  const podNames = new Map<string, PodInfo>();
  for (const p of pods) {
    const key = podKey(p);
    const other = podNames.get(key);
    if (other) {
      diagnostics.push(
        attachSource(
          {
            severity: 'warning',
            code: 'DuplicatePodName',
            message: `pod name ${key} is used by both ${describePod(other)} and ${describePod(p)}`,
            path: 'metadata.name',
          },
          { kind: p.workload?.kind ?? 'Pod', namespace: p.namespace, name: p.name },
          p.source,
        ),
      );
    } else {
      podNames.set(key, p);
    }
  }

  for (const d of sharedAddresses(pods)) diagnostics.push(d);

  const { namespaces, diagnostics: namespaceWarnings } = withImplicitNamespaces(declared, references);
  diagnostics.push(...namespaceWarnings);

  // Present only when the input has them, so a cluster of NetworkPolicies looks as it always did.
  const cluster: Cluster = {
    namespaces,
    pods,
    policies,
    ...(clusterPolicies.length > 0 ? { clusterPolicies } : {}),
    ...(nodes.length > 0 ? { nodes } : {}),
    ...(services.length > 0 ? { services } : {}),
  };
  return { cluster, diagnostics: sortDiagnostics(diagnostics, sources) };
}

/** API-server validation of the metadata of every kind but NetworkPolicy (src/validate validates those whole). */
function metadataProblems(decoded: NonNullable<ReturnType<typeof decodeKind>['decoded']>): Diagnostic[] {
  switch (decoded.kind) {
    case 'Namespace':
      return validateNamespaceMeta(decoded.object.metadata);
    case 'Pod':
      return validateNamespacedMeta(decoded.object.metadata);
    case 'Workload': {
      const w = decoded.object;
      return [...validateNamespacedMeta(w.metadata), ...(w.template ? validateTemplateMeta(w.template.metadata, w.templatePath) : [])];
    }
    case 'Service':
      return validateService(decoded.object);
    case 'NetworkPolicy':
    case 'ClusterPolicy':
    case 'Node':
      // NetworkPolicies are validated whole by src/validate, cluster-scoped policies by src/validate/crd;
      // nodes are read for their addresses only.
      return [];
  }
}

/**
 * Two pods (not on the host network, whose pods share their node's address) with the same address: a
 * question about that address cannot tell them apart, and the cluster would not have given it twice.
 */
export function sharedAddresses(pods: readonly PodInfo[]): Diagnostic[] {
  const byIP = new Map<string, PodInfo>();
  const out: Diagnostic[] = [];
  for (const p of pods) {
    if (p.hostNetwork === true) continue;
    for (const ip of p.ips) {
      const other = byIP.get(ip);
      if (!other) {
        byIP.set(ip, p);
        continue;
      }
      out.push(
        attachSource(
          { severity: 'warning', code: 'DuplicatePodIP', message: `address ${ip} is also the address of pod ${podKey(other)}; questions about ${ip} are ambiguous`, path: 'status.podIP' },
          { kind: 'Pod', namespace: p.namespace, name: p.name },
          p.source,
        ),
      );
    }
  }
  return out;
}

function describePod(p: PodInfo): string {
  return `${p.workload?.kind ?? 'Pod'} ${p.name}`;
}

export type Report = (d: Diagnostic) => void;

/** IPs from status.podIP / status.podIPs, canonical and deduplicated; invalid ones are reported and skipped. */
export function podIPs(status: PodStatus | undefined, report: Report): string[] {
  const candidates: { text: string; path: string }[] = [];
  if (status?.podIP) candidates.push({ text: status.podIP, path: 'status.podIP' });
  status?.podIPs?.forEach((p, i) => {
    if (p.ip) candidates.push({ text: p.ip, path: `status.podIPs[${i}].ip` });
  });
  const out: string[] = [];
  for (const c of candidates) {
    // The API server accepts pod IPs with the legacy (sloppy) parser: IPv4 octets with leading zeros
    // are read as decimal. We store the canonical text.
    const ip = parseIPSloppy(c.text);
    if (!ip) {
      report({
        severity: 'warning',
        code: 'InvalidPodIP',
        message: `Invalid value: ${JSON.stringify(c.text)}: must be a valid IP address (ignored)`,
        path: c.path,
      });
      continue;
    }
    const text = formatIP(ip);
    if (!out.includes(text)) out.push(text);
  }
  return out;
}

/** Node addresses of `status.addresses` that are IPs (Hostname and InternalDNS entries are names), canonical. */
export function nodeAddresses(node: Node, report: Report): string[] {
  const out: string[] = [];
  node.status?.addresses?.forEach((a, i) => {
    if (a.type === 'Hostname' || a.type === 'InternalDNS' || a.type === 'ExternalDNS') return;
    const ip = parseIPSloppy(a.address ?? '');
    if (!ip) {
      report({
        severity: 'warning',
        code: 'InvalidNodeAddress',
        message: `Invalid value: ${JSON.stringify(a.address ?? '')}: must be a valid IP address (ignored)`,
        path: `status.addresses[${i}].address`,
      });
      return;
    }
    const text = formatIP(ip);
    if (!out.includes(text)) out.push(text);
  });
  return out;
}

export interface SpecInfo {
  readonly ports: readonly NamedPort[];
  readonly nodeName?: string;
  readonly hostNetwork?: boolean;
}

export function podSpecInfo(spec: PodSpec | undefined, prefix: string, report: Report): SpecInfo {
  const ports: NamedPort[] = [];
  const collect = (containers: readonly Container[] | undefined, field: string): void => {
    containers?.forEach((c, ci) => {
      c.ports?.forEach((p, pi) => {
        const path = `${prefix}.${field}[${ci}].ports[${pi}]`;
        if (p.containerPort === undefined) {
          report({ severity: 'warning', code: 'InvalidContainerPort', message: 'Required value (port ignored)', path: `${path}.containerPort` });
          return;
        }
        if (p.containerPort < 1 || p.containerPort > 65535) {
          report({
            severity: 'warning',
            code: 'InvalidContainerPort',
            message: `Invalid value: ${p.containerPort}: must be between 1 and 65535, inclusive (port ignored)`,
            path: `${path}.containerPort`,
          });
          return;
        }
        // ContainerPort.protocol: "Must be UDP, TCP, or SCTP. Defaults to "TCP"."
        const protocol = p.protocol ?? 'TCP';
        if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
          report({
            severity: 'warning',
            code: 'InvalidContainerPort',
            message: `Unsupported value: ${JSON.stringify(protocol)}: supported values: "SCTP", "TCP", "UDP" (port ignored)`,
            path: `${path}.protocol`,
          });
          return;
        }
        ports.push({ ...(p.name ? { name: p.name } : {}), port: p.containerPort, protocol: protocol as Protocol });
      });
    });
  };
  collect(spec?.containers, 'containers');
  collect(spec?.initContainers, 'initContainers');
  return {
    ports,
    ...(spec?.nodeName ? { nodeName: spec.nodeName } : {}),
    ...(spec?.hostNetwork !== undefined ? { hostNetwork: spec.hostNetwork } : {}),
  };
}

/** Stable sort by file (order of the sources), line, column; diagnostics without a file last. */
function sortDiagnostics(diagnostics: Diagnostic[], sources: readonly SourceText[]): Diagnostic[] {
  const fileOrder = new Map<string, number>();
  sources.forEach((s, i) => {
    if (!fileOrder.has(s.file)) fileOrder.set(s.file, i);
  });
  const rank = (d: Diagnostic): number => (d.file === undefined ? Number.MAX_SAFE_INTEGER : (fileOrder.get(d.file) ?? Number.MAX_SAFE_INTEGER - 1));
  return diagnostics
    .map((d, i) => ({ d, i }))
    .sort((a, b) => rank(a.d) - rank(b.d) || (a.d.line ?? 0) - (b.d.line ?? 0) || (a.d.column ?? 0) - (b.d.column ?? 0) || a.i - b.i)
    .map((x) => x.d);
}

/**
 * A decoded (and validated) Service as the model keeps it, defaults applied as the API server applies
 * them: "protocol ... Default is TCP"; "targetPort ... If this is not specified, the value of the 'port'
 * field is used (an identity map)". (ServicePort)
 */
export function serviceInfo(service: Service, namespace: string, name: string, source?: ObjectSource): ServiceInfo {
  const spec = service.spec ?? {};
  const ports = (spec.ports ?? []).map((p) => ({
    ...(p.name ? { name: p.name } : {}),
    protocol: (p.protocol ?? 'TCP') as Protocol,
    port: p.port,
    targetPort: p.targetPort ?? p.port,
  }));
  return {
    namespace,
    name,
    ...(spec.selector !== undefined ? { selector: { ...spec.selector } } : {}),
    ...(spec.type !== undefined ? { type: spec.type } : {}),
    ports,
    ...(source ? { source } : {}),
  };
}
