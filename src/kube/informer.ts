/**
 * The informer pattern: a local copy of the cluster's Namespaces, Pods and NetworkPolicies (and, with
 * `clusterScoped`, the cluster-scoped policy kinds and Nodes) kept current from the API server by one
 * `Reflector` per resource, and an event per change.
 *
 * `ClusterInformer` reports `synced` once every resource has been listed completely, and no event
 * before that. Objects are stored converted with the loader's rules (src/kube/convert.ts) and checked
 * with the API server's validation: an object the server holds that netpol cannot decode or finds
 * invalid is kept out of the copy with its diagnostics, and listed by `unread()` (the agent's source
 * will not deliver a cluster that lacks it: see src/kube/source.ts).
 *
 * The cluster-scoped policy kinds are custom resources (kubernetes-sigs/network-policy-api): a kind whose
 * CRD is not installed has no objects, and is looked for again every `absentRecheckMs` (default 60 s),
 * so a CRD installed later is picked up. Nodes are read for `nodes` peers of those policies.
 */
import { about, type Diagnostic } from '../diag/index.js';
import type { Cluster, ClusterPolicyInfo, NamespaceInfo, NodeInfo, PodInfo, PolicyInfo } from '../model/index.js';
import { validateClusterPolicy, validateNetworkPolicy } from '../validate/index.js';
import { CLUSTER_POLICY_RESOURCES, KubeApiError, NAMESPACES, NETWORK_POLICIES, NODES, PODS, type KubeClient, type Resource } from './client.js';
import { toClusterPolicy, toNamespace, toNodeInfo, toPod, toPolicy, UNFINISHED_PODS, type Converted } from './convert.js';
import { assemble } from './read.js';
import { Reflector, type Backoff, type WatchRestartReason } from './reflector.js';

export type ClusterPolicyKind = ClusterPolicyInfo['kind'];
export type ObjectKind = 'Namespace' | 'Pod' | 'NetworkPolicy' | ClusterPolicyKind | 'Node';

/** One change of one object, after conversion (a pod that finished is `deleted`). */
export type InformerEvent =
  | { readonly kind: 'Namespace'; readonly key: string; readonly old?: NamespaceInfo; readonly current?: NamespaceInfo; readonly resourceVersion?: string }
  | { readonly kind: 'Pod'; readonly key: string; readonly old?: PodInfo; readonly current?: PodInfo; readonly resourceVersion?: string }
  | { readonly kind: 'NetworkPolicy'; readonly key: string; readonly old?: PolicyInfo; readonly current?: PolicyInfo; readonly resourceVersion?: string }
  | { readonly kind: ClusterPolicyKind; readonly key: string; readonly old?: ClusterPolicyInfo; readonly current?: ClusterPolicyInfo; readonly resourceVersion?: string }
  | { readonly kind: 'Node'; readonly key: string; readonly old?: NodeInfo; readonly current?: NodeInfo; readonly resourceVersion?: string };

export interface InformerOptions {
  /** One namespace, or undefined for the whole cluster. */
  readonly namespace?: string;
  readonly pageSize?: number;
  /** Watches time out on the server after [this, 2 × this) seconds (default 240). */
  readonly watchTimeoutSeconds?: number;
  /** A list page that receives nothing for this long fails (default 60 s). */
  readonly requestTimeoutMs?: number;
  /** Retry delays after a failure (default 0.5 s doubling to 30 s). */
  readonly backoff?: Backoff;
  /** Also the cluster-scoped policy kinds and Nodes (default false). */
  readonly clusterScoped?: boolean;
  /**
   * Those kinds, when the account may not list them, count as listed and empty (`onForbidden` says
   * which), as the one-shot read does (src/kube/read.ts); by default a refusal is an error, retried.
   */
  readonly clusterScopedMayBeForbidden?: boolean;
  /** How often to look again for a policy kind whose CRD is not installed (default 60 s). */
  readonly absentRecheckMs?: number;
}

export interface InformerHandlers {
  /** Every resource has been listed: the copy is complete. Called once. */
  readonly onSynced: () => void;
  /** One object changed (only after onSynced). */
  readonly onEvent: (e: InformerEvent) => void;
  /** The copy changed, an object left out included (only after onSynced). */
  readonly onChange?: () => void;
  readonly onError: (kind: ObjectKind, e: Error, retryInMs: number) => void;
  readonly onWatchRestart?: (kind: ObjectKind, reason: WatchRestartReason) => void;
  /** A resource's watch is up (after its list, or again after failures). */
  readonly onWatching?: (kind: ObjectKind) => void;
  /** With `clusterScopedMayBeForbidden`: the account may not list this kind (`resource`: its plural), which counts as empty. */
  readonly onForbidden?: (kind: ObjectKind, resource: string, e: Error) => void;
}

/** A NetworkPolicy the API server's validation would refuse is left out, with the reasons. */
function toValidPolicy(o: unknown): Converted<PolicyInfo> {
  const c = toPolicy(o);
  if (!c.value) return c;
  const object = { kind: 'NetworkPolicy', namespace: c.value.namespace, name: c.value.name };
  const problems = validateNetworkPolicy(c.value.policy).map((d) => about(d, object));
  if (problems.some((d) => d.severity === 'error')) return { diagnostics: [...c.diagnostics, ...problems] };
  return { value: c.value, diagnostics: [...c.diagnostics, ...problems] };
}

/** Likewise for a cluster-scoped policy (the CRD's schema and CEL rules). */
function toValidClusterPolicy(r: (typeof CLUSTER_POLICY_RESOURCES)[number]): (o: unknown) => Converted<ClusterPolicyInfo> {
  const apiVersion = r.prefix.replace('/apis/', '');
  return (o) => {
    const c = toClusterPolicy(r.kind, apiVersion, o);
    if (!c.value) return c;
    const object = { kind: c.value.kind, name: c.value.name };
    const problems = validateClusterPolicy(c.value.policy).map((d) => about(d, object));
    if (problems.some((d) => d.severity === 'error')) return { diagnostics: [...c.diagnostics, ...problems] };
    return { value: c.value, diagnostics: [...c.diagnostics, ...problems] };
  };
}

export class ClusterInformer {
  /** Every resource, by kind, in the order lists are made. */
  readonly reflectors = new Map<ObjectKind, Reflector<unknown>>();
  private readonly listed = new Set<ObjectKind>();
  private synced = false;
  private readonly scoped: boolean;
  private clusterPolicies: { versions: string; values: ClusterPolicyInfo[] } | undefined;

  constructor(
    client: KubeClient,
    opts: InformerOptions,
    private readonly handlers: InformerHandlers,
  ) {
    this.scoped = opts.namespace !== undefined;
    const common = {
      ...(opts.pageSize !== undefined ? { pageSize: opts.pageSize } : {}),
      ...(opts.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: opts.watchTimeoutSeconds } : {}),
      ...(opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
      ...(opts.backoff !== undefined ? { backoff: opts.backoff } : {}),
    };
    const inNamespace = { ...common, ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}) };
    const add = <T>(kind: ObjectKind, resource: Resource, convert: (o: unknown) => Converted<T>, extra: object): void => {
      this.reflectors.set(kind, new Reflector<T>(client, { ...extra, resource, convert }, this.handlersFor<T>(kind)) as Reflector<unknown>);
    };
    // In one namespace, only that namespace object (a field selector on its name).
    add('Namespace', NAMESPACES, toNamespace, { ...common, ...(opts.namespace !== undefined ? { fieldSelector: `metadata.name=${opts.namespace}` } : {}) });
    add('Pod', PODS, toPod, { ...inNamespace, fieldSelector: UNFINISHED_PODS });
    add('NetworkPolicy', NETWORK_POLICIES, toValidPolicy, inNamespace);
    if (opts.clusterScoped) {
      const absentRecheckMs = opts.absentRecheckMs ?? 60_000;
      const forbidden = opts.clusterScopedMayBeForbidden ? { mayBeForbidden: true, absentRecheckMs } : {};
      for (const r of CLUSTER_POLICY_RESOURCES) add(r.kind, r, toValidClusterPolicy(r), { ...common, mayBeAbsent: true, absentRecheckMs, ...forbidden });
      add('Node', NODES, toNodeInfo, { ...common, ...forbidden });
    }
  }

  private handlersFor<T>(kind: ObjectKind) {
    return {
      onList: () => {
        this.listed.add(kind);
        if (!this.synced && this.listed.size === this.reflectors.size) {
          this.synced = true;
          this.handlers.onSynced();
        }
      },
      onChange: (key: string, old: T | undefined, current: T | undefined, resourceVersion: string | undefined) => {
        if (!this.synced) return;
        this.handlers.onChange?.();
        if (old === undefined && current === undefined) return;
        this.handlers.onEvent({ kind, key, ...(old !== undefined ? { old } : {}), ...(current !== undefined ? { current } : {}), ...(resourceVersion ? { resourceVersion } : {}) } as InformerEvent);
      },
      onError: (e: Error, ms: number) => {
        this.handlers.onError(kind, e, ms);
        // In one namespace, an account that may not read the namespace object still gets an analysis
        // (its labels assumed, as readCluster does); the reflector keeps trying.
        if (kind === 'Namespace' && this.scoped && e instanceof KubeApiError && e.status === 403 && !this.listed.has(kind)) this.handlersFor('Namespace').onList();
      },
      onWatchRestart: (reason: WatchRestartReason) => this.handlers.onWatchRestart?.(kind, reason),
      onWatching: () => this.handlers.onWatching?.(kind),
      onForbidden: (e: Error) => this.handlers.onForbidden?.(kind, this.reflectors.get(kind)?.resource.plural ?? kind, e),
    };
  }

  start(): void {
    for (const r of this.reflectors.values()) r.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.reflectors.values()].map((r) => r.stop()));
  }

  get isSynced(): boolean {
    return this.synced;
  }

  private values<T>(kind: ObjectKind): T[] {
    return (this.reflectors.get(kind)?.values() ?? []) as T[];
  }

  /**
   * The whole copy as a Cluster (only meaningful once synced). Kinds that did not change since the last
   * call are the same arrays; Nodes are part of it only when there are cluster-scoped policies (as in
   * readCluster).
   */
  cluster(): Cluster {
    const versions = CLUSTER_POLICY_RESOURCES.map((r) => this.reflectors.get(r.kind)?.version ?? 0).join();
    if (this.clusterPolicies?.versions !== versions) this.clusterPolicies = { versions, values: CLUSTER_POLICY_RESOURCES.flatMap((r) => this.values<ClusterPolicyInfo>(r.kind)) };
    const clusterPolicies = this.clusterPolicies.values;
    const nodes = clusterPolicies.length > 0 ? this.values<NodeInfo>('Node') : [];
    return assemble(this.values<NamespaceInfo>('Namespace'), this.values<PodInfo>('Pod'), this.values<PolicyInfo>('NetworkPolicy'), clusterPolicies, nodes);
  }

  /** A number that changes whenever the copy does. */
  get version(): number {
    let v = 0;
    for (const r of this.reflectors.values()) v += r.version;
    return v;
  }

  diagnostics(): Diagnostic[] {
    return [...this.reflectors.values()].flatMap((r) => r.diagnostics());
  }

  /** Objects the API server holds that netpol could not decode or finds invalid (`Kind ns/name`). */
  unread(): string[] {
    return [...this.reflectors].flatMap(([kind, r]) => r.unread().map((key) => `${kind} ${key}`));
  }
}
