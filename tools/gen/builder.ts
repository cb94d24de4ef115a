/**
 * The building blocks of the generated shapes: a seeded builder of Namespace, Pod and NetworkPolicy
 * objects, with pod addresses from per-node /24s of 10.64.0.0/10 (and fd00:10::/32 for dual-stack pods).
 */
import type { LabelSelector, Namespace, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPort, Pod } from '../../src/model/index.js';
import type { Random } from './random.js';

const API = 'networking.k8s.io/v1';
export const sized = (n: number, scale: number, min = 1): number => Math.max(min, Math.round(n * scale));

export function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

const ALPHANUM = 'bcdfghjklmnpqrstvwxz2456789';

export interface PodPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export class Builder {
  readonly namespaces: Namespace[] = [];
  readonly pods: Pod[] = [];
  readonly policies: NetworkPolicy[] = [];
  private nodes = 1;
  private next = 0;
  private packed = false;

  constructor(readonly rng: Random) {}

  /** Spreads the pods to come over nodes of about 100 pods each (each node has a /24). */
  planPods(total: number, opts: { packed?: boolean } = {}): void {
    this.nodes = Math.max(1, Math.ceil(total / 100));
    this.next = 0;
    this.packed = opts.packed ?? false;
  }

  /** The node the next pod goes to (packed: pods fill node after node, so a namespace shares few /24s). */
  get nextNode(): number {
    return this.packed ? Math.floor(this.next / 100) : this.next % this.nodes;
  }

  suffix(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += ALPHANUM[this.rng.int(ALPHANUM.length)];
    return s;
  }

  namespace(name: string, labels: Record<string, string> = {}): void {
    this.namespaces.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(Object.keys(labels).length ? { labels } : {}) } });
  }

  pod(namespace: string, name: string, labels: Record<string, string>, ports: readonly PodPort[], opts: { dualStack?: boolean } = {}): void {
    const node = this.nextNode;
    const k = this.next++;
    const host = this.packed ? (k % 100) + 2 : Math.floor(k / this.nodes) + 2;
    // Node n owns 10.(64 + n / 256).(n % 256).0/24; more than 253 pods per node wrap into the next /16.
    const third = node & 255;
    const second = 64 + ((node >> 8) & 63) + (host > 254 ? 64 : 0);
    const ip = `10.${second}.${third}.${((host - 2) % 253) + 2}`;
    const podIPs = [{ ip }];
    if (opts.dualStack) podIPs.push({ ip: `fd00:10:${node.toString(16)}::${host.toString(16)}` });
    this.pods.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels },
      spec: {
        nodeName: `node-${node}`,
        containers: [{ name: 'main', ports: ports.map((p) => ({ ...p })) }],
      },
      status: { podIP: ip, podIPs },
    });
  }

  policy(namespace: string, name: string, podSelector: LabelSelector, rules: { ingress?: NetworkPolicyIngressRule[]; egress?: NetworkPolicyEgressRule[]; policyTypes?: string[] }): void {
    this.policies.push({
      apiVersion: API,
      kind: 'NetworkPolicy',
      metadata: { name, namespace },
      spec: {
        podSelector,
        ...(rules.ingress ? { ingress: rules.ingress } : {}),
        ...(rules.egress ? { egress: rules.egress } : {}),
        ...(rules.policyTypes ? { policyTypes: rules.policyTypes } : {}),
      },
    });
  }
}

export const nodeSubnet = (n: number): string => `10.${64 + ((n >> 8) & 63)}.${n & 255}.0/24`;
export const pad = (n: number, width: number): string => String(n).padStart(width, '0');
export const tcp = (port: number | string, endPort?: number): NetworkPolicyPort => ({ protocol: 'TCP', port, ...(endPort !== undefined ? { endPort } : {}) });
