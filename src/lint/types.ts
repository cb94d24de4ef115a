/**
 * What a lint rule is and what it finds. A rule has a stable id (its doc page is docs/lint/ID.md), a
 * default severity, a one-line summary and a longer description (both reach SARIF's rule metadata),
 * and a check that reads the analysed cluster and yields findings about one object each: a
 * NetworkPolicy or cluster-scoped policy (with the field path of the offending part), a pod or a namespace.
 */
import type { ClusterPolicyInfo, NamespaceInfo, PodInfo, PolicyInfo } from '../model/index.js';
import type { LintContext } from './context.js';

/** SARIF's levels: an `error` finding makes `netpol lint` exit 1. */
export type LintSeverity = 'error' | 'warning' | 'note';

export type LintTarget =
  | { readonly kind: 'NetworkPolicy'; readonly object: PolicyInfo }
  | { readonly kind: 'Pod'; readonly object: PodInfo }
  | { readonly kind: 'Namespace'; readonly object: NamespaceInfo }
  /** A cluster-scoped policy (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy). */
  | { readonly kind: ClusterPolicyInfo['kind']; readonly object: ClusterPolicyInfo };

/** What a rule's check yields; the runner adds the rule id, severity and position. */
export interface RawFinding {
  readonly target: LintTarget;
  /** Kubernetes field path within the object (`spec.egress[0].to[1]`), when the finding is about a part of it. */
  readonly path?: string;
  /** Raw text (renderers escape it). */
  readonly message: string;
}

export interface LintRule {
  readonly id: string;
  readonly severity: LintSeverity;
  readonly summary: string;
  readonly description: string;
  check(ctx: LintContext): Iterable<RawFinding>;
}

export interface Finding {
  readonly rule: string;
  readonly severity: LintSeverity;
  readonly message: string;
  /** `NetworkPolicy ns/name`, `Pod ns/name`, `Namespace name`, `ClusterNetworkPolicy name`. */
  readonly object: string;
  readonly path?: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
}
