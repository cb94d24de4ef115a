/**
 * What every lint rule reads, computed once: the cluster, each policy normalised (in the cluster's
 * order), pods by namespace, and which pods each policy selects. Pure: no IO.
 */
import { AddressSet, parseCIDR, parseIP, type IP } from '../ip/index.js';
import type { Cluster, ClusterPolicyInfo, PodInfo, PolicyInfo } from '../model/index.js';
import { namespaceLabels, normalizeClusterPolicy, policyNormalizer, type ClusterPolicy, type Peer, type Policy } from '../policy/index.js';
import { matches } from '../selector/index.js';

export interface LintContext {
  readonly cluster: Cluster;
  /** `policies[i]` is `cluster.policies[i]` normalised. */
  readonly policies: readonly Policy[];
  podsIn(namespace: string): readonly PodInfo[];
  /** Indices of the policies (of its namespace) whose podSelector selects the pod. */
  selecting(pod: PodInfo): readonly number[];
  /** The pods of its namespace a policy's podSelector selects. */
  subjects(i: number): readonly PodInfo[];
  /** The pods a pod peer of policy `i` matches (ipBlock peers: pods with an address inside). */
  peerPods(i: number, peer: Peer): readonly PodInfo[];
  addresses(pod: PodInfo): readonly IP[];
  /** The pods defining a container port with this name and protocol. */
  podsWithPort(name: string, protocol: string): ReadonlySet<PodInfo>;
  /** The cluster-scoped policies, normalised, in the input's order, each with its object. */
  readonly clusterPolicies: readonly { readonly info: ClusterPolicyInfo; readonly policy: ClusterPolicy }[];
  /** The pods a cluster policy's subject selects (host-network pods never are). */
  clusterSubjects(p: ClusterPolicy): readonly PodInfo[];
}

const EMPTY: ReadonlySet<PodInfo> = new Set();

export function lintContext(cluster: Cluster): LintContext {
  const normalize = policyNormalizer();
  const policies = cluster.policies.map((p: PolicyInfo) => normalize(p));
  const byNs = new Map<string, PodInfo[]>();
  for (const p of cluster.pods) {
    let list = byNs.get(p.namespace);
    if (!list) byNs.set(p.namespace, (list = []));
    list.push(p);
  }
  const subjects = new Map<number, PodInfo[]>();
  const policiesIn = new Map<string, number[]>();
  policies.forEach((p, i) => {
    let list = policiesIn.get(p.ref.namespace);
    if (!list) policiesIn.set(p.ref.namespace, (list = []));
    list.push(i);
  });
  const selecting = new Map<PodInfo, number[]>();
  const peerCache = new Map<string, PodInfo[]>();
  const ids = new WeakMap<object, number>();
  const idOf = (o: object): number => {
    let id = ids.get(o);
    if (id === undefined) ids.set(o, (id = nextId++));
    return id;
  };
  let nextId = 0;
  let named: Map<string, Set<PodInfo>> | undefined;
  const ips = new Map<PodInfo, IP[]>();
  const addresses = (pod: PodInfo): IP[] => {
    let a = ips.get(pod);
    if (!a) ips.set(pod, (a = pod.ips.map((t) => parseIP(t)).filter((x): x is IP => x !== undefined)));
    return a;
  };
  const clusterSubjects = new Map<ClusterPolicy, PodInfo[]>();
  const nsLabels = (ns: string) => namespaceLabels(cluster.namespaces, ns);
  return {
    cluster,
    policies,
    clusterPolicies: (cluster.clusterPolicies ?? []).map((info) => ({ info, policy: normalizeClusterPolicy(info) })),
    clusterSubjects(p) {
      let s = clusterSubjects.get(p);
      if (!s) {
        const { namespaces, pods } = p.subject;
        s = cluster.pods.filter((pod) => !pod.hostNetwork && matches(namespaces, nsLabels(pod.namespace)) && (pods === undefined || matches(pods, pod.labels)));
        clusterSubjects.set(p, s);
      }
      return s;
    },
    podsIn: (ns) => byNs.get(ns) ?? [],
    selecting(pod) {
      let s = selecting.get(pod);
      if (!s) selecting.set(pod, (s = (policiesIn.get(pod.namespace) ?? []).filter((i) => matches(policies[i]!.subject, pod.labels))));
      return s;
    },
    subjects(i) {
      let s = subjects.get(i);
      if (!s) {
        const p = policies[i]!;
        subjects.set(i, (s = (byNs.get(p.ref.namespace) ?? []).filter((pod) => matches(p.subject, pod.labels))));
      }
      return s;
    },
    peerPods(i, peer) {
      // Equal selectors and ipBlocks are shared objects after normalisation: memoise by identity.
      const key =
        peer.kind === 'ipBlock'
          ? `b${idOf(peer.addresses)}`
          : `p${peer.namespaces.kind === 'own' ? `=${policies[i]!.ref.namespace}` : idOf(peer.namespaces.selector)}:${peer.pods ? idOf(peer.pods) : '*'}`;
      let pods = peerCache.get(key);
      if (pods) return pods;
      if (peer.kind === 'ipBlock') pods = cluster.pods.filter((pod) => addresses(pod).some((ip) => peer.addresses.contains(ip)));
      else {
        const own = policies[i]!.ref.namespace;
        pods = cluster.pods.filter((pod) => {
          if (peer.namespaces.kind === 'own' ? pod.namespace !== own : !matches(peer.namespaces.selector, nsLabels(pod.namespace))) return false;
          return peer.pods === undefined || matches(peer.pods, pod.labels);
        });
      }
      peerCache.set(key, pods);
      return pods;
    },
    addresses,
    podsWithPort(name, protocol) {
      if (!named) {
        named = new Map();
        for (const pod of cluster.pods) {
          for (const p of pod.ports) {
            if (p.name === undefined) continue;
            const k = `${p.name}/${p.protocol}`;
            let set = named.get(k);
            if (!set) named.set(k, (set = new Set()));
            set.add(pod);
          }
        }
      }
      return named.get(`${name}/${protocol}`) ?? EMPTY;
    },
  };
}

/** Address ranges that are not on the internet: private, shared, loopback, link-local, unique-local. */
export const NON_PUBLIC: AddressSet = AddressSet.unionAll(
  ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '0.0.0.0/8', 'fc00::/7', 'fe80::/10', '::1/128', '::/128'].map((c) =>
    AddressSet.fromCIDR(parseCIDR(c)!),
  ),
);
