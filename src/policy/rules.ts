/**
 * The small rules of NetworkPolicy semantics that several consumers apply (the explaining engine, the
 * nft compiler, the scale engine, lint): each written once, here. The spec-literal oracles
 * (src/engine/oracle*.ts) keep their own copies on purpose: they are the independent reading the
 * property tests hold these to (docs/semantics.md lists them).
 */
import { automaticLabels, type Labels, type NamespaceInfo, type PodInfo, type Protocol } from '../model/index.js';
import { matches } from '../selector/index.js';
import type { Direction, Policy } from './model.js';

/**
 * A namespace's labels: as declared (the loaders add the automatic label), else the automatic label
 * alone (`automaticLabels`, src/model/cluster.ts, where the loaders below this layer find it too).
 */
export function namespaceLabels(namespaces: ReadonlyMap<string, NamespaceInfo>, namespace: string): Labels {
  return namespaces.get(namespace)?.labels ?? automaticLabels(namespace);
}

/**
 * A port name resolved against the destination pod's container ports: "name and protocol must both
 * match" (different pods may map one name to different numbers). Undefined when the pod has none.
 */
export function resolveNamedPort(pod: PodInfo | undefined, name: string, protocol: Protocol): number | undefined {
  return pod?.ports.find((p) => p.name === name && p.protocol === protocol)?.port;
}

/**
 * The policies isolating a pod, per direction: "a pod is isolated for ingress if there is any
 * NetworkPolicy that both selects the pod and has "Ingress" in its policyTypes" (likewise for egress).
 * `policies` are those of the pod's namespace: a policy only selects pods in its own namespace.
 */
export function isolatingPolicies(policies: Iterable<Policy>, pod: PodInfo): Record<Direction, Policy[]> {
  const out: Record<Direction, Policy[]> = { ingress: [], egress: [] };
  for (const p of policies) {
    if (!matches(p.subject, pod.labels)) continue;
    if (p.ingress) out.ingress.push(p);
    if (p.egress) out.egress.push(p);
  }
  return out;
}
