/**
 * API-server validation of the cluster-scoped policy kinds (ClusterNetworkPolicy v1alpha2,
 * AdminNetworkPolicy and BaselineAdminNetworkPolicy v1alpha1): what `kubectl apply` of the manifest to a
 * cluster with the experimental CRDs installed would reject, worded as the apiextensions server words it
 * (see schema.ts), plus what the server accepts but no implementation can use.
 *
 * Design choices:
 * - Metadata as for every custom resource: ValidateObjectMetaAccessor with NameIsDNSSubdomain. The
 *   namespace of a cluster-scoped object is not checked (kubectl drops it).
 * - Label selectors: the CRD only types them, so the server stores `operator: Foo`; implementations
 *   cannot turn such a selector into a label selector and drop or misread the policy. We report them as
 *   errors with the wording the API server uses for a NetworkPolicy's selectors: analysis would be guessing.
 * - v1alpha1 `protocol` has no enum in the CRD: any other value than TCP, UDP, SCTP is accepted by the
 *   server; we warn that the entry matches no traffic (which is what the engine does with it).
 * - `domainNames` peers: an info note that the agent does not enforce them (analysis treats each name as
 *   an external endpoint: `netpol check --to example.com`).
 */
import type { Diagnostic } from '../../diag/index.js';
import type { ClusterScopedPolicy, LabelSelector } from '../../model/index.js';
import { notSupported } from '../field.js';
import { validateObjectMeta } from '../meta.js';
import { validateModeAnnotation } from '../mode.js';
import { nameIsDNSSubdomain } from '../names.js';
import { validateLabelSelector } from '../selector.js';
import { celError, validateAgainst } from './schema.js';
import { ANP_SPEC, BANP_NAME_RULE, BANP_SPEC, CNP_SPEC } from './schemas.js';

export { CNP_SPEC, ANP_SPEC, BANP_SPEC } from './schemas.js';
export type { Schema, CelRule } from './schema.js';

const SCHEMAS = { ClusterNetworkPolicy: CNP_SPEC, AdminNetworkPolicy: ANP_SPEC, BaselineAdminNetworkPolicy: BANP_SPEC } as const;

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Every problem of one cluster-scoped policy: metadata, the schema walk, the object rule, then semantic
 * checks; and netpol's mode annotation, which stages a cluster policy as it stages a NetworkPolicy
 * (src/validate/mode.ts), whatever else is wrong with it.
 */
export function validateClusterPolicy(policy: ClusterScopedPolicy): Diagnostic[] {
  const schema = validateSchemaAndSemantics(policy);
  return [...schema, ...validateModeAnnotation(policy.metadata.annotations)];
}

function validateSchemaAndSemantics(policy: ClusterScopedPolicy): Diagnostic[] {
  const meta = { ...policy.metadata };
  delete meta.namespace;
  const out: Diagnostic[] = [...validateObjectMeta(meta, nameIsDNSSubdomain, 'metadata')];
  const spec: unknown = (policy as { spec?: unknown }).spec;
  // The object-level CEL rule; the server reports it at the root (`<nil>`), we place it at the name.
  const banpName = () => (policy.kind === 'BaselineAdminNetworkPolicy' && policy.metadata.name !== 'default' ? { ...celError('metadata.name', {}, BANP_NAME_RULE.message) } : undefined);
  const schema = validateAgainst(spec, SCHEMAS[policy.kind], 'spec', [banpName]);
  // Unknown fields fail decoding: the server reports nothing else (NetworkPolicy's loader does the same).
  if (schema.some((d) => d.code === 'UnknownField')) return schema;
  out.push(...schema);
  if (out.some((d) => d.severity === 'error')) return out;
  out.push(...semanticChecks(policy));
  return out;
}

/** Checks on a policy that passed the schema: selectors, v1alpha1 protocols, domainNames. */
function semanticChecks(policy: ClusterScopedPolicy): Diagnostic[] {
  const out: Diagnostic[] = [];
  const selector = (sel: unknown, path: string): void => {
    if (rec(sel)) out.push(...validateLabelSelector(sel as LabelSelector, path));
  };
  const pods = (p: unknown, path: string): void => {
    selector(rec(p)?.namespaceSelector, `${path}.namespaceSelector`);
    selector(rec(p)?.podSelector, `${path}.podSelector`);
  };
  const spec = rec(policy.spec) ?? {};
  const subject = rec(spec.subject) ?? {};
  selector(subject.namespaces, 'spec.subject.namespaces');
  pods(subject.pods, 'spec.subject.pods');
  let domains: string | undefined;
  for (const direction of ['ingress', 'egress'] as const) {
    arr(spec[direction]).forEach((rule, i) => {
      const path = `spec.${direction}[${i}]`;
      const peersField = direction === 'ingress' ? 'from' : 'to';
      arr(rec(rule)?.[peersField]).forEach((peer, j) => {
        const p = rec(peer) ?? {};
        const at = `${path}.${peersField}[${j}]`;
        selector(p.namespaces, `${at}.namespaces`);
        pods(p.pods, `${at}.pods`);
        selector(p.nodes, `${at}.nodes`);
        if (p.domainNames !== undefined) domains ??= `${at}.domainNames`;
      });
      arr(rec(rule)?.ports).forEach((port, j) => {
        for (const field of ['portNumber', 'portRange']) {
          const protocol = rec(rec(port)?.[field])?.protocol;
          if (typeof protocol === 'string' && !['TCP', 'UDP', 'SCTP'].includes(protocol)) {
            const d = notSupported(`${path}.ports[${j}].${field}.protocol`, protocol, ['TCP', 'UDP', 'SCTP']);
            out.push({ ...d, severity: 'warning', code: 'UnsupportedProtocol', message: `${d.message} (the API server accepts it; this entry matches no traffic)` });
          }
        }
      });
    });
  }
  if (domains !== undefined) {
    out.push({
      severity: 'info',
      code: 'DomainNamesNotEnforced',
      message: `domainNames peers are analysed as named external endpoints (netpol check --to example.com); netpol agent does not enforce them`,
      path: domains,
    });
  }
  return out;
}
