/**
 * The kinds netpol reads, their shapes (with the Go type names of the real API) and their decoding
 * into the types of src/model/k8s.ts.
 *
 * Design choice: every kind is decoded strictly. NetworkPolicy's shape lists every field of the real
 * networking.k8s.io/v1 API, and every object's (and pod template's) ObjectMeta, Namespace and
 * ContainerPort are complete, so `unknown field` is said exactly when the API server would say it
 * (`metadata.labelz` in a Pod, `metadata.lables` in a Deployment's template). PodSpec, Container, the
 * workloads' specs and the statuses have many fields netpol does not read: their shapes are open
 * (only the declared fields are checked), a conscious gap documented in docs/cli.md.
 */
import type { Diagnostic } from '../diag/index.js';
import { isClusterPolicyKind } from '../model/index.js';
import type {
  ClusterScopedPolicy,
  Container,
  ContainerPort,
  LabelSelector,
  Namespace,
  NetworkPolicy,
  Node,
  NetworkPolicySpec,
  ObjectMeta,
  Pod,
  PodSpec,
  PodStatus,
  Service,
  ServiceSpec,
} from '../model/index.js';
import { anyJSON, bool, decodeObject, int32, int64, intOrString, list, map, openStruct, str, struct } from './schema.js';
import type { Shape } from './schema.js';
import type { PNode } from './yaml.js';

// --- shapes -------------------------------------------------------------------------------------------

const ownerReference = struct('v1.OwnerReference', {
  apiVersion: str(),
  kind: str(),
  name: str(),
  uid: str('types.UID'),
  controller: bool,
  blockOwnerDeletion: bool,
});

const managedFieldsEntry = struct('v1.ManagedFieldsEntry', {
  manager: str(),
  operation: str('v1.ManagedFieldsOperationType'),
  apiVersion: str(),
  // metav1.Time unmarshals from a JSON string (RFC 3339).
  time: str(),
  fieldsType: str(),
  fieldsV1: anyJSON,
  subresource: str(),
});

/** metav1.ObjectMeta, every field (clusterName is a tombstone since 1.25 and therefore unknown). */
const objectMeta = struct('v1.ObjectMeta', {
  name: str(),
  generateName: str(),
  namespace: str(),
  selfLink: str(),
  uid: str('types.UID'),
  resourceVersion: str(),
  generation: int64,
  creationTimestamp: str(),
  deletionTimestamp: str(),
  deletionGracePeriodSeconds: int64,
  labels: map(str()),
  annotations: map(str()),
  ownerReferences: list(ownerReference),
  finalizers: list(str()),
  managedFields: list(managedFieldsEntry),
});

const labelSelector = struct('v1.LabelSelector', {
  matchLabels: map(str()),
  matchExpressions: list(
    struct('v1.LabelSelectorRequirement', {
      key: str(),
      operator: str('v1.LabelSelectorOperator'),
      values: list(str()),
    }),
  ),
});

const networkPolicyPort = struct('v1.NetworkPolicyPort', {
  protocol: str('v1.Protocol'),
  port: intOrString,
  endPort: int32,
});

const networkPolicyPeer = struct('v1.NetworkPolicyPeer', {
  podSelector: labelSelector,
  namespaceSelector: labelSelector,
  ipBlock: struct('v1.IPBlock', { cidr: str(), except: list(str()) }),
});

/**
 * networking.k8s.io/v1 NetworkPolicy. `status` existed as an alpha field in 1.24-1.26 and was removed
 * (kubernetes/kubernetes#115843); the API server now rejects it as an unknown field.
 */
const networkPolicyShape = struct('v1.NetworkPolicy', {
  apiVersion: str(),
  kind: str(),
  metadata: objectMeta,
  spec: struct('v1.NetworkPolicySpec', {
    podSelector: labelSelector,
    ingress: list(struct('v1.NetworkPolicyIngressRule', { ports: list(networkPolicyPort), from: list(networkPolicyPeer) })),
    egress: list(struct('v1.NetworkPolicyEgressRule', { ports: list(networkPolicyPort), to: list(networkPolicyPeer) })),
    policyTypes: list(str('v1.PolicyType')),
  }),
});

/**
 * The cluster-scoped policy kinds of policy.networking.k8s.io. They are custom resources: the API server
 * checks them against the CRD's OpenAPI schema and CEL rules, not Go types, so only the envelope is
 * decoded here (unknown top-level fields, metadata); `spec` is kept as plain JSON for src/validate/crd,
 * which reports unknown fields, types, bounds and rules with the apiextensions server's wording.
 */
function clusterPolicyShape(kind: string): Shape {
  return struct(`v1alpha.${kind}`, { apiVersion: str(), kind: str(), metadata: objectMeta, spec: anyJSON, status: anyJSON });
}

/**
 * core/v1 Service, every field of ServiceSpec and ServicePort: a misspelt `selecter` would otherwise
 * leave a Service standing for no pods, silently.
 */
const serviceShape = struct('v1.Service', {
  apiVersion: str(),
  kind: str(),
  metadata: objectMeta,
  spec: struct('v1.ServiceSpec', {
    ports: list(struct('v1.ServicePort', { name: str(), protocol: str('v1.Protocol'), appProtocol: str(), port: int32, targetPort: intOrString, nodePort: int32 })),
    selector: map(str()),
    clusterIP: str(),
    clusterIPs: list(str()),
    type: str('v1.ServiceType'),
    externalIPs: list(str()),
    sessionAffinity: str('v1.ServiceAffinity'),
    loadBalancerIP: str(),
    loadBalancerSourceRanges: list(str()),
    externalName: str(),
    externalTrafficPolicy: str('v1.ServiceExternalTrafficPolicy'),
    healthCheckNodePort: int32,
    publishNotReadyAddresses: bool,
    sessionAffinityConfig: struct('v1.SessionAffinityConfig', { clientIP: struct('v1.ClientIPConfig', { timeoutSeconds: int32 }) }),
    ipFamilies: list(str('v1.IPFamily')),
    ipFamilyPolicy: str('v1.IPFamilyPolicy'),
    allocateLoadBalancerNodePorts: bool,
    loadBalancerClass: str(),
    internalTrafficPolicy: str('v1.ServiceInternalTrafficPolicy'),
    trafficDistribution: str(),
  }),
  status: openStruct('v1.ServiceStatus', {}),
});

const nodeShape = struct('v1.Node', {
  apiVersion: str(),
  kind: str(),
  metadata: objectMeta,
  status: struct('v1.NodeStatus', { addresses: list(struct('v1.NodeAddress', { type: str('v1.NodeAddressType'), address: str() })) }),
});

const namespaceShape = struct('v1.Namespace', {
  apiVersion: str(),
  kind: str(),
  metadata: objectMeta,
  spec: struct('v1.NamespaceSpec', { finalizers: list(str('v1.FinalizerName')) }),
  status: openStruct('v1.NamespaceStatus', { phase: str('v1.NamespacePhase') }),
});

/** v1.ContainerPort, every field: a misspelt `containerport` would silently lose a named port. */
const containerPort = struct('v1.ContainerPort', { name: str(), hostPort: int32, containerPort: int32, protocol: str('v1.Protocol'), hostIP: str() });

const containerShape = openStruct('v1.Container', { name: str(), ports: list(containerPort) });

const podSpec = openStruct('v1.PodSpec', {
  nodeName: str(),
  hostNetwork: bool,
  containers: list(containerShape),
  initContainers: list(containerShape),
});

const podShape = struct('v1.Pod', {
  apiVersion: str(),
  kind: str(),
  metadata: objectMeta,
  spec: podSpec,
  status: openStruct('v1.PodStatus', { podIP: str(), podIPs: list(struct('v1.PodIP', { ip: str() })) }),
});

const podTemplateSpec = struct('v1.PodTemplateSpec', { metadata: objectMeta, spec: podSpec });

function workloadShape(kind: string, specFields: Record<string, Shape>): Shape {
  return struct(`v1.${kind}`, { apiVersion: str(), kind: str(), metadata: objectMeta, spec: openStruct(`v1.${kind}Spec`, specFields), status: openStruct(`v1.${kind}Status`, {}) });
}

const jobSpec = openStruct('v1.JobSpec', { template: podTemplateSpec });

// --- kinds --------------------------------------------------------------------------------------------

export type WorkloadKind = 'Deployment' | 'ReplicaSet' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob' | 'ReplicationController';

interface KindInfo {
  readonly apiVersion: string;
  readonly shape: Shape;
  readonly strict: boolean;
}

const WORKLOADS: Record<WorkloadKind, KindInfo> = {
  Deployment: { apiVersion: 'apps/v1', strict: true, shape: workloadShape('Deployment', { replicas: int32, template: podTemplateSpec }) },
  ReplicaSet: { apiVersion: 'apps/v1', strict: true, shape: workloadShape('ReplicaSet', { replicas: int32, template: podTemplateSpec }) },
  StatefulSet: { apiVersion: 'apps/v1', strict: true, shape: workloadShape('StatefulSet', { replicas: int32, template: podTemplateSpec }) },
  DaemonSet: { apiVersion: 'apps/v1', strict: true, shape: workloadShape('DaemonSet', { template: podTemplateSpec }) },
  Job: { apiVersion: 'batch/v1', strict: true, shape: workloadShape('Job', { template: podTemplateSpec }) },
  CronJob: {
    apiVersion: 'batch/v1',
    strict: true,
    shape: workloadShape('CronJob', { jobTemplate: struct('v1.JobTemplateSpec', { metadata: objectMeta, spec: jobSpec }) }),
  },
  ReplicationController: {
    apiVersion: 'v1',
    strict: true,
    shape: workloadShape('ReplicationController', { replicas: int32, template: podTemplateSpec }),
  },
};

const KINDS: Record<string, KindInfo> = {
  Namespace: { apiVersion: 'v1', shape: namespaceShape, strict: true },
  Pod: { apiVersion: 'v1', shape: podShape, strict: true },
  NetworkPolicy: { apiVersion: 'networking.k8s.io/v1', shape: networkPolicyShape, strict: true },
  Node: { apiVersion: 'v1', shape: nodeShape, strict: false },
  Service: { apiVersion: 'v1', shape: serviceShape, strict: true },
  ClusterNetworkPolicy: { apiVersion: 'policy.networking.k8s.io/v1alpha2', shape: clusterPolicyShape('ClusterNetworkPolicy'), strict: true },
  AdminNetworkPolicy: { apiVersion: 'policy.networking.k8s.io/v1alpha1', shape: clusterPolicyShape('AdminNetworkPolicy'), strict: true },
  BaselineAdminNetworkPolicy: { apiVersion: 'policy.networking.k8s.io/v1alpha1', shape: clusterPolicyShape('BaselineAdminNetworkPolicy'), strict: true },
  ...WORKLOADS,
};

/** Kinds without a namespace: their objects ignore `-n` and never create an implicit namespace. */
export function isClusterScopedKind(kind: string): boolean {
  return kind === 'Namespace' || kind === 'Node' || isClusterPolicyKind(kind);
}

export { isClusterPolicyKind };

export function isKnownKind(kind: string): boolean {
  return Object.hasOwn(KINDS, kind);
}

/** The kind the API serves in `apiVersion` that `kind` spells in another case (`networkpolicy`), if any. */
export function knownKindIgnoringCase(kind: string, apiVersion: string): string | undefined {
  const lower = kind.toLowerCase();
  return Object.keys(KINDS).find((k) => k.toLowerCase() === lower && KINDS[k]!.apiVersion === apiVersion);
}

export function isWorkloadKind(kind: string): kind is WorkloadKind {
  return Object.hasOwn(WORKLOADS, kind);
}

/** A pod template as read from a workload. */
export interface PodTemplate {
  readonly metadata: ObjectMeta;
  readonly spec?: PodSpec;
}

export interface Workload {
  readonly kind: WorkloadKind;
  readonly apiVersion: string;
  readonly metadata: ObjectMeta;
  readonly replicas?: number;
  /** Absent when the manifest has no pod template. */
  readonly template?: PodTemplate;
  /** Field path of the template (`spec.template`, `spec.jobTemplate.spec.template`). */
  readonly templatePath: string;
}

export type DecodedObject =
  | { readonly kind: 'Namespace'; readonly object: Namespace }
  | { readonly kind: 'Pod'; readonly object: Pod }
  | { readonly kind: 'NetworkPolicy'; readonly object: NetworkPolicy }
  | { readonly kind: 'ClusterPolicy'; readonly object: ClusterScopedPolicy }
  | { readonly kind: 'Node'; readonly object: Node }
  | { readonly kind: 'Service'; readonly object: Service }
  | { readonly kind: 'Workload'; readonly object: Workload };

export interface KindDecodeResult {
  /** Undefined when the apiVersion does not serve this kind. */
  readonly decoded?: DecodedObject;
  /** Errors from decoding; positions set, object and file not yet. */
  readonly diagnostics: readonly Diagnostic[];
}

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : undefined);

/** Decodes one object of a known kind. */
export function decodeKind(kind: string, apiVersion: string, node: PNode): KindDecodeResult {
  const info = Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
  if (!info) return { diagnostics: [] };
  if (apiVersion !== info.apiVersion) {
    // kubectl's words for a kind the server does not serve in that version.
    return {
      diagnostics: [
        {
          severity: 'error',
          code: 'NoKindMatch',
          message: `no matches for kind ${JSON.stringify(kind)} in version ${JSON.stringify(apiVersion)} (expected ${JSON.stringify(info.apiVersion)})`,
          path: 'apiVersion',
          line: node.line,
          column: node.column,
        },
      ],
    };
  }
  const { value, diagnostics } = decodeObject(node, info.shape, { strict: info.strict });
  const o = rec(value) ?? {};
  const metadata = toMeta(o.metadata);
  switch (kind) {
    case 'Namespace':
      return { decoded: { kind: 'Namespace', object: { apiVersion, kind: 'Namespace', metadata } }, diagnostics };
    case 'Pod': {
      const status = rec(o.status) as PodStatus | undefined;
      const pod: Pod = { apiVersion, kind: 'Pod', metadata, spec: toPodSpec(o.spec), ...(status ? { status } : {}) };
      return { decoded: { kind: 'Pod', object: pod }, diagnostics };
    }
    case 'Node': {
      const status = rec(o.status) as Node['status'] | undefined;
      return { decoded: { kind: 'Node', object: { apiVersion, kind: 'Node', metadata, ...(status ? { status } : {}) } }, diagnostics };
    }
    case 'Service': {
      const spec = rec(o.spec) as ServiceSpec | undefined;
      return { decoded: { kind: 'Service', object: { apiVersion, kind: 'Service', metadata, ...(spec ? { spec } : {}) } }, diagnostics };
    }
    case 'ClusterNetworkPolicy':
    case 'AdminNetworkPolicy':
    case 'BaselineAdminNetworkPolicy': {
      // The spec stays as read (plain JSON); src/validate/crd decides whether it is what the CRD allows.
      const policy = { apiVersion, kind, metadata, spec: o.spec ?? {} } as unknown as ClusterScopedPolicy;
      return { decoded: { kind: 'ClusterPolicy', object: policy }, diagnostics };
    }
    case 'NetworkPolicy': {
      const spec = (rec(o.spec) ?? {}) as Partial<NetworkPolicySpec>;
      // "If it is not specified, it defaults to an empty selector." (NetworkPolicySpec.podSelector)
      const podSelector: LabelSelector = spec.podSelector ?? {};
      const policy: NetworkPolicy = { apiVersion, kind: 'NetworkPolicy', metadata, spec: { ...spec, podSelector } };
      return { decoded: { kind: 'NetworkPolicy', object: policy }, diagnostics };
    }
    default: {
      const wk = kind as WorkloadKind;
      const spec = rec(o.spec) ?? {};
      let templateValue: unknown;
      let templatePath = 'spec.template';
      if (wk === 'CronJob') {
        templateValue = rec(rec(rec(spec.jobTemplate)?.spec)?.template);
        templatePath = 'spec.jobTemplate.spec.template';
      } else {
        templateValue = rec(spec.template);
      }
      const t = rec(templateValue);
      const template: PodTemplate | undefined = t ? { metadata: toMeta(t.metadata), ...(t.spec ? { spec: toPodSpec(t.spec) } : {}) } : undefined;
      const replicas = typeof spec.replicas === 'number' ? spec.replicas : undefined;
      const workload: Workload = {
        kind: wk,
        apiVersion,
        metadata,
        templatePath,
        ...(replicas !== undefined ? { replicas } : {}),
        ...(template ? { template } : {}),
      };
      return { decoded: { kind: 'Workload', object: workload }, diagnostics };
    }
  }
}

function toMeta(v: unknown): ObjectMeta {
  const m = rec(v) ?? {};
  const out: ObjectMeta = {};
  if (typeof m.name === 'string') out.name = m.name;
  if (typeof m.generateName === 'string') out.generateName = m.generateName;
  if (typeof m.namespace === 'string') out.namespace = m.namespace;
  if (rec(m.labels)) out.labels = m.labels as Record<string, string>;
  if (rec(m.annotations)) out.annotations = m.annotations as Record<string, string>;
  return out;
}

function toPodSpec(v: unknown): PodSpec {
  const s = rec(v) ?? {};
  const containers = (list: unknown): Container[] =>
    Array.isArray(list)
      ? list.map((c: Rec) => ({
          name: typeof c.name === 'string' ? c.name : '',
          ...(Array.isArray(c.ports) ? { ports: c.ports as ContainerPort[] } : {}),
        }))
      : [];
  const spec: PodSpec = { containers: containers(s.containers) };
  if (Array.isArray(s.initContainers)) spec.initContainers = containers(s.initContainers);
  if (typeof s.nodeName === 'string') spec.nodeName = s.nodeName;
  if (typeof s.hostNetwork === 'boolean') spec.hostNetwork = s.hostNetwork;
  return spec;
}
