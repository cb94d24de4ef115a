/**
 * Objects read from the API server -> the Cluster model, with the same rules as manifests.
 *
 * Design choice: one home per rule. Pod addresses and container ports go through the loader's own
 * `podIPs` / `podSpecInfo`; NetworkPolicies go through the loader's strict decoder (`decodeKind`, on
 * the JSON turned into the loader's tree, without positions), so `null`s, defaults and unknown fields
 * are treated exactly as for files, and then through the API-server validation like file input.
 * Stored objects passed the real validation already; a disagreement is reported, never hidden.
 * Diagnostics name the object (`Pod ns/name`) because there is no file:line to give.
 */
import { about, type Diagnostic } from '../diag/index.js';
import { decodeKind, nodeAddresses, plainNode, podIPs, podSpecInfo, serviceInfo } from '../load/index.js';
import { automaticLabels, type ClusterPolicyInfo, type Labels, type NamespaceInfo, type NodeInfo, type PodInfo, type PolicyInfo, type ServiceInfo } from '../model/index.js';
import type { Node, PodSpec, PodStatus } from '../model/index.js';

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export interface Converted<T> {
  /** Undefined when the object is left out (a finished pod, an object without a name). */
  readonly value?: T;
  readonly diagnostics: readonly Diagnostic[];
}

function labelsOf(meta: Rec | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const l = rec(meta?.labels);
  if (l) for (const [k, v] of Object.entries(l)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** `namespace/name` of an API object, `name` for cluster-scoped ones; undefined without a name. */
export function objectKey(o: unknown): string | undefined {
  const meta = rec(rec(o)?.metadata);
  const name = str(meta?.name);
  if (name === undefined) return undefined;
  const ns = str(meta?.namespace);
  return ns ? `${ns}/${name}` : name;
}

export function resourceVersionOf(o: unknown): string | undefined {
  return str(rec(rec(o)?.metadata)?.resourceVersion);
}

export function toNamespace(o: unknown): Converted<NamespaceInfo> {
  const meta = rec(rec(o)?.metadata);
  const name = str(meta?.name);
  if (!name) return { diagnostics: [] };
  // "The Kubernetes control plane sets an immutable label kubernetes.io/metadata.name on all
  // namespaces." Set here too, so a namespace read without it (an old server) still matches.
  const labels: Labels = { ...labelsOf(meta), ...automaticLabels(name) };
  return { value: { name, labels, implicit: false }, diagnostics: [] };
}

/**
 * Pods whose phase is Succeeded or Failed are left out: their containers have stopped and network
 * plugins release their addresses and drop them from policy sets (an address can be reused by a new
 * pod). Pending and Running pods, with or without addresses, are kept.
 */
export function isFinished(o: unknown): boolean {
  const phase = str(rec(rec(o)?.status)?.phase);
  return phase === 'Succeeded' || phase === 'Failed';
}

/** The field selector that asks the API server for the pods `isFinished` keeps. */
export const UNFINISHED_PODS = 'status.phase!=Succeeded,status.phase!=Failed';

export function toPod(o: unknown): Converted<PodInfo> {
  const r = rec(o);
  const meta = rec(r?.metadata);
  const name = str(meta?.name);
  const namespace = str(meta?.namespace);
  if (!name || !namespace || isFinished(o)) return { diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  const report = (d: Diagnostic): void => {
    diagnostics.push(about(d, { kind: 'Pod', namespace, name }));
  };
  const spec = (rec(r?.spec) ?? { containers: [] }) as unknown as PodSpec;
  const status = rec(r?.status) as PodStatus | undefined;
  const pod: PodInfo = {
    namespace,
    name,
    labels: labelsOf(meta),
    ips: podIPs(status, report),
    ...podSpecInfo(spec, 'spec', report),
  };
  return { value: pod, diagnostics };
}

export function toPolicy(o: unknown): Converted<PolicyInfo> {
  const r = rec(o);
  const meta = rec(r?.metadata);
  const name = str(meta?.name);
  const namespace = str(meta?.namespace);
  if (!name || !namespace) return { diagnostics: [] };
  const object = { kind: 'NetworkPolicy', namespace, name };
  // A list's items carry no apiVersion/kind; watch events do.
  const apiVersion = str(r?.apiVersion) ?? 'networking.k8s.io/v1';
  const { decoded, diagnostics } = decodeKind('NetworkPolicy', apiVersion, plainNode({ ...r, apiVersion, kind: 'NetworkPolicy' }));
  const out: Diagnostic[] = diagnostics.map(({ line: _l, column: _c, ...d }) =>
    about(d.code === 'UnknownField' ? { ...d, severity: 'warning', message: `${d.message}: the cluster serves a field netpol does not know; the analysis ignores it` } : d, object),
  );
  if (!decoded || decoded.kind !== 'NetworkPolicy' || out.some((d) => d.severity === 'error')) return { diagnostics: out };
  return { value: { namespace, name, policy: decoded.object }, diagnostics: out };
}

/** A ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy, through the loader's decoder. */
export function toClusterPolicy(kind: ClusterPolicyInfo['kind'], apiVersion: string, o: unknown): Converted<ClusterPolicyInfo> {
  const r = rec(o);
  const name = str(rec(r?.metadata)?.name);
  if (!name) return { diagnostics: [] };
  const { decoded, diagnostics } = decodeKind(kind, apiVersion, plainNode({ ...r, apiVersion, kind }));
  const out: Diagnostic[] = diagnostics.map(({ line: _l, column: _c, ...d }) => about(d, { kind, name }));
  if (!decoded || decoded.kind !== 'ClusterPolicy' || out.some((d) => d.severity === 'error')) return { diagnostics: out };
  return { value: { kind, name, policy: decoded.object }, diagnostics: out };
}

/** A Node: its labels and the IP addresses of `status.addresses`, as the loader reads them. */
export function toNodeInfo(o: unknown): Converted<NodeInfo> {
  const r = rec(o);
  const meta = rec(r?.metadata);
  const name = str(meta?.name);
  if (!name) return { diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  const node = { apiVersion: 'v1', kind: 'Node' as const, metadata: { name }, status: rec(r?.status) as Node['status'] };
  const addresses = nodeAddresses(node, (d) => diagnostics.push(about(d, { kind: 'Node', name })));
  return { value: { name, labels: labelsOf(meta), addresses }, diagnostics };
}

/**
 * A Service through the loader's decoder (defaults as the API server applies them). Unknown fields are
 * warnings, as for NetworkPolicies: a newer server may serve fields netpol does not know.
 */
export function toService(o: unknown): Converted<ServiceInfo> {
  const r = rec(o);
  const meta = rec(r?.metadata);
  const name = str(meta?.name);
  const namespace = str(meta?.namespace);
  if (!name || !namespace) return { diagnostics: [] };
  const object = `Service ${namespace}/${name}`;
  const { decoded, diagnostics } = decodeKind('Service', 'v1', plainNode({ ...r, apiVersion: 'v1', kind: 'Service' }));
  const out: Diagnostic[] = diagnostics.map(({ line: _l, column: _c, ...d }) =>
    d.code === 'UnknownField' ? { ...d, severity: 'warning', message: `${d.message}: the cluster serves a field netpol does not know; the analysis ignores it`, object } : { ...d, object },
  );
  if (!decoded || decoded.kind !== 'Service' || out.some((d) => d.severity === 'error')) return { diagnostics: out };
  return { value: serviceInfo(decoded.object, namespace, name), diagnostics: out };
}
