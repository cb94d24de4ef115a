/**
 * The cluster-scoped policy kinds on the fast path: custom resources, whose envelope is decoded strictly
 * and whose spec is kept as the plain value it is (src/validate/crd checks it), as src/load does.
 */
import type { ObjectSource } from '../../diag/index.js';
import type { ClusterPolicyInfo } from '../../model/index.js';
import type { ClusterScopedPolicy } from '../../model/index.js';
import { onlyKeys, str, type Rec } from './fields.js';
import { meta } from './meta.js';
import { give } from './unsupported.js';

const CLUSTER_POLICY_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);

export { isClusterPolicyKind } from '../../model/index.js';

/** As src/load: `{ apiVersion, kind, metadata, spec: spec ?? {} }`, cluster-scoped (no namespace defaulted). */
export function clusterPolicy(kind: ClusterScopedPolicy['kind'], apiVersion: string, value: Rec, source: ObjectSource): ClusterPolicyInfo {
  onlyKeys(value, CLUSTER_POLICY_KEYS, kind);
  str(value, 'apiVersion');
  str(value, 'kind');
  const metadata = meta(value.metadata, true);
  const name = metadata.name || metadata.generateName;
  if (!name) give('an object without a name');
  const spec = value.spec ?? {};
  const policy = { apiVersion, kind, metadata, spec } as unknown as ClusterScopedPolicy;
  return { kind, name, policy, source };
}
